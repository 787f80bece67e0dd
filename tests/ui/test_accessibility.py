"""Issue 13, accessible and keyboard-true: the countdown keeps counting, contrast toggles on every
screen, nothing but a real control takes the focus and the focused one is in view."""

from __future__ import annotations

import pytest
from textual.containers import ScrollableContainer
from textual.widgets import ProgressBar, Static

from core.clock import ManualClock
from tests.ui.conftest import Kiosk, choose_method, fill, settle
from tests.ui.test_snapshots import SCREENS, fixed_randomness, journeys  # noqa: F401 - a fixture


async def _to_sync(pilot, k: Kiosk) -> None:  # type: ignore[no-untyped-def]
    await choose_method(pilot, "dr.okafor", "code_generator")
    await pilot.click("#add")
    await settle(pilot)
    await fill(pilot, "#serial", "DEMO-0002", submit=True)
    assert type(pilot.app.screen).__name__ == "SynchronizeScreen"


async def test_the_countdown_keeps_counting(kiosk: Kiosk, clock: ManualClock) -> None:
    async with kiosk.app.run_test(size=(100, 32)) as pilot:
        await _to_sync(pilot, kiosk)
        clock.set(clock.time() - clock.time() % 30 + 4)  # 26 s left in this 30 s step
        await pilot.pause(0.7)
        text = pilot.app.screen.query_one("#countdown-text", Static)
        bar = pilot.app.screen.query_one("#countdown", ProgressBar)
        assert "about 26 s" in str(text.render())
        assert bar.progress == 4
        clock.advance(10)
        await pilot.pause(0.7)
        assert bar.progress == 14
        assert "about 16 s" in str(text.render())
        assert "about 16" in on_screen(pilot), "the text changed but the screen still shows the old one"


