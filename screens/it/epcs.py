"""EPCS controls in the IT staff area: each provider's signing permission, the ID check recorded
before binding, two-person entry and approval, and the daily audit reports to sign off.

Every action goes through core.admin.Administration, as `ipkiosk epcs`, `users proof` and `audit
signoff` do, so the screen cannot bend a rule the command line keeps and both leave the same
audit rows. Signing (grant, revoke, sign-off) takes the IT staff member's password and
code again, in a dialog over the page; the approver types their own there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from core.admin import Signature
from core.errors import KioskError
from core.proofing import DocumentType
from screens.it.base import ItScreen, Note
from screens.it.dialogs import SignatureDialog
from screens.widgets.tables import Table, refill

PERMISSION_COLUMNS = ("Provider", "State", "DEA", "ID checked", "Entered by", "Approved by")
REPORT_COLUMNS = ("Day (UTC)", "Incidents", "Report")


class ItEpcsScreen(ItScreen):
    AREA = "EPCS permissions"

    def body(self) -> ComposeResult:
        # The signatures are asked in a dialog over the page (SignatureDialog), one per change:
        # four forms side by side would push an 80x24 page past the screen.
        with VerticalScroll(classes="page", can_focus=False, id="epcs-page"):
            yield Static("EPCS permissions", classes="title")
            yield Static("IT staff enter a grant; a second person, a DEA registrant, approves it.", classes="lead")
            table = Table(id="permissions", cursor_type="row")
            refill(table, PERMISSION_COLUMNS)
            yield table
            yield Static("", id="roles", classes="hint")
            yield Label("Provider (select above or type); the ID document checked, its last 4", classes="field-label")
            with Horizontal(classes="it-row", id="provider-row"):
                yield Input(id="provider", max_length=64, placeholder="e.g. dr.rivera")
                yield Select([(d.value.replace("_", " "), d.value) for d in DocumentType], id="document")
                yield Input(id="last4", max_length=4, placeholder="last 4")
            with Horizontal(classes="buttons", id="epcs-actions"):
                yield Button("Record ID check", id="proof")
                yield Button("Enter grant…", id="grant", variant="primary")
                yield Button("Approve…", id="approve", variant="primary")
                yield Button("Revoke…", id="revoke", variant="error")
            yield Note(classes="error", id="error")
            yield Note(classes="success", id="done")
            yield Label("Daily audit reports not signed off yet", classes="field-label")
            reports = Table(id="reports", cursor_type="row")
            refill(reports, REPORT_COLUMNS)
            yield reports
            with Horizontal(classes="buttons"):
                yield Button("Sign off selected report…", id="signoff")
                yield Button("Back", id="back")

    def on_mount(self) -> None:
        self.query_one("#provider", Input).focus()
        self.reload()

    # -- reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        admin = self.admin()

        def read() -> tuple[list[dict[str, Any]], str, list[Any]]:
            roles = admin.epcs_roles()
            entry = ", ".join(r.username for r in roles if r.role == "entry") or "nobody"
            approval = ", ".join(
                r.username + ("" if r.eligible else f" ({r.why})") for r in roles if r.role == "approval"
            )
            text = f"Entry: {entry}.  Approval: {approval or 'no DEA registrant yet'}."
            return admin.epcs_overview(), text, admin.daily_reports(unreviewed_only=True)

        def work() -> None:
            try:
                found = read()
            except KioskError as exc:
                self.app.call_from_thread(self.show_error, exc)
            except Exception as exc:  # as in run_domain: a bug must not end the kiosk
                self.app.log.error(f"unexpected error: {type(exc).__name__}")
                self.app.call_from_thread(self.show_error, "Something went wrong on this kiosk. Try again.")
            else:
                self.app.call_from_thread(self._show, found)

        # Its own group: reloading after an action must not cancel that action's worker, which
        # is still returning when it asks for the reload.
        self.run_worker(work, thread=True, exclusive=True, exit_on_error=False, group="epcs-read")

    def _show(self, found: tuple[list[dict[str, Any]], str, list[Any]]) -> None:
        rows, roles, reports = found
        table = self.query_one("#permissions", DataTable)
        refill(table, PERMISSION_COLUMNS)
        for r in rows:
            proof = r["identity_proofing"]
            checked = "-" if proof is None else (proof["csp_reference"] or f"{proof['document_type']} {proof['last4']}")
            table.add_row(
                r["username"], r["state"], r["dea_number"] or "-", checked, r["entered_by"] or "-",
                r["approved_by"] or "-", key=r["username"],
            )  # fmt: skip
        self.query_one("#roles", Static).update(roles)
        report_table = self.query_one("#reports", DataTable)
        refill(report_table, REPORT_COLUMNS)
        for rep in reports:
            report_table.add_row(rep.day, str(rep.incidents), rep.html_path, key=rep.day)

    @on(DataTable.RowSelected, "#permissions")
    def _picked(self, event: DataTable.RowSelected) -> None:
        self.query_one("#provider", Input).value = str(event.row_key.value)

    # -- actions ---------------------------------------------------------------------------

    def _provider(self) -> str | None:
        username = self.query_one("#provider", Input).value.strip().lower()
        if not username:
            self.show_error("Enter the provider's username (or select the provider above).")
            return None
        return username

    def _ask(
        self,
        title: str,
        lead: str,
        change: Callable[[Signature, str], str],
        *,
        approver: bool = False,
        reason: bool = False,
        danger: bool = False,
    ) -> None:
        """Open the signature dialog; its "Sign" runs `change` (whose result is the text shown
        once done) and the dialog closes, or shows the refusal and stays to be signed again."""

        def sign(dialog: SignatureDialog) -> None:
            signature, why = dialog.signature(), dialog.reason()

            def made(text: str) -> None:
                dialog.signed()
                self._done(text)

            self.run_domain(lambda: change(signature, why), made, dialog.refused)

        signer = None if approver else self.it_user
        self.app.push_screen(SignatureDialog(title, lead, sign, signer=signer, reason=reason, danger=danger))

    @on(Button.Pressed, "#proof")
    def record_proof(self) -> None:
        username = self._provider()
        document = self.query_one("#document", Select).value
        if username is None:
            return
        if not isinstance(document, str):
            self.show_error("Choose the ID document you checked.")
            return
        last4 = self.query_one("#last4", Input).value
        admin = self.admin()
        self.run_domain(
            lambda: admin.record_id_check(username, document_type=document, last4=last4),
            lambda rec: self._done(f"ID check recorded for {rec.username}: {rec.summary}."),
            self.show_error,
        )

    @on(Button.Pressed, "#grant")
    def enter_grant(self) -> None:
        username = self._provider()
        if username is None:
            return
        admin = self.admin()

        def grant(signature: Signature, _: str) -> str:
            p = admin.grant_epcs(username, signature)
            return f"Grant for {p.username} entered; it waits for a DEA registrant's approval."

        self._ask(
            f"Enter the EPCS grant for {username}",
            "A DEA registrant approves it next. Losing the provider's last factor suspends it.",
            grant,
        )

    @on(Button.Pressed, "#approve")
    def approve(self) -> None:
        username = self._provider()
        if username is None:
            return
        admin = self.admin()

        def approve(signature: Signature, _: str) -> str:
            p = admin.approve_epcs(username, signature)
            return f"{p.username} may now sign EPCS prescriptions (approved by {p.approved_by})."

        self._ask(
            f"Approve the EPCS grant for {username}",
            "The approver is a DEA registrant with a bound factor, not the person who entered it.",
            approve,
            approver=True,
        )

    @on(Button.Pressed, "#revoke")
    def revoke(self) -> None:
        username = self._provider()
        if username is None:
            return
        admin = self.admin()

        def revoke(signature: Signature, reason: str) -> str:
            p = admin.revoke_epcs(username, signature, reason)
            return f"EPCS permission of {p.username} revoked."

        self._ask(
            f"Revoke the EPCS permission of {username}",
            "The provider can no longer sign EPCS prescriptions from now on. Say why.",
            revoke,
            reason=True,
            danger=True,
        )

    @on(Button.Pressed, "#signoff")
    def sign_off(self) -> None:
        table = self.query_one("#reports", DataTable)
        if not table.row_count:
            self.show_error("No report is waiting for a sign-off.")
            return
        day = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        admin = self.admin()

        def sign_off(signature: Signature, _: str) -> str:
            rec = admin.sign_off_report(day, signature.username, signature.password, signature.code)
            return f"Report {rec.day} signed off by {rec.signed_off_by}."

        self._ask(
            f"Sign off the audit report of {day}", "Sign once you have reviewed the incidents it lists.", sign_off
        )

    def _done(self, text: str) -> None:
        self.clear_error()
        self.query_one("#done", Static).update(text)
        self.reload()

    def show_error(self, exc: KioskError | str, target: str = "#error") -> None:
        self.query_one("#done", Static).update("")
        super().show_error(exc, target)
