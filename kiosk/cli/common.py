"""Small helpers the command modules share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from core.admin import cli_actor as cli_actor  # re-exported: the actor of CLI changes outside core.admin
from core.errors import KioskError


class UsageError(KioskError):
    hint = "See `ipkiosk COMMAND --help`."


# A LIMIT or OFFSET past a signed 64-bit integer is an OverflowError in SQLite's driver and an
# out-of-range error in PostgreSQL's: refused here, with the option's name, instead.
MAX_COUNT = 2**63 - 1


def count_argument(what: str, *, least: int = 0) -> Callable[[str], int]:
    """An argparse type: a whole number of `what` from `least` to MAX_COUNT."""

    def parse(text: str) -> int:
        # isascii: '²' is a digit to str.isdigit() but not to int().
        if not (text.isascii() and text.isdigit() and len(text) <= 19 and least <= int(text) <= MAX_COUNT):
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of {what} from {least} to {MAX_COUNT}")
        return int(text)

    return parse


def path_argument(text: str) -> Path:
    """An argparse type for a file: Path("") is ".", which would be read as "this folder"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    return Path(text)


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
