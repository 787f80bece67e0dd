"""Step 7: synchronize the token with two consecutive codes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Self

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from core.errors import KioskError, StepOutOfOrder
from core.tokens import TokenInfo
from screens.enrollment.base import StepScreen
from screens.i18n import N_, _, f_
from screens.session import KioskSession
from screens.widgets.two_code_input import TwoCodeInput

MISSING = {
    "current": N_("Enter the code your token shows now in Current Code."),
    "next": N_("Wait for the code to change, then enter the new code in Next Code."),
}


class SynchronizeScreen(StepScreen):
    TOKEN_STEP = True

    def __init__(self, session: KioskSession, token: TokenInfo) -> None:
        super().__init__(session)
        self.serial = token.serial
        self.params = token.params

    @classmethod
    def enter(cls, session: KioskSession) -> Callable[[], Self]:
        serial = session.current_enrollment.serial
        token = session.system.tokens.get(serial) if serial is not None else None
        if token is None:
            raise StepOutOfOrder(N_("Enter your token's serial number first."))
        return partial(cls, session, token)

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(f_("Synchronize your token {serial}", serial=self.serial), classes="title")
            yield Static(
                _(
                    "1. Press the button on your hardware token to generate a code.\n"
                    "2. Enter the displayed code in the Current Code field.\n"
                    "3. Wait for the code to change (typically 30-60 seconds).\n"
                    "4. Enter the new code in the Next Code field.\n"
                    "5. Select Verify."
                ),
                classes="lead",
            )
            yield TwoCodeInput(
                digits=self.params.digits,
                countdown=self.params.period if self.params.kind == "totp" else None,
                between=_("Then press the button again for the next code."),
                id="two-codes",
            )
            yield Static("", classes="error", id="error")
            # The way back beside the button: a line saved for an 80x24 screen with the demo token shown.
            with Horizontal(classes="buttons"):
                yield Button(_("Verify"), id="verify", variant="primary")
                yield Static(_("Escape: back to the serial number"), classes="hint")

    @property
    def codes(self) -> TwoCodeInput:
        return self.query_one("#two-codes", TwoCodeInput)

    def on_mount(self) -> None:
        self.codes.focus_field("current")
        if self.params.kind == "totp":
            self._tick()
            self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        self.codes.show_time(self.session.system.clock.time())

    @on(TwoCodeInput.Submitted)
    @on(Button.Pressed, "#verify")
    def verify(self) -> None:
        missing = self.codes.missing()
        if missing is not None:
            self.show_error(_(MISSING[missing]))
            return
        current, following = self.codes.codes
        self.query_one("#verify", Button).disabled = True
        self.run_domain(lambda: self.enrollment.synchronize(current, following), self._synced, self._refused)

    def _synced(self, _codes: list[str]) -> None:
        self.step_done()

    def _refused(self, exc: KioskError) -> None:
        self.query_one("#verify", Button).disabled = False
        self.show_error(exc)
        self.codes.refused(exc)
