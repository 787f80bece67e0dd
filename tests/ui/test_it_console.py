"""The IT console (what `ipkiosk serve` runs per browser session), through Pilot on the demo data:
only the IT sign-in and the IT area; sign-out and the idle wipe come back to a blank IT sign-in;
leaving the IT area ends the App."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from core.clock import ManualClock
from kiosk.config import load_settings
from kiosk.it_console import GUIDED_SETUP_ELSEWHERE, ItConsoleApp, ItConsoleSignIn, create_it_console
from kiosk.services import build_services
from screens.welcome import WelcomeScreen
from tests.ui.conftest import PASSWORD, SIZE, Kiosk, ReturnT, screen_text, settle


@pytest.fixture
def console(demo_template: Path, tmp_path: Path, clock: ManualClock) -> Iterator[Kiosk]:
    import shutil

    data_dir = tmp_path / "demo"
    shutil.copytree(demo_template, data_dir)
    settings = load_settings(data_dir)
    services = build_services(settings, clock=clock)
    app = create_it_console(settings, services)
    yield Kiosk(app, services, clock, data_dir)
    services.close()


async def put(pilot: Pilot[ReturnT], selector: str, text: str, submit: bool = False) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    if submit:
        await pilot.press("enter")
    await settle(pilot)


async def it_sign_in(pilot: Pilot[ReturnT], console: Kiosk, username: str = "it.admin") -> None:
    assert isinstance(pilot.app.screen, ItConsoleSignIn)
    await put(pilot, "#username", username, submit=True)
    await put(pilot, "#password", PASSWORD, submit=True)
    await put(pilot, "#code", console.code("DEMO-IT01"), submit=True)


def area_shown(pilot: Pilot[ReturnT]) -> bool:
    return type(pilot.app.screen).__name__ == "ItAreaScreen"


async def test_starts_at_it_sign_in_and_needs_the_code(console: Kiosk) -> None:
    async with console.app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItConsoleSignIn)
        assert "IT staff sign-in" in screen_text(pilot)
        await put(pilot, "#username", "it.admin", submit=True)
        await put(pilot, "#password", PASSWORD, submit=True)
        assert not area_shown(pilot)  # the password alone opens nothing
        assert pilot.app.screen.query_one("#code", Input).display
        await put(pilot, "#code", console.code("DEMO-IT01"), submit=True)
        assert area_shown(pilot)


async def test_a_provider_is_refused(console: Kiosk) -> None:
    async with console.app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await put(pilot, "#username", "dr.rivera", submit=True)
        await put(pilot, "#password", PASSWORD, submit=True)
        assert isinstance(pilot.app.screen, ItConsoleSignIn)
        assert "for IT staff only" in screen_text(pilot)


async def test_no_guided_setup_and_the_inventory_opens(console: Kiosk) -> None:
    async with console.app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await it_sign_in(pilot, console)
        assert pilot.app.focused is not None and pilot.app.focused.id == "guided"
        await pilot.press("enter")  # the provider would sign in at the IT desk: refused, said why
        await settle(pilot)
        assert area_shown(pilot)
        assert any(GUIDED_SETUP_ELSEWHERE in str(n.message) for n in pilot.app._notifications)
        pilot.app.screen.query_one("#inventory", Button).press()
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ItTokenInventoryScreen"


async def test_sign_out_and_cancel_come_back_to_a_blank_it_sign_in(console: Kiosk) -> None:
    async with console.app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await it_sign_in(pilot, console)
        pilot.app.screen.query_one("#signout", Button).press()
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItConsoleSignIn)
        assert pilot.app.screen.is_blank()
        assert console.app.session.signed_in is None
        await put(pilot, "#username", "it.admin")
        pilot.app.screen.query_one("#cancel", Button).press()
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItConsoleSignIn) and pilot.app.screen.is_blank()
        assert not any(isinstance(s, WelcomeScreen) for s in pilot.app.screen_stack)


async def test_idle_wipe_signs_out_and_clears_typed_text(console: Kiosk) -> None:
    app = console.app
    assert isinstance(app, ItConsoleApp)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await it_sign_in(pilot, console)
        app._last_input = time.monotonic() - app.idle_timeout - 1  # the App's own idle clock
        await pilot.pause(1.3)
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItConsoleSignIn)
        assert app.session.signed_in is None
        # A half-typed sign-in is someone's input too.
        await put(pilot, "#password", "half-typed")
        app._last_input = time.monotonic() - app.idle_timeout - 1
        await pilot.pause(1.3)
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItConsoleSignIn) and pilot.app.screen.is_blank()


async def test_leaving_the_it_area_ends_the_app(console: Kiosk) -> None:
    async with console.app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await it_sign_in(pilot, console)
        pilot.app.screen.query_one("#leave", Button).press()
        await pilot.pause()
    assert console.app.return_code == 0
    assert console.app.session.signed_in is None


async def test_at_rest_the_idle_wipe_stays_quiet(console: Kiosk) -> None:
    app = console.app
    assert isinstance(app, ItConsoleApp)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app._last_input = time.monotonic() - app.idle_timeout - 1
        await pilot.pause(1.3)
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItConsoleSignIn)
        assert not pilot.app._notifications  # no "your session ended" for a session nobody had


async def test_a_setup_step_is_never_shown_and_wipes_the_session(console: Kiosk) -> None:
    from screens.messages import StepDone

    async with console.app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await it_sign_in(pilot, console)
        pilot.app.post_message(StepDone())
        await settle(pilot)
        assert isinstance(pilot.app.screen, ItConsoleSignIn) and pilot.app.screen.is_blank()
        assert console.app.session.signed_in is None
        assert any(GUIDED_SETUP_ELSEWHERE in str(n.message) for n in pilot.app._notifications)
