"""The IT staff area: the tasks the article sends to "your IT administrator", and the only
place the kiosk can be left from (security rule 21)."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Static

from screens.base import KioskScreen
from screens.it.audit import ItAuditScreen
from screens.it.base import ItScreen
from screens.it.epcs import ItEpcsScreen
from screens.it.guided_setup import ItGuidedSetupScreen
from screens.it.lost_token import ItLostTokenScreen
from screens.it.npi_check import ItNpiCheckScreen
from screens.it.resync import ItResyncScreen
from screens.it.seed_import import ItImportScreen
from screens.it.token_inventory import ItTokenInventoryScreen
from screens.it.unlock import ItUnlockScreen
from screens.messages import Ending, EndSession
from screens.session import KioskSession

# (button id, label, screen) in the order IT staff reach for them.
TASKS: tuple[tuple[str, str, Callable[[KioskSession], ItScreen]], ...] = (
    ("guided", "Guided token setup", ItGuidedSetupScreen),
    ("inventory", "Token inventory", ItTokenInventoryScreen),
    ("import", "Import a seed file", ItImportScreen),
    ("resync", "Resync a token", ItResyncScreen),
    ("lost", "Lost or damaged token", ItLostTokenScreen),
    ("unlock", "Unlock a token or account", ItUnlockScreen),
    ("npi", "NPI questions", ItNpiCheckScreen),
    ("audit", "Audit trail", ItAuditScreen),
    ("epcs", "EPCS permissions and reviews", ItEpcsScreen),
)


class ItAreaScreen(KioskScreen):
    TITLE_TEXT = "IT staff area"

    def body(self) -> ComposeResult:
        signed = self.session.signed_in
        assert signed is not None
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("IT staff area", classes="title")
            yield Static(
                f"Signed in as {signed.account.greeting_name} ({signed.account.username}). "
                "Every change here is recorded in the audit trail under your name.",
                classes="lead",
            )
            with Grid(id="it-menu"):
                for task_id, label, _screen in TASKS:
                    yield Button(label, id=task_id)
            with Horizontal(classes="buttons"):
                yield Button("Sign out", id="signout", variant="primary")
                yield Button("Leave the kiosk", id="leave", variant="error")

    def on_mount(self) -> None:
        self.query_one("#guided", Button).focus()

    @on(Button.Pressed, "#it-menu Button")
    def open_task(self, event: Button.Pressed) -> None:
        for task_id, _label, screen in TASKS:
            if event.button.id == task_id:
                self.app.push_screen(screen(self.session))
                return

    @on(Button.Pressed, "#signout")
    def sign_out(self) -> None:
        self.post_message(EndSession(Ending.SIGNED_OUT))

    @on(Button.Pressed, "#leave")
    def leave(self) -> None:
        self.app.action_leave_kiosk()  # type: ignore[attr-defined]
