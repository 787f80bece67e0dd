"""Token seeds at rest: AES-256-GCM with a key that lives in the keyring, never in the store.

The serial is bound in as associated data, so a ciphertext copied onto another token's row
does not decrypt.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import StoreError

NONCE_BYTES = 12


class SeedBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the seed key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, serial: str, seed: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, seed, serial.encode("utf-8"))

    def open(self, serial: str, blob: bytes) -> bytes:
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], serial.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise StoreError(
                f"The seed of token {serial} cannot be decrypted with this kiosk's seed key.",
                hint="The keyring's 'seed-key' does not match the store; ask IT staff.",
            ) from None
