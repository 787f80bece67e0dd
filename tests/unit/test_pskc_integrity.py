"""PSKC integrity is decided for the whole file (issue 9) and vendor layouts read right (issue 11).

Every container here is made by `Vendor`, which encrypts and MACs like a vendor's tool would
(AES-128-CBC with the IV in front of the ciphertext, HMAC-SHA1 over the ciphertext with an
encrypted MAC key, RFC 6030 section 6.1), and then damaged in one precise way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from core.errors import ImportRejected
from core.seedfiles import TokenSpec, read_pskc

PSK = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
MAC_KEY = bytes(range(100, 120))
SEED_A = bytes(range(1, 21))
SEED_B = bytes(range(21, 41))
SEED_KW = bytes(range(1, 33))  # RFC 3394 wraps whole 8-byte blocks
CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
KW = "http://www.w3.org/2001/04/xmlenc#kw-aes128"
PBES2 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbes2"
HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def cbc_encrypt(key: bytes, plain: bytes, iv: bytes | None = None) -> bytes:
    iv = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def mac(value: bytes, key: bytes = MAC_KEY) -> bytes:
    return hmac.new(key, value, hashlib.sha1).digest()


@dataclass
class Key:
    serial: str
    seed: bytes
    method: str = CBC
    with_mac: bool = True
    mac_over_plaintext: bool = False
    alter_iv: bool = False
    strip_iv: bool = False
    algorithm: str = HOTP
    policy: str = ""

    def secret_xml(self) -> str:
        cipher = aes_key_wrap(PSK, self.seed) if self.method == KW else cbc_encrypt(PSK, self.seed)
        if self.strip_iv:  # a vendor tool that leaves the IV out (and MACs what it wrote)
            cipher = cipher[16:]
        tag = mac(self.seed if self.mac_over_plaintext else cipher)
        if self.alter_iv:
            cipher = bytes([cipher[0] ^ 0x01]) + cipher[1:]
        if self.method == "pbes2-cbc":
            method = (
                f'<xenc:EncryptionMethod Algorithm="{PBES2}">'
                f'<xenc11:EncryptionScheme Algorithm="{CBC}"/></xenc:EncryptionMethod>'
            )
        elif self.method == "inherited":  # no method of its own: python-pskc uses the file's
            method = ""
        else:
            method = f'<xenc:EncryptionMethod Algorithm="{self.method}"/>'
        value_mac = f"<pskc:ValueMAC>{b64(tag)}</pskc:ValueMAC>" if self.with_mac else ""
        return (
            f"<pskc:Secret><pskc:EncryptedValue>{method}<xenc:CipherData><xenc:CipherValue>{b64(cipher)}"
            f"</xenc:CipherValue></xenc:CipherData></pskc:EncryptedValue>{value_mac}</pskc:Secret>"
        )

    def package_xml(self) -> str:
        return (
            f"<pskc:KeyPackage><pskc:DeviceInfo><pskc:Manufacturer>Acme</pskc:Manufacturer>"
            f"<pskc:SerialNo>{self.serial}</pskc:SerialNo></pskc:DeviceInfo>"
            f'<pskc:Key Id="{self.serial}" Algorithm="{self.algorithm}"><pskc:AlgorithmParameters>'
            '<pskc:ResponseFormat Length="6" Encoding="DECIMAL"/></pskc:AlgorithmParameters>'
            f"<pskc:Data>{self.secret_xml()}<pskc:Counter><pskc:PlainValue>0</pskc:PlainValue></pskc:Counter>"
            f"</pskc:Data>{self.policy}</pskc:Key></pskc:KeyPackage>"
        )


def container(*keys: Key, mac_method: bool = True, encryption_key: str = "") -> bytes:
    mac_xml = (
        f'<pskc:MACMethod Algorithm="{HMAC_SHA1}"><pskc:MACKey><xenc:EncryptionMethod Algorithm="{CBC}"/>'
        f"<xenc:CipherData><xenc:CipherValue>{b64(cbc_encrypt(PSK, MAC_KEY))}</xenc:CipherValue>"
        "</xenc:CipherData></pskc:MACKey></pskc:MACMethod>"
        if mac_method
        else ""
    )
    key_info = encryption_key or "<ds:KeyName>Pre-shared-key</ds:KeyName>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<pskc:KeyContainer Version="1.0" '
        'xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        'xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#">'
        f"<pskc:EncryptionKey>{key_info}</pskc:EncryptionKey>{mac_xml}"
        + "".join(k.package_xml() for k in keys)
        + "</pskc:KeyContainer>\n"
    ).encode()


def refused(data: bytes, match: str) -> str:
    with pytest.raises(ImportRejected, match=match) as caught:
        read_pskc(data, psk=PSK, now=NOW)
    text = str(caught.value)
    for secret in (SEED_A, SEED_B, PSK, MAC_KEY):
        assert secret.hex() not in text and b64(secret) not in text
    return text


# --------------------------------------------------------------------------- one MAC'd key, one not


def test_the_vendor_file_itself_imports() -> None:
    result = read_pskc(container(Key("A1", SEED_A), Key("B1", SEED_B)), psk=PSK, now=NOW)
    assert result.rejected == []
    assert [(s.serial, s.secret) for s in result.specs] == [("A1", SEED_A), ("B1", SEED_B)]


def test_second_key_without_a_mac_refuses_the_file() -> None:
    data = container(Key("A1", SEED_A), Key("B1", SEED_B, with_mac=False))
    assert "KeyPackage 2" in refused(data, "carries MACs, but KeyPackage 2 secret has none")


def test_second_key_with_its_iv_altered_and_no_mac_refuses_the_file() -> None:
    """The attack: flipping an IV bit flips the same bit of the seed's first block."""
    data = container(Key("A1", SEED_A), Key("B1", SEED_B, with_mac=False, alter_iv=True))
    refused(data, "has none, so it cannot be checked")


