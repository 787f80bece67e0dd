"""The IT console: the kiosk App with only the IT sign-in and the IT staff area, for a browser at
an IT desk (`ipkiosk serve` runs one per browser session).

No provider flow: it needs the kiosk's camera and the provider in front of it. The rest state is a
blank IT sign-in instead of the welcome screen; signing out (and the idle wipe) comes back to it,
and leaving the IT area ends the App, which ends that browser session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events
from textual.widget import AwaitMount

from kiosk.app import KioskApp
from screens.base import KioskScreen
from screens.messages import Ending, Purpose
from screens.session import KioskSession
from screens.sign_in import SignInScreen
from screens.welcome import WelcomeScreen

if TYPE_CHECKING:
    from kiosk.config import Settings
    from kiosk.services import Services

FIELDS = ("#username", "#password", "#code")


class ItConsoleSignIn(SignInScreen):
    """The IT sign-in as the console's first screen."""

    def __init__(self, session: KioskSession) -> None:
        super().__init__(session, Purpose.IT)

    def is_blank(self) -> bool:
        """Nothing typed yet: nobody's input for the idle wipe to clear."""
        from textual.widgets import Input

        return self.is_mounted and not any(self.query_one(f, Input).value for f in FIELDS)


GUIDED_SETUP_ELSEWHERE = "Guided token setup runs at the kiosk, with the provider there."


class ItConsoleApp(KioskApp):
    TITLE = "iPrescribe kiosk · IT console"

    def on_mount(self, event: events.Mount | None = None) -> None:
        # Instead of the kiosk's on_mount, which Textual would call after this one.
        if event is not None:
            event.prevent_default()
        self.push_screen(ItConsoleSignIn(self.session))
        self.set_interval(1.0, self._check_idle)

    def show(self, screen: KioskScreen) -> None:
        # Whatever would go back to the welcome screen (sign-out, cancel, the idle wipe, a
        # failure's way on) comes back to a blank IT sign-in here.
        if isinstance(screen, WelcomeScreen):
            screen = ItConsoleSignIn(self.session)
        super().show(screen)

    def _check_idle(self) -> None:
        if self.session.signed_in is None and isinstance(self.screen, ItConsoleSignIn) and self.screen.is_blank():
            return  # the console at rest: nothing to wipe, no "session ended" every two minutes
        super()._check_idle()

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        # Guided token setup has the provider sign in and walks the setup steps: a provider
        # flow, for the kiosk. Matched by name: the IT screens are moving between modules.
        if type(screen).__name__ == "ItGuidedSetupScreen":
            self.notify(GUIDED_SETUP_ELSEWHERE, severity="warning")
            return AwaitMount(self.screen, [])
        return super().push_screen(screen, *args, **kwargs)

    def show_step(self) -> None:
        """A provider's setup step: not in the console. Nothing in it leads here; should anything
        do so, whoever is signed in may be the provider, so the whole session is wiped."""
        self.end_session(Ending.CANCELLED)
        self.notify(GUIDED_SETUP_ELSEWHERE, severity="warning")


def create_it_console(settings: Settings, services: Services | None = None) -> ItConsoleApp:
    """The IT console for `settings`: like the kiosk's App, but never with a camera."""
    from kiosk.app import create_app

    # The kiosk's own App is made only for its session, so the console's session is set up
    # (demo banner, keyring note, services attached) exactly as the kiosk's is.
    kiosk = create_app(settings, services)
    app = ItConsoleApp(kiosk.session, settings, None)
    app.services = services
    return app
