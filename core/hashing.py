"""Salted slow hashes (argon2id) for passwords and backup codes.

Parameters are OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): slow enough to make a
stolen store expensive to crack, fast enough that checking ten backup codes stays under a
second on a kiosk.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@functools.cache
def _dummy() -> str:
    """Checked against when the username is unknown, so timing does not reveal which accounts
    exist. Made on first use, not at import: hashing is deliberately slow."""
    return _hasher.hash("not-a-real-password")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def check_secret(stored: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy(), secret) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
