"""Backup codes: >= 64 bits, hashed at rest, single use, a new set replaces the old."""

from __future__ import annotations

import math

from sqlalchemy import select

from core import backup_codes as bc
from core.backup_codes import BackupCodes, BackupUse
from core.clock import ManualClock
from core.schema import accounts, backup_codes
from core.store import Store


def setup(store: Store, clock: ManualClock) -> BackupCodes:
    with store.begin() as conn:
        conn.execute(
            accounts.insert().values(
                username="ben",
                display_name="Okafor, Ben",
                role="provider",
                password_hash="x",
                failed_signins=0,
                locked=0,
                created_at=0,
            )
        )
    return BackupCodes(store, clock)


def test_codes_have_enough_entropy_and_are_hashed(store: Store, clock: ManualClock) -> None:
    codes_ = setup(store, clock)
    with store.begin() as conn:
        codes = codes_.issue(conn, "ben")
    assert len(codes) == 10 and len(set(codes)) == 10
    assert bc.LENGTH * math.log2(len(bc.ALPHABET)) >= 64
    with store.connect() as conn:
        hashes = conn.execute(select(backup_codes.c.code_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(bc.normalize(c) in h for c in codes for h in hashes)


def test_single_use_and_new_set_invalidates_old(store: Store, clock: ManualClock) -> None:
    codes_ = setup(store, clock)
    with store.begin() as conn:
        first = codes_.issue(conn, "ben")
    assert codes_.use("ben", first[0]) is BackupUse.ACCEPTED
    assert codes_.use("ben", first[0]) is BackupUse.REUSED
    with store.begin() as conn:
        second = codes_.issue(conn, "ben")
    assert codes_.use("ben", first[1]) is BackupUse.WRONG  # the old set is gone, not "reused"
    assert codes_.use("ben", second[1].replace("-", " ")) is BackupUse.ACCEPTED
    assert codes_.remaining("ben") == 9


def test_normalize_accepts_what_people_type() -> None:
    assert bc.normalize("abcd-efgh-jkmn-pqrs") == "ABCDEFGHJKMNPQRS"
    assert bc.normalize("0O1I") is None  # too short
    assert bc.normalize("O000-0000-0000-000L") == "0000000000000001"
    assert bc.normalize("123456") is None
