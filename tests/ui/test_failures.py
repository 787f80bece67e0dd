"""Nothing raised inside the kiosk ends it (security rules 21 and 30): whatever a step's entry
call, a screen's compose or mount, a handler, a key's action, a timer or a worker raises lands
on the failure screen, with the App up and a way on (sign in again, or back to the welcome
screen)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from core.clock import ManualClock
from core.enrollment import FRESH_SIGNIN_SECONDS, Enrollment, Step
from core.errors import KioskError
from kiosk.app import step_screens
from screens.base import KioskScreen
from screens.enrollment.authenticator_binding import AuthenticatorBindingScreen
from screens.enrollment.base import StepScreen
from screens.enrollment.code_generator import CodeGeneratorScreen
from screens.enrollment.select_method import SelectMethodScreen
from screens.enrollment.two_factor_settings import TwoFactorSettingsScreen
from screens.failure import FailureScreen
from screens.messages import StepDone
from screens.session import KioskSession
from screens.sign_in import SignInScreen
from screens.welcome import WelcomeScreen
from tests.ui.conftest import (
    PASSWORD,
    SIZE,
    Kiosk,
    ReturnT,
    choose_method,
    fill,
    kiosk_app,
    make_kiosk,
    screen_text,
    settle,
    to_npi_step,
)

SECRET_IN_BUG = "seed=JBSWY3DPEHPK3PXP"  # what a bug's text might carry: never shown, never logged


def test_every_step_has_a_screen() -> None:
    screens = step_screens()
    assert set(screens) == set(Step)
    assert all(issubclass(screen, StepScreen) for screen in screens.values())


def raising(error: BaseException) -> Callable[..., Any]:
    def boom(*_args: object, **_kwargs: object) -> Any:
        raise copy.copy(error)  # a fresh one each time, with its own traceback

    return boom


async def sign_in_for_setup(pilot: Pilot[ReturnT]) -> None:
    await pilot.click("#enroll")
    await settle(pilot)
    await fill(pilot, "#username", "dr.okafor")
    await fill(pilot, "#password", PASSWORD, submit=True)
    assert isinstance(pilot.app.screen, TwoFactorSettingsScreen)


async def assert_failure_then_go_on(pilot: Pilot[ReturnT], *expected: str) -> None:
    """The App is up on the failure screen, nobody is signed in, and signing in again works."""
    await settle(pilot)
    app = kiosk_app(pilot)
    assert app.is_running
    assert isinstance(app.screen, FailureScreen), type(app.screen).__name__
    text = screen_text(pilot)
    assert all(words in text for words in expected), text
    assert SECRET_IN_BUG not in text and "Traceback" not in text
    assert app.session.signed_in is None and app.session.enrollment is None
    await pilot.click("#sign-in-again")
    await settle(pilot)
    assert isinstance(app.screen, SignInScreen)
    await fill(pilot, "#username", "dr.okafor")
    await fill(pilot, "#password", PASSWORD, submit=True)
    assert isinstance(app.screen, TwoFactorSettingsScreen)


@pytest.mark.parametrize("step", list(Step))
async def test_an_error_in_any_step_entry_keeps_the_kiosk_up(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch, step: Step, caplog: pytest.LogCaptureFixture
) -> None:
    screen = step_screens()[step]
    errors: list[tuple[BaseException, tuple[str, ...]]] = [
        (KioskError("The store is busy.", "Try again in a minute."), ("The store is busy.", "Try again in a minute.")),
        (RuntimeError(SECRET_IN_BUG), ("Something went wrong on this kiosk.", "ask IT staff")),
    ]
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await sign_in_for_setup(pilot)
        for error, expected in errors:
            monkeypatch.setattr(screen, "enter", classmethod(raising(error)))
            kiosk.app.session.begin_enrollment().state = step
            pilot.app.post_message(StepDone())
            await assert_failure_then_go_on(pilot, *expected)
        # The way back to the welcome screen works too.
        kiosk.app.session.begin_enrollment().state = step
        pilot.app.post_message(StepDone())
        await settle(pilot)
        await pilot.click("#welcome")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WelcomeScreen)
    assert "unexpected RuntimeError" in caplog.text
    assert SECRET_IN_BUG not in caplog.text


def _patch_compose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SelectMethodScreen, "body", raising(RuntimeError(SECRET_IN_BUG)))


def _patch_mount(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SelectMethodScreen, "on_mount", raising(RuntimeError(SECRET_IN_BUG)))


def _patch_router(monkeypatch: pytest.MonkeyPatch) -> None:
    # Raised inside the App's own message handler (StepDone), not a screen's.
    monkeypatch.setattr("kiosk.app.step_screens", raising(RuntimeError(SECRET_IN_BUG)))


@pytest.mark.parametrize("patch", [_patch_compose, _patch_mount, _patch_router], ids=["compose", "mount", "router"])
async def test_an_error_while_a_screen_is_built_keeps_the_kiosk_up(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch, patch: Callable[[pytest.MonkeyPatch], None]
) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await sign_in_for_setup(pilot)
        patch(monkeypatch)
        await pilot.click("#setup")
        await assert_failure_then_go_on(pilot, "Something went wrong on this kiosk.")


async def test_an_error_in_a_handler_an_action_a_timer_or_a_worker_keeps_the_kiosk_up(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch
) -> None:
    bug = RuntimeError(SECRET_IN_BUG)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await choose_method(pilot, "dr.okafor", "code_generator")
        assert isinstance(pilot.app.screen, CodeGeneratorScreen)

        monkeypatch.setattr(Enrollment, "add_new_device", raising(bug))  # in a button's handler
        await pilot.click("#add")
        await assert_failure_then_go_on(pilot, "Something went wrong on this kiosk.")

        await pilot.click("#setup")
        await settle(pilot)
        monkeypatch.setattr(SelectMethodScreen, "action_back", raising(bug))  # Escape's action
        await pilot.press("escape")
        await assert_failure_then_go_on(pilot, "Something went wrong on this kiosk.")

        screen = pilot.app.screen
        assert isinstance(screen, KioskScreen)
        screen.set_timer(0.01, raising(bug))
        await pilot.pause(0.1)
        await assert_failure_then_go_on(pilot, "Something went wrong on this kiosk.")

        pilot.app.screen.run_worker(raising(bug), thread=True)  # exit_on_error left at True
        await assert_failure_then_go_on(pilot, "Something went wrong on this kiosk.")


async def to_app_binding_step(pilot: Pilot[ReturnT]) -> None:
    await to_npi_step(pilot, "dr.rivera")
    assert "NPI verified" in screen_text(pilot)


async def test_a_stale_sign_in_at_app_binding_asks_to_sign_in_again(kiosk: Kiosk) -> None:
    """Security rule 16 refuses the step; rule 30 keeps the kiosk up while it does."""
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await to_app_binding_step(pilot)
        kiosk.clock.advance(16 * 60)
        await pilot.click("#continue")
        await settle(pilot)
        assert pilot.app.is_running and isinstance(pilot.app.screen, FailureScreen)
        text = screen_text(pilot)
        assert "Your sign-in is too old to change two-factor settings." in text
        assert "Sign in again" in text
        assert "otpauth" not in text
        await pilot.click("#sign-in-again")
        await settle(pilot)
        assert isinstance(pilot.app.screen, SignInScreen)
        await fill(pilot, "#username", "dr.rivera")
        await fill(pilot, "#password", PASSWORD, submit=True)
        assert isinstance(pilot.app.screen, TwoFactorSettingsScreen)
    assert kiosk.services.system.tokens.list(owner="dr.rivera") == []


async def test_a_sign_in_gone_stale_on_the_binding_screen_asks_to_sign_in_again(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await to_app_binding_step(pilot)
        await pilot.click("#continue")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AuthenticatorBindingScreen)
        key = str(pilot.app.screen.query_one("#manual-key", Static).render()).replace(" ", "")
        kiosk.clock.advance(FRESH_SIGNIN_SECONDS + 60)
        await fill(pilot, "#code", pyotp.TOTP(key).at(kiosk.clock.time()), submit=True)
        assert pilot.app.is_running and isinstance(pilot.app.screen, FailureScreen)
        assert "Your sign-in is too old" in screen_text(pilot)
    assert kiosk.services.system.tokens.list(owner="dr.rivera") == []


async def test_the_idle_wipe_works_on_the_failure_screen(
    demo_template: Path, tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    k = make_kiosk(demo_template, tmp_path, clock, idle_timeout=2.0, idle_warning=1.0)
    monkeypatch.setattr(SelectMethodScreen, "enter", classmethod(raising(RuntimeError(SECRET_IN_BUG))))
    async with k.app.run_test(size=SIZE) as pilot:
        await sign_in_for_setup(pilot)
        await pilot.click("#setup")
        await settle(pilot)
        assert isinstance(pilot.app.screen, FailureScreen)
        await pilot.pause(3.5)
        await settle(pilot)
        assert isinstance(pilot.app.screen, WelcomeScreen)
    k.services.close()


async def test_a_step_prepared_for_a_wiped_session_is_not_shown(kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry call still running when the person signs out (or times out) is dropped."""
    import threading

    release = threading.Event()
    real_enter = SelectMethodScreen.enter

    def slow_enter(cls: type[SelectMethodScreen], session: KioskSession) -> Callable[[], SelectMethodScreen]:
        release.wait(5)
        return real_enter(session)

    monkeypatch.setattr(SelectMethodScreen, "enter", classmethod(slow_enter))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await sign_in_for_setup(pilot)
        await pilot.click("#setup")
        await pilot.pause()
        await pilot.press("f10")  # sign out while the step is being prepared
        await pilot.pause()
        release.set()
        await settle(pilot)
        assert isinstance(pilot.app.screen, WelcomeScreen)
        assert kiosk.app.session.signed_in is None
