"""The token listing's documents (`ipkiosk tokens list --json`): what `TokenInfo.as_dict()`
gives, with the keys already in sorted order, since the CLI writes them as they come."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.clock import ManualClock
from core.credentials import CredentialStore
from core.seedfiles import TokenSpec
from core.seeds import SeedBox
from core.store import Store, tokens
from core.tokens import RevokeReason, TokenInventory

SEED = bytes(range(1, 21))


@pytest.fixture
def inventory(store: Store, credentials: CredentialStore, clock: ManualClock) -> TokenInventory:
    return TokenInventory(store, SeedBox(credentials.key("seed-key", create=True)), clock)


def test_documents_carry_every_shown_field_in_sorted_key_order(store: Store, inventory: TokenInventory) -> None:
    inventory.import_specs(
        [
            TokenSpec("T-60", "totp", SEED, "SHA256", 8, period=60, valid_from=1.5, valid_until=2e9 + 0.25),
            TokenSpec("H-1", "hotp", SEED, counter=7, vendor="Acme", model="OTP c200"),
            TokenSpec("T-30", "totp", SEED),
        ]
    )
    with store.begin() as conn:
        inventory.revoke(conn, "H-1", RevokeReason.LOST)
        conn.execute(
            update(tokens)
            .where(tokens.c.serial == "T-60")
            .values(last_used_at=1764614400.123456789, bound_at=1764614000.5, drift=-2, failures=3)
        )
    documents = list(inventory.documents())
    assert [list(d) for d in documents] == [sorted(d) for d in documents]
    assert documents == [t.as_dict() for t in inventory.list()]
    by_serial = {d["serial"]: d for d in documents}
    assert by_serial["H-1"]["period"] is None and by_serial["H-1"]["revoked_reason"] == "lost"
    assert by_serial["T-60"]["period"] == 60 and by_serial["T-60"]["last_used_at"] == 1764614400.123456789
    assert by_serial["T-60"]["drift"] == -2 and by_serial["T-60"]["failures"] == 3
    assert by_serial["T-30"]["period"] == 30 and "seed_ct" not in by_serial["T-30"]


# A TOTP row stored with no period reads as 30 seconds, as OtpParams reads it.
def test_a_totp_row_with_no_period_lists_thirty_seconds(store: Store, inventory: TokenInventory) -> None:
    inventory.import_specs([TokenSpec("Z-0", "totp", SEED)])
    with store.begin() as conn:
        conn.execute(update(tokens).where(tokens.c.serial == "Z-0").values(period=0))
    (document,) = inventory.documents(search="Z-0")
    assert document["period"] == 30 == inventory.list(search="Z-0")[0].as_dict()["period"]
