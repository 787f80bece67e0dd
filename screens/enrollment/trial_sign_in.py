"""Step 8 (continued): test the setup by signing in again with the new factor."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from core.errors import KioskError
from core.signin import SignedIn
from screens.enrollment.base import StepScreen
from screens.i18n import _, f_


class TrialSignInScreen(StepScreen):
    TOKEN_STEP = True

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_("Test your sign-in"), classes="title")
            yield Static(
                f_(
                    "Sign in again as {username} with your password and a new code, as "
                    "you will every time you log in to iPrescribe.",
                    username=self.enrollment.username,
                ),
                classes="lead",
            )
            yield Label(_("Password"), classes="field-label")
            yield Input(id="password", password=True, max_length=256)
            yield Label(_("Security code"), classes="field-label")
            yield Input(id="code", max_length=24, placeholder=_("press the button on your token"))
            yield Static("", classes="error", id="error")
            with Horizontal(classes="buttons"):
                yield Button(_("Sign in"), id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    def _to_code(self) -> None:
        self.query_one("#code", Input).focus()

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        password = self.query_one("#password", Input).value
        code = self.query_one("#code", Input).value.strip()
        if not password or not code:
            self.show_error(_("Enter your password and the code your token shows."))
            return
        self.query_one("#submit", Button).disabled = True
        self.run_domain(lambda: self.enrollment.test_sign_in(password, code), self._ok, self._refused)

    def _ok(self, _signed: SignedIn) -> None:
        for wid in ("#password", "#code"):
            self.query_one(wid, Input).value = ""
        self.step_done()

    def _refused(self, exc: KioskError) -> None:
        self.query_one("#submit", Button).disabled = False
        self.query_one("#code", Input).value = ""
        self.show_error(exc)
        self.query_one("#code", Input).focus()
