"""Salted slow hashes (argon2id) for passwords and backup codes.

Parameters are OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): slow enough to make a
stolen store expensive to crack, fast enough that checking ten backup codes stays under a
second on a kiosk.

Every check costs exactly one argon2 verification, also when there is no stored hash (an
unknown username): it is checked against a dummy hash with the same parameters, so the time
taken does not tell which accounts exist.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PRODUCTION_TIME_COST = 2
PRODUCTION_MEMORY_KIB = 19 * 1024
PRODUCTION_PARALLELISM = 1

# Made once with the production parameters (of a password nobody knows; its salt is random).
# A constant rather than a hash made at import or on first use: it exists before the first
# sign-in, and importing core costs nothing for it (making one takes ~26 ms on a kiosk).
_PRODUCTION_DUMMY = "$argon2id$v=19$m=19456,t=2,p=1$jth4J5zclmO/8nOCibWNyg$53POn6XyPIqS/ODOYlNX96IHviDrr0fC0UO5XKDXFWY"


class SecretHasher:
    """An argon2 hasher and its dummy hash (same parameters, so the same verification cost)."""

    def __init__(self, hasher: PasswordHasher, dummy: str | None = None) -> None:
        self.hasher = hasher
        self.dummy = dummy if dummy is not None else hasher.hash("not-a-real-password")

    def hash(self, secret: str) -> str:
        return self.hasher.hash(secret)

    def check(self, stored: str | None, secret: str) -> bool:
        try:
            return self.hasher.verify(stored or self.dummy, secret) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


PRODUCTION = SecretHasher(
    PasswordHasher(
        time_cost=PRODUCTION_TIME_COST, memory_cost=PRODUCTION_MEMORY_KIB, parallelism=PRODUCTION_PARALLELISM
    ),
    _PRODUCTION_DUMMY,
)
_active = PRODUCTION


def use(hasher: SecretHasher) -> SecretHasher:
    """Make `hasher` the one in use and return the previous one. For the test suite only, which
    swaps in a fast hasher; nothing in the kiosk calls it."""
    global _active
    previous, _active = _active, hasher
    return previous


def hash_secret(secret: str) -> str:
    return _active.hash(secret)


def check_secret(stored: str | None, secret: str) -> bool:
    return _active.check(stored, secret)
