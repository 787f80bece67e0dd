"""Token inventory: search by serial or user; state, owner, last use, drift and failures.

Selecting a token offers the tasks that fit it (resync, unlock, lost or damaged).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from core.tokens import TokenInfo
from screens.it.base import ItScreen, when
from screens.session import KioskSession
from screens.widgets.tables import refill

METHOD = {"authenticator": "app", "code_generator": "token"}


COLUMNS = ("Serial", "Kind", "Type", "State", "Owner", "Last use (UTC)", "Drift", "Failures")


class ItTokenInventoryScreen(ItScreen):
    AREA = "Token inventory"

    def __init__(self, session: KioskSession, search: str = "") -> None:
        super().__init__(session)
        self.initial_search = search
        self.found: list[TokenInfo] = []

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page"):
            yield Static("Token inventory", classes="title")
            yield Label("Serial number or username contains", classes="field-label")
            with Horizontal(classes="it-row"):
                yield Input(self.initial_search, id="search", max_length=64, placeholder="e.g. DEMO-00 or dr.rivera")
                yield Button("Search", id="find")
            yield Static("", id="count", classes="hint")
            table: DataTable[str] = DataTable(id="tokens", cursor_type="row", zebra_stripes=True)
            refill(table, COLUMNS)
            yield table
            yield Static("", id="selected", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Resync", id="resync", disabled=True)
                yield Button("Unlock", id="unlock", disabled=True)
                yield Button("Lost or damaged", id="lost", disabled=True)
                yield Button("Back", id="back")
            yield Static("", classes="error", id="error")

    def on_mount(self) -> None:
        self.selected: TokenInfo | None = None
        self.query_one("#search", Input).focus()

    def on_screen_resume(self) -> None:
        # Also after a task opened from here returns: the token's state may have changed.
        self.refresh_list()

    @on(Input.Submitted, "#search")
    @on(Button.Pressed, "#find")
    def refresh_list(self) -> None:
        text = self.query_one("#search", Input).value.strip()
        tokens = self.session.system.tokens
        self.run_domain(lambda: tokens.list(search=text or None), self._show, self.show_error)

    def _show(self, found: list[TokenInfo]) -> None:
        self.found = found
        self.clear_error()
        table = self.query_one("#tokens", DataTable)
        refill(table, COLUMNS)
        for t in found:
            kind = f"{t.params.kind.upper()} {t.params.digits}"
            table.add_row(
                t.serial,
                METHOD[t.method.value],
                kind,
                t.state.value,
                t.owner or "-",
                when(t.last_used_at),
                str(t.drift) if t.params.kind == "totp" else "-",
                str(t.failures),
                key=t.serial,
            )
        self.query_one("#count", Static).update(f"{len(found)} token{'s' if len(found) != 1 else ''}")
        self._select(found[0] if found else None)

    @on(DataTable.RowHighlighted, "#tokens")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        self._select(next((t for t in self.found if t.serial == key), None))

    def _select(self, token: TokenInfo | None) -> None:
        self.selected = token
        text = (
            ""
            if token is None
            else (
                f"{token.serial}: {token.state.value}"
                + (f", bound to {token.owner}" if token.owner else "")
                + (f", revoked ({token.revoked_reason})" if token.revoked_reason else "")
            )
        )
        self.query_one("#selected", Static).update(text)
        usable = token is not None and token.state.value != "revoked"
        hardware = token is not None and token.method.value == "code_generator"
        self.query_one("#resync", Button).disabled = not (usable and hardware)
        self.query_one("#unlock", Button).disabled = token is None or token.state.value != "locked"
        self.query_one("#lost", Button).disabled = not usable or token is None or token.owner is None

    @on(Button.Pressed, "#resync")
    def _resync(self) -> None:
        from screens.it.resync import ItResyncScreen

        if self.selected is not None:
            self.app.push_screen(ItResyncScreen(self.session, serial=self.selected.serial))

    @on(Button.Pressed, "#unlock")
    def _unlock(self) -> None:
        from screens.it.unlock import ItUnlockScreen

        if self.selected is not None:
            self.app.push_screen(ItUnlockScreen(self.session, serial=self.selected.serial))

    @on(Button.Pressed, "#lost")
    def _lost(self) -> None:
        from screens.it.lost_token import ItLostTokenScreen

        if self.selected is not None:
            self.app.push_screen(ItLostTokenScreen(self.session, serial=self.selected.serial))
