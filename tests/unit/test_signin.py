"""Sign-in: password, then a code once a factor is bound; backup codes; lock-outs; audit."""

from __future__ import annotations

import pytest

from core import otp
from core.errors import DIAGNOSIS_MESSAGES, AccountLocked, AuthenticationFailed, CodeRefused, CodeRequired
from core.otp import Diagnosis, OtpParams
from tests.conftest import PASSWORD, TOKEN_SEED, World, found

TOTP = OtpParams()


def code(world: World, offset: int = 0) -> str:
    return otp.code_at(TOTP, TOKEN_SEED, otp.step_at(TOTP, world.clock.time()) + offset)


@pytest.fixture
def bound(world: World) -> World:
    """ben has T1 bound (synced now) and a set of backup codes."""
    with world.system.store.begin() as conn:
        world.system.tokens.resync(conn, "T1", code(world, -1), code(world))
        world.system.tokens.assign(conn, "T1", "ben")
    world.clock.advance(30)
    return world


def test_no_factor_bound_password_suffices(world: World) -> None:
    signed = world.sign_in("ben")
    assert signed.second_factor is None


def test_wrong_password_does_not_say_which_part(world: World) -> None:
    for user in ("ben", "nobody"):
        with pytest.raises(AuthenticationFailed, match="username or password"):
            world.system.signin.sign_in(user, "wrong password!")


def test_password_alone_never_suffices_once_bound(bound: World) -> None:
    with pytest.raises(CodeRequired):
        bound.sign_in("ben")
    with pytest.raises(CodeRequired):
        bound.sign_in("ben", "")
    assert bound.sign_in("ben", code(bound)).second_factor == "T1"


def test_each_refusal_is_diagnosed(bound: World) -> None:
    ok = code(bound)
    assert bound.sign_in("ben", ok)
    cases = {
        ok: Diagnosis.REUSED,
        code(bound, -5): Diagnosis.EXPIRED,
        code(bound, 300): Diagnosis.OUT_OF_SYNC,
        "12345": Diagnosis.MALFORMED,
    }
    for c, diagnosis in cases.items():
        with pytest.raises(CodeRefused) as err:
            bound.sign_in("ben", c)
        assert err.value.diagnosis is diagnosis, c
        assert err.value.message == DIAGNOSIS_MESSAGES[diagnosis][0]
    wrong = next(c for c in ("000000", "111111", "222222") if c not in {code(bound, d) for d in range(-30, 3000)})
    with pytest.raises(CodeRefused) as err:
        bound.sign_in("ben", wrong)
    assert err.value.diagnosis is Diagnosis.WRONG
    assert "typing error" in err.value.hint.lower()


def test_out_of_sync_message_sends_to_it_support(bound: World) -> None:
    with pytest.raises(CodeRefused) as err:
        bound.sign_in("ben", code(bound, 300))
    assert "Contact IT support to resync your token" in err.value.hint


def test_ten_bad_codes_lock_the_token_and_say_so(bound: World) -> None:
    diagnoses = []
    for _ in range(10):
        with pytest.raises(CodeRefused) as err:
            bound.sign_in("ben", "99999")
        diagnoses.append(err.value.diagnosis)
    assert diagnoses[-1] is Diagnosis.LOCKED
    with pytest.raises(CodeRefused) as err:
        bound.sign_in("ben", code(bound))
    assert err.value.diagnosis is Diagnosis.LOCKED


def test_backup_code_works_once_in_place_of_a_token_code(bound: World) -> None:
    with bound.system.store.begin() as conn:
        codes = bound.system.backup_codes.issue(conn, "ben")
    assert bound.sign_in("ben", codes[3].lower()).second_factor == "backup_code"
    with pytest.raises(CodeRefused):
        bound.sign_in("ben", codes[3])
    assert bound.system.backup_codes.remaining("ben") == 9


