"""Lost or damaged token: revoke it at once (the next sign-in with it fails), give the provider
temporary backup codes, and assign a replacement synced from two consecutive codes."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from core.errors import KioskError
from core.tokens import TokenInfo, TokenState
from screens.it.base import ItScreen, Note
from screens.it.dialogs import BackupCodesDialog, ConfirmDialog
from screens.session import KioskSession
from screens.widgets.two_code_input import TwoCodeInput

REASONS = ("lost", "damaged", "stolen")


class ItLostTokenScreen(ItScreen):
    AREA = "Lost or damaged token"

    def __init__(self, session: KioskSession, serial: str = "") -> None:
        super().__init__(session)
        self.initial_serial = serial
        self.token: TokenInfo | None = None

    def body(self) -> ComposeResult:
        # Each step on as few rows as it needs: the three fit an 80x24 terminal with room for a
        # message, and the backup codes are shown over the page (BackupCodesDialog).
        with VerticalScroll(classes="page", can_focus=False):
            yield Static("Lost or damaged token", classes="title")
            yield Label("1. The provider's token: serial number", classes="field-label")
            with Horizontal(classes="it-row"):
                yield Input(self.initial_serial, id="serial", max_length=64, placeholder="serial of the old token")
                yield Button("Look up", id="lookup")
            yield Note(id="token-info", classes="hint")
            with Horizontal(classes="it-row", id="reason-row"):
                with RadioSet(id="reason"):
                    for reason in REASONS:
                        yield RadioButton(reason.capitalize(), id=reason, value=reason == "lost")
                yield Button("Revoke now", id="revoke", variant="error", disabled=True)
            with Horizontal(classes="it-row", id="codes-row"):
                yield Label("2. Temporary backup codes (the old set stops working)", classes="field-label")
                yield Button("Issue backup codes", id="issue", disabled=True)
            yield Label("3. Replacement token: serial number, then two consecutive codes", classes="field-label")
            with Horizontal(classes="it-row", id="replacement"):
                yield Input(id="new-serial", max_length=64, placeholder="new token's serial")
                yield TwoCodeInput(compact=True, id="new-codes")
            with Horizontal(classes="buttons"):
                yield Button("Assign and sync", id="replace", variant="primary", disabled=True)
                yield Button("Back", id="back")
            yield Note(classes="error", id="error")
            yield Note(classes="success", id="done")

    def on_mount(self) -> None:
        self.query_one("#serial", Input).focus()
        if self.initial_serial:
            self.look_up()

    # -- 1. find and revoke ----------------------------------------------------------------

    @on(Input.Submitted, "#serial")
    @on(Button.Pressed, "#lookup")
    def look_up(self) -> None:
        serial = self.query_one("#serial", Input).value.strip()
        if not serial:
            self.show_error("Enter the serial number of the lost or damaged token.")
            return
        admin = self.admin()
        self.run_domain(lambda: admin.token(serial), self._found, self._failed)

    def _found(self, token: TokenInfo) -> None:
        self.clear_error()
        self.token = token
        if token.owner is None:
            self.query_one("#token-info", Note).update(
                f"Token {token.serial} is not assigned to anyone ({token.state.value}): nothing to replace."
            )
        else:
            state = f"revoked ({token.revoked_reason})" if token.state is TokenState.REVOKED else token.state.value
            self.query_one("#token-info", Note).update(f"Token {token.serial} of {token.owner}: {state}.")
        revoked = token.state is TokenState.REVOKED
        self.query_one("#revoke", Button).disabled = revoked
        self.query_one("#issue", Button).disabled = token.owner is None
        self.query_one("#replace", Button).disabled = token.owner is None
        self.query_one("#revoke" if not revoked else "#issue", Button).focus()

    def _reason(self) -> str:
        pressed = self.query_one("#reason", RadioSet).pressed_button
        return pressed.id if pressed is not None and pressed.id else "lost"

    @on(Button.Pressed, "#revoke")
    def ask_revoke(self) -> None:
        if self.token is None:
            return
        owner = f" of {self.token.owner}" if self.token.owner else ""
        self.app.push_screen(
            ConfirmDialog(
                "Revoke this token?",
                f"Token {self.token.serial}{owner} will stop working at once, reported {self._reason()}. "
                "This cannot be undone.",
                "Revoke",
                danger=True,
            ),
            self._revoke_confirmed,
        )

    def _revoke_confirmed(self, confirmed: bool | None) -> None:
        if not confirmed or self.token is None:
            return
        admin, serial, reason = self.admin(), self.token.serial, self._reason()
        self.run_domain(lambda: admin.revoke(serial, reason), self._revoked, self._failed)

    def _revoked(self, token: TokenInfo) -> None:
        self._found(token)
        self._done(f"Token {token.serial} is revoked ({token.revoked_reason}): a sign-in with it now fails.")

    # -- 2. backup codes -------------------------------------------------------------------

    @on(Button.Pressed, "#issue")
    def issue_codes(self) -> None:
        if self.token is None or self.token.owner is None:
            return
        admin, owner = self.admin(), self.token.owner
        self.run_domain(lambda: admin.issue_backup_codes(owner), self._show_codes, self._failed)

    def _show_codes(self, codes: list[str]) -> None:
        assert self.token is not None
        self._done("New backup codes issued; the provider's old set no longer works.")
        self.app.push_screen(BackupCodesDialog(self.token.owner or "", codes), self._codes_handed_over)

    def _codes_handed_over(self, _handed: bool | None) -> None:
        self.query_one("#new-serial", Input).focus()

    # -- 3. replacement --------------------------------------------------------------------

    @on(TwoCodeInput.Submitted)
    @on(Button.Pressed, "#replace")
    def replace(self) -> None:
        if self.token is None or self.token.owner is None:
            self.show_error("Look up the provider's old token first.")
            return
        new = self.query_one("#new-serial", Input).value.strip()
        current, following = self.query_one("#new-codes", TwoCodeInput).codes
        if not new:
            self.show_error("Enter the serial number of the replacement token.")
            self.query_one("#new-serial", Input).focus()
            return
        if not current.strip() or not following.strip():
            self.show_error("Enter two codes of the new token: the one shown now, then the next one.")
            return
        admin, old = self.admin(), self.token.serial
        self.query_one("#replace", Button).disabled = True
        self.run_domain(lambda: admin.replace(old, new, (current, following)), self._replaced, self._replace_failed)

    def _replaced(self, token: TokenInfo) -> None:
        self._clear_codes()
        self.query_one("#replace", Button).disabled = True
        assert self.token is not None
        self._done(f"Token {token.serial} now belongs to {token.owner} and is in sync; {self.token.serial} is revoked.")
        self.query_one("#back", Button).focus()

    def _replace_failed(self, exc: KioskError) -> None:
        self.query_one("#replace", Button).disabled = False
        self._failed(exc)
        self.query_one("#new-codes", TwoCodeInput).refused(exc)

    # -- helpers ---------------------------------------------------------------------------

    def _clear_codes(self) -> None:
        self.query_one("#new-codes", TwoCodeInput).clear()

    def _done(self, text: str) -> None:
        self.clear_error()
        self.query_one("#done", Note).update(text)

    def _failed(self, exc: KioskError) -> None:
        self.query_one("#done", Note).update("")
        self.show_error(exc)

    def forget(self) -> None:
        # The backup codes are on their dialog only, which is gone before this screen can be left.
        self._clear_codes()
