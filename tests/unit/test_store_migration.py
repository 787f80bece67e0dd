"""A store written by schema 1 opens under schema 2 with its rows intact and the new columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.accounts import Accounts
from core.clock import ManualClock
from core.schema import SCHEMA_VERSION
from core.store import Store


def make_v1_store(data_dir: Path) -> Path:
    """Schema 1 as it shipped: a v2 store with the v2 columns and tables taken out again."""
    Store.at(data_dir).dispose()
    db = data_dir / "kiosk.sqlite3"
    con = sqlite3.connect(db)
    with con:
        for table, column in (
            ("accounts", "email"),
            ("accounts", "dea_number"),
            ("accounts", "dea_registrant"),
            ("tokens", "vendor"),
            ("tokens", "model"),
            ("tokens", "fips_cert"),
        ):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        for table in ("epcs_permissions", "identity_proofing", "outbox", "audit_reports"):
            con.execute(f"DROP TABLE {table}")
        con.execute("DELETE FROM schema_version")
        con.execute("INSERT INTO schema_version VALUES (1, 0)")
        con.execute(
            "INSERT INTO accounts (username, display_name, npi, role, password_hash, failed_signins, locked,"
            " created_at) VALUES ('ana', 'Rivera, Ana', '1234567893', 'provider', 'x', 0, 0, 0)"
        )
    con.close()
    return db


def test_v1_store_gains_the_epcs_columns_and_keeps_its_accounts(data_dir: Path) -> None:
    db = make_v1_store(data_dir)
    store = Store.at(data_dir)
    try:
        accounts = Accounts(store, ManualClock())
        ana = accounts.get("ana")
        assert ana is not None and ana.email is None and not ana.dea_registrant
        with store.begin() as conn:
            updated = accounts.set_epcs_details(conn, "ana", email="ana@example.org", dea_number="AR1234563")
        assert (updated.email, updated.dea_number) == ("ana@example.org", "AR1234563")
    finally:
        store.dispose()
    con = sqlite3.connect(db)
    versions = [v for (v,) in con.execute("SELECT version FROM schema_version ORDER BY version")]
    tables = {t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert versions == [1, SCHEMA_VERSION] and SCHEMA_VERSION == 2
    assert {"epcs_permissions", "identity_proofing", "outbox", "audit_reports"} <= tables


def test_opening_twice_migrates_once(data_dir: Path) -> None:
    make_v1_store(data_dir)
    Store.at(data_dir).dispose()
    Store.at(data_dir).dispose()  # the columns exist now: no second ALTER
