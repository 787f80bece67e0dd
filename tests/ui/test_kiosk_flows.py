"""Whole flows through the kiosk with Textual's Pilot, on demo data and a manual clock."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from textual.widgets import Button, Checkbox, DataTable, Input, Static

from core.clock import ManualClock
from screens.enrollment.authenticator_binding import AuthenticatorBindingScreen
from screens.enrollment.binding_stopped import BindingStoppedScreen
from screens.enrollment.confirm import ConfirmScreen
from screens.enrollment.setup_complete import SetupCompleteScreen
from screens.enrollment.synchronize import SynchronizeScreen
from screens.enrollment.two_factor_settings import TwoFactorSettingsScreen
from screens.help import HelpScreen
from screens.token_signed_in import TokenSignedInScreen
from screens.welcome import WelcomeScreen
from tests.ui.conftest import (
    PASSWORD,
    SIZE,
    Kiosk,
    choose_method,
    fill,
    make_kiosk,
    screen_text,
    settle,
    sign_in,
    to_npi_step,
)


async def test_not_found_path_end_to_end(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await to_npi_step(pilot, "dr.okafor")
        text = screen_text(pilot)
        assert "not found in the iPrescribe system (regions 1-5)" in text
        table = pilot.app.screen.query_one("#regions", DataTable)
        assert table.row_count == 5
        await pilot.click("#continue")
        await settle(pilot)
        assert isinstance(pilot.app.screen, BindingStoppedScreen)
        text = screen_text(pilot)
        assert "iPrescribe Authenticator cannot be bound to your device" in text
        assert "IP-Auth-Stop-Binding-2.0" in text and "not an error" in text
        await pilot.press("enter")
        await settle(pilot)
        assert "Code Generator setup" in screen_text(pilot)
        await pilot.click("#add")
        await settle(pilot)
        await fill(pilot, "#serial", "NOPE-9", submit=True)
        assert "No token with serial number NOPE-9" in screen_text(pilot)
        await fill(pilot, "#serial", "demo-0001", submit=True)
        assert isinstance(pilot.app.screen, SynchronizeScreen)
        await fill(pilot, "#current", kiosk.code("DEMO-0001", -1))
        await fill(pilot, "#next", kiosk.code("DEMO-0001"), submit=True)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        assert "DEMO-0001 is now active" in screen_text(pilot)
        codes = str(pilot.app.screen.query_one("#codes", Static).render()).split("\n")
        backup = codes[0].split()[-1]
        assert pilot.app.screen.query_one("#continue", Button).disabled
        pilot.app.screen.query_one("#stored", Checkbox).value = True
        await settle(pilot)
        await pilot.click("#continue")
        await settle(pilot)
        kiosk.clock.advance(30)
        await fill(pilot, "#password", PASSWORD)
        await fill(pilot, "#code", kiosk.code("DEMO-0001"), submit=True)
        assert isinstance(pilot.app.screen, SetupCompleteScreen)
        await pilot.click("#finish")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WelcomeScreen)
        assert kiosk.app.session.signed_in is None and kiosk.app.session.enrollment is None

        # "Using your hardware token": password, then the code; a backup code also works.
        kiosk.clock.advance(30)
        await sign_in(pilot, "dr.okafor", "token", code=kiosk.code("DEMO-0001"))
        assert isinstance(pilot.app.screen, TokenSignedInScreen)
        await pilot.click("#signout")
        await settle(pilot)
        await sign_in(pilot, "dr.okafor", "token", code=backup.lower())
        assert "backup code" in screen_text(pilot) and "9 left" in screen_text(pilot)


async def test_verified_path_binds_the_app(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await to_npi_step(pilot, "dr.rivera")
        assert "NPI verified" in screen_text(pilot)
        await pilot.click("#continue")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AuthenticatorBindingScreen)
        key = str(pilot.app.screen.query_one("#manual-key", Static).render()).replace(" ", "")
        code = pyotp.TOTP(key).at(kiosk.clock.time())
        await fill(pilot, "#code", code, submit=True)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        assert "iPrescribe Authenticator is now bound" in screen_text(pilot)
        factors = kiosk.services.system.tokens.list(owner="dr.rivera")
        assert [f.method.value for f in factors] == ["authenticator"]


@pytest.mark.parametrize(
    "username,expected",
    [
        ("dr.chen", "deactivated"),
        ("dr.patel", "This enrollment image belongs to a different user."),
    ],
)
async def test_npi_refusals_are_explained(kiosk: Kiosk, username: str, expected: str) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await to_npi_step(pilot, username)
        assert expected in screen_text(pilot)


async def test_token_sign_in_refusals(kiosk: Kiosk) -> None:
    """Each refusal in the article's troubleshooting words (it.admin has DEMO-IT01 bound)."""
    serial = "DEMO-IT01"
    tokens = kiosk.services.system.tokens
    with kiosk.services.store.begin() as conn:
        tokens.resync(conn, serial, kiosk.code(serial, -1), kiosk.code(serial))
    kiosk.clock.advance(30)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "it.admin", "token")
        assert pilot.app.screen.query_one("#code").display  # password alone is not enough
        cases = [
            (kiosk.code(serial, -4), "Code expired."),
            (kiosk.code(serial, 300), "Contact IT support to resync your token"),
            ("12345", "Verify you have entered the code correctly"),
        ]
        for code, message in cases:
            await fill(pilot, "#code", code, submit=True)
            assert message in screen_text(pilot), code
        await fill(pilot, "#code", kiosk.code(serial), submit=True)
        assert isinstance(pilot.app.screen, TokenSignedInScreen)
        await pilot.click("#signout")
        await settle(pilot)
        await sign_in(pilot, "it.admin", "token", code=kiosk.code(serial))
        assert "already used" in screen_text(pilot)
        for _ in range(9):  # the reuse above was failure 1; the 10th locks
            await fill(pilot, "#code", "000000" if kiosk.code(serial, 1) != "000000" else "111111", submit=True)
        assert "locked" in screen_text(pilot).lower()


