"""One-time codes: generation by pyotp, and the window rules this kiosk applies.

Sign-in windows (RFC 6238 5.2, RFC 4226 7.4):
  TOTP: the step at server time plus the token's stored drift, +-1 step.
  HOTP: the 10 counters after the last accepted one.
Resync windows (in the spirit of privacyIDEA/FreeIPA): +-24 h of TOTP steps around server
time, or 1000 HOTP counters ahead, searched for two consecutive codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import pyotp

TOTP_SIGNIN_STEPS = 1
HOTP_LOOKAHEAD = 10
TOTP_RESYNC_SECONDS = 24 * 3600
HOTP_RESYNC_COUNTERS = 1000
# How far back a code still reads as "expired" rather than "wrong": a few minutes.
TOTP_EXPIRED_LOOKBACK_SECONDS = 10 * 60
MAX_FAILURES = 10

_DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


class Diagnosis(StrEnum):
    """Why a code was refused; each maps to a troubleshooting case of the article."""

    EXPIRED = "expired"  # an older code of this token: "Code expired"
    REUSED = "reused"  # "Each code can only be used once"
    OUT_OF_SYNC = "out_of_sync"  # "Clock synchronization: contact IT support to resync"
    LOCKED = "locked"  # too many failures
    REVOKED = "revoked"  # reported lost/stolen/damaged
    WRONG = "wrong"  # "Typing error"
    MALFORMED = "malformed"  # not digits of the right length
    PAST_VALIDITY = "past_validity"  # past the validity the token's vendor gave it
    BEFORE_VALIDITY = "before_validity"  # before the start of that validity


@dataclass(frozen=True)
class OtpParams:
    kind: Literal["totp", "hotp"] = "totp"
    algorithm: Literal["SHA1", "SHA256", "SHA512"] = "SHA1"
    digits: int = 6
    period: int = 30

    def __post_init__(self) -> None:
        if self.kind not in ("totp", "hotp"):
            raise ValueError(f"unknown token type {self.kind!r}")
        if self.algorithm not in _DIGESTS:
            raise ValueError(f"unsupported algorithm {self.algorithm!r}")
        if self.digits not in (6, 8):
            raise ValueError("digits must be 6 or 8")
        if self.kind == "totp" and self.period not in (30, 60):
            raise ValueError("period must be 30 or 60 seconds")


def _b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode("ascii")


def _hotp(params: OtpParams, seed: bytes) -> pyotp.HOTP:
    return pyotp.HOTP(_b32(seed), digits=params.digits, digest=_DIGESTS[params.algorithm])


def code_at(params: OtpParams, seed: bytes, index: int) -> str:
    """The code for TOTP step `index` or HOTP counter `index` (TOTP is HOTP over the step)."""
    return _hotp(params, seed).at(index)


def codes(params: OtpParams, seed: bytes, indices: Iterable[int]) -> dict[int, str]:
    gen = _hotp(params, seed)
    return {i: gen.at(i) for i in indices if i >= 0}


def step_at(params: OtpParams, t: float) -> int:
    return int(t // params.period)


def normalize_code(code: str, digits: int) -> str | None:
    """Digits only (spaces and dashes from the token's display are dropped), or None."""
    cleaned = "".join(ch for ch in code if ch not in " -")
    if len(cleaned) != digits or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned


def find(params: OtpParams, seed: bytes, code: str, indices: Iterable[int]) -> int | None:
    """The first index whose code equals `code` (compared in constant time)."""
    gen = _hotp(params, seed)
    for i in indices:
        if i >= 0 and hmac.compare_digest(gen.at(i), code):
            return i
    return None


def find_consecutive(
    params: OtpParams, seed: bytes, current: str, following: str, indices: Iterable[int]
) -> int | None:
    """The index i with code(i) == current and code(i+1) == following, nearest first."""
    gen = _hotp(params, seed)
    for i in indices:
        if i >= 0 and hmac.compare_digest(gen.at(i), current) and hmac.compare_digest(gen.at(i + 1), following):
            return i
    return None


def nearest_first(center: int, radius: int) -> list[int]:
    """center, center+1, center-1, center+2, ... so a resync finds the least drift."""
    out = [center]
    for d in range(1, radius + 1):
        out.extend((center + d, center - d))
    return out


@dataclass(frozen=True)
class Window:
    """Where a code is looked for, relative to a token's state at time t."""

    signin: list[int]
    resync: list[int]
    expired: list[int]


def windows(params: OtpParams, *, t: float, drift: int, last_used: int, counter_base: int) -> Window:
    if params.kind == "totp":
        now = step_at(params, t) + drift
        signin = [now + d for d in range(-TOTP_SIGNIN_STEPS, TOTP_SIGNIN_STEPS + 1)]
        radius = TOTP_RESYNC_SECONDS // params.period
        resync = nearest_first(step_at(params, t), radius)
        lookback = TOTP_EXPIRED_LOOKBACK_SECONDS // params.period
        expired = list(range(now - TOTP_SIGNIN_STEPS - 1, now - TOTP_SIGNIN_STEPS - 1 - lookback, -1))
        return Window(signin, resync, expired)
    start = max(last_used + 1, counter_base)
    signin = list(range(start, start + HOTP_LOOKAHEAD))
    resync = list(range(start, start + HOTP_RESYNC_COUNTERS))
    return Window(signin, resync, [])


def otpauth_uri(params: OtpParams, seed: bytes, *, account: str, issuer: str) -> str:
    """The otpauth:// URI the phone app scans (Key Uri Format)."""
    if params.kind == "hotp":
        return pyotp.HOTP(_b32(seed), digits=params.digits, digest=_DIGESTS[params.algorithm]).provisioning_uri(
            name=account, issuer_name=issuer, initial_count=0
        )
    return pyotp.TOTP(
        _b32(seed), digits=params.digits, digest=_DIGESTS[params.algorithm], interval=params.period
    ).provisioning_uri(name=account, issuer_name=issuer)


def manual_key(seed: bytes) -> str:
    """The base32 key in groups of four, for typing into the app by hand."""
    key = _b32(seed).rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
