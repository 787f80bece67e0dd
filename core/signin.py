"""Signing in: username and password, then a security code once a factor is bound.

The password alone never suffices once a factor is bound (docs/security.md rule 22). A backup code is
accepted in place of a token code and is used up. Every attempt is audited (rule 17), and a
refusal says why in the article's troubleshooting words.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from core.accounts import USERNAME_RE, Account, Accounts
from core.audit import AuditTrail, fit_name
from core.backup_codes import BackupCodes, BackupMatch, BackupUse, looks_like_backup_code
from core.clock import Clock
from core.errors import N_, AccountLocked, AuthenticationFailed, KioskError

# Defined in core.errors; kept importable from here for kiosk/ and screens/.
from core.errors import CodeRefused as CodeRefused
from core.errors import CodeRequired as CodeRequired
from core.events import Event, Outcome
from core.hashing import check_secret
from core.otp import Diagnosis
from core.schema import NAME_MAX
from core.store import Store
from core.throttle import Lockout, Throttle
from core.token_model import CodeCheck, CodeMatch, TokenInfo
from core.tokens import TokenInventory

NOT_CHECKED = frozenset({Diagnosis.LOCKED, Diagnosis.REVOKED, Diagnosis.PAST_VALIDITY, Diagnosis.BEFORE_VALIDITY})


# Unknown username, wrong password and a throttled attempt all read this (and cost the same).
NOT_CORRECT = (
    N_("The username or password is not correct."),
    N_("Check your username and password and try again. After several tries, wait a minute between them."),
)


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
        lockout: Lockout | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit
        self.accounts = accounts
        self.tokens = tokens
        self.backup_codes = backup_codes
        self.throttle = Throttle(lockout or Lockout(), audit.kiosk_id)

    def sign_in(
        self, username: str, password: str, code: str | None = None, *, event: Event = Event.SIGN_IN
    ) -> SignedIn:
        """Raise AuthenticationFailed, AccountLocked, CodeRequired or CodeRefused, or sign in.

        Three short transactions around one argon2 check that runs outside all of them: reserve
        the attempt (throttle), check the password, then settle (audit, second factor). An unknown
        username, a wrong password and a throttled attempt take the same steps and read alike."""
        name = self.accounts.normalize_username(username)
        valid = USERNAME_RE.match(name) is not None  # also: at most NAME_MAX characters
        who = fit_name(name) or "-"
        with self.store.begin() as conn:
            stored = self.accounts.password_hash(conn, name) if valid else None
            reservation = self.throttle.reserve(conn, name if valid else None, self.clock)
            if not reservation.allowed:
                self.audit.record(conn, event, actor=who, subject=who, outcome=Outcome.THROTTLED)
        ok = check_secret(stored, password)  # exactly one verification, whatever the case
        if not reservation.allowed:
            raise AuthenticationFailed(*NOT_CORRECT)
        if not ok:
            detail = self._why_not(name, valid, stored, reservation.locked_now)
            with self.store.begin() as conn:
                self.audit.record(conn, event, actor=who, subject=who, outcome=Outcome.BAD_PASSWORD, detail=detail)
            raise AuthenticationFailed(*NOT_CORRECT)
        # The password is right: from here on the answer may name the account's state.
        backup: BackupMatch | None = None
        prechecks: dict[str, CodeMatch] = {}
        if code and looks_like_backup_code(code):
            backup = self.backup_codes.match(name, code)  # argon2 again: before the write transaction
        elif code:
            prechecks = self._precheck(name, code)
        failure: KioskError | None = None
        result: SignedIn | None = None
        with self.store.begin() as conn:
            account = self.accounts.get(name, conn)
            if account is None:  # removed since the reservation
                self.audit.record(
                    conn, event, actor=who, subject=who, outcome=Outcome.BAD_PASSWORD, detail="unknown username"
                )
                failure = AuthenticationFailed(*NOT_CORRECT)
            elif account.locked:
                self.throttle.release(conn, name, reservation, account=False)
                self.audit.record(conn, event, actor=name, subject=name, outcome=Outcome.ACCOUNT_LOCKED)
                failure = AccountLocked(
                    N_("This account is locked after too many failed sign-ins."),
                    N_("Ask IT staff to unlock it."),
                )
            else:
                self.throttle.release(conn, name, reservation)
                failure, result = self._settle(conn, account, code, backup, prechecks, event)
        if failure is not None:
            raise failure
        assert result is not None
        return result

    @staticmethod
    def _why_not(name: str, valid: bool, stored: str | None, locked_now: bool) -> str:
        """For IT staff reading the audit only; the person signing in reads NOT_CORRECT."""
        if len(name) > NAME_MAX:
            return f"username over {NAME_MAX} characters"
        if not valid or stored is None:
            return "unknown username"
        return "account locked now" if locked_now else ""

    def _precheck(self, name: str, code: str) -> dict[str, CodeMatch]:
        """The code matched against each of the user's tokens, before the write transaction."""
        with self.store.connect() as conn:
            serials = [f.serial for f in self.tokens.factors(conn, name)]
        found = {serial: self.tokens.precheck(serial, code) for serial in serials}
        return {serial: match for serial, match in found.items() if match is not None}

    def _settle(
        self,
        conn: Connection,
        account: Account,
        code: str | None,
        backup: BackupMatch | None,
        prechecks: dict[str, CodeMatch],
        event: Event,
    ) -> tuple[KioskError | None, SignedIn | None]:
        name = account.username
        factors: tuple[TokenInfo, ...] = tuple(self.tokens.factors(conn, name))
        # Once a factor was ever bound, the password alone never suffices again (rule 22): a
        # revoked token leaves backup codes, not a password-only way in.
        enrolled = bool(factors) or self.tokens.ever_owned(conn, name) or self.backup_codes.ever_issued(conn, name)
        if not enrolled:
            self.audit.record(conn, event, actor=name, subject=name, outcome=Outcome.OK, detail="no factor bound")
            return None, SignedIn(account, self.clock.time(), None, ())
        if not code:
            self.audit.record(conn, event, actor=name, subject=name, outcome=Outcome.CODE_REQUIRED)
            return CodeRequired(N_("Enter the security code from your token.")), None
        used, check = self._second_factor(conn, name, code, factors, backup, prechecks)
        if used is not None:
            method = "backup_code" if used == "backup_code" else self._method_of(used, factors)
            serial = "" if used == "backup_code" else used
            self.audit.record(conn, event, actor=name, subject=name, outcome=Outcome.OK, method=method, serial=serial)
            refreshed: tuple[TokenInfo, ...] = tuple(self.tokens.factors(conn, name))
            return None, SignedIn(account, self.clock.time(), used, refreshed)
        assert check is not None and check.diagnosis is not None
        self.audit.record(
            conn,
            event,
            actor=name,
            subject=name,
            outcome=Outcome.TOKEN_LOCKED if check.locked_now else Outcome.refused(check.diagnosis.value),
            serial=check.serial,
            detail=f"diagnosis={check.diagnosis.value}" if check.locked_now else "",
        )
        return CodeRefused(Diagnosis.LOCKED if check.locked_now else check.diagnosis, check.serial), None

    @staticmethod
    def _method_of(serial: str, factors: tuple[TokenInfo, ...]) -> str:
        return next((f.method.value for f in factors if f.serial == serial), "")

    def _second_factor(
        self,
        conn: Connection,
        username: str,
        code: str,
        factors: tuple[TokenInfo, ...],
        backup: BackupMatch | None,
        prechecks: dict[str, CodeMatch],
    ) -> tuple[str | None, CodeCheck | None]:
        if backup is not None:
            outcome = self.backup_codes.claim(conn, backup)
            if outcome is BackupUse.ACCEPTED:
                return "backup_code", None
            diagnosis = Diagnosis.REUSED if outcome is BackupUse.REUSED else Diagnosis.WRONG
            return None, CodeCheck(False, "backup_code", diagnosis)
        if not factors:  # every token revoked: only a backup code can sign in
            return None, CodeCheck(False, "-", Diagnosis.REVOKED)
        best: CodeCheck | None = None
        evaluated: list[str] = []
        for factor in factors:
            # Each token row is locked (FOR UPDATE) until this transaction ends, so concurrent
            # guesses are checked one at a time against the current state and failure count.
            check = self.tokens.verify_code(
                conn, factor.serial, code, count_failure=False, precheck=prechecks.get(factor.serial)
            )
            if check.accepted:
                return factor.serial, check
            # A locked or revoked token, or one outside the validity its vendor gave it, was not
            # checked against the code: nothing to count.
            if check.diagnosis not in NOT_CHECKED:
                evaluated.append(factor.serial)
            # Show the most useful reason: anything specific beats "wrong".
            if best is None or best.diagnosis in (Diagnosis.WRONG, Diagnosis.MALFORMED):
                best = check
        # One failed attempt counts against every factor it was checked against: a guesser gets
        # ten tries, not ten per factor, and a provider with two factors is not locked by using
        # the other. A token found locked under its row lock was not checked: nothing to count.
        locked_now = False
        for serial in evaluated:
            locked_now = self.tokens.record_failure(conn, serial) or locked_now
        assert best is not None
        return None, CodeCheck(False, best.serial, best.diagnosis, locked_now)
