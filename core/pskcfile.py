"""PSKC (RFC 6030) seed containers: plain, pre-shared-key or PBKDF2-passphrase encrypted.

python-pskc reads the XML; this module decides whether the file can be trusted before any seed
leaves it. The rule is file-wide, never per value: when a container encrypts, every encrypted
value is covered by a MAC that verifies (over the ciphertext, as RFC 6030 6.1.1 says, or over
the plaintext, as older drafts and some vendors do), or the whole file is refused. The only
values without a MAC that pass are AES/Camellia/3DES key-wrap ones in a file with no MAC at all:
key wrap (RFC 3394) carries its own integrity check, verified as it is unwrapped. Which
algorithm a value uses is read from python-pskc's own parse, the one that decrypts it, so a
renamed method (PBES2 wrapping CBC) cannot slip past.
"""

from __future__ import annotations

import contextlib
import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pskc import PSKC
from pskc.encryption import algorithm_key_lengths
from pskc.exceptions import DecryptionError, KeyDerivationError
from pskc.key import EncryptedValue, Key

from core.errors import ImportRejected
from core.pskcxml import Document, library_words, local, new_container, read_package
from core.seedfiles import (
    MAX_FILE_BYTES,
    Entry,
    EntryError,
    Kind,
    Rejected,
    Repeated,
    SeedFile,
    SeedStream,
    TokenSpec,
    check_algorithm,
    check_counter,
    check_digits,
    check_period,
    check_seed,
    check_serial,
    looks_like_seed,
)

# A hostile PBKDF2 container could otherwise make the kiosk spin for hours before failing.
MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_PBKDF2_KEY_BYTES = 64
_FIELDS = ("secret", "counter", "time_offset", "time_interval", "time_drift")
_BLOCK = {"aes": 16, "camellia": 16, "tripledes": 8}
_MAC_FAILED = (
    "The PSKC file failed its MAC check: it was changed after the vendor made it, or the "
    "passphrase or key is wrong. Nothing was imported."
)


@dataclass(frozen=True)
class _Sealed:
    """One encrypted value as python-pskc will decrypt it."""

    where: str  # "KeyPackage 2 secret"
    value: EncryptedValue
    algorithm: str  # the value's own method, else the container's: what decrypt() uses

    @property
    def cbc(self) -> bool:
        return self.algorithm.lower().endswith("-cbc")


def _asymmetric(root: ET.Element, algorithms: Iterable[str]) -> bool:
    """Seeds encrypted to a public key (RFC 6030 6.2): the kiosk holds no private key for them."""
    if any(a.rsplit("#", 1)[-1].lower().startswith("rsa") for a in algorithms):
        return True
    # Only under <EncryptionKey>: a certificate in a <Signature> signs the file, it does not encrypt it.
    for key_info in (child for child in root if local(child.tag) == "EncryptionKey"):
        if any(local(e.tag) in ("X509Data", "X509Certificate", "RSAKeyValue", "KeyValue") for e in key_info.iter()):
            return True
    return False


def _draft_method_without_iv(root: ET.Element) -> bool:
    """The draft container format names CBC once for the file, with its IV beside it."""
    for child in root:
        if local(child.tag) == "EncryptionMethod" and child.get("Algorithm", "").lower().endswith("-cbc"):
            ivs = [e for e in child if local(e.tag) == "IV"]
            return not ivs or not "".join((ivs[0].text or "").split())
    return False


# --------------------------------------------------------------------------- integrity


def _where(number: int, index: int, keys: int) -> str:
    return f"KeyPackage {number}" + (f" key {index}" if keys > 1 else "")


def _sealed_values(container: PSKC, where: str, key: Key) -> Iterator[_Sealed]:
    default = container.encryption.algorithm or ""
    for name in _FIELDS:
        # python-pskc keeps a value it has not decrypted yet under the field's private name.
        value = vars(key).get("_" + name)
        if isinstance(value, EncryptedValue):
            yield _Sealed(f"{where} {name}", value, value.algorithm or default)


