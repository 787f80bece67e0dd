"""The token inventory's rows: adding and importing tokens, reading them, the step 6 check.

The seeds are sealed here (core.seeds) and opened only for the code checks built on this class.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ARRAY, Connection, Dialect, RowMapping, Select, String, any_, bindparam, case, func, or_, select

from core.clock import Clock
from core.errors import N_, TokenLocked, TokenNotFound, TokenUnavailable
from core.otp import Diagnosis, OtpParams
from core.schema import tokens
from core.seeds import SeedBox
from core.serials import SERIAL_RE, normalize_serial
from core.store import Store
from core.token_model import ImportReport, Method, RevokeReason, TokenInfo, TokenState, info_from_row
from core.token_spec import Rejected, Rejections, TokenSpec

LIST_CHUNK = 1000  # rows fetched at a time by `iter`
IMPORT_BATCH = 500  # serials per lookup and per multi-row insert; under SQLite's 999-variable limit


# The reason as a provider reads it in "Token X was reported lost": marked for the catalogs, so
# a screen translates the word as a refusal's parameter (core.errors.fill).
REVOKED_WORDS = {
    RevokeReason.LOST: N_("lost"),
    RevokeReason.DAMAGED: N_("damaged"),
    RevokeReason.STOLEN: N_("stolen"),
    RevokeReason.REPLACED: N_("replaced"),
}


def revoked_word(reason: str | None) -> str:
    """The marked word for a stored revoke reason; "revoked" for one the kiosk no longer knows."""
    try:
        return REVOKED_WORDS[RevokeReason(reason or "")]
    except ValueError:
        return N_("revoked")


# What `TokenInfo.as_dict()` shows, by key in sorted order; a TOTP period of 0 reads as 30, as
# OtpParams does, and an HOTP token has none.
_DOCUMENT_COLUMNS = (
    tokens.c.algorithm,
    tokens.c.bound_at,
    tokens.c.digits,
    tokens.c.drift,
    tokens.c.failures,
    tokens.c.fips_cert,
    tokens.c.last_used_at,
    tokens.c.method,
    tokens.c.model,
    tokens.c.owner,
    case((tokens.c.kind == "totp", func.coalesce(func.nullif(tokens.c.period, 0), 30))).label("period"),
    tokens.c.revoked_reason,
    tokens.c.serial,
    tokens.c.state,
    tokens.c.kind.label("type"),
    tokens.c.valid_from,
    tokens.c.valid_until,
    tokens.c.vendor,
)


# The columns a new token's row gives, in `TokenRecords._new_row`'s order.
_ROW = (
    "serial",
    "method",
    "kind",
    "algorithm",
    "digits",
    "period",
    "seed_ct",
    "state",
    "owner",
    "drift",
    "last_used",
    "failures",
    "last_used_at",
    "bound_at",
    "revoked_reason",
    "created_at",
    "valid_from",
    "valid_until",
    "vendor",
    "model",
)


@functools.lru_cache(maxsize=8)
def _compiled_insert(dialect: Dialect) -> tuple[str, builtins.list[int] | None]:
    """The insert's SQL for the store's dialect, compiled once per engine, and for a positional
    driver the order of `_ROW`'s values it takes (None for named parameters)."""
    compiled = tokens.insert().compile(dialect=dialect, column_keys=_ROW)
    order = [_ROW.index(name) for name in compiled.positiontup or ()] if compiled.positional else None
    return compiled.string, order


def _insert_rows(conn: Connection, rows: builtins.list[tuple[object, ...]]) -> None:
    """One executemany on the driver: SQLAlchemy's own executemany builds each row's parameters
    through every column's bind processor, which took longer than the database spent storing a
    large import. Every value is already what the driver takes (str, int, float, bytes or None)."""
    sql, order = _compiled_insert(conn.dialect)
    if order is None:
        conn.exec_driver_sql(sql, [dict(zip(_ROW, row, strict=True)) for row in rows])
    elif order == builtins.list(range(len(_ROW))):
        conn.exec_driver_sql(sql, rows)
    else:
        conn.exec_driver_sql(sql, [tuple(row[i] for i in order) for row in rows])


