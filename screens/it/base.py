"""What every IT staff screen shares: who is acting, the admin operations, and the way back.

IT screens are pushed on top of the IT staff area; Escape or "Back" returns there. Every change
goes through core.admin.Administration with the signed-in IT staff member as the audit actor.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual import on
from textual.widgets import Button

from core.admin import Administration
from screens.base import KioskScreen
from screens.session import KioskSession


def when(epoch: float | None) -> str:
    """A timestamp as IT staff read it in tables (UTC, minutes)."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M")


class ItScreen(KioskScreen):
    """One task of the IT staff area."""

    AREA = ""

    def __init__(self, session: KioskSession) -> None:
        super().__init__(session)
        self.TITLE_TEXT = f"IT staff area · {self.AREA}" if self.AREA else "IT staff area"

    @property
    def it_user(self) -> str:
        signed = self.session.signed_in
        assert signed is not None and signed.account.role.value == "it_staff"
        return signed.account.username

    def admin(self) -> Administration:
        return Administration(self.session.system, self.it_user)

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    def action_back(self) -> None:
        self.forget()
        self.dismiss(None)

    def forget(self) -> None:
        """Clear anything sensitive shown or typed here (codes, passphrases) before leaving."""
