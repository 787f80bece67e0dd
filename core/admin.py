"""What IT staff may do: the article's "contact your IT administrator" cases.

Each operation is one transaction that also writes its audit row, with the IT staff member (or
`cli:<os user>`) as actor and the provider as subject (security rules 16 and 17).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from core.errors import KioskError, TokenNotFound, TokenUnavailable
from core.seedfiles import Rejected, TokenSpec
from core.system import KioskSystem
from core.tokens import ImportReport, RevokeReason, TokenInfo, TokenState


class AdminError(KioskError):
    hint = "Check the serial number or username and try again."


@dataclass
class Administration:
    system: KioskSystem
    actor: str

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
        event: str,
        subject: str | None,
        token: TokenInfo | None = None,
        *,
        outcome: str = "ok",
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

    def import_tokens(self, specs: Iterable[TokenSpec], rejected: Iterable[Rejected], source: str) -> ImportReport:
        """Add a seed file's tokens and write its audit row in one transaction: a crash leaves
        both or neither, never tokens nobody can account for (rule 17). `source` is the file's
        name, for the audit detail (a name is the sender's choice: only printable, and short).
        `rejected` is read once `specs` is consumed (a `SeedStream` fills it as it is read); an
        error while reading rolls back every token already added."""
        shown = "".join(c if c.isprintable() and c != " " else "_" for c in source)[:100]
        with self.system.store.begin() as conn:
            report = self.system.tokens.import_specs(specs, rejected, conn=conn)
            self._audit(
                conn,
                "tokens_import",
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
            self._audit(conn, "assign", owner, info)
            return self._now(conn, info.serial)

    def resync(self, serial: str, current_code: str, next_code: str) -> TokenInfo:
        """The article's "Contact IT support to resync your token": two consecutive codes."""
        info = self._token(serial)
        try:
            with self.system.store.begin() as conn:
                updated = self.system.tokens.resync(conn, info.serial, current_code, next_code)
                self._audit(conn, "resync", info.owner, info, detail=f"drift={updated.drift}")
        except KioskError:
            self._audit(None, "resync", info.owner, info, outcome="refused")
            raise
        return updated

    def unlock_token(self, serial: str) -> TokenInfo:
        info = self._token(serial)
        with self.system.store.begin() as conn:
            updated = self.system.tokens.unlock(conn, info.serial)
            self._audit(conn, "token_unlock", info.owner, info)
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
            self._audit(conn, "revoke", info.owner, info, detail=f"reason={why.value}")
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
            self._audit(conn, "replace", old.owner, new, detail=f"replaces={old.serial}")
            return self._now(conn, new.serial)

    def unlock_account(self, username: str) -> None:
        with self.system.store.begin() as conn:
            if not self.system.accounts.unlock(conn, username):
                raise AdminError(f"No account named '{username}'.")
            self._audit(conn, "account_unlock", username)

    def issue_backup_codes(self, username: str) -> list[str]:
        """A new set (the old one stops working), e.g. while a lost token is replaced."""
        owner = self._account(username)
        with self.system.store.begin() as conn:
            codes = self.system.backup_codes.issue(conn, owner)
            self._audit(conn, "backup_codes_issued", owner, detail="10 codes")
        return codes
