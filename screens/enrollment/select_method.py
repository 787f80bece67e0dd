"""Step 2: select an authentication method."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from core.tokens import Method
from screens.enrollment.base import StepScreen
from screens.i18n import _


class SelectMethodScreen(StepScreen):
    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_("Select an authentication method"), classes="title")
            yield Static(
                _(
                    "iPrescribe Authenticator is a mobile app that generates one-time security codes. "
                    "To use it, your NPI must be verified in the iPrescribe system across regions 1-5: "
                    "the kiosk scans your cronto image to check it."
                ),
                classes="lead",
            )
            yield Static(
                _(
                    "A Code Generator (hardware token) generates a code when you press its button. It is "
                    "the required method when your NPI cannot be verified."
                ),
                classes="lead",
            )
            with Horizontal(classes="buttons"):
                yield Button("iPrescribe Authenticator", id="authenticator", variant="primary")
                yield Button("Code Generator", id="code_generator")
            yield Static(_("Escape: back to your settings"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#authenticator", Button).focus()

    @on(Button.Pressed)
    def choose(self, event: Button.Pressed) -> None:
        self.enrollment.choose_method(Method(str(event.button.id)))
        self.step_done()

    def action_back(self) -> None:
        from screens.messages import Purpose, SignedInFor

        self.session.enrollment = None
        self.post_message(SignedInFor(Purpose.ENROLL))