def test_second_key_renamed_to_pbes2_wrapping_cbc_without_mac_refuses_the_file() -> None:
    data = container(Key("A1", SEED_A), Key("B1", SEED_B, method="pbes2-cbc", with_mac=False, alter_iv=True))
    refused(data, "has none")


def test_second_key_inheriting_cbc_without_a_method_or_mac_refuses_the_file() -> None:
    data = container(Key("A1", SEED_A), Key("B1", SEED_B, method="inherited", with_mac=False, alter_iv=True))
    refused(data, "has none")


def test_pbes2_wrapping_cbc_with_its_mac_imports() -> None:
    result = read_pskc(container(Key("A1", SEED_A, method="pbes2-cbc")), psk=PSK, now=NOW)
    assert [s.secret for s in result.specs] == [SEED_A]


def test_an_altered_iv_under_a_mac_is_tampering() -> None:
    data = container(Key("A1", SEED_A), Key("B1", SEED_B, alter_iv=True))
    refused(data, "failed its MAC check")


def test_no_mac_anywhere_with_cbc_refuses_the_file() -> None:
    data = container(Key("A1", SEED_A, with_mac=False), Key("B1", SEED_B, with_mac=False), mac_method=False)
    refused(data, "CBC but carries no MAC")


def test_mac_values_without_a_mac_method_refuse_the_file() -> None:
    refused(container(Key("A1", SEED_A), mac_method=False), "names no MAC method")


# --------------------------------------------------------------------------- key wrap


def test_key_wrap_without_mac_imports_its_integrity_is_the_unwrap() -> None:
    data = container(Key("A1", SEED_KW, method=KW, with_mac=False), mac_method=False)
    assert [s.secret for s in read_pskc(data, psk=PSK, now=NOW).specs] == [SEED_KW]


def test_an_altered_key_wrap_value_is_refused() -> None:
    data = container(Key("A1", SEED_KW, method=KW, with_mac=False, alter_iv=True), mac_method=False)
    refused(data, "pre-shared key is wrong")


def test_key_wrap_next_to_a_cbc_value_without_mac_refuses_the_file() -> None:
    data = container(Key("A1", SEED_KW, method=KW, with_mac=False), Key("B1", SEED_B, with_mac=False), mac_method=False)
    refused(data, "CBC but carries no MAC")


# --------------------------------------------------------------------------- MAC over the plaintext


