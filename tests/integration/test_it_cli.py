"""The IT staff command line end to end, in-process on a manual clock, on a demo data dir: seed file import
(RFC 6030 containers), unlock, revoke, replace, backup codes, and the audit export and review."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from core.enrollment import Enrollment
from core.store import accounts
from kiosk.services import Services
from tests.cli_run import Cli, demo_cli

PSKC = Path(__file__).resolve().parents[1] / "data" / "pskc"
RFC_PSK_HEX = "12345678901234567890123456789012"
PASSWORD = "demo-password"
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode() for i in range(1, 10)
    )
    + b']>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
    b"<KeyPackage><DeviceInfo><SerialNo>&lol9;</SerialNo></DeviceInfo></KeyPackage></KeyContainer>\n"
)


def figure(n: int) -> str:
    return str(PSKC / f"rfc6030-figure{n}.pskcxml")


@pytest.fixture
def demo(tmp_path: Path) -> Cli:
    return demo_cli(tmp_path / "demo")


@pytest.fixture
def services(demo: Cli) -> Iterator[Services]:
    """The same store in-process, on the same clock, to set a scene."""
    with demo.services() as s:
        yield s


def serials(demo: Cli) -> set[str]:
    return {t["serial"] for t in demo.json("tokens", "list")[1]}


def test_rfc6030_containers_import_with_the_right_keys_only(demo: Cli, tmp_path: Path) -> None:
    rc, doc = demo.json("tokens", "import", figure(7), "--passphrase-stdin", stdin="qwertz\n")
    assert rc == 2 and doc["error"] == "ImportRejected" and "passphrase is wrong" in doc["message"]
    rc, doc = demo.json("tokens", "import", figure(6), "--psk-hex-stdin", stdin="00" * 16 + "\n")
    assert rc == 2 and "pre-shared key is wrong" in doc["message"]
    rc, doc = demo.json("tokens", "import", figure(6), "--psk-hex-stdin", stdin="not hex\n")
    assert rc == 2 and "not hex" in doc["message"]
    tampered = tmp_path / "tampered.xml"
    mac, changed = b"Su+NvtQfmvfJzF6bmQiJqoLRExc=", b"Tu+NvtQfmvfJzF6bmQiJqoLRExc="
    tampered.write_bytes(Path(figure(6)).read_bytes().replace(mac, changed))
    rc, doc = demo.json("tokens", "import", str(tampered), "--psk-hex-stdin", stdin=RFC_PSK_HEX + "\n")
    assert rc == 2 and doc["error"] == "ImportRejected"
    laughs = tmp_path / "laughs.xml"
    laughs.write_bytes(BILLION_LAUGHS)
    rc, doc = demo.json("tokens", "import", str(laughs))
    assert rc == 2 and "DTD" in doc["message"]
    assert "987654321" not in serials(demo)  # every refusal left the inventory as it was

    rc, doc = demo.json("tokens", "import", figure(7), "--passphrase-stdin", stdin="qwerty\n")
    assert rc == 0 and doc == {"added": ["987654321"], "duplicates": [], "rejected": [], "rejected_total": 0}
    # The secret is RFC 4226's "12345678901234567890": counter 0 shows 84755224 with 8 digits.
    assert demo("token-sim", "987654321", "--once").stdout.strip() == "84755224"
    rc, doc = demo.json("tokens", "import", figure(6), "--psk-hex-stdin", stdin=RFC_PSK_HEX + "\n")
    assert rc == 0 and doc["duplicates"] == ["987654321"] and doc["added"] == []
    rc, doc = demo.json("tokens", "import", figure(5))
    assert doc["duplicates"] == ["987654321"] and "'pin' is not supported" in doc["rejected"][0]["reason"]
    rc, doc = demo.json("tokens", "import", figure(2))
    assert rc == 1 and doc["rejected"] == [{"where": "KeyPackage 1", "serial": None, "reason": "no serial number"}]
    r = demo("tokens", "import", figure(3))
    assert r.returncode == 0 and "added 0, duplicates 1, rejected 0" in r.stdout


def test_revoke_takes_effect_at_once(demo: Cli) -> None:
    fresh = demo.code("DEMO-IT01", 1)
    r = demo("tokens", "revoke", "DEMO-IT01", "--reason", "misplaced")
    assert r.returncode == 2 and "invalid choice: 'misplaced'" in r.stderr
    rc, doc = demo.json("tokens", "revoke", "DEMO-IT01", "--reason", "stolen")
    assert rc == 0 and (doc["state"], doc["revoked_reason"]) == ("revoked", "stolen")
    rc, doc = demo.json("auth", "check", "it.admin", "--password-stdin", "--code", fresh, stdin=PASSWORD + "\n")
    assert rc == 1 and doc["diagnosis"] == "revoked"
    rc, doc = demo.json("auth", "check", "it.admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert rc == 1 and doc["diagnosis"] == "code_required"  # the password alone never suffices


def test_a_refused_assignment_tells_it_staff_what_they_can_do(demo: Cli) -> None:
    # The provider's hint at step 6 is "Ask IT staff for another token": the wrong words for IT staff.
    rc, doc = demo.json("tokens", "assign", "DEMO-IT01", "dr.okafor")
    assert rc == 2 and doc["error"] == "TokenUnavailable" and "already assigned" in doc["message"]
    assert doc["hint"] == "Choose another token from the inventory; a revoked token cannot be assigned again."
    rc, doc = demo.json("tokens", "assign", "NOPE-1", "dr.okafor")
    assert rc == 2 and doc["error"] == "TokenNotFound" and "NOPE-1" in doc["message"]
    assert "import the vendor's seed file" in doc["hint"]


def test_unlock_token_and_account_and_replace(demo: Cli, services: Services) -> None:
    system = services.system
    with system.store.begin() as conn:
        for _ in range(10):
            system.tokens.record_failure(conn, "DEMO-IT01")
        conn.execute(update(accounts).where(accounts.c.username == "dr.chen").values(locked=1, failed_signins=10))
    rc, doc = demo.json(
        "auth",
        "check",
        "it.admin",
        "--password-stdin",
        "--code",
        demo.code("DEMO-IT01", 1),
        stdin=PASSWORD + "\n",
    )
    assert rc == 1 and doc["diagnosis"] == "locked"
    rc, doc = demo.json("tokens", "unlock", "demo-it01")
    assert rc == 0 and (doc["state"], doc["failures"]) == ("assigned", 0)
    rc, doc = demo.json("users", "unlock", "dr.chen")
    assert rc == 0 and doc == {"username": "dr.chen", "unlocked": True}
    rc, doc = demo.json("auth", "check", "dr.chen", "--password-stdin", stdin=PASSWORD + "\n")
    assert rc == 0 and doc["accepted"] is True
    rc, doc = demo.json("users", "unlock", "nobody")
    assert rc == 2 and "No account named 'nobody'" in doc["message"]

    c1, c2 = demo.code("DEMO-0001"), demo.code("DEMO-0001", 1)
    rc, doc = demo.json("tokens", "replace", "DEMO-IT01", "DEMO-0001", "--codes", c1, c2)
    assert rc == 0 and (doc["serial"], doc["owner"], doc["state"]) == ("DEMO-0001", "it.admin", "assigned")
    old = system.tokens.get("DEMO-IT01")
    assert old is not None and (old.state.value, old.revoked_reason) == ("revoked", "replaced")
    rc, doc = demo.json(
        "auth",
        "check",
        "it.admin",
        "--password-stdin",
        "--code",
        demo.code("DEMO-0001", 2),  # the code after the two given (the drift they showed is kept)
        stdin=PASSWORD + "\n",
    )
    assert rc == 0 and doc["second_factor"] == "DEMO-0001"
    rc, doc = demo.json("tokens", "replace", "DEMO-0002", "DEMO-0003")
    assert rc == 2 and "not assigned to anyone" in doc["message"]


def test_backup_codes_issue_replaces_the_old_set(demo: Cli) -> None:
    _, first = demo.json("backup-codes", "issue", "it.admin")
    _, second = demo.json("backup-codes", "issue", "it.admin")
    assert len(second["codes"]) == 10 and not set(first["codes"]) & set(second["codes"])
    check = ("auth", "check", "it.admin", "--password-stdin", "--code")
    assert demo.json(*check, first["codes"][0], stdin=PASSWORD + "\n")[0] == 1
    assert demo.json(*check, second["codes"][0], stdin=PASSWORD + "\n")[1]["second_factor"] == "backup_code"
    assert demo.json(*check, second["codes"][0], stdin=PASSWORD + "\n")[0] == 1  # once only
    r = demo("backup-codes", "issue", "nobody")
    assert r.returncode == 2 and "No account named 'nobody'" in r.stderr


def test_audit_shows_actor_and_subject_for_guided_setup_and_the_daily_review(
    demo: Cli, services: Services, tmp_path: Path
) -> None:
    system = services.system
    # Guided setup as the kiosk's IT area runs it: the provider signs in, IT staff drive.
    signed = system.signin.sign_in("dr.okafor", PASSWORD)
    enrollment = Enrollment.start(system, signed, actor="it.admin")
    enrollment.choose_method("code_generator")
    enrollment.add_new_device()
    enrollment.enter_serial("DEMO-0004")
    enrollment.synchronize(demo.code("DEMO-0004"), demo.code("DEMO-0004", 1))
    # What the daily review must find: a failed sign-in, a reused code, a lock-out, a revoke.
    demo("auth", "check", "dr.rivera", "--password-stdin", stdin="wrong password\n")
    reused = demo.code("DEMO-0004", 1)
    demo.json("auth", "check", "dr.okafor", "--password-stdin", "--code", reused, stdin=PASSWORD + "\n")
    for _ in range(10):
        try:
            system.signin.sign_in("dr.okafor", PASSWORD, "000000")
        except Exception:  # noqa: S112 - each refusal is what this loop is for
            continue
    demo.json("tokens", "revoke", "DEMO-IT01", "--reason", "lost")

    out = tmp_path / "audit.csv"
    r = demo("audit", "export", "--since", "2000-01-01", "--csv", str(out))
    assert r.returncode == 0 and "rows to" in r.stdout
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    guided = [
        (row["event"], row["actor"], row["subject"]) for row in rows if row["event"] in ("bind", "backup_codes_issued")
    ]
    assert guided == [("bind", "it.admin", "dr.okafor"), ("backup_codes_issued", "it.admin", "dr.okafor")]
    assert PASSWORD not in out.read_text() and reused not in {row["detail"] for row in rows}
    demo("audit", "export", "--since", "2999-01-01", "--csv", str(out))
    assert out.read_text().count("\n") == 1  # the header only

    rc, doc = demo.json("audit", "report", "--since", "2000-01-01")
    assert rc == 0
    assert doc["failed_by_user"]["dr.rivera"] == 1 and doc["failed_by_user"]["dr.okafor"] >= 10
    assert [(r["subject"], r["serial"]) for r in doc["reuse_attempts"]] == [("dr.okafor", "DEMO-0004")]
    assert any(r["subject"] == "dr.okafor" and r["outcome"] == "token_locked" for r in doc["lockouts"])
    changes = {(r["event"], r["actor"], r["subject"]) for r in doc["factor_changes"]}
    assert ("bind", "it.admin", "dr.okafor") in changes
    assert any(e == "revoke" and a.startswith("cli:") and s == "it.admin" for e, a, s in changes)
    text = demo("audit", "report", "--since", "2000-01-01").stdout
    assert "code reuse attempts: 1" in text and "by it.admin" in text and "for dr.okafor" in text
    r = demo("audit", "report", "--since", "yesterday")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr and "Traceback" not in r.stderr
