"""The kiosk's tables (screens/widgets/tables.Table) show their rows at the measured widths,
whenever the screen happens to be drawn while they are filled."""

from __future__ import annotations

import re
from html import unescape

from textual.app import App, ComposeResult

from screens.widgets.tables import Table, refill


class OneTable(App[None]):
    # A fixed height, as the IT pages give their tables (the rows left): adding rows is no resize.
    CSS = "Table { height: 6; }"

    def compose(self) -> ComposeResult:
        table = Table(id="t")
        refill(table, ("Provider", "State"))
        yield table


def shown(app: App[None]) -> str:
    """The screen's text as a person reads it (the screenshot's text runs, nothing of its style)."""
    svg = app.export_screenshot()
    runs = re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)
    return unescape("".join(runs)).replace("\xa0", " ")


async def test_rows_drawn_before_measuring_are_drawn_again_at_the_measured_widths() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        table = app.query_one(Table)
        table.add_row("dr.okafor-with-a-long-name", "granted")
        shown(app)  # a frame drawn before the table's next idle: the columns still the labels' widths
        await pilot.pause()
        await pilot.pause()
        assert "dr.okafor-with-a-long-name" in shown(app)
