"""Step 1: sign in with username and password, then a security code once a factor is bound.

The same screen serves "Using your hardware token" (Purpose.USE_TOKEN) and the IT staff area
(Purpose.IT). Every refusal is explained in the article's troubleshooting words.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from core.admin import Administration
from core.errors import KioskError, NotAllowed
from core.signin import SignedIn
from screens.base import KioskScreen
from screens.i18n import N_, _
from screens.messages import Ending, EndSession, Purpose, SignedInFor
from screens.session import KioskSession
from screens.widgets.sign_in_form import SignInForm

TITLES = {
    Purpose.ENROLL: (N_("Step 1 of 8 · Access two-factor authentication settings"), N_("Sign in to iPrescribe")),
    Purpose.USE_TOKEN: (N_("Using your hardware token"), N_("Sign in to iPrescribe")),
    Purpose.IT: ("IT staff area", "IT staff sign-in"),
}

MISSING = {"password": N_("Enter your username and password."), "code": N_("Enter the security code from your token.")}


class SignInScreen(KioskScreen):
    def __init__(self, session: KioskSession, purpose: Purpose = Purpose.ENROLL) -> None:
        super().__init__(session)
        # Purpose(...): a plain string ("it") would fail every `is` test below, skipping the IT
        # staff rule and the way into the area.
        self.purpose = Purpose(purpose)
        self.TITLE_TEXT = _(TITLES[self.purpose][0])

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_(TITLES[self.purpose][1]), classes="title")
            yield Static(_("Use your iPrescribe username and password."), classes="lead")
            yield SignInForm(code_placeholder=_("code from your token, or a backup code"), id="sign-in")
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button(_("Sign in"), id="submit", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    @property
    def form(self) -> SignInForm:
        return self.query_one("#sign-in", SignInForm)

    def on_mount(self) -> None:
        self.form.focus()

    @on(SignInForm.Submitted)
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        missing = self.form.missing()
        if missing is not None:
            self.show_error(_(MISSING["password" if missing == "password" else "code"]))
            return
        username, password, code = self.form.entered()
        self.clear_error()
        self.query_one("#submit", Button).disabled = True
        session = self.session  # its `system` may still be opening: the worker waits for it
        self.run_domain(lambda: session.system.signin.sign_in(username, password, code), self._signed_in, self._refused)

    def _signed_in(self, signed: SignedIn) -> None:
        self.form.forget()
        if self.purpose is Purpose.IT:
            try:
                Administration.for_staff(self.session.system, signed)
            except NotAllowed as exc:
                self._enable()
                self.show_error(exc)
                return
        self.session.signed_in = signed
        self.post_message(SignedInFor(self.purpose))

    def _refused(self, exc: KioskError) -> None:
        self._enable()
        if self.form.refused(exc):
            self.clear_error()
        else:
            self.show_error(exc)

    def _enable(self) -> None:
        self.query_one("#submit", Button).disabled = False

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.form.forget()
        self.post_message(EndSession(Ending.CANCELLED))

    def action_back(self) -> None:
        self.cancel()
