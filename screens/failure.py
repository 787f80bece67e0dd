"""What happened, and a way on: the screen the App shows, instead of exiting, when something
raised while a screen was built, a step's entry call ran, or a handler or worker ran (security
rule 30: nothing raised inside the kiosk ends it). The session was wiped before it is shown."""

from __future__ import annotations

import logging
import traceback

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from core.errors import KioskError
from screens.base import KioskScreen
from screens.i18n import N_, _, error_text
from screens.messages import Ending, EndSession, Purpose, Start
from screens.session import KioskSession

log = logging.getLogger("ipkiosk")


def unexpected() -> KioskError:
    return KioskError(
        N_("Something went wrong on this kiosk."), N_("Sign in again; if it happens again, ask IT staff.")
    )


def explain(error: BaseException) -> KioskError:
    """A KioskError says what happened in words a person can act on; anything else is a bug,
    described only in general terms (its text may hold data from the store)."""
    return error if isinstance(error, KioskError) else unexpected()


def log_unexpected(error: BaseException) -> None:
    """Where the bug is, for IT staff: the exception's type and where it was raised. Not its
    message, arguments or locals, which can carry a password, seed or code (security rule 19)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))
    log.error("unexpected %s at %s", type(error).__name__, where or "-")


class FailureScreen(KioskScreen):
    TITLE_TEXT = N_("Could not continue")

    def __init__(self, session: KioskSession, error: KioskError, purpose: Purpose = Purpose.ENROLL) -> None:
        super().__init__(session)
        self.error = error
        self.purpose = purpose  # what "Sign in again" signs in for

    def body(self) -> ComposeResult:
        # markup=False: the words come from an exception and may hold brackets.
        with VerticalScroll(classes="page", can_focus=False):
            message, hint = error_text(self.error)
            yield Static(_("This could not be finished"), classes="title")
            yield Static(message, classes="error", id="failure", markup=False)
            yield Static(hint, classes="lead", id="failure-hint", markup=False)
            yield Static(
                _("You were signed out, and nothing of yours is left on this kiosk. Sign in again to carry on."),
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Sign in again"), id="sign-in-again", variant="primary")
                yield Button(_("Back to the welcome screen"), id="welcome")

    def on_mount(self) -> None:
        self.query_one("#sign-in-again", Button).focus()

    @on(Button.Pressed, "#sign-in-again")
    def sign_in_again(self) -> None:
        self.post_message(Start(self.purpose))

    @on(Button.Pressed, "#welcome")
    def to_welcome(self) -> None:
        self.post_message(EndSession(Ending.CANCELLED))

    def action_back(self) -> None:
        self.to_welcome()

    def action_sign_out(self) -> None:
        self.to_welcome()
