"""Many kiosk processes guessing at once, on SQLite and on PostgreSQL (security rule 26): the
token's limit and the password throttle hold exactly, every failure is counted once and audited
once, and no process gets a traceback or a busy store."""

from __future__ import annotations

from collections import Counter

import pytest

from core import otp
from core.credentials import AUDIT_KEY, SEED_KEY
from core.events import Outcome
from core.otp import OtpParams
from core.throttle import Lockout
from core.tokens import TokenState
from tests.conftest import PASSWORD, TOKEN_SEED, World
from tests.kiosk_process import KioskSpec, at_once

TOTP = OtpParams()


def kiosks(world: World, n: int, lockout: Lockout | None = None) -> list[KioskSpec]:
    creds = world.system.credentials
    return [
        KioskSpec(
            world.system.store.url,
            creds.key(SEED_KEY),
            creds.key(AUDIT_KEY),
            f"kiosk-{i}",
            world.clock.time(),
            lockout or Lockout(),
        )
        for i in range(n)
    ]


def sign_in_rows(world: World) -> list[tuple[str, str]]:
    return [(r.outcome, r.detail) for r in world.system.audit.rows(event="sign_in")]


def wrong_code(world: World) -> str:
    step = otp.step_at(TOTP, world.clock.time())
    near = {otp.code_at(TOTP, TOKEN_SEED, step + d) for d in range(-3000, 3000)}
    return next(c for c in (f"{i:06d}" for i in range(1000)) if c not in near)


@pytest.mark.parametrize("n", [20, 50])
def test_at_most_ten_codes_are_checked_before_the_token_locks(world: World, n: int) -> None:
    step = otp.step_at(TOTP, world.clock.time())
    with world.system.store.begin() as conn:
        world.system.tokens.resync(
            conn, "T1", otp.code_at(TOTP, TOKEN_SEED, step - 1), otp.code_at(TOTP, TOKEN_SEED, step)
        )
        world.system.tokens.assign(conn, "T1", "ben")
    world.clock.advance(30)
    guess = wrong_code(world)
    # Attempts in flight count as password failures until their password is found right (the
    # throttle's count-then-verify): so many at once for one account are throttled by default.
    lockout = Lockout(account_free=100)
    answers = at_once(kiosks(world, n, lockout), [("ben", PASSWORD, guess)] * n)
    assert not [a for a in answers if not a.startswith("CodeRefused")], answers
    rows = sign_in_rows(world)
    assert len(rows) == n  # every attempt audited once
    evaluated = [
        r
        for r in rows
        if r[0] in (Outcome.REFUSED_WRONG, "refused_out_of_sync", "refused_expired", Outcome.TOKEN_LOCKED)
    ]
    assert len(evaluated) == otp.MAX_FAILURES  # at most ten checked; all ten counted
    # The tenth locks the token, and says so in its outcome (its own diagnosis in detail).
    assert [r for r in rows if r[0] == Outcome.TOKEN_LOCKED] == [evaluated[-1]]
    assert evaluated[-1][1].startswith("diagnosis=")
    assert Counter(r[0] for r in rows)[Outcome.REFUSED_LOCKED] == n - otp.MAX_FAILURES
    token = world.system.tokens.get("T1")
    assert token is not None and token.state is TokenState.LOCKED and token.failures == otp.MAX_FAILURES
    assert world.system.audit.verify().intact


def test_a_token_row_is_locked_while_a_code_is_judged(world: World) -> None:
    """verify_code alone (resync, enrollment and IT use it outside the sign-in): 20 processes,
    one wrong code each: ten are checked and counted, the rest find the token locked."""
    n = 20
    step = otp.step_at(TOTP, world.clock.time())
    with world.system.store.begin() as conn:
        world.system.tokens.resync(
            conn, "T1", otp.code_at(TOTP, TOKEN_SEED, step - 1), otp.code_at(TOTP, TOKEN_SEED, step)
        )
        world.system.tokens.assign(conn, "T1", "ben")
    answers = Counter(at_once(kiosks(world, n), [("T1", wrong_code(world))] * n, verify_only=True))
    assert answers == {"refused:wrong": otp.MAX_FAILURES, "refused:locked": n - otp.MAX_FAILURES}
    token = world.system.tokens.get("T1")
    assert token is not None and token.failures == otp.MAX_FAILURES


@pytest.mark.parametrize("n", [20, 50])
def test_every_password_failure_is_counted_once_and_the_lock_comes_exactly_at_the_limit(world: World, n: int) -> None:
    """No throttle here (its own test follows), so every guess is checked: the count is exact."""
    lockout = Lockout(account_free=100, kiosk_free=100, lock_at=10)
    answers = at_once(kiosks(world, n, lockout), [("ben", f"wrong password {i}", None) for i in range(n)])
    assert answers == ["AuthenticationFailed"] * n
    rows = sign_in_rows(world)
    assert rows.count(("bad_password", "")) + rows.count(("bad_password", "account locked now")) == n
    assert rows.count(("bad_password", "account locked now")) == 1
    account = world.system.accounts.get("ben")
    assert account is not None and account.locked and account.failed_signins == n
    assert at_once(kiosks(world, 1, lockout), [("ben", PASSWORD, None)]) == ["AccountLocked"]


def test_the_throttle_holds_when_fifty_processes_guess_one_password_at_once(world: World) -> None:
    n = 50
    free = Lockout().account_free
    answers = at_once(kiosks(world, n), [("ben", f"wrong password {i}", None) for i in range(n)])
    assert answers == ["AuthenticationFailed"] * n
    outcomes = Counter(r[0] for r in sign_in_rows(world))
    assert outcomes == {"bad_password": free, "throttled": n - free}
    account = world.system.accounts.get("ben")
    assert account is not None and account.failed_signins == free and not account.locked
