"""What IT staff may do: the article's "contact your IT administrator" cases.

Each operation is one transaction that also writes its audit row, with the IT staff member (or
`cli:<os user>`) as actor and the provider as subject (security rules 16 and 17).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import KioskError, TokenNotFound, TokenUnavailable
from core.system import KioskSystem
from core.tokens import RevokeReason, TokenInfo, TokenState


class AdminError(KioskError):
    hint = "Check the serial number or username and try again."


@dataclass
class Administration:
    system: KioskSystem
    actor: str

    def _token(self, serial: str) -> TokenInfo:
        info = self.system.tokens.get(serial)
        if info is None:
            raise TokenNotFound(f"No token with serial number {serial.strip().upper()}.")
        return info

    def assign(self, serial: str, username: str) -> TokenInfo:
        account = self.system.accounts.get(username)
        if account is None:
            raise AdminError(f"No account named '{username}'.")
        with self.system.store.begin() as conn:
            info = self.system.tokens.check_available(conn, serial)
            self.system.tokens.assign(conn, info.serial, account.username)
            self.system.accounts.factors_changed(conn, account.username)
            self.system.audit.record(
                conn,
                "assign",
                actor=self.actor,
                subject=account.username,
                outcome="ok",
                method=info.method.value,
                serial=info.serial,
            )
            updated = self.system.tokens.get(info.serial, conn)
        assert updated is not None
        return updated

    def resync(self, serial: str, current_code: str, next_code: str) -> TokenInfo:
        info = self._token(serial)
        error: KioskError | None = None
        with self.system.store.begin() as conn:
            try:
                updated = self.system.tokens.resync(conn, info.serial, current_code, next_code)
                self.system.audit.record(
                    conn,
                    "resync",
                    actor=self.actor,
                    subject=info.owner or "-",
                    outcome="ok",
                    method=info.method.value,
                    serial=info.serial,
                    detail=f"drift={updated.drift}",
                )
            except KioskError as exc:
                error = exc
        if error is not None:
            self.system.audit.log(
                "resync",
                actor=self.actor,
                subject=info.owner or "-",
                outcome="refused",
                method=info.method.value,
                serial=info.serial,
            )
            raise error
        return updated

    def unlock_token(self, serial: str) -> TokenInfo:
        info = self._token(serial)
        with self.system.store.begin() as conn:
            updated = self.system.tokens.unlock(conn, info.serial)
            self.system.audit.record(
                conn,
                "token_unlock",
                actor=self.actor,
                subject=info.owner or "-",
                outcome="ok",
                method=info.method.value,
                serial=info.serial,
            )
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
            self.system.audit.record(
                conn,
                "revoke",
                actor=self.actor,
                subject=info.owner or "-",
                outcome="ok",
                method=info.method.value,
                serial=info.serial,
                detail=f"reason={why.value}",
            )
        return updated

    def replace(self, old_serial: str, new_serial: str, codes: tuple[str, str] | None = None) -> TokenInfo:
        """Revoke the old token (if not already) and give its owner the new one, synced when
        two codes are given; all in one transaction."""
        old = self._token(old_serial)
        if old.owner is None:
            raise TokenUnavailable(f"Token {old.serial} is not assigned to anyone; use `tokens assign`.")
        with self.system.store.begin() as conn:
            new = self.system.tokens.check_available(conn, new_serial)
            if old.state is not TokenState.REVOKED:
                self.system.tokens.revoke(conn, old.serial, RevokeReason.REPLACED)
            if codes is not None:
                self.system.tokens.resync(conn, new.serial, *codes)
            self.system.tokens.assign(conn, new.serial, old.owner)
            self.system.accounts.factors_changed(conn, old.owner)
            self.system.audit.record(
                conn,
                "replace",
                actor=self.actor,
                subject=old.owner,
                outcome="ok",
                method=new.method.value,
                serial=new.serial,
                detail=f"replaces={old.serial}",
            )
            updated = self.system.tokens.get(new.serial, conn)
        assert updated is not None
        return updated

    def unlock_account(self, username: str) -> None:
        with self.system.store.begin() as conn:
            if not self.system.accounts.unlock(conn, username):
                raise AdminError(f"No account named '{username}'.")
            self.system.audit.record(conn, "account_unlock", actor=self.actor, subject=username, outcome="ok")

    def issue_backup_codes(self, username: str) -> list[str]:
        """A new set (the old one stops working), e.g. while a lost token is replaced."""
        account = self.system.accounts.get(username)
        if account is None:
            raise AdminError(f"No account named '{username}'.")
        with self.system.store.begin() as conn:
            codes = self.system.backup_codes.issue(conn, account.username)
            self.system.audit.record(
                conn,
                "backup_codes_issued",
                actor=self.actor,
                subject=account.username,
                outcome="ok",
                detail="10 codes",
            )
        return codes
