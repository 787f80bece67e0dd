"""The kiosk App: built by `create_app` from settings and services; routes between screens by the
enrollment's state; wipes an idle session; offers no way out to providers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import App
from textual.binding import Binding, BindingType

from kiosk.config import Settings
from kiosk.scan_service import ScanService
from screens.base import KioskScreen
from screens.help import HelpScreen
from screens.messages import EndSession, SignedInFor, Start, StepDone
from screens.session import KioskSession
from screens.startup_failed import StartupFailedScreen
from screens.welcome import WelcomeScreen

if TYPE_CHECKING:
    from kiosk.services import Services

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def step_screens() -> dict[str, type[KioskScreen]]:
    """The screen for each enrollment step. Imported on first use, not at start-up: they pull
    in the domain (SQLAlchemy, cryptography), which the welcome screen does not need."""
    from screens.authenticator_binding import AuthenticatorBindingScreen
    from screens.binding_stopped import BindingStoppedScreen
    from screens.code_generator import CodeGeneratorScreen
    from screens.confirm import ConfirmScreen
    from screens.select_method import SelectMethodScreen
    from screens.serial_number import SerialNumberScreen
    from screens.setup_complete import SetupCompleteScreen
    from screens.synchronize import SynchronizeScreen
    from screens.test_sign_in import TestSignInScreen

    return {
        "select_method": SelectMethodScreen,
        "app_binding": AuthenticatorBindingScreen,
        "redirected": BindingStoppedScreen,
        "code_generator": CodeGeneratorScreen,
        "serial_number": SerialNumberScreen,
        "synchronize": SynchronizeScreen,
        "confirm": ConfirmScreen,
        "test_sign_in": TestSignInScreen,
        "done": SetupCompleteScreen,
    }


class KioskApp(App[int], inherit_bindings=False):
    """No quit key for providers (security rule 21): only IT staff can leave."""

    CSS_PATH = str(ASSETS / "kiosk.tcss")
    TITLE = "iPrescribe enrollment kiosk"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f1", "help", "Help", show=False)]

    def __init__(self, session: KioskSession, settings: Settings, scanner: ScanService | None) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.scanner = scanner
        self.idle_timeout = settings.idle_timeout
        self.idle_warning = min(settings.idle_warning, settings.idle_timeout / 2)
        self._last_input = time.monotonic()
        self._warned = False
        self.allow_exit = False  # set only inside the IT staff area
        self.services: Services | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def on_mount(self) -> None:
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
        if isinstance(
            event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp | events.Paste
        ):
            self._last_input = time.monotonic()
            self._warned = False
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.session.failed or (self.session.signed_in is None and isinstance(self.screen, WelcomeScreen)):
            return  # nobody's session to wipe (and a start-up failure must stay on screen)
        idle = time.monotonic() - self._last_input
        if idle >= self.idle_timeout:
            self.end_session("timeout")
        elif idle >= self.idle_timeout - self.idle_warning and not self._warned:
            self._warned = True
            left = int(self.idle_timeout - idle)
            self.notify(
                f"Still there? This session ends in {left} seconds. Press any key to continue.",
                title="Shared kiosk",
                severity="warning",
                timeout=self.idle_warning,
            )

    # -- routing ---------------------------------------------------------------------------

    def show(self, screen: KioskScreen) -> None:
        # Drop any dialog (help) first, so nothing is left above the new screen.
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(screen)

    def show_step(self) -> None:
        enrollment = self.session.enrollment
        if enrollment is None:
            from screens.two_factor_settings import TwoFactorSettingsScreen

            self.show(TwoFactorSettingsScreen(self.session))
            return
        if enrollment.state == "npi_verification":
            from screens.npi_verification import NpiVerificationScreen

            self.show(NpiVerificationScreen(self.session, self.scanner))
        else:
            self.show(step_screens()[enrollment.state.value](self.session))

    @on(Start)
    def _start(self, message: Start) -> None:
        from screens.sign_in import SignInScreen

        self.show(SignInScreen(self.session, message.purpose))

    @on(SignedInFor)
    def _signed_in(self, message: SignedInFor) -> None:
        if message.purpose == "token":
            from screens.token_signed_in import TokenSignedInScreen

            self.show(TokenSignedInScreen(self.session))
        elif message.purpose == "it":
            self.enter_it_area()
        else:
            from screens.two_factor_settings import TwoFactorSettingsScreen

            self.session.enrollment = None
            self.show(TwoFactorSettingsScreen(self.session))

    @on(StepDone)
    def _step_done(self) -> None:
        self.show_step()

    @on(EndSession)
    def _end(self, message: EndSession) -> None:
        # A finished guided setup goes back to the IT staff member who ran it (issue 6).
        from core.signin import SignedIn
        from screens.it_base import GUIDING_IT_STAFF

        it_staff = self.session.extras.get(GUIDING_IT_STAFF) if message.reason == "finished" else None
        self.end_session(message.reason)
        if isinstance(it_staff, SignedIn):
            self.session.signed_in = it_staff
            self.enter_it_area()

    def end_session(self, reason: str) -> None:
        """Wipe everything of the person who was here, and show the welcome screen."""
        if self.scanner is not None:
            self.scanner.stop()
        self.session.wipe()
        self.allow_exit = False
        self._warned = False
        self._last_input = time.monotonic()
        self.clear_notifications()
        self.show(WelcomeScreen(self.session))
        if reason == "timeout":
            self.notify("Your session ended after a period without input.", title="Shared kiosk", timeout=8)

    def enter_it_area(self) -> None:
        from screens.it_area import ItAreaScreen

        self.allow_exit = True
        self.show(ItAreaScreen(self.session))

    # -- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

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
    session = KioskSession(demo=settings.demo, demo_images=demo_images, keyring_note=note)
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
