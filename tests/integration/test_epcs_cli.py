"""`ipkiosk users add --dea/--registrant` and `ipkiosk epcs ...` end to end, in-process on a
manual clock, on a demo data dir: two people, the same person refused, suspension when the last
token is lost."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli_run import Cli, demo_cli

PASSWORD = "demo-password"


def add_user(cli: Cli, username: str, name: str, npi: str, *extra: str) -> tuple[int, Any]:
    return cli.json(
        "users", "add", username, "--name", name, "--npi", npi,
        "--email", f"{username}@example.org", "--password-stdin", *extra,
        stdin=PASSWORD + "\n",
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    d = demo_cli(tmp_path_factory.mktemp("epcs") / "demo")
    rc, doc = add_user(d, "dr.stone", "Stone, Eve", "1245319599", "--dea", "AS1234563")
    assert rc == 0 and doc["dea_number"] == "AS1234563" and doc["dea_registrant"] is False
    rc, doc = add_user(d, "dr.moss", "Moss, Kai", "1679576722", "--dea", "BM9876547", "--registrant")
    assert rc == 0 and doc["dea_registrant"] is True
    rc, doc = d.json(
        "users", "proof", "dr.stone", "--document", "passport", "--last4", "4321", "--by", "it.admin",
        stdin=f"{PASSWORD}\n{d.code('DEMO-IT01')}\n",
    )  # fmt: skip
    assert rc == 0 and doc["last4"] == "4321" and doc["checked_by"] == "it.admin"
    for serial, user in (("DEMO-0001", "dr.stone"), ("DEMO-0002", "dr.moss")):
        d("tokens", "assign", serial, user, check=True)
    return d


def test_a_bad_dea_number_is_refused_with_its_rule(demo: Cli) -> None:
    rc, doc = add_user(demo, "dr.typo", "Typo, Tim", "1497758544", "--dea", "AT1234564")
    assert rc == 2 and doc["error"] == "InvalidDEA" and doc["rule"] == "check_digit"
    rc, doc = add_user(demo, "dr.flag", "Flag, Flo", "1497758544", "--registrant")
    assert rc == 2 and "DEA number" in doc["message"]


def test_grant_by_it_approve_by_registrant_then_suspended_when_the_token_is_lost(demo: Cli) -> None:
    demo.next_step()  # the fixture signed with DEMO-IT01's code of the step before
    it_code = demo.code("DEMO-IT01")
    rc, doc = demo.json("epcs", "grant", "dr.stone", "--by", "it.admin", stdin=f"{PASSWORD}\n{it_code}\n")
    assert rc == 0 and doc["state"] == "pending" and doc["entered_by"] == "it.admin"

    # it.admin is not a registrant; and may never approve what it entered.
    rc, doc = demo.json("epcs", "approve", "dr.stone", "--by", "it.admin", stdin=f"{PASSWORD}\n123456\n")
    assert rc == 2 and doc["reason"] == "same_person"
    # dr.okafor is a provider but not a registrant.
    rc, doc = demo.json("epcs", "approve", "dr.stone", "--by", "dr.okafor", stdin=f"{PASSWORD}\n123456\n")
    assert rc == 2 and doc["reason"] == "not_registrant"

    moss_code = demo.code("DEMO-0002")
    rc, doc = demo.json("epcs", "approve", "dr.stone", "--by", "dr.moss", stdin=f"{PASSWORD}\n{moss_code}\n")
    assert rc == 0 and doc["state"] == "granted" and doc["approved_by"] == "dr.moss"

    rc, rows = demo.json("epcs", "list")
    stone = next(r for r in rows if r["username"] == "dr.stone")
    assert stone["state"] == "granted" and stone["entered_by"] == "it.admin" and stone["approved_by"] == "dr.moss"
    assert stone["entered_at"].endswith("Z") and stone["approved_at"].endswith("Z")
    assert stone["identity_proofing"]["document_type"] == "passport"
    assert stone["identity_proofing"]["last4"] == "4321" and stone["dea_number"] == "AS1234563"
    rc, roles = demo.json("epcs", "roles")
    assert {"username": "dr.moss", "role": "approval", "eligible": True, "why": ""} in roles
    assert any(r["username"] == "it.admin" and r["role"] == "entry" for r in roles)

    demo("tokens", "revoke", "DEMO-0001", "--reason", "lost", check=True)
    rc, rows = demo.json("epcs", "list")
    assert next(r for r in rows if r["username"] == "dr.stone")["state"] == "suspended"

    demo.next_step()  # DEMO-IT01's code of this step signed the grant
    rc, doc = demo.json(
        "epcs", "revoke", "dr.stone", "--by", "it.admin", "--reason", "left the practice",
        stdin=f"{PASSWORD}\n{demo.code('DEMO-IT01')}\n",
    )  # fmt: skip
    assert rc == 0 and doc["state"] == "revoked" and doc["reason"] == "left the practice"

    demo("audit", "export", "--since", "2000-01-01", "--csv", str(demo.data_dir / "audit.csv"), check=True)
    text = (demo.data_dir / "audit.csv").read_text()
    for event in ("epcs_grant", "epcs_approve", "epcs_suspend", "epcs_revoke"):
        assert event in text
    assert PASSWORD not in text and moss_code not in text


def test_a_whole_document_number_is_refused(demo: Cli) -> None:
    rc, doc = demo.json(
        "users", "proof", "dr.moss", "--document", "passport", "--last4", "C01234567", "--by", "it.admin",
        stdin=f"{PASSWORD}\n\n",
    )  # fmt: skip
    assert rc == 2 and doc["error"] == "ProofingRefused" and "whole number" in doc["message"]
    demo("audit", "export", "--since", "2000-01-01", "--csv", str(demo.data_dir / "a.csv"), check=True)
    assert "C01234567" not in (demo.data_dir / "a.csv").read_text()


def test_wrong_stdin_is_a_usage_error_not_a_traceback(demo: Cli) -> None:
    rc, doc = demo.json("epcs", "approve", "dr.stone", "--by", "dr.moss", stdin="")
    assert rc == 2 and doc["error"] == "UsageError"
