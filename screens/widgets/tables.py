"""The kiosk's tables, and refilling them.

`DataTable.clear()` keeps the columns, and the header can then be drawn with the old, narrower
widths while the new rows are wider (seen in this kiosk's snapshots, now and then). Clearing the
columns too and adding them again makes the header follow the rows every time.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class Table(DataTable[str]):
    """A DataTable that draws itself again once it has taken a new size. DataTable pads each row
    out to its width, and caches the row until its own resize handler has run; a frame drawn
    between the new layout and that handler keeps the old width's padding (seen in this
    kiosk's snapshots: the region table two cells short of the page edge once the page's
    scrollbar had gone, 1 run in 3 under load)."""

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # DataTable measures new rows' columns on its next idle, but a row drawn before then is
        # cached with the labels' widths under a key that measuring does not change: the rows
        # stayed cut to "dr.okafo", "sign_" until something else redrew them (seen in this
        # kiosk's snapshots and on screen). Measured, the cached drawing goes.
        super()._update_dimensions(new_rows)
        self._clear_caches()
        self.refresh()


def refill(table: DataTable[str], columns: tuple[str, ...] | dict[str, str]) -> None:
    """Empty `table` and give it `columns` again: labels, or {key: label} for keyed columns."""
    table.clear(columns=True)
    if isinstance(columns, dict):
        for key, label in columns.items():
            table.add_column(label, key=key)
    else:
        table.add_columns(*columns)
