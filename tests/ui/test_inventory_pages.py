"""The IT token inventory shows a large inventory a page at a time (issue 11)."""

from __future__ import annotations

from textual.widgets import DataTable

from core.seedfiles import TokenSpec
from screens.it.token_inventory import PAGE
from tests.ui.conftest import SIZE, Kiosk, screen_text, settle
from tests.ui.it_pilot import open_task, put

SEED = bytes(range(1, 21))


async def test_moving_past_the_last_row_loads_the_next_page(kiosk: Kiosk) -> None:
    extra = PAGE + 50
    kiosk.services.system.tokens.import_specs([TokenSpec(f"BULK-{i:04d}", "totp", SEED) for i in range(extra)])
    total = extra + 11  # and the demo's tokens
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await open_task(pilot, kiosk, "inventory")
        table = kiosk.app.screen.query_one("#tokens", DataTable)
        assert table.row_count == PAGE
        assert f"{total} tokens, the first {PAGE} shown" in screen_text(pilot)
        table.focus()
        table.move_cursor(row=PAGE - 2)
        await settle(pilot)
        assert table.row_count == PAGE  # not yet at the last row
        await pilot.press("pagedown")
        await settle(pilot)
        assert table.row_count == total
        assert f"{total} tokens" in screen_text(pilot) and "shown" not in screen_text(pilot)
        rows = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert rows == sorted(rows) and len(set(rows)) == total
        await put(pilot, "#search", "bulk-000", submit=True)
        assert table.row_count == 10 and "10 tokens" in screen_text(pilot)
