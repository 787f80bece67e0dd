"""Step 7: synchronize the token with two consecutive codes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Self

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, ProgressBar, Static

from core.errors import KioskError, StepOutOfOrder, SyncFailed
from core.tokens import TokenInfo
from screens.enrollment.base import StepScreen
from screens.session import KioskSession


class SynchronizeScreen(StepScreen):
    def __init__(self, session: KioskSession, token: TokenInfo) -> None:
        super().__init__(session)
        self.serial = token.serial
        self.params = token.params

    @classmethod
    def enter(cls, session: KioskSession) -> Callable[[], Self]:
        serial = session.current_enrollment.serial
        token = session.system.tokens.get(serial) if serial is not None else None
        if token is None:
            raise StepOutOfOrder("Enter your token's serial number first.")
        return partial(cls, session, token)

    def body(self) -> ComposeResult:
        digits = self.params.digits
        with VerticalScroll(classes="page"):
            yield Static(f"Synchronize your token {self.serial}", classes="title")
            yield Static(
                "1. Press the button on your hardware token to generate a code.\n"
                "2. Enter the displayed code in the Current Code field.\n"
                "3. Wait for the code to change (typically 30-60 seconds).\n"
                "4. Enter the new code in the Next Code field.\n"
                "5. Select Verify.",
                classes="lead",
            )
            yield Label("Current Code", classes="field-label")
            yield Input(id="current", max_length=digits + 2, placeholder=f"{digits} digits", restrict=r"[0-9 ]*")
            if self.params.kind == "totp":
                yield Static("", id="countdown-text", classes="hint")
                yield ProgressBar(total=self.params.period, show_eta=False, show_percentage=False, id="countdown")
            else:
                yield Static("Then press the button again for the next code.", classes="hint")
            yield Label("Next Code", classes="field-label")
            yield Input(id="next", max_length=digits + 2, placeholder=f"{digits} digits", restrict=r"[0-9 ]*")
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Verify", id="verify", variant="primary")
            yield Static("Escape: back to the serial number", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#current", Input).focus()
        if self.params.kind == "totp":
            self._tick()
            self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        period = self.params.period
        elapsed = self.session.system.clock.time() % period
        left = int(period - elapsed) or period
        self.query_one("#countdown", ProgressBar).update(progress=elapsed)
        self.query_one("#countdown-text", Static).update(f"The code on your token changes in about {left} s.")

    @on(Input.Submitted, "#current")
    def _to_next(self) -> None:
        self.query_one("#next", Input).focus()

    @on(Input.Submitted, "#next")
    @on(Button.Pressed, "#verify")
    def verify(self) -> None:
        current = self.query_one("#current", Input).value
        following = self.query_one("#next", Input).value
        if not current.strip():
            self.show_error("Enter the code your token shows now in Current Code.")
            self.query_one("#current", Input).focus()
            return
        if not following.strip():
            self.show_error("Wait for the code to change, then enter the new code in Next Code.")
            self.query_one("#next", Input).focus()
            return
        self.query_one("#verify", Button).disabled = True
        self.run_domain(lambda: self.enrollment.synchronize(current, following), self._synced, self._refused)

    def _synced(self, _codes: list[str]) -> None:
        self.step_done()

    def _refused(self, exc: KioskError) -> None:
        self.query_one("#verify", Button).disabled = False
        self.show_error(exc)
        field = exc.wrong_field if isinstance(exc, SyncFailed) else None
        for name in ("current", "next"):
            self.query_one(f"#{name}", Input).value = ""
        self.query_one("#next" if field == "next" else "#current", Input).focus()
