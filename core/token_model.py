"""What the token inventory shows and answers: states, methods, a token's public record, the
verdict on a code; never a seed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import RowMapping

from core.otp import Diagnosis, OtpParams
from core.token_spec import Rejections

APP_SECRET_BYTES = 20  # 160 bits, the floor for new app secrets (docs/security.md rule 13)


class TokenState(StrEnum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    LOCKED = "locked"
    REVOKED = "revoked"


class Method(StrEnum):
    AUTHENTICATOR = "authenticator"  # the iPrescribe Authenticator app
    CODE_GENERATOR = "code_generator"  # a hardware token


class RevokeReason(StrEnum):
    LOST = "lost"
    DAMAGED = "damaged"
    STOLEN = "stolen"
    REPLACED = "replaced"


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never its seed."""

    serial: str
    method: Method
    params: OtpParams
    state: TokenState
    owner: str | None
    drift: int
    last_used: int
    failures: int
    last_used_at: float | None
    bound_at: float | None
    revoked_reason: str | None
    vendor: str | None = None
    model: str | None = None
    fips_cert: str | None = None  # FIPS 140 validation certificate (1311.115(b))
    valid_from: float | None = None  # the vendor's validity (Unix seconds), when the seed file gave it
    valid_until: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "serial": self.serial,
            "method": self.method.value,
            "type": self.params.kind,
            "algorithm": self.params.algorithm,
            "digits": self.params.digits,
            "period": self.params.period if self.params.kind == "totp" else None,
            "state": self.state.value,
            "owner": self.owner,
            "drift": self.drift,
            "failures": self.failures,
            "last_used_at": self.last_used_at,
            "bound_at": self.bound_at,
            "revoked_reason": self.revoked_reason,
            "vendor": self.vendor,
            "model": self.model,
            "fips_cert": self.fips_cert,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


@dataclass(frozen=True)
class CodeCheck:
    accepted: bool
    serial: str
    diagnosis: Diagnosis | None = None
    locked_now: bool = False  # this failure was the one that locked the token


@dataclass(frozen=True)
class CodeMatch:
    """A code matched against a token outside any transaction (TokenInventory.precheck)."""

    serial: str
    code: str
    moment: tuple[int, int, int]  # (last_used, drift, step): the state the result holds for
    index: int | None
    diagnosis: Diagnosis | None


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: Rejections = field(default_factory=Rejections)  # every one counted, the first KEPT listed

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "rejected": [{"where": r.where, "serial": r.serial, "reason": r.reason} for r in self.rejected],
            "rejected_total": self.rejected.total,
        }


def info_from_row(r: RowMapping) -> TokenInfo:
    """The shown part of a `tokens` row (read with `.mappings()`)."""
    return TokenInfo(
        serial=r["serial"],
        method=Method(r["method"]),
        params=OtpParams(r["kind"], r["algorithm"], r["digits"], r["period"] or 30),
        state=TokenState(r["state"]),
        owner=r["owner"],
        drift=r["drift"],
        last_used=r["last_used"],
        failures=r["failures"],
        last_used_at=r["last_used_at"],
        bound_at=r["bound_at"],
        revoked_reason=r["revoked_reason"],
        vendor=r["vendor"],
        model=r["model"],
        fips_cert=r["fips_cert"],
        valid_from=r["valid_from"],
        valid_until=r["valid_until"],
    )


def new_app_secret() -> bytes:
    return secrets.token_bytes(APP_SECRET_BYTES)
