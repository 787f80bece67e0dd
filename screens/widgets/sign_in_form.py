"""Username (unless already known), password, and a security code once the account needs one:
the one sign-in form of the kiosk (step 1, "Using your hardware token", the IT staff area, and a
provider signing in during guided setup). It answers a refusal in one way everywhere: a code is
asked for only when the password was right, and a refused password is never left in its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from core.errors import KioskError
from core.signin import CodeRefused, CodeRequired
from screens.i18n import _
from screens.widgets.fields import LeadingInput


class SignInForm(Vertical):
    @dataclass
    class Submitted(Message):
        """Enter in the last field shown. `code` is None while no code was asked for."""

        form: SignInForm
        username: str
        password: str
        code: str | None

    DEFAULT_CSS = """
    SignInForm { height: auto; }
    """

    def __init__(self, *, username: str | None = None, whose: str = "", code_placeholder: str, id: str) -> None:
        super().__init__(id=id)
        self.username = username  # known already (guided setup): no username field
        self.whose = whose  # "Provider's" when IT staff read the screen too
        self.code_placeholder = code_placeholder

    def compose(self) -> ComposeResult:
        if self.username is None:
            yield Label(_("Username"), classes="field-label")
            yield LeadingInput(id="username", leads_to="#password", max_length=64, placeholder=_("username"))
        yield Label(f"{self.whose} password" if self.whose else _("Password"), classes="field-label")
        yield Input(id="password", password=True, max_length=256, placeholder=_("password"))
        yield Label(_("Security code"), classes="field-label", id="code-label")
        yield Input(id="code", max_length=24, placeholder=self.code_placeholder)
        yield Static(
            _(
                "Press the button on your hardware token and enter the displayed code. "
                "No token with you? Enter one of your backup codes."
            ),
            classes="hint",
            id="code-hint",
        )

    def on_mount(self) -> None:
        self.ask_code(False)

    def focus(self, scroll_visible: bool = True) -> SignInForm:
        first = "#username" if self.username is None else "#password"
        self.query_one(first, Input).focus(scroll_visible)
        return self

    def ask_code(self, shown: bool) -> None:
        for wid in ("#code-label", "#code", "#code-hint"):
            self.query_one(wid).display = shown

    @property
    def asks_code(self) -> bool:
        return bool(self.query_one("#code", Input).display)

    def entered(self) -> tuple[str, str, str | None]:
        """(username, password, code); code is None while no code is asked for."""
        username = self.username if self.username is not None else self.query_one("#username", Input).value.strip()
        code = self.query_one("#code", Input).value.strip() if self.asks_code else None
        return username, self.query_one("#password", Input).value, code

    def missing(self) -> Literal["password", "code"] | None:
        """Which field must still be filled in (focused for it), or None; the screen says it in
        its own words (the provider's, or IT staff's guiding them)."""
        username, password, code = self.entered()
        if not username or not password:
            return "password"
        if self.asks_code and not code:
            self.query_one("#code", Input).focus()
            return "code"
        return None

    def refused(self, error: KioskError) -> bool:
        """Answer a refusal; True when it only means "now the code" (nothing to show)."""
        code = self.query_one("#code", Input)
        if isinstance(error, CodeRequired):
            self.ask_code(True)
            code.focus()
            return True
        code.value = ""
        if isinstance(error, CodeRefused):
            code.focus()
        else:
            password = self.query_one("#password", Input)
            password.value = ""
            password.focus()
        return False

    def forget(self) -> None:
        """Clear the password and code (after a sign-in, on cancel, before leaving)."""
        for wid in ("#password", "#code"):
            self.query_one(wid, Input).value = ""

    @on(Input.Submitted, "#password")
    @on(Input.Submitted, "#code")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        username, password, code = self.entered()
        self.post_message(self.Submitted(self, username, password, code))
