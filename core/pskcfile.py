"""PSKC (RFC 6030) seed containers: plain, pre-shared-key or PBKDF2-passphrase encrypted.

python-pskc reads the XML (package by package, core.pskcxml); core.pskc_integrity decides
whether the file can be trusted before any seed leaves it; this module turns each key into a
`TokenSpec` or a `Rejected` entry.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

from pskc import PSKC
from pskc.exceptions import DecryptionError
from pskc.key import Key

from core.errors import ImportRejected
from core.pskc_integrity import (
    MAC_FAILED,
    Census,
    check_mac_key,
    decrypter,
    mac_maker,
    refuse_untrustworthy,
    sealed_values,
    unlock_container,
    verify_sealed,
    where_in_file,
)
from core.pskcxml import Document, local, new_container, read_package
from core.seed_checks import (
    MAX_FILE_BYTES,
    Entry,
    EntryError,
    Repeated,
    SeedFile,
    SeedStream,
    check_algorithm,
    check_counter,
    check_digits,
    check_period,
    check_seed,
    check_serial,
    looks_like_seed,
)
from core.seedcopies import SharedSecrets, refuse_key_for_plain_file
from core.token_spec import Kind, Rejected, TokenSpec

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


def _census(document: Document, header: ET.Element | None) -> tuple[PSKC, Census, Repeated]:
    """First pass: the container's header, what the file-wide rules need, and repeated serials.
    `header` is the complete one when a first pass found it after the packages."""
    container: PSKC | None = None if header is None else new_container(header)
    census = Census()
    serials = Repeated()
    for number, package in enumerate(document.packages(), start=1):
        if container is None:
            container = new_container(document.header())
        device = read_package(container, package)
        for index, key in enumerate(device.keys, start=1):
            census.count(key, where_in_file(number, index, len(device.keys)))
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
        refuse_untrustworthy(container, root, census)
    if not census.sealed:
        refuse_key_for_plain_file(passphrase, psk)
    if census.sealed:
        unlock_container(container, census.algorithms(container), passphrase, psk)
        if census.macked:
            # python-pskc decrypts the MAC key at every MAC it makes: decrypt it once.
            container.mac.key = check_mac_key(container, passphrase)
    mac = mac_maker(container) if census.macked else None
    decrypt = decrypter(container) if census.sealed else None
    today = now or datetime.now(UTC)

    def entries() -> Iterator[Entry]:
        again = Census()
        seeds = SharedSecrets()  # decrypted: a copied <Secret> verifies, with its own MAC, anywhere
        for number, package in enumerate(document.packages(), start=1):
            device = read_package(container, package, whole=True)
            for index, key in enumerate(device.keys, start=1):
                where = where_in_file(number, index, len(device.keys))
                again.count(key, where)
                for sealed in sealed_values(container, where, key):
                    plain = verify_sealed(container, sealed, passphrase, mac, decrypt)
                    if sealed.where.endswith(" secret"):
                        key.secret = plain  # decrypted and verified once, not again by the getter
                entry = _entry(key, where, today)
                if isinstance(entry, TokenSpec):
                    seeds.add(entry.secret, where, entry.serial)
                yield where, entry
            container.devices.clear()
        seeds.check()
        if again != census:  # the rules above were decided on what the first pass found
            raise ImportRejected("The PSKC file reads differently the second time; nothing was imported.")

    return SeedStream(entries, serials.twice, census.keys)


def _entry(key: Key, where: str, today: datetime) -> TokenSpec | Rejected:
    try:
        return _pskc_key(key, today)
    except EntryError as e:
        return Rejected(where, e.serial, e.reason)
    except DecryptionError:  # verified above; kept so no library error can escape
        raise ImportRejected(MAC_FAILED) from None
    except Exception as e:  # a value python-pskc could not convert
        return Rejected(where, None, f"the KeyPackage has a malformed value ({type(e).__name__})")


def read_pskc(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedFile:
    """Read an RFC 6030 container, every token into a list."""
    return open_pskc(data, passphrase=passphrase, psk=psk, now=now).read()