@dataclass
class _Census:
    """What the file-wide rules need to know about every encrypted value, gathered in one pass
    without decrypting anything. A value that names no method uses the container's, which
    python-pskc settles from the first value that names one: so methods are kept as written
    and resolved once the whole file has been read."""

    sealed: int = 0
    macked: int = 0
    first_unmacked: str | None = None
    first_plain: str | None = None
    methods: dict[str | None, str] = field(default_factory=dict)  # method as written -> first value using it
    keys: int = 0

    def count(self, key: Key, where: str) -> None:
        self.keys += 1
        if isinstance(vars(key).get("_secret"), bytes | bytearray) and self.first_plain is None:
            self.first_plain = where.split(" key ")[0]
        for name in _FIELDS:
            value = vars(key).get("_" + name)
            if not isinstance(value, EncryptedValue):
                continue
            self.sealed += 1
            self.methods.setdefault(value.algorithm or None, f"{where} {name}")
            if value.mac_value:
                self.macked += 1
            elif self.first_unmacked is None:
                self.first_unmacked = f"{where} {name}"

    def algorithms(self, container: PSKC) -> dict[str, str]:
        """Each method actually used -> the first value using it."""
        default = container.encryption.algorithm or ""
        used: dict[str, str] = {}
        for written, where in self.methods.items():
            used.setdefault(written or default, where)
        return used


def _refuse_untrustworthy(container: PSKC, root: ET.Element, census: _Census) -> None:
    """The file-wide rules that need no key: checked before anything is decrypted."""
    used = census.algorithms(container)
    if _asymmetric(root, used):
        raise ImportRejected(
            "The PSKC file's seeds are encrypted to a public key (asymmetric key transport), which "
            "the kiosk cannot decrypt. Ask the vendor for the file protected by a pre-shared key "
            "or a passphrase."
        )
    for algorithm, where in used.items():  # in file order
        try:
            algorithm_key_lengths(algorithm)
        except DecryptionError:
            raise ImportRejected(
                f"The PSKC file encrypts {where} with a method the kiosk does not support "
                "(AES, Camellia or 3DES in CBC or key-wrap mode are supported)."
            ) from None
    if census.first_plain is not None:
        raise ImportRejected(
            f"The PSKC file encrypts its seeds, but {census.first_plain} gives its seed unencrypted (or its MAC "
            "was removed), so it may have been swapped in. Nothing was imported; ask the vendor for a new file."
        )
    if _draft_method_without_iv(root):
        raise ImportRejected(
            "The PSKC file names CBC encryption for the whole file but gives no IV with it, so its "
            "seeds cannot be decrypted (this is not tampering). Ask the vendor for the complete file."
        )
    unmacked = census.sealed - census.macked
    if unmacked and unmacked < census.sealed:
        raise ImportRejected(
            f"The PSKC file carries MACs, but {census.first_unmacked} has none, so it cannot be "
            "checked for tampering. Nothing was imported; ask the vendor for a new file."
        )
    if unmacked and not all(re.search(r"#kw-(aes|camellia|tripledes)", a.lower()) for a in used):
        raise ImportRejected(
            "The PSKC file encrypts seeds with CBC but carries no MAC, so it cannot be checked for "
            "tampering; ask the vendor for a file with a MAC."
        )
    if census.sealed and not unmacked and not container.mac.algorithm:
        raise ImportRejected("The PSKC file has MAC values but names no MAC method.")


def _wrong_key_message(passphrase: str | None) -> str:
    what = "passphrase" if passphrase is not None else "pre-shared key"
    return f"The {what} is wrong: the PSKC file's encrypted values do not decrypt with it."


def _mac(container: PSKC, value: bytes) -> bytes:
    try:
        return container.mac.generate_mac(value)
    except DecryptionError:
        raise ImportRejected("The PSKC file uses a MAC algorithm the kiosk does not support.") from None


def _check_mac_key(container: PSKC, passphrase: str | None) -> bytes:
    try:
        mac_key = container.mac.key
    except DecryptionError:
        raise ImportRejected(_wrong_key_message(passphrase)) from None
    if not mac_key:
        raise ImportRejected("The PSKC file has MAC values but no MAC key.")
    return bytes(mac_key)


def _verify(container: PSKC, s: _Sealed, passphrase: str | None) -> bytes:
    """The encrypted value decrypts, and its MAC (when the file has MACs) verifies: its plaintext."""
    separate_iv = bool(container.encryption.iv)
    cipher = s.value.cipher_value
    expected = s.value.mac_value or b""
    # A separate IV is outside the ciphertext, so only a MAC over the plaintext covers it.
    over_cipher = bool(expected) and not separate_iv and hmac.compare_digest(_mac(container, cipher), expected)
    block = next((n for name, n in _BLOCK.items() if name in s.algorithm.lower()), 16)
    try:
        plain = container.encryption.decrypt_value(cipher, s.value.algorithm)
    except DecryptionError:
        if over_cipher and s.cbc and len(cipher) <= block and not separate_iv:
            raise ImportRejected(
                f"The PSKC file's {s.where} is a single cipher block: the IV that RFC 6030 puts "
                "in front of the ciphertext is missing (this is not tampering). Ask the vendor "
                "for the complete file."
            ) from None
        if expected:
            raise ImportRejected(_MAC_FAILED) from None
        raise ImportRejected(_wrong_key_message(passphrase)) from None
    if expected and not over_cipher and not hmac.compare_digest(_mac(container, plain), expected):
        raise ImportRejected(_MAC_FAILED)
    return bytes(plain)


