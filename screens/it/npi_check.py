"""NPI questions: re-run the verification for a provider who believes their NPI should verify,
and show what each region (1-5) answered, so IT staff can tell "not in the directory" from
"a region did not answer", "deactivated" or "the name does not match"."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from core.accounts import Account
from core.admin import NpiCheck
from core.directory.model import RegionAnswer
from core.errors import KioskError
from screens.it.base import ItScreen, Note
from screens.session import KioskSession
from screens.widgets.tables import Table, refill

STATUS_WORDS = {
    "found": "found",
    "not_found": "not found",
    "deactivated": "deactivated",
    "error": "error",
    "timeout": "no answer in time",
}


COLUMNS = ("Region", "Answer", "Name in registry", "State", "Detail")


class ItNpiCheckScreen(ItScreen):
    AREA = "NPI questions"

    def __init__(self, session: KioskSession, username: str = "") -> None:
        super().__init__(session)
        self.initial_username = username

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("NPI questions: check an NPI in regions 1-5", classes="title")
            yield Label("Provider's username (fills in the NPI and name on the account)", classes="field-label")
            with Horizontal(classes="it-row"):
                yield Input(self.initial_username, id="username", max_length=64, placeholder="e.g. dr.okafor")
                yield Button("Use account", id="account")
            with Horizontal(classes="it-row"):
                with Vertical(classes="it-col"):
                    yield Label("NPI", classes="field-label")
                    yield Input(id="npi", max_length=12, placeholder="10 digits", restrict=r"[0-9 ]*")
                with Vertical(classes="it-col"):
                    yield Label("Last name", classes="field-label")
                    yield Input(id="last-name", max_length=64, placeholder="as in the NPI registry")
            with Horizontal(classes="buttons"):
                yield Button("Check the NPI", id="check", variant="primary")
                yield Button("Back", id="back")
            yield Note(classes="error", id="error")
            yield Note(id="outcome")
            table = Table(id="answers", cursor_type="none")
            refill(table, COLUMNS)
            yield table

    def on_mount(self) -> None:
        self.query_one("#answers", DataTable).display = False
        self.query_one("#username", Input).focus()
        if self.initial_username:
            self.use_account()

    @on(Input.Submitted, "#username")
    @on(Button.Pressed, "#account")
    def use_account(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        if not username:
            self.show_error("Enter the provider's username.")
            return
        admin = self.admin()
        self.run_domain(lambda: admin.account(username), lambda a: self._use(username, a), self.show_error)

    def _use(self, username: str, account: Account | None) -> None:
        if account is None:
            self.show_error(f"No account named '{username}'.")
            return
        if not account.npi:
            self.show_error(f"{account.username} has no NPI on the account (IT staff accounts do not).")
            return
        self.clear_error()
        self.query_one("#npi", Input).value = account.npi
        self.query_one("#last-name", Input).value = account.last_name
        self.query_one("#check", Button).focus()

    @on(Input.Submitted, "#npi")
    @on(Input.Submitted, "#last-name")
    @on(Button.Pressed, "#check")
    def check(self) -> None:
        npi = self.query_one("#npi", Input).value.replace(" ", "")
        last_name = self.query_one("#last-name", Input).value.strip() or None
        username = self.query_one("#username", Input).value.strip().lower()
        admin = self.admin()
        self.query_one("#check", Button).disabled = True
        self.run_domain(lambda: admin.check_npi(npi, last_name, username), self._show, self._failed)

    def _show(self, result: NpiCheck) -> None:
        self.clear_error()
        self.query_one("#check", Button).disabled = False
        v = result.verification
        self.query_one("#outcome", Note).update(f"Result: {v.outcome}. {v.message}")
        table = self.query_one("#answers", DataTable)
        refill(table, COLUMNS)
        for region in sorted(v.answers):
            table.add_row(*_row(v.answers[region]))
        table.display = True

    def _failed(self, exc: KioskError) -> None:
        self.query_one("#check", Button).disabled = False
        self.query_one("#outcome", Note).update("")
        self.query_one("#answers", DataTable).display = False
        self.show_error(exc)


def _row(answer: RegionAnswer) -> tuple[str, str, str, str, str]:
    record = answer.record
    name = "-"
    if record is not None:
        name = record.organization_name or f"{record.last_name}, {record.first_name}".strip(", ")
        if not record.is_individual:
            name = f"{name} (organization)"
    return (
        str(answer.region),
        STATUS_WORDS.get(answer.status, answer.status),
        name,
        record.state if record is not None and record.state else "-",
        answer.reason or "-",
    )
