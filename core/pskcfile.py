"""PSKC (RFC 6030) seed containers: plain, pre-shared-key or PBKDF2-passphrase encrypted.

python-pskc reads the XML (package by package, core.pskcxml), once; core.pskc_integrity decides
whether the file can be trusted before any seed leaves it; each key is held meanwhile in a small
form (core.pskckeys.HeldKey) and then turned into a `TokenSpec` or a `Rejected` entry.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

from pskc import PSKC
from pskc.exceptions import DecryptionError
from pskc.key import EncryptedValue

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
)
from core.pskckeys import HeldKey, to_spec
from core.pskcxml import Document, local, new_container, read_package
from core.seed_checks import MAX_FILE_BYTES, Entry, EntryError, Repeated, SeedFile, SeedStream
from core.seedcopies import SharedSecrets, refuse_key_for_plain_file
from core.token_spec import Rejected, TokenSpec

# Keys held between the file-wide checks and the import, so the XML is read once: about 500
# bytes each, 50 MB at this count. A file with more (a cap-sized file of tiny packages can hold
# a million) is read a second time instead, so memory stays bounded by this, not by the file.
HOLD_KEYS = 100_000


class _Reading:
    """One reading of the packages, the container made from the header found before the first
    package unless a complete one is given."""

    def __init__(self, document: Document, container: PSKC | None) -> None:
        self.document = document
        self.container = container

    def __iter__(self) -> Iterator[HeldKey]:
        for number, package in enumerate(self.document.packages(), start=1):
            if self.container is None:
                self.container = new_container(self.document.header())
            device = read_package(self.container, package)
            for index, key in enumerate(device.keys, start=1):
                yield HeldKey.of(key, number, index, len(device.keys))
            self.container.devices.clear()


def _read(document: Document, header: ET.Element | None) -> tuple[PSKC, Census, Repeated, list[HeldKey] | None]:
    """The first reading of the file: the container's header, what the file-wide rules need,
    the serials that occur more than once, and every key held (None when there are more than
    HOLD_KEYS). `header` is the complete one when a reading found it after the packages."""
    reading = _Reading(document, None if header is None else new_container(header))
    census = Census()
    serials = Repeated()
    held: list[HeldKey] | None = []
    for key in reading:
        census.count(key.values, key.where)
        if key.checked is not None:
            serials.add(key.checked)
        if held is not None:
            held.append(key)
            if len(held) > HOLD_KEYS:
                held = None
    # With no package at all, the header is complete.
    return reading.container or new_container(document.header()), census, serials, held


def _read_again(document: Document, census: Census) -> Iterator[HeldKey]:
    """The keys of a file too large to hold, read a second time, into a container of its own:
    python-pskc settles the method from the first value that names one (a legacy `<Value>` read
    before it is plain), so the unlocked container, settled, would read some values differently.
    Decryption still uses the unlocked one. The file must read as it did when the rules were
    decided."""
    again = Census()
    for key in _Reading(document, new_container(document.header())):
        again.count(key.values, key.where)
        yield key
    if again != census:
        raise ImportRejected("The PSKC file reads differently the second time; nothing was imported.")


def open_pskc(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedStream:
    """Check an RFC 6030 container as a whole and unlock it; iterating the result decrypts and
    verifies each key in turn. `now` (UTC, default the current time) decides expired keys."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(f"The seed file is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    document = Document(data)
    container, census, serials, held = _read(document, None)
    if document.header_after_packages:
        # python-pskc reads the header wherever it is: read the packages again with all of it.
        container, census, serials, held = _read(document, document.header())
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

    # Held, the keys need the file no more: its bytes (up to the cap) are let go with `document`.
    keys = (lambda: held) if held is not None else partial(_read_again, document, census)

    def entries() -> Iterator[Entry]:
        seeds = SharedSecrets()  # decrypted: a copied <Secret> verifies, with its own MAC, anywhere
        for key in keys():
            where = key.where
            values = list(key.values)
            for sealed in sealed_values(container, where, key.values):
                plain = verify_sealed(container, sealed, passphrase, mac, decrypt)
                # The secret decrypted and verified once; a sealed number (rare) read as
                # python-pskc reads it, verified again by python-pskc as it decrypts.
                values[sealed.field] = plain if sealed.field == 0 else _sealed_number(container, sealed.value)
            entry = _entry(key, values, where, today)
            if isinstance(entry, TokenSpec):
                seeds.add(entry.secret, where, entry.serial)
            yield where, entry
        seeds.check()

    return SeedStream(entries, serials, census.keys)


def _sealed_number(container: PSKC, value: EncryptedValue) -> object:
    try:
        return value.get_value(container)
    except DecryptionError:  # verified above; kept so no library error can escape
        raise ImportRejected(MAC_FAILED) from None


def _entry(key: HeldKey, values: list[object], where: str, today: datetime) -> TokenSpec | Rejected:
    secret, counter, _, interval, _ = values
    try:
        return to_spec(key, secret, counter, interval, today)
    except EntryError as e:
        return Rejected(where, e.serial, e.reason)
    except Exception as e:  # a value python-pskc could not convert
        return Rejected(where, None, f"the KeyPackage has a malformed value ({type(e).__name__})")


def read_pskc(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedFile:
    """Read an RFC 6030 container, every token into a list."""
    return open_pskc(data, passphrase=passphrase, psk=psk, now=now).read()
