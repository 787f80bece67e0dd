"""F1 from anywhere: the article's troubleshooting and security best practices."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from screens import i18n
from screens.i18n import N_

ASSETS = Path(__file__).resolve().parents[1] / "assets"
HELP_FILE = ASSETS / "help.md"  # the article's words: the reference


def help_file(language: str) -> Path:
    """The help text in `language` (assets/help.<lang>.md), English where there is none."""
    translated = ASSETS / f"help.{language}.md"
    return translated if language != "en" and translated.is_file() else HELP_FILE


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", N_("Close")),
        Binding("f1", "dismiss", N_("Close"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        i18n.translate_bindings(self)

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is slow to import; only load it here

        with VerticalScroll(id="help-body"):
            yield Markdown(help_file(i18n.current()).read_text(encoding="utf-8"))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
