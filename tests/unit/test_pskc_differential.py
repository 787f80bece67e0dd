"""Whole PSKC files read by the kiosk and by python-pskc itself: whatever the kiosk imports,
python-pskc reads the same way, and a file python-pskc cannot read is refused, not imported.

python-pskc (`pskc.PSKC`, its own parse of the whole tree, then `key.secret`, `key.counter`, ...
decrypted and MAC-checked by python-pskc) is the reference: the kiosk reads the same files package
by package with its own faster readings (core.pskcxml, core.pskcvalues, core.pskc_integrity).
The kiosk may refuse more (it is stricter on integrity and on what a token may be), never read a
value differently. Files are plain, pre-shared-key AES-CBC (MAC over the ciphertext or over the
plaintext) or PBKDF2-passphrase encrypted; packages with one or several keys; HOTP, TOTP and
others; values plain, encrypted, in the draft's legacy <Value> form, their MACs sometimes
damaged or missing; serials repeated, badly formed or absent.

The same files are read with core.pskcfile.HOLD_KEYS made small, so the path that reads a large
file twice gives the same result as the path that holds every key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pskc import PSKC

import core.pskcfile
from core.errors import ImportRejected
from core.seedfiles import TokenSpec, read_pskc
from core.serials import normalize_serial
from tests.seedfile_helpers import assert_no_secret

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PSK = bytes(range(0x40, 0x60))
PASSPHRASE = "correct horse"
SALT = b"saltsalt"
ITERATIONS = 50
HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
PBKDF2 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2"
XENC = "http://www.w3.org/2001/04/xmlenc#"
PROFILES = [
    "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
    "urn:ietf:params:xml:ns:keyprov:pskc:totp",
    "urn:ietf:params:xml:ns:keyprov:pskc#totp-sha256",
    "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-6:QN08",
    None,
]
SERIALS = ["AB12", "ab 12", "CD-34", "ef.56", "  ", "A/B", "x" * 70, "00112233445566778899aabbccddeeff", "\u00a0GH7"]
DATES = ["2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2031-06-01T00:00:00Z", "not a date"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class Keys:
    """The file's protection as a vendor's tool makes it."""

    kind: str  # "plain", "psk" or "pbkdf2"
    bits: int = 128
    mac_method: bool = True

    @property
    def cbc(self) -> str:
        return f"{XENC}aes{self.bits}-cbc"

    @property
    def key(self) -> bytes:
        if self.kind == "pbkdf2":
            return hashlib.pbkdf2_hmac("sha1", PASSPHRASE.encode(), SALT, ITERATIONS, self.bits // 8)
        return PSK[: self.bits // 8]


MAC_KEY = bytes(range(100, 120))


def encrypt(key: bytes, plain: bytes, iv: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()


@dataclass
class Value:
    """One <Secret>, <Counter> or <TimeInterval> as written."""

    plain: bytes  # the bytes encrypted (a number: ASCII digits or big-endian)
    text: str  # the plain text written when not encrypted
    form: str  # "plain", "encrypted", "inherited" (no method of its own), "legacy"
    mac: str  # "cipher", "plain", "none", "damaged"
    iv: bytes

    def xml(self, tag: str, keys: Keys) -> str:
        if keys.kind == "plain" or self.form == "plain":
            if self.form == "legacy":
                return f"<pskc:{tag}><pskc:Value>{self.text}</pskc:Value></pskc:{tag}>"
            return f"<pskc:{tag}><pskc:PlainValue>{self.text}</pskc:PlainValue></pskc:{tag}>"
        cipher = encrypt(keys.key, self.plain, self.iv)
        tag_value = hmac.new(MAC_KEY, self.plain if self.mac == "plain" else cipher, hashlib.sha1).digest()
        if self.mac == "damaged":
            tag_value = bytes([tag_value[0] ^ 1]) + tag_value[1:]
        value_mac = "" if self.mac == "none" else f"<pskc:ValueMAC>{b64(tag_value)}</pskc:ValueMAC>"
        if self.form == "legacy":
            return f"<pskc:{tag}><pskc:Value>{b64(cipher)}</pskc:Value>{value_mac}</pskc:{tag}>"
        method = "" if self.form == "inherited" else f'<xenc:EncryptionMethod Algorithm="{keys.cbc}"/>'
        return (
            f"<pskc:{tag}><pskc:EncryptedValue>{method}<xenc:CipherData><xenc:CipherValue>{b64(cipher)}"
            f"</xenc:CipherValue></xenc:CipherData></pskc:EncryptedValue>{value_mac}</pskc:{tag}>"
        )


@dataclass
class KeyXml:
    profile: str | None
    suite: str | None
    length: str | None
    encoding: str | None
    secret: Value | None
    counter: Value | None
    interval: Value | None
    policy: tuple[str | None, str | None]

    def xml(self, keys: Keys, number: int) -> str:
        algorithm = f' Algorithm="{self.profile}"' if self.profile else ""
        params = ""
        if self.suite or self.length or self.encoding:
            suite = f"<pskc:Suite>{self.suite}</pskc:Suite>" if self.suite else ""
            fmt = "".join(f' {name}="{v}"' for name, v in (("Length", self.length), ("Encoding", self.encoding)) if v)
            params = f"<pskc:AlgorithmParameters>{suite}<pskc:ResponseFormat{fmt}/></pskc:AlgorithmParameters>"
        data = "".join(
            v.xml(tag, keys)
            for tag, v in (("Secret", self.secret), ("Counter", self.counter), ("TimeInterval", self.interval))
            if v is not None
        )
        start, expiry = self.policy
        policy = ""
        if start or expiry:
            dates = "".join(
                f"<pskc:{name}>{d}</pskc:{name}>" for name, d in (("StartDate", start), ("ExpiryDate", expiry)) if d
            )
            policy = f"<pskc:Policy>{dates}</pskc:Policy>"
        return f'<pskc:Key Id="k{number}"{algorithm}>{params}<pskc:Data>{data}</pskc:Data>{policy}</pskc:Key>'


@dataclass
class PackageXml:
    serial: str | None
    manufacturer: str | None
    model: str | None
    keys: list[KeyXml] = field(default_factory=list)

    def xml(self, keys: Keys, number: int) -> str:
        info = ""
        if self.serial is not None or self.manufacturer or self.model:
            parts = [
                f"<pskc:{tag}>{text}</pskc:{tag}>"
                for tag, text in (("Manufacturer", self.manufacturer), ("SerialNo", self.serial), ("Model", self.model))
                if text is not None
            ]
            info = "<pskc:DeviceInfo>" + "".join(parts) + "</pskc:DeviceInfo>"
        return (
            "<pskc:KeyPackage>"
            + info
            + "".join(k.xml(keys, number * 10 + i) for i, k in enumerate(self.keys))
            + "</pskc:KeyPackage>"
        )


@dataclass
class File:
    keys: Keys
    packages: list[PackageXml]
    given: str  # "right", "wrong" or "none": the key or passphrase handed to both readers

    def xml(self) -> bytes:
        head = ""
        if self.keys.kind == "psk":
            head = "<pskc:EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></pskc:EncryptionKey>"
        elif self.keys.kind == "pbkdf2":
            head = (
                "<pskc:EncryptionKey><xenc11:DerivedKey>"
                f'<xenc11:KeyDerivationMethod Algorithm="{PBKDF2}"><pkcs5:PBKDF2-params>'
                f"<Salt><Specified>{b64(SALT)}</Specified></Salt><IterationCount>{ITERATIONS}</IterationCount>"
                f"<KeyLength>{self.keys.bits // 8}</KeyLength><PRF/></pkcs5:PBKDF2-params>"
                "</xenc11:KeyDerivationMethod></xenc11:DerivedKey></pskc:EncryptionKey>"
            )
        if self.keys.kind != "plain" and self.keys.mac_method:
            mac_key = encrypt(self.keys.key, MAC_KEY, bytes(16))
            head += (
                f'<pskc:MACMethod Algorithm="{HMAC_SHA1}"><pskc:MACKey>'
                f'<xenc:EncryptionMethod Algorithm="{self.keys.cbc}"/><xenc:CipherData>'
                f"<xenc:CipherValue>{b64(mac_key)}</xenc:CipherValue></xenc:CipherData></pskc:MACKey></pskc:MACMethod>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<pskc:KeyContainer Version="1.0" '
            'xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
            'xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" '
            'xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#">'
            + head
            + "".join(p.xml(self.keys, n) for n, p in enumerate(self.packages, start=1))
            + "</pskc:KeyContainer>\n"
        ).encode()

    def credentials(self) -> dict[str, Any]:
        if self.given == "none" or self.keys.kind == "plain":
            return {}
        if self.keys.kind == "pbkdf2":
            return {"passphrase": PASSPHRASE if self.given == "right" else "wrong horse"}
        return {"psk": self.keys.key if self.given == "right" else bytes(len(self.keys.key))}


FORMS = st.sampled_from(["plain", "encrypted", "encrypted", "inherited", "legacy"])
MACS = st.sampled_from(["cipher", "cipher", "plain", "none", "damaged"])
# A file as a vendor's tool makes it: every value encrypted and MACed, one way or the other.
CLEAN_FORMS = st.sampled_from(["encrypted", "encrypted", "encrypted", "inherited", "legacy"])
CLEAN_MACS = st.sampled_from(["cipher", "cipher", "plain"])
IVS = st.binary(min_size=16, max_size=16)


def _value(draw: st.DrawFn, plain: bytes, text: str, clean: bool) -> Value:
    return Value(plain, text, draw(CLEAN_FORMS if clean else FORMS), draw(CLEAN_MACS if clean else MACS), draw(IVS))


@st.composite
def secrets(draw: st.DrawFn, clean: bool) -> Value:
    sizes = [16, 20, 20, 32, 64] if clean else [10, 16, 20, 20, 32, 64, 130]
    seed = draw(st.sampled_from(sizes).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
    return _value(draw, seed, b64(seed), clean)


@st.composite
def numbers(draw: st.DrawFn, choices: list[int], clean: bool) -> Value:
    n = draw(st.sampled_from(choices))
    big_endian = draw(st.booleans())
    plain = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big") if big_endian else str(n).encode()
    return _value(draw, plain, str(n), clean)


@st.composite
def key_xml(draw: st.DrawFn, clean: bool) -> KeyXml:
    dates = DATES[:3] if clean else [*DATES[:3] * 8, DATES[3]]  # a date python-pskc cannot read: rarely
    # A clean file's keys are mostly ones the kiosk takes; any key may still be refused on its own.
    good = clean and draw(st.integers(0, 3)) > 0
    return KeyXml(
        profile=draw(st.sampled_from(PROFILES[:3] if good else PROFILES)),
        suite=draw(
            st.sampled_from([None, None, "HMAC-SHA1", "HMAC-SHA256", "HMAC-SHA512", *([] if good else ["HMAC-MD5"])])
        ),
        length=draw(st.sampled_from([None, "6", "8", "8", *([] if good else ["4"])])),
        encoding=draw(st.sampled_from([None, "DECIMAL", "DECIMAL", *([] if good else ["HEXADECIMAL"])])),
        secret=draw(secrets(clean) if clean else st.one_of(st.none(), secrets(clean), secrets(clean))),
        counter=draw(st.one_of(st.none(), numbers([0, 5, 1234, *([] if good else [10**19])], clean))),
        interval=draw(st.one_of(st.none(), numbers([30, 60, *([] if good else [45])], clean))),
        policy=(draw(st.sampled_from([None, None, None, *dates])), draw(st.sampled_from([None, None, None, *dates]))),
    )


@st.composite
def files(draw: st.DrawFn) -> File:
    clean = draw(st.booleans())
    kind = draw(st.sampled_from(["plain", "psk", "psk", "pbkdf2"]))
    keys = Keys(kind, draw(st.sampled_from([128, 256])), clean or draw(st.booleans()))
    serials = SERIALS[:4] if clean else SERIALS
    packages = [
        PackageXml(
            draw(st.sampled_from(serials) if clean else st.one_of(st.none(), st.sampled_from(serials))),
            draw(st.sampled_from([None, "Acme", "Acme  Tokens"])),
            draw(st.sampled_from([None, "OTP-1"])),
            draw(st.lists(key_xml(clean), min_size=1, max_size=3)),
        )
        for _ in range(draw(st.integers(1, 6)))
    ]
    choices = ["right"] if clean or kind == "plain" else ["right", "right", "wrong", "none"]
    return File(keys, packages, draw(st.sampled_from(choices)))


# --------------------------------------------------------------------------- the two readings


@dataclass(frozen=True)
class Reference:
    """A key as python-pskc reads it, in the kiosk's terms."""

    serial: str
    secret: bytes | None
    algorithm: str
    digits: int
    counter: int
    period: int
    valid_until: float | None


