"""Sign-in against a hostile caller, on both stores: failures counted and audited, a throttle
instead of an easy lock-out, the same answer and cost for every refusal, no slow hash inside a
write transaction, over-long names refused up front, a busy store reported, never a traceback."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Protocol

import pytest
from sqlalchemy import text

from core import hashing, otp
from core.audit import AuditTrail
from core.errors import (
    AccountError,
    AccountLocked,
    AuthenticationFailed,
    CodeRefused,
    KioskError,
    NameTooLong,
    StoreBusy,
)
from core.otp import Diagnosis, OtpParams
from core.schema import NAME_MAX
from core.signin import NOT_CORRECT
from core.store import Store
from core.system import KioskSystem, Policy
from tests.conftest import FAST_HASHER, PASSWORD, TOKEN_SEED, World, found

TOTP = OtpParams()


def code(world: World, offset: int = 0) -> str:
    return otp.code_at(TOTP, TOKEN_SEED, otp.step_at(TOTP, world.clock.time()) + offset)


def failures(world: World, user: str = "ben") -> int:
    return found(world.system.accounts.get(user)).failed_signins


def outcomes(world: World) -> list[str]:
    return [r.outcome for r in world.system.audit.rows(event="sign_in")]


class WatchingHasher(hashing.SecretHasher):
    """The fast hasher, counting verifications and asking the store, at each one, whether any
    write transaction is open (none may be: a slow hash there blocks every other kiosk)."""

    def __init__(self, store: Store) -> None:
        super().__init__(FAST_HASHER.hasher, FAST_HASHER.dummy)
        self.store = store
        self.checks = 0
        self.inside_write: list[str] = []

    def check(self, stored: str | None, secret: str) -> bool:
        self.checks += 1
        problem = open_write_transaction(self.store)
        if problem:
            self.inside_write.append(problem)
        return super().check(stored, secret)


def open_write_transaction(store: Store) -> str | None:
    """What another kiosk sees right now: a write lock or transaction held on the store, or None."""
    if store.engine.dialect.name == "sqlite":
        db = sqlite3.connect(store.engine.url.database or "", timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            return str(exc)
        finally:
            db.close()
        return None
    with store.connect() as conn:
        writing = conn.execute(
            text("select count(*) from pg_stat_activity where backend_xid is not null and pid <> pg_backend_pid()")
        ).scalar_one()
    return f"{writing} open write transaction(s)" if writing else None


@pytest.fixture
def watch(world: World) -> Iterator[WatchingHasher]:
    watcher = WatchingHasher(world.system.store)
    previous = hashing.use(watcher)
    yield watcher
    hashing.use(previous)


@pytest.fixture
def bound(world: World) -> World:
    with world.system.store.begin() as conn:
        world.system.tokens.resync(conn, "T1", code(world, -1), code(world))
        world.system.tokens.assign(conn, "T1", "ben")
    world.clock.advance(30)
    return world


def test_a_wrong_password_is_counted_and_audited(world: World) -> None:
    """On PostgreSQL this crashed (a boolean written into the integer `locked`): no count, no audit."""
    with pytest.raises(AuthenticationFailed):
        world.system.signin.sign_in("ben", "not the password")
    assert failures(world) == 1
    assert outcomes(world) == ["bad_password"]
    world.sign_in("ben")
    assert failures(world) == 0  # the right password starts the count over


def test_unknown_wrong_and_throttled_answer_alike_at_one_hash_each(world: World, watch: WatchingHasher) -> None:
    answers = []
    for user, password in [("nobody", "whatever1"), ("ben", "wrong one"), ("ben", "wrong two"), ("ben", "wrong 3")]:
        with pytest.raises(AuthenticationFailed) as err:
            world.system.signin.sign_in(user, password)
        answers.append((err.value.message, err.value.hint))
    assert watch.checks == 4
    # ben has had three failures: the next attempt, even with the right password, is throttled
    with pytest.raises(AuthenticationFailed) as err:
        world.sign_in("ben")
    answers.append((err.value.message, err.value.hint))
    assert answers == [NOT_CORRECT] * 5
    assert watch.checks == 5  # a throttled attempt costs one verification too
    assert outcomes(world) == ["bad_password"] * 4 + ["throttled"]
    assert failures(world) == 3  # a throttled attempt is not checked, so not counted
    assert watch.inside_write == []
    world.clock.advance(1.0)  # the first delay
    assert world.sign_in("ben").second_factor is None


def test_the_delay_grows_and_is_capped_at_a_minute(world: World) -> None:
    lockout = world.system.policy.lockout
    delays = [lockout.delay(n, lockout.account_free) for n in range(1, 12)]
    assert delays[:2] == [0, 0] and delays == sorted(delays) and max(delays) == 60
    for _ in range(9):
        world.clock.advance(61)
        with pytest.raises(AuthenticationFailed):
            world.system.signin.sign_in("ben", "not the password")
    world.clock.advance(59)  # 9 failures: the delay is at its cap
    with pytest.raises(AuthenticationFailed):
        world.sign_in("ben")
    world.clock.advance(2)
    world.sign_in("ben")


def test_no_hash_inside_a_write_transaction_on_any_path(bound: World, watch: WatchingHasher) -> None:
    with bound.system.store.begin() as conn:
        backup = bound.system.backup_codes.issue(conn, "ben")
    for user, password, c in [
        ("nobody", "whatever1", None),
        ("x" * 300, "whatever1", None),
        ("ben", "wrong password", None),
        ("ben", PASSWORD, None),
        ("ben", PASSWORD, "token"),
        ("ben", PASSWORD, backup[0]),
        ("ben", PASSWORD, backup[0]),
    ]:
        bound.clock.advance(61)
        with contextlib.suppress(KioskError):  # refusals are expected; only where hashing ran matters
            bound.system.signin.sign_in(user, password, code(bound) if c == "token" else c)
    assert outcomes(bound) == ["bad_password"] * 3 + ["code_required", "ok", "ok", "refused_reused"]
    assert watch.checks > 7  # backup codes: one check per stored code
    assert watch.inside_write == []


def test_the_wide_code_search_runs_outside_write_transactions(bound: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Telling "out of sync" from "wrong" searches +-24 h of codes: never under the write lock."""
    searched: list[str | None] = []
    find = otp.find

    def watching_find(params: OtpParams, seed: bytes, code_: str, indices: Iterable[int]) -> int | None:
        window = list(indices)
        if len(window) > 100:
            searched.append(open_write_transaction(bound.system.store))
        return find(params, seed, code_, window)

    monkeypatch.setattr(otp, "find", watching_find)
    for offset in (300, 0, 0):  # out of sync, accepted, reused
        with contextlib.suppress(KioskError):
            bound.sign_in("ben", code(bound, offset))
    assert outcomes(bound) == ["refused_out_of_sync", "ok", "refused_reused"]
    assert searched and searched == [None] * len(searched)


