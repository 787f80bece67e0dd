"""The token inventory and the rules for accepting a code.

Every rule that must hold across kiosks sharing one store is a single conditional UPDATE:
  - a code is accepted only if its step/counter is above `last_used` (compare-and-swap), so the
    same code submitted twice, on one kiosk or two, succeeds once (docs/security.md rule 11);
  - the failure counter is incremented in SQL and the token locks at 10 (rule 12).
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Select, case, func, or_, select, update

from core import otp
from core.clock import Clock
from core.errors import SyncFailed, TokenLocked, TokenNotFound, TokenUnavailable
from core.otp import Diagnosis, OtpParams
from core.schema import tokens
from core.seeds import SeedBox
from core.serials import SERIAL_RE, normalize_serial
from core.store import Store
from core.token_spec import Rejected, TokenSpec

APP_SECRET_BYTES = 20  # 160 bits, the floor for new app secrets (docs/security.md rule 13)
LIST_CHUNK = 1000  # rows fetched at a time by `iter`
IMPORT_BATCH = 500  # serials per lookup and per multi-row insert; under SQLite's 999-variable limit


class TokenState(StrEnum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    LOCKED = "locked"
    REVOKED = "revoked"


class Method(StrEnum):
    AUTHENTICATOR = "authenticator"  # the iPrescribe Authenticator app
    CODE_GENERATOR = "code_generator"  # a hardware token


class RevokeReason(StrEnum):
    LOST = "lost"
    DAMAGED = "damaged"
    STOLEN = "stolen"
    REPLACED = "replaced"


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never its seed."""

    serial: str
    method: Method
    params: OtpParams
    state: TokenState
    owner: str | None
    drift: int
    last_used: int
    failures: int
    last_used_at: float | None
    bound_at: float | None
    revoked_reason: str | None
    vendor: str | None = None
    model: str | None = None
    fips_cert: str | None = None  # FIPS 140 validation certificate (1311.115(b))
    valid_from: float | None = None  # the vendor's validity (Unix seconds), when the seed file gave it
    valid_until: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "serial": self.serial,
            "method": self.method.value,
            "type": self.params.kind,
            "algorithm": self.params.algorithm,
            "digits": self.params.digits,
            "period": self.params.period if self.params.kind == "totp" else None,
            "state": self.state.value,
            "owner": self.owner,
            "drift": self.drift,
            "failures": self.failures,
            "last_used_at": self.last_used_at,
            "bound_at": self.bound_at,
            "revoked_reason": self.revoked_reason,
            "vendor": self.vendor,
            "model": self.model,
            "fips_cert": self.fips_cert,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


@dataclass(frozen=True)
class CodeCheck:
    accepted: bool
    serial: str
    diagnosis: Diagnosis | None = None
    locked_now: bool = False  # this failure was the one that locked the token


@dataclass(frozen=True)
class CodeMatch:
    """A code matched against a token outside any transaction (TokenInventory.precheck)."""

    serial: str
    code: str
    moment: tuple[int, int, int]  # (last_used, drift, step): the state the result holds for
    index: int | None
    diagnosis: Diagnosis | None


def _moment(info: TokenInfo, t: float) -> tuple[int, int, int]:
    step = otp.step_at(info.params, t) if info.params.kind == "totp" else 0
    return (info.last_used, info.drift, step)


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "rejected": [{"where": r.where, "serial": r.serial, "reason": r.reason} for r in self.rejected],
        }


