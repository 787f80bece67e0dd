"""The IT area's EPCS screen over the demo data: ID check, two-person grant, refusal of the same
person, approval by a registrant, and signing off a daily audit report; and the same audit rows
whether the screen or `ipkiosk` does it."""

from __future__ import annotations

import io
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from core.admin import Administration
from core.daily_review import DailyReview
from core.events import Event
from core.system import KioskSystem
from kiosk.cli import main as ipkiosk
from kiosk.config import load_settings
from kiosk.services import build_services
from screens.it.epcs import ItEpcsScreen
from tests.ui.conftest import SIZE, Kiosk, settle
from tests.ui.it_pilot import PASSWORD, bind, it_sign_in, last_audit, press, put


def cell(pilot: Pilot[Any], row: str, column: int) -> str:
    table: DataTable[str] = pilot.app.screen.query_one("#permissions", DataTable)
    return str(table.get_row(row)[column])


def message(pilot: Pilot[Any], selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def test_id_check_grant_and_approval_by_a_second_person(kiosk: Kiosk) -> None:
    system = kiosk.services.system
    bind(kiosk, "DEMO-0002", "dr.patel")  # the approver's own factor
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await it_sign_in(pilot, kiosk)
        await pilot.app.push_screen(ItEpcsScreen(kiosk.app.session))
        await settle(pilot)
        assert cell(pilot, "dr.rivera", 1) == "none" and cell(pilot, "dr.rivera", 2) == "AR1234563"
        assert "dr.patel" in message(pilot, "#roles")

        await put(pilot, "#provider", "dr.rivera")
        pilot.app.screen.query_one("#document", Select).value = "passport"
        await put(pilot, "#last4", "1234")
        await press(pilot, "proof")
        assert "ID check recorded" in message(pilot, "#done")
        assert cell(pilot, "dr.rivera", 3) == "passport 1234"
        assert last_audit(kiosk, "identity_proofed").actor == "it.admin"

        kiosk.clock.advance(30)
        bind(kiosk, "DEMO-0001", "dr.rivera")  # bound after the ID check
        kiosk.clock.advance(30)
        await put(pilot, "#provider", "dr.rivera")
        await press(pilot, "grant")
        await put(pilot, "#password", PASSWORD)
        await put(pilot, "#code", kiosk.code("DEMO-IT01"))
        await press(pilot, "sign")
        assert "waits for a DEA registrant" in message(pilot, "#done"), message(pilot, "#error")
        assert cell(pilot, "dr.rivera", 1) == "pending"

        await press(pilot, "approve")
        await put(pilot, "#approver", "it.admin")
        await put(pilot, "#approver-password", PASSWORD)
        await put(pilot, "#approver-code", "123456")
        await press(pilot, "sign")
        assert "second person" in message(pilot, "#error")
        assert pilot.app.screen.query_one("#approver-password", Input).value == ""

        kiosk.clock.advance(30)
        await put(pilot, "#approver", "dr.patel")
        await put(pilot, "#approver-password", PASSWORD)
        await put(pilot, "#approver-code", kiosk.code("DEMO-0002"))
        await press(pilot, "sign")
        assert "approved by dr.patel" in message(pilot, "#done"), message(pilot, "#error")
        assert cell(pilot, "dr.rivera", 1) == "granted" and cell(pilot, "dr.rivera", 5) == "dr.patel"
    assert system.epcs.get("dr.rivera").entered_by == "it.admin"


async def test_a_daily_report_is_signed_off_from_the_screen(kiosk: Kiosk) -> None:
    review = DailyReview(kiosk.services.system)
    review.run(date(2023, 11, 13), kiosk.data_dir / "reports", "test")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await it_sign_in(pilot, kiosk)
        await pilot.app.push_screen(ItEpcsScreen(kiosk.app.session))
        await settle(pilot)
        assert pilot.app.screen.query_one("#reports", DataTable).row_count == 1
        kiosk.clock.advance(30)
        await press(pilot, "signoff")
        await put(pilot, "#password", PASSWORD)
        await put(pilot, "#code", kiosk.code("DEMO-IT01"))
        await press(pilot, "sign")
        assert "signed off by it.admin" in message(pilot, "#done"), message(pilot, "#error")
        assert pilot.app.screen.query_one("#reports", DataTable).row_count == 0
    assert review.reports()[0].signed_off_by == "it.admin"


def audited(system: KioskSystem, event: Event) -> list[tuple[str, ...]]:
    """A front end's rows of `event`, without what differs by moment (time, chain position)."""
    return [
        (r.event, r.actor, r.subject, r.method, r.serial, r.outcome, r.detail, r.kiosk_id)
        for r in system.audit.rows(event=event)
    ]


def cli(monkeypatch: pytest.MonkeyPatch, data_dir: Path, *args: str, stdin: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return ipkiosk(["--data-dir", str(data_dir), "--json", *args])


async def test_the_screen_and_the_cli_leave_the_same_audit_rows(
    kiosk: Kiosk, demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await it_sign_in(pilot, kiosk)
        await pilot.app.push_screen(ItEpcsScreen(kiosk.app.session))
        await settle(pilot)
        await put(pilot, "#provider", "dr.rivera")
        pilot.app.screen.query_one("#document", Select).value = "passport"
        await put(pilot, "#last4", "1234")
        await press(pilot, "proof")
        kiosk.clock.advance(30)
        bind(kiosk, "DEMO-0001", "dr.rivera")
        kiosk.clock.advance(30)
        await press(pilot, "grant")
        await put(pilot, "#password", PASSWORD)
        await put(pilot, "#code", kiosk.code("DEMO-IT01"))
        await press(pilot, "sign")
        assert "waits for a DEA registrant" in message(pilot, "#done"), message(pilot, "#error")

    # The same on a second copy of the demo, from the command line (on the wall clock, as ever).
    cli_dir = tmp_path / "cli"
    shutil.copytree(demo_template, cli_dir)
    wall = build_services(load_settings(cli_dir))
    try:
        codes = wall.system.tokens.code_now
        proof = ["users", "proof", "dr.rivera", "--document", "passport", "--last4", "1234", "--by", "it.admin"]
        assert cli(monkeypatch, cli_dir, *proof, stdin=f"{PASSWORD}\n{codes('DEMO-IT01')[0]}\n") == 0
        Administration(wall.system, "test-setup").assign("DEMO-0001", "dr.rivera")  # bound after the check
        grant = ["epcs", "grant", "dr.rivera", "--by", "it.admin"]
        it_code = codes("DEMO-IT01", offset_steps=1)[0]  # a code not used yet
        assert cli(monkeypatch, cli_dir, *grant, stdin=f"{PASSWORD}\n{it_code}\n") == 0

        for event in (Event.IDENTITY_PROOFED, Event.EPCS_GRANT):
            from_screen, from_cli = audited(kiosk.services.system, event), audited(wall.system, event)
            assert from_screen == from_cli and len(from_cli) == 1, event
        assert audited(wall.system, Event.EPCS_GRANT)[0][1:3] == ("it.admin", "dr.rivera")
    finally:
        wall.close()
