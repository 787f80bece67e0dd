"""Guided setup in the IT staff area: the ID check before the provider signs in, IT staff as
the audit actor, and the way back to the IT area."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Select

from core.errors import KioskError
from screens.enrollment.select_method import SelectMethodScreen
from screens.it.area import ItAreaScreen
from screens.it.dialogs import ConfirmDialog
from screens.welcome import WelcomeScreen
from tests.ui.conftest import SIZE, Kiosk, ReturnT, screen_text, settle
from tests.ui.it_pilot import PASSWORD, bind, last_audit, open_task, press, put

# --------------------------------------------------------------------------- guided setup


async def _pick(pilot: Pilot[ReturnT], username: str) -> None:
    table = pilot.app.screen.query_one("#providers", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(username))
    await pilot.press("enter")
    await settle(pilot)


async def _check_id(pilot: Pilot[ReturnT], document: str = "drivers_license", last4: str = "4321") -> None:
    pilot.app.screen.query_one("#document", Select).value = document
    await put(pilot, "#last4", last4, submit=True)


async def test_guided_setup_records_the_id_check_before_the_provider_signs_in(kiosk: Kiosk) -> None:
    system = kiosk.services.system
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "guided")
        await _pick(pilot, "dr.okafor")
        await press(pilot, "confirm")
        assert "Check Ben Okafor's ID document" in screen_text(pilot)
        assert not kiosk.app.screen.query_one("#provider-sign-in").display  # no sign-in before the check
        await put(pilot, "#last4", "4321", submit=True)  # no document type chosen
        assert "Give the document type checked" in screen_text(pilot)
        await _check_id(pilot, last4="D1234-5678")  # the whole number: refused, never stored
        assert "only the last four characters" in screen_text(pilot)
        assert system.proofing.latest("dr.okafor") is None
        await _check_id(pilot)
        assert kiosk.app.screen.query_one("#provider-sign-in").display
        assert "please type your password" in screen_text(pilot)
    record = system.proofing.latest("dr.okafor")
    assert record is not None and (record.document_type, record.last4, record.checked_by) == (
        "drivers_license",
        "4321",
        "it.admin",
    )
    row = last_audit(kiosk, "identity_proofed")
    assert (row.actor, row.subject) == ("it.admin", "dr.okafor") and "5678" not in row.detail


async def test_guided_setup_records_it_staff_as_actor_and_returns_to_the_it_area(kiosk: Kiosk) -> None:
    system = kiosk.services.system
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "guided")
        await _pick(pilot, "dr.okafor")
        assert isinstance(kiosk.app.screen, ConfirmDialog)
        await press(pilot, "cancel")
        assert kiosk.app.screen.query_one("#providers", DataTable).display
        await _pick(pilot, "dr.okafor")
        await press(pilot, "confirm")
        await _check_id(pilot)
        assert "Okafor (dr.okafor): please type your password." in screen_text(pilot)
        await put(pilot, "#password", "wrong password", submit=True)
        assert "The username or password is not correct." in screen_text(pilot)
        await put(pilot, "#password", PASSWORD, submit=True)
        assert isinstance(kiosk.app.screen, SelectMethodScreen)
        assert "dr.okafor (with it.admin)" in screen_text(pilot)
        await press(pilot, "code_generator")
        await press(pilot, "add")
        await put(pilot, "#serial", "DEMO-0002", submit=True)
        await put(pilot, "#current", kiosk.code("DEMO-0002", -1))
        await put(pilot, "#next", kiosk.code("DEMO-0002"), submit=True)
        kiosk.app.screen.query_one("#stored", Checkbox).value = True
        await settle(pilot)
        await press(pilot, "continue")
        await put(pilot, "#password", PASSWORD)
        await put(pilot, "#code", kiosk.code("DEMO-0002", 1), submit=True)
        await press(pilot, "finish")
        assert isinstance(kiosk.app.screen, ItAreaScreen)
        assert kiosk.app.session.username == "it.admin" and kiosk.app.session.guide is None
        assert kiosk.app.allow_exit
    bind_row = last_audit(kiosk, "bind")
    assert (bind_row.actor, bind_row.subject, bind_row.serial, bind_row.outcome) == (
        "it.admin",
        "dr.okafor",
        "DEMO-0002",
        "ok",
    )
    assert last_audit(kiosk, "backup_codes_issued").actor == "it.admin"
    # The provider's own sign-ins stay theirs.
    assert {r.actor for r in system.audit.rows(event="sign_in", user="dr.okafor")} == {"dr.okafor"}


async def test_guided_setup_for_a_provider_with_a_bound_token_asks_for_their_code(kiosk: Kiosk) -> None:
    bind(kiosk, "DEMO-0001", "dr.rivera")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "guided")
        await _pick(pilot, "dr.rivera")
        await press(pilot, "confirm")
        await _check_id(pilot, "passport", "X9Z1")
        await put(pilot, "#password", PASSWORD, submit=True)
        assert kiosk.app.screen.query_one("#code", Input).display
        assert "please type your password" in screen_text(pilot)
        await put(pilot, "#code", kiosk.code("DEMO-0001", 1), submit=True)
        assert isinstance(kiosk.app.screen, SelectMethodScreen)
        await press(pilot, "code_generator")
        await pilot.press("f10")  # the provider signs out mid-setup: nobody stays signed in
        await settle(pilot)
        assert isinstance(kiosk.app.screen, WelcomeScreen) and kiosk.app.session.signed_in is None
        assert not kiosk.app.allow_exit


def test_admin_errors_are_kiosk_errors() -> None:
    # The screens show KioskError messages; a plain exception would become "Something went wrong".
    from core.errors import AdminError

    assert issubclass(AdminError, KioskError)
