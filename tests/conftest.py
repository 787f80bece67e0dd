"""Fixtures every test tier shares: a manual clock, a real SQLite store in a temp dir, an
in-process keyring, and the domain wired together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.credentials import CredentialStore, MemoryKeyring
from core.store import Store
from kiosk.config import allow_memory_keyring

# The in-process keyring is refused everywhere but in a test run, which says so here.
allow_memory_keyring()

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


# -- the domain wired together over real parts: SQLite store, SQLite regional shards built
# -- from an NPPES-format file, a real Ed25519 issuer. Only the keyring is in-process.

from dataclasses import dataclass  # noqa: E402
from datetime import date, timedelta  # noqa: E402

from core.cronto import CrontoIssuer, CrontoVerifier  # noqa: E402
from core.directory import RegionalDirectory, default_shard_paths, open_backends  # noqa: E402
from core.directory.importer import import_directory  # noqa: E402
from core.directory.nppes import NppesRecord, write_nppes_csv  # noqa: E402
from core.seedfiles import TokenSpec  # noqa: E402
from core.system import KioskSystem, Policy  # noqa: E402

PASSWORD = "correct horse battery"
TOKEN_SEED = bytes(range(20))
PEOPLE = {
    # username: (display name, NPI, practice state, in directory, deactivated)
    "ana": ("Rivera, Ana", "1234567893", "NY", True, False),
    "ben": ("Okafor, Ben", "1993999998", "TX", False, False),
    "li": ("Chen, Li", "1003000126", "OH", True, True),
    "raj": ("Patel, Raj", "1295723567", "CA", True, False),
}


@dataclass
class World:
    system: KioskSystem
    issuer: CrontoIssuer
    clock: ManualClock
    data_dir: Path

    def image(self, username: str, npi: str | None = None, **kw: object) -> str:
        npi = npi or PEOPLE[username][1]
        return self.issuer.make_token(username, npi, timedelta(days=30), self.clock, **kw)  # type: ignore[arg-type]

    def sign_in(self, username: str, code: str | None = None):  # type: ignore[no-untyped-def]
        return self.system.signin.sign_in(username, PASSWORD, code)


def build_world(
    data_dir: Path, clock: ManualClock, credentials: CredentialStore, *, stop_binding: bool = True
) -> World:
    records = [
        NppesRecord(
            npi,
            1,
            name.split(",")[0],
            name.split(",")[1].strip(),
            state=state,
            deactivation_date=date(2023, 1, 2) if deactivated else None,
        )
        for name, npi, state, present, deactivated in PEOPLE.values()
        if present
    ]
    nppes = data_dir / "nppes.csv"
    write_nppes_csv(nppes, records)
    shards = default_shard_paths(data_dir / "directory")
    import_directory(nppes, shards)
    directory = RegionalDirectory(open_backends({r: (p, None) for r, p in shards.items()}, lambda r: None), timeout=5.0)
    store = Store.at(data_dir)
    issuer = CrontoIssuer.generate("test-issuer")
    verifier = CrontoVerifier({"test-issuer": issuer.public_key_pem()}, clock, store)
    system = KioskSystem(
        store, credentials, clock, directory, verifier, Policy(stop_binding=stop_binding, kiosk_id="test")
    )
    with store.begin() as conn:
        for username, (name, npi, *_rest) in PEOPLE.items():
            system.accounts.add(conn, username, display_name=name, npi=npi, role="provider", password=PASSWORD)
        system.accounts.add(conn, "ivy", display_name="Admin, Ivy", npi=None, role="it_staff", password=PASSWORD)
    system.tokens.import_specs(
        [
            TokenSpec("T1", "totp", TOKEN_SEED),
            TokenSpec("T2", "totp", TOKEN_SEED[::-1]),
            TokenSpec("H1", "hotp", TOKEN_SEED),
        ]
    )
    return World(system, issuer, clock, data_dir)


@pytest.fixture
def world(data_dir: Path, clock: ManualClock, credentials: CredentialStore) -> Iterator[World]:
    w = build_world(data_dir, clock, credentials)
    yield w
    w.system.store.dispose()
