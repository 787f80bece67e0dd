"""What one person at the kiosk has going: who signed in, and their enrollment.

The App holds exactly one; `wipe()` forgets it all (idle timeout, sign-out, finish). The domain
(`system`) is attached once the App has opened the store and keyring, which it does after the
first screen is drawn; code on worker threads that needs it waits for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.enrollment import Enrollment
from core.errors import KioskError, StepOutOfOrder

if TYPE_CHECKING:
    from core.signin import SignedIn
    from core.system import KioskSystem
    from screens.scanning import ScanService

STARTUP_WAIT_SECONDS = 60.0


@dataclass
class KioskSession:
    demo: bool = False
    demo_images: Path | None = None  # the demo's cronto images, offered when there is no camera
    keyring_note: str = ""  # shown on screen when the keyring is a demo-only one
    demo_outbox: bool = False  # the demo writes its binding notifications as .eml files in DIR/outbox/
    # The store holds demo seeds only (demo data with the demo-only keyring file, the rule of
    # `ipkiosk token-sim`): only then may a screen show a token's codes (F3 on the token steps).
    demo_tokens: bool = False
    scanner: ScanService | None = None  # the kiosk's camera (or image files): not the person's, kept on wipe
    signed_in: SignedIn | None = None
    enrollment: Enrollment | None = None
    # The IT staff member running guided setup for the provider (their own sign-in, kept so
    # that finishing the setup returns to the IT staff area); the audit's actor meanwhile.
    guide: SignedIn | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    _system: KioskSystem | None = None
    _failure: KioskError | None = None

    def attach(self, system: KioskSystem) -> None:
        self._system = system
        self.ready.set()

    def fail(self, error: KioskError) -> None:
        self._failure = error
        self.ready.set()

    @property
    def failed(self) -> bool:
        return self._failure is not None

    @property
    def system(self) -> KioskSystem:
        """The domain; blocks (on a worker thread) until the App has opened it."""
        if not self.ready.wait(STARTUP_WAIT_SECONDS) or self._system is None:
            raise self._failure or KioskError("The kiosk is still starting.", "Try again in a moment.")
        return self._system

    @property
    def username(self) -> str | None:
        return self.signed_in.account.username if self.signed_in else None

    @property
    def current_enrollment(self) -> Enrollment:
        """The enrollment a step screen works on; a step reached without one (after a wipe)
        is refused like any out-of-order step."""
        if self.enrollment is None:
            raise StepOutOfOrder("There is no setup in progress.")
        return self.enrollment

    def begin_enrollment(self) -> Enrollment:
        assert self.signed_in is not None
        actor = self.guide.account.username if self.guide is not None else None
        self.enrollment = Enrollment.start(self.system, self.signed_in, actor)
        return self.enrollment

    def wipe(self) -> None:
        if self.enrollment is not None:
            self.enrollment.wipe()
        self.enrollment = None
        self.signed_in = None
        self.guide = None
