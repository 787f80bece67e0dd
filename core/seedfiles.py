"""Hardware-token seed files: OATH CSV and PSKC (RFC 6030).

Vendors ship a seed file with each batch of tokens. This module only *reads* such a file into
`TokenSpec`s and a list of `Rejected` entries; core.tokens stores what is returned.

Two kinds of failure:
- one row or KeyPackage is unusable -> a `Rejected` entry, the rest of the file still imports;
- the file as a whole cannot be trusted or read (not CSV or XML, a DTD, a bad MAC, a wrong
  passphrase or pre-shared key) -> `ImportRejected`, and nothing is imported.

No message built here ever contains a seed (security rule 19): reasons name fields, never echo
their values, except the serial number and short non-secret values.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hmac
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pskc import PSKC
from pskc.encryption import algorithm_key_lengths
from pskc.exceptions import DecryptionError, KeyDerivationError, PSKCError
from pskc.key import Key

from core.errors import ImportRejected

Kind = Literal["totp", "hotp"]
Algorithm = Literal["SHA1", "SHA256", "SHA512"]

MIN_SEED_BYTES = 16  # 128 bits: RFC 4226 section 4 R6 (and 160 recommended)
MAX_SEED_BYTES = 128
MAX_SERIAL_CHARS = 64
MAX_FILE_BYTES = 32 * 1024 * 1024
# A hostile PBKDF2 container could otherwise make the kiosk spin for hours before failing.
MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_PBKDF2_KEY_BYTES = 64
CSV_COLUMNS = "serial,key,type,digits,period_or_counter[,algorithm]"


@dataclass(frozen=True)
class TokenSpec:
    serial: str
    kind: Kind
    secret: bytes = field(repr=False)  # raw seed bytes; kept out of repr so it never gets logged
    algorithm: Algorithm = "SHA1"
    digits: int = 6
    period: int = 30  # TOTP 30 or 60; ignored for HOTP
    counter: int = 0  # HOTP start counter; 0 for TOTP
    # PSKC DeviceInfo: describes the device, not the key, so two specs of one key still compare equal.
    vendor: str | None = field(default=None, compare=False)
    model: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Rejected:
    where: str  # "line 7" or "KeyPackage 3"
    serial: str | None
    reason: str  # plain words for IT staff, never containing the secret


@dataclass
class SeedFile:
    specs: list[TokenSpec]
    rejected: list[Rejected]


class _EntryError(Exception):
    """One row or KeyPackage is unusable; carries the reason and the serial if known."""

    def __init__(self, reason: str, serial: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.serial = serial


# --------------------------------------------------------------------------- shared checks


def _shown(value: str, limit: int = 8) -> str:
    """Quote a short field for a message; longer ones might be a misplaced seed, so hide them."""
    if len(value) <= limit and value.isprintable():
        return repr(value)
    return f"({len(value)} characters, not shown)"


_HEX = re.compile(r"[0-9A-Fa-f]+")
_BASE32 = re.compile(r"[A-Z2-7]+=*")


def _looks_like_seed(value: str) -> bool:
    compact = value.replace(" ", "")
    return len(compact) >= 26 and bool(_HEX.fullmatch(compact) or _BASE32.fullmatch(compact.upper()))


def _check_serial(raw: str | None) -> str:
    serial = (raw or "").strip()
    if not serial:
        raise _EntryError("no serial number")
    if len(serial) > MAX_SERIAL_CHARS:
        raise _EntryError(f"serial number is longer than {MAX_SERIAL_CHARS} characters")
    if not serial.isprintable():
        raise _EntryError("serial number contains unprintable characters")
    if _looks_like_seed(serial):
        # Columns swapped? Then this is a seed, and it must not be shown as a serial.
        raise _EntryError("serial number looks like a seed; check the column order")
    return serial


def _check_seed(secret: bytes, serial: str) -> bytes:
    bits = len(secret) * 8
    if len(secret) < MIN_SEED_BYTES:
        raise _EntryError(f"seed is only {bits} bits; at least {MIN_SEED_BYTES * 8} bits are required", serial)
    if len(secret) > MAX_SEED_BYTES:
        raise _EntryError(f"seed is {bits} bits; at most {MAX_SEED_BYTES * 8} are allowed", serial)
    return secret


def _check_algorithm(raw: str, serial: str) -> Algorithm:
    name = re.sub(r"^HMAC-?", "", raw.strip().upper()).replace("-", "").replace("_", "")
    if name in ("", "SHA1"):
        return "SHA1"
    if name == "SHA256":
        return "SHA256"
    if name == "SHA512":
        return "SHA512"
    raise _EntryError(f"algorithm {_shown(raw.strip(), 12)} is not SHA1, SHA256 or SHA512", serial)


def _check_digits(digits: int, serial: str) -> int:
    if digits not in (6, 8):
        raise _EntryError(f"digits must be 6 or 8, not {digits}", serial)
    return digits


def _check_period(period: int, serial: str) -> int:
    if period not in (30, 60):
        raise _EntryError(f"TOTP time step must be 30 or 60 seconds, not {period}", serial)
    return period


def _check_counter(counter: int, serial: str) -> int:
    if counter < 0:
        raise _EntryError("HOTP counter must not be negative", serial)
    return counter


def _drop_duplicates(accepted: list[tuple[str, TokenSpec]], rejected: list[Rejected]) -> list[TokenSpec]:
    """A serial twice in one file is ambiguous (which seed is right?): refuse every copy."""
    places: dict[str, list[str]] = {}
    for where, spec in accepted:
        places.setdefault(spec.serial, []).append(where)
    specs = []
    for where, spec in accepted:
        others = places[spec.serial]
        if len(others) == 1:
            specs.append(spec)
        else:
            reason = f"serial number appears more than once in this file ({', '.join(others)})"
            rejected.append(Rejected(where, spec.serial, reason))
    return specs


def _sorted(rejected: Iterable[Rejected]) -> list[Rejected]:
    def key(r: Rejected) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", r.where))

    return sorted(rejected, key=key)


# --------------------------------------------------------------------------- OATH CSV


def _decode_key(raw: str, serial: str) -> bytes:
    key = re.sub(r"[\s-]", "", raw)
    if not key:
        raise _EntryError("key is empty", serial)
    if _HEX.fullmatch(key) and len(key) % 2 == 0:
        # Hex wins when a key is valid in both encodings: oathtool and vendor CSVs default to it.
        return bytes.fromhex(key)
    b32 = key.upper().rstrip("=")
    if not _BASE32.fullmatch(b32) or len(b32) % 8 in (1, 3, 6):
        raise _EntryError("key is neither hex nor base32", serial)
    try:
        return base64.b32decode(b32 + "=" * (-len(b32) % 8))
    except (binascii.Error, ValueError):
        raise _EntryError("key is neither hex nor base32", serial) from None


def _whole_number(raw: str, what: str, serial: str) -> int:
    value = raw.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", value):
        raise _EntryError(f"{what} {_shown(value)} is not a whole number", serial)
    return int(value)


def _csv_row(fields: list[str]) -> TokenSpec:
    if len(fields) < 5:
        raise _EntryError(f"missing fields: expected {CSV_COLUMNS}, found {len(fields)} fields")
    if len(fields) > 6:
        raise _EntryError(f"too many fields: expected {CSV_COLUMNS}, found {len(fields)} fields")
    serial = _check_serial(fields[0])
    secret = _check_seed(_decode_key(fields[1], serial), serial)
    kind = fields[2].strip().lower()
    if kind not in ("totp", "hotp"):
        raise _EntryError(f"unknown token type {_shown(fields[2].strip())}: use totp or hotp", serial)
    digits = _check_digits(_whole_number(fields[3], "digits", serial), serial)
    algorithm = _check_algorithm(fields[5] if len(fields) == 6 else "", serial)
    if kind == "totp":
        period = _check_period(_whole_number(fields[4], "time step", serial), serial)
        return TokenSpec(serial, "totp", secret, algorithm, digits, period=period)
    counter = _check_counter(_whole_number(fields[4], "counter", serial), serial)
    return TokenSpec(serial, "hotp", secret, algorithm, digits, counter=counter)


_HEADER = re.compile(r"serial([ _-]?(no|number))?")


def _csv_lines(text: str) -> Iterator[tuple[int, list[str] | None]]:
    """Yield (line number, fields) for each data line; fields is None when not parseable CSV."""
    header_allowed = True
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            fields = next(csv.reader([line], skipinitialspace=True, strict=True), [])
        except csv.Error:
            yield number, None
            continue
        if header_allowed and fields and _HEADER.fullmatch(fields[0].strip().lower()):
            header_allowed = False
            continue
        header_allowed = False
        yield number, fields


def read_oath_csv(text: str) -> SeedFile:
    """Read `serial,key,type,digits,period_or_counter[,algorithm]` lines."""
    accepted: list[tuple[str, TokenSpec]] = []
    rejected: list[Rejected] = []
    widest = 0
    for number, fields in _csv_lines(text):
        where = f"line {number}"
        if fields is None:
            rejected.append(Rejected(where, None, "not a valid CSV line (check the quotes)"))
            continue
        widest = max(widest, len(fields))
        try:
            accepted.append((where, _csv_row(fields)))
        except _EntryError as e:
            serial = e.serial
            if serial is None and fields:
                try:
                    serial = _check_serial(fields[0])
                except _EntryError:
                    serial = None
            rejected.append(Rejected(where, serial, e.reason))
    if not accepted and not rejected:
        raise ImportRejected("The seed file holds no tokens (only blank lines, comments or a header).")
    if not accepted and widest < 5:
        raise ImportRejected(f"This is not an OATH CSV seed file: no line has the columns {CSV_COLUMNS}.")
    specs = _drop_duplicates(accepted, rejected)
    return SeedFile(specs, _sorted(rejected))


# --------------------------------------------------------------------------- PSKC


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


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


def _b64(text: str | None) -> bytes:
    return base64.b64decode("".join((text or "").split()), validate=True)


def _encrypted_values(root: ET.Element) -> Iterator[tuple[ET.Element, ET.Element | None]]:
    """Each <EncryptedValue> under a key's <Data>, with its <ValueMAC> (None if absent)."""
    for data in root.iter():
        if _local(data.tag) != "Data":
            continue
        for item in data:
            for value in _children(item, "EncryptedValue"):
                macs = _children(item, "ValueMAC")
                yield value, macs[0] if macs else None


