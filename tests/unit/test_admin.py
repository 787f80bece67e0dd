"""Who may administer: Administration.for_staff lets in only IT staff who signed in with their
own bound factor; for_cli acts as the OS account at the terminal."""

from __future__ import annotations

import getpass

import pytest

from core.admin import Administration
from core.errors import NotAllowed
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
