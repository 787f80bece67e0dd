"""Resync a provider's token from two consecutive codes ("Contact IT support to resync your
token"): the token's clock or counter drifted beyond the sign-in window."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from core.errors import KioskError
from core.tokens import TokenInfo
from screens.it.base import ItScreen, Note
from screens.session import KioskSession
from screens.widgets.two_code_input import TwoCodeInput


class ItResyncScreen(ItScreen):
    AREA = "Resync a token"

    def __init__(self, session: KioskSession, serial: str = "") -> None:
        super().__init__(session)
        self.initial_serial = serial

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("Resync a token", classes="title")
            yield Static(
                "With the provider's token in hand: enter the code it shows, wait for the code to "
                "change, and enter the new one (the two codes must follow each other).",
                classes="lead",
            )
            yield Label("Serial number", classes="field-label")
            yield Input(self.initial_serial, id="serial", max_length=64, placeholder="serial on the back of the token")
            yield TwoCodeInput(id="two-codes")
            yield Note(classes="error", id="error")
            yield Note(classes="success", id="done")
            with Horizontal(classes="buttons"):
                yield Button("Resync", id="resync", variant="primary")
                yield Button("Back", id="back")

    @property
    def codes(self) -> TwoCodeInput:
        return self.query_one("#two-codes", TwoCodeInput)

    def on_mount(self) -> None:
        if self.initial_serial:
            self.codes.focus_field("current")
        else:
            self.query_one("#serial", Input).focus()

    @on(Input.Submitted, "#serial")
    def _to_current(self) -> None:
        self.codes.focus_field("current")

    @on(TwoCodeInput.Submitted)
    @on(Button.Pressed, "#resync")
    def resync(self) -> None:
        serial = self.query_one("#serial", Input).value.strip()
        current, following = self.codes.codes
        self.query_one("#done", Note).update("")
        if not serial:
            self.show_error("Enter the token's serial number.")
            self.query_one("#serial", Input).focus()
            return
        if self.codes.missing() is not None:
            self.show_error("Enter two codes: the one shown now, then the next one.")
            return
        self.clear_error()
        self.query_one("#resync", Button).disabled = True
        admin = self.admin()
        self.run_domain(lambda: admin.resync(serial, current, following), self._synced, self._refused)

    def _synced(self, token: TokenInfo) -> None:
        self.forget()
        self.query_one("#resync", Button).disabled = False
        drift = f" The token's clock is {token.drift:+d} steps from the kiosk's." if token.params.kind == "totp" else ""
        owner = f" for {token.owner}" if token.owner else ""
        self.query_one("#done", Note).update(f"Token {token.serial}{owner} is in sync again.{drift}")
        self.query_one("#back", Button).focus()

    def _refused(self, exc: KioskError) -> None:
        self.query_one("#resync", Button).disabled = False
        self.show_error(exc)
        self.codes.refused(exc)

    def forget(self) -> None:
        self.codes.clear()
