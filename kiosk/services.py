"""Build the domain (core.system.KioskSystem) and its adapters from Settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.clock import Clock, SystemClock
from core.credentials import DB_PASSWORD, ISSUER_KEY, CredentialStore, MemoryKeyring, region_api_key
from core.errors import ConfigError
from core.store import Store, sqlite_url
from core.system import KioskSystem, Policy
from kiosk.config import Settings, memory_keyring_allowed
from kiosk.files import private_dir, restrict_umask

if TYPE_CHECKING:
    from core.directory import RegionalDirectory

DEMO_KEYRING_FILE = "demo-only-keyring.cfg"


def open_credentials(settings: Settings) -> CredentialStore:
    """The OS keyring; the demo may use a clearly named plaintext file in its own data dir."""
    if settings.keyring == "memory":
        # Settings refuse it already; this catches settings changed after they were read.
        if not memory_keyring_allowed():
            raise ConfigError(
                "Bad setting 'keyring': 'memory' is for the test suite only; use 'system'.",
            )
        return CredentialStore(MemoryKeyring(), label="in-memory keyring (demo/tests only)")
    if settings.keyring == "demo-file":
        if not settings.demo:
            raise ConfigError("The demo-only keyring file may only be used by `ipkiosk demo`.")
        from keyrings.alt.file import PlaintextKeyring

        backend = PlaintextKeyring()
        backend.file_path = str(settings.data_dir / DEMO_KEYRING_FILE)  # type: ignore[misc,unused-ignore]
        return CredentialStore(backend, label=f"DEMO-ONLY plaintext keyring file {backend.file_path}")
    return CredentialStore.system()


def open_store(settings: Settings, credentials: CredentialStore | None) -> Store:
    private_dir(settings.data_dir)
    if settings.database_url is None:
        return Store(sqlite_url(settings.data_dir))
    password = credentials.get(DB_PASSWORD) if credentials is not None else None
    return Store(settings.database_url, password=password)


def issuer_keys(settings: Settings, credentials: CredentialStore) -> dict[str, bytes]:
    """Trusted enrollment-image issuers: the configured ones, plus this kiosk's own."""
    from core.cronto import CrontoIssuer

    keys = {name: pem.encode("ascii") for name, pem in settings.issuers.items()}
    own = credentials.get(ISSUER_KEY)
    if own:
        keys.setdefault(settings.issuer_name, CrontoIssuer(settings.issuer_name, own.encode("ascii")).public_key_pem())
    return keys


def open_directory(settings: Settings, credentials: Callable[[], CredentialStore]) -> RegionalDirectory:
    """Regions 1-5 as configured. `credentials` is called only when an online region needs its
    API key, so a purely local directory works without a keyring (e.g. `directory verify`)."""
    from core.directory import RegionalDirectory, open_backends

    sources = {}
    for region in range(1, 6):
        src = settings.region_source(region)
        sources[region] = (src.path, src.url)
    opened: list[CredentialStore] = []

    def api_key_for(region: int) -> str | None:
        if not opened:
            opened.append(credentials())
        return opened[0].get(region_api_key(region))

    backends = open_backends(sources, api_key_for, timeout=settings.region_timeout)
    return RegionalDirectory(backends, timeout=settings.region_timeout)


@dataclass
class Services:
    settings: Settings
    credentials: CredentialStore
    store: Store
    clock: Clock
    system: KioskSystem

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def close(self) -> None:
        self.store.dispose()


def build_services(
    settings: Settings, *, clock: Clock | None = None, credentials: CredentialStore | None = None
) -> Services:
    from core.cronto import CrontoVerifier

    restrict_umask()
    clock = clock or SystemClock()
    credentials = credentials or open_credentials(settings)
    store = open_store(settings, credentials)
    directory = open_directory(settings, lambda: credentials)
    cronto = CrontoVerifier(issuer_keys(settings, credentials), clock, store)
    policy = Policy(
        stop_binding=settings.stop_binding, kiosk_id=settings.kiosk_id, epcs_require_fips=settings.epcs_require_fips
    )
    system = KioskSystem(store, credentials, clock, directory, cronto, policy)
    return Services(settings, credentials, store, clock, system)
