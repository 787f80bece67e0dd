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
from typing import Any

import pytest

SESSION_ENV = ("HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")


def _cannot_start(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Secret Service needed under CI but unavailable: {reason}")
    pytest.skip(f"no Secret Service for keyring tests: {reason}")


def _wait_for_secret_service(backend: Any, deadline: float) -> str | None:
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
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            env=child_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert keyring_daemon.stdin is not None
        keyring_daemon.stdin.write(b"pw")  # the login keyring's password: a throwaway
        keyring_daemon.stdin.close()
        os.environ.update(env)
        from keyring.backends import SecretService

        problem = _wait_for_secret_service(SecretService.Keyring(), time.monotonic() + 15)
        if problem is not None:
            _cannot_start(f"gnome-keyring-daemon did not serve secrets ({problem})")
        yield env
    finally:
        if keyring_daemon is not None:
            keyring_daemon.terminate()
            try:
                keyring_daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                keyring_daemon.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(bus_pid, signal.SIGTERM)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def secret_service(secret_service_env: dict[str, str]) -> Any:
    """keyring's Secret Service backend, talking to the private gnome-keyring."""
    from keyring.backends import SecretService

    return SecretService.Keyring()


# -- PostgreSQL, started by the test run ---------------------------------------------------------
# A throwaway cluster in a temp dir on a free loopback port. As root (CI, Debian) the server runs
# as the `postgres` system user, since PostgreSQL refuses to run as root.


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    def unavailable(reason: str) -> None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL needed under CI but unavailable: {reason}")
        pytest.skip(f"no PostgreSQL for the shared-store tests: {reason}")

    bindir = _pg_bin()
    if bindir is None:
        unavailable("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")
    assert bindir is not None
    base = tmp_path_factory.mktemp("pg")
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            pg = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no 'postgres' user to run the server as")
        os.chown(base, pg.pw_uid, pg.pw_gid)
        os.chmod(base, 0o755)  # noqa: S103 - the server user must enter its own data dir
        for parent in base.parents:  # the server user must reach its data dir
            if str(parent).startswith(tempfile_root()):
                os.chmod(parent, os.stat(parent).st_mode | 0o755)  # noqa: S103
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)  # noqa: E731
    r = run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
    if r.returncode != 0:
        unavailable(f"initdb failed: {r.stderr.strip()[-300:]}")
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base} -c fsync=off"
    r = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "-t", "60", "start")
    if r.returncode != 0:
        unavailable(f"pg_ctl start failed: {r.stderr.strip()[-300:]}")
    try:
        r = run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "ipkiosk")
        if r.returncode != 0:
            unavailable(f"createdb failed: {r.stderr.strip()[-300:]}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/ipkiosk"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")


def tempfile_root() -> str:
    import tempfile

    return tempfile.gettempdir()
