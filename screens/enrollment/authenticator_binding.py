"""NPI verified: bind the iPrescribe Authenticator app with a QR code and one code from it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Self

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from core.enrollment import AppOffer
from core.errors import KioskError
from screens.enrollment.base import StepScreen
from screens.i18n import _
from screens.session import KioskSession
from screens.widgets.qr_code import QrCode


class AuthenticatorBindingScreen(StepScreen):
    def __init__(self, session: KioskSession, offer: AppOffer) -> None:
        super().__init__(session)
        self.offer = offer

    @classmethod
    def enter(cls, session: KioskSession) -> Callable[[], Self]:
        # Refused here, not while laid out, when the sign-in is too old (FreshSignInRequired).
        return partial(cls, session, session.current_enrollment.begin_app_binding())

    def body(self) -> ComposeResult:
        offer = self.offer
        # No title or top padding here: the whole QR code must fit on an 80x24 screen, since a
        # phone cannot scan half of one. The header already names the step.
        with VerticalScroll(classes="page", can_focus=False, id="binding-page"), Horizontal(id="qr-row"):
            yield QrCode(offer.uri, id="qr")
            with Vertical(id="qr-side"):
                if self.enrollment.npi_outcome is not None and str(self.enrollment.npi_outcome) != "verified":
                    yield Static(
                        _(
                            "Legacy mode: IP-Auth-Stop-Binding-2.0 is off on this kiosk, so the app may be "
                            "bound although your NPI was not verified."
                        ),
                        classes="notice",
                    )
                yield Static(
                    _(
                        "1. Open iPrescribe Authenticator on your phone.\n"
                        "2. Add an account and scan this QR code.\n"
                        "3. Enter the 6-digit code the app shows."
                    ),
                    classes="lead",
                )
                yield Static(_("Can't scan? Enter this key in the app:"), classes="hint")
                yield Static(offer.manual_key, id="manual-key")
                yield Label(_("Code from the app"), classes="field-label")
                yield Input(id="code", max_length=7, placeholder=_("6 digits"), restrict=r"[0-9 ]*")
                yield Static("", classes="error", id="error")
                with Horizontal(classes="buttons"):
                    yield Button(_("Confirm"), id="confirm", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#code", Input).focus()

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        code = self.query_one("#code", Input).value
        if not code.strip():
            self.show_error(_("Enter the 6-digit code shown in the app."))
            return
        self.query_one("#confirm", Button).disabled = True
        self.run_domain(lambda: self.enrollment.confirm_app_binding(code), self._bound, self._refused)

    def _bound(self, _codes: list[str]) -> None:
        self.query_one("#qr", QrCode).clear()
        self.query_one("#manual-key", Static).update("")
        self.step_done()

    def _refused(self, exc: KioskError) -> None:
        self.query_one("#confirm", Button).disabled = False
        self.query_one("#code", Input).value = ""
        self.show_error(exc)
