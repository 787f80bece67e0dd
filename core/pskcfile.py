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

import hmac
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pskc import PSKC
from pskc.encryption import algorithm_key_lengths
from pskc.exceptions import DecryptionError, KeyDerivationError, PSKCError
from pskc.key import EncryptedValue, Key

from core.errors import ImportRejected
from core.seedfiles import (
    MAX_FILE_BYTES,
    EntryError,
    Kind,
    Rejected,
    SeedFile,
    TokenSpec,
    check_algorithm,
    check_counter,
    check_digits,
    check_period,
    check_seed,
    check_serial,
    drop_duplicates,
    looks_like_seed,
    sorted_rejections,
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

    @property
    def key_wrap(self) -> bool:
        return bool(re.search(r"#kw-(aes|camellia|tripledes)", self.algorithm.lower()))


# --------------------------------------------------------------------------- XML


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_safely(data: bytes) -> ET.Element:
    """Parse with every DTD refused, so no entity can expand (billion laughs, XXE)."""
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ImportRejected(
            "The PSKC file contains a DTD or entity declarations, which are refused "
            "(they can be used to attack the importer)."
        ) from None
    except ET.ParseError as e:
        line, column = e.position
        raise ImportRejected(f"The file is not well-formed XML (line {line}, column {column}).") from None
    except Exception as e:  # expat raises odd types for odd encodings; none may escape
        raise ImportRejected(f"The file is not readable XML ({type(e).__name__}).") from None
    if _local(root.tag) != "KeyContainer":
        raise ImportRejected("The XML file is not a PSKC container: its top element is not <KeyContainer>.")
    return root


def _asymmetric(root: ET.Element, sealed: list[_Sealed]) -> bool:
    """Seeds encrypted to a public key (RFC 6030 6.2): the kiosk holds no private key for them."""
    if any(s.algorithm.rsplit("#", 1)[-1].lower().startswith("rsa") for s in sealed):
        return True
    # Only under <EncryptionKey>: a certificate in a <Signature> signs the file, it does not encrypt it.
    for key_info in (child for child in root if _local(child.tag) == "EncryptionKey"):
        if any(_local(e.tag) in ("X509Data", "X509Certificate", "RSAKeyValue", "KeyValue") for e in key_info.iter()):
            return True
    return False


def _draft_method_without_iv(root: ET.Element) -> bool:
    """The draft container format names CBC once for the file, with its IV beside it."""
    for child in root:
        if _local(child.tag) == "EncryptionMethod" and child.get("Algorithm", "").lower().endswith("-cbc"):
            ivs = [e for e in child if _local(e.tag) == "IV"]
            return not ivs or not "".join((ivs[0].text or "").split())
    return False


# --------------------------------------------------------------------------- integrity


def _sealed_values(container: PSKC) -> list[_Sealed]:
    default = container.encryption.algorithm or ""
    found = []
    for number, device in enumerate(container.devices, start=1):
        for index, key in enumerate(device.keys, start=1):
            where = f"KeyPackage {number}" + (f" key {index}" if len(device.keys) > 1 else "")
            for name in _FIELDS:
                # python-pskc keeps a value it has not decrypted yet under the field's private name.
                value = vars(key).get("_" + name)
                if isinstance(value, EncryptedValue):
                    found.append(_Sealed(f"{where} {name}", value, value.algorithm or default))
    return found


def _plain_secrets(container: PSKC) -> Iterator[str]:
    for number, device in enumerate(container.devices, start=1):
        for key in device.keys:
            if isinstance(vars(key).get("_secret"), bytes | bytearray):
                yield f"KeyPackage {number}"


def _refuse_untrustworthy(container: PSKC, root: ET.Element, sealed: list[_Sealed]) -> None:
    """The file-wide rules that need no key: checked before anything is decrypted."""
    if _asymmetric(root, sealed):
        raise ImportRejected(
            "The PSKC file's seeds are encrypted to a public key (asymmetric key transport), which "
            "the kiosk cannot decrypt. Ask the vendor for the file protected by a pre-shared key "
            "or a passphrase."
        )
    for s in sealed:
        try:
            algorithm_key_lengths(s.algorithm)
        except DecryptionError:
            raise ImportRejected(
                f"The PSKC file encrypts {s.where} with a method the kiosk does not support "
                "(AES, Camellia or 3DES in CBC or key-wrap mode are supported)."
            ) from None
    plain = next(_plain_secrets(container), None)
    if plain is not None:
        raise ImportRejected(
            f"The PSKC file encrypts its seeds, but {plain} gives its seed unencrypted (or its MAC "
            "was removed), so it may have been swapped in. Nothing was imported; ask the vendor for a new file."
        )
    if _draft_method_without_iv(root):
        raise ImportRejected(
            "The PSKC file names CBC encryption for the whole file but gives no IV with it, so its "
            "seeds cannot be decrypted (this is not tampering). Ask the vendor for the complete file."
        )
    unmacked = [s for s in sealed if not s.value.mac_value]
    if unmacked and len(unmacked) < len(sealed):
        raise ImportRejected(
            f"The PSKC file carries MACs, but {unmacked[0].where} has none, so it cannot be "
            "checked for tampering. Nothing was imported; ask the vendor for a new file."
        )
    if unmacked and not all(s.key_wrap for s in sealed):
        raise ImportRejected(
            "The PSKC file encrypts seeds with CBC but carries no MAC, so it cannot be checked for "
            "tampering; ask the vendor for a file with a MAC."
        )
    if sealed and not unmacked and not container.mac.algorithm:
        raise ImportRejected("The PSKC file has MAC values but names no MAC method.")


def _library_words(error: Exception) -> str:
    """python-pskc's own reason, which quotes values of the file (`'Unsupported PRF: %r'`): cut
    short, and any long run of key-like characters replaced, so no seed can ride along."""
    text = re.sub(r"[A-Za-z0-9+/=_-]{16,}", "(value not shown)", str(error))
    return text if len(text) <= 80 else text[:77] + "..."


def _wrong_key_message(passphrase: str | None) -> str:
    what = "passphrase" if passphrase is not None else "pre-shared key"
    return f"The {what} is wrong: the PSKC file's encrypted values do not decrypt with it."


def _mac(container: PSKC, value: bytes) -> bytes:
    try:
        return container.mac.generate_mac(value)
    except DecryptionError:
        raise ImportRejected("The PSKC file uses a MAC algorithm the kiosk does not support.") from None


def _verify(container: PSKC, sealed: list[_Sealed], passphrase: str | None) -> None:
    """Every encrypted value decrypts, and its MAC (when the file has MACs) verifies."""
    if any(s.value.mac_value for s in sealed):
        try:
            mac_key = container.mac.key
        except DecryptionError:
            raise ImportRejected(_wrong_key_message(passphrase)) from None
        if not mac_key:
            raise ImportRejected("The PSKC file has MAC values but no MAC key.")
    separate_iv = bool(container.encryption.iv)
    for s in sealed:
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


def _unlock(container: PSKC, sealed: list[_Sealed], passphrase: str | None, psk: bytes | None) -> None:
    encryption = container.encryption
    derivation = encryption.derivation
    if psk is not None:
        # Checked supported by _refuse_untrustworthy; a key must fit every value's method.
        lengths = sorted(set.intersection(*(set(algorithm_key_lengths(s.algorithm)) for s in sealed)))
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
            raise ImportRejected(f"The PSKC passphrase cannot be applied: {_library_words(e)}.") from None
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


def _check_validity(key: Key, serial: str, now: datetime) -> None:
    expiry = key.policy.expiry_date
    if expiry is None:
        return
    expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)  # RFC 6030 dates are UTC
    if expiry <= now:
        raise EntryError(f"the key expired on {expiry.date().isoformat()} (its <Policy> ExpiryDate)", serial)


