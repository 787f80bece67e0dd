"""Signing in: username and password, then a security code once a factor is bound.

The password alone never suffices once a factor is bound (security rule 22). A backup code is
accepted in place of a token code and is used up. Every attempt is audited (rule 17), and a
refusal says why in the article's troubleshooting words.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from core.accounts import Account, Accounts
from core.audit import AuditTrail
from core.backup_codes import BackupCodes, looks_like_backup_code
from core.clock import Clock
from core.errors import AccountLocked, AuthenticationFailed, KioskError
from core.otp import Diagnosis
from core.store import Store
from core.tokens import CodeCheck, TokenInfo, TokenInventory

# What the provider reads for each refusal: the article's "Invalid code error" causes.
DIAGNOSIS_MESSAGES: dict[Diagnosis, tuple[str, str]] = {
    Diagnosis.EXPIRED: (
        "Code expired.",
        "Press the button on your token, wait for a new code to display, and enter it.",
    ),
    Diagnosis.REUSED: (
        "That code was already used. Each code can only be used once.",
        "Press the button on your token and enter the new code.",
    ),
    Diagnosis.OUT_OF_SYNC: (
        "Your token's clock is out of sync with iPrescribe.",
        "Contact IT support to resync your token. You can sign in with a backup code meanwhile.",
    ),
    Diagnosis.LOCKED: (
        "Your token is locked after too many invalid codes.",
        "Contact your IT administrator or help desk to unlock it. Use a backup code if you have one.",
    ),
    Diagnosis.REVOKED: (
        "This token was reported lost or damaged and no longer works.",
        "Use a backup code and contact your IT administrator for a replacement.",
    ),
    Diagnosis.WRONG: (
        "Invalid code.",
        "Check that you entered the code correctly (typing error), or press the button for a new one.",
    ),
    Diagnosis.MALFORMED: (
        "A security code is the 6 or 8 digits shown on your token, or a backup code.",
        "Verify you have entered the code correctly.",
    ),
    Diagnosis.PAST_VALIDITY: (
        "This token has expired: its vendor set an end date for it, and that date has passed.",
        "Use a backup code and contact your IT administrator for a replacement token.",
    ),
    Diagnosis.BEFORE_VALIDITY: (
        "This token is not valid yet: its vendor set a start date for it that has not come.",
        "Use a backup code, or ask your IT administrator when the token can be used.",
    ),
}


class CodeRequired(KioskError):
    """Password accepted; a security code from a bound factor is needed too."""

    hint = "Press the button on your hardware token and enter the displayed code."


class CodeRefused(KioskError):
    def __init__(self, diagnosis: Diagnosis, serial: str | None = None) -> None:
        message, hint = DIAGNOSIS_MESSAGES[diagnosis]
        super().__init__(message, hint)
        self.diagnosis = diagnosis
        self.serial = serial


@dataclass(frozen=True)
class SignedIn:
    account: Account
    at: float  # when the sign-in happened; binding changes need it to be fresh
    second_factor: str | None  # serial of the token used, "backup_code", or None (no factor bound)
    factors: tuple[TokenInfo, ...]


class SignInService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        audit: AuditTrail,
        accounts: Accounts,
        tokens: TokenInventory,
        backup_codes: BackupCodes,
    ) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit
        self.accounts = accounts
        self.tokens = tokens
        self.backup_codes = backup_codes

    def sign_in(self, username: str, password: str, code: str | None = None, *, event: str = "sign_in") -> SignedIn:
        """Raise AuthenticationFailed, AccountLocked, CodeRequired or CodeRefused, or sign in."""
        username = self.accounts.normalize_username(username)
        failure: KioskError | None = None
        result: SignedIn | None = None
        with self.store.begin() as conn:
            existing = self.accounts.get(username, conn)
            if existing is not None and existing.locked:
                self.audit.record(conn, event, actor=username, subject=username, outcome="account_locked")
                failure = AccountLocked("This account is locked.")
            else:
                account = self.accounts.check_password(conn, username, password)
                if account is None:
                    after = self.accounts.get(username, conn)
                    outcome = "account_locked" if after and after.locked else "bad_password"
                    self.audit.record(conn, event, actor=username or "-", subject=username or "-", outcome=outcome)
                    failure = (
                        AccountLocked("Too many failed sign-ins: this account is now locked.")
                        if after and after.locked
                        else AuthenticationFailed("The username or password is not correct.")
                    )
                else:
                    factors: tuple[TokenInfo, ...] = tuple(self.tokens.factors(conn, account.username))
                    # Once a factor was ever bound, the password alone never suffices again
                    # (rule 22): a revoked token leaves backup codes, not a password-only way in.
                    enrolled = (
                        bool(factors)
                        or self.tokens.ever_owned(conn, account.username)
                        or (self.backup_codes.ever_issued(conn, account.username))
                    )
                    if not enrolled:
                        self.accounts.reset_failures(conn, account.username)
                        self.audit.record(
                            conn, event, actor=username, subject=username, outcome="ok", detail="no factor bound"
                        )
                        result = SignedIn(account, self.clock.time(), None, ())
                    elif not code:
                        self.audit.record(conn, event, actor=username, subject=username, outcome="code_required")
                        failure = CodeRequired("Enter the security code from your token.")
                    else:
                        used, check = self._second_factor(conn, account.username, code, factors)
                        if used is not None:
                            self.accounts.reset_failures(conn, account.username)
                            method = "backup_code" if used == "backup_code" else self._method_of(used, factors)
                            self.audit.record(
                                conn,
                                event,
                                actor=username,
                                subject=username,
                                outcome="ok",
                                method=method,
                                serial="" if used == "backup_code" else used,
                            )
                            refreshed: tuple[TokenInfo, ...] = tuple(self.tokens.factors(conn, account.username))
                            result = SignedIn(account, self.clock.time(), used, refreshed)
                        else:
                            assert check is not None and check.diagnosis is not None
                            self.audit.record(
                                conn,
                                event,
                                actor=username,
                                subject=username,
                                outcome=f"refused_{check.diagnosis.value}",
                                serial=check.serial,
                                detail="token locked" if check.locked_now else "",
                            )
                            failure = CodeRefused(
                                Diagnosis.LOCKED if check.locked_now else check.diagnosis, check.serial
                            )
        if failure is not None:
            raise failure
        assert result is not None
        return result

    @staticmethod
    def _method_of(serial: str, factors: tuple[TokenInfo, ...]) -> str:
        return next((f.method.value for f in factors if f.serial == serial), "")

    def _second_factor(
        self, conn: Connection, username: str, code: str, factors: tuple[TokenInfo, ...]
    ) -> tuple[str | None, CodeCheck | None]:
        if looks_like_backup_code(code):
            if self.backup_codes.use(conn, username, code):
                return "backup_code", None
            return None, CodeCheck(False, "backup_code", Diagnosis.WRONG)
        if not factors:  # every token revoked: only a backup code can sign in
            return None, CodeCheck(False, "-", Diagnosis.REVOKED)
        best: CodeCheck | None = None
        unusable: set[str] = set()  # outside the validity its vendor gave it: no code was checked
        for factor in factors:
            check = self.tokens.verify_code(conn, factor.serial, code, count_failure=False)
            if check.accepted:
                return factor.serial, check
            if check.diagnosis in (Diagnosis.PAST_VALIDITY, Diagnosis.BEFORE_VALIDITY):
                unusable.add(factor.serial)
            # Show the most useful reason: anything specific beats "wrong".
            if best is None or best.diagnosis in (Diagnosis.WRONG, Diagnosis.MALFORMED):
                best = check
        # One failed attempt counts against every usable factor: a guesser gets ten tries, not
        # ten per factor, and a provider with two factors is not locked by using the other.
        locked_now = False
        for factor in factors:
            if factor.state.value == "assigned" and factor.serial not in unusable:
                locked_now = self.tokens.record_failure(conn, factor.serial) or locked_now
        assert best is not None
        return None, CodeCheck(False, best.serial, best.diagnosis, locked_now)
