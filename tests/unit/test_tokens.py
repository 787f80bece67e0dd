"""Token inventory: verification windows, resync, replay (threads), lock-out, diagnoses."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core import otp
from core.accounts import Accounts, Role
from core.clock import ManualClock
from core.credentials import CredentialStore
from core.errors import SyncFailed, TokenNotFound, TokenUnavailable
from core.otp import Diagnosis, OtpParams
from core.schema import tokens
from core.seedfiles import TokenSpec
from core.seeds import SeedBox
from core.store import Store
from core.token_model import CodeCheck
from core.tokens import TokenInventory, TokenState
from tests.conftest import found

SEED = bytes(range(20))
TOTP = OtpParams()
HOTP = OtpParams("hotp")


@pytest.fixture
def inventory(store: Store, credentials: CredentialStore, clock: ManualClock) -> TokenInventory:
    inv = TokenInventory(store, SeedBox(credentials.key("seed-key", create=True)), clock)
    with store.begin() as conn:
        Accounts(store, clock).add(
            conn, "alice", display_name="Smith, Alice", npi="1234567893", role=Role.PROVIDER, password="correct horse"
        )
        inv.add(conn, TokenSpec("T1", "totp", SEED))
        inv.add(conn, TokenSpec("H1", "hotp", SEED, counter=5))
    return inv


def code(params: OtpParams, index: int) -> str:
    return otp.code_at(params, SEED, index)


def step(clock: ManualClock, offset: int = 0) -> int:
    return otp.step_at(TOTP, clock.time()) + offset


def bind(store: Store, inv: TokenInventory, serial: str, c1: str, c2: str) -> None:
    with store.begin() as conn:
        inv.resync(conn, serial, c1, c2)
        inv.assign(conn, serial, "alice")


def verify(store: Store, inv: TokenInventory, serial: str, c: str) -> CodeCheck:
    with store.begin() as conn:
        return inv.verify_code(conn, serial, c)


def test_seed_is_encrypted_at_rest(store: Store, inventory: TokenInventory) -> None:
    with store.connect() as conn:
        blob = found(conn.execute(tokens.select().where(tokens.c.serial == "T1")).first()).seed_ct
    assert SEED not in blob and len(blob) > len(SEED)


def test_totp_sync_then_signin_within_one_step(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    bind(store, inventory, "T1", code(TOTP, step(clock, -1)), code(TOTP, step(clock)))
    clock.advance(30)
    assert verify(store, inventory, "T1", code(TOTP, step(clock, 1))).accepted  # +1 step: accepted
    clock.advance(150)
    # The accepted +1 code taught drift +1; -2 steps from now is outside the window around
    # it: refused, and read as an expired code.
    check = verify(store, inventory, "T1", code(TOTP, step(clock, -2)))
    assert not check.accepted and check.diagnosis is Diagnosis.EXPIRED


def test_totp_sync_learns_drift(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    # A token whose clock runs 20 steps (10 minutes) ahead.
    bind(store, inventory, "T1", code(TOTP, step(clock, 20)), code(TOTP, step(clock, 21)))
    assert found(inventory.get("T1")).drift == 21
    clock.advance(60)
    assert verify(store, inventory, "T1", code(TOTP, step(clock, 21))).accepted
    # A code that would fit server time alone is far outside the window around the drift.
    check = verify(store, inventory, "T1", code(TOTP, step(clock, -40)))
    assert check.diagnosis is Diagnosis.OUT_OF_SYNC


def test_code_outside_signin_but_inside_resync_window_is_out_of_sync(
    store: Store, inventory: TokenInventory, clock: ManualClock
) -> None:
    bind(store, inventory, "T1", code(TOTP, step(clock, -1)), code(TOTP, step(clock)))
    check = verify(store, inventory, "T1", code(TOTP, step(clock, 200)))
    assert check.diagnosis is Diagnosis.OUT_OF_SYNC


def test_same_code_twice_is_reused(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    bind(store, inventory, "T1", code(TOTP, step(clock, -2)), code(TOTP, step(clock, -1)))
    c = code(TOTP, step(clock))
    assert verify(store, inventory, "T1", c).accepted
    again = verify(store, inventory, "T1", c)
    assert not again.accepted and again.diagnosis is Diagnosis.REUSED
    # an older code than the last accepted one is also refused as reused
    older = verify(store, inventory, "T1", code(TOTP, step(clock, -1)))
    assert not older.accepted and older.diagnosis is Diagnosis.EXPIRED


def test_eight_threads_same_code_one_success(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    bind(store, inventory, "T1", code(TOTP, step(clock, -2)), code(TOTP, step(clock, -1)))
    c = code(TOTP, step(clock))
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        results.append(verify(store, inventory, "T1", c).accepted)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_two_stores_on_one_file_share_replay_protection(
    store: Store,
    inventory: TokenInventory,
    clock: ManualClock,
    data_dir: Path,
    credentials: CredentialStore,
) -> None:
    """Two kiosks (two engines) on one store: the second submission of a code fails."""
    bind(store, inventory, "T1", code(TOTP, step(clock, -2)), code(TOTP, step(clock, -1)))
    other_store = Store(store.url)
    other = TokenInventory(other_store, inventory.seedbox, clock)
    c = code(TOTP, step(clock))
    assert verify(other_store, other, "T1", c).accepted
    assert verify(store, inventory, "T1", c).diagnosis is Diagnosis.REUSED
    other_store.dispose()


def test_lock_after_ten_failures_persists(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    bind(store, inventory, "T1", code(TOTP, step(clock, -1)), code(TOTP, step(clock)))
    wrong = "000000" if code(TOTP, step(clock, 1)) != "000000" else "111111"
    checks = [verify(store, inventory, "T1", wrong) for _ in range(10)]
    assert [c.locked_now for c in checks] == [False] * 9 + [True]
    assert found(inventory.get("T1")).state is TokenState.LOCKED
    # even the right code is refused while locked
    right = verify(store, inventory, "T1", code(TOTP, step(clock, 1)))
    assert not right.accepted and right.diagnosis is Diagnosis.LOCKED
    with store.begin() as conn:
        inventory.unlock(conn, "T1")
    assert verify(store, inventory, "T1", code(TOTP, step(clock, 1))).accepted


def test_success_resets_failure_count(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    bind(store, inventory, "T1", code(TOTP, step(clock, -1)), code(TOTP, step(clock)))
    for _ in range(9):
        verify(store, inventory, "T1", "99999x")
    assert found(inventory.get("T1")).failures == 9
    assert verify(store, inventory, "T1", code(TOTP, step(clock, 1))).accepted
    assert found(inventory.get("T1")).failures == 0


def test_hotp_lookahead_ten(store: Store, inventory: TokenInventory) -> None:
    bind(store, inventory, "H1", code(HOTP, 5), code(HOTP, 6))
    assert verify(store, inventory, "H1", code(HOTP, 16)).accepted  # 7..16 is the look-ahead
    assert verify(store, inventory, "H1", code(HOTP, 27)).diagnosis is Diagnosis.OUT_OF_SYNC
    assert verify(store, inventory, "H1", code(HOTP, 16)).diagnosis is Diagnosis.REUSED
    assert verify(store, inventory, "H1", code(HOTP, 12)).diagnosis is Diagnosis.REUSED


def test_hotp_resync_window_is_1000(store: Store, inventory: TokenInventory) -> None:
    with store.begin() as conn:
        info = inventory.resync(conn, "H1", code(HOTP, 900), code(HOTP, 901))
    assert info.last_used == 901
    with pytest.raises(SyncFailed), store.begin() as conn:
        inventory.resync(conn, "H1", code(HOTP, 901 + 1000 + 5), code(HOTP, 901 + 1000 + 6))


def test_hotp_codes_below_initial_counter_never_work(store: Store, inventory: TokenInventory) -> None:
    with pytest.raises(SyncFailed), store.begin() as conn:
        inventory.resync(conn, "H1", code(HOTP, 1), code(HOTP, 2))


def test_totp_resync_refuses_outside_24h(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    radius = 24 * 3600 // 30
    window = {code(TOTP, step(clock, d)) for d in range(-radius, radius + 1)}
    # the first pair beyond the window whose codes do not happen to recur inside it
    far = next(
        f
        for f in range(radius + 1, radius + 50)
        if not {code(TOTP, step(clock, f)), code(TOTP, step(clock, f + 1))} & window
    )
    with pytest.raises(SyncFailed) as err, store.begin() as conn:
        inventory.resync(conn, "T1", code(TOTP, step(clock, far)), code(TOTP, step(clock, far + 1)))
    assert err.value.wrong_field is None
    with store.begin() as conn:
        inventory.resync(conn, "T1", code(TOTP, step(clock, far - 3)), code(TOTP, step(clock, far - 2)))


def test_resync_says_which_code_was_wrong(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    good1, good2 = code(TOTP, step(clock)), code(TOTP, step(clock, 1))
    wrong = next(c for c in ("000000", "111111", "222222") if c not in (good1, good2))
    cases = [
        ((good1, wrong), "next"),
        ((wrong, good2), "current"),
        ((good1, good1), "next"),
        ((good1, code(TOTP, step(clock, 3))), "next"),  # not consecutive
        (("12ab", good2), "current"),
    ]
    for (c1, c2), field in cases:
        with pytest.raises(SyncFailed) as err, store.begin() as conn:
            inventory.resync(conn, "T1", c1, c2)
        assert err.value.wrong_field == field, (c1, c2)


def test_resync_refuses_codes_already_used(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    c1, c2 = code(TOTP, step(clock, -1)), code(TOTP, step(clock))
    bind(store, inventory, "T1", c1, c2)
    with pytest.raises(SyncFailed, match="already used"), store.begin() as conn:
        inventory.resync(conn, "T1", c1, c2)


def test_check_available_messages(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    with store.connect() as conn:
        assert inventory.check_available(conn, " t1 ").serial == "T1"
        with pytest.raises(TokenNotFound):
            inventory.check_available(conn, "NOPE")
        with pytest.raises(TokenNotFound):
            inventory.check_available(conn, "")
        with pytest.raises(TokenNotFound):
            inventory.check_available(conn, "<script>")
    bind(store, inventory, "T1", code(TOTP, step(clock, -1)), code(TOTP, step(clock)))
    with store.connect() as conn, pytest.raises(TokenUnavailable, match="already assigned"):
        inventory.check_available(conn, "T1")


def test_revoked_token_fails_at_once(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    from core.tokens import RevokeReason

    bind(store, inventory, "T1", code(TOTP, step(clock, -1)), code(TOTP, step(clock)))
    with store.begin() as conn:
        inventory.revoke(conn, "T1", RevokeReason.LOST)
    check = verify(store, inventory, "T1", code(TOTP, step(clock, 1)))
    assert not check.accepted and check.diagnosis is Diagnosis.REVOKED


def test_import_reports_duplicates(inventory: TokenInventory) -> None:
    report = inventory.import_specs([TokenSpec("T1", "totp", SEED), TokenSpec("new-1", "totp", SEED)])
    assert report.added == ["NEW-1"] and report.duplicates == ["T1"]
    assert inventory.get("new-1") is not None