def _pskc_key(key: Key, now: datetime) -> TokenSpec:
    serial = check_serial(key.serial)
    uri = key.algorithm or ""
    match = _KIND.search(uri)
    if not match:
        raise EntryError(
            f"the key's algorithm {_profile(uri)} is not supported; only HOTP and TOTP tokens can be imported",
            serial,
        )
    _check_validity(key, serial, now)
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
        return TokenSpec(serial, "totp", secret, algorithm, digits, period=period, vendor=vendor, model=model)
    counter = check_counter(key.counter or 0, serial)
    return TokenSpec(serial, "hotp", secret, algorithm, digits, counter=counter, vendor=vendor, model=model)


def _device_text(value: object) -> str | None:
    # DeviceInfo is free text from the vendor's file: keep it short and printable.
    text = " ".join(str(value or "").split())[:100]
    return text if text.isprintable() and text else None


def read_pskc(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedFile:
    """Read an RFC 6030 container; `now` (UTC, default the current time) decides expired keys."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(f"The seed file is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    root = _parse_safely(data)
    try:
        # python-pskc parses again; safe now that _parse_safely proved there is no DTD.
        container = PSKC(io.BytesIO(data))
    except PSKCError as e:
        raise ImportRejected(f"The PSKC container is not valid: {_library_words(e)}.") from None
    except Exception as e:  # malformed numbers, booleans, dates, base64 inside the XML
        raise ImportRejected(f"The PSKC container has a malformed value ({type(e).__name__}).") from None
    if not container.keys:
        raise ImportRejected("The PSKC file holds no KeyPackage with a key.")
    sealed = _sealed_values(container)
    # A file that names an encryption but whose values all read as plain had its MACs removed
    # (python-pskc reads a `<Value>` without one as plaintext): it is judged like any encrypting file.
    if sealed or any(_local(child.tag) in ("EncryptionKey", "EncryptionMethod") for child in root):
        _refuse_untrustworthy(container, root, sealed)
    if sealed:
        _unlock(container, sealed, passphrase, psk)
        _verify(container, sealed, passphrase)
    today = now or datetime.now(UTC)

    accepted: list[tuple[str, TokenSpec]] = []
    rejected: list[Rejected] = []
    for number, device in enumerate(container.devices, start=1):
        for index, key in enumerate(device.keys, start=1):
            where = f"KeyPackage {number}" + (f" key {index}" if len(device.keys) > 1 else "")
            try:
                accepted.append((where, _pskc_key(key, today)))
            except EntryError as e:
                rejected.append(Rejected(where, e.serial, e.reason))
            except DecryptionError:  # verified above; kept so no library error can escape
                raise ImportRejected(_MAC_FAILED) from None
            except Exception as e:  # a value python-pskc could not convert
                rejected.append(Rejected(where, None, f"the KeyPackage has a malformed value ({type(e).__name__})"))
    specs = drop_duplicates(accepted, rejected)
    return SeedFile(specs, sorted_rejections(rejected))
