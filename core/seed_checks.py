"""What both seed file readers share: the checks every token passes, whichever file it came
from, and the stream of tokens a reader hands to the import.

No message built here ever contains a seed (docs/security.md rule 19): reasons name fields by
name and never echo their values; a serial is shown only when it parses as one.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from core.serials import SERIAL_RULE, is_serial, normalize_serial
from core.token_spec import Algorithm, Rejected, Rejections, TokenSpec

MIN_SEED_BYTES = 16  # 128 bits: RFC 4226 section 4 R6 (and 160 recommended)
MAX_SEED_BYTES = 128
MAX_SERIAL_CHARS = 64
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_COUNTER = 10**18 - 1  # as a CSV's 18-digit counter field


@dataclass
class SeedFile:
    specs: list[TokenSpec]
    rejected: Rejections


Entry = tuple[str, "TokenSpec | Rejected"]


class SeedStream:
    """A seed file's tokens, read as they are stored so that memory does not grow with the file.

    The reader has already made one pass (file-wide checks, and the serials that occur more than
    once, the `suspects`); iterating reads the file again (or what the reader held of it) and
    yields each accepted token. The copies of a suspect serial are only counted: if more than one
    is otherwise acceptable, all are refused (which seed would be right?); a suspect with one
    acceptable copy (the others refused for their own reasons) is taken on one more reading, so
    no seed waits in memory for the end of the file. `rejected` is complete, in file order, once
    the iteration ends; an `ImportRejected` may still come during it (a PSKC value whose MAC
    fails), so the consumer stores the tokens in one transaction.
    """

    def __init__(self, entries: Callable[[], Iterator[Entry]], suspects: Repeated, expected: int) -> None:
        self._entries = entries
        self._suspects = suspects
        self.expected = expected  # entries in the file (accepted or not): for a progress bar
        self.rejected = Rejections()

    def __iter__(self) -> Iterator[TokenSpec]:
        self.rejected.clear()  # in place: a caller may hold it from before the reading
        copies: dict[str, int] = {}  # acceptable copies of each suspect serial
        places: dict[str, list[str]] = {}  # where the first few are, for as many as are listed
        room = Rejections.KEPT
        for where, entry in self._entries():
            if isinstance(entry, Rejected):
                self.rejected.append(entry)
            elif entry.serial in self._suspects:
                count = copies[entry.serial] = copies.get(entry.serial, 0) + 1
                if count <= _NAMED and room:
                    places.setdefault(entry.serial, []).append(where)
                    room -= 1
            else:
                yield entry
        alone = {serial for serial, count in copies.items() if count == 1}
        if alone:  # its other copies were refused for their own reasons: it is imported
            yield from (e for _, e in self._entries() if isinstance(e, TokenSpec) and e.serial in alone)
        for serial, count in copies.items():
            if count > 1:
                named = places.get(serial, [])
                reason = _twice(count, named)
                self.rejected.extend(Rejected(where, serial, reason) for where in named)
                self.rejected.count_unlisted(count - len(named))
        self.rejected.sort(key=_place)

    def read(self) -> SeedFile:
        specs = list(self)
        return SeedFile(specs, self.rejected)


_NAMED = 5  # places a duplicate's reason names, and copies of it listed


def _twice(count: int, named: list[str]) -> str:
    """A serial in more than one acceptable row is ambiguous: which seed is right? A file of
    20,000 copies of one row took 18 GB when each copy's reason named every other."""
    if count == len(named):
        return f"serial number appears more than once in this file ({', '.join(named)})"
    return f"serial number appears {count:,} times in this file ({', '.join([*named, '...'])})"


def _place(r: Rejected) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", r.where))


