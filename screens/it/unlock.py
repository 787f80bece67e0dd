"""Unlock a token locked after 10 invalid codes, or an account locked after failed sign-ins
("Contact your IT administrator or help desk to unlock it")."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from core.admin_reads import Locked, LockedKind
from core.errors import KioskError
from screens.it.base import ItScreen, Note
from screens.session import KioskSession
from screens.widgets.tables import Table, refill

COLUMNS = ("What", "Serial / username", "Provider", "Failures")


class ItUnlockScreen(ItScreen):
    AREA = "Unlock a token or account"

    def __init__(self, session: KioskSession, serial: str = "", username: str = "") -> None:
        super().__init__(session)
        self.initial = (serial, username)

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("Unlock a token or account", classes="title")
            yield Static("Locked now (select one to unlock it):", classes="lead")
            table = Table(id="locked", cursor_type="row")
            refill(table, COLUMNS)
            yield table
            yield Note(id="none-locked", classes="hint")
            yield Label("Token serial number", classes="field-label")
            with Horizontal(classes="it-row"):
                yield Input(self.initial[0], id="serial", max_length=64, placeholder="e.g. DEMO-0001")
                yield Button("Unlock token", id="unlock-token", variant="primary")
            yield Label("Account username", classes="field-label")
            with Horizontal(classes="it-row"):
                yield Input(self.initial[1], id="username", max_length=64, placeholder="e.g. dr.rivera")
                yield Button("Unlock account", id="unlock-account", variant="primary")
            yield Note(classes="error", id="error")
            yield Note(classes="success", id="done")
            with Horizontal(classes="buttons"):
                yield Button("Back", id="back")

    def on_mount(self) -> None:
        self.query_one("#username" if self.initial[1] else "#serial", Input).focus()
        self.refresh_locked()

    def refresh_locked(self) -> None:
        self.run_domain(self.admin().locked, self._show_locked, self.show_error)

    def _show_locked(self, locked: list[Locked]) -> None:
        table = self.query_one("#locked", DataTable)
        refill(table, COLUMNS)
        for item in locked:
            table.add_row(item.kind, item.name, item.owner, str(item.failures), key=f"{item.kind}:{item.name}")
        table.display = bool(locked)
        self.query_one("#none-locked", Note).update("" if locked else "No token or account is locked.")

    @on(DataTable.RowSelected, "#locked")
    def _picked(self, event: DataTable.RowSelected) -> None:
        kind, _, name = str(event.row_key.value).partition(":")
        if kind == LockedKind.TOKEN:
            self.query_one("#serial", Input).value = name
            self.query_one("#unlock-token", Button).focus()
        else:
            self.query_one("#username", Input).value = name
            self.query_one("#unlock-account", Button).focus()

    @on(Input.Submitted, "#serial")
    @on(Button.Pressed, "#unlock-token")
    def unlock_token(self) -> None:
        serial = self.query_one("#serial", Input).value.strip()
        if not serial:
            self.show_error("Enter the serial number of the locked token.")
            return
        admin = self.admin()
        self.run_domain(
            lambda: admin.unlock_token(serial),
            lambda t: self._done(f"Token {t.serial} is unlocked ({t.state.value}); its failure count is back to 0."),
            self.show_error,
        )

    @on(Input.Submitted, "#username")
    @on(Button.Pressed, "#unlock-account")
    def unlock_account(self) -> None:
        username = self.query_one("#username", Input).value.strip().lower()
        if not username:
            self.show_error("Enter the username of the locked account.")
            return
        admin = self.admin()
        self.run_domain(
            lambda: admin.unlock_account(username),
            lambda _: self._done(f"Account {username} is unlocked; the provider can sign in again."),
            self.show_error,
        )

    def _done(self, text: str) -> None:
        self.clear_error()
        self.query_one("#done", Note).update(text)
        self.refresh_locked()

    def show_error(self, exc: KioskError | str, target: str = "#error") -> None:
        self.query_one("#done", Note).update("")
        super().show_error(exc, target)
