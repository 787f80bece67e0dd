"""Seed files: OATH CSV rows and RFC 6030 PSKC containers, the good and every way to be bad."""

from __future__ import annotations

import io
import re
import threading
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pskc import PSKC

from core.errors import ImportRejected
from core.pskcxml import Document
from core.seed_checks import SeedFile
from core.seedfiles import (
    Rejected,
    TokenSpec,
    read_oath_csv,
    read_pskc,
    read_seed_bytes,
    read_seed_file,
)
from tests.seedfile_helpers import SEED, assert_no_secret, only_reason

DATA = Path(__file__).resolve().parents[1] / "data" / "pskc"
RFC_SECRET = b"12345678901234567890"
RFC_PSK = bytes.fromhex("12345678901234567890123456789012")


def figure(n: int) -> bytes:
    return (DATA / f"rfc6030-figure{n}.pskcxml").read_bytes()


# --------------------------------------------------------------------------- RFC 6030 figures


def test_figure2_basic_container_has_no_serial_so_it_is_rejected() -> None:
    result = read_pskc(figure(2))
    assert result.rejected == [Rejected("KeyPackage 1", None, "no serial number")]


def test_figure3_supplementary_data_imports_hotp_token() -> None:
    result = read_pskc(figure(3))
    assert result.rejected == []
    assert result.specs == [TokenSpec("987654321", "hotp", RFC_SECRET, "SHA1", digits=8, counter=0)]


def test_figure4_key_by_reference_has_no_secret() -> None:
    reason = only_reason(read_pskc(figure(4)))
    assert "no secret" in reason


def test_figure5_keeps_the_hotp_key_and_rejects_the_pin_package() -> None:
    result = read_pskc(figure(5))
    assert [(s.serial, s.secret, s.digits) for s in result.specs] == [("987654321", RFC_SECRET, 8)]
    assert len(result.rejected) == 1
    assert result.rejected[0].where == "KeyPackage 2"
    assert result.rejected[0].serial == "987654321"
    assert "'pin' is not supported" in result.rejected[0].reason


def test_figure6_pre_shared_key_aes128_cbc() -> None:
    result = read_pskc(figure(6), psk=RFC_PSK)
    assert result.rejected == []
    assert result.specs == [TokenSpec("987654321", "hotp", RFC_SECRET, digits=8)]


def test_figure7_pbkdf2_passphrase() -> None:
    result = read_pskc(figure(7), passphrase="qwerty")
    assert result.rejected == []
    assert result.specs == [TokenSpec("987654321", "hotp", RFC_SECRET, digits=8)]


