"""The end of setup: the new factor works."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from screens.enrollment.base import StepScreen
from screens.i18n import _, f_
from screens.messages import Ending, EndSession


class SetupCompleteScreen(StepScreen):
    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_("Setup complete: your test sign-in worked."), classes="success")
            yield Static(
                f_(
                    "You will need {factor} every time you log in to iPrescribe. Codes are "
                    "time-sensitive and each code can only be used once.",
                    factor=self._factor(),
                )
                + "\n\n"
                + _(
                    "Protect your token: store it securely, do not share it, and report a lost or "
                    "stolen token to your IT administrator immediately."
                ),
                classes="lead",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Finish and sign out"), id="finish", variant="primary")

    def _factor(self) -> str:
        method = self.enrollment.method
        if method is not None and method.value == "authenticator":
            return _("the iPrescribe Authenticator app on your phone")
        return _("your token")

    def on_mount(self) -> None:
        self.query_one("#finish", Button).focus()

    @on(Button.Pressed, "#finish")
    def finish(self) -> None:
        self.post_message(EndSession(Ending.FINISHED))
