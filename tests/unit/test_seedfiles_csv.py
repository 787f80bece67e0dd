"""Seed files: OATH CSV rows, the good and every way to be bad (PSKC: test_seedfiles.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.seedfiles import (
    TokenSpec,
    read_oath_csv,
    read_seed_file,
)
from tests.seedfile_helpers import SEED, SEED_B32, SEED_HEX, assert_no_secret

# --------------------------------------------------------------------------- OATH CSV


def test_csv_with_header_comments_blank_lines_hex_and_base32() -> None:
    text = (
        "\ufeffserial,key,type,digits,period_or_counter,algorithm\r\n"
        "# batch 7, delivered by the vendor\n"
        "\n"
        f"A100,{SEED_HEX},totp,6,30\n"
        f"A101,{SEED_B32.lower()},hotp,8,5,\n"
        f'"A102", {SEED_HEX.upper()} ,TOTP,8,60,sha256\n'
        f"A103,{bytes(64).hex()},totp,6,30,HMAC-SHA512\n"
    )
    result = read_oath_csv(text)
    assert result.rejected == []
    assert result.specs == [
        TokenSpec("A100", "totp", SEED),
        TokenSpec("A101", "hotp", SEED, digits=8, counter=5),
        TokenSpec("A102", "totp", SEED, "SHA256", digits=8, period=60),
        TokenSpec("A103", "totp", bytes(64), "SHA512"),
    ]


def test_seed_never_appears_in_repr() -> None:
    assert SEED_HEX not in repr(TokenSpec("A1", "totp", SEED))
    assert repr(SEED) not in repr(TokenSpec("A1", "totp", SEED))


@pytest.mark.parametrize(
    ("row", "serial", "reason"),
    [
        (f"B1,{SEED_HEX[:-1]}x,totp,6,30", "B1", "key is neither hex nor base32"),
        ("B2,,totp,6,30", "B2", "key is empty"),
        (f"B3,{SEED_HEX[:24]},totp,6,30", "B3", "seed is only 96 bits; at least 128 bits"),
        (f"B4,{bytes(129).hex()},totp,6,30", "B4", "at most 1024"),
        (f"B5,{SEED_HEX},motp,6,30", "B5", "unknown token type: use totp or hotp"),
        (f"B6,{SEED_HEX},totp,7,30", "B6", "digits must be 6 or 8, not 7"),
        (f"B7,{SEED_HEX},totp,six,30", "B7", "digits is not a whole number"),
        (f"B8,{SEED_HEX},totp,6,45", "B8", "time step must be 30 or 60 seconds, not 45"),
        (f"B9,{SEED_HEX},hotp,6,-1", "B9", "counter must not be negative"),
        (f"B10,{SEED_HEX},hotp,6,1.5", "B10", "counter is not a whole number"),
        (f"B11,{SEED_HEX},totp,6,30,MD5", "B11", "algorithm is not SHA1, SHA256 or SHA512"),
        (f"B12,{SEED_HEX},totp,6", None, "missing fields"),
        (f"B13,{SEED_HEX},totp,6,30,SHA1,extra", None, "too many fields"),
        (f"B\x0714,{SEED_HEX},totp,6,30", None, "unprintable characters"),
        (f"{'S' * 65},{SEED_HEX},totp,6,30", None, "longer than 64 characters"),
        (f",{SEED_HEX},totp,6,30", None, "no serial number"),
        (f"{SEED_HEX},B17,totp,6,30", None, "serial number looks like a seed"),
        (f'B18,"{SEED_HEX},totp,6,30', None, "not a valid CSV line"),
        (f"B/19,{SEED_HEX},totp,6,30", None, "characters a provider cannot enter"),
        (f"B20,{SEED_HEX},totp,123456789012,30", "B20", "digits must be 6 or 8, not a value that is not allowed"),
    ],
)
def test_every_csv_rejection_reason(row: str, serial: str | None, reason: str) -> None:
    text = f"GOOD,{SEED_HEX},totp,6,30\n{row}\n"
    result = read_oath_csv(text)
    assert [s.serial for s in result.specs] == ["GOOD"]
    assert len(result.rejected) == 1
    rejected = result.rejected[0]
    assert rejected.where == "line 2"
    assert rejected.serial == serial
    assert reason in rejected.reason
    assert_no_secret(rejected.reason, SEED)


def test_secret_in_the_wrong_column_is_never_echoed() -> None:
    for row in (
        f"C1,totp,{SEED_B32},6,30",
        f"C2,{SEED_HEX[:20]},{SEED_HEX},6,30",
        f"C3,{SEED_HEX},totp,{SEED_HEX},30",
        f"C4,{SEED_HEX},totp,6,{SEED_B32}",
        f"C5,{SEED_HEX},totp,6,30,{SEED_B32}",
    ):
        result = read_oath_csv(row)
        assert result.specs == []
        assert_no_secret(result.rejected[0].reason, SEED, SEED[:10])


@pytest.mark.parametrize(
    "row",
    [
        f"T-2;{SEED_B32},totp,6,30",
        f"T-2;{SEED_HEX};totp;6;30",
        f"T-2 {SEED_B32} totp 6 30",
        f"T-2\t{SEED_HEX}\ttotp\t6\t30",
        f"T-2|{SEED_B32}|totp|6|30",
        f"T-2, {SEED_B32[:16]} {SEED_B32[16:]} ,totp;6;30",
        f"T-2;{SEED_B32},totp,6,30,SHA1,x",
    ],
)
def test_a_row_with_the_wrong_delimiter_is_named_by_line_only(row: str) -> None:
    """The first field then holds the whole row, seed included: neither serial nor reason echoes it."""
    result = read_oath_csv(f"GOOD,{SEED_HEX},totp,6,30\n{row}\n")
    [rejected] = result.rejected
    assert rejected.where == "line 2"
    assert rejected.serial in (None, "T-2")
    text = f"{rejected.where} {rejected.serial} {rejected.reason}"
    assert_no_secret(text, SEED, SEED[:10], SEED[10:])


def test_a_serial_is_stored_normalized() -> None:
    assert [s.serial for s in read_oath_csv(f"ab 12,{SEED_HEX},totp,6,30\n").specs] == ["AB12"]


def test_serials_differing_in_case_or_spaces_are_duplicates_within_the_file() -> None:
    text = f"ab-1,{SEED_HEX},totp,6,30\nok,{SEED_HEX},totp,6,30\nAB -1,{bytes(20).hex()},totp,6,30\n"
    result = read_oath_csv(text)
    assert [s.serial for s in result.specs] == ["OK"]
    assert [(r.where, r.serial) for r in result.rejected] == [("line 1", "AB-1"), ("line 3", "AB-1")]
    assert all("more than once in this file (line 1, line 3)" in r.reason for r in result.rejected)


def test_duplicate_serial_in_csv_rejects_every_copy() -> None:
    text = f"D1,{SEED_HEX},totp,6,30\nD2,{SEED_HEX},totp,6,30\nD1,{bytes(20).hex()},hotp,6,0\n"
    result = read_oath_csv(text)
    assert [s.serial for s in result.specs] == ["D2"]
    assert [(r.where, r.serial) for r in result.rejected] == [("line 1", "D1"), ("line 3", "D1")]
    assert all("appears more than once in this file (line 1, line 3)" in r.reason for r in result.rejected)


def test_read_seed_file_reads_csv(tmp_path: Path) -> None:
    path = tmp_path / "seeds.xml"
    path.write_text(f"E1,{SEED_HEX},hotp,6,0\n")
    assert read_seed_file(path).specs == [TokenSpec("E1", "hotp", SEED)]
