"""DEA registration numbers: the format and check digit every EPCS grant needs (21 CFR 1311.125).

A DEA number is two letters and seven digits. The first letter is the registrant type; the
second is the initial of the registrant's last name, or 9 for registrants whose business name
starts with a digit. The seventh digit checks the other six: (d1+d3+d5) + 2*(d2+d4+d6) ends in
it. A typed digit or a transposition is caught before the number reaches a grant.
"""

from __future__ import annotations

from core.errors import InvalidDEA

# Registrant types that may write prescriptions or hold a registration for a practitioner
# (DEA Form 224/363 business activities), with the mid-level "M" and the DATA-waived "X".
REGISTRANT_TYPES = frozenset("ABCDEFGHJKLMPRSTUX")
_ASCII_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def dea_check_digit(six_digits: str) -> int:
    d = [ord(c) - 48 for c in six_digits]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def validate_dea(text: str, last_name: str | None = None) -> str:
    """The normalized DEA number (upper case, no spaces), or InvalidDEA naming the failed rule.

    With `last_name`, the second letter must be its initial (or 9).
    """
    dea = text.strip().replace(" ", "").upper()
    if len(dea) != 9:
        raise InvalidDEA(f"A DEA number has 2 letters and 7 digits (9 characters); this one has {len(dea)}.", "length")
    first, second, digits = dea[0], dea[1], dea[2:]
    if first not in _ASCII_LETTERS or not (second in _ASCII_LETTERS or second == "9"):
        raise InvalidDEA("A DEA number starts with two letters (the second may be 9).", "letters")
    if first not in REGISTRANT_TYPES:
        raise InvalidDEA(f"'{first}' is not a DEA registrant type for a practitioner.", "registrant_type")
    if not _ASCII_DIGITS.issuperset(digits):
        raise InvalidDEA("The last seven characters of a DEA number are the digits 0-9.", "digits")
    if dea_check_digit(digits[:6]) != ord(digits[6]) - 48:
        raise InvalidDEA(
            "This DEA number's last digit (the check digit) does not match; a digit may be mistyped.", "check_digit"
        )
    if last_name is not None and second != "9":
        initial = last_name.strip()[:1].upper()
        if initial and second != initial:
            raise InvalidDEA(
                f"The second letter of a DEA number is the registrant's last-name initial ({initial}), not {second}.",
                "last_name",
            )
    return dea


def is_valid_dea(text: str, last_name: str | None = None) -> bool:
    try:
        validate_dea(text, last_name)
    except InvalidDEA:
        return False
    return True
