"""The EPCS signing permission's states and what `epcs list` and `epcs roles` show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class PermissionState(StrEnum):
    NONE = "none"
    PENDING = "pending"
    GRANTED = "granted"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


# States from which IT may enter a (new) grant: a suspended or revoked permission starts over
# with two people, never by flipping back.
GRANTABLE = (PermissionState.NONE, PermissionState.SUSPENDED, PermissionState.REVOKED)
# States that stop at once when the provider's last factor goes.
ACTIVE = (PermissionState.PENDING, PermissionState.GRANTED)


@dataclass(frozen=True)
class Permission:
    username: str
    state: PermissionState
    entered_by: str | None = None
    entered_at: float | None = None
    approved_by: str | None = None
    approved_at: float | None = None
    changed_at: float | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "state": self.state.value,
            "entered_by": self.entered_by,
            "entered_at": iso(self.entered_at),
            "approved_by": self.approved_by,
            "approved_at": iso(self.approved_at),
            "changed_at": iso(self.changed_at),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RoleHolder:
    """Who holds an EPCS role (1311.130(c)): `entry` (IT staff) or `approval` (DEA registrant)."""

    username: str
    role: str
    eligible: bool
    why: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role, "eligible": self.eligible, "why": self.why}


def iso(t: float | None) -> str | None:
    if t is None:
        return None

    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def permission_from_row(row: Any, username: str) -> Permission:
    if row is None:
        return Permission(username, PermissionState.NONE)
    return Permission(
        row.username,
        PermissionState(row.state),
        row.entered_by,
        row.entered_at,
        row.approved_by,
        row.approved_at,
        row.changed_at,
        row.reason or "",
    )
