"""`ipkiosk users add --dea/--registrant` and `ipkiosk epcs ...` end to end in subprocesses on a
demo data dir: two people, the same person refused, suspension when the last token is lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


def code(data_dir: Path, serial: str, offset: int = 0) -> str:
    services = build_services(load_settings(data_dir))
    try:
        return services.system.tokens.code_now(serial, offset_steps=offset)[0]
    finally:
        services.close()


def add_user(data_dir: Path, username: str, name: str, npi: str, *extra: str) -> tuple[int, Any]:
    return jdoc(
        data_dir,
        "users", "add", username, "--name", name, "--npi", npi,
        "--email", f"{username}@example.org", "--password-stdin", *extra,
        stdin=PASSWORD + "\n",
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("epcs") / "demo"
    assert ipk(d, "demo", "--build-only").returncode == 0
    rc, doc = add_user(d, "dr.stone", "Stone, Eve", "1245319599", "--dea", "AS1234563")
    assert rc == 0 and doc["dea_number"] == "AS1234563" and doc["dea_registrant"] is False
    rc, doc = add_user(d, "dr.moss", "Moss, Kai", "1679576722", "--dea", "BM9876547", "--registrant")
    assert rc == 0 and doc["dea_registrant"] is True
    rc, doc = jdoc(
        d, "users", "proof", "dr.stone", "--document", "passport", "--last4", "4321", "--by", "it.admin",
        stdin=f"{PASSWORD}\n{code(d, 'DEMO-IT01')}\n",
    )  # fmt: skip
    assert rc == 0 and doc["last4"] == "4321" and doc["checked_by"] == "it.admin"
    for serial, user in (("DEMO-0001", "dr.stone"), ("DEMO-0002", "dr.moss")):
        assert ipk(d, "tokens", "assign", serial, user).returncode == 0
    return d


def test_a_bad_dea_number_is_refused_with_its_rule(demo: Path) -> None:
    rc, doc = add_user(demo, "dr.typo", "Typo, Tim", "1497758544", "--dea", "AT1234564")
    assert rc == 2 and doc["error"] == "InvalidDEA" and doc["rule"] == "check_digit"
    rc, doc = add_user(demo, "dr.flag", "Flag, Flo", "1497758544", "--registrant")
    assert rc == 2 and "DEA number" in doc["message"]


def test_grant_by_it_approve_by_registrant_then_suspended_when_the_token_is_lost(demo: Path) -> None:
    it_code = code(demo, "DEMO-IT01", 1)
    rc, doc = jdoc(demo, "epcs", "grant", "dr.stone", "--by", "it.admin", stdin=f"{PASSWORD}\n{it_code}\n")
    assert rc == 0 and doc["state"] == "pending" and doc["entered_by"] == "it.admin"

    # it.admin is not a registrant; and may never approve what it entered.
    rc, doc = jdoc(demo, "epcs", "approve", "dr.stone", "--by", "it.admin", stdin=f"{PASSWORD}\n123456\n")
    assert rc == 2 and doc["reason"] == "same_person"
    # dr.okafor is a provider but not a registrant.
    rc, doc = jdoc(demo, "epcs", "approve", "dr.stone", "--by", "dr.okafor", stdin=f"{PASSWORD}\n123456\n")
    assert rc == 2 and doc["reason"] == "not_registrant"

    moss_code = code(demo, "DEMO-0002")
    rc, doc = jdoc(demo, "epcs", "approve", "dr.stone", "--by", "dr.moss", stdin=f"{PASSWORD}\n{moss_code}\n")
    assert rc == 0 and doc["state"] == "granted" and doc["approved_by"] == "dr.moss"

    rc, rows = jdoc(demo, "epcs", "list")
    stone = next(r for r in rows if r["username"] == "dr.stone")
    assert stone["state"] == "granted" and stone["entered_by"] == "it.admin" and stone["approved_by"] == "dr.moss"
    assert stone["entered_at"].endswith("Z") and stone["approved_at"].endswith("Z")
    assert stone["identity_proofing"]["document_type"] == "passport"
    assert stone["identity_proofing"]["last4"] == "4321" and stone["dea_number"] == "AS1234563"
    rc, roles = jdoc(demo, "epcs", "roles")
    assert {"username": "dr.moss", "role": "approval", "eligible": True, "why": ""} in roles
    assert any(r["username"] == "it.admin" and r["role"] == "entry" for r in roles)

    assert ipk(demo, "tokens", "revoke", "DEMO-0001", "--reason", "lost").returncode == 0
    rc, rows = jdoc(demo, "epcs", "list")
    assert next(r for r in rows if r["username"] == "dr.stone")["state"] == "suspended"

    rc, doc = jdoc(
        demo, "epcs", "revoke", "dr.stone", "--by", "it.admin", "--reason", "left the practice",
        stdin=f"{PASSWORD}\n{code(demo, 'DEMO-IT01', 2)}\n",
    )  # fmt: skip
    assert rc == 0 and doc["state"] == "revoked" and doc["reason"] == "left the practice"

    r = ipk(demo, "audit", "export", "--since", "2000-01-01", "--csv", str(demo / "audit.csv"))
    assert r.returncode == 0
    text = (demo / "audit.csv").read_text()
    for event in ("epcs_grant", "epcs_approve", "epcs_suspend", "epcs_revoke"):
        assert event in text
    assert PASSWORD not in text and moss_code not in text


def test_a_whole_document_number_is_refused(demo: Path) -> None:
    rc, doc = jdoc(
        demo, "users", "proof", "dr.moss", "--document", "passport", "--last4", "C01234567", "--by", "it.admin",
        stdin=f"{PASSWORD}\n\n",
    )  # fmt: skip
    assert rc == 2 and doc["error"] == "ProofingRefused" and "whole number" in doc["message"]
    r = ipk(demo, "audit", "export", "--since", "2000-01-01", "--csv", str(demo / "a.csv"))
    assert r.returncode == 0 and "C01234567" not in (demo / "a.csv").read_text()


def test_wrong_stdin_is_a_usage_error_not_a_traceback(demo: Path) -> None:
    rc, doc = jdoc(demo, "epcs", "approve", "dr.stone", "--by", "dr.moss", stdin="")
    assert rc == 2 and doc["error"] == "UsageError"
