"""The command line end to end, in subprocesses, on a demo data dir (demo-only keyring file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core import otp

PY = sys.executable


def ipk(data_dir: Path, *args: str, stdin: str = "", check: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def jdoc(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, object]:
    r = ipk(data_dir, "--json", *args, stdin=stdin)
    return r.returncode, json.loads(r.stdout)


def code_of(data_dir: Path, serial: str) -> str:
    return ipk(data_dir, "token-sim", serial, "--once", check=True).stdout.strip()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli") / "demo"
    ipk(d, "demo", "--build-only", check=True)
    return d


def test_users_add_and_list(demo: Path) -> None:
    rc, doc = jdoc(
        demo,
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
    rc, doc = jdoc(
        demo,
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
    assert rc == 2 and doc["error"] == "InvalidNPI" and doc["rule"] == "check_digit"  # type: ignore[index]
    rc, doc = jdoc(demo, "users", "list")
    assert "dr.new" in [u["username"] for u in doc]  # type: ignore[attr-defined]


def test_tokens_list_never_shows_seeds(demo: Path) -> None:
    rc, doc = jdoc(demo, "tokens", "list")
    assert rc == 0 and {t["serial"] for t in doc} >= {"DEMO-0001", "DEMO-H001"}  # type: ignore[attr-defined]
    assert all(set(t) >= {"serial", "type", "state", "owner"} and "seed" not in json.dumps(t) for t in doc)  # type: ignore[attr-defined]


def test_import_assign_resync_and_auth_check(demo: Path, tmp_path: Path) -> None:
    seed = bytes(range(1, 21))
    csv = tmp_path / "tokens.csv"
    csv.write_text(f"serial,key,type,digits,period_or_counter\nCLI-1,{seed.hex()},totp,6,30\nCLI-2,zz,totp,6,30\n")
    rc, doc = jdoc(demo, "tokens", "import", str(csv))
    assert rc == 0 and doc["added"] == ["CLI-1"] and len(doc["rejected"]) == 1  # type: ignore[index]
    ipk(
        demo,
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
    ipk(demo, "tokens", "assign", "CLI-1", "dr.cli", check=True)

    import time

    params = otp.OtpParams()
    now = otp.step_at(params, time.time())
    c1, c2 = (otp.code_at(params, seed, now + d) for d in (-1, 0))
    rc, doc = jdoc(demo, "tokens", "resync", "CLI-1", c1, c2)
    # 0, or -1 if a 30 s step began while the subprocess started: the server time moved on.
    assert rc == 0 and doc["drift"] in (0, -1)  # type: ignore[index]

    rc, doc = jdoc(demo, "auth", "check", "dr.cli", "--password-stdin", stdin="cli password 1\n")
    assert rc == 1 and doc["diagnosis"] == "code_required"  # type: ignore[index]
    rc, doc = jdoc(demo, "auth", "check", "dr.cli", "--password-stdin", "--code", c2, stdin="cli password 1\n")
    assert rc == 1 and doc["diagnosis"] == "reused"  # type: ignore[index]
    c3 = otp.code_at(params, seed, now + 1)  # the next code is inside the +-1 step window
    rc, doc = jdoc(demo, "auth", "check", "dr.cli", "--password-stdin", "--code", c3, stdin="cli password 1\n")
    assert rc == 0 and doc["accepted"] is True  # type: ignore[index]


def test_revoke_backup_codes_and_audit(demo: Path, tmp_path: Path) -> None:
    rc, doc = jdoc(demo, "tokens", "revoke", "DEMO-IT01", "--reason", "lost")
    assert rc == 0 and doc["state"] == "revoked"  # type: ignore[index]
    rc, doc = jdoc(demo, "backup-codes", "issue", "it.admin")
    codes = doc["codes"]  # type: ignore[index]
    rc, doc = jdoc(demo, "auth", "check", "it.admin", "--password-stdin", "--code", codes[0], stdin="demo-password\n")
    assert rc == 0 and doc["second_factor"] == "backup_code"  # type: ignore[index]
    rc, doc = jdoc(demo, "audit", "verify")
    assert rc == 0 and doc["intact"] is True  # type: ignore[index]
    out = tmp_path / "audit.csv"
    ipk(demo, "audit", "export", "--since", "2000-01-01", "--csv", str(out), check=True)
    text = out.read_text()
    assert "revoke" in text and codes[0] not in text and "demo-password" not in text
    report = ipk(demo, "audit", "report", "--since", "2000-01-01", check=True).stdout
    assert "factor changes" in report and "revoke" in report


def test_audit_verify_names_the_tampered_row(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    ipk(d, "demo", "--build-only", check=True)
    ipk(d, "users", "unlock", "dr.chen", check=True)
    import sqlite3

    with sqlite3.connect(d / "kiosk.sqlite3") as db:
        db.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 2")
    r = ipk(d, "audit", "verify")
    assert r.returncode == 1 and "row 2" in r.stdout


def test_token_sim_refuses_real_data(tmp_path: Path) -> None:
    d = tmp_path / "real"
    d.mkdir()
    (d / "config.toml").write_text('kiosk_id = "front-desk"\n')  # a real kiosk: no demo = true
    r = ipk(d, "token-sim", "X")
    assert r.returncode == 2 and "demo" in r.stderr
    # `demo = true` on a real kiosk (its seeds sealed by the system keyring) is not demo data.
    (d / "config.toml").write_text('kiosk_id = "front-desk"\ndemo = true\n')
    r = ipk(d, "token-sim", "X")
    assert r.returncode == 2 and "only on demo data" in r.stderr and "Traceback" not in r.stderr


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    d = tmp_path / "bad"
    d.mkdir()
    (d / "config.toml").write_text("idle_timeout = 'soon'\n")
    r = ipk(d, "tokens", "list")
    assert r.returncode == 2 and "idle_timeout" in r.stderr and "Traceback" not in r.stderr
