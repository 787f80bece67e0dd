"""The eight steps as a state machine, over the real store, directory shards and issuer."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest

from core import otp
from core.clock import ManualClock
from core.credentials import CredentialStore
from core.enrollment import Enrollment
from core.errors import (
    BindingStopped,
    CodeRefused,
    CrontoRejected,
    FreshSignInRequired,
    StepOutOfOrder,
    SyncFailed,
    TokenNotFound,
    TokenUnavailable,
)
from core.otp import OtpParams
from core.schema import audit, backup_codes, tokens
from core.tokens import Method, TokenState
from tests.conftest import PASSWORD, TOKEN_SEED, World, build_world, found

TOTP = OtpParams()


def t1(world: World, offset: int = 0) -> str:
    return otp.code_at(TOTP, TOKEN_SEED, otp.step_at(TOTP, world.clock.time()) + offset)


def start(world: World, username: str) -> Enrollment:
    return Enrollment.start(world.system, world.sign_in(username))


def app_code(uri: str, t: float) -> str:
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)  # an authenticator app's binding is time-based
    return totp.at(t)


def test_verified_npi_binds_the_app(world: World) -> None:
    e = start(world, "ana")
    assert e.article_step == (2, "Select an authentication method")
    e.choose_method("authenticator")
    v = e.verify_npi(world.image("ana"))
    assert v.outcome == "verified" and v.region == 1
    offer = e.begin_app_binding()
    assert offer.uri.startswith("otpauth://totp/")
    secret = pyotp.parse_uri(offer.uri).byte_secret()
    assert len(secret) * 8 >= 160
    codes = e.confirm_app_binding(app_code(offer.uri, world.clock.time()))
    assert len(codes) == 10 and e.state == "confirm"
    assert e.bound is not None and e.bound.method is Method.AUTHENTICATOR and e.bound.owner == "ana"
    e.acknowledge_backup_codes()
    with pytest.raises(StepOutOfOrder):
        _ = e.backup_codes  # gone once acknowledged
    world.clock.advance(30)
    signed = e.test_sign_in(PASSWORD, app_code(offer.uri, world.clock.time()))
    assert signed.second_factor == e.bound.serial and e.state == "done"


@pytest.mark.parametrize("username,outcome", [("ben", "not_found"), ("li", "deactivated")])
def test_unverified_npi_is_redirected_to_code_generator(world: World, username: str, outcome: str) -> None:
    e = start(world, username)
    e.choose_method(Method.AUTHENTICATOR)
    v = e.verify_npi(world.image(username))
    assert v.outcome == outcome
    assert e.state == "redirected" and e.article_step[0] == 4
    with pytest.raises(StepOutOfOrder):
        e.begin_app_binding()
    e.acknowledge_redirect()
    e.add_new_device()
    assert e.enter_serial(" t1 ").serial == "T1"
    codes = e.synchronize(t1(world, -1), t1(world))
    assert len(set(codes)) == 10
    e.acknowledge_backup_codes()
    world.clock.advance(30)
    e.test_sign_in(PASSWORD, t1(world))
    assert e.state == "done"
    assert found(world.system.tokens.get("T1")).owner == username


def test_stop_binding_holds_even_when_core_is_called_directly(world: World) -> None:
    """Rule 8: forcing the state does not let an unverified provider bind the app."""
    e = start(world, "ben")
    e.choose_method("authenticator")
    e.verify_npi(world.image("ben"))
    e.state = e.state.__class__.APP_BINDING  # a buggy or hostile screen jumping ahead
    with pytest.raises(BindingStopped, match=r"IP-Auth-Stop-Binding-2\.0"):
        e.begin_app_binding()
    with pytest.raises(BindingStopped):
        e.confirm_app_binding("123456")
    with world.system.store.connect() as conn:
        assert conn.execute(tokens.select().where(tokens.c.owner == "ben")).first() is None


def test_flag_off_allows_legacy_app_binding(data_dir: Path, clock: ManualClock, credentials: CredentialStore) -> None:
    w = build_world(data_dir, clock, credentials, stop_binding=False)
    e = Enrollment.start(w.system, w.sign_in("ben"))
    e.choose_method("authenticator")
    assert e.verify_npi(w.image("ben")).outcome == "not_found"
    assert e.state == "app_binding"
    offer = e.begin_app_binding()
    e.confirm_app_binding(app_code(offer.uri, clock.time()))
    assert e.bound is not None and e.bound.owner == "ben"
    w.system.store.dispose()


def test_steps_refuse_out_of_order_calls(world: World) -> None:
    e = start(world, "ana")
    for call in (
        lambda: e.verify_npi("x"),
        e.begin_app_binding,
        e.acknowledge_redirect,
        e.add_new_device,
        lambda: e.enter_serial("T1"),
        lambda: e.synchronize("1", "2"),
        e.acknowledge_backup_codes,
        lambda: e.test_sign_in(PASSWORD, "123456"),
    ):
        with pytest.raises(StepOutOfOrder):
            call()
    e.choose_method("code_generator")
    assert e.state == "code_generator"
    with pytest.raises(StepOutOfOrder):
        e.choose_method("authenticator")


def test_back_goes_only_where_nothing_was_written(world: World) -> None:
    e = start(world, "ben")
    e.choose_method("code_generator")
    e.add_new_device()
    e.enter_serial("T1")
    assert e.back() == "serial_number"
    assert e.back() == "code_generator"
    assert e.back() == "select_method"
    with pytest.raises(StepOutOfOrder):
        e.back()


def test_someone_elses_image_is_refused(world: World) -> None:
    e = start(world, "raj")
    e.choose_method("authenticator")
    with pytest.raises(CrontoRejected) as err:
        e.verify_npi(world.image("ana"))
    assert err.value.reason == "other_user"
    # an image for raj's username carrying ana's NPI is refused too (rule 6)
    with pytest.raises(CrontoRejected) as err:
        e.verify_npi(world.image("raj", npi="1234567893"))
    assert err.value.reason == "other_user"
    assert e.state == "npi_verification"  # can scan again
    outcomes = [r.outcome for r in world.system.audit.rows(event="npi_verification")]
    assert outcomes == ["refused_other_user", "refused_other_user"]


def test_an_image_is_used_once(world: World) -> None:
    image = world.image("ben")
    e = start(world, "ben")
    e.choose_method("authenticator")
    e.verify_npi(image)
    e2 = start(world, "ben")
    e2.choose_method("authenticator")
    with pytest.raises(CrontoRejected) as err:
        e2.verify_npi(image)
    assert err.value.reason == "already_used"


def test_serial_errors_keep_the_step(world: World) -> None:
    e = start(world, "ben")
    e.choose_method("code_generator")
    e.add_new_device()
    with pytest.raises(TokenNotFound):
        e.enter_serial("NOPE-1")
    assert e.state == "serial_number"


def test_failed_sync_binds_nothing_and_is_audited(world: World) -> None:
    e = start(world, "ben")
    e.choose_method("code_generator")
    e.add_new_device()
    e.enter_serial("T1")
    with pytest.raises(SyncFailed) as err:
        e.synchronize(t1(world), t1(world, 5))
    assert err.value.wrong_field == "next"
    assert e.state == "synchronize"
    info = world.system.tokens.get("T1")
    assert info is not None and info.state is TokenState.AVAILABLE and info.owner is None
    with world.system.store.connect() as conn:
        outcomes = [r.outcome for r in conn.execute(audit.select().where(audit.c.event == "bind"))]
    assert outcomes == ["refused_SyncFailed"]


def test_binding_needs_a_fresh_sign_in(world: World) -> None:
    e = start(world, "ben")
    e.choose_method("code_generator")
    e.add_new_device()
    e.enter_serial("T1")
    world.clock.advance(16 * 60)
    with pytest.raises(FreshSignInRequired):
        e.synchronize(t1(world, -1), t1(world))


def test_wrong_app_code_is_refused_and_nothing_bound(world: World) -> None:
    e = start(world, "ana")
    e.choose_method("authenticator")
    e.verify_npi(world.image("ana"))
    offer = e.begin_app_binding()
    right = app_code(offer.uri, world.clock.time())
    wrong = "000000" if right != "000000" else "111111"
    with pytest.raises(CodeRefused):
        e.confirm_app_binding(wrong)
    assert e.state == "app_binding"
    e.confirm_app_binding(right)


def test_guided_setup_audits_it_staff_as_actor(world: World) -> None:
    e = Enrollment.start(world.system, world.sign_in("ben"), actor="ivy")
    e.choose_method("code_generator")
    e.add_new_device()
    e.enter_serial("T1")
    e.synchronize(t1(world, -1), t1(world))
    rows = [r for r in world.system.audit.rows(event="bind")]
    assert [(r.actor, r.subject, r.serial) for r in rows] == [("ivy", "ben", "T1")]


def test_wipe_forgets_secrets(world: World) -> None:
    e = start(world, "ana")
    e.choose_method("authenticator")
    e.verify_npi(world.image("ana"))
    e.begin_app_binding()
    e.wipe()
    assert e._app_secret is None and e._backup_codes is None


def test_each_region_answer_is_reported_as_it_comes(world: World) -> None:
    e = start(world, "ana")
    e.choose_method("authenticator")
    seen: list[tuple[int, str]] = []
    v = e.verify_npi(world.image("ana"), lambda a: seen.append((a.region, a.status)))
    assert sorted(seen) == [(1, "found"), (2, "not_found"), (3, "not_found"), (4, "not_found"), (5, "not_found")]
    assert v.outcome == "verified"


def test_a_failure_mid_binding_leaves_the_token_unbound(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule 25: the sync, the assignment, the backup codes and the audit row commit together."""
    e = start(world, "ben")
    e.choose_method("code_generator")
    e.add_new_device()
    e.enter_serial("T1")

    def power_cut(*_args: object) -> list[str]:
        raise OSError("disk gone")

    monkeypatch.setattr(world.system.backup_codes, "issue", power_cut)
    with pytest.raises(OSError):
        e.synchronize(t1(world, -1), t1(world))
    info = world.system.tokens.get("T1")
    assert info is not None and info.owner is None and info.state is TokenState.AVAILABLE and info.last_used == -1
    assert list(world.system.audit.rows(event="bind")) == []
    monkeypatch.undo()
    e.synchronize(t1(world, -1), t1(world))  # nothing half-done blocks a retry
    assert found(world.system.tokens.get("T1")).owner == "ben"