class Repeated:
    """Which serials occur more than once, counted on the first pass. Kept as 8-byte hashes:
    a cap-sized file of 1.5 million distinct serials costs 12 MB so, where a set of them took
    150. Two serials that share a hash are both suspects, and SeedStream then tells them apart
    by their text: a suspect seen once is imported as any other."""

    def __init__(self) -> None:
        self._hashes = array("q")
        self._twice: frozenset[int] | None = None

    def add(self, serial: str) -> None:
        self._hashes.append(hash(serial))
        self._twice = None

    def __contains__(self, serial: object) -> bool:
        if self._twice is None:
            ordered = np.sort(np.frombuffer(self._hashes, dtype=np.int64))
            self._twice = frozenset(np.unique(ordered[1:][ordered[1:] == ordered[:-1]]).tolist())
        return hash(serial) in self._twice


class EntryError(Exception):
    """One row or KeyPackage is unusable; carries the reason and the serial if known."""

    def __init__(self, reason: str, serial: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.serial = serial


# --------------------------------------------------------------------------- shared checks


def _number(value: int) -> str:
    """A number for a message; a long one might be a misplaced (decimal-looking) seed."""
    return str(value) if abs(value) < 100_000 else "a value that is not allowed"


HEX_TEXT = re.compile(r"[0-9A-Fa-f]+")
BASE32_TEXT = re.compile(r"[A-Z2-7]+=*")


def looks_like_seed(value: str) -> bool:
    compact = re.sub(r"[\s-]", "", value)  # the separators _decode_key accepts in a key
    return len(compact) >= 26 and bool(HEX_TEXT.fullmatch(compact) or BASE32_TEXT.fullmatch(compact.upper()))


def check_serial(raw: str | None) -> str:
    """The serial as the inventory stores it (docs/security.md rule 19: a rejected one is never shown)."""
    serial = (raw or "").strip()
    if not serial:
        raise EntryError("no serial number")
    if len(serial) > MAX_SERIAL_CHARS:
        raise EntryError(f"serial number is longer than {MAX_SERIAL_CHARS} characters")
    if not serial.isprintable():
        raise EntryError("serial number contains unprintable characters")
    if looks_like_seed(serial):
        # Columns swapped? Then this is a seed, and it must not be shown as a serial.
        raise EntryError("serial number looks like a seed; check the column order")
    if not is_serial(serial):
        # Step 6 could never find it, so it would sit in the inventory unassignable.
        raise EntryError(f"serial number has characters a provider cannot enter: use only {SERIAL_RULE}")
    return normalize_serial(serial)


def serial_or_none(raw: str | None) -> str | None:
    """A refused entry's serial, shown only when it parses as one (a seed never does)."""
    try:
        return check_serial(raw)
    except EntryError:
        return None


def check_seed(secret: bytes, serial: str) -> bytes:
    bits = len(secret) * 8
    if len(secret) < MIN_SEED_BYTES:
        raise EntryError(f"seed is only {bits} bits; at least {MIN_SEED_BYTES * 8} bits are required", serial)
    if len(secret) > MAX_SEED_BYTES:
        raise EntryError(f"seed is {bits} bits; at most {MAX_SEED_BYTES * 8} are allowed", serial)
    return secret


def check_algorithm(raw: str, serial: str) -> Algorithm:
    name = re.sub(r"^HMAC-?", "", raw.strip().upper()).replace("-", "").replace("_", "")
    if name in ("", "SHA1"):
        return "SHA1"
    if name == "SHA256":
        return "SHA256"
    if name == "SHA512":
        return "SHA512"
    raise EntryError("algorithm is not SHA1, SHA256 or SHA512", serial)


def check_digits(digits: int, serial: str) -> int:
    if digits not in (6, 8):
        raise EntryError(f"digits must be 6 or 8, not {_number(digits)}", serial)
    return digits


def check_period(period: int, serial: str) -> int:
    if period not in (30, 60):
        raise EntryError(f"TOTP time step must be 30 or 60 seconds, not {_number(period)}", serial)
    return period


def check_counter(counter: int, serial: str) -> int:
    if counter < 0:
        raise EntryError("HOTP counter must not be negative", serial)
    if counter > MAX_COUNTER:  # the store's 64-bit column, with room for every later press
        raise EntryError("HOTP counter is too large (more than 18 digits)", serial)
    return counter
