"""The EPCS operations (ID check, two-person grant, token module) come only through
Administration: refused for anyone but IT staff with a bound factor, checked again against the
store at each operation, and signed in the IT staff area by the one signed in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from core.admin import Administration, Signature
from core.epcs_state import PermissionState
from core.errors import NotAllowed
from core.events import Event
from core.store import accounts
from tests.conftest import PASSWORD, World

Operation = Callable[[Administration, World], object]


def ivy_code(world: World) -> str:
    world.clock.advance(30)  # each signature takes a code of a new step (a used one is refused)
    return world.system.tokens.code_now("T2")[0]


def epcs_ready(world: World) -> None:
    """ana may be granted EPCS (DEA number, ID checked, then a factor bound); raj may approve."""
    system = world.system
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "ana", dea_number="AR1234563")
        system.accounts.set_epcs_details(conn, "raj", dea_number="BP9876547", dea_registrant=True)
    system.proofing.record("ana", "ivy", document_type="passport", last4="1234")
    world.clock.advance(1)
    system.token_fitness.describe("T1", "test-setup", fips_cert="4282")
    setup = Administration(system, "test-setup")
    setup.assign("T1", "ana")
    setup.assign("H1", "raj")


@pytest.fixture
def staff(world: World) -> Administration:
    """ivy, IT staff, signed in with her own token T2."""
    Administration(world.system, "test-setup").assign("T2", "ivy")
    signed = world.sign_in("ivy", ivy_code(world))
    return Administration.for_staff(world.system, signed)


OPERATIONS: dict[str, Operation] = {
    "overview": lambda admin, w: admin.epcs_overview(),
    "roles": lambda admin, w: admin.epcs_roles(),
    "id check": lambda admin, w: admin.record_id_check("ben", document_type="passport", last4="9999"),
    "grant": lambda admin, w: admin.grant_epcs("ana", Signature("ivy", PASSWORD, ivy_code(w))),
    "approve": lambda admin, w: admin.approve_epcs("ana", Signature("raj", PASSWORD, "123456")),
    "revoke": lambda admin, w: admin.revoke_epcs("ana", Signature("ivy", PASSWORD, ivy_code(w)), "left"),
    "token module": lambda admin, w: admin.describe_token("T1", vendor="Acme"),
    "accounts": lambda admin, w: admin.accounts_overview(),
}


@pytest.mark.parametrize("signed_in_as", ["ben", "ivy"])
def test_for_staff_is_refused_to_a_provider_and_to_it_staff_without_a_factor(world: World, signed_in_as: str) -> None:
    signed = world.sign_in(signed_in_as)  # neither has a factor bound: the password alone
    with pytest.raises(NotAllowed, match="IT staff only" if signed_in_as == "ben" else "own bound token"):
        Administration.for_staff(world.system, signed)


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_every_epcs_operation_is_refused_once_the_staff_members_factor_is_gone(
    world: World, staff: Administration, name: str
) -> None:
    epcs_ready(world)
    Administration.for_cli(world.system).revoke("T2", "lost")  # ivy's only factor, after she signed in
    before = sum(1 for _ in world.system.audit.rows())
    with pytest.raises(NotAllowed, match="own bound token"):
        OPERATIONS[name](staff, world)
    assert sum(1 for _ in world.system.audit.rows()) == before  # nothing done, nobody signed in
    assert world.system.proofing.latest("ben") is None


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_every_epcs_operation_is_refused_once_the_account_is_no_longer_it_staff(
    world: World, staff: Administration, name: str
) -> None:
    epcs_ready(world)
    with world.system.store.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.username == "ivy").values(role="provider"))
    with pytest.raises(NotAllowed, match="IT staff only"):
        OPERATIONS[name](staff, world)
    assert world.system.epcs.get("ana").state is PermissionState.NONE


def test_the_staff_member_signs_only_as_themselves(world: World, staff: Administration) -> None:
    epcs_ready(world)
    with pytest.raises(NotAllowed, match="your own password"):
        staff.grant_epcs("ana", Signature("Ben ", PASSWORD, None))
    with pytest.raises(NotAllowed, match="your own password"):
        staff.record_id_check("ana", document_type="passport", last4="1234", signature=Signature("raj", PASSWORD))
    # Refused before any sign-in: a colleague's account is neither tried nor counted.
    assert list(world.system.audit.rows(event=Event.EPCS_SIGN_IN)) == []
    assert list(world.system.audit.rows(event=Event.EPCS_GRANT)) == []


def test_two_people_through_the_staff_area(world: World, staff: Administration) -> None:
    epcs_ready(world)
    assert staff.grant_epcs("ana", Signature("ivy", PASSWORD, ivy_code(world))).state is PermissionState.PENDING
    # The approver is a second person who signs there and then: not the one signed in.
    approved = staff.approve_epcs("ana", Signature("raj", PASSWORD, world.system.tokens.code_now("H1")[0]))
    assert (approved.state, approved.entered_by, approved.approved_by) == (PermissionState.GRANTED, "ivy", "raj")
    revoked = staff.revoke_epcs("ana", Signature("ivy", PASSWORD, ivy_code(world)), "left the practice")
    assert revoked.state is PermissionState.REVOKED


def test_the_id_check_names_its_checker(world: World, staff: Administration) -> None:
    record = staff.record_id_check("ben", document_type="passport", last4="9999")
    assert record.checked_by == "ivy"  # the one signed in to the IT staff area
    cli = Administration.for_cli(world.system)
    with pytest.raises(NotAllowed, match="signs the record"):  # nothing says who stood at the desk
        cli.record_id_check("raj", document_type="passport", last4="1111")
    signed = cli.record_id_check(
        "raj", document_type="passport", last4="1111", signature=Signature("ivy", PASSWORD, ivy_code(world))
    )
    assert signed.checked_by == "ivy"
    rows = [(r.actor, r.subject, r.detail) for r in world.system.audit.rows(event=Event.IDENTITY_PROOFED)]
    assert rows == [("ivy", "ben", "document=passport last4=9999"), ("ivy", "raj", "document=passport last4=1111")]


def test_the_token_module_is_recorded_as_the_staff_member(world: World, staff: Administration) -> None:
    info = staff.describe_token("T1", vendor="Acme", fips_cert="#4282")
    assert info.fips_cert == "4282"
    row = next(world.system.audit.rows(event=Event.TOKEN_DESCRIBED))
    assert (row.actor, row.serial) == ("ivy", "T1")


def test_a_signature_never_shows_its_secrets() -> None:
    shown = repr(Signature("ivy", "hunter2-password", "123456"))
    assert "ivy" in shown and "hunter2" not in shown and "123456" not in shown


def test_a_daily_report_is_signed_off_in_the_staff_area_by_the_staff_member_only(
    world: World, staff: Administration, tmp_path: Path
) -> None:
    epcs_ready(world)  # raj, a DEA registrant with a factor, may sign off where he signed in himself
    staff.daily_review(date(2023, 11, 13), tmp_path / "reports")
    with pytest.raises(NotAllowed, match="your own password"):
        staff.sign_off_report("2023-11-13", "raj", PASSWORD, world.system.tokens.code_now("H1")[0])
    record = staff.sign_off_report("2023-11-13", "ivy", PASSWORD, ivy_code(world))
    assert record.signed_off_by == "ivy"
