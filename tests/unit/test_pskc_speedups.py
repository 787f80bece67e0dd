"""What core.pskc_integrity and core.pskcxml do faster than python-pskc gives python-pskc's answer
(issue 11): the MAC made in OpenSSL, the policy dates each parsed once per distinct text."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pskc import PSKC

from core.errors import ImportRejected
from core.pskc_integrity import mac_maker
from core.pskcxml import Document, read_package
from core.seedfiles import read_pskc
from tests.unit.test_pskc_integrity import NOW, PSK, SEED_A, SEED_B, container
from tests.unit.test_pskc_integrity import Key as IKey

MAC_KEY = bytes(range(100, 120))


@pytest.mark.parametrize("algorithm", ["hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"])
def test_the_mac_is_python_pskcs_own(algorithm: str) -> None:
    container = PSKC()
    container.mac.setup(key=MAC_KEY, algorithm=f"http://www.w3.org/2001/04/xmldsig-more#{algorithm}")
    mac = mac_maker(container)
    for value in (b"", os.urandom(48), os.urandom(1000)):
        assert mac(value) == container.mac.generate_mac(value)


def test_a_mac_no_hash_name_reproduces_is_left_to_python_pskc() -> None:
    container = PSKC()
    container.mac.setup(key=MAC_KEY, algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1")
    # python-pskc's MAC stands in for one no OpenSSL name reproduces (a library's own variant).
    container.mac.generate_mac = lambda value: b"\x00" * 20  # type: ignore[method-assign]
    assert mac_maker(container)(b"anything") == b"\x00" * 20


def _policies(*dates: tuple[str, str]) -> bytes:
    packages = "".join(
        f'<KeyPackage><DeviceInfo><SerialNo>P{i}</SerialNo></DeviceInfo><Key Algorithm="x:hotp">'
        f"<Policy><StartDate>{start}</StartDate><ExpiryDate>{expiry}</ExpiryDate>"
        "<NumberOfTransactions>4</NumberOfTransactions><Unknown/></Policy></Key></KeyPackage>"
        for i, (start, expiry) in enumerate(dates)
    )
    return f'<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">{packages}</KeyContainer>'.encode()


def test_policy_dates_and_the_rest_of_the_policy_read_as_python_pskc_reads_them(tmp_path: Path) -> None:
    dates = [("2025-01-01T00:00:00Z", "2031-12-31T23:59:59Z")] * 3 + [(" 2026-02-03T04:05:06+01:00 ", "2032-01-01")]
    data = _policies(*dates)
    document = Document(data)
    container = PSKC()
    ours = [read_package(container, package, whole=True).keys[0] for package in document.packages()]
    whole = tmp_path / "policies.pskcxml"
    whole.write_bytes(data)
    theirs = PSKC(str(whole)).keys  # python-pskc's own parse of the whole file
    assert len(ours) == len(theirs) == 4
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.policy.start_date == reference.policy.start_date
        assert mine.policy.expiry_date == reference.policy.expiry_date
        assert mine.policy.number_of_transactions == reference.policy.number_of_transactions == 4
        assert mine.policy.unknown_policy_elements is reference.policy.unknown_policy_elements is True
    assert ours[0].policy.expiry_date == datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_a_malformed_plain_counter_still_refuses_the_file() -> None:
    # The first pass leaves a plain counter to the second; the second still refuses the file.
    good = container(IKey("C1", SEED_A), IKey("C2", SEED_B))
    bad = good.replace(b"<pskc:PlainValue>0</pskc:PlainValue>", b"<pskc:PlainValue>1.5</pskc:PlainValue>", 1)
    assert read_pskc(good, psk=PSK, now=NOW).specs
    with pytest.raises(ImportRejected, match="malformed value"):
        read_pskc(bad, psk=PSK, now=NOW)
