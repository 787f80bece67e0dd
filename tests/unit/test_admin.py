"""Who may administer: Administration.for_staff lets in only IT staff who signed in with their
own bound factor; for_cli acts as the OS account at the terminal."""

from __future__ import annotations

import getpass
import io
import re
from pathlib import Path

import pytest

from core.admin import Administration
from core.errors import NotAllowed
from core.events import Event
from core.seedfiles import TokenSpec
from kiosk.cli.tokens import _ImportProgress
from tests.conftest import PASSWORD, World


def test_for_staff_refuses_a_provider(world: World) -> None:
    signed = world.system.signin.sign_in("ben", PASSWORD)
    with pytest.raises(NotAllowed, match="IT staff only"):
        Administration.for_staff(world.system, signed)


def test_for_staff_refuses_nobody_signed_in(world: World) -> None:
    with pytest.raises(NotAllowed):
        Administration.for_staff(world.system, None)


def test_for_staff_refuses_it_staff_without_a_bound_factor(world: World) -> None:
    signed = world.system.signin.sign_in("ivy", PASSWORD)  # no factor bound: the password alone
    assert signed.second_factor is None
    with pytest.raises(NotAllowed, match="own bound token"):
        Administration.for_staff(world.system, signed)


def test_for_staff_lets_in_it_staff_signed_in_with_their_token(world: World) -> None:
    Administration.for_cli(world.system).assign("T1", "ivy")
    world.clock.advance(30)
    code = world.system.tokens.code_now("T1")[0]
    signed = world.system.signin.sign_in("ivy", PASSWORD, code)
    admin = Administration.for_staff(world.system, signed)
    assert admin.actor == "ivy"
    admin.unlock_account("ben")
    row = next(world.system.audit.rows(event="account_unlock"))
    assert (row.actor, row.subject) == ("ivy", "ben")


def test_for_cli_acts_as_the_os_user(world: World) -> None:
    assert Administration.for_cli(world.system).actor == f"cli:{getpass.getuser()}"


def test_import_tokens_reports_progress_and_audits_once(world: World) -> None:
    seed = bytes(range(20))
    specs = [TokenSpec(f"P{i}", "totp", seed) for i in range(5)]
    seen: list[int] = []
    report = Administration.for_cli(world.system).import_tokens(specs, [], "vendor.pskc", progress=seen.append)
    assert seen == [1, 2, 3, 4, 5] and len(report.added) == 5
    rows = list(world.system.audit.rows(event=Event.TOKENS_IMPORT))
    assert len(rows) == 1 and rows[0].detail == "file=vendor.pskc added=5 duplicates=0 rejected=0"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_cli_import_progress_is_drawn_on_a_terminal_only() -> None:
    terminal, piped = Terminal(), io.StringIO()
    for stream in (terminal, piped):
        progress = _ImportProgress(stream)
        for taken in range(1, 2501):
            progress(taken)
        progress.finish()
    assert "2,000 tokens read" in terminal.getvalue() and terminal.getvalue().endswith("\n")
    assert piped.getvalue() == ""


def test_front_ends_build_it_only_through_for_staff_or_for_cli() -> None:
    """The plain constructor stays for tests; kiosk/ and screens/ must not choose an actor."""
    root = Path(__file__).resolve().parents[2]
    direct = [
        f"{path.relative_to(root)}:{n}"
        for package in ("kiosk", "screens")
        for path in sorted((root / package).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bAdministration\(", line)
    ]
    assert direct == []
