"""`ipkiosk audit daily`, `audit reports` and `audit signoff`, in-process on a manual clock, on a
demo data dir."""

from __future__ import annotations

from pathlib import Path

from core.clock import utcnow
from tests.cli_run import Cli, demo_cli

PASSWORD = "demo-password"


def test_daily_report_written_flagged_and_signed_off(tmp_path: Path) -> None:
    demo = demo_cli(tmp_path / "demo")
    for _ in range(5):
        demo("auth", "check", "dr.chen", "--password-stdin", stdin="wrong password\n")
    today = utcnow(demo.clock).date().isoformat()
    rc, doc = demo.json("audit", "daily", "--date", today)
    assert doc["day"] == today
    counts = doc["counts"]
    # The account's first failures are evaluated; the rest arrive inside its growing delay.
    assert rc == 1 and counts["failed_sign_in"] + counts["throttled_sign_in"] == 5 and doc["chain"]["intact"]
    assert "5 failed sign-ins for dr.chen" in doc["incidents"]
    assert Path(doc["html"]).parent == demo.data_dir / "reports" and Path(doc["csv"]).is_file()
    rc, reports = demo.json("audit", "reports", "--unreviewed")
    assert [r["day"] for r in reports] == [doc["day"]]

    it_code = demo.code("DEMO-IT01")
    rc, signed = demo.json("audit", "signoff", doc["day"], "--by", "it.admin", stdin=f"{PASSWORD}\n{it_code}\n")
    assert rc == 0 and signed["signed_off_by"] == "it.admin"
    rc, reports = demo.json("audit", "reports", "--unreviewed")
    assert reports == []


def test_bad_date_is_a_usage_message(tmp_path: Path) -> None:
    r = Cli(tmp_path)("audit", "daily", "--date", "yesterday")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr and "Traceback" not in r.stderr
