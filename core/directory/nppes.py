"""The CMS NPPES data dissemination CSV: reading it by header name, and writing it (demo, tests).

The monthly file has ~330 columns, every value quoted, dates MM/DD/YYYY (docs/security.md rule 2).
Columns are found by header name, never by position; the sex column is `Provider Sex Code` in
today's files and `Provider Gender Code` in older ones, and either loads (the kiosk does not
store it). A deactivated NPI appears with only its NPI and deactivation date filled in.

The importer reads the bulk of the file with a C parser (`columnar`); this module holds the rules
for one record (`to_row`) and the careful stdlib reader (`careful_records`) that has the last word
on any stretch of the file the C parser cannot vouch for.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, NamedTuple

from core.errors import ImportRejected
from core.npi import npi_check_digit_ok

# A value may hold newlines (an address); a record longer than this is a stray quote instead.
MAX_RECORD_LINES = 50

HEADER_FILE = Path(__file__).resolve().parents[2] / "assets" / "nppes-npidata-header.csv"

NPI = "NPI"
ENTITY_TYPE = "Entity Type Code"
ORGANIZATION_NAME = "Provider Organization Name (Legal Business Name)"
LAST_NAME = "Provider Last Name (Legal Name)"
FIRST_NAME = "Provider First Name"
PRACTICE_STATE = "Provider Business Practice Location Address State Name"
DEACTIVATION_DATE = "NPI Deactivation Date"
REACTIVATION_DATE = "NPI Reactivation Date"
SEX_HEADERS = ("Provider Sex Code", "Provider Gender Code")

REQUIRED_COLUMNS = (
    NPI,
    ENTITY_TYPE,
    ORGANIZATION_NAME,
    LAST_NAME,
    FIRST_NAME,
    PRACTICE_STATE,
    DEACTIVATION_DATE,
    REACTIVATION_DATE,
)

# Stable skip reasons; the import summary counts rows under these keys.
BAD_CHECK_DIGIT = "bad_check_digit"
INVALID_NPI = "invalid_npi"
UNKNOWN_STATE = "unknown_state"
MALFORMED_LINE = "malformed_line"
BAD_DATE = "bad_date"
BAD_ENTITY_TYPE = "bad_entity_type"
DEACTIVATED_NO_LOCATION = "deactivated_without_location"

SKIP_REASONS: Mapping[str, str] = {
    BAD_CHECK_DIGIT: "bad check digit",
    INVALID_NPI: "not a 10-digit NPI starting with 1 or 2",
    UNKNOWN_STATE: "unknown practice-location state",
    MALFORMED_LINE: "malformed line",
    BAD_DATE: "date not MM/DD/YYYY",
    BAD_ENTITY_TYPE: "entity type not 1 or 2",
    DEACTIVATED_NO_LOCATION: ("deactivated NPI without a practice location and not in the old directory"),
}


class Row(NamedTuple):
    """One NPPES row reduced to what a shard stores; dates as ISO text, empty -> None."""

    npi: int
    entity_type: int | None
    last_name: str
    first_name: str
    organization_name: str
    state: str
    deactivated: str | None
    reactivated: str | None


class Skip(NamedTuple):
    line: int  # 1-based physical line where the record starts (the header is line 1)
    reason: str
    npi: str


def nppes_header(sex_header: str = SEX_HEADERS[0]) -> list[str]:
    """The real 330-column header, with the sex column named as asked (old or new files)."""
    with HEADER_FILE.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    return [sex_header if name in SEX_HEADERS else name for name in header]


def iso_date(text: str) -> str | None:
    """MM/DD/YYYY -> YYYY-MM-DD; empty -> None; anything else -> ValueError."""
    if not text:
        return None
    if len(text) != 10 or text[2] != "/" or text[5] != "/":
        raise ValueError(text)
    iso = f"{text[6:10]}-{text[0:2]}-{text[3:5]}"
    date.fromisoformat(iso)  # rejects 02/30/2024 and non-digits
    return iso


class Layout:
    """Where the needed columns sit in one file, found by header name."""

    def __init__(self, header: Sequence[str]) -> None:
        names = [h.strip().lstrip("\ufeff") for h in header]
        index = {name: i for i, name in reversed(list(enumerate(names)))}
        missing = [c for c in REQUIRED_COLUMNS if c not in index]
        if missing:
            raise ImportRejected(
                "This is not an NPPES data dissemination file: the header lacks "
                + ", ".join(f"'{c}'" for c in missing)
                + "."
            )
        self.width = len(names)
        self.sex_column = next((c for c in SEX_HEADERS if c in index), None)
        self.npi = index[NPI]
        self.entity_type = index[ENTITY_TYPE]
        self.organization_name = index[ORGANIZATION_NAME]
        self.last_name = index[LAST_NAME]
        self.first_name = index[FIRST_NAME]
        self.state = index[PRACTICE_STATE]
        self.deactivation = index[DEACTIVATION_DATE]
        self.reactivation = index[REACTIVATION_DATE]
        # Where each needed column sits, in REQUIRED_COLUMNS order (what `to_row` takes).
        self.needed_indexes = [index[c] for c in REQUIRED_COLUMNS]


def to_row(values: Sequence[str], line: int) -> Row | Skip:
    """The needed values of one record, in REQUIRED_COLUMNS order, checked the way CMS defines them."""
    npi, entity, organization, last, first, state, deactivated, reactivated = values
    if not (len(npi) == 10 and npi.isdigit() and npi.isascii() and npi[0] in "12"):
        return Skip(line, INVALID_NPI, npi)
    if not npi_check_digit_ok(npi):
        return Skip(line, BAD_CHECK_DIGIT, npi)
    try:
        deactivated_on = iso_date(deactivated)
        reactivated_on = iso_date(reactivated)
    except ValueError:
        return Skip(line, BAD_DATE, npi)
    if entity not in _ENTITY_CODES:
        return Skip(line, BAD_ENTITY_TYPE, npi)
    return Row(
        int(npi),
        1 if entity == "1" else 2 if entity == "2" else None,
        last,
        first,
        organization,
        state.strip().upper(),
        deactivated_on,
        reactivated_on,
    )


def careful_records(
    data: bytes, first_line: int, layout: Layout, *, final: bool = True
) -> tuple[list[tuple[int, Row | Skip]], int | None]:
    """Every record of `data` (starting at a record, on `first_line`) through the stdlib reader.

    Returns the (line where the record starts, Row or Skip) pairs, and when `final` is False and
    the last record runs past the end of `data`, the byte offset where it starts (else None).
    A record whose quotes do not pair up, that is cut short, or has more or fewer fields than the
    header is malformed; a value holding a newline continues the record on the next line, for at
    most MAX_RECORD_LINES lines, and a join that does not make a whole record gives up only its
    first line, so one stray quote costs one line, not the rest of the file. A stray quote that
    leaves the row's width intact is kept in its value, as pyarrow reads it (a mangled name then
    fails the name check: it fails closed). Bytes that are not UTF-8 read as U+FFFD.
    """
    width = layout.width
    needed = layout.needed_indexes
    i_npi = layout.npi
    # Lines end at \n only (\r\n included), as the chunker and pyarrow count them.
    raw = data.split(b"\n")
    raw_lines = [part + b"\n" for part in raw[:-1]] + ([raw[-1]] if raw[-1] else [])
    lines = [line.decode("utf-8", "replace") for line in raw_lines]
    items: list[tuple[int, Row | Skip]] = []
    i = 0
    while i < len(lines):
        start = first_line + i
        record = lines[i]
        quotes = record.count('"')
        j = i + 1
        while quotes % 2 and j < len(lines) and j - i < MAX_RECORD_LINES:
            record += lines[j]
            quotes += lines[j].count('"')
            j += 1
        if quotes % 2:
            if j == len(lines) and not final and j - i < MAX_RECORD_LINES:
                return items, sum(len(line) for line in raw_lines[:i])
            items.append((start, Skip(start, MALFORMED_LINE, "")))  # no pairing: this line alone
            i += 1
            continue
        try:
            # Not strict: a stray quote inside a value reads as pyarrow reads it (the quote kept),
            # so a row means the same whichever reader a chunk went through.
            f = next(csv.reader([record], strict=False))
        except (csv.Error, StopIteration):
            f = []
        if len(f) != width:
            # Only the first line is given up: the lines a failed join took in are read again.
            items.append((start, Skip(start, MALFORMED_LINE, f[i_npi] if len(f) > i_npi else "")))
            i += 1
            continue
        i = j
        items.append((start, to_row([f[k] for k in needed], start)))
    return items, None


_ENTITY_CODES = frozenset(("1", "2", ""))


# --- writing (the demo builder and the tests make NPPES-format files with this) ----------------


@dataclass(frozen=True)
class NppesRecord:
    """A provider as the demo and tests describe it; `extra` fills any other column by name."""

    npi: str
    entity_type: int | None = 1
    last_name: str = ""
    first_name: str = ""
    organization_name: str = ""
    state: str = ""
    deactivation_date: date | None = None
    reactivation_date: date | None = None
    sex: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def values(self, header: Sequence[str]) -> list[str]:
        by_name = {
            NPI: self.npi,
            ENTITY_TYPE: "" if self.entity_type is None else str(self.entity_type),
            ORGANIZATION_NAME: self.organization_name,
            LAST_NAME: self.last_name,
            FIRST_NAME: self.first_name,
            PRACTICE_STATE: self.state,
            DEACTIVATION_DATE: _us_date(self.deactivation_date),
            REACTIVATION_DATE: _us_date(self.reactivation_date),
            **{name: self.sex for name in SEX_HEADERS},
            **self.extra,
        }
        return [by_name.get(name, "") for name in header]


def _us_date(d: date | None) -> str:
    return d.strftime("%m/%d/%Y") if d else ""


def write_nppes_csv(
    target: Path | IO[str],
    records: Iterable[NppesRecord],
    *,
    sex_header: str = SEX_HEADERS[0],
    lineterminator: str = "\r\n",
) -> int:
    """Write records in the NPPES layout (real header, every value quoted); returns the count."""
    header = nppes_header(sex_header)
    if isinstance(target, Path):
        with target.open("w", encoding="utf-8", newline="") as f:
            return _write(f, header, records, lineterminator)
    return _write(target, header, records, lineterminator)


def _write(f: IO[str], header: list[str], records: Iterable[NppesRecord], eol: str) -> int:
    writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator=eol)
    writer.writerow(header)
    count = 0
    for record in records:
        writer.writerow(record.values(header))
        count += 1
    return count


def nppes_csv_text(records: Iterable[NppesRecord], **kwargs: str) -> str:
    buffer = io.StringIO(newline="")
    write_nppes_csv(buffer, records, **kwargs)
    return buffer.getvalue()
