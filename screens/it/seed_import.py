"""Import a seed file (PSKC RFC 6030 or OATH CSV) into the token inventory, with a progress bar
and a summary: added, duplicates, and each rejected entry with its reason.

The file is read and checked first (MACs, decryption); then every new token is added in one
transaction, so a failure leaves the inventory as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, ProgressBar, Static

from core.errors import KioskError
from core.private_files import check_input
from core.seedfiles import open_seed_file
from core.tokens import ImportReport
from screens.it.base import ItScreen, Note, Report

MAX_LISTED = 12  # rejected entries listed on screen; the rest are counted


class ItImportScreen(ItScreen):
    AREA = "Import a seed file"

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("Import a seed file", classes="title")
            yield Static(
                "The token vendor's PSKC container (RFC 6030) or OATH CSV file. Encrypted PSKC needs "
                "its passphrase or its pre-shared key; leave both empty otherwise.",
                classes="lead",
            )
            yield Label("File", classes="field-label")
            yield Input(id="path", placeholder="/media/usb/tokens.pskcxml", classes="it-wide")
            with Horizontal(classes="it-row"):
                with Vertical(classes="it-col"):
                    yield Label("Passphrase (PBKDF2 PSKC)", classes="field-label")
                    yield Input(id="passphrase", password=True, max_length=256)
                with Vertical(classes="it-col"):
                    yield Label("Pre-shared key, hex (AES-128 PSKC)", classes="field-label")
                    yield Input(id="psk", password=True, max_length=128, restrict=r"[0-9A-Fa-f ]*")
            with Horizontal(classes="buttons"):
                yield Button("Import", id="import", variant="primary")
                yield Button("Back", id="back")
            yield Note(id="stage", classes="hint")
            yield ProgressBar(id="progress", show_eta=False)
            yield Note(classes="error", id="error")
            # Up to MAX_LISTED rejections and the lists of serials: more than a short page holds.
            with Report(id="report"):
                yield Static("", id="summary")

    def on_mount(self) -> None:
        self.query_one("#progress", ProgressBar).display = False
        self.query_one("#path", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#import")
    def start(self) -> None:
        path_text = self.query_one("#path", Input).value.strip()
        passphrase = self.query_one("#passphrase", Input).value or None
        psk_text = self.query_one("#psk", Input).value.replace(" ", "")
        self.query_one("#summary", Static).update("")
        if not path_text:
            self.show_error("Enter the path of the seed file.")
            self.query_one("#path", Input).focus()
            return
        if passphrase and psk_text:
            self.show_error("Give the passphrase or the pre-shared key, not both.")
            return
        try:
            psk = bytes.fromhex(psk_text) if psk_text else None
        except ValueError:
            self.show_error("The pre-shared key must be an even number of hex digits.")
            return
        self.clear_error()
        self.query_one("#import", Button).disabled = True
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._stage("Reading and checking the file...")
        self.run_import(Path(path_text).expanduser(), passphrase, psk)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import")
    def run_import(self, path: Path, passphrase: str | None, psk: bytes | None) -> None:
        try:
            check_input(path, "seed file")  # a folder or a FIFO is not "no file"
            now = datetime.fromtimestamp(self.session.system.clock.time(), UTC)
            # Checked as a whole first, then read as it is stored: memory does not grow with the file.
            seed_file = open_seed_file(path, passphrase=passphrase, psk=psk, now=now)
            total = seed_file.expected  # entries in the file, accepted or not: the bar may end early
            self.app.call_from_thread(self._adding, total)
            report = self.admin().import_tokens(
                seed_file, seed_file.rejected, path.name, progress=self._progress(total)
            )
        except KioskError as exc:
            self.app.call_from_thread(self._failed, exc)
        except Exception as exc:  # a bug must not crash the kiosk; never show the file's content
            self.app.log.error(f"import failed: {type(exc).__name__}")
            self.app.call_from_thread(self._failed, KioskError("The import failed; nothing was changed.", "Try again."))
        else:
            self.app.call_from_thread(self._finished, report)

    def _progress(self, total: int) -> Callable[[int], None]:
        """Move the bar as the inventory takes the tokens: about 50 updates, not one per token."""
        every = max(1, total // 50)
        bar = self.query_one("#progress", ProgressBar)

        def moved(taken: int) -> None:
            if taken % every == 0 or taken == total:
                self.app.call_from_thread(bar.update, progress=taken)

        return moved

    def _adding(self, total: int) -> None:
        self.query_one("#progress", ProgressBar).update(total=max(total, 1), progress=0)
        self._stage(f"Adding the file's {total} entr{'ies' if total != 1 else 'y'} to the inventory...")

    def _stage(self, text: str) -> None:
        self.query_one("#stage", Note).update(text)

    def _finished(self, report: ImportReport) -> None:
        self.forget()
        self.query_one("#import", Button).disabled = False
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=bar.total or 1, progress=bar.total or 1)
        self._stage("Import finished.")
        lines = [
            f"Added: {len(report.added)}    Duplicates (left as they were): {len(report.duplicates)}    "
            f"Rejected: {report.rejected.total}"
        ]
        if report.added:
            more = " ..." if len(report.added) > MAX_LISTED else ""
            lines.append("Added: " + ", ".join(report.added[:MAX_LISTED]) + more)
        if report.duplicates:
            lines.append("Duplicates: " + ", ".join(report.duplicates[:MAX_LISTED]))
        for r in report.rejected[:MAX_LISTED]:
            lines.append(f"Rejected {r.where}{f' ({r.serial})' if r.serial else ''}: {r.reason}")
        if report.rejected.total > MAX_LISTED:
            lines.append(f"... and {report.rejected.total - MAX_LISTED} more rejected (see `ipkiosk tokens import`).")
        self.query_one("#summary", Static).update("\n".join(lines))

    def _failed(self, exc: KioskError) -> None:
        self.forget()
        self.query_one("#import", Button).disabled = False
        self.query_one("#progress", ProgressBar).display = False
        self._stage("")
        self.show_error(exc)

    def forget(self) -> None:
        for wid in ("#passphrase", "#psk"):
            self.query_one(wid, Input).value = ""