def test_a_mac_over_the_plaintext_is_accepted() -> None:
    data = container(Key("A1", SEED_A, mac_over_plaintext=True), Key("B1", SEED_B))
    assert [s.secret for s in read_pskc(data, psk=PSK, now=NOW).specs] == [SEED_A, SEED_B]


def test_a_mac_over_the_plaintext_still_catches_an_altered_iv() -> None:
    refused(container(Key("A1", SEED_A, mac_over_plaintext=True, alter_iv=True)), "failed its MAC check")


# --------------------------------------------------------------------------- misleading messages


def test_a_cipher_value_without_its_iv_is_not_called_tampering() -> None:
    text = refused(container(Key("A1", bytes(range(1, 16)), strip_iv=True)), "IV")  # 15 bytes: one block
    assert "not tampering" in text and "MAC check" not in text


def test_asymmetric_key_transport_is_not_asked_for_a_hex_key() -> None:
    certificate = "<ds:X509Data><ds:X509Certificate>MIIBAA==</ds:X509Certificate></ds:X509Data>"
    key = Key("A1", SEED_A, method="http://www.w3.org/2001/04/xmlenc#rsa_1_5", with_mac=False)
    data = container(key, mac_method=False, encryption_key=certificate)
    for psk in (None, PSK):
        with pytest.raises(ImportRejected) as caught:
            read_pskc(data, now=NOW, psk=psk)
        assert "public key" in str(caught.value) and "hex" not in str(caught.value)


def test_an_ocra_profile_is_named_ocra() -> None:
    plain = container(Key("A1", SEED_A, algorithm="urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA512-8:C-QN08"))
    [rejected] = read_pskc(plain, psk=PSK, now=NOW).rejected
    assert "OCRA (challenge-response)" in rejected.reason and "C-QN08" not in rejected.reason


def test_a_bare_hotp_algorithm_is_hotp() -> None:
    result = read_pskc(container(Key("A1", SEED_A, algorithm="HOTP")), psk=PSK, now=NOW)
    assert result.specs == [TokenSpec("A1", "hotp", SEED_A)]


# --------------------------------------------------------------------------- <Policy> dates


def _policy(start: str, expiry: str) -> str:
    return (
        f"<pskc:Policy><pskc:StartDate>{start}</pskc:StartDate>"
        f"<pskc:ExpiryDate>{expiry}</pskc:ExpiryDate></pskc:Policy>"
    )


def test_an_expired_key_is_refused_with_its_date_and_the_others_import() -> None:
    data = container(
        Key("OLD1", SEED_A, policy=_policy("2020-01-01T00:00:00Z", "2025-12-31T23:59:59Z")),
        Key("NEW1", SEED_B, policy=_policy("2026-01-01T00:00:00Z", "2030-12-31T23:59:59Z")),
    )
    result = read_pskc(data, psk=PSK, now=NOW)
    assert [s.serial for s in result.specs] == ["NEW1"]
    [rejected] = result.rejected
    assert (rejected.where, rejected.serial) == ("KeyPackage 1", "OLD1")
    assert "expired on 2025-12-31" in rejected.reason


# --------------------------------------------------------------------------- the draft container format


def activident(
    *, iv: str | None, digest: bool = True, algorithm: str = "http://www.ietf.org/keyprov/pskc#hotp"
) -> bytes:
    """ActivIdentity's layout: one EncryptionMethod (with its IV) for the file, `<Data Name=...>`
    with a `<Value>` and a `<ValueDigest>` that is an HMAC over the plaintext keyed by the PSK."""
    raw_iv = bytes(range(200, 216))
    cipher = cbc_encrypt(PSK, SEED_A, raw_iv)[16:]
    iv_xml = f"<IV>{iv}</IV>" if iv is not None else ""
    digest_xml = f"<ValueDigest>{b64(mac(SEED_A, PSK))}</ValueDigest>" if digest else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:container:1.0" version="1.0">'
        f'<EncryptionMethod Algorithm="{CBC}">{iv_xml}</EncryptionMethod>'
        f'<DigestMethod Algorithm="{HMAC_SHA1}"/>'
        "<Device><DeviceId><Manufacturer>ActivIdentity</Manufacturer><SerialNo>0950380269</SerialNo></DeviceId>"
        f'<Key KeyAlgorithm="{algorithm}" KeyId="0950380269"><Issuer>ActivIdentity</Issuer>'
        '<Usage OTP="true"><ResponseFormat Format="DECIMAL" Length="8"/></Usage>'
        f'<Data Name="SECRET"><Value>{b64(cipher)}</Value>{digest_xml}</Data>'
        f'<Data Name="COUNTER"><Value>{b64((837830147).to_bytes(8, "big"))}</Value></Data>'
        "</Key></Device></KeyContainer>\n"
    ).encode()


