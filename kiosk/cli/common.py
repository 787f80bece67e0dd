"""Small helpers the command modules share."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime

from core.errors import KioskError


class UsageError(KioskError):
    hint = "See `ipkiosk COMMAND --help`."


def cli_actor() -> str:
    """Who ran an admin command, for the audit trail: the OS account at the terminal."""
    try:
        name = getpass.getuser()
    except Exception:
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"


def parse_date(text: str) -> datetime:
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"'{text}' is not a date; write it as YYYY-MM-DD.") from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)
