"""The IT staff area, flow by flow, through the real App on a copy of the demo data."""

from __future__ import annotations

import csv
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import update
from textual.widgets import Button, DataTable, Input, RadioButton

from core.admin import Administration
from core.otp import MAX_FAILURES
from core.signin import CodeRefused
from core.store import accounts
from core.tokens import TokenState
from screens.it.dialogs import ConfirmDialog
from screens.welcome import WelcomeScreen
from tests.conftest import found
from tests.ui.conftest import SIZE, Kiosk, screen_text, settle
from tests.ui.it_pilot import PASSWORD, PSKC, bind, it_sign_in, last_audit, open_task, press, put

QUIT_KEYS = ("ctrl+q", "ctrl+c", "ctrl+d", "ctrl+x", "ctrl+w", "escape", "q", "f10", "ctrl+backslash")


async def test_no_key_quits_the_kiosk_outside_the_it_area(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        for key in QUIT_KEYS:  # welcome screen
            await pilot.press(key)
        await settle(pilot)
        assert kiosk.app.is_running and isinstance(kiosk.app.screen, WelcomeScreen)
        await press(pilot, "enroll")  # a provider's sign-in screen
        for key in QUIT_KEYS:
            await pilot.press(key)
        await settle(pilot)
        assert kiosk.app.is_running and kiosk.app.return_value is None
        kiosk.app.action_leave_kiosk()  # the action itself refuses outside the IT area
        await settle(pilot)
        assert kiosk.app.is_running


async def test_provider_session_cannot_leave_even_after_signing_in(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await press(pilot, "enroll")
        await put(pilot, "#username", "dr.okafor", submit=True)
        await put(pilot, "#password", PASSWORD, submit=True)
        assert kiosk.services.system.accounts.get("dr.okafor") is not None
        for key in QUIT_KEYS:
            await pilot.press(key)
        await settle(pilot)
        assert kiosk.app.is_running and not kiosk.app.allow_exit


async def test_it_staff_leave_only_from_their_area_and_sign_out_closes_it(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await it_sign_in(pilot, kiosk)
        await press(pilot, "signout")
        assert isinstance(kiosk.app.screen, WelcomeScreen) and not kiosk.app.allow_exit
        kiosk.app.action_leave_kiosk()
        await settle(pilot)
        assert kiosk.app.is_running
        kiosk.clock.advance(30)  # each code works once: the next sign-in needs the next code
        await it_sign_in(pilot, kiosk)
        await press(pilot, "resync")  # still inside the area on a task screen: no quit key
        for key in QUIT_KEYS:
            await pilot.press(key)
        await settle(pilot)
        assert kiosk.app.is_running and kiosk.app.session.signed_in is None  # f10 signed out
        kiosk.clock.advance(30)
        await it_sign_in(pilot, kiosk)
        await press(pilot, "leave")
    assert kiosk.app.return_value == 0
    assert kiosk.app.session.signed_in is None


# --------------------------------------------------------------------------- token inventory


async def test_inventory_search_shows_state_owner_last_use_drift_failures(kiosk: Kiosk) -> None:
    bind(kiosk, "DEMO-0003", "dr.rivera")
    with kiosk.services.store.begin() as conn:
        kiosk.services.system.tokens.record_failure(conn, "DEMO-0003")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "inventory")
        table = kiosk.app.screen.query_one("#tokens", DataTable)
        assert table.row_count == 11
        await put(pilot, "#search", "rivera", submit=True)
        assert table.row_count == 1
        assert table.get_row_at(0) == [
            "DEMO-0003",
            "token",
            "TOTP 6",
            "assigned",
            "dr.rivera",
            "2023-11-14 22:13",
            "0",
            "1",
        ]
        await put(pilot, "#search", "it01", submit=True)
        assert [table.get_row_at(0)[i] for i in (0, 4)] == ["DEMO-IT01", "it.admin"]
        await put(pilot, "#search", "no-such-token", submit=True)
        assert table.row_count == 0 and "0 tokens" in screen_text(pilot)


async def test_inventory_opens_the_task_for_the_selected_token(kiosk: Kiosk) -> None:
    bind(kiosk, "DEMO-0004", "dr.rivera")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "inventory")
        await put(pilot, "#search", "DEMO-0004", submit=True)
        assert kiosk.app.screen.query_one("#unlock", Button).disabled  # not locked
        await press(pilot, "lost")
        assert kiosk.app.screen.query_one("#serial", Input).value == "DEMO-0004"
        assert "Token DEMO-0004 of dr.rivera: assigned." in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert kiosk.app.screen.query_one("#tokens", DataTable).row_count == 1


# --------------------------------------------------------------------------- seed file import


async def test_import_pskc_wrong_passphrase_then_right_then_duplicate(kiosk: Kiosk, tmp_path: Path) -> None:
    container = tmp_path / "vendor.pskcxml"
    container.write_bytes((PSKC / "rfc6030-figure7.pskcxml").read_bytes())
    tokens = kiosk.services.system.tokens
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "import")
        await put(pilot, "#path", str(container))
        await put(pilot, "#passphrase", "qwertz", submit=True)
        assert "The passphrase is wrong" in screen_text(pilot)
        assert tokens.get("987654321") is None
        assert kiosk.app.screen.query_one("#passphrase", Input).value == ""  # not kept on screen
        await put(pilot, "#passphrase", "qwerty", submit=True)
        text = screen_text(pilot)
        assert "Added: 1" in text and "Duplicates (left as they were): 0" in text and "Rejected: 0" in text
        assert "Import finished." in text
        token = tokens.get("987654321")
        assert token is not None and token.params.kind == "hotp" and token.params.digits == 8
        # RFC 4226 Appendix D secret "12345678901234567890", counter 0, eight digits
        assert tokens.code_now("987654321")[0] == "84755224"
        await put(pilot, "#passphrase", "qwerty", submit=True)
        assert "Added: 0    Duplicates (left as they were): 1" in screen_text(pilot)
    row = last_audit(kiosk, "tokens_import")
    assert (row.actor, row.detail) == ("it.admin", "file=vendor.pskcxml added=0 duplicates=1 rejected=0")


