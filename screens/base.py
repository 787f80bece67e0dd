"""What every kiosk screen shares: the step header, F1 help, Escape back, F10 sign out, the
entry call the App runs before building it, and running blocking domain calls off the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar, Self

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, get_current_worker

from core.errors import FreshSignInRequired, KioskError, StepOutOfOrder
from screens.i18n import N_, _, error_text, translate_bindings
from screens.messages import Ending, EndSession, Failed
from screens.session import KioskSession
from screens.widgets.step_header import StepHeader


class KioskScreen(Screen[None]):
    """A full screen of the kiosk. Subclasses compose `body()`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", N_("Help")),
        Binding("escape", "back", N_("Back"), show=False),
        Binding("f10", "sign_out", N_("Sign out"), show=False),
    ]
    TITLE_TEXT = N_("iPrescribe two-factor setup")

    def __init__(self, session: KioskSession) -> None:
        super().__init__()
        self.session = session
        translate_bindings(self)

    @classmethod
    def enter(cls, session: KioskSession) -> Callable[[], Self]:
        """The screen's entry call: everything it must ask the domain (store, directory) before
        it can be laid out. The App runs this on a worker thread, where a slow store blocks
        nothing and an exception lands on the failure screen; what it returns builds the
        screen on the UI thread, from the answers. `__init__` and `compose` only lay out."""
        return partial(cls, session)

    def on_mount(self) -> None:
        # The App's own keys (F2) are in the footer too: they follow the language the screen
        # was built in (the welcome screen switches it).
        translate_bindings(self.app)
        self.app.refresh_bindings()

    def header_step(self) -> tuple[int, str] | None:
        return None

    def compose(self) -> ComposeResult:
        who = self.session.username
        if who and self.session.guide is not None:
            who = f"{who} (with {self.session.guide.account.username})"
        yield StepHeader(self.header_step(), who, _(self.TITLE_TEXT))
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    # -- actions ---------------------------------------------------------------------------

    def action_sign_out(self) -> None:
        if self.session.signed_in is not None:
            self.post_message(EndSession(Ending.SIGNED_OUT))

    def action_back(self) -> None:
        """Escape: one step back where nothing was written yet; otherwise nothing."""

    # -- helpers ---------------------------------------------------------------------------

    def show_error(self, exc: KioskError | str, target: str = "#error") -> None:
        text = exc if isinstance(exc, str) else " ".join(error_text(exc)).strip()
        self.query_one(target, Static).update(text)

    def clear_error(self, target: str = "#error") -> None:
        self.query_one(target, Static).update("")

    def run_domain(
        self, call: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[KioskError], None]
    ) -> None:
        """Run a blocking domain call in a worker thread; report back on the UI thread.

        Only KioskError reaches `failed`; anything else is a bug, shown as a plain message
        (never a traceback) and the session is kept as it was. A refusal no retry on this
        screen can cure (a stale sign-in, a step out of order), and anything `done` or
        `failed` raise, go to the App's failure screen.
        """
        app = self.app

        def deliver(worker: Worker[None], callback: Callable[[Any], None], value: Any) -> None:
            # A worker replaced by a newer call (`exclusive`) is cancelled, but its thread runs on
            # and reports: its answer is stale (the audit's previous filter overwrote the new
            # one's rows), so it is dropped here, on the UI thread where cancelling happens.
            if worker.is_cancelled:
                return
            try:
                callback(value)
            except Exception as exc:
                app.post_message(Failed(exc))

        def work() -> None:
            deliver_here = partial(deliver, get_current_worker())
            try:
                result = call()
            except (FreshSignInRequired, StepOutOfOrder) as exc:
                app.post_message(Failed(exc))
            except KioskError as exc:
                app.call_from_thread(deliver_here, failed, exc)
            except Exception as exc:  # a bug must not crash the kiosk in front of a provider
                from screens.failure import log_unexpected

                log_unexpected(exc)
                app.call_from_thread(
                    deliver_here,
                    failed,
                    KioskError(N_("Something went wrong on this kiosk."), N_("Try again, or ask IT staff.")),
                )
            else:
                app.call_from_thread(deliver_here, done, result)

        self.run_worker(work, thread=True, exclusive=True, exit_on_error=False, group="domain")


class BackupCodesLeftScreen(KioskScreen):
    """A screen for the person signed in that says how many backup codes they have left: the
    count is asked on the entry call's worker and handed in."""

    def __init__(self, session: KioskSession, backup_codes_left: int) -> None:
        super().__init__(session)
        self.backup_codes_left = backup_codes_left

    @classmethod
    def enter(cls, session: KioskSession) -> Callable[[], Self]:
        signed = session.signed_in
        assert signed is not None
        return partial(cls, session, session.system.backup_codes.remaining(signed.account.username))