def _present(conn: Connection, serials: set[str]) -> set[str]:
    """Which of `serials` the store already holds. PostgreSQL is given them as one array: as
    one parameter each it can neither hash the list nor, once a large import had outgrown the
    table's statistics, keep from scanning the whole table for every batch (100,000 tokens took
    86 s, 2.3 s so)."""
    if conn.dialect.name == "postgresql":
        wanted = bindparam("serials", sorted(serials), type_=ARRAY(String))
        return set(conn.execute(select(tokens.c.serial).where(tokens.c.serial == any_(wanted))).scalars())
    return set(conn.execute(select(tokens.c.serial).where(tokens.c.serial.in_(serials))).scalars())


class TokenRecords:
    def __init__(self, store: Store, seedbox: SeedBox, clock: Clock) -> None:
        self.store = store
        self.seedbox = seedbox
        self.clock = clock

    def _new_row(
        self,
        spec: TokenSpec,
        serial: str,
        now: float,
        *,
        method: Method = Method.CODE_GENERATOR,
        state: TokenState = TokenState.AVAILABLE,
        owner: str | None = None,
        last_used: int = -1,
    ) -> tuple[object, ...]:
        """The row for `spec`, in `_ROW` order; ValueError when OtpParams refuses its parameters."""
        params = OtpParams(spec.kind, spec.algorithm, spec.digits, spec.period if spec.kind == "totp" else 30)
        totp = params.kind == "totp"
        return (
            serial,
            method.value,
            params.kind,
            params.algorithm,
            params.digits,
            params.period if totp else 0,
            self.seedbox.seal(serial, spec.secret),
            state.value,
            owner,
            0,  # drift
            # HOTP starts at the token's initial counter: codes below it were never shown.
            last_used if spec.kind == "totp" else max(last_used, spec.counter - 1),
            0,  # failures
            None,  # last_used_at
            now if owner else None,  # bound_at
            None,  # revoked_reason
            now,  # created_at
            spec.valid_from,
            spec.valid_until,
            spec.vendor,
            spec.model,
        )

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
        row = self._new_row(
            spec, serial, self.clock.time(), method=method, state=state, owner=owner, last_used=last_used
        )
        conn.execute(tokens.insert().values(dict(zip(_ROW, row, strict=True))))
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
        refused = Rejections()
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
        report.rejected = Rejections(rejected)
        report.rejected.extend(refused)
        return report

    def _import_batch(
        self,
        conn: Connection,
        batch: builtins.list[TokenSpec],
        now: float,
        added: set[str],
        report: ImportReport,
        refused: Rejections,
    ) -> None:
        serials = [normalize_serial(spec.serial) for spec in batch]
        present = _present(conn, set(serials))
        rows: builtins.list[tuple[object, ...]] = []
        for spec, serial in zip(batch, serials, strict=True):
            if serial in present or serial in added:
                report.duplicates.append(serial)
                continue
            try:
                rows.append(self._new_row(spec, serial, now))
            except ValueError:
                # OtpParams refused the parameters; the reason names no value of the file.
                refused.append(
                    Rejected(where=f"serial {serial}", serial=serial, reason="token parameters are not supported")
                )
                continue
            added.add(serial)
            report.added.append(serial)
        if rows:
            _insert_rows(conn, rows)

    def get(self, serial: str, conn: Connection | None = None) -> TokenInfo | None:
        q = select(tokens).where(tokens.c.serial == normalize_serial(serial))
        if conn is not None:
            row = conn.execute(q).mappings().first()
        else:
            with self.store.connect() as c:
                row = c.execute(q).mappings().first()
        return info_from_row(row) if row else None

    def _listing(self, owner: str | None, search: str | None, state: TokenState | None = None) -> Select[Any]:
        # Every column but the sealed seed, which a listing never needs.
        q = select(*(c for c in tokens.c if c.name != "seed_ct"))
        if state is not None:
            q = q.where(tokens.c.state == state.value)
        if owner:
            q = q.where(tokens.c.owner == owner)
        if search and search.strip():
            like = f"%{search.strip()}%"
            q = q.where(or_(tokens.c.serial.ilike(like), tokens.c.owner.ilike(like)))
        return q

    def list(
        self,
        *,
        owner: str | None = None,
        search: str | None = None,
        state: TokenState | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[TokenInfo]:
        """Tokens by serial; `limit`/`offset` give one page (the order is stable: serial is unique)."""
        return builtins.list(self.iter(owner=owner, search=search, state=state, limit=limit, offset=offset))

    def iter(
        self,
        *,
        owner: str | None = None,
        search: str | None = None,
        state: TokenState | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[TokenInfo]:
        """`list` one token at a time, fetched in chunks, so a large inventory is never all in memory."""
        q = self._listing(owner, search, state).order_by(tokens.c.serial).limit(limit).offset(offset or None)
        with self.store.connect() as conn:
            for row in conn.execution_options(yield_per=LIST_CHUNK).execute(q).mappings():
                yield info_from_row(row)

    def documents(
        self, *, owner: str | None = None, search: str | None = None, limit: int | None = None, offset: int = 0
    ) -> Iterator[dict[str, object]]:
        """`iter`, each token as its `TokenInfo.as_dict()` made straight from the row, fetched
        LIST_CHUNK at a time: a listing of a whole inventory spends its time here, so only the shown
        columns are read, the period is settled by the query, and each row becomes a dict with its
        keys already in sorted order (a JSON encoder needs not sort them)."""
        q = self._listing(owner, search).with_only_columns(*_DOCUMENT_COLUMNS)
        q = q.order_by(tokens.c.serial).limit(limit).offset(offset or None)
        names = [str(c.name) for c in _DOCUMENT_COLUMNS]  # plain str: a JSON encoder may refuse a subclass
        with self.store.connect() as conn:
            for rows in conn.execution_options(yield_per=LIST_CHUNK).execute(q).partitions():
                # Each row has exactly the selected columns; checking it per row cost a tenth more.
                yield from [dict(zip(names, row, strict=False)) for row in rows]

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
        return [info_from_row(r) for r in conn.execute(q.order_by(tokens.c.bound_at)).mappings()]

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
            raise TokenNotFound(N_("Enter the serial number of your token."))
        if not SERIAL_RE.match(cleaned):
            raise TokenNotFound(N_("A serial number has only letters and digits (and maybe dashes)."))
        info = self.get(cleaned, conn)
        if info is None or info.method is not Method.CODE_GENERATOR:
            raise TokenNotFound(
                N_("No token with serial number {serial} is in this organization's inventory."),
                params={"serial": cleaned},
            )
        if info.state is TokenState.REVOKED:
            raise TokenUnavailable(
                N_("Token {serial} was reported {reason} and cannot be used."),
                params={"serial": cleaned, "reason": revoked_word(info.revoked_reason)},
            )
        if info.state is TokenState.LOCKED:
            raise TokenLocked(N_("Token {serial} is locked."), params={"serial": cleaned})
        if info.owner is not None:
            raise TokenUnavailable(
                N_("Token {serial} is already assigned to another account."), params={"serial": cleaned}
            )
        if self.outside_validity(info) is Diagnosis.PAST_VALIDITY:
            raise TokenUnavailable(
                N_("Token {serial} is past the validity its vendor gave it and cannot be used."),
                params={"serial": cleaned},
            )
        return info

    def _seed(self, row: RowMapping) -> bytes:
        return self.seedbox.open(row["serial"], row["seed_ct"])

    def _row(self, conn: Connection, serial: str, *, lock: bool = False) -> RowMapping:
        """The token's row; with lock, locked until the transaction ends (PostgreSQL FOR UPDATE;
        on SQLite the store's BEGIN IMMEDIATE already holds the write lock), so the state and
        failure count read here are still true when the verdict is written."""
        q = select(tokens).where(tokens.c.serial == normalize_serial(serial))
        row = conn.execute(q.with_for_update() if lock else q).mappings().first()
        if row is None:
            raise TokenNotFound(f"No token with serial number {normalize_serial(serial)}.")
        return row