def test_a_kiosk_spraying_usernames_is_throttled_and_the_count_is_shared(world: World) -> None:
    """Per kiosk: ten unknown names at full speed, then even a real provider waits at this kiosk;
    another kiosk on the same store is not slowed, but sees the account's own count."""
    for i in range(world.system.policy.lockout.kiosk_free):
        with pytest.raises(AuthenticationFailed):
            world.system.signin.sign_in(f"guess{i}", "whatever1")
    with pytest.raises(AuthenticationFailed):
        world.sign_in("ben")
    assert outcomes(world)[-1] == "throttled"
    other = KioskSystem(
        Store(world.system.store.url),
        world.system.credentials,
        world.clock,
        world.system.directory,
        world.system.cronto,
        replace(world.system.policy, kiosk_id="kiosk-2"),
    )
    try:
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                other.signin.sign_in("ben", "not the password")
        with pytest.raises(AuthenticationFailed):  # ben's count is in the shared store
            world.clock.advance(0.5)
            other.signin.sign_in("ben", PASSWORD)
        assert [r.kiosk_id for r in other.audit.rows(event="sign_in")][-1] == "kiosk-2"
    finally:
        other.store.dispose()


def test_locked_is_said_only_after_the_right_password(world: World) -> None:
    with world.system.store.begin() as conn:
        conn.execute(text("update accounts set locked = 1 where username = 'ben'"))
    with pytest.raises(AuthenticationFailed) as err:
        world.system.signin.sign_in("ben", "not the password")
    assert (err.value.message, err.value.hint) == NOT_CORRECT
    with pytest.raises(AccountLocked, match="locked"):
        world.sign_in("ben")


def test_a_reused_backup_code_is_diagnosed_and_audited_as_reused(bound: World) -> None:
    with bound.system.store.begin() as conn:
        codes = bound.system.backup_codes.issue(conn, "ben")
    assert bound.sign_in("ben", codes[0]).second_factor == "backup_code"
    with pytest.raises(CodeRefused) as err:
        bound.sign_in("ben", codes[0])
    assert err.value.diagnosis is Diagnosis.REUSED
    assert "backup code was already used" in err.value.message
    with pytest.raises(CodeRefused) as err:
        bound.sign_in("ben", "AAAA-BBBB-CCCC-DDDD")
    assert err.value.diagnosis is Diagnosis.WRONG
    assert outcomes(bound)[-2:] == ["refused_reused", "refused_wrong"]


