"""F1 from anywhere: the article's troubleshooting and security best practices."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

HELP_FILE = Path(__file__).resolve().parents[1] / "assets" / "help.md"


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is slow to import; only load it here

        with VerticalScroll(id="help-body"):
            yield Markdown(HELP_FILE.read_text(encoding="utf-8"))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
