"""Step 8: confirm setup. The success message, and the backup codes shown once."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Self

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Static

from screens.enrollment.base import StepScreen
from screens.i18n import _, f_
from screens.session import KioskSession


class ConfirmScreen(StepScreen):
    def __init__(self, session: KioskSession, backup_codes: list[str]) -> None:
        super().__init__(session)
        self.backup_codes = backup_codes

    @classmethod
    def enter(cls, session: KioskSession) -> Callable[[], Self]:
        return partial(cls, session, session.current_enrollment.backup_codes)

    def body(self) -> ComposeResult:
        e = self.enrollment
        what = (
            _("iPrescribe Authenticator is now bound to your account.")
            if (e.method is not None and e.method.value == "authenticator")
            else f_("Your hardware token {serial} is now active.", serial=e.serial)
        )
        codes = self.backup_codes
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(what, classes="success")
            yield Static(
                _(
                    "Save these backup codes and store them securely. Each works once, in place of a "
                    "code from your token, if your token is lost or not with you. They are shown only now."
                ),
                classes="lead",
            )
            yield Static(two_columns(codes), id="codes")
            yield Checkbox(_("I have stored these codes in a secure place"), id="stored")
            with Horizontal(classes="buttons"):
                yield Button(_("Continue to test sign-in"), id="continue", variant="primary", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#stored", Checkbox).focus()

    @on(Checkbox.Changed, "#stored")
    def _stored(self, event: Checkbox.Changed) -> None:
        self.query_one("#continue", Button).disabled = not event.value

    @on(Button.Pressed, "#continue")
    def proceed(self) -> None:
        self.query_one("#codes", Static).update("")
        self.backup_codes = []
        self.enrollment.acknowledge_backup_codes()
        self.step_done()


def two_columns(codes: list[str]) -> str:
    """Numbered down the first column, then the second: the whole list fits an 80x24 screen."""
    half = (len(codes) + 1) // 2
    rows = []
    for i in range(half):
        left = f"{i + 1:>2}. {codes[i]}"
        right = f"{i + half + 1:>2}. {codes[i + half]}" if i + half < len(codes) else ""
        rows.append(f"{left}    {right}".rstrip())
    return "\n".join(rows)
