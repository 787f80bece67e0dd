"""One snapshot per kiosk screen at 100x32 and at 80x24 (pytest-textual-snapshot).

Time is a manual clock and the only random content (backup codes, the app secret) is made
deterministic here, so a snapshot changes only when what a person sees changes.
Update after an intended change with: .venv/bin/pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from core.clock import ManualClock
from tests.ui.conftest import SIZES, Kiosk, choose_method, fill, make_kiosk, settle, sign_in, to_npi_step

Step = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture
def fixed_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count()
    monkeypatch.setattr("core.backup_codes._new_code", lambda: f"DEMO-CODE-{next(counter):04d}-XXXX")
    monkeypatch.setattr("core.enrollment.new_app_secret", lambda: bytes(range(20)))


@pytest.fixture
def snap_kiosk(demo_template: Path, tmp_path: Path, clock: ManualClock, fixed_randomness: None) -> Iterator[Kiosk]:
    k = make_kiosk(demo_template, tmp_path, clock)
    yield k
    k.services.close()


async def _hide_path(pilot: Pilot[Any]) -> None:
    # The demo image path holds a temp dir name: show a stable one.
    for field in pilot.app.screen.query("#image-path"):
        assert isinstance(field, Input)
        field.value = "cronto/dr.example.png"
    await settle(pilot)


async def _scrolled_as_laid_out(pilot: Pilot[Any]) -> None:
    """The page as the screen scrolls it once laid out. Focusing Continue centres it (Textual's
    focus scroll, run on the next message) and the screen then scrolls it into view after the
    next refresh: whether the first ran on the old layout (the "checking" line still shown, the
    button not yet placed) or the new one was a race, so at 80x24, where the page is one line
    taller than the screen, the frame was scrolled by 0 or 1 line. Both scrolls again, on the
    settled layout and without animation, give the one position a person sees."""
    await pilot.wait_for_scheduled_animations()
    screen, focused = pilot.app.screen, pilot.app.focused
    assert focused is not None
    screen.scroll_to_center(focused, animate=False, origin_visible=True)
    focused.scroll_visible(animate=False)
    await settle(pilot)


async def to_sync(pilot: Pilot[Any], k: Kiosk) -> None:
    await choose_method(pilot, "dr.okafor", "code_generator")
    await pilot.click("#add")
    await settle(pilot)
    await fill(pilot, "#serial", "DEMO-0002", submit=True)


async def to_confirm(pilot: Pilot[Any], k: Kiosk) -> None:
    await to_sync(pilot, k)
    await fill(pilot, "#current", k.code("DEMO-0002", -1))
    await fill(pilot, "#next", k.code("DEMO-0002"), submit=True)


async def to_test_sign_in(pilot: Pilot[Any], k: Kiosk) -> None:
    await to_confirm(pilot, k)
    pilot.app.screen.query_one("#stored", Checkbox).value = True
    await settle(pilot)
    await pilot.click("#continue")
    await settle(pilot)


async def to_complete(pilot: Pilot[Any], k: Kiosk) -> None:
    await to_test_sign_in(pilot, k)
    k.clock.advance(30)
    await fill(pilot, "#password", "demo-password")
    await fill(pilot, "#code", k.code("DEMO-0002"), submit=True)


def journeys(k: Kiosk) -> dict[str, Step]:
    async def welcome(pilot: Pilot[Any]) -> None:
        await settle(pilot)

    async def sign_in_screen(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.click("#enroll")
        await settle(pilot)

    async def sign_in_code(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, "it.admin", "token")

    async def settings(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, "dr.okafor")

    async def select_method(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, "dr.okafor")
        await pilot.click("#setup")
        await settle(pilot)

    async def npi_not_found(pilot: Pilot[Any]) -> None:
        await to_npi_step(pilot, "dr.okafor")
        await _hide_path(pilot)
        await _scrolled_as_laid_out(pilot)

    async def npi_other_user(pilot: Pilot[Any]) -> None:
        await to_npi_step(pilot, "dr.patel")
        await _hide_path(pilot)

    async def app_binding(pilot: Pilot[Any]) -> None:
        await to_npi_step(pilot, "dr.rivera")
        await pilot.click("#continue")
        await settle(pilot)

    async def redirect(pilot: Pilot[Any]) -> None:
        await to_npi_step(pilot, "dr.chen")
        await pilot.click("#continue")
        await settle(pilot)  # the count is on the manual clock: 10 s however long the test took

    async def code_generator(pilot: Pilot[Any]) -> None:
        await choose_method(pilot, "dr.okafor", "code_generator")

    async def serial(pilot: Pilot[Any]) -> None:
        await code_generator(pilot)
        await pilot.click("#add")
        await settle(pilot)
        await fill(pilot, "#serial", "NOPE-1", submit=True)

    async def sync(pilot: Pilot[Any]) -> None:
        await to_sync(pilot, k)

    async def sync_failed(pilot: Pilot[Any]) -> None:
        await to_sync(pilot, k)
        await fill(pilot, "#current", k.code("DEMO-0002"))
        await fill(pilot, "#next", k.code("DEMO-0002", 4), submit=True)

    async def confirm(pilot: Pilot[Any]) -> None:
        await to_confirm(pilot, k)

    async def test_sign_in(pilot: Pilot[Any]) -> None:
        await to_test_sign_in(pilot, k)

    async def complete(pilot: Pilot[Any]) -> None:
        await to_complete(pilot, k)

    async def token_signed_in(pilot: Pilot[Any]) -> None:
        await to_complete(pilot, k)
        await pilot.click("#finish")
        await settle(pilot)
        k.clock.advance(30)
        await sign_in(pilot, "dr.okafor", "token", code=k.code("DEMO-0002"))

    async def stale_sign_in(pilot: Pilot[Any]) -> None:
        await to_npi_step(pilot, "dr.rivera")
        k.clock.advance(16 * 60)
        await pilot.click("#continue")
        await settle(pilot)

    async def help_screen(pilot: Pilot[Any]) -> None:
        await pilot.press("f1")
        await settle(pilot)

    return {
        "welcome": welcome,
        "sign_in": sign_in_screen,
        "sign_in_code": sign_in_code,
        "two_factor_settings": settings,
        "select_method": select_method,
        "npi_not_found": npi_not_found,
        "npi_other_user": npi_other_user,
        "authenticator_binding": app_binding,
        "binding_stopped": redirect,
        "code_generator": code_generator,
        "serial_number": serial,
        "synchronize": sync,
        "synchronize_failed": sync_failed,
        "confirm": confirm,
        "test_sign_in": test_sign_in,
        "setup_complete": complete,
        "token_signed_in": token_signed_in,
        "failure_stale_sign_in": stale_sign_in,
        "help": help_screen,
    }


SCREENS = [
    "welcome",
    "sign_in",
    "sign_in_code",
    "two_factor_settings",
    "select_method",
    "npi_not_found",
    "npi_other_user",
    "authenticator_binding",
    "binding_stopped",
    "code_generator",
    "serial_number",
    "synchronize",
    "synchronize_failed",
    "confirm",
    "test_sign_in",
    "setup_complete",
    "token_signed_in",
    "failure_stale_sign_in",
    "help",
]


def steady(journey: Step) -> Step:
    """The journey, then the text cursor held on: a blinking cursor is drawn or not depending on
    when the frame is taken (sign_in once differed in 1 run of 8)."""

    async def run(pilot: Pilot[Any]) -> None:
        await journey(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await settle(pilot)

    return run


@pytest.mark.parametrize(("name", "size"), [(name, size) for name in SCREENS for size in SIZES])
def test_screen_snapshot(name: str, size: str, snap_kiosk: Kiosk, snap_compare: Any) -> None:
    run_before = steady(journeys(snap_kiosk)[name])
    assert snap_compare(snap_kiosk.app, terminal_size=SIZES[size], run_before=run_before)
