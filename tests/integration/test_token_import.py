"""Token import is one transaction with its audit row (issue 9): a process killed -9 in the
middle of `ipkiosk tokens import` leaves both the tokens and the audit row, or neither."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.store import audit, tokens
from kiosk.config import load_settings
from kiosk.services import build_services

PY = sys.executable
ROWS = 10_000

# Runs the real CLI; with "at-audit" it dies by SIGKILL the moment the import's audit row is
# written, which is the instant the old code had already committed the tokens without it.
KILLABLE = """
import os, signal, sys
from core.audit import AuditTrail
if sys.argv[1] == "at-audit":
    for name in ("record", "log"):
        original = getattr(AuditTrail, name)
        def dying(self, *args, _original=original, _name=name, **kw):
            if (args[1] if _name == "record" else args[0]) == "tokens_import":
                os.kill(os.getpid(), signal.SIGKILL)
            return _original(self, *args, **kw)
        setattr(AuditTrail, name, dying)
from kiosk.cli import main
sys.exit(main(sys.argv[2:]))
"""


def ipk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tokimport") / "demo"
    r = ipk(d, "demo", "--build-only")
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    subprocess.run(["cp", "-a", str(demo_template), str(target)], check=True)
    return target


@pytest.fixture
def seed_csv(tmp_path: Path) -> Path:
    path = tmp_path / "batch.csv"
    seed = bytes(range(1, 21)).hex()
    path.write_text("".join(f"KILL-{i:05d},{seed},totp,6,30\n" for i in range(ROWS)))
    return path


def counts(data_dir: Path) -> tuple[int, int]:
    """(imported tokens, tokens_import audit rows) as the store has them after the kill."""
    services = build_services(load_settings(data_dir))
    try:
        with services.store.connect() as conn:
            added = conn.execute(select(func.count()).where(tokens.c.serial.like("KILL-%"))).scalar_one()
            audited = conn.execute(
                select(func.count()).select_from(audit).where(audit.c.event == "tokens_import")
            ).scalar_one()
    finally:
        services.close()
    return int(added), int(audited)


def start(data_dir: Path, seed_csv: Path, mode: str) -> subprocess.Popen[str]:
    args = ["--data-dir", str(data_dir), "tokens", "import", str(seed_csv)]
    return subprocess.Popen(
        [PY, "-c", KILLABLE, mode, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_killed_as_the_audit_row_is_written_leaves_neither(demo: Path, seed_csv: Path) -> None:
    child = start(demo, seed_csv, "at-audit")
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    assert counts(demo) == (0, 0)
    # The same file then imports whole, with its row.
    r = ipk(demo, "tokens", "import", str(seed_csv))
    assert r.returncode == 0, r.stderr
    assert counts(demo) == (ROWS, 1)


@pytest.mark.parametrize("after", [0.5, 0.8, 1.1, 1.4, 1.8])
def test_killed_at_any_moment_leaves_both_or_neither(demo: Path, seed_csv: Path, after: float) -> None:
    child = start(demo, seed_csv, "plain")
    time.sleep(after)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=120)
    assert counts(demo) in ((0, 0), (ROWS, 1))


def test_the_audit_row_names_the_file_in_printable_words(demo: Path, tmp_path: Path) -> None:
    seed = bytes(range(1, 21)).hex()
    odd = tmp_path / "batch 7\x1b[2J\nforged=1.csv"
    odd.write_text(f"ODD-1,{seed},totp,6,30\n")
    assert ipk(demo, "tokens", "import", str(odd)).returncode == 0
    services = build_services(load_settings(demo))
    try:
        [row] = [r for r in services.system.audit.rows(event="tokens_import")]
    finally:
        services.close()
    assert row.detail == "file=batch_7_[2J_forged=1.csv added=1 duplicates=0 rejected=0"


@pytest.mark.parametrize("sep", [";", " ", "\t"])
def test_a_row_with_the_wrong_delimiter_never_shows_its_seed(demo: Path, tmp_path: Path, sep: str) -> None:
    import base64

    seed = bytes(range(50, 70))
    b32 = base64.b32encode(seed).decode()
    path = tmp_path / "batch.csv"
    path.write_text(f"GOOD-1,{seed.hex()},totp,6,30\nT-2{sep}{b32},totp,6,30\nT-3{sep}{b32}{sep}totp{sep}6{sep}30\n")
    for json_flag in ((), ("--json",)):
        done = ipk(demo, *json_flag, "tokens", "import", str(path))
        shown = done.stdout + done.stderr
        assert "line 2" in shown and "line 3" in shown
        assert b32 not in shown and b32[:16] not in shown and seed.hex() not in shown
