"""Keys that arrive in a burst (a fast typist, a password manager, a keyboard-wedge reader sending
"user<Tab>password<Enter>") land in the fields they were typed for: the password never shows,
in clear, in the username field (screens/widgets/fields.py)."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.keys import _character_to_key  # what Pilot itself uses to name a typed character
from textual.pilot import Pilot
from textual.widgets import Input

from screens.widgets.fields import LeadingInput
from tests.ui.conftest import PASSWORD, Kiosk, ReturnT, settle, to_synchronize


async def burst(pilot: Pilot[ReturnT], *parts: str) -> None:
    """Every key handed to the App before the App handles any: how a terminal delivers typing
    faster than the screen answers (Pilot's own `press` waits after each key)."""
    app = pilot.app
    assert app._driver is not None
    for part in parts:
        keys = [part] if part in ("tab", "enter", "shift+tab") else list(part)
        for key in keys:
            char = key if len(key) == 1 else None
            event = events.Key(_character_to_key(key) if char else key, char)
            event.set_sender(app)
            app._driver.send_message(event)
    await settle(pilot)


def value(pilot: Pilot[ReturnT], selector: str) -> str:
    return pilot.app.screen.query_one(selector, Input).value


async def test_username_tab_password_in_one_burst(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.click("#enroll")
        await settle(pilot)
        await burst(pilot, "dr.okafor", "tab", PASSWORD)
        assert (value(pilot, "#username"), value(pilot, "#password")) == ("dr.okafor", PASSWORD)


async def test_username_enter_password_enter_in_one_burst_signs_in(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.click("#enroll")
        await settle(pilot)
        await burst(pilot, "dr.okafor", "enter", PASSWORD, "enter")
        assert type(pilot.app.screen).__name__ == "TwoFactorSettingsScreen"


async def test_two_codes_in_one_burst(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=(100, 32)) as pilot:
        await to_synchronize(pilot)
        pilot.app.screen.query_one("#current", Input).focus()
        await settle(pilot)
        await burst(pilot, "123456", "enter", "654321")
        assert (value(pilot, "#current"), value(pilot, "#next")) == ("123456", "654321")


class Fields(App[None]):
    """Three fields as the IT area's signature dialog has them: Enter moves on in Tab order."""

    def compose(self) -> ComposeResult:
        yield LeadingInput(id="who", placeholder="username")
        yield LeadingInput(id="secret", placeholder="password", password=True)
        yield Input(id="last", placeholder="code")


async def test_enter_moves_on_in_tab_order_within_a_burst() -> None:
    app = Fields()
    async with app.run_test() as pilot:
        app.query_one("#who", Input).focus()
        await settle(pilot)
        await burst(pilot, "it.admin", "enter", "s3cret", "enter", "123456")
        assert [value(pilot, f"#{f}") for f in ("who", "secret", "last")] == ["it.admin", "s3cret", "123456"]
