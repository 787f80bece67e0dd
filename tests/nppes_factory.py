"""Test data for the directory: valid NPIs computed from the CMS rule, and small NPPES files.

The CSV layout itself comes from `core.directory.nppes.write_nppes_csv` (the demo builder uses it
too); this module only picks NPIs and records.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from core.directory.importer import ImportSummary, import_directory
from core.directory.nppes import NppesRecord, write_nppes_csv
from core.directory.regional import default_shard_paths
from core.npi import npi_check_digit_ok


def npi_from(first_nine: int) -> str:
    """The valid NPI that starts with these nine digits (the tenth is the check digit)."""
    stem = f"{first_nine:09d}"
    for check in "0123456789":
        if npi_check_digit_ok(stem + check):
            return stem + check
    raise AssertionError("a Luhn check digit always exists")


def npis(count: int, start: int = 123_456_000) -> Iterator[str]:
    for i in range(count):
        yield npi_from(start + i)


def with_bad_check_digit(npi: str) -> str:
    return npi[:9] + str((int(npi[9]) + 1) % 10)


def individual(npi: str, last: str, first: str = "Pat", state: str = "NY", **kw: Any) -> NppesRecord:
    return NppesRecord(npi=npi, entity_type=1, last_name=last, first_name=first, state=state, **kw)


def organization(npi: str, name: str, state: str = "TX") -> NppesRecord:
    return NppesRecord(npi=npi, entity_type=2, organization_name=name, state=state)


def deactivated_blank(npi: str, day: date) -> NppesRecord:
    """How NPPES ships a deactivated NPI: only the NPI and the deactivation date."""
    return NppesRecord(npi=npi, entity_type=None, deactivation_date=day)


def build_directory(
    tmp: Path, records: list[NppesRecord], name: str = "nppes.csv"
) -> tuple[dict[int, Path], ImportSummary]:
    """Write records as an NPPES file in `tmp` and import it into `tmp/directory`."""
    source = tmp / name
    write_nppes_csv(source, records)
    targets = default_shard_paths(tmp / "directory")
    return targets, import_directory(source, targets)


def write_bulk(path: Path, count: int, start: int = 150_000_000, state: str = "NY") -> None:
    """A large NPPES-format file quickly: one template row, only the NPI changes."""
    import csv

    from core.directory.nppes import nppes_header

    header = nppes_header()
    template = NppesRecord(
        npi="",
        last_name="BULK",
        first_name="ROW",
        state=state,
        extra={"Provider First Line Business Mailing Address": "1 MAIN ST, STE 2"},
    ).values(header)
    npi_col = header.index("NPI")
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        for npi in npis(count, start):
            template[npi_col] = npi
            writer.writerow(template)
