"""A token's validity from its seed file (issue 11): stored, and sign-in refused outside it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, update

from core.clock import ManualClock
from core.credentials import CredentialStore
from core.errors import DIAGNOSIS_MESSAGES, CodeRefused, TokenUnavailable
from core.otp import Diagnosis, OtpParams, code_at, step_at
from core.seedfiles import TokenSpec, read_pskc
from core.seeds import SeedBox
from core.store import Store, schema_version, tokens
from core.tokens import TokenInventory
from tests.conftest import TOKEN_SEED, World
from tests.unit.test_pskc_integrity import NOW, PSK, SEED_A, SEED_B, Key, container

SEED = bytes(range(1, 21))
DAY = 86_400.0


def signin_code(world: World, offset: int = 0) -> str:
    params = OtpParams()
    return code_at(params, TOKEN_SEED, step_at(params, world.clock.time()) + offset)


def policy(start: str, expiry: str) -> str:
    return (
        f"<pskc:Policy><pskc:StartDate>{start}</pskc:StartDate>"
        f"<pskc:ExpiryDate>{expiry}</pskc:ExpiryDate></pskc:Policy>"
    )


@pytest.fixture
def inventory(store: Store, credentials: CredentialStore, clock: ManualClock) -> TokenInventory:
    return TokenInventory(store, SeedBox(credentials.key("seed-key", create=True)), clock)


def test_pskc_policy_dates_become_the_token_validity() -> None:
    data = container(
        Key("DATED1", SEED_A, policy=policy("2026-01-01T00:00:00Z", "2030-12-31T23:59:59Z")),
        Key("PLAIN1", SEED_B),
    )
    dated, plain = read_pskc(data, psk=PSK, now=NOW).specs
    assert dated.valid_from == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert dated.valid_until == datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    assert (plain.valid_from, plain.valid_until) == (None, None)


def test_a_start_after_the_expiry_is_refused() -> None:
    data = container(Key("BACK1", SEED_A, policy=policy("2031-01-01T00:00:00Z", "2030-01-01T00:00:00Z")))
    [rejected] = read_pskc(data, psk=PSK, now=NOW).rejected
    assert "StartDate is not before its ExpiryDate" in rejected.reason


def test_the_validity_is_stored_and_listed(inventory: TokenInventory, clock: ManualClock) -> None:
    until = clock.time() + 30 * DAY
    inventory.import_specs([TokenSpec("V-1", "totp", SEED, valid_from=clock.time() - DAY, valid_until=until)])
    info = inventory.get("V-1")
    assert info is not None and info.valid_until == until
    assert info.as_dict()["valid_until"] == until
    assert list(inventory.documents(search="V-1")) == [info.as_dict()]


def test_sign_in_past_the_validity_is_refused_with_its_reason_and_counts_no_failure(
    store: Store, inventory: TokenInventory, clock: ManualClock
) -> None:
    inventory.import_specs([TokenSpec("V-2", "totp", SEED, valid_until=clock.time() + DAY)])
    params = OtpParams()
    with store.begin() as conn:
        assert inventory.verify_code(conn, "V-2", code_at(params, SEED, step_at(params, clock.time()))).accepted
    clock.advance(DAY)
    with store.begin() as conn:
        check = inventory.verify_code(conn, "V-2", code_at(params, SEED, step_at(params, clock.time())))
    assert not check.accepted and check.diagnosis is Diagnosis.PAST_VALIDITY
    info = inventory.get("V-2")
    assert info is not None and info.failures == 0
    message, hint = DIAGNOSIS_MESSAGES[Diagnosis.PAST_VALIDITY]
    assert "expired" in message and "backup code" in hint
    with store.begin() as conn, pytest.raises(TokenUnavailable, match="past the validity"):
        inventory.check_available(conn, "V-2")


def test_sign_in_before_the_validity_is_refused(store: Store, inventory: TokenInventory, clock: ManualClock) -> None:
    inventory.import_specs([TokenSpec("V-3", "totp", SEED, valid_from=clock.time() + DAY)])
    params = OtpParams()
    with store.begin() as conn:
        check = inventory.verify_code(conn, "V-3", code_at(params, SEED, step_at(params, clock.time())))
    assert check.diagnosis is Diagnosis.BEFORE_VALIDITY
    assert "not valid yet" in DIAGNOSIS_MESSAGES[Diagnosis.BEFORE_VALIDITY][0]


def test_a_schema_1_store_gets_the_validity_columns_and_keeps_its_tokens(
    data_dir: object, inventory: TokenInventory, store: Store
) -> None:
    inventory.import_specs([TokenSpec("OLD-1", "totp", SEED)])
    with store.begin() as conn:  # make it the store a schema-1 kiosk left
        conn.exec_driver_sql("ALTER TABLE tokens DROP COLUMN valid_from")
        conn.exec_driver_sql("ALTER TABLE tokens DROP COLUMN valid_until")
        conn.execute(schema_version.delete().where(schema_version.c.version == 2))
    store.dispose()
    again = Store(store.url)
    try:
        with again.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("tokens")}
            versions = set(conn.execute(select(schema_version.c.version)).scalars())
            row = conn.execute(select(tokens.c.serial, tokens.c.valid_until)).one()
        assert {"valid_from", "valid_until"} <= columns and 2 in versions
        assert tuple(row) == ("OLD-1", None)
    finally:
        again.dispose()


def test_sign_in_with_a_token_past_its_validity_says_so_and_never_locks_it(world: World) -> None:
    with world.system.store.begin() as conn:
        world.system.tokens.resync(conn, "T1", signin_code(world, -1), signin_code(world))
        world.system.tokens.assign(conn, "T1", "ben")
        conn.execute(update(tokens).where(tokens.c.serial == "T1").values(valid_until=world.clock.time() + 60))
    world.clock.advance(90)
    for _ in range(12):  # more than the ten that lock a token
        with pytest.raises(CodeRefused) as refused:
            world.sign_in("ben", signin_code(world))
        assert refused.value.diagnosis is Diagnosis.PAST_VALIDITY
        assert "expired" in refused.value.message
    info = world.system.tokens.get("T1")
    assert info is not None and info.failures == 0 and info.state.value == "assigned"
