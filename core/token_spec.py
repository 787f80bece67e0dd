"""What a seed file holds, once read: a token to store, or an entry refused with its reason.

Its own module so that the inventory (core.tokens) and the parsers (core.seedfiles,
core.pskcfile) share the types without the inventory depending on the file parsers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["totp", "hotp"]
Algorithm = Literal["SHA1", "SHA256", "SHA512"]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Rejected:
    where: str  # "line 7" or "KeyPackage 3"
    serial: str | None
    reason: str  # plain words for IT staff, never containing the secret
