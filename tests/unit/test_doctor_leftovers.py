"""`ipkiosk doctor` reports the work files a killed directory import leaves beside its shards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kiosk.config import load_settings
from kiosk.doctor import Doctor


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid  # reaped: no process has this id until it is reused


def test_a_killed_imports_work_files_are_reported_and_a_running_ones_are_not(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    directory = tmp_path / "directory"
    directory.mkdir()
    dead = directory / f"region-2.sqlite3.importing-{_dead_pid()}"
    dead.write_bytes(b"x")
    (directory / f"{dead.name}-journal").write_bytes(b"x")
    (directory / f"region-3.sqlite3.importing-{os.getpid()}").write_bytes(b"x")  # a live import's
    check = Doctor(settings).leftover_imports()
    assert not check.ok and str(dead) in check.detail and "2 file(s)" in check.detail
    assert "importing-" + str(os.getpid()) not in check.detail and "rm " in check.fix


def test_no_work_files_is_ok(tmp_path: Path) -> None:
    assert Doctor(load_settings(tmp_path)).leftover_imports().ok