def _unlock(container: PSKC, algorithms: Iterable[str], passphrase: str | None, psk: bytes | None) -> None:
    encryption = container.encryption
    derivation = encryption.derivation
    if psk is not None:
        # Checked supported by _refuse_untrustworthy; a key must fit every value's method.
        lengths = sorted(set.intersection(*(set(algorithm_key_lengths(a)) for a in algorithms)))
        if len(psk) not in lengths:
            raise ImportRejected(
                f"The pre-shared key must be {' or '.join(str(n) for n in lengths)} bytes "
                f"for this file's encryption, not {len(psk)}."
            )
        encryption.key = psk
    elif derivation.algorithm:
        if passphrase is None:
            raise ImportRejected("The PSKC file is protected by a passphrase; give the passphrase to import it.")
        if (derivation.pbkdf2_iterations or 0) > MAX_PBKDF2_ITERATIONS or (
            derivation.pbkdf2_key_length or 0
        ) > MAX_PBKDF2_KEY_BYTES:
            raise ImportRejected("The PSKC file asks for an unreasonable PBKDF2 key derivation.")
        try:
            encryption.derive_key(passphrase)
        except KeyDerivationError as e:
            raise ImportRejected(f"The PSKC passphrase cannot be applied: {library_words(e)}.") from None
    else:
        raise ImportRejected("The PSKC file is encrypted with a pre-shared key; give the key (hex) to import it.")


# --------------------------------------------------------------------------- keys

# The profile URI names the kind; some vendors append the hash ("...#totp-sha256") instead of
# giving a <Suite>, so both places are read. A bare "HOTP" is the draft container format's name.
_KIND = re.compile(r"(?:^|[:#])(hotp|totp)(?:[-_:]?(sha1|sha256|sha512))?$", re.IGNORECASE)
_PROFILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,40}")


def _profile(uri: str) -> str:
    """The profile a provider or IT person would recognise, from a URI such as
    `urn:...:pskc#OCRA-1:HOTP-SHA1-6:QN08` (an OCRA suite, not a profile named 'QN08')."""
    if "ocra" in uri.lower():
        return "OCRA (challenge-response)"
    name = re.split(r"[:#/]", uri.rstrip(":#/"))[-1] if uri else ""
    return repr(name) if _PROFILE_NAME.fullmatch(name) and not looks_like_seed(name) else "unnamed"


def _utc(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)  # RFC 6030 dates are UTC


def _check_validity(key: Key, serial: str, now: datetime) -> tuple[float | None, float | None]:
    """The key's validity as Unix seconds; an expired key is refused here, at import."""
    start, expiry = _utc(key.policy.start_date), _utc(key.policy.expiry_date)
    if expiry is not None and expiry <= now:
        raise EntryError(f"the key expired on {expiry.date().isoformat()} (its <Policy> ExpiryDate)", serial)
    if start is not None and expiry is not None and start >= expiry:
        raise EntryError("the key's <Policy> StartDate is not before its ExpiryDate", serial)
    return (start.timestamp() if start else None), (expiry.timestamp() if expiry else None)


