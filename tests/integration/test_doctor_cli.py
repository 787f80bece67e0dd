"""`ipkiosk doctor --json` on a demo data dir: each check says what it found and the fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.smtp_server import free_port

PY = sys.executable


def doctor(data_dir: Path) -> tuple[int, dict[str, Any]]:
    r = subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), "--json", "doctor"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in r.stderr, r.stderr
    doc = json.loads(r.stdout)
    return r.returncode, {c["check"]: c for c in doc["checks"]}


def test_doctor_names_each_problem_and_its_fix(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert subprocess.run([PY, "-m", "kiosk.cli", "--data-dir", str(demo), "demo", "--build-only"]).returncode == 0
    config = demo / "config.toml"
    config.write_text(f'camera = "{demo / "cronto" / "dr.rivera.png"}"\n' + config.read_text())  # before the tables
    subprocess.run(["chmod", "-R", "go-rwx", str(demo)], check=True)
    rc, checks = doctor(demo)
    for name in ("keyring", "store", "region-1", "region-5", "camera", "smtp", "permissions"):
        assert checks[name]["ok"], checks[name]
    assert "schema 2" in checks["store"]["detail"] and "clock" in checks
    assert rc == (0 if checks["clock"]["ok"] else 1)

    (demo / "config.toml").chmod(0o644)
    (demo / "directory" / "region-3.sqlite3").unlink()
    with (demo / "config.toml").open("a") as f:
        f.write(f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nfrom = "kiosk@clinic.example"\n')
    rc, checks = doctor(demo)
    assert rc == 1
    assert not checks["permissions"]["ok"] and "chmod" in checks["permissions"]["fix"]
    assert not checks["region-3"]["ok"] and "directory import" in checks["region-3"]["fix"]
    assert not checks["smtp"]["ok"] and "does not answer" in checks["smtp"]["detail"]
    assert checks["region-2"]["ok"]
