"""A throwaway PostgreSQL cluster in a temp dir on a free loopback port, for tests and bench/.

No pytest here: bench/fleet.py starts one too. As root (CI, Debian) the server runs as the
`postgres` system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(Exception):
    """The server cannot be started here; the text says why and what to install."""


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One cluster; `template` is a database tests clone (CREATE DATABASE ... TEMPLATE) so a
    fresh database with the kiosk's schema costs a file copy, not a migration."""

    def __init__(self, base: Path, bindir: Path, port: int, as_user: list[str]) -> None:
        self.base = base
        self.bindir = bindir
        self.port = port
        self._as_user = as_user
        self._admin: object | None = None

    @classmethod
    def start(cls, base: Path) -> PostgresServer:
        bindir = _pg_bin()
        if bindir is None:
            raise PostgresUnavailable("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")
        base.mkdir(parents=True, exist_ok=True)
        as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            try:
                pg = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user to run the server as"
                ) from None
            os.chown(base, pg.pw_uid, pg.pw_gid)
            os.chmod(base, 0o755)  # noqa: S103 - the server user must enter its own data dir
            root = tempfile.gettempdir()
            for parent in base.parents:  # the server user must reach its data dir
                if str(parent).startswith(root):
                    os.chmod(parent, os.stat(parent).st_mode | 0o755)  # noqa: S103
            as_user = ["runuser", "-u", "postgres", "--"]
        server = cls(base, bindir, _free_port(), as_user)
        data = base / "data"
        r = server._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        if r.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {r.stderr.strip()[-300:]}")
        # Durability is not under test; max_connections covers 50 kiosk processes at once.
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -c unix_socket_directories={base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        r = server._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "-t", "60", "start")
        if r.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl start failed: {r.stderr.strip()[-300:]}")
        return server

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*self._as_user, str(self.bindir / tool), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(sql)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database (a copy of `template` when given); returns its URL."""
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        self._execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
