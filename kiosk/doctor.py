"""`ipkiosk doctor`: check a kiosk's setup and say what to fix.

Each check is independent and reports ok, what it found and the fix; one that cannot even run
(no keyring, store down) fails with that reason and the others still run.
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import sqlite3
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from core.credentials import AUDIT_KEY, SEED_KEY, CredentialStore, region_api_key
from core.errors import KioskError
from core.notifications import SMTP_PASSWORD
from kiosk.config import Settings
from kiosk.mail import demo_outbox_dir

SHARD_MAX_AGE_DAYS = 45  # NPPES publishes monthly; a shard older than this misses deactivations
_BUILD = re.compile(r"\.importing-(\d+)")  # a directory import's work file: SHARD.importing-PID


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


class Doctor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._credentials: CredentialStore | None = None

    def run(self) -> list[Check]:
        checks: list[tuple[str, Callable[[], Check]]] = [
            ("keyring", self.keyring),
            ("store", self.store),
            *[(f"region-{r}", partial(self.region, r)) for r in range(1, 6)],
            ("camera", self.camera),
            ("smtp", self.smtp),
            ("clock", self.clock),
            ("permissions", self.permissions),
            ("leftover-imports", self.leftover_imports),
        ]
        results = []
        for name, check in checks:
            try:
                results.append(check())
            except KioskError as exc:
                results.append(Check(name, False, exc.message, exc.hint))
        return results

    def _keyring(self) -> CredentialStore:
        if self._credentials is None:
            from kiosk.services import open_credentials

            self._credentials = open_credentials(self.settings)
        return self._credentials

    def keyring(self) -> Check:
        try:
            creds = self._keyring()
        except KioskError as exc:
            return Check("keyring", False, exc.message, exc.hint)
        missing = [name for name in (SEED_KEY, AUDIT_KEY) if not creds.get(name)]
        if missing:
            return Check(
                "keyring",
                False,
                f"{creds.label}: {', '.join(missing)} missing",
                "Restore the keys from the kiosk's key backup; without them seeds and the audit chain cannot be read.",
            )
        return Check("keyring", True, f"{creds.label}: {SEED_KEY} and {AUDIT_KEY} present")

    def store(self) -> Check:
        from sqlalchemy import func, select

        from core.store import SCHEMA_VERSION, schema_version
        from kiosk.services import open_store

        creds = self._keyring() if self.settings.database_url else None
        store = open_store(self.settings, creds)
        try:
            with store.connect() as conn:
                version = conn.execute(select(func.max(schema_version.c.version))).scalar_one()
        finally:
            store.dispose()
        if version != SCHEMA_VERSION:
            return Check("store", False, f"schema {version}, this kiosk knows {SCHEMA_VERSION}", "Upgrade this kiosk.")
        return Check("store", True, f"reachable, schema {version}")

    def region(self, region: int) -> Check:
        name = f"region-{region}"
        src = self.settings.region_source(region)
        if src.url:
            key = self._keyring().get(region_api_key(region))
            if not key:
                return Check(
                    name,
                    False,
                    f"online at {src.url}, no API key",
                    f"`ipkiosk credentials set {region_api_key(region)}`",
                )
            return Check(name, True, f"online at {src.url}, API key present")
        assert src.path is not None
        if not src.path.is_file():
            return Check(name, False, f"no shard at {src.path}", "Import the NPPES file: `ipkiosk directory import`.")
        try:
            with sqlite3.connect(f"file:{src.path}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'imported_at'").fetchone()
        except sqlite3.Error as exc:
            return Check(name, False, f"shard {src.path} unreadable ({exc})", "Import the NPPES file again.")
        if row is None:
            return Check(name, False, f"shard {src.path} has no import date", "Import the NPPES file again.")
        imported = datetime.fromisoformat(row[0])
        age = (datetime.now(UTC) - imported).days
        if age > SHARD_MAX_AGE_DAYS:
            return Check(
                name,
                False,
                f"shard imported {age} days ago",
                "Import this month's NPPES file: deactivated NPIs are missing.",
            )
        return Check(name, True, f"shard imported {age} days ago")

    def camera(self) -> Check:
        cam = self.settings.camera
        device = Path(f"/dev/video{cam}") if cam.isdigit() else Path(cam)
        if not device.exists():
            return Check(
                "camera",
                False,
                f"{device} not found",
                "Plug in the webcam or set `camera` in config.toml to a device index or file.",
            )
        return Check("camera", True, str(device))

    def smtp(self) -> Check:
        smtp = self.settings.smtp
        if smtp is None:
            if self.settings.demo:
                return Check("smtp", True, f"demo: notifications written to {demo_outbox_dir(self.settings.data_dir)}")
            return Check(
                "smtp",
                False,
                "no [smtp] section: binding notifications are not delivered",
                "Add [smtp] host, port, from, starttls to config.toml.",
            )
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=min(smtp.timeout, 5.0)) as conn:
                code, _ = conn.noop()
        except (OSError, smtplib.SMTPException) as exc:
            return Check(
                "smtp",
                False,
                f"{smtp.host}:{smtp.port} does not answer ({type(exc).__name__})",
                "Check the host, port and firewall; messages wait in the outbox meanwhile.",
            )
        if smtp.username and not self._keyring().get(SMTP_PASSWORD):
            return Check(
                "smtp",
                False,
                f"{smtp.host}:{smtp.port} answers; no {SMTP_PASSWORD} in the keyring",
                f"`ipkiosk credentials set {SMTP_PASSWORD}`",
            )
        return Check("smtp", code == 250, f"{smtp.host}:{smtp.port} answers ({code})")

    def clock(self) -> Check:
        fix = "Enable time synchronization (`timedatectl set-ntp true`); TOTP codes depend on the clock."
        tool = shutil.which("timedatectl")
        if tool is None:
            return Check("clock", False, "timedatectl not found: cannot tell whether the clock is synchronized", fix)
        try:
            r = subprocess.run(
                [tool, "show", "-p", "NTPSynchronized", "--value"], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return Check("clock", False, f"timedatectl failed ({type(exc).__name__})", fix)
        if r.returncode != 0:
            return Check("clock", False, f"timedatectl: {' '.join(r.stderr.split())[:200] or 'failed'}", fix)
        if r.stdout.strip() != "yes":
            return Check("clock", False, "the system clock is not synchronized", fix)
        return Check("clock", True, "synchronized (NTP)")

    def permissions(self) -> Check:
        data = self.settings.data_dir
        paths = [data, data / "config.toml", data / "kiosk.sqlite3", data / "reports", data / "cronto"]
        loose = []
        for path in paths:
            if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
                loose.append(f"{path} ({stat.S_IMODE(path.stat().st_mode):o})")
        if loose:
            return Check("permissions", False, "readable by others: " + ", ".join(loose), f"chmod -R go-rwx {data}")
        return Check("permissions", True, f"{data} readable by the kiosk's user only")

    def leftover_imports(self) -> Check:
        """Work files of a directory import that was killed: a shard's size each, until the
        next import removes them. Those of a live process are a running import's own."""
        shards = [p for r in range(1, 6) if (p := self.settings.region_source(r).path) is not None]
        stale = sorted(
            str(work)
            for shard in shards
            for work in shard.parent.glob(f"{shard.name}.importing-*")
            if not _alive(work.name[len(shard.name) :])
        )
        if stale:
            return Check(
                "leftover-imports",
                False,
                f"{len(stale)} file(s) left by a directory import that did not finish: " + ", ".join(stale[:5]),
                "The next `ipkiosk directory import` removes them; or delete them now: rm " + " ".join(stale[:5]),
            )
        return Check("leftover-imports", True, "no files left by an unfinished directory import")


def _alive(suffix: str) -> bool:
    match = _BUILD.match(suffix)
    if match is None:
        return False
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # another user's process: not ours to judge
        return True
    return True
