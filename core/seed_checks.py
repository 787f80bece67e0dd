"""What both seed file readers share: the checks every token passes, whichever file it came
from, and the stream of tokens a reader hands to the import.

No message built here ever contains a seed (docs/security.md rule 19): reasons name fields by
name and never echo their values; a serial is shown only when it parses as one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from core.serials import SERIAL_RULE, is_serial, normalize_serial
from core.token_spec import Algorithm, Rejected, TokenSpec

MIN_SEED_BYTES = 16  # 128 bits: RFC 4226 section 4 R6 (and 160 recommended)
MAX_SEED_BYTES = 128
MAX_SERIAL_CHARS = 64
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_COUNTER = 10**18 - 1  # as a CSV's 18-digit counter field


@dataclass
class SeedFile:
    specs: list[TokenSpec]
    rejected: list[Rejected]


Entry = tuple[str, "TokenSpec | Rejected"]


class SeedStream:
    """A seed file's tokens, read as they are stored so that memory does not grow with the file.

    The reader has already made one pass (file-wide checks, and the serials that occur more than
    once, the `suspects`); iterating reads the file again and yields each accepted token. Copies
    of a suspect serial are held back to the end and refused together if more than one of them is
    otherwise acceptable, as `drop_duplicates` does. `rejected` is complete, in file order, once
    the iteration ends; an `ImportRejected` may still come during it (a PSKC value whose MAC
    fails), so the consumer stores the tokens in one transaction.
    """

    def __init__(self, entries: Callable[[], Iterator[Entry]], suspects: set[str], expected: int) -> None:
        self._entries = entries
        self._suspects = suspects
        self.expected = expected  # entries in the file (accepted or not): for a progress bar
        self.rejected: list[Rejected] = []

    def __iter__(self) -> Iterator[TokenSpec]:
        self.rejected.clear()
        held: list[tuple[str, TokenSpec]] = []
        for where, entry in self._entries():
            if isinstance(entry, Rejected):
                self.rejected.append(entry)
            elif entry.serial in self._suspects:
                held.append((where, entry))
            else:
                yield entry
        yield from drop_duplicates(held, self.rejected)
        self.rejected[:] = sorted_rejections(self.rejected)

    def read(self) -> SeedFile:
        specs = list(self)
        return SeedFile(specs, self.rejected)


class Repeated:
    """Which serials occur more than once, counted on the first pass."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.twice: set[str] = set()

    def add(self, serial: str) -> None:
        if serial in self.seen:
            self.twice.add(serial)
        else:
            self.seen.add(serial)


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


def drop_duplicates(accepted: list[tuple[str, TokenSpec]], rejected: list[Rejected]) -> list[TokenSpec]:
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


def sorted_rejections(rejected: Iterable[Rejected]) -> list[Rejected]:
    def key(r: Rejected) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", r.where))

    return sorted(rejected, key=key)