def _expected_algorithm(suite: str | None, uri: str) -> str:
    if suite:
        return re.sub(r"^HMAC-?", "", suite.strip().upper()).replace("-", "")
    found = re.search(r"-(sha1|sha256|sha512)$", uri, re.IGNORECASE)
    return found.group(1).upper() if found else "SHA1"


def python_pskc(data: bytes, credentials: dict[str, Any]) -> list[Reference] | Exception:
    """The file as python-pskc reads it, every value the kiosk uses decrypted; the exception
    python-pskc raises anywhere on the way otherwise."""
    try:
        container = PSKC(io.BytesIO(data))
        # python-pskc's reading API: the key set on `encryption` (setup_preshared_key is for
        # writing, and its MAC setup decrypts the file's MAC key before the key is set).
        if "psk" in credentials:
            container.encryption.key = credentials["psk"]
        elif "passphrase" in credentials:
            container.encryption.derive_key(credentials["passphrase"])
        found = []
        for key in container.keys:
            uri = key.algorithm or ""
            totp = "totp" in uri.lower()
            expiry = key.policy.expiry_date
            found.append(
                Reference(
                    normalize_serial(key.serial or ""),
                    key.secret,
                    _expected_algorithm(key.algorithm_suite, uri),
                    key.response_length or 6,
                    0 if totp else (key.counter or 0),
                    (key.time_interval or 30) if totp else 30,
                    None if expiry is None else (expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)).timestamp(),
                )
            )
        return found
    except Exception as e:  # any refusal by python-pskc counts
        return e


