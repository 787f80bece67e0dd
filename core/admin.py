"""What IT staff may do: the article's "contact your IT administrator" cases.

Each operation is one transaction that also writes its audit row, with the IT staff member (or
`cli:<os user>`) as actor and the provider as subject (security rules 16 and 17).
"""

from __future__ import annotations

import csv
import dataclasses
import getpass
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection

from core.accounts import Account, Role
from core.audit import AuditRow
from core.daily_review import DailyReport, DailyReview, ReportRecord
from core.directory.model import Verification
from core.errors import KioskError, NotAllowed, TokenNotFound, TokenUnavailable
from core.events import Event, Outcome
from core.npi import validate_npi
from core.private_files import check_output, open_private, refuse_database_files
from core.seedfiles import Rejected, TokenSpec
from core.signin import SignedIn
from core.system import KioskSystem
from core.tokens import ImportReport, RevokeReason, TokenInfo, TokenState


class AdminError(KioskError):
    hint = "Check the serial number or username and try again."


# Every field of a row, MAC included, so an export can be checked against the chain.
AUDIT_COLUMNS = tuple(f.name for f in dataclasses.fields(AuditRow))


@dataclass(frozen=True)
class NpiCheck:
    """An NPI checked for IT staff: the account it belongs to ("-" if none) and every answer."""

    subject: str
    verification: Verification


def cli_actor() -> str:
    """Who ran an admin command, for the audit trail: the OS account at the terminal."""
    try:
        name = getpass.getuser()
    except Exception:
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"


@dataclass
class Administration:
    """Front ends build it with `for_staff` (the IT staff area) or `for_cli` (`ipkiosk`), never
    directly: those two decide who the actor is and whether they may act. The plain constructor
    stays for tests that set up a world with a named actor."""

    system: KioskSystem
    actor: str

    @classmethod
    def for_staff(cls, system: KioskSystem, signed_in: SignedIn | None) -> Administration:
        """Only IT staff who signed in with their own bound factor: a password alone must not
        open the operations that hand out and take away other people's factors."""
        if signed_in is None or signed_in.account.role is not Role.IT_STAFF:
            raise NotAllowed("This area is for IT staff only.", "Sign in with an IT staff account.")
        if signed_in.second_factor is None:
            raise NotAllowed(
                "IT staff need their own bound token to open this area.",
                "Ask another IT staff member to bind one for you.",
            )
        return cls(system, signed_in.account.username)

    @classmethod
    def for_cli(cls, system: KioskSystem) -> Administration:
        """`ipkiosk` on the kiosk's own terminal: whoever may run it there may administer it,
        recorded as `cli:<os user>`."""
        return cls(system, cli_actor())

    # -- helpers ---------------------------------------------------------------------------

    def _token(self, serial: str) -> TokenInfo:
        info = self.system.tokens.get(serial)
        if info is None:
            raise TokenNotFound(f"No token with serial number {serial.strip().upper()}.")
        return info

    def _account(self, username: str) -> str:
        account = self.system.accounts.get(username)
        if account is None:
            raise AdminError(f"No account named '{username}'.")
        return account.username

    def _audit(
        self,
        conn: Connection | None,
        event: Event,
        subject: str | None,
        token: TokenInfo | None = None,
        *,
        outcome: str = Outcome.OK,
        detail: str = "",
    ) -> None:
        """One audit row with this IT staff member as actor; in `conn`'s transaction, or in
        one of its own when the change it describes was rolled back (conn None)."""
        fields = {
            "actor": self.actor,
            "subject": subject or "-",
            "outcome": outcome,
            "method": token.method.value if token else "",
            "serial": token.serial if token else "",
            "detail": detail,
        }
        if conn is None:
            self.system.audit.log(event, **fields)
        else:
            self.system.audit.record(conn, event, **fields)

    def _now(self, conn: Connection, serial: str) -> TokenInfo:
        updated = self.system.tokens.get(serial, conn)
        assert updated is not None  # read inside the transaction that just wrote it
        return updated

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
                    f"duplicates={len(report.duplicates)} rejected={len(report.rejected)}"
                ),
            )
        return report

    def assign(self, serial: str, username: str) -> TokenInfo:
        owner = self._account(username)
        with self.system.store.begin() as conn:
            info = self.system.tokens.check_available(conn, serial)
            self.system.token_fitness.check_binding(conn, info.serial, owner)
            self.system.tokens.assign(conn, info.serial, owner)
            self.system.accounts.factors_changed(conn, owner)
            self._audit(conn, Event.ASSIGN, owner, info)
            return self._now(conn, info.serial)

    def resync(self, serial: str, current_code: str, next_code: str) -> TokenInfo:
        """The article's "Contact IT support to resync your token": two consecutive codes."""
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
        info = self._token(serial)
        with self.system.store.begin() as conn:
            updated = self.system.tokens.unlock(conn, info.serial)
            self._audit(conn, Event.TOKEN_UNLOCK, info.owner, info)
        return updated

    def revoke(self, serial: str, reason: RevokeReason | str) -> TokenInfo:
        """Lost, damaged or stolen: works at once, the next sign-in with it fails (rule 15)."""
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

    def replace(self, old_serial: str, new_serial: str, codes: tuple[str, str] | None = None) -> TokenInfo:
        """Revoke the old token (if not already) and give its owner the new one, synced when
        two codes are given; all in one transaction."""
        old = self._token(old_serial)
        if old.owner is None:
            raise TokenUnavailable(f"Token {old.serial} is not assigned to anyone; use `tokens assign`.")
        with self.system.store.begin() as conn:
            new = self.system.tokens.check_available(conn, new_serial)
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
        with self.system.store.begin() as conn:
            if not self.system.accounts.unlock(conn, username):
                raise AdminError(f"No account named '{username}'.")
            self._audit(conn, Event.ACCOUNT_UNLOCK, username)

    def issue_backup_codes(self, username: str) -> list[str]:
        """A new set (the old one stops working), e.g. while a lost token is replaced."""
        owner = self._account(username)
        with self.system.store.begin() as conn:
            codes = self.system.backup_codes.issue(conn, owner)
            self._audit(conn, Event.BACKUP_CODES_ISSUED, owner, detail="10 codes")
        return codes

    # -- accounts --------------------------------------------------------------------------

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
        review = DailyReview(self.system)
        return review.run(day or review.yesterday(), reports_dir, self.actor)

    def daily_reports(self, *, unreviewed_only: bool = False) -> list[ReportRecord]:
        return DailyReview(self.system).reports(unreviewed_only=unreviewed_only)

    def sign_off_report(self, day: str, by: str, password: str, code: str | None) -> ReportRecord:
        """`by` signs with their own password (and code): the signature, not the actor, is what
        authorizes a sign-off."""
        return DailyReview(self.system).sign_off(day, by, password, code)


def _counted(specs: Iterable[TokenSpec], progress: Callable[[int], object]) -> Iterator[TokenSpec]:
    for taken, spec in enumerate(specs, 1):
        yield spec
        progress(taken)