def _method(value: ET.Element) -> str:
    for child in value.iter():
        if _local(child.tag) == "EncryptionMethod":
            return child.get("Algorithm", "")
    return ""


def _cipher(value: ET.Element) -> tuple[str, bytes]:
    algorithm = ""
    cipher = b""
    for child in value.iter():
        if _local(child.tag) == "EncryptionMethod":
            algorithm = child.get("Algorithm", "")
        elif _local(child.tag) == "CipherValue":
            cipher = _b64(child.text)
    return algorithm, cipher


def _wrong_key_message(passphrase: str | None) -> str:
    what = "passphrase" if passphrase is not None else "pre-shared key"
    return f"The {what} is wrong: the PSKC file's encrypted values do not decrypt with it."


def _check_macs(container: PSKC, root: ET.Element, passphrase: str | None) -> None:
    """Verify every ValueMAC over the ciphertext before anything is decrypted.

    python-pskc checks a ValueMAC only when one is present, and only after decrypting, so a
    CBC value with its MAC stripped would pass and a tampered one looks like a padding error.
    RFC 6030 6.1.1 requires a MAC with CBC, so a missing one refuses the file here.
    """
    values = list(_encrypted_values(root))
    if not values:
        return
    try:
        mac_key = container.mac.key
    except DecryptionError:
        raise ImportRejected(_wrong_key_message(passphrase)) from None
    for value, mac in values:
        try:
            algorithm, cipher = _cipher(value)
            expected = _b64(mac.text) if mac is not None else None
        except (binascii.Error, ValueError):
            raise ImportRejected("The PSKC file has an encrypted value that is not base64.") from None
        if expected is None:
            if algorithm.lower().endswith("-cbc"):
                raise ImportRejected(
                    "The PSKC file encrypts seeds with CBC but carries no MAC, so it cannot be "
                    "checked for tampering; ask the vendor for a file with a MAC."
                )
            continue  # key-wrap algorithms carry their own integrity check
        if not container.mac.algorithm or not mac_key:
            raise ImportRejected("The PSKC file has MAC values but no MAC method or key.")
        try:
            actual = container.mac.generate_mac(cipher)
        except DecryptionError:
            raise ImportRejected("The PSKC file uses a MAC algorithm the kiosk does not support.") from None
        if not hmac.compare_digest(actual, expected):
            raise ImportRejected(
                "The PSKC file failed its MAC check: it was changed after the vendor made it, "
                "or the passphrase or key is wrong. Nothing was imported."
            )