def kiosk(
    data: bytes, credentials: dict[str, Any]
) -> tuple[list[TokenSpec], list[tuple[str, str | None, str]], int] | str:
    """The kiosk's reading: its tokens and refusals, or the reason the whole file was refused."""
    try:
        result = read_pskc(data, now=NOW, **credentials)
    except ImportRejected as e:
        return str(e)
    return result.specs, [(r.where, r.serial, r.reason) for r in result.rejected], result.rejected.total


def _as_reference(spec: TokenSpec) -> Reference:
    return Reference(spec.serial, spec.secret, spec.algorithm, spec.digits, spec.counter, spec.period, spec.valid_until)


def check_against_python_pskc(file: File) -> None:
    data, credentials = file.xml(), file.credentials()
    ours = kiosk(data, credentials)
    reference = python_pskc(data, credentials)
    seeds = [k.secret.plain for p in file.packages for k in p.keys if k.secret is not None]
    assert_no_secret(ours if isinstance(ours, str) else repr(ours[1]), *seeds)
    event("python-pskc refuses" if isinstance(reference, Exception) else "python-pskc reads")
    event("kiosk refuses the file" if isinstance(ours, str) else f"kiosk imports {min(len(ours[0]), 3)}+ tokens")
    if isinstance(reference, Exception):
        assert isinstance(ours, str), f"python-pskc refuses the file ({reference!r}), the kiosk imported it"
        return
    if isinstance(ours, str):
        return  # the kiosk may refuse more than python-pskc
    for spec in ours[0]:
        candidates = [r for r in reference if r.serial == spec.serial]
        assert _as_reference(spec) in candidates, (spec.serial, candidates)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_every_token_imported_is_what_python_pskc_reads(file: File) -> None:
    check_against_python_pskc(file)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.sampled_from([0, 1, 2, 3]))
