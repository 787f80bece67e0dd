"""The audit trail: browse and filter (user, event, date), verify the HMAC chain, export CSV.

The export is `ipkiosk audit export`'s (core.admin.Administration.export_audit), filtered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from core.audit import AuditRow, ChainReport
from core.errors import KioskError
from screens.it.base import ItScreen, Note
from screens.widgets.tables import Table, refill

SHOWN = 200  # newest rows on screen; the export has them all


COLUMNS = ("#", "Time (UTC)", "Event", "Actor", "Subject", "Serial", "Outcome", "Detail")


class AuditFilter(TypedDict):
    since: datetime | None
    user: str | None
    event: str | None


class AuditFilterError(KioskError):
    hint = "Write the date as YYYY-MM-DD (UTC)."


def parse_since(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise AuditFilterError(f"'{text.strip()}' is not a date.") from None
    return day.replace(tzinfo=UTC)


class ItAuditScreen(ItScreen):
    AREA = "Audit trail"

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("Audit trail", classes="title")
            with Horizontal(classes="it-row"):
                with Vertical(classes="it-col"):
                    yield Label("User (actor or subject)", classes="field-label")
                    yield Input(id="user", max_length=64, placeholder="any")
                with Vertical(classes="it-col"):
                    yield Label("Event", classes="field-label")
                    yield Input(id="event", max_length=40, placeholder="e.g. sign_in, revoke")
                with Vertical(classes="it-col"):
                    yield Label("Since (UTC)", classes="field-label")
                    yield Input(id="since", max_length=10, placeholder="YYYY-MM-DD")
            with Horizontal(classes="buttons"):
                yield Button("Filter", id="filter", variant="primary")
                yield Button("Verify the chain", id="verify")
                yield Button("Back", id="back")
            yield Note(id="count", classes="hint")
            yield Note(classes="error", id="error")
            yield Note(id="chain")
            table = Table(id="rows", cursor_type="row", zebra_stripes=True)
            refill(table, COLUMNS)
            yield table
            yield Label("Export the filtered rows as CSV to", classes="field-label")
            with Horizontal(classes="it-row"):
                yield Input(id="export-path", placeholder="/media/usb/audit.csv", classes="it-wide")
                yield Button("Export CSV", id="export")
            yield Note(id="exported", classes="success")

    def on_mount(self) -> None:
        self.query_one("#user", Input).focus()
        self.apply_filter()

    def _filters(self) -> AuditFilter:
        return AuditFilter(
            since=parse_since(self.query_one("#since", Input).value),
            user=self.query_one("#user", Input).value.strip().lower() or None,
            event=self.query_one("#event", Input).value.strip() or None,
        )

    @on(Input.Submitted, "#user")
    @on(Input.Submitted, "#event")
    @on(Input.Submitted, "#since")
    @on(Button.Pressed, "#filter")
    def apply_filter(self) -> None:
        try:
            filters = self._filters()
        except KioskError as exc:
            self.show_error(exc)
            return
        admin = self.admin()
        self.run_domain(
            lambda: admin.audit_rows(**filters, newest_first=True, limit=SHOWN),
            self._show,
            self.show_error,
        )

    def _show(self, rows: list[AuditRow]) -> None:
        self.clear_error()
        table = self.query_one("#rows", DataTable)
        refill(table, COLUMNS)
        for r in rows:
            table.add_row(
                str(r.seq),
                r.at.replace("T", " ").rstrip("Z"),
                r.event,
                r.actor,
                r.subject,
                r.serial or "-",
                r.outcome,
                r.detail or "-",
                key=str(r.seq),
            )
        more = " (newest shown; export for all)" if len(rows) == SHOWN else ""
        self.query_one("#count", Note).update(f"{len(rows)} row{'s' if len(rows) != 1 else ''}{more}")

    @on(Button.Pressed, "#verify")
    def verify_chain(self) -> None:
        self.run_domain(self.admin().verify_audit, self._verified, self.show_error)

    def _verified(self, report: ChainReport) -> None:
        chain = self.query_one("#chain", Note)
        chain.set_class(not report.intact, "error")
        chain.set_class(report.intact, "success")
        if report.intact:
            chain.update(f"The audit chain is intact: {report.rows} rows, head row {report.head_seq}.")
        else:
            chain.update(
                f"AUDIT CHAIN BROKEN at row {report.first_bad_seq}: {report.problem}. "
                "Keep the database as it is and tell your security officer."
            )

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export")
    def export(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        self.query_one("#exported", Note).update("")
        if not text:
            self.show_error("Enter the path of the CSV file to write.")
            return
        try:
            filters = self._filters()
        except KioskError as exc:
            self.show_error(exc)
            return
        path = Path(text).expanduser()
        admin = self.admin()
        self.run_domain(
            lambda: admin.export_audit(path, **filters),
            lambda n: self._exported(n, path),
            self.show_error,
        )

    def _exported(self, count: int, path: Path) -> None:
        self.clear_error()
        self.query_one("#exported", Note).update(f"Wrote {count} rows to {path}.")
        self.apply_filter()
