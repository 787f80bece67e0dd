"""What core.pskc_integrity and core.pskcxml do faster than python-pskc gives python-pskc's answer
(issue 11): the MAC made in OpenSSL, AES-CBC decrypted with one cipher object, the policy dates
each parsed once per distinct text."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from pskc import PSKC
from pskc.exceptions import DecryptionError

from core.errors import ImportRejected
from core.pskc_integrity import decrypter, mac_maker
from core.pskcxml import Document, read_package
from core.seedfiles import read_pskc
from tests.unit.test_pskc_integrity import NOW, PSK, SEED_A, SEED_B, SEED_KW, b64, container
from tests.unit.test_pskc_integrity import Key as IKey

MAC_KEY = bytes(range(100, 120))
XENC = "http://www.w3.org/2001/04/xmlenc#"


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
    ours = [read_package(container, package).keys[0] for package in document.packages()]
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


def _cbc(key: bytes, plain: bytes, iv: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()


@pytest.mark.parametrize("bits", [128, 192, 256])
@pytest.mark.parametrize("separate_iv", [False, True])
def test_the_decryption_is_python_pskcs_own(bits: int, separate_iv: bool) -> None:
    container = PSKC()
    container.encryption.setup_preshared_key(key=os.urandom(bits // 8), algorithm=f"{XENC}aes{bits}-cbc")
    iv = os.urandom(16)
    if separate_iv:
        container.encryption.iv = iv  # the draft format's one IV for the file
    decrypt = decrypter(container)
    key = bytes(container.encryption.key or b"")
    for plain in (b"", os.urandom(20), os.urandom(64)):
        cipher = _cbc(key, plain, iv) if separate_iv else iv + _cbc(key, plain, iv)
        for named in (None, f"{XENC}aes{bits}-cbc"):
            assert decrypt(cipher, named) == container.encryption.decrypt_value(cipher, named) == plain
    # Bad padding (a block that decrypts to one ending in 0: never valid PKCS#7; random bytes
    # were valid padding 1 time in 256), a partial block, no body at all.
    front = b"" if separate_iv else iv
    bad_padding = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor().update(bytes(32))
    for damaged in (front + bad_padding, front + os.urandom(24), front):
        with pytest.raises(DecryptionError):
            container.encryption.decrypt_value(damaged)
        with pytest.raises(DecryptionError):
            decrypt(damaged, None)


def test_other_methods_and_an_unfitting_key_are_left_to_python_pskc() -> None:
    container = PSKC()
    container.encryption.setup_preshared_key(key=PSK, algorithm=f"{XENC}aes128-cbc")
    decrypt = decrypter(container)
    wrapped = aes_key_wrap(PSK, SEED_KW)
    assert decrypt(wrapped, f"{XENC}kw-aes128") == SEED_KW
    with pytest.raises(DecryptionError, match="Invalid key length"):  # python-pskc's refusal
        decrypt(os.urandom(48), f"{XENC}aes256-cbc")


def _replace_value(data: bytes, tag: str, occurrence: int, value: bytes) -> bytes:
    text = data.decode()
    start = -1
    for _ in range(occurrence):
        start = text.index(f"<{tag}>", start + 1)
    start += len(f"<{tag}>")
    end = text.index(f"</{tag}>", start)
    return (text[:start] + b64(value) + text[end:]).encode()


def test_a_value_shorter_than_its_iv_refuses_the_file() -> None:
    # python-pskc let cryptography's ValueError ("Invalid IV size") out of the import.
    data = container(IKey("A1", SEED_A), IKey("B1", SEED_B))
    short = _replace_value(data, "xenc:CipherValue", 3, bytes(8))  # B1's secret: MAC key, A1, B1
    short = _replace_value(short, "pskc:ValueMAC", 2, hmac.digest(MAC_KEY, bytes(8), "sha1"))
    with pytest.raises(ImportRejected, match="KeyPackage 2 secret is a single cipher block"):
        read_pskc(short, psk=PSK, now=NOW)


def test_a_mac_key_shorter_than_its_iv_refuses_the_file() -> None:
    data = _replace_value(container(IKey("A1", SEED_A)), "xenc:CipherValue", 1, bytes(8))
    with pytest.raises(ImportRejected, match="MAC key is shorter than one cipher block"):
        read_pskc(data, psk=PSK, now=NOW)


def test_a_file_with_more_tags_than_the_name_cache_keeps_reads_the_same() -> None:
    data = container(IKey("A1", SEED_A), IKey("B1", SEED_B))
    extra = "".join(f"<pskc:X{i}/>" for i in range(600))  # unknown elements python-pskc ignores
    padded = data.replace(b"<pskc:SerialNo>B1", f"{extra}<pskc:SerialNo>B1".encode(), 1)
    assert padded != data
    result = read_pskc(padded, psk=PSK, now=NOW)
    assert [(s.serial, s.secret) for s in result.specs] == [("A1", SEED_A), ("B1", SEED_B)]


def test_a_method_python_pskc_does_not_recognise_is_still_refused_by_python_pskc() -> None:
    container = PSKC()
    container.encryption.setup_preshared_key(key=PSK, algorithm=f"{XENC}aes128-cbc")
    cipher = os.urandom(16) + _cbc(PSK, SEED_A, os.urandom(16))[:32]
    # python-pskc matches the URI's end exactly: case, a suffix, a trailing newline
    for named in (f"{XENC}AES128-CBC", f"{XENC}aes128-cbc-x", f"{XENC}aes128-cbc\n"):
        with pytest.raises(DecryptionError, match="Unsupported algorithm"):
            decrypter(container)(cipher, named)


# Method URIs as files write them: python-pskc's exact endings, other cases and suffixes, other
# ciphers (left to python-pskc), and none (the container's).
_METHODS = [None, "", f"{XENC}aes128-cbc", f"{XENC}aes192-cbc", f"{XENC}aes256-cbc", f"{XENC}AES128-CBC"]
_METHODS += [f"{XENC}aes128-cbc ", f"{XENC}aes128-cbc\n", "aes128-cbc", "x#aes256-cbc", f"{XENC}aes512-cbc"]
_METHODS += [f"{XENC}tripledes-cbc", f"{XENC}kw-aes128", "urn:other#camellia128-cbc", f"{XENC}aes128-gcm"]


def _outcome(decrypt: Callable[[bytes, str | None], bytes], cipher: bytes, method: str | None) -> object:
    try:
        return decrypt(cipher, method)
    except (DecryptionError, ValueError):  # verify_sealed reads both as one refusal
        return "refused"


_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "none": lambda c: c,
    "truncated": lambda c: c[: len(c) // 2],
    "a byte more": lambda c: c + b"\x01",
    "padding flipped": lambda c: c[:-1] + bytes([c[-1] ^ 1]),
    "random": lambda c: os.urandom(len(c)),
    "empty": lambda c: b"",
}


@pytest.mark.parametrize("key_bytes", [16, 24, 32])
# Fixed bytes, not random ones: every pytest-xdist worker must collect the same test ids.
@pytest.mark.parametrize(
    "separate_iv", [b"", bytes(8), bytes(range(16)), bytes(range(17))], ids=["none", "8", "16", "17"]
)
def test_any_value_decrypts_or_is_refused_as_python_pskc_does(key_bytes: int, separate_iv: bytes) -> None:
    # Every method against every container method, every damage, plaintexts of 0 to 3 blocks.
    for container_method in (m for m in _METHODS if m):
        container = PSKC()
        container.encryption.algorithm = container_method
        container.encryption.key = key = os.urandom(key_bytes)
        container.encryption.iv = separate_iv or None
        decrypt = decrypter(container)
        for method in _METHODS:
            for plain in (b"", os.urandom(15), os.urandom(16), os.urandom(40)):
                iv = separate_iv if len(separate_iv) == 16 else os.urandom(16)
                whole = _cbc(key, plain, iv) if separate_iv else iv + _cbc(key, plain, iv)
                for damage, change in _DAMAGE.items():
                    cipher = change(whole)
                    ours = _outcome(decrypt, cipher, method)
                    assert ours == _outcome(container.encryption.decrypt_value, cipher, method), (
                        container_method,
                        method,
                        damage,
                    )