def test_a_file_read_twice_gives_what_a_held_file_gives(file: File, hold: int) -> None:
    data, credentials = file.xml(), file.credentials()
    held = kiosk(data, credentials)
    with mock.patch.object(core.pskcfile, "HOLD_KEYS", hold):
        again = kiosk(data, credentials)
    assert again == held


def _plain_key(seed: bytes) -> KeyXml:
    return KeyXml(
        PROFILES[0], None, None, None, Value(seed, b64(seed), "plain", "cipher", bytes(16)), None, None, (None, None)
    )


def test_a_copied_seed_is_named_at_its_first_copy_at_every_reading() -> None:
    # Found by the property above: two seeds each copied once, and the pair named depended on
    # the fingerprint key drawn for that reading (KeyPackage 1 and 3, or 2 and 4).
    x, y = bytes(range(20)), bytes(range(1, 21))
    serials = ["A1", "B2", "C3", "D4"]
    file = File(
        Keys("plain"),
        [PackageXml(s, None, None, [_plain_key(seed)]) for s, seed in zip(serials, [x, y, x, y], strict=True)],
        "right",
    )
    reasons = {kiosk(file.xml(), {}) for _ in range(40)}
    assert len(reasons) == 1
    assert "KeyPackage 1 and KeyPackage 3 the same seed" in str(reasons.pop())


def test_a_legacy_value_before_any_method_reads_as_python_pskc_reads_it_held_or_not() -> None:
    # Package 1's secret names no method and its <TimeInterval> is a legacy <Value> with a MAC:
    # python-pskc reads that <Value> as plain, for no method is named before package 2's.
    seed_a, seed_b = bytes(range(16)), bytes(range(16, 32))
    first = KeyXml(
        PROFILES[0], None, None, None, Value(seed_a, "", "inherited", "cipher", bytes(16)), None,
        Value(b"30", "30", "legacy", "cipher", bytes(16)), (None, None),
    )  # fmt: skip
    second = KeyXml(
        PROFILES[0], None, None, None, Value(seed_b, "", "encrypted", "cipher", bytes(16)), None, None, (None, None)
    )
    file = File(
        Keys("psk"), [PackageXml("AB12", None, None, [first]), PackageXml("CD34", None, None, [second])], "right"
    )
    data, credentials = file.xml(), file.credentials()
    reference = python_pskc(data, credentials)
    assert not isinstance(reference, Exception)
    held = kiosk(data, credentials)
    assert not isinstance(held, str)
    assert [_as_reference(spec) for spec in held[0]] == reference
    # Read twice, the second reading starts from the header as the first did (it was refused
    # as "reads differently the second time" when it started with the method settled).
    with mock.patch.object(core.pskcfile, "HOLD_KEYS", 1):
        assert kiosk(data, credentials) == held
