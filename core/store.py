"""The kiosk's store: SQLAlchemy Core tables on SQLite (WAL) or PostgreSQL.

One store may be shared by a fleet of kiosks (PostgreSQL URL), so every rule that must hold
across kiosks (a code used once, the failure counter, the audit chain) is written as a single
conditional UPDATE or inside one transaction, never as read-then-write in Python.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from core.errors import StoreBusy, StoreError
from core.schema import MIGRATIONS, audit_head

# The tables are defined in core.schema; these stay importable from here for kiosk/ and tests.
from core.schema import SCHEMA_VERSION as SCHEMA_VERSION
from core.schema import accounts as accounts
from core.schema import audit as audit
from core.schema import metadata as metadata
from core.schema import schema_version as schema_version
from core.schema import tokens as tokens

# How long a transaction waits for another kiosk's lock before the store is reported busy
# (StoreBusy). Transactions are short (no slow hash inside one), so only a store under heavy
# load, or a stuck writer, waits this long.
BUSY_TIMEOUT_SECONDS = 30.0


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'kiosk.sqlite3'}"


def _sqlite_pragmas(busy_ms: int, dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level so SQLAlchemy's BEGIN below is the only transaction
    # start; BEGIN IMMEDIATE takes the write lock up front, which is what makes the
    # compare-and-swap updates safe between threads and processes on one SQLite file.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the lock at BEGIN (no deadlocking lock upgrades between kiosks); readers
    # use a deferred transaction, which in WAL mode never waits for a writer.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """Owns the engine; hands out transactions."""

    def __init__(self, url: str, *, password: str | None = None, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        try:
            self.engine: Engine = self._make_engine(url, password)
            try:
                self._migrate()
            except IntegrityError:
                self._migrate()  # another kiosk created the same rows first: now they exist
        except SQLAlchemyError as exc:
            reason = _driver_reason(exc, url, password)
            raise StoreError(f"Cannot open the kiosk store ({_safe_url(url)}): {reason}") from None

    @classmethod
    def at(cls, data_dir: Path) -> Store:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(data_dir))

    def _make_engine(self, url: str, password: str | None) -> Engine:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        if password is not None and u.password is None:
            u = u.set(password=password)
        if u.get_backend_name() == "sqlite":
            engine = create_engine(u, connect_args={"check_same_thread": False, "timeout": self.busy_timeout})
            event.listen(engine, "connect", functools.partial(_sqlite_pragmas, int(self.busy_timeout * 1000)))
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        # A lock held by another kiosk past the timeout ends the wait with LockNotAvailable,
        # reported as StoreBusy, instead of a sign-in hanging.
        lock_ms = int(self.busy_timeout * 1000)
        return create_engine(u, pool_pre_ping=True, connect_args={"options": f"-c lock_timeout={lock_ms}"})

    def _is_current(self) -> bool:
        """The schema is this kiosk's already: checked in a read, so a fleet of kiosks starting
        at once does not queue for the write lock just to find nothing to do."""
        try:
            with self.connect() as conn:
                newest = conn.execute(select(func.max(schema_version.c.version))).scalar()
                head = conn.execute(select(audit_head.c.id).where(audit_head.c.id == 1)).first()
        except SQLAlchemyError:  # a new store: no tables yet
            return False
        return newest == SCHEMA_VERSION and head is not None

    def _migrate(self) -> None:
        import time

        if self._is_current():
            return
        with self.begin() as conn:
            metadata.create_all(conn)
            found = conn.execute(select(schema_version.c.version)).scalars().all()
            newest = max(found, default=0)
            if newest > SCHEMA_VERSION:
                raise StoreError(
                    f"The store was written by a newer kiosk (schema {newest}, this kiosk knows {SCHEMA_VERSION}).",
                    hint="Upgrade this kiosk before using the shared store.",
                )
            if newest < SCHEMA_VERSION:
                # Migrations to later versions go here, one function per version, each run
                # in this same transaction so a failed upgrade leaves the old schema intact.
                # New tables were made by create_all above; new columns of old tables here.
                for version in range(max(newest, 1) + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[version](conn)
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION, applied_at=time.time()))
            # The audit head row exists from the start, so appenders on several kiosks always
            # have a row to lock (a lock on a missing row locks nothing).
            if conn.execute(select(audit_head.c.id).where(audit_head.c.id == 1)).first() is None:
                conn.execute(audit_head.insert().values(id=1, seq=0, mac="0" * 64))

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all.

        Raises StoreBusy when another kiosk holds the lock past the busy timeout."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            if _is_busy(exc):
                raise StoreBusy() from None
            raise

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            if _is_busy(exc):
                raise StoreBusy() from None
            raise

    @property
    def database_file(self) -> Path | None:
        """The SQLite file (None on PostgreSQL): outputs must never be written over it."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None

    def dispose(self) -> None:
        self.engine.dispose()


# PostgreSQL: lock_not_available (lock_timeout), serialization_failure, deadlock_detected,
# query_canceled (statement_timeout). All mean "another kiosk got there first; try again".
_BUSY_SQLSTATES = frozenset({"55P03", "40001", "40P01", "57014"})


def _is_busy(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _BUSY_SQLSTATES:
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def _driver_reason(exc: SQLAlchemyError, url: str, password: str | None) -> str:
    """What the driver said (connection refused, invalid port, file is not a database), on one
    line: the class name alone (OperationalError) told IT staff nothing. The password, from the
    URL or the keyring, is masked wherever the driver repeats it."""
    from sqlalchemy.engine import make_url

    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    for secret in {password, make_url(url).password} - {None, ""}:
        text = text.replace(str(secret), "***")
    text = text[:300] or exc.__class__.__name__
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