async def test_import_pre_shared_key_and_rejections_with_reasons(kiosk: Kiosk, tmp_path: Path) -> None:
    container = tmp_path / "psk.xml"
    container.write_bytes((PSKC / "rfc6030-figure6.pskcxml").read_bytes())
    seeds = tmp_path / "tokens.csv"
    seeds.write_text(
        "serial,key,type,digits,period_or_counter\n"
        f"NEW-1,{bytes(range(20)).hex()},totp,6,30\n"
        "NEW-2,zz,totp,6,30\n"
        f"DEMO-0001,{bytes(range(20)).hex()},totp,6,30\n"
    )
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "import")
        await put(pilot, "#path", str(container))
        await put(pilot, "#psk", "00" * 16)
        await press(pilot, "import")
        assert "The pre-shared key is wrong" in screen_text(pilot)
        await put(pilot, "#psk", "12345678901234567890123456789012")
        await press(pilot, "import")
        assert "Added: 1" in screen_text(pilot)
        await put(pilot, "#path", str(seeds), submit=True)
        text = screen_text(pilot)
        assert "Added: 1    Duplicates (left as they were): 1    Rejected: 1" in text
        assert "Rejected line 3 (NEW-2):" in text
        await put(pilot, "#path", str(tmp_path / "missing.csv"), submit=True)
        assert "No seed file at" in screen_text(pilot)


async def test_import_of_a_folder_or_fifo_says_what_it_is(kiosk: Kiosk, tmp_path: Path) -> None:
    # Found by the attack pass: both read "No file at ...", sending IT staff to look for a file
    # that is there.
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "import")
        await put(pilot, "#path", str(tmp_path), submit=True)
        assert "is a directory; give the seed file itself" in screen_text(pilot)
        await put(pilot, "#path", str(fifo), submit=True)
        assert "is not a regular file; give the seed file itself" in screen_text(pilot)
        assert "No file at" not in screen_text(pilot)


# --------------------------------------------------------------------------- resync


async def test_resync_a_drifted_token_from_two_codes(kiosk: Kiosk) -> None:
    bind(kiosk, "DEMO-0005", "dr.rivera")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "resync")
        await put(pilot, "#serial", "demo-0005")
        await put(pilot, "#current", kiosk.code("DEMO-0005", 40))
        await put(pilot, "#next", kiosk.code("DEMO-0005", 42), submit=True)
        assert "The two codes are not consecutive" in screen_text(pilot)
        assert kiosk.app.screen.query_one("#current", Input).value == ""
        await put(pilot, "#current", kiosk.code("DEMO-0005", 40))
        await put(pilot, "#next", kiosk.code("DEMO-0005", 41), submit=True)
        assert "Token DEMO-0005 for dr.rivera is in sync again. The token's clock is +41 steps" in screen_text(pilot)
    token = kiosk.services.system.tokens.get("DEMO-0005")
    assert token is not None and token.drift == 41
    row = last_audit(kiosk, "resync")
    assert (row.actor, row.subject, row.serial, row.outcome) == ("it.admin", "dr.rivera", "DEMO-0005", "ok")


