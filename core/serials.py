"""The serial-number rule shared by the seed-file reader and the inventory.

A serial is what a provider types at step 6 from the back of a token, so one that does not
match this rule could be imported but never assigned: the reader refuses it at import.
"""

from __future__ import annotations

import re

SERIAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SERIAL_RULE = "letters, digits, dots, dashes and underscores, starting with a letter or digit, at most 64"


def normalize_serial(serial: str) -> str:
    """Case and spaces do not matter: "ab 12" and "AB12" are one token."""
    return serial.strip().replace(" ", "").upper()


def is_serial(serial: str) -> bool:
    return bool(SERIAL_RE.match(normalize_serial(serial)))
