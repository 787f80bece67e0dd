"""Security rule 1: 10 ASCII digits, first digit 1 or 2, Luhn over 80840 + NPI."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidNPI
from core.npi import is_valid_npi, luhn_ok, npi_check_digit_ok, validate_npi


@pytest.mark.parametrize("npi", ["1234567893", "1993999998", "1003000126", "1295723567"])
def test_cms_valid_vectors(npi: str) -> None:
    assert validate_npi(npi) == npi


def test_cms_invalid_vector_fails_the_check_digit() -> None:
    with pytest.raises(InvalidNPI) as caught:
        validate_npi("1234567890")
    assert caught.value.rule == "check_digit"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("123456789", "length"),
        ("12345678931", "length"),
        ("", "length"),
        ("12345a7893", "digits"),
        ("1234-567893", "digits"),
        ("12345 67893", "digits"),
        ("١٢٣٤٥٦٧٨٩٣", "digits"),  # Arabic-Indic digits pass str.isdigit(), not the NPI rule
        ("３２３４５６７８９３", "digits"),  # full-width digits
        ("3234567893", "first_digit"),
        ("0234567893", "first_digit"),
    ],
)
def test_each_rule_is_named(text: str, rule: str) -> None:
    with pytest.raises(InvalidNPI) as caught:
        validate_npi(text)
    assert caught.value.rule == rule
    assert caught.value.message


def test_surrounding_spaces_are_trimmed() -> None:
    assert validate_npi(" 1234567893\n") == "1234567893"


def test_every_single_digit_typo_is_caught() -> None:
    # Luhn's promise: changing any one digit breaks the check.
    npi = "1234567893"
    for i in range(10):
        for d in "0123456789":
            typo = npi[:i] + d + npi[i + 1 :]
            if typo != npi:
                assert not npi_check_digit_ok(typo), typo


@given(st.integers(min_value=1_000_000_000, max_value=2_999_999_999))
def test_fast_check_equals_textbook_luhn_over_prefix(n: int) -> None:
    npi = str(n)
    assert npi_check_digit_ok(npi) == luhn_ok("80840" + npi)


@given(st.text(max_size=14))
def test_arbitrary_text_never_crashes(text: str) -> None:
    assert is_valid_npi(text) in (True, False)
