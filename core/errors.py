"""Typed errors. Each carries a message a provider or IT person can act on.

`message` is what the screen shows; `hint` is the next step. Neither ever contains a password,
seed, one-time code or backup code (docs/security.md rule 19): constructors take only what is safe.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping

from core.otp import Diagnosis


def N_(message: str) -> str:
    """Marks a provider-facing message (or a template of one, with `{name}` fields) for the
    kiosk's catalogs: core stays English; the screens translate `template` and fill `params`."""
    return message


def _as_is(message: str) -> str:
    return message


def fill(template: str, params: Mapping[str, str], translate: Callable[[str], str] = _as_is) -> str:
    """`template` translated and filled from `params`, English by default (the CLI, logs).

    A parameter that is itself a marked message (a refusal's detail, a revoked token's reason
    word) is translated too, and its own `{name}` fields are filled from the same `params`; a
    serial number or a claim name is no message and stays as it is."""
    # An empty value is no message: gettext would give the catalog's header for it.
    details = {k: _filled_detail(translate(v), params) if v else v for k, v in params.items()}
    return translate(template).format_map(details)


def _filled_detail(text: str, params: Mapping[str, str]) -> str:
    # Only plain `{name}` fields naming a parameter: a value typed by someone ("{0}",
    # "{serial:>99999999}") is shown as typed, never used as a format.
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return text
    if not fields or any(name not in params or spec or conv for name, spec, conv in fields):
        return text
    return text.format_map(params)


class KioskError(Exception):
    """Base of every error the kiosk expects and explains."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None, *, params: Mapping[str, object] | None = None) -> None:
        # `message` may be a template with `{name}` fields, filled from `params` (serials, digit
        # counts: never a secret); a screen translates the template, then fills it the same way.
        self.template = message
        self.params = {k: str(v) for k, v in (params or {}).items()}
        self.message = fill(message, self.params) if params else message
        super().__init__(self.message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ConfigError(KioskError):
    hint = "Check the kiosk configuration (ipkiosk --help) or ask IT staff."


class InvalidNPI(KioskError):
    """An NPI failed a CMS rule; `rule` names which one."""

    hint = N_("Check the 10-digit NPI and type it again.")

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class CredentialStoreUnavailable(KioskError):
    hint = (
        "Install and unlock a keyring: on a Linux kiosk run gnome-keyring (Secret Service) in the "
        "session; on a headless machine see README 'Service credentials'. "
        "Only `ipkiosk demo` may run without one."
    )


class CredentialMissing(KioskError):
    hint = "Set it with `ipkiosk credentials set NAME` (IT staff)."


class StoreError(KioskError):
    hint = N_("Ask IT staff to check the kiosk's data store.")


class AuthenticationFailed(KioskError):
    """Username or password wrong. Deliberately does not say which."""

    hint = N_("Check your username and password and try again.")


class AccountLocked(KioskError):
    hint = N_("Contact your IT administrator or help desk to unlock your account.")


class NotAllowed(KioskError):
    hint = "Ask IT staff."


class StepOutOfOrder(KioskError):
    """An enrollment step was called before the steps it depends on."""

    hint = N_("Start again from the beginning of setup.")


class BindingStopped(KioskError):
    """IP-Auth-Stop-Binding-2.0: the app cannot be bound without a verified NPI."""

    hint = N_("Use the Code Generator (hardware token) instead.")


class FreshSignInRequired(KioskError):
    hint = N_("Sign in again to change your two-factor settings.")


class TokenNotFound(KioskError):
    hint = N_("Check the serial number printed on the back or bottom of your token and type it again.")


class TokenUnavailable(KioskError):
    hint = N_("Ask IT staff for another token.")


class TokenLocked(KioskError):
    hint = N_("Contact IT support to unlock your token.")


class SyncFailed(KioskError):
    """Two codes that are not consecutive codes of the token within the resync window."""

    hint = N_(
        "Press the button, enter the code shown, wait for it to change, then enter the new code. "
        "If it still fails, contact IT support."
    )

    def __init__(
        self, message: str, wrong_field: str | None = None, *, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message, params=params)
        # "current", "next" or None when we cannot tell which of the two was wrong.
        self.wrong_field = wrong_field


class ImportRejected(KioskError):
    hint = "Fix the file and import it again; nothing was changed."


class CrontoRejected(KioskError):
    """The scanned enrollment image was refused; `reason` is a stable code for tests and UI."""

    def __init__(
        self, message: str, reason: str, hint: str | None = None, *, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message, hint, params=params)
        self.reason = reason


class DirectoryUnavailable(KioskError):
    hint = N_("Try again in a minute; if it persists, contact your administrator.")


class UnknownPracticeState(KioskError):
    """An NPI's practice-location state is not in the region map: never verified (rule 4)."""

    hint = "Ask your administrator to check the provider's practice location in NPPES."


