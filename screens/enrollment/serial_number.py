"""Step 6: enter the token's serial number."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from core.errors import KioskError
from core.tokens import TokenInfo
from screens.enrollment.base import StepScreen
from screens.i18n import _
from screens.widgets.demo_token import DemoTokenPanel


class SerialNumberScreen(StepScreen):
    TOKEN_STEP = True

    def demo_token_serial(self) -> str | None:
        return self.query_one("#serial", Input).value

    @on(Input.Changed, "#serial")
    def _follow_serial(self, event: Input.Changed) -> None:
        for panel in self.query(DemoTokenPanel):
            panel.follow(event.value)

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_("Enter the token serial number"), classes="title")
            yield Static(
                _("Locate the serial number on your hardware token device - usually printed on the back or bottom."),
                classes="lead",
            )
            yield Label(_("Serial number"), classes="field-label")
            yield Input(id="serial", max_length=64, placeholder=_("e.g. DEMO-0001"))
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button(_("Next"), id="next", variant="primary")
            yield Static(_("Escape: back"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#serial", Input).focus()

    @on(Input.Submitted, "#serial")
    @on(Button.Pressed, "#next")
    def submit(self) -> None:
        serial = self.query_one("#serial", Input).value
        self.run_domain(lambda: self.enrollment.enter_serial(serial), self._accepted, self._refused)

    def _accepted(self, _info: TokenInfo) -> None:
        self.step_done()

    def _refused(self, exc: KioskError) -> None:
        self.show_error(exc)
        self.query_one("#serial", Input).focus()
