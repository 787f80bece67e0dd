"""Step 1 (continued): Security Settings > Two-Factor Authentication: what is bound now."""

from __future__ import annotations

from datetime import UTC, datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from screens.base import BackupCodesLeftScreen
from screens.i18n import N_, _, f_
from screens.messages import Ending, EndSession, StepDone
from screens.widgets.tables import Table

METHOD_NAMES = {"authenticator": "iPrescribe Authenticator", "code_generator": N_("Code Generator (hardware token)")}
STATE_NAMES = {
    "assigned": N_("assigned"),
    "locked": N_("locked"),
    "revoked": N_("revoked"),
    "available": N_("available"),
}


class TwoFactorSettingsScreen(BackupCodesLeftScreen):
    TITLE_TEXT = N_("Step 1 of 8 · Security Settings › Two-Factor Authentication")

    def body(self) -> ComposeResult:
        signed = self.session.signed_in
        assert signed is not None
        with VerticalScroll(classes="page", can_focus=False):
            yield Static(_("Security Settings › Two-Factor Authentication"), classes="title")
            yield Static(
                f_(
                    "Signed in as {name} ({username}).",
                    name=signed.account.greeting_name,
                    username=signed.account.username,
                ),
                classes="lead",
            )
            if signed.factors:
                yield Static(_("Authentication methods bound to your account:"))
                table = Table(id="factors", cursor_type="none", show_cursor=False)
                table.add_columns(_("Method"), _("Serial"), _("State"), _("Bound"))
                for f in signed.factors:
                    bound = datetime.fromtimestamp(f.bound_at, tz=UTC).strftime("%Y-%m-%d") if f.bound_at else "-"
                    table.add_row(
                        _(METHOD_NAMES[f.method.value]),
                        f.serial,
                        _(STATE_NAMES.get(f.state.value, f.state.value)),
                        bound,
                    )
                yield table
            else:
                yield Static(_("No two-factor method is bound to your account yet."), id="factors-none")
            yield Static(f_("Backup codes left: {count}", count=self.backup_codes_left), classes="hint")
            with Horizontal(classes="buttons"):
                yield Button(_("Set up a method"), id="setup", variant="primary")
                yield Button(_("Sign out"), id="signout")

    def on_mount(self) -> None:
        self.query_one("#setup", Button).focus()

    @on(Button.Pressed, "#setup")
    def setup(self) -> None:
        self.session.begin_enrollment()
        self.post_message(StepDone())

    @on(Button.Pressed, "#signout")
    def sign_out(self) -> None:
        self.post_message(EndSession(Ending.SIGNED_OUT))

    def action_back(self) -> None:
        self.sign_out()
