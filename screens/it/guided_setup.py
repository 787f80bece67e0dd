"""Guided token setup: IT staff pick a provider, confirm the provider is here, and the provider
checks the provider's ID document (or notes the credential service provider's reference for an
individually proofed prescriber): 21 CFR 1311.110(a) wants that record before a factor is bound.
The provider then signs in on the kiosk with their own password (and code, if a factor is bound),
and the normal setup steps run with the provider as subject and the IT staff member as actor."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Select, Static

from core.accounts import Account, Role
from core.errors import KioskError
from core.proofing import DocumentType, ProofingRecord
from core.signin import SignedIn
from screens.it.base import ItScreen
from screens.it.dialogs import ConfirmDialog
from screens.messages import StepDone
from screens.session import KioskSession
from screens.widgets.sign_in_form import SignInForm
from screens.widgets.tables import Table

MISSING = {
    "password": "The provider types their password.",
    "code": "The provider enters the security code from their token.",
}


class ItGuidedSetupScreen(ItScreen):
    AREA = "Guided token setup"

    def __init__(self, session: KioskSession) -> None:
        super().__init__(session)
        self.provider: Account | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("Guided token setup", classes="title")
            yield Static(
                "Pick the provider you are setting up. The provider must be here and sign in "
                "with their own password; you then walk the setup steps together.",
                classes="lead",
                id="intro",
            )
            table = Table(id="providers", cursor_type="row", zebra_stripes=True)
            table.add_columns("Username", "Name", "NPI", "Bound factors", "Account")
            yield table
            with Vertical(id="id-check"):
                yield Static("", id="id-who", classes="lead")
                yield Select(
                    [(kind.value.replace("_", " ").capitalize(), kind.value) for kind in DocumentType],
                    prompt="ID document checked",
                    id="document",
                )
                yield Input(placeholder="its last four characters (only those)", id="last4")
                yield Input(placeholder="or: the credential service provider's reference", id="csp-ref")
                yield Button("Record the ID check", id="record-id", variant="primary")
            with Vertical(id="provider-sign-in"):
                yield Static("", id="who", classes="lead")
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Provider signs in", id="sign-in", variant="primary")
                yield Button("Back", id="back")

    def on_mount(self) -> None:
        self._signing_in(False)

        def providers() -> list[tuple[Account, str]]:
            return [
                (entry.account, ", ".join(t.serial for t in entry.bound) or "none")
                for entry in self.admin().accounts_overview(Role.PROVIDER)
            ]

        self.run_domain(providers, self._show_providers, self.show_error)

    def _show_providers(self, rows: list[tuple[Account, str]]) -> None:
        self.accounts = {a.username: a for a, _ in rows}
        table = self.query_one("#providers", DataTable)
        for account, bound in rows:
            table.add_row(
                account.username,
                account.display_name,
                account.npi or "-",
                bound,
                "LOCKED" if account.locked else "ok",
                key=account.username,
            )
        table.focus()

    def _signing_in(self, shown: bool, *, checking_id: bool = False) -> None:
        self.query_one("#id-check").display = checking_id
        self.query_one("#provider-sign-in").display = shown
        self.query_one("#sign-in", Button).display = shown
        self.query_one("#providers", DataTable).display = not (shown or checking_id)
        for form in self.query(SignInForm):
            form.remove()  # a new provider gets a new form, with no field of the last one's

    @property
    def form(self) -> SignInForm:
        return self.query_one("#provider-form", SignInForm)

    @on(DataTable.RowSelected, "#providers")
    def picked(self, event: DataTable.RowSelected) -> None:
        account = self.accounts.get(str(event.row_key.value))
        if account is None:
            return
        self.app.push_screen(
            ConfirmDialog(
                "Is the provider here?",
                f"Is {account.greeting_name} ({account.username}) at the kiosk with you? They will "
                "type their own password, and a code if a factor is already bound.",
                "Yes, the provider is here",
            ),
            lambda present: self._present(account, bool(present)),
        )

    def _present(self, account: Account, present: bool) -> None:
        if not present:
            return
        self.provider = account
        self.clear_error()
        self.query_one("#id-who", Static).update(
            f"Check {account.greeting_name}'s ID document, then record it: its type and last four "
            "characters (never the whole number), or the credential service provider's reference."
        )
        for field in ("#last4", "#csp-ref"):
            self.query_one(field, Input).value = ""
        self.query_one("#document", Select).clear()
        self._signing_in(False, checking_id=True)
        self.call_after_refresh(self.query_one("#document", Select).focus)

    @on(Input.Submitted, "#last4, #csp-ref")
    @on(Button.Pressed, "#record-id")
    def record_id_check(self) -> None:
        if self.provider is None or self.session.signed_in is None:
            return
        document = self.query_one("#document", Select).value
        last4 = self.query_one("#last4", Input).value.strip() or None
        reference = self.query_one("#csp-ref", Input).value.strip() or None
        username, admin = self.provider.username, self.admin()
        self.run_domain(
            lambda: admin.record_id_check(
                username,
                document_type=document if isinstance(document, str) else None,
                last4=last4,
                csp_reference=reference,
            ),
            self._proofed,
            self.show_error,
        )

    def _proofed(self, _record: ProofingRecord) -> None:
        account = self.provider
        assert account is not None
        self.clear_error()
        self.query_one("#who", Static).update(
            f"{account.greeting_name} ({account.username}): please type your password."
        )
        self._signing_in(True)
        form = SignInForm(
            username=account.username,
            whose="Provider's",
            code_placeholder="code from their token, or a backup code",
            id="provider-form",
        )
        self.query_one("#provider-sign-in").mount(form)
        self.call_after_refresh(form.focus)

    @on(SignInForm.Submitted)
    @on(Button.Pressed, "#sign-in")
    def sign_in(self) -> None:
        if self.provider is None or not self.query(SignInForm):
            return
        missing = self.form.missing()
        if missing is not None:
            self.show_error(MISSING[missing])
            return
        username, password, code = self.form.entered()
        self.clear_error()
        self.query_one("#sign-in", Button).disabled = True
        signin = self.session.system.signin
        self.run_domain(lambda: signin.sign_in(username, password, code), self._signed_in, self._refused)

    def _signed_in(self, provider: SignedIn) -> None:
        self.forget()
        it_staff = self.session.signed_in
        assert it_staff is not None
        self.session.guide = it_staff
        self.session.signed_in = provider
        self.session.begin_enrollment()  # actor: the IT staff member (session.guide)
        self.post_message(StepDone())

    def _refused(self, exc: KioskError) -> None:
        self.query_one("#sign-in", Button).disabled = False
        if self.form.refused(exc):
            self.clear_error()
        else:
            self.show_error(exc)

    def forget(self) -> None:
        for form in self.query(SignInForm):
            form.forget()

    def action_back(self) -> None:
        if self.provider is not None and (
            self.query_one("#provider-sign-in").display or self.query_one("#id-check").display
        ):
            # Back from the provider's sign-in to the list, not out of guided setup.
            self.forget()
            self.provider = None
            self._signing_in(False)
            self.query_one("#providers", DataTable).focus()
            return
        super().action_back()
