"""Small helpers the command modules share."""

from __future__ import annotations

from datetime import UTC, datetime

from core.admin import cli_actor as cli_actor  # re-exported: the actor of CLI changes outside core.admin
from core.errors import KioskError


class UsageError(KioskError):
    hint = "See `ipkiosk COMMAND --help`."


def parse_date(text: str) -> datetime:
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"'{text}' is not a date; write it as YYYY-MM-DD.") from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def iso_time(seconds: float) -> str:
    """A Unix time as ISO 8601 in UTC with its zone (2027-01-01T00:00:00+00:00)."""
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{seconds} (Unix time, out of the calendar's range)"