def _info(row: object) -> TokenInfo:
    r = row
    return TokenInfo(
        serial=r.serial,  # type: ignore[attr-defined]
        method=Method(r.method),  # type: ignore[attr-defined]
        params=OtpParams(r.kind, r.algorithm, r.digits, r.period or 30),  # type: ignore[attr-defined]
        state=TokenState(r.state),  # type: ignore[attr-defined]
        owner=r.owner,  # type: ignore[attr-defined]
        drift=r.drift,  # type: ignore[attr-defined]
        last_used=r.last_used,  # type: ignore[attr-defined]
        failures=r.failures,  # type: ignore[attr-defined]
        last_used_at=r.last_used_at,  # type: ignore[attr-defined]
        bound_at=r.bound_at,  # type: ignore[attr-defined]
        revoked_reason=r.revoked_reason,  # type: ignore[attr-defined]
        vendor=r.vendor,  # type: ignore[attr-defined]
        model=r.model,  # type: ignore[attr-defined]
        fips_cert=r.fips_cert,  # type: ignore[attr-defined]
        valid_from=r.valid_from,  # type: ignore[attr-defined]
        valid_until=r.valid_until,  # type: ignore[attr-defined]
    )


class TokenInventory:
    def __init__(self, store: Store, seedbox: SeedBox, clock: Clock) -> None:
        self.store = store
        self.seedbox = seedbox
        self.clock = clock

    # -- inventory -------------------------------------------------------------------------

    def _values(
        self,
        spec: TokenSpec,
        serial: str,
        now: float,
        *,
        method: Method = Method.CODE_GENERATOR,
        state: TokenState = TokenState.AVAILABLE,
        owner: str | None = None,
        last_used: int = -1,
    ) -> dict[str, object]:
        """The row for `spec`; ValueError when OtpParams refuses its parameters."""
        params = OtpParams(spec.kind, spec.algorithm, spec.digits, spec.period if spec.kind == "totp" else 30)
        return {
            "serial": serial,
            "method": method.value,
            "kind": params.kind,
            "algorithm": params.algorithm,
            "digits": params.digits,
            "period": params.period if params.kind == "totp" else 0,
            "seed_ct": self.seedbox.seal(serial, spec.secret),
            "state": state.value,
            "owner": owner,
            "drift": 0,
            # HOTP starts at the token's initial counter: codes below it were never shown.
            "last_used": last_used if spec.kind == "totp" else max(last_used, spec.counter - 1),
            "failures": 0,
            "last_used_at": None,
            "bound_at": now if owner else None,
            "revoked_reason": None,
            "created_at": now,
            "valid_from": spec.valid_from,
            "valid_until": spec.valid_until,
            "vendor": spec.vendor,
            "model": spec.model,
        }

    def add(
        self,
        conn: Connection,
        spec: TokenSpec,
        *,
        method: Method = Method.CODE_GENERATOR,
        state: TokenState = TokenState.AVAILABLE,
        owner: str | None = None,
        last_used: int = -1,
    ) -> str:
        serial = normalize_serial(spec.serial)
        values = self._values(
            spec, serial, self.clock.time(), method=method, state=state, owner=owner, last_used=last_used
        )
        conn.execute(tokens.insert().values(**values))
        return serial

    def import_specs(
        self, specs: Iterable[TokenSpec], rejected: Iterable[Rejected] = (), *, conn: Connection | None = None
    ) -> ImportReport:
        """Add every new token in one transaction: the caller's `conn` (core.admin writes the
        audit row in it) or one of its own. Serials already present are reported as duplicates
        and left untouched. `specs` is consumed once, in batches (one lookup and one multi-row
        insert each), and `rejected` is read after it: a `SeedStream` fills it as it is read."""
        if conn is None:
            with self.store.begin() as own:
                return self.import_specs(specs, rejected, conn=own)
        report = ImportReport()
        refused: builtins.list[Rejected] = []
        added: set[str] = set()
        now = self.clock.time()
        batch: builtins.list[TokenSpec] = []
        for spec in specs:
            batch.append(spec)
            if len(batch) == IMPORT_BATCH:
                self._import_batch(conn, batch, now, added, report, refused)
                batch = []
        if batch:
            self._import_batch(conn, batch, now, added, report, refused)
        report.rejected = [*rejected, *refused]
        return report

    def _import_batch(
        self,
        conn: Connection,
        batch: builtins.list[TokenSpec],
        now: float,
        added: set[str],
        report: ImportReport,
        refused: builtins.list[Rejected],
    ) -> None:
        serials = [normalize_serial(spec.serial) for spec in batch]
        present = set(conn.execute(select(tokens.c.serial).where(tokens.c.serial.in_(set(serials)))).scalars())
        rows = []
        for spec, serial in zip(batch, serials, strict=True):
            if serial in present or serial in added:
                report.duplicates.append(serial)
                continue
            try:
                rows.append(self._values(spec, serial, now))
            except ValueError:
                # OtpParams refused the parameters; the reason names no value of the file.
                refused.append(
                    Rejected(where=f"serial {serial}", serial=serial, reason="token parameters are not supported")
                )
                continue
            added.add(serial)
            report.added.append(serial)
        if rows:
            conn.execute(tokens.insert(), rows)

    def get(self, serial: str, conn: Connection | None = None) -> TokenInfo | None:
        q = select(tokens).where(tokens.c.serial == normalize_serial(serial))
        if conn is not None:
            row = conn.execute(q).first()
        else:
            with self.store.connect() as c:
                row = c.execute(q).first()
        return _info(row) if row else None

    def _listing(self, owner: str | None, search: str | None) -> Select[Any]:
        # Every column but the sealed seed, which a listing never needs.
        q = select(*(c for c in tokens.c if c.name != "seed_ct"))
        if owner:
            q = q.where(tokens.c.owner == owner)
        if search and search.strip():
            like = f"%{search.strip()}%"
            q = q.where(or_(tokens.c.serial.ilike(like), tokens.c.owner.ilike(like)))
        return q

    def list(
        self, *, owner: str | None = None, search: str | None = None, limit: int | None = None, offset: int = 0
    ) -> builtins.list[TokenInfo]:
        """Tokens by serial; `limit`/`offset` give one page (the order is stable: serial is unique)."""
        return builtins.list(self.iter(owner=owner, search=search, limit=limit, offset=offset))

    def iter(
        self, *, owner: str | None = None, search: str | None = None, limit: int | None = None, offset: int = 0
    ) -> Iterator[TokenInfo]:
        """`list` one token at a time, fetched in chunks, so a large inventory is never all in memory."""
        q = self._listing(owner, search).order_by(tokens.c.serial).limit(limit).offset(offset or None)
        with self.store.connect() as conn:
            for row in conn.execution_options(yield_per=LIST_CHUNK).execute(q):
                yield _info(row)

    def documents(
        self, *, owner: str | None = None, search: str | None = None, limit: int | None = None, offset: int = 0
    ) -> Iterator[dict[str, object]]:
        """`iter`, each token as its `TokenInfo.as_dict()` made straight from the row: a listing
        of a whole inventory spends its time here, not on objects it would throw away."""
        q = self._listing(owner, search).order_by(tokens.c.serial).limit(limit).offset(offset or None)
        with self.store.connect() as conn:
            for r in conn.execution_options(yield_per=LIST_CHUNK).execute(q):
                yield {
                    "serial": r.serial,
                    "method": r.method,
                    "type": r.kind,
                    "algorithm": r.algorithm,
                    "digits": r.digits,
                    "period": (r.period or 30) if r.kind == "totp" else None,
                    "state": r.state,
                    "owner": r.owner,
                    "drift": r.drift,
                    "failures": r.failures,
                    "last_used_at": r.last_used_at,
                    "bound_at": r.bound_at,
                    "revoked_reason": r.revoked_reason,
                    "vendor": r.vendor,
                    "model": r.model,
                    "fips_cert": r.fips_cert,
                    "valid_from": r.valid_from,
                    "valid_until": r.valid_until,
                }

    def count(self, *, owner: str | None = None, search: str | None = None) -> int:
        listing = self._listing(owner, search).subquery()
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(listing)).scalar_one())

    def factors(self, conn: Connection, username: str) -> builtins.list[TokenInfo]:
        """The user's bound factors (a locked one still counts: it must be unlocked, not skipped)."""
        q = select(tokens).where(
            tokens.c.owner == username,
            tokens.c.state.in_([TokenState.ASSIGNED.value, TokenState.LOCKED.value]),
        )
        return [_info(r) for r in conn.execute(q.order_by(tokens.c.bound_at))]

    def ever_owned(self, conn: Connection, username: str) -> bool:
        """True once any token (even a revoked one) was bound to the user."""
        return conn.execute(select(tokens.c.serial).where(tokens.c.owner == username).limit(1)).first() is not None

    def outside_validity(self, info: TokenInfo) -> Diagnosis | None:
        """PAST_VALIDITY after the vendor's ExpiryDate, BEFORE_VALIDITY before its StartDate."""
        t = self.clock.time()
        if info.valid_until is not None and t >= info.valid_until:
            return Diagnosis.PAST_VALIDITY
        if info.valid_from is not None and t < info.valid_from:
            return Diagnosis.BEFORE_VALIDITY
        return None

    def check_available(self, conn: Connection, serial: str) -> TokenInfo:
        """Step 6: the serial must name an active, unassigned Code Generator."""
        cleaned = normalize_serial(serial)
        if not cleaned:
            raise TokenNotFound("Enter the serial number of your token.")
        if not SERIAL_RE.match(cleaned):
            raise TokenNotFound("A serial number has only letters and digits (and maybe dashes).")
        info = self.get(cleaned, conn)
        if info is None or info.method is not Method.CODE_GENERATOR:
            raise TokenNotFound(f"No token with serial number {cleaned} is in this organization's inventory.")
        if info.state is TokenState.REVOKED:
            raise TokenUnavailable(
                f"Token {cleaned} was reported {info.revoked_reason or 'revoked'} and cannot be used."
            )
        if info.state is TokenState.LOCKED:
            raise TokenLocked(f"Token {cleaned} is locked.")
        if info.owner is not None:
            raise TokenUnavailable(f"Token {cleaned} is already assigned to another account.")
        if self.outside_validity(info) is Diagnosis.PAST_VALIDITY:
            raise TokenUnavailable(f"Token {cleaned} is past the validity its vendor gave it and cannot be used.")
        return info

    def _seed(self, row: object) -> bytes:
        return self.seedbox.open(row.serial, row.seed_ct)  # type: ignore[attr-defined]

    def _row(self, conn: Connection, serial: str, *, lock: bool = False) -> object:
        """The token's row; with lock, locked until the transaction ends (PostgreSQL FOR UPDATE;
        on SQLite the store's BEGIN IMMEDIATE already holds the write lock), so the state and
        failure count read here are still true when the verdict is written."""
        q = select(tokens).where(tokens.c.serial == normalize_serial(serial))
        row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None:
            raise TokenNotFound(f"No token with serial number {normalize_serial(serial)}.")
        return row

    # -- codes -----------------------------------------------------------------------------

    def precheck(self, serial: str, code: str) -> CodeMatch | None:
        """Match `code` against the token as it is now, outside any transaction: the wide
        windows that tell "expired" and "out of sync" from "wrong" hold thousands of codes, too
        slow to search while holding the store's write lock. `verify_code` reuses the result
        when the token's state has not moved meanwhile."""
        with self.store.connect() as conn:
            row = conn.execute(select(tokens).where(tokens.c.serial == normalize_serial(serial))).first()
        if row is None:
            return None
        info = _info(row)
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
        info = _info(row)
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
        info = _info(row)
        if info.state is TokenState.REVOKED:
            raise TokenUnavailable(f"Token {info.serial} was reported {info.revoked_reason or 'revoked'}.")
        digits = info.params.digits
        c1 = otp.normalize_code(current, digits)
        c2 = otp.normalize_code(following, digits)
        if c1 is None:
            raise SyncFailed(f"The Current Code must be the {digits} digits shown on the token.", "current")
        if c2 is None:
            raise SyncFailed(f"The Next Code must be the {digits} digits shown on the token.", "next")
        if c1 == c2:
            raise SyncFailed(
                "Both codes are the same. Wait for the code on the token to change, then enter the new one.",
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
                    f"Neither code came from token {info.serial}. Check the serial number and the codes.", None
                )
            if i1 is None:
                raise SyncFailed("The Current Code does not match this token.", "current")
            if i2 is None:
                raise SyncFailed("The Next Code does not match this token.", "next")
            raise SyncFailed(
                "The two codes are not consecutive. Enter a code, wait for the very next one, and enter it.",
                "next",
            )
        newest = index + 1
        if newest <= info.last_used:
            raise SyncFailed("These codes were already used. Press the button for new codes.", None)
        values: dict[str, object] = {"last_used": newest, "failures": 0, "last_used_at": t}
        if info.params.kind == "totp":
            values["drift"] = newest - otp.step_at(info.params, t)
        done = conn.execute(
            update(tokens).where(tokens.c.serial == info.serial, tokens.c.last_used < newest).values(**values)
        )
        if done.rowcount != 1:
            raise SyncFailed("These codes were just used on another kiosk. Press the button for new codes.", None)
        updated = self.get(info.serial, conn)
        assert updated is not None
        return updated

    # -- binding and lifecycle -------------------------------------------------------------

    def assign(self, conn: Connection, serial: str, username: str) -> None:
        done = conn.execute(
            update(tokens)
            .where(
                tokens.c.serial == normalize_serial(serial),
                tokens.c.state == TokenState.AVAILABLE.value,
                tokens.c.owner.is_(None),
            )
            .values(state=TokenState.ASSIGNED.value, owner=username, bound_at=self.clock.time())
        )
        if done.rowcount != 1:
            raise TokenUnavailable(f"Token {normalize_serial(serial)} is no longer available.")

    def bind_app(self, conn: Connection, username: str, secret: bytes, used_step: int) -> str:
        """Store a confirmed iPrescribe Authenticator secret as the user's factor."""
        serial = f"APP-{secrets.token_hex(4).upper()}"
        spec = TokenSpec(serial=serial, kind="totp", secret=secret)
        return self.add(
            conn, spec, method=Method.AUTHENTICATOR, state=TokenState.ASSIGNED, owner=username, last_used=used_step
        )

    def unlock(self, conn: Connection, serial: str) -> TokenInfo:
        info = _info(self._row(conn, serial))
        if info.state is TokenState.REVOKED:
            raise TokenUnavailable(f"Token {info.serial} was revoked; assign a replacement instead.")
        new_state = TokenState.ASSIGNED if info.owner else TokenState.AVAILABLE
        conn.execute(update(tokens).where(tokens.c.serial == info.serial).values(state=new_state.value, failures=0))
        updated = self.get(info.serial, conn)
        assert updated is not None
        return updated

    def revoke(self, conn: Connection, serial: str, reason: RevokeReason) -> TokenInfo:
        info = _info(self._row(conn, serial))
        conn.execute(
            update(tokens)
            .where(tokens.c.serial == info.serial)
            .values(state=TokenState.REVOKED.value, revoked_reason=reason.value)
        )
        updated = self.get(info.serial, conn)
        assert updated is not None
        return updated

    def code_now(self, serial: str, *, offset_steps: int = 0, press: int | None = None) -> tuple[str, float]:
        """The code a token shows now, and seconds until it changes (TOTP) or 0 (HOTP).

        For the demo token simulator and the IT staff's "what should it show" check only;
        never called on a provider's path.
        """
        with self.store.connect() as conn:
            row = self._row(conn, serial)
        info = _info(row)
        seed = self._seed(row)
        if info.params.kind == "totp":
            t = self.clock.time()
            step = otp.step_at(info.params, t) + offset_steps
            remaining = info.params.period - (t % info.params.period)
            return otp.code_at(info.params, seed, step), remaining
        counter = press if press is not None else info.last_used + 1
        return otp.code_at(info.params, seed, counter), 0.0


def new_app_secret() -> bytes:
    return secrets.token_bytes(APP_SECRET_BYTES)
