"""Step 3: NPI verification. The webcam reads the cronto image; the kiosk checks it and looks the
NPI up in regions 1-5, showing each region's answer."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, LoadingIndicator, Static

from core.directory import RegionAnswer, Verification
from core.errors import KioskError
from core.regions import default_region_map
from screens.enrollment.base import StepScreen
from screens.i18n import N_, _, f_, outcome_text
from screens.scanning import ScanFailed, ScanFound, ScanFrame, ScanHint, ScanService
from screens.session import KioskSession
from screens.widgets.tables import Table, refill

# Columns of the screen's width the region table never has: the page's margins and its scrollbar.
PAGE_AND_SCROLLBAR = 4
REGION_COLUMNS = {"region": N_("Region"), "answer": N_("Answer"), "detail": N_("Detail")}
REGION_STATUS = {
    "found": N_("found"),
    "not_found": N_("not found"),
    "deactivated": N_("deactivated"),
    "error": N_("no answer"),
    "timeout": N_("no answer (timed out)"),
}
OUTCOME_TEXT = {
    "verified": N_("NPI verified. You can now set up iPrescribe Authenticator."),
    "not_found": N_("Your NPI was not found in the iPrescribe system (regions 1-5)."),
    "deactivated": N_("Your NPI is deactivated in the iPrescribe system."),
    "unavailable": N_("A regional directory did not answer, so your NPI could not be verified now."),
}


class RegionAnswered(Message):
    """One region's answer, posted from the lookup thread as it arrives."""

    def __init__(self, answer: RegionAnswer) -> None:
        super().__init__()
        self.answer = answer