def test_read_seed_file_sniffs_pskc_by_content(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"  # the name lies; the content decides
    path.write_bytes(figure(7))
    assert read_seed_file(path, passphrase="qwerty").specs[0].secret == RFC_SECRET


# --------------------------------------------------------------------------- keys and MACs


def test_wrong_passphrase_is_refused() -> None:
    with pytest.raises(ImportRejected, match="The passphrase is wrong"):
        read_pskc(figure(7), passphrase="qwertz")


def test_wrong_pre_shared_key_is_refused() -> None:
    with pytest.raises(ImportRejected, match="The pre-shared key is wrong"):
        read_pskc(figure(6), psk=bytes(16))


def test_pre_shared_key_of_the_wrong_length_says_the_length() -> None:
    with pytest.raises(ImportRejected, match="must be 16 bytes"):
        read_pskc(figure(6), psk=bytes(8))


def test_missing_passphrase_or_key_is_asked_for() -> None:
    with pytest.raises(ImportRejected, match="give the passphrase"):
        read_pskc(figure(7))
    with pytest.raises(ImportRejected, match="give the key"):
        read_pskc(figure(6))


def test_changed_value_mac_rejects_the_whole_file() -> None:
    data = figure(6).replace(b"Su+NvtQfmvfJzF6bmQiJqoLRExc=", b"Tu+NvtQfmvfJzF6bmQiJqoLRExc=")
    with pytest.raises(ImportRejected, match="failed its MAC check") as caught:
        read_pskc(data, psk=RFC_PSK)
    assert_no_secret(str(caught.value), RFC_SECRET, RFC_PSK)


def test_changed_ciphertext_is_a_mac_failure_not_a_wrong_key() -> None:
    # python-pskc decrypts before checking the MAC, so a tampered block surfaces there as
    # "Invalid padding"; checking the MAC over the ciphertext first names the real problem.
    original = b"AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv"
    tampered = b"AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGw"
    data = figure(6).replace(original, tampered)
    assert data != figure(6)
    with pytest.raises(ImportRejected, match="failed its MAC check"):
        read_pskc(data, psk=RFC_PSK)


def test_cbc_value_with_its_mac_stripped_is_refused() -> None:
    data = re.sub(rb"<ValueMAC>.*?</ValueMAC>", b"", figure(6), flags=re.DOTALL)
    with pytest.raises(ImportRejected, match="no MAC"):
        read_pskc(data, psk=RFC_PSK)


# What PSKC.add_key takes for a key's properties.
KeyAttributes = dict[str, str | bytes | int | datetime | None]


def _container(*, encrypt: str | None = None, **keys: KeyAttributes) -> bytes:
    container = PSKC()
    for serial, attributes in keys.items():
        container.add_key(serial=serial, **attributes)
    if encrypt:
        container.encryption.setup_pbkdf2(encrypt, iterations=1000)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()


TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"


def test_totp_parameters_are_read_from_a_vendor_container() -> None:
    data = _container(
        encrypt="batch-7",
        T1={
            "secret": bytes(32),
            "algorithm": TOTP,
            "algorithm_suite": "HMAC-SHA256",
            "response_length": 8,
            "time_interval": 60,
        },
        H1={"secret": SEED, "algorithm": HOTP, "response_length": 6, "counter": 42},
    )
    result = read_pskc(data, passphrase="batch-7")
    assert result.rejected == []
    assert result.specs == [
        TokenSpec("T1", "totp", bytes(32), "SHA256", digits=8, period=60),
        TokenSpec("H1", "hotp", SEED, "SHA1", digits=6, counter=42),
    ]


def test_hash_named_in_the_profile_uri() -> None:
    data = _container(T1={"secret": bytes(64), "algorithm": TOTP + "-sha512"})
    assert read_pskc(data).specs[0].algorithm == "SHA512"


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        (
            {
                "secret": SEED,
                "algorithm": "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-6:QN08",
            },
            "is not supported; only HOTP and TOTP",
        ),
        ({"secret": SEED, "algorithm": TOTP, "response_length": 7}, "digits must be 6 or 8"),
        ({"secret": SEED, "algorithm": TOTP, "time_interval": 45}, "must be 30 or 60 seconds"),
        ({"secret": SEED, "algorithm": TOTP, "algorithm_suite": "HMAC-MD5"}, "is not SHA1"),
        ({"secret": b"0123456789", "algorithm": HOTP}, "only 80 bits; at least 128"),
        ({"algorithm": HOTP, "counter": 3}, "no secret"),
    ],
)
def test_unusable_key_package_is_rejected_alone(attributes: KeyAttributes, reason: str) -> None:
    data = _container(BAD1=attributes, GOOD1={"secret": SEED, "algorithm": HOTP})
    result = read_pskc(data)
    assert [s.serial for s in result.specs] == ["GOOD1"]
    assert len(result.rejected) == 1
    assert result.rejected[0].where == "KeyPackage 1"
    assert reason in result.rejected[0].reason
    assert_no_secret(result.rejected[0].reason, SEED, b"0123456789")


def test_duplicate_serial_in_pskc_rejects_every_copy() -> None:
    container = PSKC()
    container.add_key(serial="D1", secret=SEED, algorithm=HOTP)
    container.add_key(serial="D1", secret=bytes(20), algorithm=HOTP)
    out = io.BytesIO()
    container.write(out)
    result = read_pskc(out.getvalue())
    assert result.specs == []
    assert [r.where for r in result.rejected] == ["KeyPackage 1", "KeyPackage 2"]
    assert all("more than once" in r.reason for r in result.rejected)


# --------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
 <KeyPackage><DeviceInfo><SerialNo>&lol9;</SerialNo></DeviceInfo></KeyPackage>
