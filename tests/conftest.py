"""Fixtures every test tier shares: a manual clock, a real SQLite store in a temp dir, an
in-process keyring, and the domain wired together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.credentials import CredentialStore, MemoryKeyring
from core.store import Store

# 2023-11-14T22:13:20Z, on a 30 s step boundary so tests can reason about steps.
T0 = 1_700_000_010.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    s = Store.at(data_dir)
    yield s
    s.dispose()


@pytest.fixture
def credentials() -> CredentialStore:
    return CredentialStore(MemoryKeyring(), label="in-memory keyring (tests)")
