"""The shared store on a real PostgreSQL server: the rules that must hold across kiosks."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from core import otp
from core.accounts import Accounts
from core.audit import AuditTrail
from core.backup_codes import BackupCodes, BackupUse
from core.clock import ManualClock
from core.credentials import CredentialStore, MemoryKeyring
from core.events import Event
from core.otp import OtpParams
from core.seedfiles import TokenSpec
from core.seeds import SeedBox
from core.store import SCHEMA_VERSION, Store
from core.tokens import TokenInventory
from tests.conftest import T0, found

SEED = bytes(range(20))
P = OtpParams()


pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Store]:
    store = Store(postgres_url)
    yield store
    store.dispose()


def code(clock: ManualClock, offset: int = 0) -> str:
    return otp.code_at(P, SEED, otp.step_at(P, clock.time()) + offset)


def setup_token(store: Store, clock: ManualClock) -> TokenInventory:
    keys = CredentialStore(MemoryKeyring())
    inv = TokenInventory(store, SeedBox(keys.key("seed-key", create=True)), clock)
    with store.begin() as conn:
        Accounts(store, clock).add(
            conn, "ben", display_name="Okafor, Ben", npi="1993999998", role="provider", password="a long password"
        )
        inv.add(conn, TokenSpec("PG-1", "totp", SEED))
        inv.resync(conn, "PG-1", code(clock, -2), code(clock, -1))
        inv.assign(conn, "PG-1", "ben")
    return inv


def test_schema_is_created_and_versioned(pg: Store) -> None:
    assert pg.engine.dialect.name == "postgresql"
    with pg.connect() as conn:
        assert conn.execute(text("select max(version) from schema_version")).scalar_one() == SCHEMA_VERSION


def test_eight_threads_one_success_on_postgres(pg: Store) -> None:
    clock = ManualClock(T0)
    inv = setup_token(pg, clock)
    c = code(clock)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        with pg.begin() as conn:
            results.append(inv.verify_code(conn, "PG-1", c).accepted)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_two_kiosks_share_replay_and_failure_counts(pg: Store, postgres_url: str) -> None:
    clock = ManualClock(T0)
    inv = setup_token(pg, clock)
    other_store = Store(postgres_url)
    other = TokenInventory(other_store, inv.seedbox, clock)
    c = code(clock)
    with other_store.begin() as conn:
        assert other.verify_code(conn, "PG-1", c).accepted
    with pg.begin() as conn:
        assert inv.verify_code(conn, "PG-1", c).diagnosis == "reused"
    for i in range(9):
        s, t = (pg, inv) if i % 2 else (other_store, other)
        with s.begin() as conn:
            t.verify_code(conn, "PG-1", "99999")
    assert found(inv.get("PG-1")).state.value == "locked"
    other_store.dispose()


def test_audit_chain_stays_linear_with_concurrent_appenders(pg: Store, postgres_url: str) -> None:
    clock = ManualClock(T0)
    stores = [pg, Store(postgres_url), Store(postgres_url)]
    trails = [AuditTrail(s, b"k" * 32, clock, f"kiosk-{i}") for i, s in enumerate(stores)]

    def append(trail: AuditTrail) -> None:
        for _ in range(15):
            trail.log(Event.SIGN_IN, actor="a", subject="a", outcome="ok")

    threads = [threading.Thread(target=append, args=(t,)) for t in trails]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = trails[0].verify()
    assert report.intact and report.rows == 45
    for s in stores[1:]:
        s.dispose()


def test_backup_code_used_once_across_kiosks(pg: Store, postgres_url: str) -> None:
    clock = ManualClock(T0)
    setup_token(pg, clock)
    with pg.begin() as conn:
        codes = BackupCodes(pg, clock).issue(conn, "ben")
    other = Store(postgres_url)
    results: list[BackupUse] = []
    barrier = threading.Barrier(2)

    def use(store: Store) -> None:
        barrier.wait()
        results.append(BackupCodes(store, clock).use("ben", codes[0]))

    threads = [threading.Thread(target=use, args=(s,)) for s in (pg, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [BackupUse.ACCEPTED, BackupUse.REUSED]
    other.dispose()


def test_a_schema_1_store_gets_the_token_validity_columns_on_postgres(pg: Store, postgres_url: str) -> None:
    with pg.begin() as conn:  # the store a schema-1 kiosk left
        conn.execute(text("ALTER TABLE tokens DROP COLUMN valid_from, DROP COLUMN valid_until"))
        conn.execute(text("DELETE FROM schema_version WHERE version = 2"))
    again = Store(postgres_url)
    try:
        with again.connect() as conn:
            names = set(
                conn.execute(
                    text("select column_name from information_schema.columns where table_name = 'tokens'")
                ).scalars()
            )
            assert {"valid_from", "valid_until"} <= names
            assert conn.execute(text("select max(version) from schema_version")).scalar_one() == SCHEMA_VERSION
    finally:
        again.dispose()
