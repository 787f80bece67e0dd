"""The rules for accepting a code, on top of the token records.

Every rule that must hold across kiosks sharing one store is a single conditional UPDATE:
  - a code is accepted only if its step/counter is above `last_used` (compare-and-swap), so the
    same code submitted twice, on one kiosk or two, succeeds once (docs/security.md rule 11);
  - the failure counter is incremented in SQL and the token locks at 10 (rule 12).
"""

from __future__ import annotations

from sqlalchemy import Connection, case, select, update

from core import otp
from core.errors import N_, SyncFailed, TokenUnavailable
from core.otp import Diagnosis
from core.schema import tokens
from core.serials import normalize_serial
from core.token_model import CodeCheck, CodeMatch, TokenInfo, TokenState, info_from_row
from core.token_records import TokenRecords, revoked_word


def _moment(info: TokenInfo, t: float) -> tuple[int, int, int]:
    step = otp.step_at(info.params, t) if info.params.kind == "totp" else 0
    return (info.last_used, info.drift, step)


class TokenCodes(TokenRecords):
    def precheck(self, serial: str, code: str) -> CodeMatch | None:
        """Match `code` against the token as it is now, outside any transaction: the wide
        windows that tell "expired" and "out of sync" from "wrong" hold thousands of codes, too
        slow to search while holding the store's write lock. `verify_code` reuses the result
        when the token's state has not moved meanwhile."""
        with self.store.connect() as conn:
            row = conn.execute(select(tokens).where(tokens.c.serial == normalize_serial(serial))).mappings().first()
        if row is None:
            return None
        info = info_from_row(row)
        cleaned = otp.normalize_code(code, info.params.digits)
        if cleaned is None or info.state not in (TokenState.ASSIGNED, TokenState.AVAILABLE):
            return None
        t = self.clock.time()
        index, diagnosis = self._judge(info, self._seed(row), cleaned, t)
        return CodeMatch(info.serial, cleaned, _moment(info, t), index, diagnosis)

    def verify_code(
        self,
        conn: Connection,
        serial: str,
        code: str,
        *,
        count_failure: bool = True,
        precheck: CodeMatch | None = None,
    ) -> CodeCheck:
        """Accept `code` once, or say why not. Call inside the transaction that audits it.

        With count_failure=False a refusal leaves the failure counter alone, for callers that
        try several factors and count one failure per attempt themselves (`record_failure`).
        """
        row = self._row(conn, serial, lock=True)
        info = info_from_row(row)
        if info.state is TokenState.REVOKED:
            return CodeCheck(False, info.serial, Diagnosis.REVOKED)
        if info.state is TokenState.LOCKED:
            return CodeCheck(False, info.serial, Diagnosis.LOCKED)
        outside = self.outside_validity(info)
        if outside is not None:  # not a failure of the provider's: nothing is counted
            return CodeCheck(False, info.serial, outside)
        cleaned = otp.normalize_code(code, info.params.digits)
        if cleaned is None:
            return self._fail(conn, info, Diagnosis.MALFORMED, count_failure)
        t = self.clock.time()
        if (
            precheck is not None
            and precheck.serial == info.serial
            and precheck.code == cleaned
            and precheck.moment == _moment(info, t)
        ):
            index, diagnosis = precheck.index, precheck.diagnosis
        else:
            index, diagnosis = self._judge(info, self._seed(row), cleaned, t)
        if diagnosis is None and index is not None:
            values: dict[str, object] = {"last_used": index, "failures": 0, "last_used_at": t}
            if info.params.kind == "totp":
                # Follow the token's clock: RFC 6238 6 suggests recording the observed drift.
                values["drift"] = index - otp.step_at(info.params, t)
            done = conn.execute(
                update(tokens)
                .where(
                    tokens.c.serial == info.serial,
                    tokens.c.last_used < index,
                    tokens.c.state == info.state.value,
                )
                .values(**values)
            )
            if done.rowcount == 1:
                return CodeCheck(True, info.serial)
            return self._fail(conn, info, Diagnosis.REUSED, count_failure)
        assert diagnosis is not None
        return self._fail(conn, info, diagnosis, count_failure)

    def _judge(self, info: TokenInfo, seed: bytes, code: str, t: float) -> tuple[int | None, Diagnosis | None]:
        """(index, None) when the code is acceptable, else (index or None, why not)."""
        window = otp.windows(info.params, t=t, drift=info.drift, last_used=info.last_used, counter_base=0)
        index = otp.find(info.params, seed, code, window.signin)
        if index is not None and index > info.last_used:
            return index, None
        return index, self._diagnose(info, seed, code, index, window)

    def _diagnose(
        self, info: TokenInfo, seed: bytes, code: str, signin_index: int | None, window: otp.Window
    ) -> Diagnosis:
        if signin_index is not None:  # in the window but not above last_used
            return (
                Diagnosis.REUSED if signin_index == info.last_used or info.params.kind == "hotp" else Diagnosis.EXPIRED
            )
        if info.params.kind == "hotp":
            recent = range(max(0, info.last_used - otp.HOTP_LOOKAHEAD), info.last_used + 1)
            if otp.find(info.params, seed, code, recent) is not None:
                return Diagnosis.REUSED
        else:
            old = otp.find(info.params, seed, code, window.expired)
            if old is not None:
                # Only the very code last accepted is "reused"; an older one was never
                # entered as far as we know, so to the provider it is simply expired.
                return Diagnosis.REUSED if old == info.last_used else Diagnosis.EXPIRED
        if otp.find(info.params, seed, code, window.resync) is not None:
            return Diagnosis.OUT_OF_SYNC
        return Diagnosis.WRONG

    def _fail(self, conn: Connection, info: TokenInfo, diagnosis: Diagnosis, count: bool) -> CodeCheck:
        locked_now = self.record_failure(conn, info.serial) if count else False
        return CodeCheck(False, info.serial, diagnosis, locked_now)

    def record_failure(self, conn: Connection, serial: str) -> bool:
        """Count one failed code; True when this failure locked the token (the 10th)."""
        before = conn.execute(select(tokens.c.state).where(tokens.c.serial == serial)).scalar_one()
        conn.execute(
            update(tokens)
            .where(tokens.c.serial == serial)
            .values(
                failures=tokens.c.failures + 1,
                state=case(
                    (
                        (tokens.c.failures + 1 >= otp.MAX_FAILURES) & (tokens.c.state == TokenState.ASSIGNED.value),
                        TokenState.LOCKED.value,
                    ),
                    else_=tokens.c.state,
                ),
            )
        )
        after = conn.execute(select(tokens.c.state).where(tokens.c.serial == serial)).scalar_one()
        return bool(after == TokenState.LOCKED.value and before != TokenState.LOCKED.value)

    def resync(self, conn: Connection, serial: str, current: str, following: str) -> TokenInfo:
        """Find two consecutive codes in the wide window and store where the token is.

        Used by step 7 (Synchronize) and by IT staff. Raises SyncFailed saying which code
        was wrong where that can be told.
        """
        row = self._row(conn, serial, lock=True)
        info = info_from_row(row)
        if info.state is TokenState.REVOKED:
            raise TokenUnavailable(
                N_("Token {serial} was reported {reason}."),
                params={"serial": info.serial, "reason": revoked_word(info.revoked_reason)},
            )
        digits = info.params.digits
        c1 = otp.normalize_code(current, digits)
        c2 = otp.normalize_code(following, digits)
        if c1 is None:
            raise SyncFailed(
                N_("The Current Code must be the {digits} digits shown on the token."),
                "current",
                params={"digits": digits},
            )
        if c2 is None:
            raise SyncFailed(
                N_("The Next Code must be the {digits} digits shown on the token."), "next", params={"digits": digits}
            )
        if c1 == c2:
            raise SyncFailed(
                N_("Both codes are the same. Wait for the code on the token to change, then enter the new one."),
                "next",
            )
        seed = self._seed(row)
        t = self.clock.time()
        window = otp.windows(info.params, t=t, drift=info.drift, last_used=info.last_used, counter_base=0)
        index = otp.find_consecutive(info.params, seed, c1, c2, window.resync)
        if index is None:
            i1 = otp.find(info.params, seed, c1, window.resync)
            i2 = otp.find(info.params, seed, c2, window.resync)
            if i1 is None and i2 is None:
                raise SyncFailed(
                    N_("Neither code came from token {serial}. Check the serial number and the codes."),
                    None,
                    params={"serial": info.serial},
                )
            if i1 is None:
                raise SyncFailed(N_("The Current Code does not match this token."), "current")
            if i2 is None:
                raise SyncFailed(N_("The Next Code does not match this token."), "next")
            raise SyncFailed(
                N_("The two codes are not consecutive. Enter a code, wait for the very next one, and enter it."),
                "next",
            )
        newest = index + 1
        if newest <= info.last_used:
            raise SyncFailed(N_("These codes were already used. Press the button for new codes."), None)
        values: dict[str, object] = {"last_used": newest, "failures": 0, "last_used_at": t}
        if info.params.kind == "totp":
            values["drift"] = newest - otp.step_at(info.params, t)
        done = conn.execute(
            update(tokens).where(tokens.c.serial == info.serial, tokens.c.last_used < newest).values(**values)
        )
        if done.rowcount != 1:
            raise SyncFailed(N_("These codes were just used on another kiosk. Press the button for new codes."), None)
        updated = self.get(info.serial, conn)
        assert updated is not None
        return updated
