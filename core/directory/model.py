"""What the regional directory answers: a record, one region's answer, the verification."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from core.errors import DirectoryUnavailable, fill

ENTITY_INDIVIDUAL = 1
ENTITY_ORGANIZATION = 2

RegionStatus = Literal["found", "not_found", "deactivated", "error", "timeout"]


class Outcome(StrEnum):
    VERIFIED = "verified"
    NOT_FOUND = "not_found"
    DEACTIVATED = "deactivated"
    UNAVAILABLE = "unavailable"


def name_key(name: str) -> str:
    """A last name reduced for comparison: case, accents, spaces and punctuation ignored.

    "O'Brien-Smith", "obrien smith" and "OBRIEN-SMITH" compare equal; letters and digits stay.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed.casefold() if c.isalnum())


@dataclass(frozen=True, slots=True)
class DirectoryRecord:
    """The part of an NPPES record the kiosk needs, as one region holds it."""

    npi: str
    entity_type: int | None  # 1 individual, 2 organization; None when NPPES blanked it
    last_name: str = ""
    first_name: str = ""
    organization_name: str = ""
    state: str = ""
    deactivation_date: date | None = None
    reactivation_date: date | None = None

    @property
    def is_deactivated(self) -> bool:
        """Deactivated with no later reactivation (docs/security.md rule 3)."""
        if self.deactivation_date is None:
            return False
        return self.reactivation_date is None or self.reactivation_date < self.deactivation_date

    @property
    def is_individual(self) -> bool:
        return self.entity_type == ENTITY_INDIVIDUAL

    def summary(self) -> dict[str, Any]:
        """Safe to print and to audit: public NPPES data only."""
        return {
            "npi": self.npi,
            "entity_type": self.entity_type,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "organization_name": self.organization_name,
            "state": self.state,
            "deactivation_date": _iso(self.deactivation_date),
            "reactivation_date": _iso(self.reactivation_date),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@dataclass(frozen=True, slots=True)
class RegionAnswer:
    region: int
    status: RegionStatus
    reason: str = ""
    record: DirectoryRecord | None = None
    # `reason` as a marked template and its parameters (core.errors.fill), for a screen to
    # translate; `reason` is the English, for IT staff and the command line.
    template: str = ""
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def told(
        cls,
        region: int,
        status: RegionStatus,
        template: str,
        record: DirectoryRecord | None = None,
        /,
        **params: object,
    ) -> RegionAnswer:
        """An answer whose reason is `template` filled from `params`."""
        values = {k: str(v) for k, v in params.items()}
        return cls(region, status, fill(template, values), record, template, values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "status": self.status,
            "reason": self.reason,
            "record": self.record.summary() if self.record else None,
        }


@dataclass(frozen=True, slots=True)
class Verification:
    outcome: Outcome
    npi: str
    region: int | None
    answers: dict[int, RegionAnswer] = field(default_factory=dict)
    name_matched: bool | None = None
    # Plain words for the provider at the kiosk; admin detail stays in the answers' reasons.
    message: str = ""
    # `message` as a marked template and its parameters, for a screen to translate.
    template: str = ""
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.outcome is Outcome.VERIFIED

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "npi": self.npi,
            "region": self.region,
            "name_matched": self.name_matched,
            "message": self.message,
            "answers": {str(r): a.to_dict() for r, a in sorted(self.answers.items())},
        }


class RegionTimedOut(DirectoryUnavailable):
    """A region did not answer within its time budget (reported as status `timeout`)."""


class RegionCredentialsRejected(DirectoryUnavailable):
    """An online region refused this kiosk's API key (HTTP 401/403)."""

    def __init__(self, region: int, status: int) -> None:
        name = f"region-{region}-api-key"
        super().__init__(
            f"Region {region}'s directory refused the kiosk's API key (HTTP {status}).",
            hint=f"IT staff: set the right key with `ipkiosk credentials set {name}`.",
        )
        self.region = region

    def __str__(self) -> str:
        return f"{self.message} {self.hint}"