# --------------------------------------------------------------------------- lost or damaged


async def test_lost_token_revoke_backup_codes_and_replacement(kiosk: Kiosk) -> None:
    system = kiosk.services.system
    bind(kiosk, "DEMO-0006", "dr.rivera")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "lost")
        await put(pilot, "#serial", "DEMO-0006", submit=True)
        assert "Token DEMO-0006 of dr.rivera: assigned." in screen_text(pilot)
        kiosk.app.screen.query_one("#stolen", RadioButton).value = True
        await press(pilot, "revoke")
        assert isinstance(kiosk.app.screen, ConfirmDialog)
        await pilot.press("enter")  # focus starts on Cancel: a stray Enter revokes nothing
        await settle(pilot)
        assert found(system.tokens.get("DEMO-0006")).state is TokenState.ASSIGNED
        await press(pilot, "revoke")
        await press(pilot, "confirm")
        assert "Token DEMO-0006 is revoked (stolen): a sign-in with it now fails." in screen_text(pilot)
        # At once: the very next sign-in with a fresh code from it fails.
        with pytest.raises(CodeRefused) as refused:
            system.signin.sign_in("dr.rivera", PASSWORD, kiosk.code("DEMO-0006", 1))
        assert refused.value.diagnosis.value == "revoked"

        await press(pilot, "issue")
        shown = str(kiosk.app.screen.query_one("#codes").render())
        codes = [line.split(". ", 1)[1] for line in shown.splitlines()[1:]]
        assert len(codes) == 10
        await press(pilot, "hide")
        assert codes[0] not in screen_text(pilot)
        assert system.signin.sign_in("dr.rivera", PASSWORD, codes[0]).second_factor == "backup_code"

        await put(pilot, "#new-serial", "DEMO-0007")
        await put(pilot, "#current", kiosk.code("DEMO-0007"))
        await put(pilot, "#next", kiosk.code("DEMO-0007", 1), submit=True)
        assert "Token DEMO-0007 now belongs to dr.rivera and is in sync; DEMO-0006 is revoked." in screen_text(pilot)
    new = system.tokens.get("DEMO-0007")
    assert new is not None and (new.owner, new.state) == ("dr.rivera", TokenState.ASSIGNED)
    assert system.signin.sign_in("dr.rivera", PASSWORD, kiosk.code("DEMO-0007", 2)).second_factor == "DEMO-0007"
    events = {r.event: r for r in system.audit.rows(user="dr.rivera") if r.actor == "it.admin"}
    assert set(events) == {"revoke", "backup_codes_issued", "replace"}
    assert events["revoke"].detail == "reason=stolen" and events["replace"].detail == "replaces=DEMO-0006"


async def test_replacement_with_bad_codes_changes_nothing(kiosk: Kiosk) -> None:
    system = kiosk.services.system
    bind(kiosk, "DEMO-0006", "dr.rivera")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "lost")
        await put(pilot, "#serial", "DEMO-0006", submit=True)
        await put(pilot, "#new-serial", "DEMO-0007")
        await put(pilot, "#current", "000000")
        await put(pilot, "#next", "000001", submit=True)
        assert "Neither code came from token DEMO-0007" in screen_text(pilot)
    assert found(system.tokens.get("DEMO-0006")).state is TokenState.ASSIGNED
    assert found(system.tokens.get("DEMO-0007")).owner is None


# --------------------------------------------------------------------------- unlock


async def test_unlock_a_locked_token_and_a_locked_account(kiosk: Kiosk) -> None:
    system = kiosk.services.system
    bind(kiosk, "DEMO-0008", "dr.rivera")
    with system.store.begin() as conn:
        for _ in range(MAX_FAILURES):
            system.tokens.record_failure(conn, "DEMO-0008")
        conn.execute(update(accounts).where(accounts.c.username == "dr.chen").values(locked=1, failed_signins=10))
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "unlock")
        table = kiosk.app.screen.query_one("#locked", DataTable)
        assert [table.get_row_at(i)[:2] for i in range(table.row_count)] == [
            ["token", "DEMO-0008"],
            ["account", "dr.chen"],
        ]
        table.focus()
        await pilot.press("enter")  # the first row: the token
        await settle(pilot)
        assert kiosk.app.screen.query_one("#serial", Input).value == "DEMO-0008"
        await press(pilot, "unlock-token")
        assert "Token DEMO-0008 is unlocked (assigned)" in screen_text(pilot)
        await put(pilot, "#username", "dr.chen", submit=True)
        assert "Account dr.chen is unlocked" in screen_text(pilot)
        assert "No token or account is locked." in screen_text(pilot)
        await put(pilot, "#username", "nobody", submit=True)
        assert "No account named 'nobody'." in screen_text(pilot)
    token = system.tokens.get("DEMO-0008")
    assert token is not None and (token.state, token.failures) == (TokenState.ASSIGNED, 0)
    assert not found(system.accounts.get("dr.chen")).locked
    assert (last_audit(kiosk, "token_unlock").actor, last_audit(kiosk, "account_unlock").subject) == (
        "it.admin",
        "dr.chen",
    )


