"""The kiosk's store: SQLAlchemy Core tables on SQLite (WAL) or PostgreSQL.

One store may be shared by a fleet of kiosks (PostgreSQL URL), so every rule that must hold
across kiosks (a code used once, the failure counter, the audit chain) is written as a single
conditional UPDATE or inside one transaction, never as read-then-write in Python.
"""

from __future__ import annotations

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
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.errors import StoreError

SCHEMA_VERSION = 2

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
    Column("username", String(64), primary_key=True),
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
    # The validity the vendor gave the key (PSKC <Policy> StartDate/ExpiryDate), Unix seconds;
    # None when the seed file gave none. Schema 2 (`_add_token_validity`).
    Column("valid_from", Float, nullable=True),
    Column("valid_until", Float, nullable=True),
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
    Column("actor", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("method", String(16), nullable=False, default=""),
    Column("serial", String(64), nullable=False, default=""),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("kiosk_id", String(64), nullable=False),
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

# Enrollment-image ids already accepted: a `jti` is single use until its `exp`.
cronto_jti = Table(
    "cronto_jti",
    metadata,
    Column("jti", String(128), primary_key=True),
    Column("exp", Float, nullable=False),
    Column("username", String(64), nullable=False),
)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'kiosk.sqlite3'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level so SQLAlchemy's BEGIN below is the only transaction
    # start; BEGIN IMMEDIATE takes the write lock up front, which is what makes the
    # compare-and-swap updates safe between threads and processes on one SQLite file.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the lock at BEGIN (no deadlocking lock upgrades between kiosks); readers
    # use a deferred transaction, which in WAL mode never waits for a writer.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """Owns the engine; hands out transactions."""

    def __init__(self, url: str, *, password: str | None = None) -> None:
        self.url = url
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

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _make_engine(self, url: str, password: str | None) -> Engine:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        if password is not None and u.password is None:
            u = u.set(password=password)
        if u.get_backend_name() == "sqlite":
            engine = create_engine(u, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        return create_engine(u, pool_pre_ping=True)

    def _migrate(self) -> None:
        import time

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
                if newest < 2:
                    _add_token_validity(conn)
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION, applied_at=time.time()))
            # The audit head row exists from the start, so appenders on several kiosks always
            # have a row to lock (a lock on a missing row locks nothing).
            if conn.execute(select(audit_head.c.id).where(audit_head.c.id == 1)).first() is None:
                conn.execute(audit_head.insert().values(id=1, seq=0, mac="0" * 64))

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _add_token_validity(conn: Connection) -> None:
    """Schema 2: tokens.valid_from and tokens.valid_until. A store made by this kiosk has them
    from create_all; a schema-1 store gets them added, empty (no validity known)."""
    from sqlalchemy import inspect

    present = {c["name"] for c in inspect(conn).get_columns("tokens")}
    for name in ("valid_from", "valid_until"):
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE tokens ADD COLUMN {name} DOUBLE PRECISION")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
