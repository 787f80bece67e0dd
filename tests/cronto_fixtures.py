"""The signed enrollment token's test parts: a fixed clock, a SQLite store of its own, an issuer
and its verifier (core.cronto's tests in test_cronto.py and test_cronto_claims.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.cronto import CrontoIssuer, CrontoVerifier
from core.store import Store

NPI = "1234567893"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_750_000_000.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.at(tmp_path)
    yield s
    s.dispose()


@pytest.fixture
def issuer() -> CrontoIssuer:
    return CrontoIssuer.generate("clinic-it")


@pytest.fixture
def verifier(issuer: CrontoIssuer, clock: ManualClock, store: Store) -> CrontoVerifier:
    return CrontoVerifier({issuer.name: issuer.public_key_pem()}, clock, store)