async def test_wrong_password_says_so_and_clears_it(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await pilot.click("#enroll")
        await settle(pilot)
        await fill(pilot, "#username", "dr.okafor")
        await fill(pilot, "#password", "not it at all", submit=True)
        assert "username or password is not correct" in screen_text(pilot)
        assert pilot.app.screen.query_one("#password", Input).value == ""


async def test_idle_timeout_wipes_the_session(demo_template: Path, tmp_path: Path, clock: ManualClock) -> None:
    k = make_kiosk(demo_template, tmp_path, clock, idle_timeout=2.0, idle_warning=1.0)
    async with k.app.run_test(size=SIZE) as pilot:
        await to_npi_step(pilot, "dr.rivera")
        await pilot.click("#continue")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AuthenticatorBindingScreen)
        k.app.action_help()  # a dialog open on top must go too
        await settle(pilot)
        await pilot.pause(3.5)
        await settle(pilot)
        assert isinstance(pilot.app.screen, WelcomeScreen)
        assert len(pilot.app.screen_stack) == 2
        assert k.app.session.signed_in is None and k.app.session.enrollment is None
        assert "otpauth" not in screen_text(pilot)
    k.services.close()


async def test_no_key_quits_the_kiosk(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        for key in ("ctrl+q", "ctrl+c", "escape", "q", "ctrl+d", "ctrl+backslash", "ctrl+p", "f10", "alt+f4"):
            await pilot.press(key)
            await settle(pilot)
            assert pilot.app.is_running, key
        pilot.app.exit()  # only code can; the IT area's Leave button is the one way a person can
        assert not kiosk.app.check_action("quit", ())


async def test_f1_opens_help_everywhere(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        await sign_in(pilot, "dr.okafor")
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TwoFactorSettingsScreen)


async def test_escape_goes_back_where_safe(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await choose_method(pilot, "dr.okafor", "code_generator")
        await pilot.click("#add")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert "Code Generator setup" in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert "Select an authentication method" in screen_text(pilot)


async def test_a_kiosk_that_cannot_open_its_store_says_why(tmp_path: Path) -> None:
    """Services open after the first frame; a failure is shown plainly and IT can leave."""
    from kiosk.app import create_app
    from kiosk.config import load_settings
    from screens.startup_failed import StartupFailedScreen

    settings = load_settings(
        tmp_path, keyring="memory", database_url="postgresql://kiosk@127.0.0.1:1/nowhere", idle_timeout=1.0
    )
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await settle(pilot)
            if isinstance(pilot.app.screen, StartupFailedScreen):
                break
            await pilot.pause(0.1)
        assert isinstance(pilot.app.screen, StartupFailedScreen)
        assert "Cannot open the kiosk store" in screen_text(pilot)
        assert "password" not in screen_text(pilot).lower()
        await pilot.pause(2.5)  # past the idle timeout: the failure stays on screen
        assert isinstance(pilot.app.screen, StartupFailedScreen)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert app.return_code == 2


async def test_the_redirect_counts_on_the_kiosks_clock_and_moves_on_by_itself(kiosk: Kiosk, clock: ManualClock) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await to_npi_step(pilot, "dr.chen")  # deactivated: binding stops
        await pilot.click("#continue")
        await settle(pilot)
        assert isinstance(pilot.app.screen, BindingStoppedScreen)
        await pilot.pause(0.7)  # timer ticks, but the kiosk's clock has not moved
        assert "setup in 10 s." in screen_text(pilot)
        clock.advance(6.5)
        await pilot.pause(0.7)
        assert "setup in 4 s." in screen_text(pilot)
        clock.advance(4)
        await pilot.pause(0.7)
        await settle(pilot)
        assert "Code Generator setup" in screen_text(pilot)
        assert not isinstance(pilot.app.screen, BindingStoppedScreen)
