"""The kiosk could not open its store, keyring or directory: say what and how to fix it.

Nothing of any provider's is open yet, so this one screen lets IT staff leave (Ctrl+Q) to fix
the machine; a kiosk stuck on an error nobody can leave would need a power cycle.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.errors import KioskError
from screens.base import KioskScreen
from screens.session import KioskSession


class StartupFailedScreen(KioskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "leave", "Leave (IT staff)")]
    TITLE_TEXT = "The kiosk cannot start"

    def __init__(self, session: KioskSession, error: KioskError) -> None:
        super().__init__(session)
        self.error = error

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("This kiosk cannot start", classes="title")
            yield Static(self.error.message, classes="error", id="error")
            yield Static(self.error.hint, classes="lead")
            yield Static("IT staff: press Ctrl+Q to leave, fix the problem, and start the kiosk again.", classes="hint")

    def action_leave(self) -> None:
        self.app.exit(return_code=2)