def test_account_locks_only_at_a_hundred_failures_and_says_so_only_after_the_right_password(world: World) -> None:
    """NIST SP 800-63B 5.2.2: a high lock count (100), reached only through the throttle's delays."""
    for i in range(99):
        world.clock.advance(61)  # past the longest delay: each guess is checked
        with pytest.raises(AuthenticationFailed):
            world.system.signin.sign_in("ben", "not the password")
        assert found(world.system.accounts.get("ben")).locked is False, i
    world.clock.advance(61)
    with pytest.raises(AuthenticationFailed, match="username or password is not correct"):
        world.system.signin.sign_in("ben", "not the password")
    assert found(world.system.accounts.get("ben")).locked is True
    world.clock.advance(61)
    with pytest.raises(AuthenticationFailed, match="username or password is not correct"):
        world.system.signin.sign_in("ben", "still not the password")  # locked: same words as any wrong password
    world.clock.advance(61)
    with pytest.raises(AccountLocked) as err:
        world.sign_in("ben")  # the right password: now it may say so
    assert "IT staff" in err.value.hint
    rows = list(world.system.audit.rows(event="sign_in"))
    assert [r.detail for r in rows].count("account locked now") == 1
    assert rows[-1].outcome == "account_locked"
    with world.system.store.begin() as conn:
        assert world.system.accounts.unlock(conn, "ben")
    assert world.sign_in("ben").second_factor is None


def test_every_attempt_is_audited_without_secrets(bound: World) -> None:
    secret_code = code(bound)
    bound.sign_in("ben", secret_code)
    with pytest.raises(AuthenticationFailed):
        bound.system.signin.sign_in("ben", "hunter2hunter2")
    rows = list(bound.system.audit.rows(event="sign_in"))
    assert [r.outcome for r in rows] == ["ok", "bad_password"]
    assert all(r.at.endswith("Z") for r in rows)
    flat = " ".join(str(v) for r in rows for v in r.as_dict().values())
    for secret in (PASSWORD, "hunter2hunter2", secret_code, TOKEN_SEED.hex()):
        assert secret not in flat


def test_two_factors_one_failure_counts_once_each(bound: World) -> None:
    """A provider with two tokens is not locked by logging in with the other one."""
    with bound.system.store.begin() as conn:
        seed2 = TOKEN_SEED[::-1]

        def c(o: int) -> str:
            return otp.code_at(TOTP, seed2, otp.step_at(TOTP, bound.clock.time()) + o)

        bound.system.tokens.resync(conn, "T2", c(-1), c(0))
        bound.system.tokens.assign(conn, "T2", "ben")
    for i in range(12):
        bound.clock.advance(30)
        assert bound.sign_in("ben", code(bound) if i % 2 else c(0)).second_factor in ("T1", "T2")
    assert found(bound.system.tokens.get("T1")).failures == 0
    assert found(bound.system.tokens.get("T2")).failures == 0


def test_revoked_token_leaves_backup_codes_not_password_only(bound: World) -> None:
    """Rule 15 and 22: after a revoke the next sign-in with the token fails at once, and the
    password alone still does not get in."""
    from core.admin import Administration

    Administration(bound.system, "ivy").revoke("T1", "lost")
    with pytest.raises(CodeRefused) as err:
        bound.sign_in("ben", code(bound))
    assert err.value.diagnosis is Diagnosis.REVOKED
    with pytest.raises(CodeRequired):
        bound.sign_in("ben")
    codes = Administration(bound.system, "ivy").issue_backup_codes("ben")
    assert bound.sign_in("ben", codes[0]).second_factor == "backup_code"


def test_revoking_twice_keeps_the_first_reason(bound: World) -> None:
    from core.admin import Administration
    from core.errors import TokenUnavailable

    admin = Administration(bound.system, "ivy")
    admin.revoke("T1", "stolen")
    with pytest.raises(TokenUnavailable, match="already revoked"):
        admin.revoke("T1", "lost")
    assert found(bound.system.tokens.get("T1")).revoked_reason == "stolen"