def _unlock(container: PSKC, root: ET.Element, passphrase: str | None, psk: bytes | None) -> None:
    encryption = container.encryption
    derivation = encryption.derivation
    if not any(True for _ in _encrypted_values(root)):
        return  # a plain container: nothing to unlock, whatever was given
    if psk is not None:
        # The file-wide algorithm is optional (RFC 6030 figure 6 names it only on each value).
        value_algorithm = next(_method(value) for value, _ in _encrypted_values(root))
        try:
            lengths = algorithm_key_lengths(encryption.algorithm or value_algorithm)
        except DecryptionError:
            raise ImportRejected("The PSKC file uses an encryption the kiosk does not support.") from None
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
            raise ImportRejected(f"The PSKC passphrase cannot be applied: {e}.") from None
    else:
        raise ImportRejected("The PSKC file is encrypted with a pre-shared key; give the key (hex) to import it.")


# The profile URI names the kind; some vendors append the hash ("...#totp-sha256") instead of
# giving a <Suite>, so both places are read.
_KIND = re.compile(r"[:#](hotp|totp)(?:[-_:]?(sha1|sha256|sha512))?$", re.IGNORECASE)


def _pskc_key(key: Key) -> TokenSpec:
    serial = _check_serial(key.serial)
    uri = key.algorithm or ""
    match = _KIND.search(uri)
    if not match:
        name = uri.rsplit(":", 1)[-1].rsplit("#", 1)[-1] or "none"
        raise _EntryError(
            f"algorithm {_shown(name, 40)} is not supported; only HOTP and TOTP tokens can be imported",
            serial,
        )
    kind: Kind = "totp" if match.group(1).lower() == "totp" else "hotp"
    algorithm = _check_algorithm(key.algorithm_suite or match.group(2) or "", serial)
    if key.response_encoding and key.response_encoding.upper() != "DECIMAL":
        raise _EntryError("response format is not decimal digits", serial)
    digits = _check_digits(key.response_length or 6, serial)
    secret = key.secret
    if not secret:
        raise _EntryError("the KeyPackage carries no secret (only a reference to one)", serial)
    secret = _check_seed(bytes(secret), serial)
    vendor, model = _device_text(key.manufacturer), _device_text(key.model)
    if kind == "totp":
        period = _check_period(key.time_interval or 30, serial)
        return TokenSpec(serial, "totp", secret, algorithm, digits, period=period, vendor=vendor, model=model)
    counter = _check_counter(key.counter or 0, serial)
    return TokenSpec(serial, "hotp", secret, algorithm, digits, counter=counter, vendor=vendor, model=model)


