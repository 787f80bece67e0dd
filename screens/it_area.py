"""The IT staff area: the only place the kiosk can be left from."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from screens.base import KioskScreen
from screens.messages import EndSession


class ItAreaScreen(KioskScreen):
    TITLE_TEXT = "IT staff area"

    def body(self) -> ComposeResult:
        signed = self.session.signed_in
        assert signed is not None
        with VerticalScroll(classes="page"):
            yield Static("IT staff area", classes="title")
            yield Static(f"Signed in as {signed.account.greeting_name}.", classes="lead")
            with Horizontal(classes="buttons"):
                yield Button("Sign out", id="signout", variant="primary")
                yield Button("Leave the kiosk", id="leave", variant="error")

    @on(Button.Pressed, "#signout")
    def sign_out(self) -> None:
        self.post_message(EndSession("signed_out"))

    @on(Button.Pressed, "#leave")
    def leave(self) -> None:
        self.app.action_leave_kiosk()  # type: ignore[attr-defined]
