"""Fixtures every test tier shares: a manual clock, a real store (each test that touches it runs
on SQLite in a temp dir and on PostgreSQL started by the test run), an in-process keyring, and
the domain wired together."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from argon2 import PasswordHasher

from core import hashing
from core.clock import ManualClock
from core.credentials import CredentialStore, MemoryKeyring
from core.store import Store, sqlite_url
from kiosk.config import allow_memory_keyring
from tests.pgserver import PostgresServer, PostgresUnavailable

# The in-process keyring is refused everywhere but in a test run, which says so here.
allow_memory_keyring()

# 2023-11-14T22:13:20Z, on a 30 s step boundary so tests can reason about steps.
T0 = 1_700_000_010.0

Found = TypeVar("Found")


def found(value: Found | None) -> Found:
    """What a lookup (an account, a token) returned for a name the test has just set up."""
    assert value is not None
    return value


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


# Test-only: argon2 at its floor so the suite hashes fast. Production parameters are untouched
# (tests/unit/test_hashing.py asserts them); subprocess tests run with the production hasher.
FAST_HASHER = hashing.SecretHasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(scope="session", autouse=True)
def fast_hashing() -> Iterator[hashing.SecretHasher]:
    # Session-wide and autouse, so it is in place before any other session fixture (the demo
    # data the UI tests copy is hashed with it too).
    previous = hashing.use(FAST_HASHER)
    yield FAST_HASHER
    hashing.use(previous)


# -- PostgreSQL: one cluster per test process (each xdist worker its own), one fresh database per
# -- test, cloned from a template that already holds the schema (about 30 ms).

PG_TEMPLATE = "ipkiosk_template"


def _unavailable(what: str, reason: str) -> None:
    # Under CI a missing server fails the run, so a broken image cannot pass by skipping.
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} needed under CI but unavailable: {reason}")
    pytest.skip(f"no {what}: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # Its own temp dir, not pytest's numbered basetemp: another pytest run on the machine prunes
    # old basetemps and must not delete a live cluster's files.
    base = Path(tempfile.mkdtemp(prefix="ipkiosk-pg-"))
    try:
        server = PostgresServer.start(base / "pg")
    except PostgresUnavailable as exc:
        shutil.rmtree(base, ignore_errors=True)
        _unavailable("PostgreSQL", str(exc))
        raise
    try:
        Store(server.create_database(PG_TEMPLATE)).dispose()  # the schema, made once
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def fresh_postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name, template=PG_TEMPLATE)
    yield url
    server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[str]:
    """Where the test's store lives: a SQLite file, then (second run) a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield sqlite_url(data_dir)
    else:
        yield from fresh_postgres_url(request)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
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
from core.signin import SignedIn  # noqa: E402
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

    def image(
        self, username: str, npi: str | None = None, *, jti: str | None = None, issued_at: float | None = None
    ) -> str:
        npi = npi or PEOPLE[username][1]
        return self.issuer.make_token(username, npi, timedelta(days=30), self.clock, jti=jti, issued_at=issued_at)

    def sign_in(self, username: str, code: str | None = None) -> SignedIn:
        return self.system.signin.sign_in(username, PASSWORD, code)


def build_world(
    data_dir: Path,
    clock: ManualClock,
    credentials: CredentialStore,
    *,
    stop_binding: bool = True,
    store_url: str | None = None,
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
    store = Store(store_url) if store_url else Store.at(data_dir)
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
def world(data_dir: Path, clock: ManualClock, credentials: CredentialStore, store_url: str) -> Iterator[World]:
    w = build_world(data_dir, clock, credentials, store_url=store_url)
    yield w
    w.system.store.dispose()
