"""Tokens fit for EPCS (1311.115(b)): vendor, model and FIPS 140 certificate per token; binding an
uncertified hardware token for a provider with EPCS permission is refused with the fix named."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.admin import Administration
from core.enrollment import Enrollment
from core.epcs_state import PermissionState
from core.errors import EpcsRefused, TokenNotFitForEpcs
from core.seedfiles import TokenSpec, read_seed_file
from core.tokens import Method, TokenState
from tests.conftest import PASSWORD, World, found

PSKC = Path(__file__).resolve().parents[1] / "data" / "pskc"


@pytest.fixture
def granted(world: World) -> World:
    """ana holds a granted EPCS permission on T1 (certified); raj approved it with T2."""
    system = world.system
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "ana", dea_number="AR1234563")
        system.accounts.set_epcs_details(conn, "raj", dea_number="BP9876547", dea_registrant=True)
    system.proofing.record("ana", "ivy", document_type="passport", last4="1234")
    world.clock.advance(1)
    system.token_fitness.describe("T1", "ivy", vendor="Acme", model="c200", fips_cert="#4282")
    admin = Administration(system, "ivy")
    admin.assign("T1", "ana")
    admin.assign("T2", "raj")
    system.epcs.grant("ana", "ivy", PASSWORD, None)
    world.clock.advance(30)
    system.epcs.approve("ana", "raj", PASSWORD, system.tokens.code_now("T2")[0])
    assert system.epcs.get("ana").state is PermissionState.GRANTED
    return world


def test_pskc_device_info_fills_vendor_and_model(world: World) -> None:
    seed_file = read_seed_file(PSKC / "rfc6030-figure3.pskcxml")
    report = world.system.tokens.import_specs(seed_file.specs, seed_file.rejected)
    info = world.system.tokens.get(report.added[0])
    assert info is not None and info.vendor == "Manufacturer" and info.fips_cert is None


def test_certificate_is_recorded_and_audited(world: World) -> None:
    info = world.system.token_fitness.describe("T1", "ivy", vendor="Acme", fips_cert="#4282")
    assert (info.vendor, info.fips_cert) == ("Acme", "4282")
    row = next(world.system.audit.rows(event="token_described"))
    assert row.serial == "T1" and "fips_cert=4282" in row.detail
    with pytest.raises(TokenNotFitForEpcs):
        world.system.token_fitness.describe("T1", "ivy", fips_cert="FIPS-ish")


def test_uncertified_token_refused_for_an_epcs_prescriber_with_the_fix_named(granted: World) -> None:
    system = granted.system
    admin = Administration(system, "ivy")
    with pytest.raises(TokenNotFitForEpcs) as caught:
        admin.assign("H1", "ana")
    assert "FIPS 140" in caught.value.message and "epcs token" in caught.value.hint
    assert found(system.tokens.get("H1")).owner is None
    # The refused binding rolled back whole: no notice of a binding that did not happen.
    assert not [n for n in system.outbox.notices() if n.event == "assign" and "H1" in n.body]
    with pytest.raises(TokenNotFitForEpcs):
        admin.replace("T1", "H1")
    info = system.tokens.get("T1")
    assert info is not None and info.state is TokenState.ASSIGNED
    system.token_fitness.describe("H1", "ivy", fips_cert="3980")
    assert admin.assign("H1", "ana").owner == "ana"


def test_the_kiosk_flow_refuses_too(granted: World) -> None:
    system = granted.system
    signed = system.signin.sign_in("ana", PASSWORD, _next_code(granted, "T1"))
    enrollment = Enrollment.start(system, signed)
    enrollment.choose_method(Method.CODE_GENERATOR)
    enrollment.add_new_device()
    enrollment.enter_serial("H1")
    with pytest.raises(TokenNotFitForEpcs):
        enrollment.synchronize(system.tokens.code_now("H1")[0], system.tokens.code_now("H1", press=1)[0])
    assert found(system.tokens.get("H1")).owner is None


def test_providers_without_epcs_and_the_policy_switch(granted: World) -> None:
    system = granted.system
    admin = Administration(system, "ivy")
    assert admin.assign("H1", "ben").owner == "ben"  # ben has no EPCS permission: any token will do
    system.tokens.import_specs([TokenSpec("T3", "totp", bytes(range(40, 60)))])
    system.policy = replace(system.policy, epcs_require_fips=False)
    assert admin.assign("T3", "ana").owner == "ana"  # the clinic switched the rule off


def test_a_grant_needs_certified_tokens(world: World) -> None:
    system = world.system
    with system.store.begin() as conn:
        system.accounts.set_epcs_details(conn, "ana", dea_number="AR1234563")
    system.proofing.record("ana", "ivy", document_type="passport", last4="1234")
    world.clock.advance(1)
    Administration(system, "ivy").assign("T1", "ana")
    with pytest.raises(EpcsRefused) as caught:
        system.epcs.grant("ana", "ivy", PASSWORD, None)
    assert caught.value.reason == "token_not_fips"


def _next_code(world: World, serial: str) -> str:
    world.clock.advance(30)
    return world.system.tokens.code_now(serial)[0]
