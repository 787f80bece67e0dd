"""One snapshot per IT staff screen at the kiosk's size (100x32) and at 80x24, on the demo data with a manual
clock. No one-time codes or backup codes are on these screens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from tests.ui.conftest import SIZES, Kiosk, settle

PASSWORD = "demo-password"


def navigate(kiosk: Kiosk, task: str | None, *steps: tuple[str, str]) -> Any:
    """A run_before that signs IT staff in, opens `task`, and fills/presses `steps`."""

    async def run(pilot: Pilot[object]) -> None:
        screen = pilot.app.screen
        screen.query_one("#it", Button).press()
        await settle(pilot)
        for selector, value in (("#username", "it.admin"), ("#password", PASSWORD), ("#code", kiosk.code("DEMO-IT01"))):
            field = pilot.app.screen.query_one(selector, Input)
            field.value = value
            field.focus()
            await pilot.press("enter")
            await settle(pilot)
        if task is not None:
            pilot.app.screen.query_one(f"#{task}", Button).press()
            await settle(pilot)
            await settle(pilot)  # screens load their tables in a worker started on resume
            if task == "inventory":  # under load the worker may start late: wait for its rows
                from textual.widgets import DataTable

                for _ in range(50):
                    tables = list(pilot.app.screen.query(DataTable))
                    if tables and all(t.row_count for t in tables):
                        break
                    await pilot.pause(0.1)
                    await settle(pilot)
        for selector, value in steps:
            if value == "<press>":
                pilot.app.screen.query_one(selector, Button).press()
                await settle(pilot)
            else:
                field = pilot.app.screen.query_one(selector, Input)
                field.value = value
                field.focus()
        await settle(pilot)
        pilot.app.screen.set_focus(None)  # no blinking cursor in the picture
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("name", "task", "steps"),
    [
        ("area", None, ()),
        ("inventory", "inventory", ()),
        ("import", "import", ()),
        ("resync", "resync", (("#serial", "DEMO-0001"),)),
        ("lost", "lost", (("#serial", "DEMO-IT01"), ("#lookup", "<press>"))),
        ("unlock", "unlock", ()),
        ("npi", "npi", (("#username", "dr.okafor"), ("#account", "<press>"), ("#check", "<press>"))),
        ("audit", "audit", (("#event", "sign_in"), ("#filter", "<press>"))),
        ("guided", "guided", ()),
        ("epcs", "epcs", ()),
        ("epcs-grant-dialog", "epcs", (("#provider", "dr.rivera"), ("#grant", "<press>"))),
    ],
)
def test_it_screen_snapshot(
    snap_compare: Any, kiosk: Kiosk, name: str, task: str | None, steps: tuple[tuple[str, str], ...], size: str
) -> None:
    assert snap_compare(kiosk.app, terminal_size=SIZES[size], run_before=navigate(kiosk, task, *steps))


@pytest.mark.parametrize("size", SIZES)
def test_import_summary_snapshot(snap_compare: Any, kiosk: Kiosk, tmp_path: Path, size: str) -> None:
    seeds = tmp_path / "vendor.csv"
    seeds.write_text(
        "serial,key,type,digits,period_or_counter\n"
        f"VEND-1,{bytes(range(20)).hex()},totp,6,30\n"
        "VEND-2,zz,totp,6,30\n"
        f"DEMO-0001,{bytes(range(20)).hex()},totp,6,30\n"
    )
    # The temporary path differs per run: clear the field once the summary is up.
    assert snap_compare(
        kiosk.app,
        terminal_size=SIZES[size],
        run_before=navigate(kiosk, "import", ("#path", str(seeds)), ("#import", "<press>"), ("#path", "")),
    )
