"""DEA number rules: two letters, seven digits, the check digit, the registrant's initial."""

from __future__ import annotations

import pytest

from core.dea import dea_check_digit, is_valid_dea, validate_dea
from core.errors import InvalidDEA


def test_check_digit_is_odd_plus_twice_even_positions() -> None:
    # (1+3+5) + 2*(2+4+6) = 33: the check digit is 3.
    assert dea_check_digit("123456") == 3
    assert validate_dea(" ar1234563 ", "Rivera") == "AR1234563"
    assert is_valid_dea("BP9876547")  # (9+7+5) + 2*(8+6+4) = 57


@pytest.mark.parametrize(
    ("number", "last_name", "rule"),
    [
        ("AR123456", None, "length"),
        ("AR12345634", None, "length"),
        ("1R1234563", None, "letters"),
        ("A-1234563", None, "letters"),
        ("ZR1234563", None, "registrant_type"),  # Z is not a registrant type
        ("AR12345X3", None, "digits"),
        ("AR１２３４５６３", None, "digits"),  # full-width digits are not ASCII
        ("AR1234564", None, "check_digit"),
        ("AR2134563", None, "check_digit"),  # a transposition
        ("AB1234563", "Rivera", "last_name"),
    ],
)
def test_each_rule_is_named(number: str, last_name: str | None, rule: str) -> None:
    with pytest.raises(InvalidDEA) as caught:
        validate_dea(number, last_name)
    assert caught.value.rule == rule
    assert caught.value.hint


def test_nine_stands_in_for_the_initial() -> None:
    assert validate_dea("A91234563", "Rivera") == "A91234563"