def test_an_over_long_username_answers_like_any_unknown_one_and_is_audited(world: World) -> None:
    """PostgreSQL refused the audit row (varchar(64)): a DataError and no audit at all."""
    long_name = "a" * 65 + "b" * 235
    with pytest.raises(AuthenticationFailed) as err:
        world.system.signin.sign_in(long_name, "whatever1")
    assert (err.value.message, err.value.hint) == NOT_CORRECT
    row = list(world.system.audit.rows(event="sign_in"))[-1]
    assert len(row.actor) == NAME_MAX and row.actor.endswith("...") and row.actor.startswith("aaaa")
    assert row.outcome == "bad_password" and row.detail == f"username over {NAME_MAX} characters"
    assert world.system.audit.verify().intact


def test_an_over_long_username_or_name_is_refused_when_adding_an_account(world: World) -> None:
    with world.system.store.begin() as conn, pytest.raises(AccountError, match=f"2-{NAME_MAX} characters"):
        world.system.accounts.add(
            conn, "u" * (NAME_MAX + 1), display_name="Long, Name", npi=None, role="it_staff", password=PASSWORD
        )
    with world.system.store.begin() as conn, pytest.raises(AccountError, match="at most 200"):
        world.system.accounts.add(
            conn, "longname", display_name="L" * 150 + ", " + "F" * 60, npi=None, role="it_staff", password=PASSWORD
        )
    with world.system.store.begin() as conn:  # exactly the limit is fine
        world.system.accounts.add(
            conn, "u" * NAME_MAX, display_name="Long, Name", npi=None, role="it_staff", password=PASSWORD
        )
    assert world.sign_in("u" * NAME_MAX).second_factor is None


def test_kiosk_id_is_checked_where_the_policy_is_built(world: World) -> None:
    with pytest.raises(NameTooLong, match=f"at most {NAME_MAX}"):
        Policy(kiosk_id="k" * (NAME_MAX + 1))
    with pytest.raises(NameTooLong):
        Policy(kiosk_id="  ")
    with pytest.raises(NameTooLong):
        AuditTrail(world.system.store, b"k" * 32, world.clock, "k" * (NAME_MAX + 1))
    assert Policy(kiosk_id="k" * NAME_MAX).kiosk_id == "k" * NAME_MAX


def test_a_busy_store_says_try_again_and_changes_nothing(world: World) -> None:
    busy = Store(world.system.store.url, busy_timeout=0.2)
    other = KioskSystem(
        busy, world.system.credentials, world.clock, world.system.directory, world.system.cronto, world.system.policy
    )
    rows_before = world.system.audit.count()
    try:
        with hold_write_lock(world.system.store), pytest.raises(StoreBusy) as err:
            other.signin.sign_in("ben", "not the password")
        assert str(err.value).startswith("The kiosk's store is busy; try again in a moment")
    finally:
        busy.dispose()
    assert world.system.audit.count() == rows_before and failures(world) == 0


class _Transaction(Protocol):
    """What sqlite3's and psycopg's connections both have, to let a held lock go."""

    def rollback(self) -> None: ...
    def close(self) -> None: ...


class hold_write_lock:
    """Another kiosk in the middle of a long write: SQLite's write lock, PostgreSQL's table lock."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._conn: _Transaction | None = None

    def __enter__(self) -> None:
        if self.store.engine.dialect.name == "sqlite":
            lite = sqlite3.connect(self.store.engine.url.database or "", isolation_level=None)
            lite.execute("BEGIN IMMEDIATE")
            self._conn = lite
        else:
            import psycopg

            u = self.store.engine.url
            pg = psycopg.connect(f"host={u.host} port={u.port} user={u.username} dbname={u.database}")
            pg.execute("LOCK TABLE signin_throttle, audit_head IN ACCESS EXCLUSIVE MODE")
            self._conn = pg

    def __exit__(self, *exc: object) -> None:
        assert self._conn is not None, "left a lock that was never taken"
        self._conn.rollback()
        self._conn.close()


def test_a_right_password_does_not_wipe_a_guess_still_in_flight(world: World) -> None:
    """Two kiosks at once: a guess reserved after a successful attempt stays counted."""
    throttle = world.system.signin.throttle
    with world.system.store.begin() as conn:
        mine = throttle.reserve(conn, "ben", world.clock)
    with world.system.store.begin() as conn:
        theirs = throttle.reserve(conn, "ben", world.clock)
    assert (mine.account_failures, theirs.account_failures) == (1, 2)
    with world.system.store.begin() as conn:
        throttle.release(conn, "ben", mine)  # my password was right
    assert failures(world) == 1  # theirs is still counted, once


def test_a_kiosk_that_waited_for_the_lock_is_not_throttled_by_a_failure_in_its_future(world: World) -> None:
    """The other kiosk's clock read (or its lock taken) a moment later: no delay is due yet."""
    throttle = world.system.signin.throttle
    world.clock.advance(5)
    with world.system.store.begin() as conn:
        throttle.reserve(conn, "ben", world.clock)  # another kiosk, a moment "later"
    world.clock.advance(-1)
    with world.system.store.begin() as conn:
        assert throttle.reserve(conn, "ben", world.clock).allowed
