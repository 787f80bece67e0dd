"""The audit chain detects an edited, deleted or inserted row."""

from __future__ import annotations

from sqlalchemy import delete, update

from core.audit import AuditTrail
from core.clock import ManualClock
from core.events import Event
from core.schema import audit, audit_head
from core.store import Store


def trail(store: Store, clock: ManualClock, key: bytes = b"k" * 32) -> AuditTrail:
    t = AuditTrail(store, key, clock, "kiosk-1")
    for i in range(5):
        t.log(Event.SIGN_IN, actor=f"user{i}", subject=f"user{i}", outcome="ok")
        clock.advance(1)
    return t


def test_intact_chain_verifies(store: Store, clock: ManualClock) -> None:
    report = trail(store, clock).verify()
    assert report.intact and report.rows == 5 and report.head_seq == 5


def test_edited_row_is_found(store: Store, clock: ManualClock) -> None:
    t = trail(store, clock)
    with store.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 3).values(outcome="refused"))
    report = t.verify()
    assert not report.intact and report.first_bad_seq == 3


def test_deleted_middle_row_is_found(store: Store, clock: ManualClock) -> None:
    t = trail(store, clock)
    with store.begin() as conn:
        conn.execute(delete(audit).where(audit.c.seq == 2))
    report = t.verify()
    assert not report.intact and report.first_bad_seq == 2


def test_deleted_last_row_is_found(store: Store, clock: ManualClock) -> None:
    t = trail(store, clock)
    with store.begin() as conn:
        conn.execute(delete(audit).where(audit.c.seq == 5))
    report = t.verify()
    assert not report.intact and report.first_bad_seq == 5


def test_renumbered_rows_are_found(store: Store, clock: ManualClock) -> None:
    t = trail(store, clock)
    with store.begin() as conn:
        conn.execute(delete(audit).where(audit.c.seq == 5))
        conn.execute(update(audit_head).values(seq=4))
    assert not t.verify().intact  # head MAC no longer matches row 4


def test_wrong_key_fails_from_the_first_row(store: Store, clock: ManualClock) -> None:
    trail(store, clock)
    report = AuditTrail(store, b"x" * 32, clock, "kiosk-1").verify()
    assert not report.intact and report.first_bad_seq == 1


def test_rows_filter(store: Store, clock: ManualClock) -> None:
    t = trail(store, clock)
    assert [r.actor for r in t.rows(user="user2")] == ["user2"]
    assert len(list(t.rows(event="sign_in", limit=2, newest_first=True))) == 2
