"""The kiosk App: built by `create_app` from settings and services; routes between screens by the
enrollment's `Step`, running each screen's entry call on a worker thread; wipes an idle session;
offers no way out to providers, and never ends on an error (security rules 21 and 30)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.worker import WorkerFailed

from kiosk.config import Settings
from kiosk.scan_service import ScanService
from screens import i18n
from screens.base import KioskScreen
from screens.help import HelpScreen
from screens.i18n import N_, _, f_
from screens.messages import Ending, EndSession, Failed, Purpose, SignedInFor, Start, StepDone
from screens.session import KioskSession
from screens.startup_failed import StartupFailedScreen
from screens.themes import DEFAULT_THEME, HIGH_CONTRAST
from screens.welcome import WelcomeScreen
from screens.widgets.small_terminal import MINIMUM, SCREEN_LAYERS, SmallTerminalNotice, too_small

if TYPE_CHECKING:
    from core.enrollment import Step
    from kiosk.services import Services
    from screens.enrollment.base import StepScreen

ASSETS = Path(__file__).resolve().parents[1] / "assets"

# A screen's entry call (KioskScreen.enter): run on a worker thread, returns the screen's builder.
Entry = Callable[[KioskSession], Callable[[], KioskScreen]]


def step_screens() -> dict[Step, type[StepScreen]]:
    """The screen for each enrollment step. Imported on first use, not at start-up: they pull
    in the domain (SQLAlchemy, cryptography), which the welcome screen does not need."""
    from core.enrollment import Step
    from screens.enrollment.authenticator_binding import AuthenticatorBindingScreen
    from screens.enrollment.binding_stopped import BindingStoppedScreen
    from screens.enrollment.code_generator import CodeGeneratorScreen
    from screens.enrollment.confirm import ConfirmScreen
    from screens.enrollment.npi_verification import NpiVerificationScreen
    from screens.enrollment.select_method import SelectMethodScreen
    from screens.enrollment.serial_number import SerialNumberScreen
    from screens.enrollment.setup_complete import SetupCompleteScreen
    from screens.enrollment.synchronize import SynchronizeScreen
    from screens.enrollment.trial_sign_in import TrialSignInScreen

    return {
        Step.SELECT_METHOD: SelectMethodScreen,
        Step.NPI_VERIFICATION: NpiVerificationScreen,
        Step.APP_BINDING: AuthenticatorBindingScreen,
        Step.REDIRECTED: BindingStoppedScreen,
        Step.CODE_GENERATOR: CodeGeneratorScreen,
        Step.SERIAL_NUMBER: SerialNumberScreen,
        Step.SYNCHRONIZE: SynchronizeScreen,
        Step.CONFIRM: ConfirmScreen,
        Step.TEST_SIGN_IN: TrialSignInScreen,
        Step.DONE: SetupCompleteScreen,
    }


class KioskApp(App[int], inherit_bindings=False):
    """No quit key for providers (security rule 21): only IT staff can leave."""

    CSS_PATH = str(ASSETS / "kiosk.tcss")
    CSS = SCREEN_LAYERS  # the small-terminal notice's layer, on every screen
    TITLE = "iPrescribe enrollment kiosk"
    ENABLE_COMMAND_PALETTE = False
    # Below 30 rows (an 80x24 terminal) the screens drop their spacing (assets/kiosk.tcss).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012 - App declares it without ClassVar
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", show=False),
        # On every screen, for whoever is at the kiosk (issue 13); the footer shows it.
        Binding("f2", "toggle_contrast", N_("Contrast"), priority=True),
        # Taken by the App as it reads the key, so the focus has moved before the next key of a
        # burst ("user<Tab>password") is handed on; the Screen's own Tab moved it only once the
        # old field had the rest of the burst (screens/widgets/fields.py).
        Binding("tab", "focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", show=False, priority=True),
    ]

    def __init__(self, session: KioskSession, settings: Settings, scanner: ScanService | None) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        i18n.use(settings.language)
        self.register_theme(HIGH_CONTRAST)
        self.theme = HIGH_CONTRAST.name if settings.theme == "high-contrast" else DEFAULT_THEME
        self.scanner = scanner
        session.scanner = scanner
        self.idle_timeout = settings.idle_timeout
        self.idle_warning = min(settings.idle_warning, settings.idle_timeout / 2)
        self._last_input = time.monotonic()
        self._warned = False
        self.allow_exit = False  # set only inside the IT staff area
        self.services: Services | None = None
        self.purpose = Purpose.ENROLL  # what the person came for: where "Sign in again" goes
        self._route = 0  # bumped by every navigation: a screen prepared for an older one is dropped
        self.terminal_size = MINIMUM  # as the last Resize gave it
        self.too_small = False  # below 80x24: the screen is covered by a notice

    # -- lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_class(self.settings.text_size == "large", "-large-text")
        # Whichever screen comes next (a route, a failure, a dialog) is covered too, if need be.
        self.screen_change_signal.subscribe(self, lambda screen: screen.call_later(self._fit))
        self.terminal_size = self.size
        self.too_small = too_small(self.size)
        self.push_screen(WelcomeScreen(self.session))
        self.set_interval(1.0, self._check_idle)

    def on_ready(self) -> None:
        # After the first frame: opening the store and keyring (and importing SQLAlchemy and
        # cryptography for it) would otherwise hold the welcome screen back.
        if not self.session.ready.is_set():
            self.run_worker(self._open_services, thread=True, exit_on_error=False, name="open-services")

    def _open_services(self) -> None:
        """Open the store, keyring and directory after the first screen is drawn; a sign-in
        started meanwhile waits for them (KioskSession.system)."""
        from core.errors import KioskError
        from kiosk.services import build_services

        try:
            services = build_services(self.settings)
        except Exception as exc:  # whatever it is, say it on screen rather than hang the kiosk
            error = (
                exc
                if isinstance(exc, KioskError)
                else KioskError(
                    f"The kiosk could not start ({type(exc).__name__}).", "Ask IT staff to check the kiosk's setup."
                )
            )
            self.session.fail(error)
            self.call_from_thread(self.show, StartupFailedScreen(self.session, error))
            return
        self.services = services
        self.session.attach(services.system)

    async def on_event(self, event: events.Event) -> None:
        if self.too_small and isinstance(event, events.InputEvent | events.Paste):
            # The person cannot see the screen under the notice: nothing may act on it (an Enter
            # submitting a form), and nothing done here is presence, so the idle wipe still comes.
            return
        if isinstance(
            event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp | events.Paste
        ):
            self._last_input = time.monotonic()
            self._warned = False
        await super().on_event(event)

    def _check_idle(self) -> None:
        if not self.screen_stack:
            return  # the App is closing (the timer can fire once after the last screen is gone)
        if self.session.failed or (self.session.signed_in is None and isinstance(self.screen, WelcomeScreen)):
            return  # nobody's session to wipe (and a start-up failure must stay on screen)
        idle = time.monotonic() - self._last_input
        if idle >= self.idle_timeout:
            self.end_session(Ending.TIMEOUT)
        elif idle >= self.idle_timeout - self.idle_warning and not self._warned:
            self._warned = True
            left = int(self.idle_timeout - idle)
            self.notify(
                f_(
                    "Still there? This session ends in {left} seconds. Make the window larger, then press any key.",
                    left=left,
                )
                if self.too_small
                else f_("Still there? This session ends in {left} seconds. Press any key to continue.", left=left),
                title=_("Shared kiosk"),
                severity="warning",
                timeout=self.idle_warning,
            )

    # -- a terminal below 80x24 --------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        # Decided here, before the next key is read (the screens are resized a moment later).
        self.terminal_size = event.size
        self.too_small = too_small(event.size)
        self._fit()

    def _fit(self) -> None:
        """Cover the current screen with the notice while the terminal is too small; take it
        away from every screen once it is large enough. The screens stay as they were."""
        size = self.terminal_size
        for screen in self.screen_stack:
            notices = screen.query_children(SmallTerminalNotice)
            if not self.too_small:
                notices.remove()
            elif notices:
                notices.first().show_size(size)
            elif screen is self.screen and screen.is_mounted:
                screen.mount(SmallTerminalNotice(size))

    # -- never ending on an error (security rule 30) ---------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Textual's hook for whatever a screen's compose or mount, a handler on a screen, a
        timer or a worker raised; by default it ends the App, leaving the provider at a shell."""
        if not self.is_running or self._exit:
            super()._handle_exception(error)  # not started yet (bad stylesheet), or leaving anyway
            return
        self.call_later(self.recover, error.error if isinstance(error, WorkerFailed) else error)

    async def _on_message(self, message: Message) -> None:
        # The App's own handlers, and every key binding's action (whichever screen defines it),
        # run here; what they raise would stop the App's message loop, which nothing restarts.
        try:
            await super()._on_message(message)
        except Exception as exc:
            self.recover(exc)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.recover(message.error)

    def recover(self, error: BaseException) -> None:
        """Wipe the session and say what happened, with a way on (sign in again, or back to
        the welcome screen); the details of a bug go to the log, without its text."""
        from core.errors import KioskError
        from screens.failure import FailureScreen, explain, log_unexpected

        if not isinstance(error, KioskError):
            log_unexpected(error)
        if isinstance(self.screen, FailureScreen) and not self.screen.is_mounted:
            return  # one failure at a time: the screen for the first is on its way
        purpose = self.purpose
        self._wipe()
        self.show(FailureScreen(self.session, explain(error), purpose))

    # -- routing ---------------------------------------------------------------------------

    def show(self, screen: KioskScreen) -> None:
        # Drop any dialog (help) first, so nothing is left above the new screen.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(screen)

    def go_to(self, entry: Entry) -> None:
        """Show the screen `entry` prepares, once its entry call has answered."""
        self._route += 1
        self._prepare(self._route, entry)

    @work(thread=True, exit_on_error=False, group="route", description="a screen's entry call")
    def _prepare(self, route: int, entry: Entry) -> None:
        try:
            build = entry(self.session)
        except Exception as exc:
            self.call_from_thread(self._arrive, route, None, exc)
        else:
            self.call_from_thread(self._arrive, route, build, None)

    def _arrive(self, route: int, build: Callable[[], KioskScreen] | None, error: Exception | None) -> None:
        if route != self._route:
            return  # the person moved on (signed out, timed out) while it was prepared
        if error is not None:
            self.recover(error)
            return
        assert build is not None
        self.show(build())

    def show_step(self) -> None:
        from screens.enrollment.two_factor_settings import TwoFactorSettingsScreen

        enrollment = self.session.enrollment
        if enrollment is None:
            self.go_to(TwoFactorSettingsScreen.enter)
        else:
            self.go_to(step_screens()[enrollment.state].enter)

    @on(Start)
    def _start(self, message: Start) -> None:
        from screens.sign_in import SignInScreen

        self._route += 1
        self.purpose = message.purpose
        self.show(SignInScreen(self.session, message.purpose))

    @on(SignedInFor)
    def _signed_in(self, message: SignedInFor) -> None:
        self.purpose = message.purpose
        if message.purpose is Purpose.USE_TOKEN:
            from screens.token_signed_in import TokenSignedInScreen

            self.go_to(TokenSignedInScreen.enter)
        elif message.purpose is Purpose.IT:
            self.enter_it_area()
        else:
            from screens.enrollment.two_factor_settings import TwoFactorSettingsScreen

            self.session.enrollment = None
            self.go_to(TwoFactorSettingsScreen.enter)

    @on(StepDone)
    def _step_done(self) -> None:
        self.show_step()

    @on(EndSession)
    def _end(self, message: EndSession) -> None:
        # A finished guided setup goes back to the IT staff member who ran it (issue 6).
        it_staff = self.session.guide if message.reason is Ending.FINISHED else None
        self.end_session(message.reason)
        if it_staff is not None:
            self.session.signed_in = it_staff
            self.enter_it_area()

    def _wipe(self) -> None:
        """Forget everything of the person who was here."""
        self._route += 1
        if self.scanner is not None:
            self.scanner.stop()
        self.session.wipe()
        self.allow_exit = False
        self.purpose = Purpose.ENROLL
        i18n.use(self.settings.language)  # the next person starts in the kiosk's language
        self._warned = False
        self._last_input = time.monotonic()
        self.clear_notifications()

    def end_session(self, reason: Ending) -> None:
        """Wipe everything of the person who was here, and show the welcome screen."""
        self._wipe()
        self.show(WelcomeScreen(self.session))
        if reason is Ending.TIMEOUT:
            self.notify(_("Your session ended after a period without input."), title=_("Shared kiosk"), timeout=8)

    def enter_it_area(self) -> None:
        from screens.it.area import ItAreaScreen

        self._route += 1
        self.purpose = Purpose.IT
        self.allow_exit = True
        self.show(ItAreaScreen(self.session))

    # -- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_contrast(self) -> None:
        """The person at the kiosk's choice, until the kiosk restarts: it is not theirs to keep
        in their session, and a wipe must not flip the screen under the next person's eyes."""
        self.theme = DEFAULT_THEME if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quit":
            return self.allow_exit
        return True

    def action_leave_kiosk(self) -> None:
        """Only from the IT staff area, after an IT sign-in."""
        if self.allow_exit:
            self.session.wipe()
            self.exit(0)


def create_app(settings: Settings, services: Services | None = None) -> KioskApp:
    """The App for `settings`. With `services` (tests, the demo builder) it is ready at once;
    without, it opens them in the background after drawing the welcome screen."""
    demo_images = settings.data_dir / "cronto" if settings.demo else None
    note = "Keys are in a demo-only keyring file inside the demo folder." if settings.keyring != "system" else ""
    session = KioskSession(
        demo=settings.demo,
        demo_images=demo_images,
        keyring_note=note,
        # Without an [smtp] section the demo's notices go to .eml files (kiosk.mail.sender_for).
        demo_outbox=settings.demo and settings.smtp is None,
        demo_tokens=settings.demo and settings.keyring == "demo-file",
    )
    if services is not None:
        session.attach(services.system)
    camera = None if settings.camera in ("", "none") else settings.camera
    if settings.demo and settings.camera == "0":
        camera = _camera_if_present()
    app = KioskApp(session, settings, ScanService(camera, settings.scan_timeout))
    app.services = services
    return app


def _camera_if_present() -> str | None:
    """The demo uses camera 0 only if one exists; otherwise the image files."""
    return "0" if Path("/dev/video0").exists() else None
