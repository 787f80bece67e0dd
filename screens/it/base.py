"""What every IT staff screen shares: who is acting, the admin operations, and the way back.

IT screens are pushed on top of the IT staff area; Escape or "Back" returns there. Every change
goes through core.admin.Administration with the signed-in IT staff member as the audit actor.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual import on
from textual.containers import VerticalScroll
from textual.visual import VisualType
from textual.widgets import Button, Static

from core.admin import Administration
from screens.base import KioskScreen
from screens.session import KioskSession


def when(epoch: float | None) -> str:
    """A timestamp as IT staff read it in tables (UTC, minutes)."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M")


class Note(Static):
    """A line of feedback (an error, a result, a count). Marked `-empty` while it says nothing,
    so a short terminal gives its line to the page (assets/kiosk.tcss) rather than scroll."""

    def __init__(self, content: str = "", *, id: str | None = None, classes: str = "") -> None:
        super().__init__(content, id=id, classes=classes)
        self.set_class(not content, "-empty")

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(content, layout=layout)
        self.set_class(not str(content), "-empty")


class Report(VerticalScroll):
    """A long result that scrolls inside itself. A focus stop only while it has more than it
    shows (there is nothing for the keys to do otherwise: no empty stop on Tab)."""

    def allow_focus(self) -> bool:
        return self.max_scroll_y > 0 or self.max_scroll_x > 0


class ItScreen(KioskScreen):
    """One task of the IT staff area."""

    AREA = ""

    def __init__(self, session: KioskSession) -> None:
        super().__init__(session)
        self.TITLE_TEXT = f"IT staff area · {self.AREA}" if self.AREA else "IT staff area"

    @property
    def it_user(self) -> str:
        return self.admin().actor

    def admin(self) -> Administration:
        """Built on each use from who is signed in: refused (NotAllowed) once nobody is."""
        return Administration.for_staff(self.session.system, self.session.signed_in)

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    def action_back(self) -> None:
        self.forget()
        self.dismiss(None)

    def forget(self) -> None:
        """Clear anything sensitive shown or typed here (codes, passphrases) before leaving."""
