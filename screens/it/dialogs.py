"""Small typed dialogs of the IT staff area: confirm a change that cannot be undone, show backup
codes once, take a signature."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from core.admin import Signature
from core.errors import KioskError
from screens.i18n import error_text
from screens.it.base import Note
from screens.widgets.fields import LeadingInput


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


class SignatureDialog(ModalScreen[None]):
    """A signature (password, then code) for one change, over the page: a form per change would
    push an 80x24 page past the screen. `signer` signs, or, left out, the second person types
    their own username (the ids then start "approver-"). "Sign" hands the dialog to `on_sign`,
    which runs the change and either closes it or calls `refused`: the error shows here and the
    password and code are cleared, to be typed again. They live only in this dialog."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self,
        title: str,
        lead: str,
        on_sign: Callable[[SignatureDialog], None],
        *,
        signer: str | None = None,
        reason: bool = False,
        danger: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.lead = lead
        self.on_sign = on_sign
        self.signer = signer
        self.asks_reason = reason
        self.danger = danger
        self.prefix = "" if signer else "approver-"

    def compose(self) -> ComposeResult:
        with Vertical(classes="it-dialog", id="signature"):
            yield Static(self.title_text, classes="title")
            yield Static(self.lead, classes="lead")
            if self.signer:
                yield Label(f"Signed by {self.signer}: your password, then your code", classes="field-label")
            else:
                yield Label("Your username, password and code", classes="field-label")
            with Horizontal(classes="it-row"):
                # Enter moves on at once, so a fast typist's password never lands in the username.
                if not self.signer:
                    yield LeadingInput(id="approver", max_length=64, placeholder="username")
                yield LeadingInput(id=f"{self.prefix}password", password=True, placeholder="password")
                code = LeadingInput if self.asks_reason else Input
                yield code(id=f"{self.prefix}code", max_length=10, placeholder="code", restrict=r"[0-9 ]*")
            if self.asks_reason:
                yield Input(id="reason", max_length=200, placeholder="reason", classes="it-wide")
            yield Note(classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Sign", id="sign", variant="error" if self.danger else "primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#approver" if not self.signer else "#password", Input).focus()

    def signature(self) -> Signature:
        username = self.signer or self.query_one("#approver", Input).value.strip().lower()
        password = self.query_one(f"#{self.prefix}password", Input).value
        code = self.query_one(f"#{self.prefix}code", Input).value.strip()
        return Signature(username, password, code or None)

    def reason(self) -> str:
        return self.query_one("#reason", Input).value if self.asks_reason else ""

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input is list(self.query(Input))[-1]:
            self._sign()
        else:
            self.focus_next()

    @on(Button.Pressed, "#sign")
    def _sign(self) -> None:
        if self.query_one("#sign", Button).disabled:  # Enter in the last field while it runs
            return
        if not self.signer and not self.query_one("#approver", Input).value.strip():
            self.refused("Type your username, password and code.")
            return
        self._busy(True)
        self.on_sign(self)

    def _busy(self, busy: bool) -> None:
        # While the change runs the dialog neither signs again nor closes: its answer comes
        # back here (`signed` or `refused`).
        self.query_one("#sign", Button).disabled = busy
        self.query_one("#cancel", Button).disabled = busy

    def refused(self, exc: KioskError | str) -> None:
        self._forget()
        self.query_one("#error", Note).update(exc if isinstance(exc, str) else " ".join(error_text(exc)).strip())
        self._busy(False)
        self.query_one(f"#{self.prefix}password", Input).focus()

    def _forget(self) -> None:
        for field in ("password", "code"):
            self.query_one(f"#{self.prefix}{field}", Input).value = ""

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.query_one("#cancel", Button).disabled:
            return
        self._forget()
        self.dismiss(None)

    def signed(self) -> None:
        """The change is made: close, the secrets with the dialog."""
        self._forget()
        self.dismiss(None)
