"""Two file-wide checks on a seed file that no MAC can make: a seed copied from one key onto
another, and a plain file put where the vendor's encrypted one was expected.

A MAC covers a value, not which key it belongs to: whoever can edit a PSKC file can copy key A's
<Secret> (ciphertext and MAC) into key B, every MAC still verifies, and the holder of A's token
makes B's codes. Two tokens of one delivery never share a seed by the vendor's intent.
"""

from __future__ import annotations

import hashlib
import os
from array import array
from itertools import pairwise

from core.errors import ImportRejected

NOT_ENCRYPTED = (
    "This file is not encrypted, but a {what} was given: it may not be the vendor's file "
    "(a plain file put in its place). Nothing was imported; check where the file came from."
)


def refuse_key_for_plain_file(passphrase: str | None, psk: bytes | None) -> None:
    """IT holds the vendor's key because they expect the vendor's encrypted file."""
    if passphrase is not None or psk is not None:
        what = "passphrase" if passphrase is not None else "pre-shared key"
        raise ImportRejected(NOT_ENCRYPTED.format(what=what))


class SharedSecrets:
    """Two keys under different serials with one seed. Only keyed 8-byte fingerprints are kept
    (a fresh key per read), never a seed, so memory stays a small fraction of the file's; the
    message names the two positions, never the value. Copies under one serial are left to the
    duplicate-serial rule. Checked once every key has been read (`check`), before the consumer
    commits its transaction."""

    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._seeds = array("Q")
        self._serials = array("Q")
        self._wheres: list[str] = []

    def _fingerprint(self, value: bytes) -> int:
        return int.from_bytes(hashlib.blake2b(value, key=self._key, digest_size=8).digest(), "big")

    def add(self, seed: bytes, where: str, serial: str) -> None:
        self._seeds.append(self._fingerprint(seed))
        self._serials.append(self._fingerprint(serial.encode()))
        self._wheres.append(where)

    def check(self) -> None:
        # Ordered by fingerprint, then by place: of all the copies found, the one named is the
        # first in the file, not the first by a fingerprint whose key changes at every reading.
        order = sorted(range(len(self._seeds)), key=self._seeds.__getitem__)
        first: tuple[int, int] | None = None  # kept as the least, not listed: a file may hold a million
        for i, j in pairwise(order):
            if self._seeds[i] == self._seeds[j] and self._serials[i] != self._serials[j]:
                first = min(first or (i, j), (i, j))
        if first is not None:
            one, other = first
            raise ImportRejected(
                f"The seed file gives {self._wheres[one]} and {self._wheres[other]} the same seed: "
                "one was copied onto the other, so one token's holder would make the other's codes. "
                "Nothing was imported; ask the vendor for a new file."
            )
