"""After "Using your hardware token": the sign-in worked; sign out to leave the kiosk clean."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from screens.base import BackupCodesLeftScreen
from screens.i18n import N_, _, f_
from screens.messages import Ending, EndSession


class TokenSignedInScreen(BackupCodesLeftScreen):
    TITLE_TEXT = N_("Using your hardware token")

    def body(self) -> ComposeResult:
        signed = self.session.signed_in
        assert signed is not None
        how = (
            _("a backup code")
            if signed.second_factor == "backup_code"
            else f_("token {serial}", serial=signed.second_factor)
        )
        left = self.backup_codes_left
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(
                f_("Signed in as {name} with {how}.", name=signed.account.greeting_name, how=how), classes="success"
            )
            if signed.second_factor == "backup_code":
                yield Static(
                    f_(
                        "That backup code is now used up; {left} left. If your token is lost or "
                        "damaged, contact your IT administrator for a replacement.",
                        left=left,
                    ),
                    classes="notice",
                )
            yield Static(_("Your token works. Remember: each code can only be used once."), classes="lead")
            with Horizontal(classes="buttons"):
                yield Button(_("Sign out"), id="signout", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#signout", Button).focus()

    @on(Button.Pressed, "#signout")
    def sign_out(self) -> None:
        self.post_message(EndSession(Ending.SIGNED_OUT))
