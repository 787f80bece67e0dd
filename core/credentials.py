"""The kiosk's service credentials, kept in the OS keyring under the service name `ipkiosk`.

Names in use: `seed-key` (AES key for token seeds), `audit-key` (HMAC key of the audit chain),
`cronto-issuer-key` (the enrollment-image signing key, where this kiosk issues images),
`region-N-api-key` (online regional directories), `db-password` (PostgreSQL).

There is no silent fallback: without a usable backend `CredentialStore.system()` raises
`CredentialStoreUnavailable` naming the fix. Only the demo and the tests choose a
`MemoryKeyring` or the demo-only file keyring, and they say so.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail
from keyring.backends.chainer import ChainerBackend

from core.errors import CredentialMissing, CredentialStoreUnavailable

SERVICE = "ipkiosk"

SEED_KEY = "seed-key"
AUDIT_KEY = "audit-key"
ISSUER_KEY = "cronto-issuer-key"
DB_PASSWORD = "db-password"  # noqa: S105 - a name, not a password


def region_api_key(region: int) -> str:
    return f"region-{region}-api-key"


KNOWN_NAMES: tuple[str, ...] = (
    SEED_KEY,
    AUDIT_KEY,
    ISSUER_KEY,
    DB_PASSWORD,
    "smtp-password",  # core.notifications.SMTP_PASSWORD
    *(region_api_key(r) for r in range(1, 6)),
)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives only in this process (tests, and the demo's last resort)."""

    priority = 0  # never chosen by keyring's own discovery

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


# Backends that would keep secrets in a readable file (keyrings.alt's file keyrings): never
# chosen for a real kiosk, even when keyring's own discovery would fall back to them.
_PLAINTEXT_MODULES = ("keyrings.alt.file",)


def _secure(backend: keyring.backend.KeyringBackend) -> bool:
    if isinstance(backend, fail.Keyring | MemoryKeyring):
        return False
    if type(backend).__module__.startswith(_PLAINTEXT_MODULES) or type(backend).__module__ == "keyring.backends.null":
        return False
    try:
        return float(backend.priority) > 0
    except Exception:
        return False


def _pick_secure(backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend | None:
    """The backend itself if secure; from a chain, its best secure member (the chain would
    otherwise fall through to a plaintext file on a read that misses)."""
    members = getattr(backend, "backends", None)
    if isinstance(backend, ChainerBackend) and members is not None:
        secure = [b for b in members if _secure(b)]
        return max(secure, key=lambda b: float(b.priority), default=None)
    return backend if _secure(backend) else None


class CredentialStore:
    def __init__(self, backend: keyring.backend.KeyringBackend, *, label: str | None = None) -> None:
        self.backend = backend
        self.label = label or f"{type(backend).__module__}.{type(backend).__name__}"

    @classmethod
    def system(cls) -> CredentialStore:
        """The OS keyring, or a clear error when none can be used."""
        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # keyring raises a variety of init errors
            raise CredentialStoreUnavailable(
                f"No usable keyring backend for the kiosk's credentials ({exc.__class__.__name__})."
            ) from None
        chosen = _pick_secure(backend)
        if chosen is None:
            raise CredentialStoreUnavailable(
                f"No secure keyring backend for the kiosk's credentials (found {type(backend).__name__})."
            )
        return cls(chosen)

    @property
    def is_demo_only(self) -> bool:
        return isinstance(self.backend, MemoryKeyring) or "PlaintextKeyring" in type(self.backend).__name__

    def get(self, name: str) -> str | None:
        try:
            return self.backend.get_password(SERVICE, name)
        except keyring.errors.KeyringError as exc:
            raise CredentialStoreUnavailable(
                f"The keyring ({self.label}) did not answer: {exc.__class__.__name__}."
            ) from None

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise CredentialMissing(f"The credential '{name}' is not set in the keyring ({self.label}).")
        return value

    def set(self, name: str, value: str) -> None:
        try:
            self.backend.set_password(SERVICE, name, value)
        except keyring.errors.KeyringError as exc:
            raise CredentialStoreUnavailable(
                f"Could not store '{name}' in the keyring ({self.label}): {exc.__class__.__name__}."
            ) from None

    def delete(self, name: str) -> bool:
        try:
            self.backend.delete_password(SERVICE, name)
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    def present(self, names: Iterable[str] = KNOWN_NAMES) -> dict[str, bool]:
        return {n: self.get(n) is not None for n in names}

    def key(self, name: str, *, create: bool = False, size: int = 32) -> bytes:
        """A random binary key kept base64 in the keyring; created on first use if asked."""
        value = self.get(name)
        if value is None:
            if not create:
                raise CredentialMissing(f"The key '{name}' is not in the keyring ({self.label}).")
            value = base64.b64encode(secrets.token_bytes(size)).decode("ascii")
            self.set(name, value)
        return base64.b64decode(value)
