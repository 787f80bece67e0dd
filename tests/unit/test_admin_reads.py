"""What IT staff look at (the inventory, what is locked, the audit trail, the outbox) comes
through Administration too: refused once the staff member's factor is gone, and the same
answers the stores give."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import update

from core.admin import Administration
from core.admin_reads import Locked, LockedKind
from core.errors import NotAllowed, TokenNotFound
from core.events import Event
from core.store import accounts, tokens
from core.tokens import TokenState
from tests.conftest import World

Read = Callable[[Administration], object]

READS: dict[str, Read] = {
    "tokens": lambda admin: admin.tokens(search="T"),
    "token count": lambda admin: admin.token_count(),
    "token documents": lambda admin: list(admin.token_documents()),
    "token": lambda admin: admin.token("T1"),
    "account": lambda admin: admin.account("ben"),
    "locked": lambda admin: admin.locked(),
    "audit rows": lambda admin: admin.audit_rows(limit=5),
    "verify audit": lambda admin: admin.verify_audit(),
    "notices": lambda admin: admin.notices(),
}


@pytest.fixture
def staff(world: World) -> Administration:
    """ivy, IT staff, signed in with her own token T2."""
    Administration(world.system, "test-setup").assign("T2", "ivy")
    world.clock.advance(30)
    signed = world.sign_in("ivy", world.system.tokens.code_now("T2")[0])
    return Administration.for_staff(world.system, signed)


@pytest.mark.parametrize("name", list(READS))
def test_every_read_is_refused_once_the_staff_members_factor_is_gone(
    world: World, staff: Administration, name: str
) -> None:
    READS[name](staff)  # allowed while the factor is bound
    Administration.for_cli(world.system).revoke("T2", "lost")
    with pytest.raises(NotAllowed, match="own bound token"):
        READS[name](staff)


def test_the_inventory_pages_and_counts_as_the_store_does(world: World) -> None:
    admin = Administration.for_cli(world.system)
    everything = [t.serial for t in world.system.tokens.list()]
    assert [t.serial for t in admin.tokens()] == everything
    assert [t.serial for t in admin.tokens(limit=1, offset=1)] == everything[1:2]
    assert admin.token_count() == len(everything)
    assert [d["serial"] for d in admin.token_documents()] == everything


def test_a_token_is_found_by_its_serial_as_typed(world: World) -> None:
    admin = Administration.for_cli(world.system)
    assert admin.token(" t1 ").serial == "T1"
    with pytest.raises(TokenNotFound, match="No token with serial number NOPE-1"):
        admin.token(" nope-1 ")


def test_locked_lists_locked_tokens_then_locked_accounts(world: World) -> None:
    admin = Administration.for_cli(world.system)
    admin.assign("T1", "ana")
    with world.system.store.begin() as conn:
        conn.execute(update(tokens).where(tokens.c.serial == "T1").values(state="locked", failures=10))
        conn.execute(update(accounts).where(accounts.c.username == "ben").values(locked=1, failed_signins=100))
    assert admin.locked() == [
        Locked(LockedKind.TOKEN, "T1", "ana", 10),
        Locked(LockedKind.ACCOUNT, "ben", "ben", 100),
    ]


def test_audit_rows_and_the_chain_through_administration(world: World) -> None:
    admin = Administration.for_cli(world.system)
    admin.assign("T1", "ana")
    newest = admin.audit_rows(newest_first=True, limit=1)
    assert newest[0].event == Event.ASSIGN and newest[0].serial == "T1"
    assert admin.verify_audit().intact


def test_the_store_picks_tokens_by_state(world: World) -> None:
    with world.system.store.begin() as conn:
        conn.execute(update(tokens).where(tokens.c.serial == "T1").values(state="locked", failures=10))
    assert [t.serial for t in world.system.tokens.list(state=TokenState.LOCKED)] == ["T1"]
    available = world.system.tokens.list(state=TokenState.AVAILABLE)
    assert available and all(t.state is TokenState.AVAILABLE for t in available)
