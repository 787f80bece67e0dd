"""The command line end to end on a demo data dir (demo-only keyring file): in this process on a
manual clock (tests/cli_run.py), and once as the installed `ipkiosk` in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core import otp
from tests.cli_run import Cli, demo_cli

IPKIOSK = Path(sys.executable).parent / "ipkiosk"  # the entry point pip installed next to python


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return demo_cli(tmp_path_factory.mktemp("cli") / "demo")


def test_the_installed_ipkiosk_builds_a_demo_and_reads_it(tmp_path: Path) -> None:
    """The one end-to-end run of the real command: entry point, process exit codes, pipes."""
    d = tmp_path / "demo"

    def ipkiosk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(IPKIOSK), "--data-dir", str(d), *args], input=stdin, capture_output=True, text=True, timeout=120
        )

    r = ipkiosk("demo", "--build-only")
    assert r.returncode == 0 and str(d) in r.stdout, r.stderr
    r = ipkiosk("--json", "tokens", "list")
    assert r.returncode == 0 and "DEMO-IT01" in {t["serial"] for t in json.loads(r.stdout)}
    r = ipkiosk("--json", "auth", "check", "it.admin", "--password-stdin", stdin="demo-password\n")
    assert r.returncode == 1 and json.loads(r.stdout)["diagnosis"] == "code_required"
    r = ipkiosk("tokens", "list", "--limit", "ten")
    assert r.returncode == 2 and "not a whole number" in r.stderr and "Traceback" not in r.stderr


def test_users_add_and_list(demo: Cli) -> None:
    rc, doc = demo.json(
        "users",
        "add",
        "dr.new",
        "--name",
        "Nguyen, Tam",
        "--npi",
        "1234567893",
        "--role",
        "provider",
        "--email",
        "tam@example.org",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert rc == 0 and doc == {
        "username": "dr.new",
        "role": "provider",
        "npi": "1234567893",
        "email": "tam@example.org",
        "dea_number": None,
        "dea_registrant": False,
    }
    rc, doc = demo.json(
        "users",
        "add",
        "dr.bad",
        "--name",
        "Bad, Npi",
        "--npi",
        "1234567890",
        "--role",
        "provider",
        "--email",
        "bad@example.org",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert rc == 2 and doc["error"] == "InvalidNPI" and doc["rule"] == "check_digit"
    rc, doc = demo.json("users", "list")
    assert "dr.new" in [u["username"] for u in doc]


def test_tokens_list_never_shows_seeds(demo: Cli) -> None:
    rc, doc = demo.json("tokens", "list")
    assert rc == 0 and {t["serial"] for t in doc} >= {"DEMO-0001", "DEMO-H001"}
    assert all(set(t) >= {"serial", "type", "state", "owner"} and "seed" not in json.dumps(t) for t in doc)


def test_import_assign_resync_and_auth_check(demo: Cli, tmp_path: Path) -> None:
    seed = bytes(range(1, 21))
    csv = tmp_path / "tokens.csv"
    csv.write_text(f"serial,key,type,digits,period_or_counter\nCLI-1,{seed.hex()},totp,6,30\nCLI-2,zz,totp,6,30\n")
    rc, doc = demo.json("tokens", "import", str(csv))
    assert rc == 0 and doc["added"] == ["CLI-1"] and len(doc["rejected"]) == 1
    demo(
        "users",
        "add",
        "dr.cli",
        "--name",
        "Line, Cli",
        "--npi",
        "1993999998",
        "--email",
        "cli@example.org",
        "--password-stdin",
        stdin="cli password 1\n",
        check=True,
    )
    demo("tokens", "assign", "CLI-1", "dr.cli", check=True)

    params = otp.OtpParams()
    now = otp.step_at(params, demo.clock.time())
    c1, c2 = (otp.code_at(params, seed, now + d) for d in (-1, 0))
    rc, doc = demo.json("tokens", "resync", "CLI-1", c1, c2)
    assert rc == 0 and doc["drift"] == 0

    rc, doc = demo.json("auth", "check", "dr.cli", "--password-stdin", stdin="cli password 1\n")
    assert rc == 1 and doc["diagnosis"] == "code_required"
    rc, doc = demo.json("auth", "check", "dr.cli", "--password-stdin", "--code", c2, stdin="cli password 1\n")
    assert rc == 1 and doc["diagnosis"] == "reused"
    c3 = otp.code_at(params, seed, now + 1)  # the next code is inside the +-1 step window
    rc, doc = demo.json("auth", "check", "dr.cli", "--password-stdin", "--code", c3, stdin="cli password 1\n")
    assert rc == 0 and doc["accepted"] is True


def test_revoke_backup_codes_and_audit(demo: Cli, tmp_path: Path) -> None:
    rc, doc = demo.json("tokens", "revoke", "DEMO-IT01", "--reason", "lost")
    assert rc == 0 and doc["state"] == "revoked"
    rc, doc = demo.json("backup-codes", "issue", "it.admin")
    codes = doc["codes"]
    rc, doc = demo.json("auth", "check", "it.admin", "--password-stdin", "--code", codes[0], stdin="demo-password\n")
    assert rc == 0 and doc["second_factor"] == "backup_code"
    rc, doc = demo.json("audit", "verify")
    assert rc == 0 and doc["intact"] is True
    out = tmp_path / "audit.csv"
    demo("audit", "export", "--since", "2000-01-01", "--csv", str(out), check=True)
    text = out.read_text()
    assert "revoke" in text and codes[0] not in text and "demo-password" not in text
    report = demo("audit", "report", "--since", "2000-01-01", check=True).stdout
    assert "factor changes" in report and "revoke" in report


def test_audit_verify_names_the_tampered_row(tmp_path: Path) -> None:
    cli = demo_cli(tmp_path / "demo")
    cli("users", "unlock", "dr.chen", check=True)
    with sqlite3.connect(cli.data_dir / "kiosk.sqlite3") as db:
        db.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 2")
    r = cli("audit", "verify")
    assert r.returncode == 1 and "row 2" in r.stdout


def test_token_sim_refuses_real_data(tmp_path: Path) -> None:
    d = tmp_path / "real"
    d.mkdir()
    (d / "config.toml").write_text('kiosk_id = "front-desk"\n')  # a real kiosk: no demo = true
    r = Cli(d)("token-sim", "X")
    assert r.returncode == 2 and "demo" in r.stderr
    # `demo = true` on a real kiosk (its seeds sealed by the system keyring) is not demo data.
    (d / "config.toml").write_text('kiosk_id = "front-desk"\ndemo = true\n')
    r = Cli(d)("token-sim", "X")
    assert r.returncode == 2 and "only on demo data" in r.stderr and "Traceback" not in r.stderr


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    d = tmp_path / "bad"
    d.mkdir()
    (d / "config.toml").write_text("idle_timeout = 'soon'\n")
    r = Cli(d)("tokens", "list")
    assert r.returncode == 2 and "idle_timeout" in r.stderr and "Traceback" not in r.stderr


def test_each_in_process_run_leaves_the_test_process_as_it_was(demo: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # A variable from the developer's shell would be a config error, were the run to see it.
    monkeypatch.setenv("IPKIOSK_IDLE_TIMEOUT", "soon")
    stdin = sys.stdin
    previous = os.umask(0o022)
    try:
        r = demo("auth", "check", "it.admin", "--password-stdin", stdin="demo-password\n")
        assert r.returncode == 1 and "code_required" in r.stdout
        assert os.umask(0o022) == 0o022  # restrict_umask's 0o077 did not outlive the run
    finally:
        os.umask(previous)
    assert sys.stdin is stdin and os.environ["IPKIOSK_IDLE_TIMEOUT"] == "soon"