IV_B64 = b64(bytes(range(200, 216)))


def test_an_activident_file_imports_with_its_pre_shared_key() -> None:
    result = read_pskc(activident(iv=IV_B64), psk=PSK, now=NOW)
    assert result.rejected == []
    assert result.specs == [TokenSpec("0950380269", "hotp", SEED_A, digits=8, counter=837830147)]


def test_a_bare_hotp_in_the_draft_format_is_hotp() -> None:
    result = read_pskc(activident(iv=IV_B64, algorithm="HOTP"), psk=PSK, now=NOW)
    assert [(s.serial, s.kind) for s in result.specs] == [("0950380269", "hotp")]


def test_the_draft_format_with_the_wrong_key_is_refused() -> None:
    with pytest.raises(ImportRejected, match="MAC check"):
        read_pskc(activident(iv=IV_B64), psk=bytes(16), now=NOW)


def test_the_draft_format_with_an_altered_iv_is_tampering() -> None:
    refused(activident(iv=b64(bytes(range(201, 217)))), "failed its MAC check")


@pytest.mark.parametrize("iv", [None, ""])
def test_the_draft_format_without_its_iv_says_so(iv: str | None) -> None:
    text = refused(activident(iv=iv), "gives no IV")
    assert "not tampering" in text


def test_the_draft_format_with_its_digest_removed_is_refused_not_read_as_a_plain_seed() -> None:
    """python-pskc reads a `<Value>` without digest as plaintext: the ciphertext would be the seed."""
    refused(activident(iv=IV_B64, digest=False), "unencrypted")


# --------------------------------------------------------------------------- serials


def test_serials_differing_in_case_or_spaces_are_duplicates_within_the_file() -> None:
    data = container(Key("ab-7", SEED_A), Key("OK1", bytes(range(41, 61))), Key("AB-7 ", SEED_B))
    result = read_pskc(data, psk=PSK, now=NOW)
    assert [s.serial for s in result.specs] == ["OK1"]
    assert [(r.where, r.serial) for r in result.rejected] == [("KeyPackage 1", "AB-7"), ("KeyPackage 3", "AB-7")]
    assert all("more than once in this file (KeyPackage 1, KeyPackage 3)" in r.reason for r in result.rejected)


def test_a_serial_no_provider_can_enter_is_refused_at_import() -> None:
    result = read_pskc(container(Key("ABC/123", SEED_A), Key("OK1", SEED_B)), psk=PSK, now=NOW)
    assert [s.serial for s in result.specs] == ["OK1"]
    [rejected] = result.rejected
    assert rejected.serial is None and "cannot enter" in rejected.reason


def test_a_library_reason_never_carries_a_key_like_value() -> None:
    b32 = base64.b32encode(SEED_A).decode()
    data = container(Key("A1", SEED_A)).replace(b'Version="1.0"', f'Version="{b32}"'.encode())
    text = refused(data, "not valid")
    assert b32 not in text and b32[:16] not in text


def test_methods_needing_different_key_lengths_are_named_not_an_empty_length() -> None:
    from pskc import PSKC

    from core.pskc_integrity import unlock_container

    xenc = "http://www.w3.org/2001/04/xmlenc#"
    with pytest.raises(ImportRejected) as refused:
        unlock_container(PSKC(), [f"{xenc}aes128-cbc", f"{xenc}aes256-cbc"], None, bytes(16))
    assert "different lengths (16 and 32 bytes)" in refused.value.message
    assert "must be  bytes" not in refused.value.message