def on_screen(pilot) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows now, as text (the compositor's last frame)."""
    import re
    from html import unescape

    svg = pilot.app.export_screenshot()
    return unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


# -- the focus ---------------------------------------------------------------------------------


async def tab_through(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    """Tab round every focus stop of the screen; each must be a real control, whole on screen."""
    screen = pilot.app.screen
    stops = [w for w in screen.focus_chain]
    seen = []
    for _ in range(len(stops) + 1):
        await pilot.press("tab")
        await pilot.pause()
        focused = pilot.app.focused
        if focused is None:
            continue
        seen.append(f"{type(focused).__name__}#{focused.id}")
        wraps_controls = isinstance(focused, ScrollableContainer) and any(
            w.can_focus for w in focused.query("*") if w is not focused
        )
        assert not wraps_controls, f"Tab landed on a container: {seen[-1]}"
        region = focused.region
        assert pilot.app.screen.region.contains_region(region), f"{seen[-1]} is off screen"
        assert region.size == focused.outer_size, f"{seen[-1]} is not whole on screen: {region}"
    return seen


@pytest.mark.parametrize("size", [(80, 24), (100, 32)], ids=["80x24", "100x32"])
@pytest.mark.parametrize("name", SCREENS)
@pytest.mark.usefixtures("fixed_randomness")
async def test_tab_lands_only_on_visible_controls(name: str, size: tuple[int, int], kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=size) as pilot:
        await journeys(kiosk)[name](pilot)
        await settle(pilot)
        await tab_through(pilot)


IT_TASKS = ["area", "inventory", "import", "resync", "lost", "unlock", "npi", "audit", "guided"]


@pytest.mark.parametrize("task", IT_TASKS)
async def test_tab_in_the_it_area(task: str, kiosk: Kiosk) -> None:
    from tests.ui.test_it_snapshots import navigate

    async with kiosk.app.run_test(size=(80, 24)) as pilot:
        await navigate(kiosk, None if task == "area" else task)(pilot)
        assert await tab_through(pilot)


# -- contrast ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["welcome", "sign_in", "synchronize", "help"])
@pytest.mark.usefixtures("fixed_randomness")
async def test_f2_toggles_contrast_on_every_screen(name: str, kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=(80, 24)) as pilot:
        await journeys(kiosk)[name](pilot)
        before = type(pilot.app.screen)
        assert pilot.app.theme == "textual-dark"
        await pilot.press("f2")
        await pilot.pause()
        assert pilot.app.theme == "kiosk-high-contrast"
        assert type(pilot.app.screen) is before  # the key changes the look, nothing else
        await pilot.press("f2")
        await pilot.pause()
        assert pilot.app.theme == "textual-dark"


async def test_theme_and_text_size_come_from_config(demo_template, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import make_kiosk

    k = make_kiosk(demo_template, tmp_path, clock, theme="high-contrast", text_size="large")
    try:
        async with k.app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert pilot.app.theme == "kiosk-high-contrast"
            assert pilot.app.has_class("-large-text")
            lead = pilot.app.screen.query_one(".lead", Static)
            assert lead.styles.text_style.bold
    finally:
        k.services.close()


def test_a_bad_theme_is_a_config_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from core.errors import ConfigError
    from kiosk.config import load_settings

    with pytest.raises(ConfigError, match="theme"):
        load_settings(tmp_path, theme="neon")


async def test_focus_is_distinct_without_colour(kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under NO_COLOR only shape and text style are left to tell the focused field from the rest."""
    from kiosk.app import create_app

    monkeypatch.setenv("NO_COLOR", "1")
    app = create_app(kiosk.app.settings, kiosk.services)
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.click("#enroll")
        await settle(pilot)
        username = pilot.app.screen.query_one("#username")
        password = pilot.app.screen.query_one("#password")
        username.focus()
        await pilot.pause()
        assert username.styles.border_top[0] != password.styles.border_top[0]
        button = pilot.app.screen.query("Button").first()
        button.focus()
        await pilot.pause()
        assert button.styles.text_style.reverse


# -- the demo token on the kiosk's own screen (one terminal for the laptop demo) -----------------


def footer_actions(pilot) -> set[str]:  # type: ignore[no-untyped-def]
    return {b.binding.action for b in pilot.app.screen.active_bindings.values()}


async def test_f3_shows_the_demo_tokens_display_on_the_demo(kiosk: Kiosk, clock: ManualClock) -> None:
    async with kiosk.app.run_test(size=(80, 24)) as pilot:
        await _to_sync(pilot, kiosk)
        clock.set(clock.time() - clock.time() % 30 + 4)
        assert "demo_token" in footer_actions(pilot)
        await pilot.press("f3")
        await settle(pilot)
        panel = pilot.app.screen.query_one("#demo-token", Static)
        code = kiosk.code("DEMO-0002")
        shown = str(panel.render())
        assert f"{code[:3]} {code[3:]}" in shown and "changes in 26 s" in shown
        clock.advance(30)  # the next code, as the token's own display would show
        await pilot.pause(0.7)
        await settle(pilot)
        following = kiosk.code("DEMO-0002")
        assert f"{following[:3]} {following[3:]}" in str(panel.render())
        # What it shows is what step 7 accepts.
        await fill(pilot, "#current", code)
        await fill(pilot, "#next", following, submit=True)
        assert type(pilot.app.screen).__name__ == "ConfirmScreen"


async def test_the_hotp_demo_token_moves_on_f4(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=(80, 24)) as pilot:
        await choose_method(pilot, "dr.okafor", "code_generator")
        await pilot.click("#add")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        panel = pilot.app.screen.query_one("#demo-token", Static)
        assert "DEMO-H001" in str(panel.render())  # a chooser until a serial is typed
        await fill(pilot, "#serial", "DEMO-H001", type_it=True)
        await pilot.pause(0.7)
        await settle(pilot)
        tokens = kiosk.services.system.tokens
        first = tokens.code_now("DEMO-H001")[0]
        assert f"{first[:3]} {first[3:]}" in str(panel.render())
        await pilot.press("f4")
        await settle(pilot)
        info = tokens.get("DEMO-H001")
        assert info is not None
        second = tokens.code_now("DEMO-H001", press=info.last_used + 2)[0]
        assert f"{second[:3]} {second[3:]}" in str(panel.render())


async def test_no_demo_token_on_a_real_kiosk(demo_template, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    from kiosk.app import create_app
    from tests.ui.conftest import make_kiosk

    demo = make_kiosk(demo_template, tmp_path, clock)
    # The same store and keyring, under an App whose settings say "not a demo" (a real kiosk).
    real = demo.app.settings.model_copy(update={"demo": False})
    k = Kiosk(create_app(real, demo.services), demo.services, clock, demo.data_dir)
    try:
        async with k.app.run_test(size=(80, 24)) as pilot:
            await _to_sync(pilot, k)
            assert "demo_token" not in footer_actions(pilot)
            await pilot.press("f3")
            await settle(pilot)
            assert not pilot.app.screen.query("#demo-token")
            code = k.code("DEMO-0002")
            assert f"{code[:3]} {code[3:]}" not in on_screen(pilot) and code not in on_screen(pilot)
    finally:
        k.services.close()
