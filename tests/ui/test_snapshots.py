"""One snapshot per kiosk screen at 100x32 and at 80x24 (pytest-textual-snapshot).

Time is a manual clock and the only random content (backup codes, the app secret) is made
deterministic here, so a snapshot changes only when what a person sees changes.
Update after an intended change with: .venv/bin/pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input

from tests.ui.conftest import SIZES, Kiosk, choose_method, fill, make_kiosk, settle, sign_in, to_npi_step

Step = Callable[[object], Awaitable[None]]


@pytest.fixture
def fixed_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count()
    monkeypatch.setattr("core.backup_codes._new_code", lambda: f"DEMO-CODE-{next(counter):04d}-XXXX")
    monkeypatch.setattr("core.enrollment.new_app_secret", lambda: bytes(range(20)))


@pytest.fixture
def snap_kiosk(demo_template: Path, tmp_path: Path, clock, fixed_randomness):  # type: ignore[no-untyped-def]
    k = make_kiosk(demo_template, tmp_path, clock)
    yield k
    k.services.close()


async def _hide_path(pilot) -> None:  # type: ignore[no-untyped-def]
    # The demo image path holds a temp dir name: show a stable one.
    for field in pilot.app.screen.query("#image-path"):
        assert isinstance(field, Input)
        field.value = "cronto/dr.example.png"
    await settle(pilot)


async def to_sync(pilot, k: Kiosk) -> None:  # type: ignore[no-untyped-def]
    await choose_method(pilot, "dr.okafor", "code_generator")
    await pilot.click("#add")
    await settle(pilot)
    await fill(pilot, "#serial", "DEMO-0002", submit=True)


async def to_confirm(pilot, k: Kiosk) -> None:  # type: ignore[no-untyped-def]
    await to_sync(pilot, k)
    await fill(pilot, "#current", k.code("DEMO-0002", -1))
    await fill(pilot, "#next", k.code("DEMO-0002"), submit=True)


async def to_test_sign_in(pilot, k: Kiosk) -> None:  # type: ignore[no-untyped-def]
    await to_confirm(pilot, k)
    pilot.app.screen.query_one("#stored", Checkbox).value = True
    await settle(pilot)
    await pilot.click("#continue")
    await settle(pilot)


async def to_complete(pilot, k: Kiosk) -> None:  # type: ignore[no-untyped-def]
    await to_test_sign_in(pilot, k)
    k.clock.advance(30)
    await fill(pilot, "#password", "demo-password")
    await fill(pilot, "#code", k.code("DEMO-0002"), submit=True)


def journeys(k: Kiosk) -> dict[str, Step]:
    async def welcome(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)

    async def sign_in_screen(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.click("#enroll")
        await settle(pilot)

    async def sign_in_code(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "it.admin", "token")

    async def settings(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "dr.okafor")

    async def select_method(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "dr.okafor")
        await pilot.click("#setup")
        await settle(pilot)

    async def npi_not_found(pilot):  # type: ignore[no-untyped-def]
        await to_npi_step(pilot, "dr.okafor")
        await _hide_path(pilot)

    async def npi_other_user(pilot):  # type: ignore[no-untyped-def]
        await to_npi_step(pilot, "dr.patel")
        await _hide_path(pilot)

    async def app_binding(pilot):  # type: ignore[no-untyped-def]
        await to_npi_step(pilot, "dr.rivera")
        await pilot.click("#continue")
        await settle(pilot)

    async def redirect(pilot):  # type: ignore[no-untyped-def]
        await to_npi_step(pilot, "dr.chen")
        await pilot.click("#continue")
        await settle(pilot)
        screen = pilot.app.screen
        screen.remaining = 10  # type: ignore[attr-defined]
        screen._tick()  # type: ignore[attr-defined]
        await pilot.pause()

    async def code_generator(pilot):  # type: ignore[no-untyped-def]
        await choose_method(pilot, "dr.okafor", "code_generator")

    async def serial(pilot):  # type: ignore[no-untyped-def]
        await code_generator(pilot)
        await pilot.click("#add")
        await settle(pilot)
        await fill(pilot, "#serial", "NOPE-1", submit=True)

    async def sync(pilot):  # type: ignore[no-untyped-def]
        await to_sync(pilot, k)

    async def sync_failed(pilot):  # type: ignore[no-untyped-def]
        await to_sync(pilot, k)
        await fill(pilot, "#current", k.code("DEMO-0002"))
        await fill(pilot, "#next", k.code("DEMO-0002", 4), submit=True)

    async def confirm(pilot):  # type: ignore[no-untyped-def]
        await to_confirm(pilot, k)

    async def test_sign_in(pilot):  # type: ignore[no-untyped-def]
        await to_test_sign_in(pilot, k)

    async def complete(pilot):  # type: ignore[no-untyped-def]
        await to_complete(pilot, k)

    async def token_signed_in(pilot):  # type: ignore[no-untyped-def]
        await to_complete(pilot, k)
        await pilot.click("#finish")
        await settle(pilot)
        k.clock.advance(30)
        await sign_in(pilot, "dr.okafor", "token", code=k.code("DEMO-0002"))

    async def stale_sign_in(pilot):  # type: ignore[no-untyped-def]
        await to_npi_step(pilot, "dr.rivera")
        k.clock.advance(16 * 60)
        await pilot.click("#continue")
        await settle(pilot)

    async def help_screen(pilot):  # type: ignore[no-untyped-def]
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


# npi_not_found at 80x24 scrolls its outcome into view after layout, and the frame taken differed
# between runs in one process; that screen at 80x24 is still walked by the Tab-through test in
# test_accessibility.py. Every other screen is pictured at both sizes.
UNSTABLE = {("npi_not_found", "80x24")}


@pytest.mark.parametrize(
    ("name", "size"), [(name, size) for name in SCREENS for size in SIZES if (name, size) not in UNSTABLE]
)
def test_screen_snapshot(name: str, size: str, snap_kiosk: Kiosk, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(snap_kiosk.app, terminal_size=SIZES[size], run_before=journeys(snap_kiosk)[name])
