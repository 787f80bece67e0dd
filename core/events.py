"""The words of the audit trail: what happened (`Event`) and how it ended (`Outcome`).

Each value is the string already stored in existing rows, so old rows keep their meaning and the
HMAC chain over them is unchanged. The daily review and the notices match on these members, never
on the free-text `detail` column.
"""

# ruff: noqa: S105  (names such as TOKEN_LOCKED and BAD_PASSWORD are audit words, not secrets)

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    # Signing in: at the kiosk, the test sign-in after binding, and the EPCS signature.
    SIGN_IN = "sign_in"
    TEST_SIGN_IN = "test_sign_in"
    EPCS_SIGN_IN = "epcs_sign_in"
    # A provider's setup.
    NPI_VERIFICATION = "npi_verification"
    BIND = "bind"
    BACKUP_CODES_ISSUED = "backup_codes_issued"
    # IT staff on factors and accounts.
    ASSIGN = "assign"
    REPLACE = "replace"
    REVOKE = "revoke"
    RESYNC = "resync"
    TOKEN_UNLOCK = "token_unlock"
    ACCOUNT_UNLOCK = "account_unlock"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_CHANGED = "account_changed"
    TOKEN_DESCRIBED = "token_described"
    IDENTITY_PROOFED = "identity_proofed"
    NPI_CHECK = "npi_check"
    # EPCS permissions (21 CFR 1311.125).
    EPCS_GRANT = "epcs_grant"
    EPCS_APPROVE = "epcs_approve"
    EPCS_REVOKE = "epcs_revoke"
    EPCS_SUSPEND = "epcs_suspend"
    # Bulk data and the trail itself.
    TOKENS_IMPORT = "tokens_import"
    DIRECTORY_IMPORT = "directory_import"
    AUDIT_EXPORT = "audit_export"
    AUDIT_DAILY_REVIEW = "audit_daily_review"
    AUDIT_REPORT_SIGNOFF = "audit_report_signoff"
    DEMO_BUILT = "demo_built"


REFUSED_PREFIX = "refused_"


class Outcome(StrEnum):
    OK = "ok"
    CODE_REQUIRED = "code_required"  # the password was right; the code comes next
    THROTTLED = "throttled"
    BAD_PASSWORD = "bad_password"
    ACCOUNT_LOCKED = "account_locked"
    # This attempt's wrong code was the one that locked the token (its diagnosis is in detail).
    # Rows written before this member existed say so as refused_<diagnosis> + "token locked".
    TOKEN_LOCKED = "token_locked"
    REFUSED = "refused"  # an IT operation the domain refused (e.g. resync codes that do not match)
    INCIDENTS = "incidents"  # a daily review that found some
    # Refusals with a reason; the others are written as refused(reason).
    REFUSED_WRONG = "refused_wrong"
    REFUSED_REUSED = "refused_reused"  # a code used a second time: a replay?
    REFUSED_LOCKED = "refused_locked"  # the token was already locked
    REFUSED_OTHER_USER = "refused_other_user"  # an enrollment image of someone else
    REFUSED_BAD_SIGNATURE = "refused_bad_signature"  # an enrollment image not made by this kiosk

    @staticmethod
    def refused(reason: str) -> str:
        """`refused_<reason>`: the member when there is one, so rows compare with `is`."""
        text = f"{REFUSED_PREFIX}{reason}"
        return Outcome(text) if text in Outcome._value2member_map_ else text


def is_refusal(outcome: str) -> bool:
    return outcome.startswith(REFUSED_PREFIX)


LOCKOUTS = frozenset({Outcome.ACCOUNT_LOCKED, Outcome.REFUSED_LOCKED, Outcome.TOKEN_LOCKED})
# What the kiosk wrote in `detail` for TOKEN_LOCKED before that outcome existed: read only so
# that a day reviewed again from an older trail still shows its lock-outs.
LEGACY_TOKEN_LOCKED_DETAIL = "token locked"


def is_lockout(outcome: str, detail: str) -> bool:
    return outcome in LOCKOUTS or detail == LEGACY_TOKEN_LOCKED_DETAIL
