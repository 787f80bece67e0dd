"""Issue 13, accessible and keyboard-true: the countdown keeps counting, contrast toggles on every
screen, nothing but a real control takes the focus and the focused one is in view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.containers import ScrollableContainer
from textual.pilot import Pilot
from textual.widgets import ProgressBar, Static

from core.clock import ManualClock
from screens.it.base import Report
from screens.widgets.step_header import StepHeader
from tests.ui.conftest import Kiosk, choose_method, fill, settle, to_synchronize
from tests.ui.test_snapshots import SCREENS, fixed_randomness, journeys  # noqa: F401 - a fixture


async def test_the_countdown_keeps_counting(kiosk: Kiosk, clock: ManualClock) -> None:
    async with kiosk.app.run_test(size=(100, 32)) as pilot:
        await to_synchronize(pilot)
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
        await to_synchronize(pilot)
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
            await to_synchronize(pilot)
            assert "demo_token" not in footer_actions(pilot)
            await pilot.press("f3")
            await settle(pilot)
            assert not pilot.app.screen.query("#demo-token")
            code = k.code("DEMO-0002")
            assert f"{code[:3]} {code[3:]}" not in on_screen(pilot) and code not in on_screen(pilot)
    finally:
        k.services.close()


# -- every IT staff screen fits 80x24 ------------------------------------------------------------


def assert_page_fits(pilot: Pilot[Any]) -> None:
    """No page scroll and nothing off screen (a table may scroll its own rows); the header's
    "F1 Help" whole, on a screen that has the header."""
    screen = pilot.app.screen
    name = type(screen).__name__
    pages = list(screen.query(".page, .it-dialog"))
    assert pages, f"{name} has no page"
    for page in pages:
        assert page.max_scroll_y == 0 and page.max_scroll_x == 0, f"{name} scrolls: {page.virtual_size} in {page.size}"
        assert screen.region.contains_region(page.region), f"{name}: its page runs off the screen"
    for widget in screen.query("*"):
        inside_a_scroll = any(isinstance(a, Report) for a in widget.ancestors)  # scrolls its own lines
        if widget.display and widget.region.area and not inside_a_scroll:
            assert screen.region.contains_region(widget.region), f"{name}: {widget} runs off the screen"
    headers = list(screen.query(StepHeader)) or list(pilot.app.screen_stack[-2].query(StepHeader))
    assert len(headers) == 1
    header = headers[0]
    line = str(header.render())
    assert line.rstrip().endswith("F1 Help") and len(line) <= header.content_size.width, f"{name}: {line!r}"
    assert pilot.app.screen_stack[-1].region.contains_region(header.region)


def lock(kiosk: Kiosk) -> None:
    """A locked token and a locked account, for the Unlock screen to list."""
    from sqlalchemy import update

    from core.admin import Administration
    from core.otp import MAX_FAILURES
    from core.store import accounts

    system = kiosk.services.system
    admin = Administration(system, "test-setup")
    for serial in ("DEMO-0007", "DEMO-0008"):
        admin.assign(serial, "dr.rivera")
    with system.store.begin() as conn:
        for serial in ("DEMO-0007", "DEMO-0008"):
            for _ in range(MAX_FAILURES):
                system.tokens.record_failure(conn, serial)
        conn.execute(update(accounts).where(accounts.c.username == "dr.chen").values(locked=1, failed_signins=10))


def seed_file(tmp_path: Path, rejected: int) -> Path:
    """An OATH CSV with one new token, one already in the inventory and `rejected` bad lines."""
    key = bytes(range(20)).hex()
    lines = ["serial,key,type,digits,period_or_counter", f"VEND-1,{key},totp,6,30", f"DEMO-0001,{key},totp,6,30"]
    lines += [f"BAD-{i},zz,totp,6,30" for i in range(rejected)]
    path = tmp_path / f"vendor-{rejected}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def it_walks(kiosk: Kiosk, tmp_path: Path) -> dict[str, tuple[str | None, tuple[tuple[str, str], ...]]]:
    """Each IT staff screen in its fullest state: what `navigate` opens and fills or presses."""
    serial_codes = (("#serial", "DEMO-0005"), ("#current", "000000"), ("#next", "000001"), ("#resync", "<press>"))
    return {
        "area": (None, ()),
        "inventory": ("inventory", ()),
        "import": ("import", ()),
        "import-summary": ("import", (("#path", str(seed_file(tmp_path, 2))), ("#import", "<press>"))),
        "import-long-summary": ("import", (("#path", str(seed_file(tmp_path, 30))), ("#import", "<press>"))),
        "resync-refused": ("resync", serial_codes),
        "lost": ("lost", (("#serial", "DEMO-IT01"), ("#lookup", "<press>"))),
        "lost-revoke-dialog": ("lost", (("#serial", "DEMO-IT01"), ("#lookup", "<press>"), ("#revoke", "<press>"))),
        "lost-backup-codes": ("lost", (("#serial", "DEMO-IT01"), ("#lookup", "<press>"), ("#issue", "<press>"))),
        "lost-replace-refused": (
            "lost",
            (
                *(("#serial", "DEMO-IT01"), ("#lookup", "<press>"), ("#new-serial", "DEMO-0007")),
                *(("#current", "000000"), ("#next", "000001"), ("#replace", "<press>")),
            ),
        ),
        "unlock": ("unlock", ()),
        "npi": ("npi", (("#username", "dr.okafor"), ("#account", "<press>"), ("#check", "<press>"))),
        "audit": ("audit", (("#filter", "<press>"), ("#verify", "<press>"))),
        "audit-exported": ("audit", (("#export-path", str(tmp_path / "audit.csv")), ("#export", "<press>"))),
        "guided": ("guided", ()),
        "epcs": ("epcs", ()),
    }


IT_WALKS = [
    "area",
    "inventory",
    "import",
    "import-summary",
    "import-long-summary",
    "resync-refused",
    "lost",
    "lost-revoke-dialog",
    "lost-backup-codes",
    "lost-replace-refused",
    "unlock",
    "npi",
    "audit",
    "audit-exported",
    "guided",
    "epcs",
]


@pytest.mark.parametrize("size", [(80, 24), (100, 32)], ids=["80x24", "100x32"])
@pytest.mark.parametrize("walk", IT_WALKS)
async def test_every_it_screen_fits(walk: str, size: tuple[int, int], kiosk: Kiosk, tmp_path: Path) -> None:
    from tests.ui.test_it_snapshots import navigate

    lock(kiosk)
    task, steps = it_walks(kiosk, tmp_path)[walk]
    async with kiosk.app.run_test(size=size) as pilot:
        await navigate(kiosk, task, *steps)(pilot)
        assert_page_fits(pilot)
        shown = on_screen(pilot)
        if walk == "unlock":
            assert "DEMO-0008" in shown and "dr.chen" in shown  # the table shows what is locked
        if walk == "lost-backup-codes":
            assert "10. " in shown, "the last backup code is not on screen"
        if walk.endswith("refused") or walk == "audit":
            assert str(pilot.app.screen.query_one("#error, #chain").render()) in shown.replace("\n", " ")
        await tab_through(pilot)  # and the focus can still reach every control, whole on screen


async def test_the_startup_failure_fits_80x24(tmp_path: Path) -> None:
    from kiosk.app import create_app
    from kiosk.config import load_settings
    from screens.startup_failed import StartupFailedScreen

    settings = load_settings(tmp_path, keyring="memory", database_url="postgresql://kiosk@127.0.0.1:1/nowhere")
    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(50):
            await settle(pilot)
            if isinstance(pilot.app.screen, StartupFailedScreen):
                break
            await pilot.pause(0.1)
        assert isinstance(pilot.app.screen, StartupFailedScreen)
        assert_page_fits(pilot)
        assert "Ctrl+Q" in on_screen(pilot)