class StoreBusy(StoreError):
    """Another kiosk held the store's lock past the busy timeout; nothing was changed."""

    hint = N_("If it keeps happening, ask IT staff to check the kiosk's data store.")

    def __init__(self, message: str = N_("The kiosk's store is busy; try again in a moment.")) -> None:
        super().__init__(message)


class NameTooLong(KioskError):
    """A username or kiosk id longer than the store keeps."""

    hint = "Use a shorter name."


class AccountError(KioskError):
    hint = "Correct the value and try again."


class AdminError(KioskError):
    """An IT operation named an account or serial that is not there, or an unknown reason."""

    hint = "Check the serial number or username and try again."


class PathProblem(KioskError):
    """A path given to a command cannot be used; nothing was changed."""

    hint = "Check the path and try again."


class ReviewError(KioskError):
    hint = "Run `ipkiosk audit daily --date YYYY-MM-DD` first; see the reports with `ipkiosk audit reports`."


class InvalidDEA(KioskError):
    """A DEA number failed one rule; `rule` names which (length, letters, registrant_type,
    last_name, digits, check_digit)."""

    hint = "Check the DEA number on the registration certificate and type it again."

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class EpcsRefused(KioskError):
    """An EPCS permission change that the two-person rule refuses; `reason` is a stable code."""

    hint = "See `ipkiosk epcs roles` for who may enter and who may approve."

    def __init__(self, message: str, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.reason = reason


class NotificationError(KioskError):
    hint = "Check the [smtp] settings and that the mail server answers; queued messages are kept."


class ProofingRefused(KioskError):
    hint = (
        "Record the ID check: `ipkiosk users proof USERNAME --document passport --last4 1234 --by IT_USERNAME`, "
        "or --csp-reference REF for a prescriber proofed by a credential service provider."
    )


class TokenNotFitForEpcs(KioskError):
    hint = (
        "IT staff: record the token's FIPS 140 certificate (`ipkiosk epcs token SERIAL --fips-cert NUMBER`, "
        "from the vendor's CMVP listing), or bind a token that has one."
    )


# What the provider reads for each refusal: the article's "Invalid code error" causes.
DIAGNOSIS_MESSAGES: dict[Diagnosis, tuple[str, str]] = {
    Diagnosis.EXPIRED: (
        N_("Code expired."),
        N_("Press the button on your token, wait for a new code to display, and enter it."),
    ),
    Diagnosis.REUSED: (
        N_("That code was already used. Each code can only be used once."),
        N_("Press the button on your token and enter the new code."),
    ),
    Diagnosis.OUT_OF_SYNC: (
        N_("Your token's clock is out of sync with iPrescribe."),
        N_("Contact IT support to resync your token. You can sign in with a backup code meanwhile."),
    ),
    Diagnosis.LOCKED: (
        N_("Your token is locked after too many invalid codes."),
        N_("Contact your IT administrator or help desk to unlock it. Use a backup code if you have one."),
    ),
    Diagnosis.REVOKED: (
        N_("This token was reported lost or damaged and no longer works."),
        N_("Use a backup code and contact your IT administrator for a replacement."),
    ),
    Diagnosis.WRONG: (
        N_("Invalid code."),
        N_("Check that you entered the code correctly (typing error), or press the button for a new one."),
    ),
    Diagnosis.MALFORMED: (
        N_("A security code is the 6 or 8 digits shown on your token, or a backup code."),
        N_("Verify you have entered the code correctly."),
    ),
    Diagnosis.PAST_VALIDITY: (
        N_("This token has expired: its vendor set an end date for it, and that date has passed."),
        N_("Use a backup code and contact your IT administrator for a replacement token."),
    ),
    Diagnosis.BEFORE_VALIDITY: (
        N_("This token is not valid yet: its vendor set a start date for it that has not come."),
        N_("Use a backup code, or ask your IT administrator when the token can be used."),
    ),
}


class CodeRequired(KioskError):
    """Password accepted; a security code from a bound factor is needed too."""

    hint = N_("Press the button on your hardware token and enter the displayed code.")


BACKUP_CODE_REUSED = (
    N_("That backup code was already used. Each backup code can only be used once."),
    N_("Use another of your backup codes, or the code from your token."),
)


class CodeRefused(KioskError):
    def __init__(self, diagnosis: Diagnosis, serial: str | None = None) -> None:
        if diagnosis is Diagnosis.REUSED and serial == "backup_code":
            message, hint = BACKUP_CODE_REUSED
        else:
            message, hint = DIAGNOSIS_MESSAGES[diagnosis]
        super().__init__(message, hint)
        self.diagnosis = diagnosis
        self.serial = serial
