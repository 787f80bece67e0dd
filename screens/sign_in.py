"""Step 1: sign in with username and password, then a security code once a factor is bound.

The same screen serves "Using your hardware token" (Purpose.USE_TOKEN) and the IT staff area
(Purpose.IT). Every refusal is explained in the article's troubleshooting words.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from core.accounts import Role
from core.errors import KioskError
from core.signin import CodeRefused, CodeRequired, SignedIn
from screens.base import KioskScreen
from screens.messages import Ending, EndSession, Purpose, SignedInFor
from screens.session import KioskSession

TITLES = {
    Purpose.ENROLL: ("Step 1 of 8 · Access two-factor authentication settings", "Sign in to iPrescribe"),
    Purpose.USE_TOKEN: ("Using your hardware token", "Sign in to iPrescribe"),
    Purpose.IT: ("IT staff area", "IT staff sign-in"),
}


class SignInScreen(KioskScreen):
    def __init__(self, session: KioskSession, purpose: Purpose = Purpose.ENROLL) -> None:
        super().__init__(session)
        self.purpose = purpose
        self.TITLE_TEXT = TITLES[purpose][0]

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page"):
            yield Static(TITLES[self.purpose][1], classes="title")
            yield Static("Use your iPrescribe username and password.", classes="lead")
            yield Label("Username", classes="field-label")
            yield Input(id="username", max_length=64, placeholder="username")
            yield Label("Password", classes="field-label")
            yield Input(id="password", password=True, max_length=256, placeholder="password")
            yield Label("Security code", classes="field-label", id="code-label")
            yield Input(id="code", max_length=24, placeholder="code from your token, or a backup code")
            yield Static(
                "Press the button on your hardware token and enter the displayed code. "
                "No token with you? Enter one of your backup codes.",
                classes="hint",
                id="code-hint",
            )
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button("Sign in", id="submit", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._show_code(False)
        self.query_one("#username", Input).focus()

    def _show_code(self, show: bool) -> None:
        for wid in ("#code-label", "#code", "#code-hint"):
            self.query_one(wid).display = show

    @on(Input.Submitted, "#username")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        code_input = self.query_one("#code", Input)
        code = code_input.value.strip() if code_input.display else None
        if not username or not password:
            self.show_error("Enter your username and password.")
            return
        if code_input.display and not code:
            self.show_error("Enter the security code from your token.")
            code_input.focus()
            return
        self.clear_error()
        self.query_one("#submit", Button).disabled = True
        session = self.session  # its `system` may still be opening: the worker waits for it
        self.run_domain(lambda: session.system.signin.sign_in(username, password, code), self._signed_in, self._refused)

    def _signed_in(self, signed: SignedIn) -> None:
        self._forget_secrets()
        if self.purpose is Purpose.IT and signed.account.role is not Role.IT_STAFF:
            self._enable()
            self.show_error("This area is for IT staff only.")
            return
        if self.purpose is Purpose.IT and signed.second_factor is None:
            self._enable()
            self.show_error("IT staff need their own bound token to open this area. Ask another IT staff member.")
            return
        self.session.signed_in = signed
        self.post_message(SignedInFor(self.purpose))

    def _refused(self, exc: KioskError) -> None:
        self._enable()
        code_input = self.query_one("#code", Input)
        if isinstance(exc, CodeRequired):
            self._show_code(True)
            self.clear_error()
            code_input.focus()
            return
        code_input.value = ""
        if isinstance(exc, CodeRefused):
            code_input.focus()
        else:
            self.query_one("#password", Input).value = ""
            self.query_one("#password", Input).focus()
        self.show_error(exc)

    def _enable(self) -> None:
        self.query_one("#submit", Button).disabled = False

    def _forget_secrets(self) -> None:
        for wid in ("#password", "#code"):
            self.query_one(wid, Input).value = ""

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self._forget_secrets()
        self.post_message(EndSession(Ending.CANCELLED))

    def action_back(self) -> None:
        self.cancel()
