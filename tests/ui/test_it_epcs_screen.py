"""The IT area's EPCS screen over the demo data: ID check, two-person grant, refusal of the same
person, approval by a registrant, and signing off a daily audit report."""

from __future__ import annotations

from datetime import date

from textual.widgets import DataTable, Select, Static

from core.daily_review import DailyReview
from screens.it.epcs import ItEpcsScreen
from tests.ui.conftest import SIZE, Kiosk, settle
from tests.ui.test_it_area import PASSWORD, bind, it_sign_in, last_audit, press, put


def cell(pilot, row: str, column: int) -> str:  # type: ignore[no-untyped-def]
    table = pilot.app.screen.query_one("#permissions", DataTable)
    return str(table.get_row(row)[column])


def message(pilot, selector: str) -> str:  # type: ignore[no-untyped-def]
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
        await put(pilot, "#password", PASSWORD)
        await put(pilot, "#code", kiosk.code("DEMO-IT01"))
        await press(pilot, "grant")
        assert "waits for a DEA registrant" in message(pilot, "#done"), message(pilot, "#error")
        assert cell(pilot, "dr.rivera", 1) == "pending"

        await put(pilot, "#approver", "it.admin")
        await put(pilot, "#approver-password", PASSWORD)
        await put(pilot, "#approver-code", "123456")
        await press(pilot, "approve")
        assert "second person" in message(pilot, "#error")
        assert pilot.app.screen.query_one("#approver-password").value == ""  # type: ignore[attr-defined]

        kiosk.clock.advance(30)
        await put(pilot, "#approver", "dr.patel")
        await put(pilot, "#approver-password", PASSWORD)
        await put(pilot, "#approver-code", kiosk.code("DEMO-0002"))
        await press(pilot, "approve")
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
        await put(pilot, "#password", PASSWORD)
        await put(pilot, "#code", kiosk.code("DEMO-IT01"))
        await press(pilot, "signoff")
        assert "signed off by it.admin" in message(pilot, "#done"), message(pilot, "#error")
        assert pilot.app.screen.query_one("#reports", DataTable).row_count == 0
    assert review.reports()[0].signed_off_by == "it.admin"