# --------------------------------------------------------------------------- NPI questions


@pytest.mark.parametrize(
    ("username", "outcome", "region_answers"),
    [
        ("dr.rivera", "verified", {"1": "found"}),
        ("dr.okafor", "not_found", {}),
        ("dr.chen", "deactivated", {"3": "deactivated"}),
    ],
)
async def test_npi_check_shows_each_region_answer(
    kiosk: Kiosk, username: str, outcome: str, region_answers: dict[str, str]
) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "npi")
        await put(pilot, "#username", username, submit=True)
        npi = found(kiosk.services.system.accounts.get(username)).npi
        assert kiosk.app.screen.query_one("#npi", Input).value == npi
        await press(pilot, "check")
        assert f"Result: {outcome}." in screen_text(pilot)
        table = kiosk.app.screen.query_one("#answers", DataTable)
        rows = {table.get_row_at(i)[0]: table.get_row_at(i)[1] for i in range(table.row_count)}
        assert set(rows) == {"1", "2", "3", "4", "5"}
        assert {r: a for r, a in rows.items() if a != "not found"} == {
            r: a.replace("_", " ") for r, a in region_answers.items()
        }
    row = last_audit(kiosk, "npi_check")
    assert (row.actor, row.subject, row.outcome) == ("it.admin", username, outcome)


async def test_npi_check_explains_an_invalid_npi(kiosk: Kiosk) -> None:
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "npi")
        await put(pilot, "#npi", "1234567890")
        await put(pilot, "#last-name", "Rivera", submit=True)
        assert "Check the 10-digit NPI" in screen_text(pilot)
        assert not kiosk.app.screen.query_one("#answers", DataTable).display


# --------------------------------------------------------------------------- audit trail


async def test_audit_filter_verify_and_export(kiosk: Kiosk, tmp_path: Path) -> None:
    Administration(kiosk.services.system, "cli:someone").unlock_account("dr.patel")
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "audit")
        table = kiosk.app.screen.query_one("#rows", DataTable)
        events = [table.get_row_at(i)[2] for i in range(table.row_count)]
        assert events[0] == "sign_in" and "account_unlock" in events and "demo_built" in events
        await put(pilot, "#event", "sign_in", submit=True)
        assert {table.get_row_at(i)[2] for i in range(table.row_count)} == {"sign_in"}
        await put(pilot, "#event", "")
        await put(pilot, "#user", "dr.patel", submit=True)
        assert [table.get_row_at(i)[2:5] for i in range(table.row_count)] == [
            ["account_unlock", "cli:someone", "dr.patel"]
        ]
        await put(pilot, "#since", "2023-11-15", submit=True)
        assert table.row_count == 0
        await put(pilot, "#since", "15/11/2023", submit=True)
        assert "'15/11/2023' is not a date." in screen_text(pilot)
        await put(pilot, "#since", "2023-11-14")
        await put(pilot, "#user", "", submit=True)
        await press(pilot, "verify")
        assert "The audit chain is intact" in screen_text(pilot)
        out = tmp_path / "audit.csv"
        shown = table.row_count
        await put(pilot, "#export-path", str(out), submit=True)
        assert f"Wrote {shown} rows to {out}." in screen_text(pilot)
        assert table.row_count == shown + 1  # the export itself is audited
        with out.open(newline="") as f:
            exported = list(csv.DictReader(f))
        assert exported[0].keys() >= {"seq", "at", "event", "actor", "subject", "outcome", "mac"}
        assert PASSWORD not in out.read_text()
        with sqlite3.connect(kiosk.data_dir / "kiosk.sqlite3") as db:
            db.execute("UPDATE audit SET subject = 'someone-else' WHERE event = 'account_unlock'")
        await press(pilot, "verify")
        assert "AUDIT CHAIN BROKEN at row" in screen_text(pilot)
    assert last_audit(kiosk, "audit_export").actor == "it.admin"