def _pskc_key(key: Key, now: datetime) -> TokenSpec:
    serial = check_serial(key.serial)
    uri = key.algorithm or ""
    match = _KIND.search(uri)
    if not match:
        raise EntryError(
            f"the key's algorithm {_profile(uri)} is not supported; only HOTP and TOTP tokens can be imported",
            serial,
        )
    valid_from, valid_until = _check_validity(key, serial, now)
    kind: Kind = "totp" if match.group(1).lower() == "totp" else "hotp"
    algorithm = check_algorithm(key.algorithm_suite or match.group(2) or "", serial)
    if key.response_encoding and key.response_encoding.upper() != "DECIMAL":
        raise EntryError("response format is not decimal digits", serial)
    digits = check_digits(key.response_length or 6, serial)
    secret = key.secret
    if not secret:
        raise EntryError("the KeyPackage carries no secret (only a reference to one)", serial)
    secret = check_seed(bytes(secret), serial)
    vendor, model = _device_text(key.manufacturer), _device_text(key.model)
    if kind == "totp":
        period = check_period(key.time_interval or 30, serial)
        return TokenSpec(
            serial,
            "totp",
            secret,
            algorithm,
            digits,
            period=period,
            valid_from=valid_from,
            valid_until=valid_until,
            vendor=vendor,
            model=model,
        )
    counter = check_counter(key.counter or 0, serial)
    return TokenSpec(
        serial,
        "hotp",
        secret,
        algorithm,
        digits,
        counter=counter,
        valid_from=valid_from,
        valid_until=valid_until,
        vendor=vendor,
        model=model,
    )


def _device_text(value: object) -> str | None:
    # DeviceInfo is free text from the vendor's file: keep it short and printable.
    text = " ".join(str(value or "").split())[:100]
    return text if text.isprintable() and text else None


def _census(document: Document, header: ET.Element | None) -> tuple[PSKC, _Census, Repeated]:
    """First pass: the container's header, what the file-wide rules need, and repeated serials.
    `header` is the complete one when a first pass found it after the packages."""
    container: PSKC | None = None if header is None else new_container(header)
    census = _Census()
    serials = Repeated()
    for number, package in enumerate(document.packages(), start=1):
        if container is None:
            container = new_container(document.header())
        device = read_package(container, package)
        for index, key in enumerate(device.keys, start=1):
            census.count(key, _where(number, index, len(device.keys)))
            with contextlib.suppress(EntryError):
                serials.add(check_serial(key.serial))
        container.devices.clear()
    if container is None:  # no package at all: the header is complete
        container = new_container(document.header())
    return container, census, serials


def open_pskc(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedStream:
    """Check an RFC 6030 container as a whole and unlock it; iterating the result decrypts and
    verifies each key in turn. `now` (UTC, default the current time) decides expired keys."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(f"The seed file is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    document = Document(data)
    container, census, serials = _census(document, None)
    if document.header_after_packages:
        # python-pskc reads the header wherever it is: read the packages again with all of it.
        container, census, serials = _census(document, document.header())
    root = document.header()
    if not census.keys:
        raise ImportRejected("The PSKC file holds no KeyPackage with a key.")
    # A file that names an encryption but whose values all read as plain had its MACs removed
    # (python-pskc reads a `<Value>` without one as plaintext): it is judged like any encrypting file.
    if census.sealed or any(local(child.tag) in ("EncryptionKey", "EncryptionMethod") for child in root):
        _refuse_untrustworthy(container, root, census)
    if census.sealed:
        _unlock(container, census.algorithms(container), passphrase, psk)
        if census.macked:
            # python-pskc decrypts the MAC key at every MAC it makes: decrypt it once.
            container.mac.key = _check_mac_key(container, passphrase)
    today = now or datetime.now(UTC)

    def entries() -> Iterator[Entry]:
        again = _Census()
        for number, package in enumerate(document.packages(), start=1):
            device = read_package(container, package, whole=True)
            for index, key in enumerate(device.keys, start=1):
                where = _where(number, index, len(device.keys))
                again.count(key, where)
                for sealed in _sealed_values(container, where, key):
                    plain = _verify(container, sealed, passphrase)
                    if sealed.where.endswith(" secret"):
                        key.secret = plain  # decrypted and verified once, not again by the getter
                yield where, _entry(key, where, today)
            container.devices.clear()
        if again != census:  # the rules above were decided on what the first pass found
            raise ImportRejected("The PSKC file reads differently the second time; nothing was imported.")

    return SeedStream(entries, serials.twice, census.keys)


def _entry(key: Key, where: str, today: datetime) -> TokenSpec | Rejected:
    try:
        return _pskc_key(key, today)
    except EntryError as e:
        return Rejected(where, e.serial, e.reason)
    except DecryptionError:  # verified above; kept so no library error can escape
        raise ImportRejected(_MAC_FAILED) from None
    except Exception as e:  # a value python-pskc could not convert
        return Rejected(where, None, f"the KeyPackage has a malformed value ({type(e).__name__})")


def read_pskc(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedFile:
    """Read an RFC 6030 container, every token into a list."""
    return open_pskc(data, passphrase=passphrase, psk=psk, now=now).read()
