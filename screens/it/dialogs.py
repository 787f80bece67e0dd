"""Small typed dialogs of the IT staff area: confirm a change that cannot be undone."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool]):
    """Yes/no; dismisses True only for the confirm button (Escape is no)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, title: str, question: str, confirm: str, *, danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.confirm_label = confirm
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="it-dialog"):
            yield Static(self.title_text, classes="title")
            yield Static(self.question, classes="lead", id="question")
            with Horizontal(classes="buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        # Cancel first: a stray Enter must not revoke a token.
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class BackupCodesDialog(ModalScreen[bool]):
    """The provider's new backup codes, over the page they were issued from: ten lines would push
    an 80x24 page past the screen. "Codes handed over" (or Escape) closes it, and the codes are
    shown nowhere else, so they are on screen only until then."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "handed_over", "Codes handed over", show=False)]

    def __init__(self, owner: str, codes: list[str]) -> None:
        super().__init__()
        self.owner = owner
        self.codes = codes

    def compose(self) -> ComposeResult:
        lines = [f"Backup codes for {self.owner}: each works once; shown only now."]
        lines += [f"{i:>2}. {c}" for i, c in enumerate(self.codes, 1)]
        with Vertical(classes="it-dialog"):
            yield Static("\n".join(lines), id="codes")
            with Horizontal(classes="buttons"):
                yield Button("Codes handed over", id="hide", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#hide", Button).focus()

    @on(Button.Pressed, "#hide")
    def action_handed_over(self) -> None:
        self.query_one("#codes", Static).update("")
        self.codes = []
        self.dismiss(True)
