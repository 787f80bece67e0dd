"""What a seed file holds, once read: a token to store, or an entry refused with its reason.

Its own module so that the inventory (core.tokens) and the parsers (core.seedfiles,
core.pskcfile) share the types without the inventory depending on the file parsers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["totp", "hotp"]
Algorithm = Literal["SHA1", "SHA256", "SHA512"]


@dataclass(frozen=True, slots=True)  # an import can hold many (SeedStream)
class TokenSpec:
    serial: str
    kind: Kind
    secret: bytes = field(repr=False)  # raw seed bytes; kept out of repr so it never gets logged
    algorithm: Algorithm = "SHA1"
    digits: int = 6
    period: int = 30  # TOTP 30 or 60; ignored for HOTP
    counter: int = 0  # HOTP start counter; 0 for TOTP
    valid_from: float | None = None  # Unix seconds; the vendor's validity (PSKC <Policy>), if given
    valid_until: float | None = None
    # PSKC DeviceInfo: describes the device, not the key, so two specs of one key still compare equal.
    vendor: str | None = field(default=None, compare=False)
    model: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Rejected:
    where: str  # "line 7" or "KeyPackage 3"
    serial: str | None
    reason: str  # plain words for IT staff, never containing the secret


class Rejections(list[Rejected]):
    """The entries a file refused: every one counted (`total`), the first `KEPT` of them kept
    found kept with their reasons. A file of a million bad rows is reported as such without a million
    reasons in memory (a 32 MiB CSV of refused rows took 2.4 GB to report)."""

    KEPT = 1_000

    def __init__(self, entries: Iterable[Rejected] = ()) -> None:
        super().__init__()
        self.total = 0
        self.extend(entries)

    def append(self, entry: Rejected) -> None:
        self.total += 1
        if len(self) < self.KEPT:
            super().append(entry)

    def extend(self, entries: Iterable[Rejected]) -> None:
        for entry in entries:
            self.append(entry)
        if isinstance(entries, Rejections):
            self.total += entries.total - len(entries)  # counted where they were left out

    def clear(self) -> None:
        super().clear()
        self.total = 0

    def count_unlisted(self, n: int) -> None:
        """`n` more refused entries, none of them to be listed."""
        self.total += n

    @property
    def unlisted(self) -> int:
        return self.total - len(self)
