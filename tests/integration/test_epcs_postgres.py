"""EPCS controls on the shared PostgreSQL store: the v1 -> v2 migration, two-person approval with
suspension, one winner when two approvals race, and the outbox delivering each message once
when two kiosks flush at the same time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import text

from core.admin import Administration
from core.epcs import EpcsRefused
from core.epcs_state import PermissionState
from core.store import SCHEMA_VERSION, Store, metadata
from core.system import KioskSystem, Policy
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_system(world: World, postgres_url: str) -> Iterator[KioskSystem]:
    """The test world's directory and issuer, over a fresh PostgreSQL schema."""
    store = Store(postgres_url)
    old = world.system
    system = KioskSystem(store, old.credentials, world.clock, old.directory, old.cronto, Policy(kiosk_id="pg"))
    with store.begin() as conn:
        for name, display, npi, role, extra in (
            ("ana", "Rivera, Ana", "1234567893", "provider", {"dea_number": "AR1234563", "email": "a@x.org"}),
            ("raj", "Patel, Raj", "1295723567", "provider", {"dea_number": "BP9876547", "dea_registrant": True}),
            ("ravi", "Pai, Ravi", "1993999998", "provider", {"dea_number": "BP1234563", "dea_registrant": True}),
            ("ivy", "Admin, Ivy", None, "it_staff", {}),
        ):
            system.accounts.add(conn, name, display_name=display, npi=npi, role=role, password=PASSWORD, **extra)
    from core.seedfiles import TokenSpec

    system.tokens.import_specs(
        [TokenSpec(s, "totp", bytes([i]) * 20) for i, s in enumerate(("P1", "P2", "P3"), start=1)]
    )
    for serial in ("P1", "P2", "P3"):
        system.token_fitness.describe(serial, "ivy", fips_cert="4282")
    system.proofing.record("ana", "ivy", document_type="passport", last4="1234")
    world.clock.advance(1)
    admin = Administration(system, "ivy")
    for serial, user in (("P1", "ana"), ("P2", "raj"), ("P3", "ravi")):
        admin.assign(serial, user)
    yield system
    with store.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name not in ("schema_version", "audit_head"):
                conn.execute(table.delete())
        conn.execute(text("update audit_head set seq = 0, mac = repeat('0', 64)"))
    store.dispose()


def test_two_people_then_suspension_on_postgres(pg_system: KioskSystem, world: World) -> None:
    assert pg_system.store.engine.dialect.name == "postgresql"
    pg_system.epcs.grant("ana", "ivy", PASSWORD, None)
    with pytest.raises(EpcsRefused):
        pg_system.epcs.approve("ana", "ivy", PASSWORD, "123456")
    world.clock.advance(30)
    pg_system.epcs.approve("ana", "raj", PASSWORD, pg_system.tokens.code_now("P2")[0])
    assert pg_system.epcs.get("ana").state is PermissionState.GRANTED
    Administration(pg_system, "ivy").revoke("P1", "stolen")
    assert pg_system.epcs.get("ana").state is PermissionState.SUSPENDED
    assert pg_system.audit.verify().intact
    assert [n.event for n in reversed(pg_system.outbox.notices())][-4:] == [
        "epcs_grant", "epcs_approve", "epcs_suspend", "revoke",
    ]  # fmt: skip


def test_two_racing_approvals_one_wins(pg_system: KioskSystem, world: World) -> None:
    pg_system.epcs.grant("ana", "ivy", PASSWORD, None)
    world.clock.advance(30)
    codes = {u: pg_system.tokens.code_now(s)[0] for u, s in (("raj", "P2"), ("ravi", "P3"))}
    results: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def approve(user: str) -> None:
        barrier.wait()
        try:
            pg_system.epcs.approve("ana", user, PASSWORD, codes[user])
            results[user] = "ok"
        except EpcsRefused as exc:
            results[user] = exc.reason

    threads = [threading.Thread(target=approve, args=(u,)) for u in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) in (["changed", "ok"], ["not_pending", "ok"])
    winner = next(u for u, r in results.items() if r == "ok")
    assert pg_system.epcs.get("ana").approved_by == winner
    assert len(list(pg_system.audit.rows(event="epcs_approve"))) == 2  # the loser's refusal too


class Counting:
    def __init__(self) -> None:
        self.to: list[str] = []
        self.lock = threading.Lock()

    def deliver(self, message: EmailMessage) -> None:
        with self.lock:
            self.to.append(str(message["To"]))


def test_two_kiosks_flushing_deliver_each_message_once(pg_system: KioskSystem, postgres_url: str) -> None:
    for _ in range(5):
        Administration(pg_system, "ivy").issue_backup_codes("ana")
    queued = pg_system.outbox.pending_count()
    assert queued >= 5
    sender = Counting()
    second = Store(postgres_url)
    try:
        from core.notifications import Outbox

        outboxes = [pg_system.outbox, Outbox(second, pg_system.clock)]
        barrier = threading.Barrier(2)

        def flush(i: int) -> None:
            barrier.wait()
            outboxes[i].flush(sender, "kiosk@x.org")

        threads = [threading.Thread(target=flush, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        second.dispose()
    notices = pg_system.outbox.notices()
    sent = [n for n in notices if n.sent_at is not None]
    # Each delivered exactly once; raj's and ravi's (no address) are kept back for later.
    assert len(sender.to) == len(sent) >= 5 and set(sender.to) == {"a@x.org"}
    assert {n.username for n in notices if n.sent_at is None} == {"raj", "ravi"}


def test_a_v1_schema_is_migrated_on_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    try:
        with store.begin() as conn:
            for table, column in (("accounts", "dea_registrant"), ("tokens", "fips_cert")):
                conn.execute(text(f"alter table {table} drop column {column}"))
            conn.execute(text("delete from schema_version where version = 2"))
            conn.execute(text("insert into schema_version values (1, 0) on conflict do nothing"))
    finally:
        store.dispose()
    reopened = Store(postgres_url)
    try:
        with reopened.connect() as conn:
            assert conn.execute(text("select max(version) from schema_version")).scalar_one() == SCHEMA_VERSION
            conn.execute(text("select dea_registrant, email from accounts")).all()
            conn.execute(text("select fips_cert from tokens")).all()
    finally:
        reopened.dispose()