</KeyContainer>
"""


def test_billion_laughs_is_refused_before_any_expansion() -> None:
    outcome: list[BaseException | SeedFile] = []

    def run() -> None:
        try:
            outcome.append(read_seed_bytes(BILLION_LAUGHS))
        except BaseException as e:
            outcome.append(e)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)  # a generous bound: expansion would take minutes and gigabytes
    assert not worker.is_alive(), "billion laughs was not refused"
    assert len(outcome) == 1
    assert isinstance(outcome[0], ImportRejected)
    assert "DTD" in str(outcome[0])


def test_external_entity_is_refused(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("do-not-read")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY x SYSTEM "file://{secret_file}">]>'
        '<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&x;</KeyContainer>'
    ).encode()
    with pytest.raises(ImportRejected, match="DTD") as caught:
        read_pskc(data)
    assert "do-not-read" not in str(caught.value)


def test_a_dtd_behind_a_prolog_longer_than_a_chunk_is_refused() -> None:
    # Only the prolog is read by defusedxml (a DTD can be nowhere else): all of it, however long.
    data = b'<?xml version="1.0"?>\n' + b"<!-- padding -->\n" * 8000 + BILLION_LAUGHS.split(b"?>", 1)[1]
    assert len(data) > 2 * Document.CHUNK
    with pytest.raises(ImportRejected, match="DTD"):
        read_seed_bytes(data)


@pytest.mark.parametrize(
    "inside",
    [
        b'<!DOCTYPE k [<!ENTITY x "boom">]>',  # a DTD after the top element's start
        b"<KeyPackage><DeviceInfo><SerialNo>&x;</SerialNo></DeviceInfo></KeyPackage>",  # no DTD names x
    ],
)
def test_no_entity_can_be_declared_or_used_inside_the_container(inside: bytes) -> None:
    data = b'<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">' + inside + b"</KeyContainer>"
    with pytest.raises(ImportRejected, match="not well-formed XML"):
        read_seed_bytes(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<KeyContainer><KeyPackage>", "not well-formed XML"),
        (b"<html><body>hi</body></html>", "not a PSKC container"),
        (
            b'<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="2.0"/>',
            "Unsupported version",
        ),
        (
            b'<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0"/>',
            "no KeyPackage",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
        (b"serial,key\x00,totp", "binary"),
        (b"", "no tokens"),
        (b"# only a comment\n\nserial,key,type,digits,period\n", "no tokens"),
        (b"hello world\nthis is a letter\n", "not an OATH CSV seed file"),
    ],
)
def test_file_that_is_neither_csv_nor_pskc(data: bytes, message: str) -> None:
    with pytest.raises(ImportRejected, match=message):
        read_seed_bytes(data)


def test_missing_file_is_an_import_rejection(tmp_path: Path) -> None:
    with pytest.raises(ImportRejected, match="Cannot read the seed file"):
        read_seed_file(tmp_path / "nope.xml")


# --------------------------------------------------------------------------- properties


def _parses_or_rejects(call: object) -> None:
    assert callable(call)
    try:
        result = call()
    except ImportRejected:
        return
    assert isinstance(result, SeedFile)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_any_bytes_parse_or_are_rejected(data: bytes) -> None:
    _parses_or_rejects(lambda: read_seed_bytes(data))
    _parses_or_rejects(lambda: read_pskc(data))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=1024))
def test_any_text_as_csv_parses_or_is_rejected(text: str) -> None:
    _parses_or_rejects(lambda: read_oath_csv(text))


_FIGURE6 = figure(6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_FIGURE6) - 1), st.integers(0, 255)), max_size=4))
def test_damaged_pskc_parses_or_is_rejected(changes: list[tuple[int, int]]) -> None:
    data = bytearray(_FIGURE6)
    for at, value in changes:
        data[at] = value
    _parses_or_rejects(lambda: read_seed_bytes(bytes(data), psk=RFC_PSK))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('AB1,"# \n\r-=totphsa0123456789')), max_size=300))
def test_csv_like_text_parses_or_is_rejected(text: str) -> None:
    _parses_or_rejects(lambda: read_seed_bytes(text.encode()))
