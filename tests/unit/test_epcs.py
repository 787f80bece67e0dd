"""Two-person EPCS logical access control (21 CFR 1311.125/130) over the real store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.admin import Administration
from core.epcs_state import PermissionState
from core.errors import AuthenticationFailed, EpcsRefused
from core.schema import epcs_permissions
from tests.conftest import PASSWORD, World

ANA_DEA = "AR1234563"  # Rivera
RAJ_DEA = "BP9876547"  # Patel


@pytest.fixture
def epcs_world(world: World) -> World:
    """ana: a provider with a DEA number and T1 bound; raj: a DEA registrant with T2 bound;
    ivy: IT staff (no factor bound)."""
    system = world.system
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "ana", email="ana@example.org", dea_number=ANA_DEA)
        system.accounts.set_epcs_details(conn, "raj", dea_number=RAJ_DEA, dea_registrant=True)
    system.proofing.record("ana", "ivy", document_type="passport", last4="1234")
    world.clock.advance(1)
    for serial in ("T1", "T2", "H1"):  # FIPS 140 validated tokens (epcs_require_fips is on)
        system.token_fitness.describe(serial, "ivy", vendor="Acme", model="OTP c200", fips_cert="4282")
    admin = Administration(system, "ivy")
    admin.assign("T1", "ana")
    admin.assign("T2", "raj")
    return world


def code(world: World, serial: str) -> str:
    # Each signature needs a code never used before: move to the token's next step.
    world.clock.advance(30)
    return world.system.tokens.code_now(serial)[0]


def grant(world: World, provider: str = "ana", by: str = "ivy") -> None:
    world.system.epcs.grant(provider, by, PASSWORD, None)


def approve(world: World, provider: str = "ana", by: str = "raj", serial: str = "T2") -> None:
    world.system.epcs.approve(provider, by, PASSWORD, code(world, serial))


def test_one_enters_a_second_registrant_approves_and_both_are_audited(epcs_world: World) -> None:
    epcs = epcs_world.system.epcs
    grant(epcs_world)
    pending = epcs.get("ana")
    assert pending.state is PermissionState.PENDING and pending.entered_by == "ivy"
    approve(epcs_world)
    granted = epcs.get("ana")
    assert granted.state is PermissionState.GRANTED
    assert (granted.entered_by, granted.approved_by) == ("ivy", "raj")
    assert granted.approved_at is not None and granted.entered_at is not None
    rows = {r.event: r for r in epcs_world.system.audit.rows(events=["epcs_grant", "epcs_approve"])}
    assert (rows["epcs_grant"].actor, rows["epcs_grant"].subject) == ("ivy", "ana")
    assert "document=passport last4=1234" in rows["epcs_grant"].detail
    assert rows["epcs_approve"].actor == "raj" and "entered_by=ivy" in rows["epcs_approve"].detail
    assert rows["epcs_approve"].outcome == "ok"
    assert epcs_world.system.audit.verify().intact


def test_the_person_who_entered_can_never_approve(epcs_world: World) -> None:
    system = epcs_world.system
    # Ivy is IT staff and also a registrant with a factor: still not allowed to approve her entry.
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "ivy", dea_number="AA1234563", dea_registrant=True)
    Administration(system, "cli:test").assign("H1", "ivy")
    system.epcs.grant("ana", "ivy", PASSWORD, system.tokens.code_now("H1")[0])
    with pytest.raises(EpcsRefused) as caught:
        system.epcs.approve("ana", "ivy", PASSWORD, system.tokens.code_now("H1")[0])
    assert caught.value.reason == "same_person"
    assert system.epcs.get("ana").state is PermissionState.PENDING
    refused = list(system.audit.rows(event="epcs_approve"))
    assert refused[-1].outcome == "refused_same_person" and refused[-1].actor == "ivy"


def test_approver_must_be_a_registrant_with_a_bound_factor(epcs_world: World) -> None:
    system = epcs_world.system
    grant(epcs_world)
    with pytest.raises(EpcsRefused) as caught:  # ben: no registrant flag
        system.epcs.approve("ana", "ben", PASSWORD, "123456")
    assert caught.value.reason == "not_registrant"
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "ben", dea_number="BO1234563", dea_registrant=True)
    with pytest.raises(EpcsRefused) as caught:  # now a registrant, but nothing bound
        system.epcs.approve("ana", "ben", PASSWORD, "123456")
    assert caught.value.reason == "approver_no_factor"
    assert system.epcs.get("ana").state is PermissionState.PENDING


def test_approval_is_a_real_signature(epcs_world: World) -> None:
    system = epcs_world.system
    grant(epcs_world)
    with pytest.raises(AuthenticationFailed):
        system.epcs.approve("ana", "raj", "wrong password", code(epcs_world, "T2"))
    # A backup code gets a provider back in; it does not sign an EPCS approval.
    with system.store.begin() as conn:
        backup_codes = system.backup_codes.issue(conn, "raj")
    with pytest.raises(EpcsRefused) as caught:
        system.epcs.approve("ana", "raj", PASSWORD, backup_codes[0])
    assert caught.value.reason == "not_token_signature"
    assert system.backup_codes.remaining("raj") == len(backup_codes)  # and it was not used up
    assert system.epcs.get("ana").state is PermissionState.PENDING
    approve(epcs_world)
    assert system.epcs.get("ana").state is PermissionState.GRANTED


def test_a_grant_needs_a_dea_number_a_factor_and_an_it_entry(epcs_world: World) -> None:
    system = epcs_world.system
    with pytest.raises(EpcsRefused) as caught:  # li has no DEA number
        grant(epcs_world, "li")
    assert caught.value.reason == "no_dea" and "users set" in caught.value.hint
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "li", dea_number="FC1234563")
    with pytest.raises(EpcsRefused) as caught:  # ... nor a bound factor
        grant(epcs_world, "li")
    assert caught.value.reason == "no_factor"
    Administration(system, "ivy").assign("H1", "li")
    with pytest.raises(EpcsRefused) as caught:  # ... nor an ID check
        grant(epcs_world, "li")
    assert caught.value.reason == "not_proofed" and "users proof" in caught.value.hint
    epcs_world.clock.advance(5)
    system.proofing.record("li", "ivy", document_type="drivers_license", last4="x9z1")
    with pytest.raises(EpcsRefused) as caught:  # the ID was checked after H1 was bound
        grant(epcs_world, "li")
    assert caught.value.reason == "proofed_after_binding"
    with pytest.raises(EpcsRefused) as caught:  # raj is a provider, not IT staff
        system.epcs.grant("ana", "raj", PASSWORD, code(epcs_world, "T2"))
    assert caught.value.reason == "not_it_staff"
    with system.store.connect() as conn:
        assert conn.execute(select(epcs_permissions)).first() is None
    li = next(r for r in system.epcs.overview() if r["username"] == "li")
    assert li["identity_proofing"]["last4"] == "X9Z1" and li["identity_proofing"]["checked_by"] == "ivy"


def test_approving_own_permission_is_refused(epcs_world: World) -> None:
    epcs_world.system.proofing.record("raj", "ivy", csp_reference="CSP-TX-0001")
    Administration(epcs_world.system, "ivy").assign("H1", "raj")
    grant(epcs_world, "raj")
    with pytest.raises(EpcsRefused) as caught:
        approve(epcs_world, "raj", "raj")
    assert caught.value.reason == "self_approval"


def test_losing_the_last_factor_suspends_at_once(epcs_world: World) -> None:
    system = epcs_world.system
    grant(epcs_world)
    approve(epcs_world)
    admin = Administration(system, "ivy")
    admin.revoke("T1", "lost")
    suspended = system.epcs.get("ana")
    assert suspended.state is PermissionState.SUSPENDED and "T1 lost" in suspended.reason
    row = next(system.audit.rows(event="epcs_suspend"))
    assert row.subject == "ana" and row.actor == "ivy" and "approved_by=raj" in row.detail
    # Coming back takes two people again, not a flip back.
    with pytest.raises(EpcsRefused):
        approve(epcs_world)


def test_losing_one_of_two_factors_keeps_the_permission(epcs_world: World) -> None:
    system = epcs_world.system
    admin = Administration(system, "ivy")
    admin.assign("H1", "ana")
    grant(epcs_world)
    approve(epcs_world)
    admin.revoke("T1", "damaged")
    assert system.epcs.get("ana").state is PermissionState.GRANTED
    admin.revoke("H1", "stolen")
    assert system.epcs.get("ana").state is PermissionState.SUSPENDED


def test_revoke_needs_a_reason_and_names_both_people(epcs_world: World) -> None:
    system = epcs_world.system
    grant(epcs_world)
    approve(epcs_world)
    with pytest.raises(EpcsRefused):
        system.epcs.revoke("ana", "ivy", PASSWORD, None, "   ")
    system.epcs.revoke("ana", "ivy", PASSWORD, None, "left the practice")
    assert system.epcs.get("ana").state is PermissionState.REVOKED
    row = next(system.audit.rows(event="epcs_revoke"))
    assert "entered_by=ivy" in row.detail and "approved_by=raj" in row.detail
    # A new grant starts over as pending.
    grant(epcs_world)
    assert system.epcs.get("ana").state is PermissionState.PENDING


def test_roles_list_who_enters_and_who_approves(epcs_world: World) -> None:
    system = epcs_world.system
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "ben", dea_number="BO1234563", dea_registrant=True)
    roles = {(r.username, r.role): r for r in system.epcs.roles()}
    assert roles[("ivy", "entry")].eligible
    assert roles[("raj", "approval")].eligible
    assert not roles[("ben", "approval")].eligible
    assert ("ana", "approval") not in roles
    listed = {p.username: p.state for p in system.epcs.permissions()}
    assert listed["ana"] is PermissionState.NONE and "ivy" not in listed
