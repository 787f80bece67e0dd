"""`ipkiosk audit daily`, `audit reports` and `audit signoff` in subprocesses on a demo data dir."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.config import load_settings
from kiosk.services import build_services

PY = sys.executable
PASSWORD = "demo-password"


def ipk(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def jdoc(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, Any]:
    r = ipk(data_dir, "--json", *args, stdin=stdin)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout)


def test_daily_report_written_flagged_and_signed_off(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert ipk(demo, "demo", "--build-only").returncode == 0
    for _ in range(5):
        ipk(demo, "auth", "check", "dr.chen", "--password-stdin", stdin="wrong password\n")
    today = datetime.now(UTC).date().isoformat()
    rc, doc = jdoc(demo, "audit", "daily", "--date", today)
    if doc["day"] != today:  # the day turned over between the lines above
        rc, doc = jdoc(demo, "audit", "daily", "--date", datetime.now(UTC).date().isoformat())
    counts = doc["counts"]
    # The account's first failures are evaluated; the rest arrive inside its growing delay.
    assert rc == 1 and counts["failed_sign_in"] + counts["throttled_sign_in"] == 5 and doc["chain"]["intact"]
    assert "5 failed sign-ins for dr.chen" in doc["incidents"]
    assert Path(doc["html"]).parent == demo / "reports" and Path(doc["csv"]).is_file()
    rc, reports = jdoc(demo, "audit", "reports", "--unreviewed")
    assert [r["day"] for r in reports] == [doc["day"]]

    services = build_services(load_settings(demo))
    try:
        it_code = services.system.tokens.code_now("DEMO-IT01")[0]
    finally:
        services.close()
    rc, signed = jdoc(demo, "audit", "signoff", doc["day"], "--by", "it.admin", stdin=f"{PASSWORD}\n{it_code}\n")
    assert rc == 0 and signed["signed_off_by"] == "it.admin"
    rc, reports = jdoc(demo, "audit", "reports", "--unreviewed")
    assert reports == []


def test_bad_date_is_a_usage_message(tmp_path: Path) -> None:
    r = ipk(tmp_path, "audit", "daily", "--date", "yesterday")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr and "Traceback" not in r.stderr
