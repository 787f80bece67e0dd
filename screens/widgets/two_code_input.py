"""Two consecutive codes from a token, Current Code then Next Code: what binding (step 7),
resyncing and replacing a token all ask for. After a refusal both are cleared and the field the
domain blames (SyncFailed.wrong_field) gets the focus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, ProgressBar, Static

from core.errors import KioskError, SyncFailed
from screens.i18n import _, f_
from screens.widgets.fields import LeadingInput

Field = Literal["current", "next"]


class TwoCodeInput(Vertical):
    @dataclass
    class Submitted(Message):
        """Enter in Next Code."""

        inputs: TwoCodeInput

    DEFAULT_CSS = """
    TwoCodeInput { height: auto; }
    """

    def __init__(
        self,
        *,
        digits: int | None = None,
        countdown: int | None = None,
        between: str = "",
        compact: bool = False,
        id: str | None = None,
    ) -> None:
        """`digits` when the token is known; `countdown`: a TOTP token's period, shown between
        the fields as the time left until its code changes; `between`: a hint there instead;
        `compact`: side by side, the labels as placeholders (a long IT page)."""
        super().__init__(id=id, classes="-compact" if compact else "")
        self.digits = digits
        self.countdown = countdown
        self.between = between
        self.compact = compact

    def compose(self) -> ComposeResult:
        length = self.digits + 2 if self.digits else 10  # room for a space in the middle
        hint = f_("{digits} digits", digits=self.digits) if self.digits else _("6 or 8 digits")
        if self.compact:
            with Horizontal(classes="it-row"):
                yield LeadingInput(
                    id="current",
                    leads_to="#next",
                    max_length=length,
                    placeholder=_("Current Code"),
                    restrict=r"[0-9 ]*",
                )
                yield Input(id="next", max_length=length, placeholder=_("Next Code"), restrict=r"[0-9 ]*")
            return
        yield Label(_("Current Code"), classes="field-label")
        yield LeadingInput(id="current", leads_to="#next", max_length=length, placeholder=hint, restrict=r"[0-9 ]*")
        if self.countdown:
            yield Static("", id="countdown-text", classes="hint")
            yield ProgressBar(total=self.countdown, show_eta=False, show_percentage=False, id="countdown")
        elif self.between:
            yield Static(self.between, classes="hint")
        yield Label(_("Next Code"), classes="field-label")
        yield Input(
            id="next",
            max_length=length,
            placeholder=hint if self.digits else _("the code after it"),
            restrict=r"[0-9 ]*",
        )

    def show_time(self, now: float) -> None:
        """How long the token's current code lasts, at `now` (the domain's clock)."""
        if not self.countdown:
            return
        elapsed = now % self.countdown
        left = int(self.countdown - elapsed) or self.countdown
        self.query_one("#countdown", ProgressBar).update(progress=elapsed)
        self.query_one("#countdown-text", Static).update(
            f_("The code on your token changes in about {seconds} s.", seconds=left)
        )

    @property
    def codes(self) -> tuple[str, str]:
        return self.query_one("#current", Input).value, self.query_one("#next", Input).value

    def missing(self) -> Field | None:
        """The first empty field (focused), or None."""
        current, following = self.codes
        field: Field | None = "current" if not current.strip() else "next" if not following.strip() else None
        if field is not None:
            self.focus_field(field)
        return field

    def focus_field(self, field: Field = "current") -> None:
        self.query_one(f"#{field}", Input).focus()

    def clear(self) -> None:
        for field in ("#current", "#next"):
            self.query_one(field, Input).value = ""

    def refused(self, error: KioskError) -> None:
        self.clear()
        self.focus_field("next" if isinstance(error, SyncFailed) and error.wrong_field == "next" else "current")

    @on(Input.Submitted, "#next")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(self))
