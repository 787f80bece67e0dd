"""A terminal below 80x24 (the smallest every screen is laid out for): a notice says so, in the
kiosk's language, with the size it is and the size needed; the screen under it keeps what was
typed and its focus, takes no key, and is back as it was once the terminal is large enough.
The idle wipe goes on meanwhile."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from textual.widgets._toast import Toast

from core.clock import ManualClock
from screens.messages import Ending
from screens.sign_in import SignInScreen
from screens.welcome import WelcomeScreen
from screens.widgets.small_terminal import SmallTerminalNotice
from tests.ui.conftest import SIZE, Kiosk, fill, kiosk_app, make_kiosk, settle


def notice(pilot: Pilot[Any]) -> str | None:
    """The notice's text, if the current screen shows one."""
    found = pilot.app.screen.query(SmallTerminalNotice)
    if not found:
        return None
    shown = found.first()
    # Drawn over the whole screen: nothing of the screen under it is seen.
    assert shown.display and shown.region == pilot.app.screen.region
    for corner in ((0, 0), (shown.region.right - 1, shown.region.bottom - 1)):  # the header's, the footer's
        assert pilot.app.get_widget_at(*corner)[0] is shown
    return str(shown.render())


async def resize(pilot: Pilot[Any], width: int, height: int) -> None:
    await pilot.resize_terminal(width, height)
    await settle(pilot)


async def to_sign_in(pilot: Pilot[Any]) -> Input:
    """The sign-in form with a username typed and the password field half typed, focused."""
    await settle(pilot)
    await pilot.click("#enroll")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SignInScreen)
    await fill(pilot, "#username", "dr.okafor", type_it=True)
    await fill(pilot, "#password", "demo-pass", type_it=True)
    password = pilot.app.screen.query_one("#password", Input)
    assert pilot.app.focused is password
    return password


@pytest.mark.parametrize("size", [(60, 20), (79, 24), (80, 23), (30, 8)])
async def test_a_terminal_below_80x24_shows_the_notice_with_both_sizes(kiosk: Kiosk, size: tuple[int, int]) -> None:
    async with kiosk.app.run_test(size=size) as pilot:
        await settle(pilot)
        text = notice(pilot)
        assert text is not None
        assert "This window is too small for the kiosk." in text
        assert f"It is {size[0]}x{size[1]}; the kiosk needs at least 80x24." in text


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_no_notice_at_80x24_or_more(kiosk: Kiosk, size: tuple[int, int]) -> None:
    async with kiosk.app.run_test(size=size) as pilot:
        await settle(pilot)
        assert notice(pilot) is None
        assert not kiosk.app.too_small


async def test_the_notice_follows_the_size_and_goes_away(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert notice(pilot) is None
        await resize(pilot, 60, 20)
        assert "It is 60x20;" in (notice(pilot) or "")
        await resize(pilot, 79, 30)
        assert "It is 79x30;" in (notice(pilot) or "")
        await resize(pilot, 80, 24)
        assert notice(pilot) is None
        assert not pilot.app.screen.query(SmallTerminalNotice)


async def test_the_screen_comes_back_with_what_was_typed_and_its_focus(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        password = await to_sign_in(pilot)
        screen = pilot.app.screen
        cursor = password.cursor_position
        await resize(pilot, 60, 20)
        assert notice(pilot) is not None
        await resize(pilot, *SIZE)
        assert notice(pilot) is None
        assert pilot.app.screen is screen
        assert screen.query_one("#username", Input).value == "dr.okafor"
        assert password.value == "demo-pass" and password.cursor_position == cursor
        assert pilot.app.focused is password
        # And it takes keys again where it left off.
        await pilot.press(*"word")
        assert password.value == "demo-password"


async def test_keys_on_the_notice_do_nothing_to_the_hidden_screen(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        password = await to_sign_in(pilot)
        await pilot.press(*"word")  # the whole password: Enter would sign in
        screen = pilot.app.screen
        await resize(pilot, 60, 20)
        await pilot.press("x", "y", "backspace", "tab", "shift+tab", "escape", "f1", "f10", "enter")
        await settle(pilot)
        assert pilot.app.screen is screen and len(pilot.app.screen_stack) == 2  # no help, no sign-in
        assert kiosk_app(pilot).session.signed_in is None
        assert password.value == "demo-password" and pilot.app.focused is password
        assert "xy" not in (notice(pilot) or "")  # nothing typed shows on the notice either
        await pilot.click(SmallTerminalNotice)
        await settle(pilot)
        assert pilot.app.screen is screen and pilot.app.focused is password
        await resize(pilot, *SIZE)
        assert password.value == "demo-password" and pilot.app.focused is password
        await pilot.press("enter")  # once seen again, it acts
        await settle(pilot)
        assert kiosk_app(pilot).session.signed_in is not None


async def test_a_screen_shown_while_small_is_covered_too(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await to_sign_in(pilot)
        await resize(pilot, 60, 20)
        kiosk_app(pilot).end_session(Ending.SIGNED_OUT)  # as a route or a failure would switch it
        await settle(pilot)
        assert isinstance(pilot.app.screen, WelcomeScreen)
        assert notice(pilot) is not None
        kiosk_app(pilot).action_help()  # a dialog pushed on top
        await settle(pilot)
        assert notice(pilot) is not None
        await resize(pilot, *SIZE)
        assert not any(s.query(SmallTerminalNotice) for s in pilot.app.screen_stack)


async def test_the_idle_wipe_goes_on_under_the_notice(demo_template: Path, tmp_path: Path, clock: ManualClock) -> None:
    k = make_kiosk(demo_template, tmp_path, clock, idle_timeout=10.0, idle_warning=4.0)
    app = k.app
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await to_sign_in(pilot)
        await pilot.press(*"word", "enter")
        await settle(pilot)
        assert app.session.signed_in is not None
        await resize(pilot, 60, 20)
        # The warning says what will keep the session, since a key alone does not here.
        app._last_input = time.monotonic() - (app.idle_timeout - app.idle_warning + 1)
        app._check_idle()
        await settle(pilot)
        warnings = [n.message for n in app._notifications]
        assert any("Make the window larger, then press any key." in w for w in warnings), warnings
        toast = pilot.app.screen.query_one(Toast)  # and it is drawn over the notice, not under
        assert pilot.app.get_widget_at(toast.region.x + 1, toast.region.y + 1)[0] in (toast, *toast.query("*"))
        # A key pressed at the notice is not presence: the session ends all the same.
        app._last_input = time.monotonic() - app.idle_timeout - 1
        await pilot.press("a")
        app._check_idle()
        await settle(pilot)
        assert app.session.signed_in is None
        assert isinstance(pilot.app.screen, WelcomeScreen)
        assert notice(pilot) is not None  # the terminal is still small
    k.services.close()


async def test_the_notice_in_spanish(demo_template: Path, tmp_path: Path, clock: ManualClock) -> None:
    k = make_kiosk(demo_template, tmp_path, clock, language="es")
    async with k.app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        text = notice(pilot) or ""
        assert "Esta ventana es demasiado pequeña para el quiosco." in text
        assert "Mide 60x20; el quiosco necesita al menos 80x24." in text
        assert "too small" not in text
    k.services.close()


def test_notice_snapshot(snap_compare: Any, kiosk: Kiosk) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)

    assert snap_compare(kiosk.app, terminal_size=(60, 20), run_before=run_before)
