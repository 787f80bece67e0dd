"""CredentialStore and `ipkiosk credentials` against a real Secret Service (gnome-keyring on a
private D-Bus session, see conftest.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.credentials import KNOWN_NAMES, SERVICE, CredentialStore, region_api_key
from core.errors import CredentialMissing, CredentialStoreUnavailable

pytestmark = pytest.mark.keyring
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(secret_service: Any) -> CredentialStore:
    s = CredentialStore(secret_service)
    for name in KNOWN_NAMES:
        s.delete(name)
    return s


def test_set_get_delete_round_trip(store: CredentialStore, secret_service: Any) -> None:
    store.set("audit-key", "value-1")
    assert store.get("audit-key") == "value-1"
    # It is really in the Secret Service, under the kiosk's service name.
    assert secret_service.get_password(SERVICE, "audit-key") == "value-1"
    store.set("audit-key", "value-2")
    assert store.require("audit-key") == "value-2"
    assert store.delete("audit-key") is True
    assert store.get("audit-key") is None
    assert store.delete("audit-key") is False
    with pytest.raises(CredentialMissing, match="audit-key"):
        store.require("audit-key")


def test_present_lists_names_never_values(store: CredentialStore) -> None:
    store.set(region_api_key(2), "k2")
    present = store.present()
    assert present[region_api_key(2)] is True
    assert present["seed-key"] is False
    assert set(present) == set(KNOWN_NAMES)
    assert "k2" not in json.dumps(present)


def test_key_is_created_once_and_kept(store: CredentialStore, secret_service: Any) -> None:
    with pytest.raises(CredentialMissing):
        store.key("seed-key")
    first = store.key("seed-key", create=True)
    assert len(first) == 32
    again = CredentialStore(type(secret_service)()).key("seed-key", create=True)
    assert again == first  # a second process/backend sees the same key
    assert base64.b64decode(secret_service.get_password(SERVICE, "seed-key")) == first


def test_not_demo_only(store: CredentialStore) -> None:
    assert not store.is_demo_only
    assert "SecretService" in store.label


def ipk(env: dict[str, str], data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )


def test_cli_set_check_delete(secret_service_env: dict[str, str], secret_service: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    name = region_api_key(3)
    secret_service.set_password(SERVICE, name, "stale")
    done = ipk(secret_service_env, data, "credentials", "set", name, "--stdin", stdin="s3cr3t-key\n")
    assert done.returncode == 0, done.stderr
    assert "s3cr3t-key" not in done.stdout + done.stderr
    assert secret_service.get_password(SERVICE, name) == "s3cr3t-key"

    check = ipk(secret_service_env, data, "credentials", "check", "--json")
    assert check.returncode == 0, check.stderr
    doc = json.loads(check.stdout)
    assert doc["credentials"][name] is True
    assert doc["demo_only"] is False
    assert doc["held_by"][name] == ["keyring.backends.SecretService.Keyring"]
    assert "s3cr3t-key" not in check.stdout

    text = ipk(secret_service_env, data, "credentials", "check")
    assert f"set      {name}  (keyring.backends.SecretService.Keyring)" in text.stdout

    gone = ipk(secret_service_env, data, "credentials", "delete", name)
    assert gone.returncode == 0 and secret_service.get_password(SERVICE, name) is None
    assert ipk(secret_service_env, data, "credentials", "delete", name).returncode == 1


def test_cli_refuses_unknown_names_empty_values_and_no_terminal(
    secret_service_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    unknown = ipk(secret_service_env, data, "credentials", "set", "region-9-api-key", "--stdin", stdin="x\n")
    assert unknown.returncode == 2 and "known names" in unknown.stderr
    empty = ipk(secret_service_env, data, "credentials", "set", "audit-key", "--stdin", stdin="\n")
    assert empty.returncode == 2 and "Empty value" in empty.stderr
    # Without --stdin it prompts on a terminal; with none it says how to script it.
    piped = ipk(secret_service_env, data, "credentials", "set", "audit-key", stdin="x\n")
    assert piped.returncode == 2 and "--stdin" in piped.stderr


def test_no_secret_service_is_a_clear_error_not_a_plaintext_fallback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus",
    }
    result = ipk(env, tmp_path / "data", "credentials", "check")
    assert result.returncode == 2
    assert "keyring" in result.stderr.lower()
    assert not list(home.rglob("keyring_pass.cfg"))


def test_system_store_writes_to_the_secret_service(secret_service_env: dict[str, str], secret_service: Any) -> None:
    probe = (
        "from core.credentials import CredentialStore; s = CredentialStore.system(); s.set('db-password', 'via-system')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **secret_service_env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert secret_service.get_password(SERVICE, "db-password") == "via-system"
    secret_service.delete_password(SERVICE, "db-password")


def test_store_error_names_the_fix() -> None:
    assert "ipkiosk demo" in CredentialStoreUnavailable("x").hint
