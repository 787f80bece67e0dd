"""Token inventory: search by serial or user; state, owner, last use, drift and failures.

Selecting a token offers the tasks that fit it (resync, unlock, lost or damaged). The search and
the paging run in the store: a page of tokens is shown, and moving past its last row (Down or
PageDown) loads the next one, so a national inventory opens as fast as a small one.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from core.errors import KioskError
from core.tokens import TokenInfo
from screens.it.base import ItScreen, Note, when
from screens.session import KioskSession
from screens.widgets.tables import Table, refill

METHOD = {"authenticator": "app", "code_generator": "token"}


COLUMNS = ("Serial", "Kind", "Type", "State", "Owner", "Last use (UTC)", "Drift", "Failures")
PAGE = 200  # tokens per page: more than a screen, little enough to come back at once


class ItTokenInventoryScreen(ItScreen):
    AREA = "Token inventory"

    def __init__(self, session: KioskSession, search: str = "") -> None:
        super().__init__(session)
        self.initial_search = search
        self.found: list[TokenInfo] = []
        self.searched: str | None = None
        self.total = 0  # tokens matching the search, of which `found` are loaded
        self.fetching = False  # a page is being read (not `loading`: Textual draws a spinner for that)

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("Token inventory", classes="title")
            yield Label("Serial number or username contains", classes="field-label")
            with Horizontal(classes="it-row"):
                yield Input(self.initial_search, id="search", max_length=64, placeholder="e.g. DEMO-00 or dr.rivera")
                yield Button("Search", id="find")
            yield Note(id="count", classes="hint")
            table = Table(id="tokens", cursor_type="row", zebra_stripes=True)
            refill(table, COLUMNS)
            yield table
            yield Note(id="selected", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Resync", id="resync", disabled=True)
                yield Button("Unlock", id="unlock", disabled=True)
                yield Button("Lost or damaged", id="lost", disabled=True)
                yield Button("Back", id="back")
            yield Note(classes="error", id="error")

    def on_mount(self) -> None:
        self.selected: TokenInfo | None = None
        self.query_one("#search", Input).focus()

    def on_screen_resume(self) -> None:
        # Also after a task opened from here returns: the token's state may have changed.
        self.refresh_list()

    @on(Input.Submitted, "#search")
    @on(Button.Pressed, "#find")
    def refresh_list(self) -> None:
        text = self.query_one("#search", Input).value.strip() or None
        admin = self.admin()
        self.searched = text
        self.fetching = True
        self.run_domain(
            lambda: (admin.tokens(search=text, limit=PAGE), admin.token_count(search=text)), self._show, self._failed
        )

    def _failed(self, exc: KioskError) -> None:
        self.fetching = False
        self.show_error(exc)

    def _show(self, page: tuple[list[TokenInfo], int]) -> None:
        self.found, self.total = page
        self.fetching = False
        self.clear_error()
        table = self.query_one("#tokens", DataTable)
        refill(table, COLUMNS)
        self._add_rows(self.found)
        self._select(self.found[0] if self.found else None)

    def _next_page(self) -> None:
        if self.fetching or len(self.found) >= self.total:
            return
        admin = self.admin()
        text, start = self.searched, len(self.found)
        self.fetching = True
        self.run_domain(lambda: admin.tokens(search=text, limit=PAGE, offset=start), self._more, self._failed)

    def _more(self, page: list[TokenInfo]) -> None:
        self.fetching = False
        self.found.extend(page)
        self._add_rows(page)

    def _add_rows(self, page: list[TokenInfo]) -> None:
        table = self.query_one("#tokens", DataTable)
        for t in page:
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
        count = f"{self.total} token{'s' if self.total != 1 else ''}"
        if len(self.found) < self.total:
            count += f", the first {len(self.found)} shown (move down past the last to see more)"
        self.query_one("#count", Note).update(count)

    @on(DataTable.RowHighlighted, "#tokens")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.found) - 1:
            self._next_page()
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
        self.query_one("#selected", Note).update(text)
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
