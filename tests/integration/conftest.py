"""Integration fixtures: a private Secret Service (dbus-daemon + gnome-keyring) for keyring tests.

Where it cannot start (a laptop without gnome-keyring) the tests that need it skip with the
reason; under CI (`CI=true`) they fail instead, so a broken CI image cannot pass by skipping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

SESSION_ENV = ("HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")


def _cannot_start(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Secret Service needed under CI but unavailable: {reason}")
    pytest.skip(f"no Secret Service for keyring tests: {reason}")


def _secret_service() -> KeyringBackend:
    """A client of the session bus's Secret Service (keyring's backend for it)."""
    from keyring.backends import SecretService

    # keyring's KeyringBackend.__init__, which this backend keeps, is unannotated.
    return SecretService.Keyring()  # type: ignore[no-untyped-call]


def _wait_for_secret_service(backend: KeyringBackend, deadline: float) -> str | None:
    """None once the service answers a lookup; else the last error seen."""
    problem = "did not answer"
    while time.monotonic() < deadline:
        try:
            backend.get_password("ipkiosk-probe", "probe")
            return None
        except Exception as exc:  # not up yet: D-Bus name not owned, collection locked, ...
            problem = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
    return problem


def _start_keyring_daemon(env: dict[str, str]) -> subprocess.Popen[bytes]:
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert daemon.stdin is not None
    daemon.stdin.write(b"pw")  # the login keyring's password: a throwaway
    daemon.stdin.close()
    return daemon


def _stop(daemon: subprocess.Popen[bytes]) -> None:
    daemon.terminate()
    try:
        daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        daemon.kill()


@pytest.fixture(scope="session")
def secret_service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private session bus and an unlocked gnome-keyring on it; yields the environment a
    subprocess needs to reach them (also applied to this process for the session)."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            _cannot_start(f"{tool} is not installed (Debian: apt-get install dbus gnome-keyring)")
    home = tmp_path_factory.mktemp("keyring-home")
    env = {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    for key in SESSION_ENV:
        Path(env[key]).mkdir(mode=0o700, exist_ok=True)
    child_env = {**os.environ, **env}
    child_env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    try:
        bus = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        _cannot_start(f"dbus-daemon did not start ({exc})")
    address, pid_text = bus.stdout.split()[:2]
    bus_pid = int(pid_text)
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    child_env["DBUS_SESSION_BUS_ADDRESS"] = address
    keyring_daemon: subprocess.Popen[bytes] | None = None
    saved = {k: os.environ.get(k) for k in (*SESSION_ENV, "DBUS_SESSION_BUS_ADDRESS")}
    try:
        os.environ.update(env)
        problem: str | None = "not started"
        keyrings = Path(env["XDG_DATA_HOME"]) / "keyrings"
        # The daemon serves the bus before it has made the login collection from the password
        # on stdin; a client that asks first makes it try to create one with a prompt, which
        # nobody answers ("Prompt dismissed"), for good. So no client asks before the login
        # keyring is on disk, and a daemon that got into that state is started again afresh.
        for _attempt in range(3):
            shutil.rmtree(keyrings, ignore_errors=True)
            keyring_daemon = _start_keyring_daemon(child_env)
            made = time.monotonic() + 15
            while not (keyrings / "login.keyring").exists() and time.monotonic() < made:
                time.sleep(0.05)
            problem = _wait_for_secret_service(_secret_service(), time.monotonic() + 15)
            if problem is None:
                break
            _stop(keyring_daemon)
            keyring_daemon = None
        if problem is not None:
            _cannot_start(f"gnome-keyring-daemon did not serve secrets ({problem})")
        yield env
    finally:
        if keyring_daemon is not None:
            _stop(keyring_daemon)
        with contextlib.suppress(ProcessLookupError):
            os.kill(bus_pid, signal.SIGTERM)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def secret_service(secret_service_env: dict[str, str]) -> KeyringBackend:
    """keyring's Secret Service backend, talking to the private gnome-keyring."""
    return _secret_service()


# -- PostgreSQL: the server is tests/conftest.py's session fixture (one per test process).


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on the test run's PostgreSQL server, schema included."""
    from tests.conftest import fresh_postgres_url

    yield from fresh_postgres_url(request)
