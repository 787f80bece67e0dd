"""One PSKC key as the kiosk keeps it between reading the file and importing it, and the
`TokenSpec` it becomes.

The file is read once (core.pskcfile): the file-wide rules need every value seen before any seed
is decrypted, so each key is held in this small form until they have passed, its values still as
python-pskc read them (plain, or an `EncryptedValue` not yet decrypted). About 500 bytes a key,
where python-pskc's own objects take about 1,200, and a second reading of the XML took a third
of a large file's time.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from pskc.key import Key

from core.pskc_integrity import stored_values, where_in_file
from core.seed_checks import (
    EntryError,
    check_algorithm,
    check_counter,
    check_digits,
    check_period,
    check_seed,
    check_serial,
    looks_like_seed,
)
from core.token_spec import Kind, TokenSpec

# The profile URI names the kind; some vendors append the hash ("...#totp-sha256") instead of
# giving a <Suite>, so both places are read. A bare "HOTP" is the draft container format's name.
_KIND = re.compile(r"(?:^|[:#])(hotp|totp)(?:[-_:]?(sha1|sha256|sha512))?$", re.IGNORECASE)
_PROFILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,40}")


@dataclass(slots=True, frozen=True)
class HeldKey:
    """What `to_spec` needs of a python-pskc `Key` (and its device), and where it is in the file."""

    number: int  # the KeyPackage's place in the file
    index: int  # the key's place in its package
    keys: int  # keys in its package
    checked: str | None  # the serial as the inventory stores it, None when check_serial refuses it
    serial: str | None  # as written, kept only when refused (to_spec then says why)
    manufacturer: str | None
    model: str | None
    algorithm: str | None
    suite: str | None
    response_encoding: str | None
    response_length: int | None
    start: datetime | None
    expiry: datetime | None
    values: tuple[object, ...]  # core.pskc_integrity.FIELDS, as python-pskc stored them

    @classmethod
    def of(cls, key: Key, number: int, index: int, keys: int) -> HeldKey:
        try:
            checked: str | None = check_serial(key.serial)
        except EntryError:
            checked = None
        return cls(
            number,
            index,
            keys,
            checked,
            None if checked else key.serial,
            _shared(key.manufacturer),
            _shared(key.model),
            _shared(key.algorithm),
            _shared(key.algorithm_suite),
            _shared(key.response_encoding),
            key.response_length,
            key.policy.start_date,
            key.policy.expiry_date,
            stored_values(key),
        )

    @property
    def where(self) -> str:
        return where_in_file(self.number, self.index, self.keys)


@lru_cache(maxsize=64)  # a file names a handful of profiles, for tens of thousands of keys
def _kind(uri: str) -> re.Match[str] | None:
    return _KIND.search(uri)


def _shared(text: str | None) -> str | None:
    # A vendor's batch names one profile, one vendor and one model for every key: one string
    # each, not one per key (the strings expat made for each element stay alive otherwise).
    return None if text is None else sys.intern(text)


def _profile(uri: str) -> str:
    """The profile a provider or IT person would recognise, from a URI such as
    `urn:...:pskc#OCRA-1:HOTP-SHA1-6:QN08` (an OCRA suite, not a profile named 'QN08')."""
    if "ocra" in uri.lower():
        return "OCRA (challenge-response)"
    name = re.split(r"[:#/]", uri.rstrip(":#/"))[-1] if uri else ""
    return repr(name) if _PROFILE_NAME.fullmatch(name) and not looks_like_seed(name) else "unnamed"


def _utc(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)  # RFC 6030 dates are UTC


def _check_validity(key: HeldKey, serial: str, now: datetime) -> tuple[float | None, float | None]:
    """The key's validity as Unix seconds; an expired key is refused here, at import."""
    start, expiry = _utc(key.start), _utc(key.expiry)
    if expiry is not None and expiry <= now:
        raise EntryError(f"the key expired on {expiry.date().isoformat()} (its <Policy> ExpiryDate)", serial)
    if start is not None and expiry is not None and start >= expiry:
        raise EntryError("the key's <Policy> StartDate is not before its ExpiryDate", serial)
    return (start.timestamp() if start else None), (expiry.timestamp() if expiry else None)


def _device_text(value: object) -> str | None:
    # DeviceInfo is free text from the vendor's file: keep it short and printable.
    text = " ".join(str(value or "").split())[:100]
    return text if text.isprintable() and text else None


def to_spec(key: HeldKey, secret: object, counter: object, interval: object, now: datetime) -> TokenSpec:
    """The token `key` describes, with its secret, counter and time interval decrypted and
    verified (python-pskc's plain values otherwise); EntryError when the kiosk cannot use it."""
    serial = key.checked or check_serial(key.serial)  # that raises the reason it was refused
    uri = key.algorithm or ""
    match = _kind(uri)
    if not match:
        raise EntryError(
            f"the key's algorithm {_profile(uri)} is not supported; only HOTP and TOTP tokens can be imported",
            serial,
        )
    valid_from, valid_until = _check_validity(key, serial, now)
    kind: Kind = "totp" if match.group(1).lower() == "totp" else "hotp"
    algorithm = check_algorithm(key.suite or match.group(2) or "", serial)
    if key.response_encoding and key.response_encoding.upper() != "DECIMAL":
        raise EntryError("response format is not decimal digits", serial)
    digits = check_digits(key.response_length or 6, serial)
    if not secret:
        raise EntryError("the KeyPackage carries no secret (only a reference to one)", serial)
    if not isinstance(secret, (bytes, bytearray)):
        raise TypeError("the secret is not bytes")  # python-pskc reads no other kind; the caller reports it
    seed = check_seed(bytes(secret), serial)
    totp = kind == "totp"
    return TokenSpec(
        serial,
        kind,
        seed,
        algorithm,
        digits,
        period=check_period(_number(interval, 30), serial) if totp else 30,
        counter=0 if totp else check_counter(_number(counter, 0), serial),
        valid_from=valid_from,
        valid_until=valid_until,
        vendor=_device_text(key.manufacturer),
        model=_device_text(key.model),
    )


def _number(value: object, default: int) -> int:
    if not value:
        return default
    if not isinstance(value, int):
        raise TypeError("not a whole number")  # python-pskc reads whole numbers only; the caller reports it
    return value
