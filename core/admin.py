"""What IT staff may do: the article's "contact your IT administrator" cases.

Each operation is one transaction that also writes its audit row, with the IT staff member (or
`cli:<os user>`) as actor and the provider as subject (security rules 16 and 17).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection

from core.accounts import Account, Role
from core.admin_base import Signature as Signature  # what a front end builds for a signed change
from core.admin_base import cli_actor as cli_actor  # the actor of CLI changes made outside core.admin
from core.admin_base import for_staff, staff_refusal
from core.admin_epcs import EpcsAdministration
from core.admin_reads import ReadAdministration
from core.audit import AuditRow
from core.daily_review import DailyReport, DailyReview, ReportRecord
from core.directory.model import Verification
from core.errors import AdminError, KioskError, NotAllowed, TokenUnavailable
from core.events import Event, Outcome
from core.npi import validate_npi
from core.private_files import check_output, open_private, refuse_database_files
from core.signin import SignedIn
from core.system import KioskSystem
from core.token_spec import Rejected, TokenSpec
from core.tokens import ImportReport, RevokeReason, TokenInfo, TokenState

# Every field of a row, MAC included, so an export can be checked against the chain.
AUDIT_COLUMNS = tuple(f.name for f in dataclasses.fields(AuditRow))


@dataclass(frozen=True)
class NpiCheck:
    """An NPI checked for IT staff: the account it belongs to ("-" if none) and every answer."""

    subject: str
    verification: Verification


@dataclass(frozen=True)
class AccountOverview:
    """One account as IT staff see it: its factors (every state) and backup codes left."""

    account: Account
    factors: list[TokenInfo]
    backup_codes_left: int

    @property
    def bound(self) -> list[TokenInfo]:
        return [t for t in self.factors if t.state is not TokenState.REVOKED]


@dataclass
class Administration(EpcsAdministration, ReadAdministration):
    """Front ends build it with `for_staff` (the IT staff area) or `for_cli` (`ipkiosk`), never
    directly: those two decide who the actor is and whether they may act. The plain constructor
    stays for tests that set up a world with a named actor (acting as the CLI does)."""

    @classmethod
    def for_staff(cls, system: KioskSystem, signed_in: SignedIn | None) -> Administration:
        """Only IT staff who signed in with their own bound factor (checked again, against the
        store, by every operation)."""
        if signed_in is None:
            raise NotAllowed("This area is for IT staff only.", "Sign in with an IT staff account.")
        refusal = staff_refusal(signed_in.account.role, signed_in.second_factor is not None)
        if refusal is not None:
            raise refusal
        return cls(system, signed_in.account.username, signed_in)

    @classmethod
    def for_cli(cls, system: KioskSystem) -> Administration:
        """`ipkiosk` on the kiosk's own terminal: whoever may run it there may administer it,
        recorded as `cli:<os user>`."""
        return cls(system, cli_actor())

    # -- operations ------------------------------------------------------------------------

    def import_tokens(
        self,
        specs: Iterable[TokenSpec],
        rejected: Iterable[Rejected],
        source: str,
        progress: Callable[[int], object] | None = None,
    ) -> ImportReport:
        """Add a seed file's tokens and write its audit row in one transaction: a crash leaves
        both or neither, never tokens nobody can account for (rule 17). `source` is the file's
        name, for the audit detail (a name is the sender's choice: only printable, and short).
        `rejected` is read once `specs` is consumed (a `SeedStream` fills it as it is read); an
        error while reading rolls back every token already added. `progress` is called with
        the count of tokens taken so far, after each one."""
        self._authorized()
        shown = "".join(c if c.isprintable() and c != " " else "_" for c in source)[:100]
        if progress is not None:
            specs = _counted(specs, progress)
        with self.system.store.begin() as conn:
            report = self.system.tokens.import_specs(specs, rejected, conn=conn)
            self._audit(
                conn,
                Event.TOKENS_IMPORT,
                None,
                detail=(
                    f"file={shown} added={len(report.added)} "
                    f"duplicates={len(report.duplicates)} rejected={report.rejected.total}"
                ),
            )
        return report

    def assign(self, serial: str, username: str) -> TokenInfo:
        self._authorized()
        owner = self._account(username)
        with self.system.store.begin() as conn:
            info = self._available(conn, serial)
            self.system.token_fitness.check_binding(conn, info.serial, owner)
            self.system.tokens.assign(conn, info.serial, owner)
            self.system.accounts.factors_changed(conn, owner)
            self._audit(conn, Event.ASSIGN, owner, info)
            return self._now(conn, info.serial)

    def resync(self, serial: str, current_code: str, next_code: str) -> TokenInfo:
        """The article's "Contact IT support to resync your token": two consecutive codes."""
        self._authorized()
        info = self._token(serial)
        try:
            with self.system.store.begin() as conn:
                updated = self.system.tokens.resync(conn, info.serial, current_code, next_code)
                self._audit(conn, Event.RESYNC, info.owner, info, detail=f"drift={updated.drift}")
        except KioskError:
            self._audit(None, Event.RESYNC, info.owner, info, outcome=Outcome.REFUSED)
            raise
        return updated

    def unlock_token(self, serial: str) -> TokenInfo:
        self._authorized()
        info = self._token(serial)
        with self.system.store.begin() as conn:
            updated = self.system.tokens.unlock(conn, info.serial)
            self._audit(conn, Event.TOKEN_UNLOCK, info.owner, info)
        return updated

    def revoke(self, serial: str, reason: RevokeReason | str) -> TokenInfo:
        """Lost, damaged or stolen: works at once, the next sign-in with it fails (rule 15)."""
        self._authorized()
        info = self._token(serial)
        try:
            why = RevokeReason(reason)
        except ValueError:
            raise AdminError("The reason must be lost, damaged or stolen.") from None
        if info.state is TokenState.REVOKED:
            # Keep the first reason: it is what the audit trail and the owner were told.
            raise TokenUnavailable(f"Token {info.serial} was already revoked ({info.revoked_reason}).")
        with self.system.store.begin() as conn:
            updated = self.system.tokens.revoke(conn, info.serial, why)
            if info.owner:
                self.system.accounts.factors_changed(conn, info.owner)
                self.system.epcs.suspend_if_no_factor(conn, info.owner, self.actor, f"{info.serial} {why.value}")
            self._audit(conn, Event.REVOKE, info.owner, info, detail=f"reason={why.value}")
        return updated

    def _available(self, conn: Connection, serial: str) -> TokenInfo:
        try:
            return self.system.tokens.check_available(conn, serial)
        except KioskError as e:
            raise for_staff(e) from None

    def replace(self, old_serial: str, new_serial: str, codes: tuple[str, str] | None = None) -> TokenInfo:
        """Revoke the old token (if not already) and give its owner the new one, synced when
        two codes are given; all in one transaction."""
        self._authorized()
        old = self._token(old_serial)
        if old.owner is None:
            raise TokenUnavailable(f"Token {old.serial} is not assigned to anyone; use `tokens assign`.")
        with self.system.store.begin() as conn:
            new = self._available(conn, new_serial)
            self.system.token_fitness.check_binding(conn, new.serial, old.owner)
            if old.state is not TokenState.REVOKED:
                self.system.tokens.revoke(conn, old.serial, RevokeReason.REPLACED)
            if codes is not None:
                self.system.tokens.resync(conn, new.serial, *codes)
            self.system.tokens.assign(conn, new.serial, old.owner)
            self.system.accounts.factors_changed(conn, old.owner)
            self._audit(conn, Event.REPLACE, old.owner, new, detail=f"replaces={old.serial}")
            return self._now(conn, new.serial)

    def unlock_account(self, username: str) -> None:
        self._authorized()
        with self.system.store.begin() as conn:
            if not self.system.accounts.unlock(conn, username):
                raise AdminError(f"No account named '{username}'.")
            self._audit(conn, Event.ACCOUNT_UNLOCK, username)

    def issue_backup_codes(self, username: str) -> list[str]:
        """A new set (the old one stops working), e.g. while a lost token is replaced."""
        self._authorized()
        owner = self._account(username)
        with self.system.store.begin() as conn:
            codes = self.system.backup_codes.issue(conn, owner)
            self._audit(conn, Event.BACKUP_CODES_ISSUED, owner, detail="10 codes")
        return codes

    # -- accounts --------------------------------------------------------------------------

    def accounts_overview(self, role: Role | None = None) -> list[AccountOverview]:
        """Every account (of `role`, if given) with its factors, by username."""
        self._authorized()
        system = self.system
        return [
            AccountOverview(a, system.tokens.list(owner=a.username), system.backup_codes.remaining(a.username))
            for a in system.accounts.all()
            if role is None or a.role is role
        ]

    def add_account(
        self,
        username: str,
        *,
        display_name: str,
        npi: str | None,
        role: Role | str,
        password: str,
        email: str | None = None,
        dea_number: str | None = None,
        dea_registrant: bool = False,
    ) -> Account:
        self._authorized()
        with self.system.store.begin() as conn:
            account = self.system.accounts.add(
                conn,
                username,
                display_name=display_name,
                npi=npi,
                role=role,
                password=password,
                email=email,
                dea_number=dea_number,
                dea_registrant=dea_registrant,
            )
            detail = f"role={account.role.value} dea={account.dea_number or '-'} registrant={account.dea_registrant}"
            self._audit(conn, Event.ACCOUNT_CREATED, account.username, detail=detail)
        return account

    def change_account(
        self, username: str, *, email: str | None, dea_number: str | None, dea_registrant: bool | None
    ) -> tuple[Account, list[str]]:
        """The account's EPCS details; returns it and what changed (for the audit and the reply)."""
        self._authorized()
        with self.system.store.begin() as conn:
            account = self.system.accounts.set_epcs_details(
                conn, username, email=email, dea_number=dea_number, dea_registrant=dea_registrant
            )
            changed = [name for name, value in (("email", email), ("dea", dea_number)) if value is not None]
            if dea_registrant is not None:
                changed.append(f"registrant={account.dea_registrant}")
            self._audit(conn, Event.ACCOUNT_CHANGED, account.username, detail=" ".join(changed))
        return account, changed

    # -- the directory and the audit trail -------------------------------------------------

    def check_npi(self, npi: str, last_name: str | None, username: str = "") -> NpiCheck:
        """Re-run a provider's NPI verification in every region, audited: the answer names a
        provider's registry entry, so IT staff looking is on the record too."""
        self._authorized()
        account = self.system.accounts.get(username) if username else None
        checked = validate_npi(npi)
        subject = account.username if account is not None and account.npi == checked else "-"
        verification = self.system.directory.verify(checked, last_name)
        assert isinstance(verification, Verification)  # every directory answers with one (VerificationLike is going)
        self._audit(
            None,
            Event.NPI_CHECK,
            subject,
            outcome=str(verification.outcome),
            detail=f"npi={checked} region={verification.region or '-'}",
        )
        return NpiCheck(subject, verification)

    def export_audit(
        self, target: Path, *, since: datetime | None = None, user: str | None = None, event: str | None = None
    ) -> int:
        """Write the (filtered) rows as CSV to a 0600 file and audit that it was done: the trail
        names providers and sign-in outcomes, so who took a copy is itself on the record."""
        self._authorized()
        database = self.system.store.database_file
        refuse_database_files(target, [database] if database else [])
        check_output(target, "CSV file")
        rows = list(self.system.audit.rows(since=since, user=user, event=event))
        with open_private(target) as f:
            out = csv.DictWriter(f, fieldnames=AUDIT_COLUMNS)
            out.writeheader()
            for row in rows:
                out.writerow(row.as_dict())
        filters = [f"{k}={v}" for k, v in (("since", since and since.date()), ("user", user), ("event", event)) if v]
        self._audit(None, Event.AUDIT_EXPORT, None, detail=" ".join([f"rows={len(rows)}", *filters]))
        return len(rows)

    def daily_review(self, day: date | None, reports_dir: Path) -> DailyReport:
        """The day's review (default yesterday), its files written and its running audited."""
        self._authorized()
        review = DailyReview(self.system)
        return review.run(day or review.yesterday(), reports_dir, self.actor)

    def daily_reports(self, *, unreviewed_only: bool = False) -> list[ReportRecord]:
        self._authorized()
        return DailyReview(self.system).reports(unreviewed_only=unreviewed_only)

    def sign_off_report(self, day: str, by: str, password: str, code: str | None) -> ReportRecord:
        """`by` signs with their own password (and code): the signature, not the actor, is what
        authorizes a sign-off (in the IT staff area, only the staff member's own)."""
        self._authorized()
        signer = self._signer(Signature(by, password, code))
        return DailyReview(self.system).sign_off(day, signer.username, password, code)


def _counted(specs: Iterable[TokenSpec], progress: Callable[[int], object]) -> Iterator[TokenSpec]:
    for taken, spec in enumerate(specs, 1):
        yield spec
        progress(taken)