def _device_text(value: object) -> str | None:
    # DeviceInfo is free text from the vendor's file: keep it short and printable.
    text = " ".join(str(value or "").split())[:100]
    return text if text.isprintable() and text else None


def read_pskc(data: bytes, *, passphrase: str | None = None, psk: bytes | None = None) -> SeedFile:
    """Read an RFC 6030 container: plain, pre-shared-key or PBKDF2-passphrase encrypted."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(f"The seed file is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    root = _parse_safely(data)
    try:
        # python-pskc parses again; safe now that _parse_safely proved there is no DTD.
        container = PSKC(io.BytesIO(data))
    except PSKCError as e:
        raise ImportRejected(f"The PSKC container is not valid: {e}.") from None
    except Exception as e:  # malformed numbers, booleans, dates, base64 inside the XML
        raise ImportRejected(f"The PSKC container has a malformed value ({type(e).__name__}).") from None
    if not container.keys:
        raise ImportRejected("The PSKC file holds no KeyPackage with a key.")
    _unlock(container, root, passphrase, psk)
    _check_macs(container, root, passphrase)

    accepted: list[tuple[str, TokenSpec]] = []
    rejected: list[Rejected] = []
    for number, device in enumerate(container.devices, start=1):
        for index, key in enumerate(device.keys, start=1):
            where = f"KeyPackage {number}" + (f" key {index}" if len(device.keys) > 1 else "")
            try:
                accepted.append((where, _pskc_key(key)))
            except _EntryError as e:
                rejected.append(Rejected(where, e.serial, e.reason))
            except DecryptionError as e:
                if "MAC" in str(e):
                    raise ImportRejected(
                        "The PSKC file failed its MAC check: it was changed after the vendor "
                        "made it, or the passphrase or key is wrong. Nothing was imported."
                    ) from None
                raise ImportRejected(_wrong_key_message(passphrase)) from None
            except Exception as e:  # a value python-pskc could not convert
                rejected.append(Rejected(where, None, f"the KeyPackage has a malformed value ({type(e).__name__})"))
    specs = _drop_duplicates(accepted, rejected)
    return SeedFile(specs, _sorted(rejected))


# --------------------------------------------------------------------------- sniffing


def read_seed_bytes(data: bytes, *, passphrase: str | None = None, psk: bytes | None = None) -> SeedFile:
    """Read a seed file's content, telling PSKC XML from OATH CSV by its first character."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(f"The seed file is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRejected("The seed file is not valid UTF-16 text.") from None
    else:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return read_pskc(data, passphrase=passphrase, psk=psk)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ImportRejected(
                f"The seed file is neither PSKC XML nor OATH CSV text: byte {e.start} is not UTF-8."
            ) from None
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        return read_pskc(data, passphrase=passphrase, psk=psk)
    if "\x00" in text:
        raise ImportRejected("The seed file is binary data, neither PSKC XML nor OATH CSV text.")
    return read_oath_csv(text)


def read_seed_file(path: Path, *, passphrase: str | None = None, psk: bytes | None = None) -> SeedFile:
    """Read a seed file from disk; PSKC or OATH CSV is decided by its content, not its name."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ImportRejected(f"Cannot read the seed file {path}: {e.strerror or e}.") from None
    return read_seed_bytes(data, passphrase=passphrase, psk=psk)
