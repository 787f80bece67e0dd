"""The kiosk never keeps its service credentials in a plaintext file by accident."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyrings.alt.file import PlaintextKeyring

from core.credentials import CredentialStore, MemoryKeyring
from core.errors import CredentialMissing, CredentialStoreUnavailable


def test_plaintext_file_keyring_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: PlaintextKeyring())
    with pytest.raises(CredentialStoreUnavailable) as err:
        CredentialStore.system()
    assert "README" in err.value.hint or "keyring" in err.value.hint


def test_chain_keeps_only_secure_members(monkeypatch: pytest.MonkeyPatch) -> None:
    class Vault(KeyringBackend):
        """Stands in for an OS vault: the real Secret Service is tested in integration."""

        priority = 5

        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            pass

        def delete_password(self, service: str, username: str) -> None:
            pass

    class Chain(ChainerBackend):
        # keyring's KeyringBackend.__init__ (which Vault and Chain inherit) is unannotated.
        backends = [PlaintextKeyring(), Vault()]  # type: ignore[no-untyped-call]  # noqa: RUF012

    monkeypatch.setattr(keyring, "get_keyring", lambda: Chain())  # type: ignore[no-untyped-call]
    chosen = CredentialStore.system().backend
    assert isinstance(chosen, Vault)


def test_memory_store_round_trip_and_missing_names() -> None:
    store = CredentialStore(MemoryKeyring(), label="memory")
    with pytest.raises(CredentialMissing, match="credentials set"):
        try:
            store.require("db-password")
        except CredentialMissing as exc:
            raise CredentialMissing(f"{exc.message} {exc.hint}") from None
    key = store.key("seed-key", create=True)
    assert len(key) == 32 and store.key("seed-key") == key
    assert store.present()["seed-key"] and not store.present()["db-password"]
    assert store.delete("seed-key") and not store.delete("seed-key")
