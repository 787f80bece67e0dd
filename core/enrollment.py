"""The article's eight steps as a state machine that refuses out-of-order calls.

Screens only show `Enrollment.state` and pass input to these methods; every rule is here, so the
whole flow runs (and is tested) without a terminal:

  1 sign in (core.signin)  ->  2 select a method
     iPrescribe Authenticator -> 3 NPI verification (cronto image + regions 1-5)
         verified             -> app binding (QR + one code)           -> 8 confirm
         anything else, with IP-Auth-Stop-Binding-2.0 on
                              -> 4 redirect -> 5 Code Generator -> 6 serial -> 7 synchronize -> 8 confirm
     Code Generator           -> 5 ...
  8 confirm: backup codes shown once, then a test sign-in with the new factor.

Every write of a step (token bound, backup codes issued, audit rows) happens in one transaction,
so a crash leaves a token bound or not, never half (docs/security.md rule 25).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core import events, otp
from core.cronto import refuse
from core.directory.model import Outcome, Verification
from core.errors import N_, BindingStopped, CodeRefused, CrontoRejected, FreshSignInRequired, KioskError, StepOutOfOrder
from core.events import Event
from core.otp import OtpParams
from core.signin import SignedIn
from core.token_model import Method, TokenInfo, new_app_secret

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from core.system import KioskSystem

STOP_BINDING_FLAG = "IP-Auth-Stop-Binding-2.0"
# Changing factors needs a sign-in this recent (docs/security.md rule 16); generous enough for the
# article's "Setup takes approximately 5-10 minutes".
FRESH_SIGNIN_SECONDS = 15 * 60
APP_PARAMS = OtpParams(kind="totp", algorithm="SHA1", digits=6, period=30)


class Step(StrEnum):
    SELECT_METHOD = "select_method"  # step 2
    NPI_VERIFICATION = "npi_verification"  # step 3
    APP_BINDING = "app_binding"  # step 3, NPI found
    REDIRECTED = "redirected"  # step 4
    CODE_GENERATOR = "code_generator"  # step 5
    SERIAL_NUMBER = "serial_number"  # step 6
    SYNCHRONIZE = "synchronize"  # step 7
    CONFIRM = "confirm"  # step 8: success + backup codes
    TEST_SIGN_IN = "test_sign_in"  # step 8.3
    DONE = "done"


ARTICLE_STEP: dict[Step, tuple[int, str]] = {
    Step.SELECT_METHOD: (2, N_("Select an authentication method")),
    Step.NPI_VERIFICATION: (3, N_("NPI verification")),
    Step.APP_BINDING: (3, N_("Bind iPrescribe Authenticator")),
    Step.REDIRECTED: (4, N_("Automatic redirect to Code Generator")),
    Step.CODE_GENERATOR: (5, N_("Code Generator setup")),
    Step.SERIAL_NUMBER: (6, N_("Enter the token serial number")),
    Step.SYNCHRONIZE: (7, N_("Synchronize your token")),
    Step.CONFIRM: (8, N_("Confirm setup")),
    Step.TEST_SIGN_IN: (8, N_("Test your sign-in")),
    Step.DONE: (8, N_("Setup complete")),
}

# Where Escape may go back to: only before anything was written.
BACK: dict[Step, Step] = {
    Step.NPI_VERIFICATION: Step.SELECT_METHOD,
    Step.APP_BINDING: Step.SELECT_METHOD,
    Step.CODE_GENERATOR: Step.SELECT_METHOD,
    Step.SERIAL_NUMBER: Step.CODE_GENERATOR,
    Step.SYNCHRONIZE: Step.SERIAL_NUMBER,
}


@dataclass(frozen=True)
class AppOffer:
    """What the Authenticator screen shows: gone from memory once confirmed or wiped."""

    uri: str
    manual_key: str
    account_label: str


@dataclass
class Enrollment:
    system: KioskSystem
    signed_in: SignedIn
    actor: str  # who is at the controls: the provider, or IT staff in guided setup
    state: Step = Step.SELECT_METHOD
    method: Method | None = None
    verification: Verification | None = None
    npi_outcome: Outcome | None = None
    serial: str | None = None
    bound: TokenInfo | None = None
    _app_secret: bytes | None = field(default=None, repr=False)
    _backup_codes: list[str] | None = field(default=None, repr=False)

    @classmethod
    def start(cls, system: KioskSystem, signed_in: SignedIn, actor: str | None = None) -> Enrollment:
        """Step 2 for the signed-in provider; `actor` is IT staff when they guide the setup."""
        return cls(system, signed_in, actor or signed_in.account.username)

    @property
    def username(self) -> str:
        return self.signed_in.account.username

    @property
    def article_step(self) -> tuple[int, str]:
        return ARTICLE_STEP[self.state]

    @property
    def stop_binding(self) -> bool:
        return self.system.policy.stop_binding

    # -- helpers ---------------------------------------------------------------------------

    def _expect(self, *steps: Step) -> None:
        if self.state not in steps:
            wanted = " or ".join(s.value for s in steps)
            raise StepOutOfOrder(
                N_("This step needs '{wanted}' first; setup is at '{state}'."),
                params={"wanted": wanted, "state": self.state.value},
            )

    def _require_fresh_sign_in(self) -> None:
        if self.system.clock.time() - self.signed_in.at > FRESH_SIGNIN_SECONDS:
            raise FreshSignInRequired(N_("Your sign-in is too old to change two-factor settings."))

    def _record(self, conn: Connection, event: Event, outcome: str, **kw: str) -> None:
        self.system.audit.record(conn, event, actor=self.actor, subject=self.username, outcome=outcome, **kw)

    def back(self) -> Step:
        self._expect(*BACK)
        self.state = BACK[self.state]
        self._app_secret = None
        return self.state

    def wipe(self) -> None:
        """Forget everything secret this session held (idle timeout, sign-out)."""
        self._app_secret = None
        self._backup_codes = None

    # -- step 2 ----------------------------------------------------------------------------

    def choose_method(self, method: Method | str) -> Step:
        self._expect(Step.SELECT_METHOD)
        self.method = Method(method)
        self.state = Step.NPI_VERIFICATION if self.method is Method.AUTHENTICATOR else Step.CODE_GENERATOR
        return self.state

    # -- step 3 ----------------------------------------------------------------------------

    def verify_npi(self, payload: str, on_answer: Callable[[Any], object] | None = None) -> Verification:
        """Check the scanned cronto image and look its NPI up in regions 1-5.

        A refused image (core.errors.CrontoRejected) leaves the step where it is, to scan
        again. The image's single-use id is spent only when the lookup ran.
        """
        self._expect(Step.NPI_VERIFICATION)
        account = self.signed_in.account
        try:
            claims = self.system.cronto.check(payload, self.username)
            if account.npi and claims.npi != account.npi:
                raise refuse("other_user", N_("its NPI is not the one on your account"))
        except CrontoRejected as exc:
            # Someone else's or a forged image is worth a look in the daily review.
            self.system.audit.log(
                Event.NPI_VERIFICATION,
                actor=self.actor,
                subject=self.username,
                outcome=events.Outcome.refused(exc.reason),
            )
            raise
        verification = self.system.directory.verify(claims.npi, account.last_name, on_answer)
        outcome = verification.outcome
        with self.system.store.begin() as conn:
            self.system.cronto.consume(claims, conn)
            self._record(
                conn,
                Event.NPI_VERIFICATION,
                outcome.value,
                detail=f"npi={claims.npi} region={verification.region or '-'}",
            )
        self.verification = verification
        self.npi_outcome = outcome
        if outcome is Outcome.VERIFIED or not self.stop_binding:
            self.state = Step.APP_BINDING
        else:
            self.state = Step.REDIRECTED
        return verification

    def retry_verification(self) -> Step:
        """From the redirect, scan again (e.g. when a region was unavailable)."""
        self._expect(Step.REDIRECTED)
        self.state = Step.NPI_VERIFICATION
        return self.state

    # -- app binding -----------------------------------------------------------------------

    def _may_bind_app(self) -> None:
        if self.stop_binding and self.npi_outcome is not Outcome.VERIFIED:
            raise BindingStopped(
                N_(
                    "iPrescribe Authenticator cannot be bound to your device: your NPI was not found "
                    "in the iPrescribe system (regions 1-5). This is the {flag} security requirement, not an error."
                ),
                params={"flag": STOP_BINDING_FLAG},
            )

    def begin_app_binding(self) -> AppOffer:
        self._expect(Step.APP_BINDING)
        self._may_bind_app()
        self._require_fresh_sign_in()
        if self._app_secret is None:
            self._app_secret = new_app_secret()
        label = self.username
        return AppOffer(
            uri=otp.otpauth_uri(APP_PARAMS, self._app_secret, account=label, issuer=self.system.policy.issuer_label),
            manual_key=otp.manual_key(self._app_secret),
            account_label=label,
        )

    def confirm_app_binding(self, code: str) -> list[str]:
        """One code from the app proves it holds the secret; bind it and issue backup codes."""
        self._expect(Step.APP_BINDING)
        self._may_bind_app()
        self._require_fresh_sign_in()
        if self._app_secret is None:
            raise StepOutOfOrder(N_("Show the QR code first."))
        cleaned = otp.normalize_code(code, APP_PARAMS.digits)
        now_step = otp.step_at(APP_PARAMS, self.system.clock.time())
        window = [now_step - 1, now_step, now_step + 1]
        index = otp.find(APP_PARAMS, self._app_secret, cleaned, window) if cleaned else None
        if index is None:
            with self.system.store.begin() as conn:
                self._record(conn, Event.BIND, events.Outcome.REFUSED_WRONG, method=Method.AUTHENTICATOR.value)
            raise CodeRefused(otp.Diagnosis.MALFORMED if cleaned is None else otp.Diagnosis.WRONG)
        with self.system.store.begin() as conn:
            serial = self.system.tokens.bind_app(conn, self.username, self._app_secret, index)
            codes = self.system.backup_codes.issue(conn, self.username)
            self.system.accounts.factors_changed(conn, self.username)
            self._record(conn, Event.BIND, events.Outcome.OK, method=Method.AUTHENTICATOR.value, serial=serial)
            self._record(conn, Event.BACKUP_CODES_ISSUED, events.Outcome.OK, detail="10 codes")
            self.bound = self.system.tokens.get(serial, conn)
        self._app_secret = None  # never shown again after binding (rule 13)
        self._backup_codes = codes
        self.serial = serial
        self.state = Step.CONFIRM
        return codes

    # -- steps 4-7: Code Generator ---------------------------------------------------------

    def acknowledge_redirect(self) -> Step:
        self._expect(Step.REDIRECTED)
        self.method = Method.CODE_GENERATOR
        self.state = Step.CODE_GENERATOR
        return self.state

    def add_new_device(self) -> Step:
        self._expect(Step.CODE_GENERATOR)
        self.method = Method.CODE_GENERATOR
        self.state = Step.SERIAL_NUMBER
        return self.state

    def enter_serial(self, serial: str) -> TokenInfo:
        self._expect(Step.SERIAL_NUMBER)
        with self.system.store.connect() as conn:
            info = self.system.tokens.check_available(conn, serial)
        self.serial = info.serial
        self.state = Step.SYNCHRONIZE
        return info

    def synchronize(self, current_code: str, next_code: str) -> list[str]:
        """Two consecutive codes bind the token; backup codes are issued in the same commit."""
        self._expect(Step.SYNCHRONIZE)
        self._require_fresh_sign_in()
        assert self.serial is not None
        try:
            # An exception leaving the block rolls the whole step back: a refused step must not
            # leave the token resynced, assigned or the old backup codes invalidated.
            with self.system.store.begin() as conn:
                # Check availability again: another kiosk may have taken it since step 6.
                self.system.tokens.check_available(conn, self.serial)
                self.system.token_fitness.check_binding(conn, self.serial, self.username)
                self.system.tokens.resync(conn, self.serial, current_code, next_code)
                self.system.tokens.assign(conn, self.serial, self.username)
                codes = self.system.backup_codes.issue(conn, self.username)
                self.system.accounts.factors_changed(conn, self.username)
                self._record(
                    conn, Event.BIND, events.Outcome.OK, method=Method.CODE_GENERATOR.value, serial=self.serial
                )
                self._record(conn, Event.BACKUP_CODES_ISSUED, events.Outcome.OK, detail="10 codes")
                self.bound = self.system.tokens.get(self.serial, conn)
        except KioskError as error:
            # The refusal is audited in a transaction of its own, after the rollback.
            with self.system.store.begin() as conn:
                self._record(
                    conn,
                    Event.BIND,
                    events.Outcome.refused(type(error).__name__),
                    method=Method.CODE_GENERATOR.value,
                    serial=self.serial,
                )
            raise
        self._backup_codes = codes
        self.state = Step.CONFIRM
        return codes

    # -- step 8 ----------------------------------------------------------------------------

    @property
    def backup_codes(self) -> list[str]:
        """The new backup codes, only until the provider confirms they stored them."""
        self._expect(Step.CONFIRM)
        return list(self._backup_codes or [])

    def acknowledge_backup_codes(self) -> Step:
        self._expect(Step.CONFIRM)
        self._backup_codes = None
        self.state = Step.TEST_SIGN_IN
        return self.state

    def test_sign_in(self, password: str, code: str) -> SignedIn:
        """The article's "log out and log back in": a real sign-in with the new factor."""
        self._expect(Step.TEST_SIGN_IN)
        signed = self.system.signin.sign_in(self.username, password, code, event=Event.TEST_SIGN_IN)
        self.state = Step.DONE
        return signed
