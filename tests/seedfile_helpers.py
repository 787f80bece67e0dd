"""What the seed-file tests share: a seed in its three spellings, and the checks on a result."""

from __future__ import annotations

import base64

from core.seed_checks import SeedFile

SEED = bytes(range(1, 21))  # 160 bits
SEED_HEX = SEED.hex()
SEED_B32 = base64.b32encode(SEED).decode()


def only_reason(result: SeedFile) -> str:
    assert result.specs == []
    assert len(result.rejected) == 1
    return result.rejected[0].reason


def assert_no_secret(text: str, *secrets: bytes) -> None:
    for secret in secrets:
        for form in (
            secret.hex(),
            secret.hex().upper(),
            base64.b32encode(secret).decode(),
            base64.b64encode(secret).decode(),
        ):
            assert form not in text
        if secret.isascii():
            assert secret.decode() not in text
