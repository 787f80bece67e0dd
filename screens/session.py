"""What one person at the kiosk has going: who signed in, and their enrollment.

The App holds exactly one; `wipe()` forgets it all (idle timeout, sign-out, finish).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.enrollment import Enrollment
from core.signin import SignedIn
from core.system import KioskSystem


@dataclass
class KioskSession:
    system: KioskSystem
    demo: bool = False
    demo_images: Path | None = None  # the demo's cronto images, offered when there is no camera
    keyring_note: str = ""  # shown on screen when the keyring is a demo-only one
    signed_in: SignedIn | None = None
    enrollment: Enrollment | None = None
    guided_by: str | None = None  # IT staff running guided setup for the provider
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def username(self) -> str | None:
        return self.signed_in.account.username if self.signed_in else None

    def begin_enrollment(self) -> Enrollment:
        assert self.signed_in is not None
        self.enrollment = self.system.enrollment(self.signed_in, actor=self.guided_by)
        return self.enrollment

    def wipe(self) -> None:
        if self.enrollment is not None:
            self.enrollment.wipe()
        self.enrollment = None
        self.signed_in = None
        self.guided_by = None
        self.extras.clear()
