"""What every IT staff area test does: sign in as IT staff on the demo data, open a task,
fill fields and press buttons as a person would."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button, Input

from core.admin import Administration
from core.audit import AuditRow
from screens.it.area import ItAreaScreen
from tests.ui.conftest import Kiosk, ReturnT, settle

PSKC = Path(__file__).resolve().parents[1] / "data" / "pskc"
PASSWORD = "demo-password"


async def put(pilot: Pilot[ReturnT], selector: str, text: str, submit: bool = False) -> None:
    """Fill a field at once (typing key by key is covered by the sign-in tests and is slow)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    if submit:
        await pilot.press("enter")
    await settle(pilot)


async def press(pilot: Pilot[ReturnT], button_id: str) -> None:
    pilot.app.screen.query_one(f"#{button_id}", Button).press()
    await settle(pilot)


async def it_sign_in(pilot: Pilot[ReturnT], kiosk: Kiosk) -> None:
    await press(pilot, "it")
    await put(pilot, "#username", "it.admin", submit=True)
    await put(pilot, "#password", PASSWORD, submit=True)
    await put(pilot, "#code", kiosk.code("DEMO-IT01"), submit=True)
    assert isinstance(pilot.app.screen, ItAreaScreen)


async def open_task(pilot: Pilot[ReturnT], kiosk: Kiosk, task: str) -> None:
    await it_sign_in(pilot, kiosk)
    await press(pilot, task)


def bind(kiosk: Kiosk, serial: str, username: str) -> None:
    """A provider with a synced token, set up the way the CLI would (not under test here)."""
    admin = Administration(kiosk.services.system, "test-setup")
    admin.assign(serial, username)
    admin.resync(serial, kiosk.code(serial, -1), kiosk.code(serial))


def last_audit(kiosk: Kiosk, event: str) -> AuditRow:
    return next(kiosk.services.system.audit.rows(event=event, newest_first=True, limit=1))


# --------------------------------------------------------------------------- leaving (rule 21)
