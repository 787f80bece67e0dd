"""The kiosk's tables (SQLAlchemy Core) and the migrations between schema versions.

Apart from core.store so that the Store (engine, transactions, busy handling) reads on its own;
the domain modules import the tables they write from here.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

# 2: signin_throttle (password failures per account and per kiosk); the accounts' EPCS columns
# (email, DEA number, registrant) and the EPCS, proofing, outbox and daily-report tables.
SCHEMA_VERSION = 2

# The one length limit for names stored in the kiosk's tables: usernames, kiosk ids, the actor
# and subject of an audit row. Checked up front (PostgreSQL refuses longer values outright).
NAME_MAX = 64

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
    # The vendor's validity (PSKC <Policy> StartDate/ExpiryDate), Unix seconds; none when not given.
    Column("valid_from", Float, nullable=True),
    Column("valid_until", Float, nullable=True),
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