class NpiVerificationScreen(StepScreen):
    def __init__(self, session: KioskSession) -> None:
        super().__init__(session)
        self.scanner: ScanService | None = session.scanner
        self._busy = False

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_("NPI verification"), classes="title")
            yield Static(
                _(
                    "Hold your enrollment image (cronto image) up to the camera. The system scans it "
                    "and checks your NPI against the DrWeb database across regions 1-5."
                ),
                classes="lead",
                id="lead",
            )
            if self._camera:
                from screens.widgets.camera_preview import CameraPreview

                yield CameraPreview(id="preview")
                assert self.scanner is not None
                yield Static(self._scanning_with(self.scanner), id="scan-status", classes="hint")
            else:
                yield Static(
                    _("No camera is set up on this kiosk: read the image from a file instead."), classes="notice"
                )
            yield Label(_("Or read the image from a file:"), classes="field-label")
            yield Input(id="image-path", value=self._default_image(), placeholder=_("path to the image"))
            yield LoadingIndicator(id="checking")
            table = Table(id="regions", cursor_type="none", show_cursor=False)
            table.can_focus = False  # five rows, no cursor: a Tab stop there would do nothing
            refill(table, {key: _(label) for key, label in REGION_COLUMNS.items()})
            yield table
            yield Static("", id="outcome")
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button(_("Read file"), id="read-file")
                if self._camera:
                    yield Button(_("Scan again"), id="rescan")
                yield Button(_("Continue"), id="continue", variant="primary")
            yield Static(_("Escape: choose another method"), classes="hint")

    @staticmethod
    def _scanning_with(scanner: ScanService) -> str:
        if scanner.device_index is not None:
            return f_("Scanning with camera {number}...", number=str(scanner.device_index))
        return f_("Scanning with {camera}...", camera=scanner.description)  # a file's name

    def _default_image(self) -> str:
        if self.session.demo_images and self.session.username:
            return str(self.session.demo_images / f"{self.session.username}.png")
        return ""

    def on_mount(self) -> None:
        self.query_one("#checking").display = False
        self.query_one("#regions").display = False
        self.query_one("#continue").display = False
        self._start_scan()
        (self.query_one("#image-path") if self._camera else self.query_one("#read-file")).focus()

    def on_unmount(self) -> None:
        self._stop_scan()

    # -- the camera ------------------------------------------------------------------------

    @property
    def _camera(self) -> bool:
        return self.scanner is not None and self.scanner.has_camera

    def _start_scan(self) -> None:
        if self.scanner is not None and self.scanner.has_camera:
            self.scanner.start(self.post_message)

    def _stop_scan(self) -> None:
        if self.scanner is not None:
            self.scanner.stop()

    @on(ScanFrame)
    def _frame(self, message: ScanFrame) -> None:
        from screens.widgets.camera_preview import CameraPreview

        self.query_one("#preview", CameraPreview).show(message.frame, message.corners, decoded=message.decoded)

    @on(ScanHint)
    def _hint(self, message: ScanHint) -> None:
        self.query_one("#scan-status", Static).update(_(message.text))

    @on(ScanFailed)
    def _failed(self, message: ScanFailed) -> None:
        if self.query("#scan-status"):
            self.query_one("#scan-status", Static).update(
                f_(
                    "{problem} Scan again, read the image from a file, or ask IT staff.",
                    problem=outcome_text(message.message, message.params),
                )
            )

    @on(ScanFound)
    def _found(self, message: ScanFound) -> None:
        self._stop_scan()
        self._verify(message.payload)

    def show_error(self, exc: KioskError | str, target: str = "#error") -> None:
        self.query_one(target).display = True
        super().show_error(exc, target)

    @on(Button.Pressed, "#rescan")
    def rescan(self) -> None:
        self.query_one("#lead").display = True
        self.clear_error()
        self._stop_scan()
        self._start_scan()

    @on(Button.Pressed, "#read-file")
    @on(Input.Submitted, "#image-path")
    def read_file(self) -> None:
        path = Path(self.query_one("#image-path", Input).value.strip()).expanduser()
        if not str(path) or not path.is_file():
            self.show_error(_("No image file at that path."))
            return
        scanner = self.scanner
        if scanner is None:
            self.show_error(_("This kiosk cannot read images. Ask IT staff."))
            return
        self._verify_with(lambda: scanner.read_file(path))

    # -- verification ----------------------------------------------------------------------

    def _verify_with(self, read: object) -> None:
        def read_then_verify() -> Verification:
            payload = read()  # type: ignore[operator]
            return self.enrollment.verify_npi(payload, self._answered)

        self._run(read_then_verify)

    def _verify(self, payload: str) -> None:
        self._run(lambda: self.enrollment.verify_npi(payload, self._answered))

    def _answered(self, answer: RegionAnswer) -> None:
        self.post_message(RegionAnswered(answer))  # thread safe, never blocks the lookup

    def _show_checking(self) -> None:
        names = default_region_map().names
        table = self.query_one("#regions", DataTable)
        refill(table, {key: _(label) for key, label in REGION_COLUMNS.items()})
        for region in range(1, 6):
            table.add_row(f"{region} {names.get(region, '')}", _("checking..."), "", key=str(region))
        table.display = True

    @on(RegionAnswered)
    def _region_answered(self, message: RegionAnswered) -> None:
        table = self.query_one("#regions", DataTable)
        key = str(message.answer.region)
        if key in table.rows:
            answer, detail = self._answer_cells(message.answer)
            table.update_cell(key, "answer", answer)
            table.update_cell(key, "detail", detail)

    @staticmethod
    def _answer_cells(answer: RegionAnswer) -> tuple[str, str]:
        status = REGION_STATUS.get(answer.status, answer.status)
        return _(status), outcome_text(answer.template, answer.params) if answer.template else ""

    def _show_answers(self, answers: dict[int, RegionAnswer]) -> None:
        """The table drawn afresh from the final answers: cells updated one by one as regions
        answered leave the columns as wide as whatever was drawn first, which varied with timing."""
        names = default_region_map().names
        table = self.query_one("#regions", DataTable)
        labels = {key: _(label) for key, label in REGION_COLUMNS.items()}
        rows = [
            (f"{r} {names.get(r, '')}", *(self._answer_cells(answers[r]) if r in answers else (_("checking..."), "")))
            for r in range(1, 6)
        ]
        # A detail longer than the row has room for is cut with an ellipsis (the whole of it is in
        # the outcome under the table), so the table never scrolls sideways. The room is reckoned
        # from the screen's width as if the page's scrollbar were there: the answers are drawn
        # while the instructions still make the page scroll, and whether the scrollbar has gone
        # by then depends on timing, so the table's own width at that moment would cut the
        # details to one of two lengths.
        used = sum(max(len(labels[k]), *(len(row[i]) for row in rows)) + 2 for i, k in enumerate(("region", "answer")))
        room = max(len(labels["detail"]), self.app.size.width - PAGE_AND_SCROLLBAR - used - 2)
        refill(table, labels)
        for region, (name, answer, detail) in enumerate(rows, 1):
            cut = detail if len(detail) <= room else detail[: room - 1].rstrip() + "…"
            table.add_row(name, answer, cut, key=str(region))

    def _run(self, call: object) -> None:
        if self._busy:
            return
        self._busy = True
        self.clear_error()
        self.query_one("#checking").display = True
        self._show_checking()
        self.query_one("#outcome", Static).update(_("Checking your NPI in regions 1-5..."))
        self.run_domain(call, self._verified, self._refused)  # type: ignore[arg-type]

    def _verified(self, verification: Verification) -> None:
        self._busy = False
        self.query_one("#checking").display = False
        self._show_answers(verification.answers)  # the final word, also for late regions
        outcome = str(verification.outcome)
        headline = _(OUTCOME_TEXT.get(outcome, outcome))
        # The headline says what happens next; the detail says why (deactivated on which day,
        # which region did not answer, a name that does not match).
        detail = outcome_text(verification.template, verification.params) if verification.template else ""
        self.query_one("#outcome", Static).update(f"{headline} {detail}".strip())
        # At 80x24 the outcome takes the place of the instructions read before the scan (and of
        # the error line, empty now): nothing to scroll to.
        self.query_one("#lead").display = False
        self.query_one("#error").display = False
        button = self.query_one("#continue", Button)
        button.display = True
        button.focus()
        # On a small screen the outcome is below the fold: bring it into view once laid out.
        self.call_after_refresh(button.scroll_visible)

    def _refused(self, exc: KioskError) -> None:
        self._busy = False
        self.query_one("#checking").display = False
        self.query_one("#regions").display = False
        self.query_one("#outcome", Static).update("")
        # No automatic rescan: the same refused image would be refused (and audited) again
        # every second. "Scan again" starts a new scan.
        self.show_error(exc)

    @on(Button.Pressed, "#continue")
    def proceed(self) -> None:
        self.step_done()
