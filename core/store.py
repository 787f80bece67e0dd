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
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from core.errors import StoreBusy, StoreError

# 2: signin_throttle (password failures per account and per kiosk); the accounts' EPCS columns
# (email, DEA number, registrant) and the EPCS, proofing, outbox and daily-report tables.
SCHEMA_VERSION = 2

# The one length limit for names stored in the kiosk's tables: usernames, kiosk ids, the actor
# and subject of an audit row. Checked up front (PostgreSQL refuses longer values outright).
NAME_MAX = 64

# How long a transaction waits for another kiosk's lock before the store is reported busy
# (StoreBusy). Transactions are short (no slow hash inside one), so only a store under heavy
# load, or a stuck writer, waits this long.
BUSY_TIMEOUT_SECONDS = 30.0

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Float, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("username", String(NAME_MAX), primary_key=True),
    Column("display_name", String(200), nullable=False),  # "Last, First"
    Column("npi", String(10), nullable=True),
    Column("role", String(16), nullable=False),  # provider | it_staff
    Column("password_hash", Text, nullable=False),
    Column("failed_signins", Integer, nullable=False, default=0),
    Column("locked", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("last_factor_change", Float, nullable=True),
)

# A token is a hardware Code Generator from the inventory, or the secret of a bound
# iPrescribe Authenticator app (method "authenticator", serial "APP-..."). Both verify the same
# way, so drift, replay and lock-out rules live in one place.
tokens = Table(
    "tokens",
    metadata,
    Column("serial", String(64), primary_key=True),
    Column("method", String(16), nullable=False),  # code_generator | authenticator
    Column("kind", String(4), nullable=False),  # totp | hotp
    Column("algorithm", String(8), nullable=False),  # SHA1 | SHA256 | SHA512
    Column("digits", Integer, nullable=False),
    Column("period", Integer, nullable=False),  # TOTP step seconds; 0 for HOTP
    Column("seed_ct", LargeBinary, nullable=False),  # AES-GCM nonce || ciphertext
    Column("state", String(12), nullable=False),  # available|assigned|locked|revoked
    Column("owner", String(64), ForeignKey("accounts.username"), nullable=True),
    Column("drift", Integer, nullable=False, default=0),  # TOTP steps the token runs ahead
    # Highest TOTP step / HOTP counter ever accepted; a code is accepted only above it.
    Column("last_used", BigInteger, nullable=False, default=-1),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_used_at", Float, nullable=True),
    Column("bound_at", Float, nullable=True),
    Column("revoked_reason", String(16), nullable=True),
    Column("created_at", Float, nullable=False),
)
Index("ix_tokens_owner", tokens.c.owner)

backup_codes = Table(
    "backup_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), ForeignKey("accounts.username"), nullable=False),
    Column("set_id", String(32), nullable=False),
    Column("code_hash", Text, nullable=False),
    Column("used_at", Float, nullable=True),
    Column("invalidated", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)
Index("ix_backup_codes_user", backup_codes.c.username)

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),  # ISO 8601 UTC
    Column("event", String(40), nullable=False),
    Column("actor", String(NAME_MAX), nullable=False),
    Column("subject", String(NAME_MAX), nullable=False),
    Column("method", String(16), nullable=False, default=""),
    Column("serial", String(64), nullable=False, default=""),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("kiosk_id", String(NAME_MAX), nullable=False),
    Column("mac", String(64), nullable=False),
)

# One row: the newest audit entry. Appenders lock it so the chain stays linear across kiosks.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("mac", String(64), nullable=False),
)

# Password failures per account and per kiosk, for the growing delay between guesses (NIST SP
# 800-63B 5.2.2). In the store, so kiosks sharing one see the same counts. `name` is a username
# (known or not: an unknown one is throttled alike, so the answer does not tell) or a kiosk id.
signin_throttle = Table(
    "signin_throttle",
    metadata,
    Column("scope", String(8), primary_key=True),  # account | kiosk
    Column("name", String(NAME_MAX), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure_at", Float, nullable=True),
)

# Enrollment-image ids already accepted: a `jti` is single use until its `exp`.
cronto_jti = Table(
    "cronto_jti",
    metadata,
    Column("jti", String(128), primary_key=True),
    Column("exp", Float, nullable=False),
    Column("username", String(64), nullable=False),
)


# -- EPCS controls (issue 12), schema 2 -------------------------------------------------------
# Kept as their own block so the v1 -> v2 migration below names exactly what it adds.
ACCOUNT_COLUMNS_V2 = (
    Column("email", String(254), nullable=True),  # where binding notifications go
    Column("dea_number", String(9), nullable=True),
    Column("dea_registrant", Integer, nullable=False, default=0, server_default="0"),
)
TOKEN_COLUMNS_V2 = (
    Column("vendor", String(100), nullable=True),
    Column("model", String(100), nullable=True),
    Column("fips_cert", String(64), nullable=True),  # FIPS 140 validation certificate number
)
for _column in ACCOUNT_COLUMNS_V2:
    accounts.append_column(_column)
for _column in TOKEN_COLUMNS_V2:
    tokens.append_column(_column)

# One row per provider once IT first enters a grant; `state` moves only by conditional UPDATE.
epcs_permissions = Table(
    "epcs_permissions",
    metadata,
    Column("username", String(64), ForeignKey("accounts.username"), primary_key=True),
    Column("state", String(12), nullable=False),  # pending | granted | suspended | revoked
    Column("entered_by", String(64), nullable=True),
    Column("entered_at", Float, nullable=True),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", Float, nullable=True),
    Column("changed_at", Float, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)

# The ID document seen before binding (1311.105, 1311.110(a)): never the whole document number.
identity_proofing = Table(
    "identity_proofing",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), ForeignKey("accounts.username"), nullable=False),
    Column("document_type", String(32), nullable=True),
    Column("last4", String(4), nullable=True),
    Column("csp_reference", String(128), nullable=True),  # credential service provider's transaction
    Column("checked_by", String(64), nullable=False),
    Column("checked_at", Float, nullable=False),
)
Index("ix_identity_proofing_user", identity_proofing.c.username)

# Notifications written in the same transaction as the change they announce; a sender delivers
# them later, so mail being down never fails a binding and a restart loses nothing.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Float, nullable=False),
    Column("username", String(64), nullable=False),
    Column("to_addr", String(254), nullable=True),
    Column("event", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_until", Float, nullable=True),
    Column("sent_at", Float, nullable=True),
)
Index("ix_outbox_pending", outbox.c.sent_at, outbox.c.next_attempt_at)

# Daily audit analyses (1311.150(b)-(c)) and who signed each off.
audit_reports = Table(
    "audit_reports",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD (UTC)
    Column("created_at", Float, nullable=False),
    Column("html_path", Text, nullable=False),
    Column("csv_path", Text, nullable=False),
    Column("incidents", Integer, nullable=False),
    Column("signed_off_by", String(64), nullable=True),
    Column("signed_off_at", Float, nullable=True),
)


def _v1_to_v2(conn: Connection) -> None:
    """Schema 2 adds columns to existing tables (new tables come from create_all)."""
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateColumn

    for table, columns in ((accounts, ACCOUNT_COLUMNS_V2), (tokens, TOKEN_COLUMNS_V2)):
        present = {c["name"] for c in inspect(conn).get_columns(table.name)}
        for column in columns:
            if column.name not in present:
                ddl = CreateColumn(column).compile(dialect=conn.dialect)
                conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")


MIGRATIONS = {2: _v1_to_v2}


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
            raise StoreError(f"Cannot open the kiosk store ({_safe_url(url)}): {exc.__class__.__name__}.") from None

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


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
