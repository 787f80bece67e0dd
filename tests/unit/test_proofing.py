"""Identity proofing record (1311.105, 1311.110(a)): what was checked, by whom, never the number."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import ProofingRefused
from core.schema import identity_proofing
from tests.conftest import World


def test_document_check_is_stored_and_audited_with_last_four_only(world: World) -> None:
    record = world.system.proofing.record("ana", "ivy", document_type="Passport", last4=" 56 7a ")
    assert (record.document_type, record.last4, record.checked_by) == ("passport", "567A", "ivy")
    assert world.system.proofing.latest("ana") == record
    row = next(world.system.audit.rows(event="identity_proofed"))
    assert (row.actor, row.subject, row.detail) == ("ivy", "ana", "document=passport last4=567A")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"document_type": "passport", "last4": "123456789"}, "not the whole number"),
        ({"document_type": "passport", "last4": "12"}, "letters or digits"),
        ({"document_type": "library_card", "last4": "1234"}, "not a document type"),
        ({"document_type": "passport"}, "last four"),
        ({"csp_reference": "CSP-1", "document_type": "passport", "last4": "1234"}, "not both"),
        ({"csp_reference": "x y"}, "CSP transaction reference"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_stored(world: World, kwargs: dict[str, str], words: str) -> None:
    with pytest.raises(ProofingRefused) as caught:
        world.system.proofing.record("ana", "ivy", **kwargs)
    assert words in caught.value.message
    with world.system.store.connect() as conn:
        assert conn.execute(select(identity_proofing)).first() is None
    # A whole document number never reaches the audit either.
    assert not any("123456789" in r.detail for r in world.system.audit.rows())


def test_only_it_staff_check_and_never_their_own(world: World) -> None:
    with pytest.raises(ProofingRefused):
        world.system.proofing.record("ana", "raj", document_type="passport", last4="1234")
    with pytest.raises(ProofingRefused):
        world.system.proofing.record("ivy", "ivy", document_type="passport", last4="1234")


def test_csp_reference_for_an_individually_proofed_prescriber(world: World) -> None:
    record = world.system.proofing.record("ben", "ivy", csp_reference="idme:tx/2026-12-01/42")
    assert record.as_dict()["csp_reference"] == "idme:tx/2026-12-01/42" and record.last4 is None