def test_a_refused_step_rolls_back_and_is_still_audited(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The codes were right (the resync already wrote), then the token was taken: nothing of
    the step may stay, yet the refusal is audited."""
    e = start(world, "ben")
    e.choose_method("code_generator")
    e.add_new_device()
    e.enter_serial("T1")

    def snapshot() -> tuple[list[object], list[object]]:
        with world.system.store.connect() as conn:
            return (
                [tuple(r) for r in conn.execute(tokens.select().order_by(tokens.c.serial))],
                [tuple(r) for r in conn.execute(backup_codes.select().order_by(backup_codes.c.code_hash))],
            )

    before = snapshot()

    def taken_meanwhile(_conn: object, serial: str, _username: str) -> None:
        raise TokenUnavailable(f"Token {serial} is no longer available.")

    monkeypatch.setattr(world.system.tokens, "assign", taken_meanwhile)
    with pytest.raises(TokenUnavailable):
        e.synchronize(t1(world, -1), t1(world))
    assert snapshot() == before
    assert e.state == "synchronize"
    outcomes = [(r.outcome, r.serial) for r in world.system.audit.rows(event="bind")]
    assert outcomes == [("refused_TokenUnavailable", "T1")]
    monkeypatch.undo()
    e.synchronize(t1(world, 1), t1(world, 2))
    assert found(world.system.tokens.get("T1")).owner == "ben"
