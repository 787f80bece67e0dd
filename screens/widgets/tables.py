"""Refilling a DataTable.

`DataTable.clear()` keeps the columns, and the header can then be drawn with the old, narrower
widths while the new rows are wider (seen in this kiosk's snapshots, now and then). Clearing the
columns too and adding them again makes the header follow the rows every time.
"""

from __future__ import annotations

from textual.widgets import DataTable


def refill(table: DataTable[str], columns: tuple[str, ...] | dict[str, str]) -> None:
    """Empty `table` and give it `columns` again: labels, or {key: label} for keyed columns."""
    table.clear(columns=True)
    if isinstance(columns, dict):
        for key, label in columns.items():
            table.add_column(label, key=key)
    else:
        table.add_columns(*columns)
