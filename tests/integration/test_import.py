"""The NPPES importer on generated files with the real 330-column header (issue 5, rules 2-4)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from core.directory import Outcome, RegionalDirectory, open_backends
from core.directory.columnar import NppesChunks
from core.directory.importer import Progress, import_directory
from core.directory.journal import SWAP_JOURNAL, finish_pending_swap
from core.directory.nppes import (
    NppesRecord,
    Row,
    Skip,
    nppes_csv_text,
    nppes_header,
    write_nppes_csv,
)
from core.directory.regional import default_shard_paths
from core.directory.shard import LocalRegionBackend
from core.errors import ImportRejected
from kiosk.cli import main as ipkiosk
from tests.nppes_factory import (
    deactivated_blank,
    individual,
    npi_from,
    npis,
    organization,
    with_bad_check_digit,
    write_bulk,
)

ROOT = Path(__file__).resolve().parents[2]
A, B, C, D, E, F = (npi_from(110_000_000 + i) for i in range(6))


def directory(targets: dict[int, Path]) -> RegionalDirectory:
    return RegionalDirectory(open_backends({r: (p, None) for r, p in targets.items()}, lambda r: None), 2.0)


def read_rows(text: str) -> list[Row | Skip]:
    return [item for chunk in NppesChunks(io.BytesIO(text.encode())) for _line, item in chunk.in_order()]


@pytest.fixture
def targets(tmp_path: Path) -> dict[int, Path]:
    return default_shard_paths(tmp_path / "directory")


def test_the_real_header_has_330_columns() -> None:
    header = nppes_header()
    assert len(header) == 330
    assert header[0] == "NPI" and "Provider Sex Code" in header


def test_quotes_commas_and_newlines_inside_values_survive() -> None:
    text = nppes_csv_text(
        [
            individual(A, 'O"Neil, Jr.', 'Ann "Annie"', "NY"),
            organization(B, 'Acme, "Best" Care\nof Texas', "TX"),
            individual(
                C,
                "Plain",
                extra={
                    "Provider First Line Business Mailing Address": 'Suite "A", "," floor',
                    "Provider Other Last Name": 'x","y',
                },
            ),
        ]
    )
    rows = read_rows(text)
    assert [type(r) for r in rows] == [Row, Row, Row]
    a, b, c = rows
    assert isinstance(a, Row) and isinstance(b, Row) and isinstance(c, Row)
    assert (a.last_name, a.first_name, a.state) == ('O"Neil, Jr.', 'Ann "Annie"', "NY")
    assert (b.entity_type, b.organization_name) == (2, 'Acme, "Best" Care\nof Texas')
    assert (c.npi, c.last_name) == (int(C), "Plain")


@pytest.mark.parametrize("sex_header", ["Provider Sex Code", "Provider Gender Code"])
def test_both_sex_and_gender_headers_load(tmp_path: Path, targets: dict[int, Path], sex_header: str) -> None:
    source = tmp_path / "n.csv"
    write_nppes_csv(source, [individual(A, "Lee", sex="F")], sex_header=sex_header)
    assert sex_header in source.read_text().splitlines()[0]
    summary = import_directory(source, targets)
    assert summary.stored == 1
    assert directory(targets).verify(A, "Lee").outcome is Outcome.VERIFIED


def test_columns_are_found_by_name_not_position(tmp_path: Path, targets: dict[int, Path]) -> None:
    header = nppes_header()
    moved = [header[5], *header[:5], *header[6:]]  # last name first: every position shifts
    record = individual(A, "Moved", state="WA")
    source = tmp_path / "moved.csv"
    with source.open("w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(moved)
        w.writerow(record.values(moved))
    import_directory(source, targets)
    result = directory(targets).verify(A, "Moved")
    assert (result.outcome, result.region) == (Outcome.VERIFIED, 5)


def test_a_file_without_nppes_columns_is_refused_and_changes_nothing(tmp_path: Path, targets: dict[int, Path]) -> None:
    good = tmp_path / "good.csv"
    write_nppes_csv(good, [individual(A, "Lee")])
    import_directory(good, targets)
    bad = tmp_path / "bad.csv"
    bad.write_text('"serial","key"\n"1","2"\n')
    with pytest.raises(ImportRejected, match="Entity Type Code"):
        import_directory(bad, targets)
    assert directory(targets).verify(A, "Lee").outcome is Outcome.VERIFIED
    assert not list(targets[1].parent.glob("*.importing-*"))


def test_every_kind_of_bad_row_is_skipped_with_its_reason(tmp_path: Path, targets: dict[int, Path]) -> None:
    source = tmp_path / "mixed.csv"
    good = [individual(A, "Lee", state="NY"), organization(B, "Org, Inc.", state="TX")]
    bad = [
        individual(with_bad_check_digit(C), "Typo"),  # line 4
        individual(D, "Abroad", state="ONTARIO"),  # line 5
        individual(E, "Blank", state=""),  # line 6
        individual("12345", "Short"),  # line 7
        individual(F, "Baddate", deactivation_date=None, extra={"NPI Deactivation Date": "2021-01-02"}),
    ]
    write_nppes_csv(source, good + bad)
    with source.open("a", newline="") as f:  # a last line cut short, as by a failed download
        f.write(f'"{npi_from(110_000_100)}","1","","","","Cut')
    summary = import_directory(source, targets)
    assert summary.rows == 8
    assert summary.stored == 2
    assert dict(summary.skipped) == {
        "bad_check_digit": 1,
        "unknown_state": 2,
        "invalid_npi": 1,
        "bad_date": 1,
        "malformed_line": 1,
    }
    assert summary.examples["bad_check_digit"] == [(4, with_bad_check_digit(C))]
    assert summary.examples["unknown_state"] == [(5, D), (6, E)]
    assert summary.examples["malformed_line"][0][0] == 9
    # Rule 4: the unknown-state NPIs fail closed.
    assert directory(targets).verify(D, "Abroad").outcome is not Outcome.VERIFIED
    doc = summary.to_dict()
    assert doc["skipped"]["unknown_state"]["meaning"] == "unknown practice-location state"


def test_a_short_row_in_the_middle_is_malformed(tmp_path: Path, targets: dict[int, Path]) -> None:
    text = nppes_csv_text([individual(A, "Lee")])
    text += f'"{B}","1","","","","Short"\r\n'
    text += nppes_csv_text([individual(C, "Ng")]).split("\r\n", 1)[1]
    source = tmp_path / "short.csv"
    source.write_text(text, newline="")
    summary = import_directory(source, targets)
    assert (summary.stored, dict(summary.skipped)) == (2, {"malformed_line": 1})


def test_deactivation_reactivation_and_organizations(tmp_path: Path, targets: dict[int, Path]) -> None:
    source = tmp_path / "n.csv"
    write_nppes_csv(
        source,
        [
            individual(A, "Lee", deactivation_date=date(2019, 5, 6)),
            individual(B, "Kim", deactivation_date=date(2019, 5, 6), reactivation_date=date(2020, 1, 1)),
            organization(C, "Clinic"),
        ],
    )
    import_directory(source, targets)
    d = directory(targets)
    assert d.verify(A, "Lee").outcome is Outcome.DEACTIVATED
    assert d.verify(B, "Kim").outcome is Outcome.VERIFIED
    org = d.verify(C, "Clinic")
    assert org.outcome is Outcome.NOT_FOUND and "organization" in org.message


def test_a_blank_deactivated_row_keeps_its_old_region(tmp_path: Path, targets: dict[int, Path]) -> None:
    first = tmp_path / "m1.csv"
    write_nppes_csv(first, [individual(A, "Lee", state="OH"), individual(B, "Kim")])
    import_directory(first, targets)
    # Next month NPPES ships A deactivated, with every other field blank; C was never seen.
    second = tmp_path / "m2.csv"
    write_nppes_csv(
        second, [deactivated_blank(A, date(2024, 2, 3)), individual(B, "Kim"), deactivated_blank(C, date(2024, 2, 3))]
    )
    summary = import_directory(second, targets)
    assert summary.per_region[3] == 1
    assert dict(summary.skipped) == {"deactivated_without_location": 1}
    result = directory(targets).verify(A, "Lee")
    assert (result.outcome, result.region) == (Outcome.DEACTIVATED, 3)


def test_the_cms_zip_imports(tmp_path: Path, targets: dict[int, Path]) -> None:
    archive = tmp_path / "NPPES_Data_Dissemination_March_2024.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("npidata_pfile_20050523-20240310.csv", nppes_csv_text([individual(A, "Lee")]))
        z.writestr("npidata_pfile_20050523-20240310_fileheader.csv", nppes_csv_text([]))
        z.writestr("othername_pfile_20050523-20240310.csv", '"NPI","Provider Other Organization Name"\n')
        z.writestr("NPPES_Data_Dissemination_Readme.pdf", b"%PDF")
    summary = import_directory(archive, targets)
    assert summary.stored == 1
    assert directory(targets).verify(A, "Lee").outcome is Outcome.VERIFIED


def test_weekly_update_applies_on_top(tmp_path: Path, targets: dict[int, Path]) -> None:
    monthly = tmp_path / "monthly.csv"
    write_nppes_csv(monthly, [individual(A, "Lee", state="NY"), individual(B, "Kim", state="CA"), individual(D, "Ng")])
    import_directory(monthly, targets)
    weekly = tmp_path / "weekly.csv"
    write_nppes_csv(
        weekly,
        [
            individual(A, "Lee", state="TX"),  # moved: region 1 -> 4
            individual(B, "Kim", state="CA", deactivation_date=date(2024, 3, 1)),
            individual(C, "New", state="IL"),
        ],
    )
    summary = import_directory(weekly, targets, weekly=True)
    assert summary.kind == "weekly" and summary.stored == 3
    d = directory(targets)
    moved = d.verify(A, "Lee")
    assert (moved.outcome, moved.region) == (Outcome.VERIFIED, 4)
    assert moved.answers[1].status == "not_found"  # gone from its old region
    assert d.verify(B, "Kim").outcome is Outcome.DEACTIVATED
    assert d.verify(C, "New").outcome is Outcome.VERIFIED
    assert d.verify(D, "Ng").outcome is Outcome.VERIFIED  # untouched rows stay
    assert summary.totals == {1: 1, 2: 0, 3: 1, 4: 1, 5: 1}


def test_deactivation_report_marks_npis(tmp_path: Path, targets: dict[int, Path]) -> None:
    monthly = tmp_path / "monthly.csv"
    write_nppes_csv(monthly, [individual(A, "Lee"), individual(B, "Kim", state="CA")])
    import_directory(monthly, targets)
    report = tmp_path / "deactivated.csv"
    report.write_text(
        '"NPI","NPPES Deactivation Date"\n'
        f'"{B}","04/05/2024"\n'
        f'"{C}","04/05/2024"\n'
        f'"{with_bad_check_digit(A)}","04/05/2024"\n'
    )
    summary = import_directory(None, targets, deactivations=report)
    assert (summary.deactivations_applied, summary.deactivations_not_in_directory) == (1, 1)
    assert summary.deactivations_rejected == 1
    d = directory(targets)
    assert d.verify(B, "Kim").outcome is Outcome.DEACTIVATED
    assert d.verify(A, "Lee").outcome is Outcome.VERIFIED


KILLABLE_IMPORT = """
import sys, time
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from core.directory.importer import import_directory
from core.directory.regional import default_shard_paths

def progress(p):
    print("rows", p.rows, flush=True)
    time.sleep(60)  # hold the import mid-way until the test kills it

import_directory(Path(sys.argv[1]), default_shard_paths(Path(sys.argv[2])), progress=progress)
"""


def test_progress_is_reported_from_the_first_rows_on(tmp_path: Path, targets: dict[int, Path]) -> None:
    source = tmp_path / "bulk.csv"
    write_bulk(source, 20_000)
    seen: list[Progress] = []
    import_directory(source, targets, progress=seen.append)
    assert 0 < seen[0].rows < 20_000  # under way, not only once the file is done
    assert seen[0].seconds_left is not None
    assert (seen[-1].rows, seen[-1].fraction) == (20_000, 1.0)
    assert [p.rows for p in seen] == sorted(p.rows for p in seen)


def test_a_killed_import_leaves_the_old_directory_answering(tmp_path: Path, targets: dict[int, Path]) -> None:
    old = tmp_path / "old.csv"
    write_nppes_csv(old, [individual(A, "Lee")])
    import_directory(old, targets)
    before = {r: p.read_bytes() for r, p in targets.items()}
    big = tmp_path / "big.csv"
    write_bulk(big, 30_000)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_IMPORT, str(big), str(targets[1].parent), str(ROOT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    assert first.startswith("rows ") and 0 < int(first.split()[1]) < 30_000
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert {r: p.read_bytes() for r, p in targets.items()} == before
    assert list(targets[1].parent.glob("*.importing-*"))  # the dead build's leftovers
    assert directory(targets).verify(A, "Lee").outcome is Outcome.VERIFIED
    bulk_npi = next(npis(1, 150_000_000))
    assert directory(targets).verify(bulk_npi, "Bulk").outcome is Outcome.NOT_FOUND
    # The next import cleans up after the dead one and succeeds.
    summary = import_directory(big, targets)
    assert summary.stored == 30_000
    assert not list(targets[1].parent.glob("*.importing-*"))
    assert directory(targets).verify(bulk_npi, "Bulk").outcome is Outcome.VERIFIED


def test_a_swap_cut_short_is_rolled_forward(tmp_path: Path, targets: dict[int, Path]) -> None:
    old = tmp_path / "old.csv"
    write_nppes_csv(old, [individual(A, "Lee"), individual(B, "Kim", state="CA")])
    import_directory(old, targets)
    # Simulate a kill after the journal was written and region 1 was swapped, before region 5:
    # build complete new shards elsewhere, then stage them as the importer would.
    staging = default_shard_paths(tmp_path / "staging")
    new = tmp_path / "new.csv"
    write_nppes_csv(
        new,
        [
            individual(A, "Lee", deactivation_date=date(2024, 1, 1)),
            individual(B, "Kim", state="CA", deactivation_date=date(2024, 1, 1)),
        ],
    )
    import_directory(new, staging)
    pairs = []
    for r, final in targets.items():
        temp = final.with_name(final.name + ".importing-999")
        temp.write_bytes(staging[r].read_bytes())
        pairs.append([str(temp), str(final)])
    (targets[1].parent / SWAP_JOURNAL).write_text(json.dumps({"pairs": pairs}))
    os.replace(pairs[0][0], pairs[0][1])
    d = directory(targets)  # opening the directory finishes the swap
    assert not (targets[1].parent / SWAP_JOURNAL).exists()
    assert d.verify(A, "Lee").outcome is Outcome.DEACTIVATED
    assert d.verify(B, "Kim").outcome is Outcome.DEACTIVATED
    finish_pending_swap(targets[1].parent)  # idempotent


def test_readers_see_the_new_directory_after_a_swap(tmp_path: Path, targets: dict[int, Path]) -> None:
    first = tmp_path / "a.csv"
    write_nppes_csv(first, [individual(A, "Lee")])
    import_directory(first, targets)
    d = directory(targets)
    assert d.verify(A, "Lee").outcome is Outcome.VERIFIED
    second = tmp_path / "b.csv"
    write_nppes_csv(second, [individual(A, "Lee", deactivation_date=date(2024, 1, 1))])
    import_directory(second, targets)
    assert d.verify(A, "Lee").outcome is Outcome.DEACTIVATED  # same object, reopened shard


def test_shard_holds_the_compact_record(tmp_path: Path, targets: dict[int, Path]) -> None:
    source = tmp_path / "n.csv"
    write_nppes_csv(source, [NppesRecord(A, 1, "Lee", "Ann", "", "ny", date(2020, 1, 2), date(2021, 3, 4))])
    import_directory(source, targets)
    record = LocalRegionBackend(1, targets[1]).lookup(A)
    assert record is not None
    assert record.summary() == {
        "npi": A,
        "entity_type": 1,
        "last_name": "Lee",
        "first_name": "Ann",
        "organization_name": "",
        "state": "NY",
        "deactivation_date": "2020-01-02",
        "reactivation_date": "2021-03-04",
    }


def test_cli_import_verify_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    source = tmp_path / "n.csv"
    write_nppes_csv(source, [individual(A, "Lee"), individual(with_bad_check_digit(B), "Typo"), organization(C, "Org")])
    assert ipkiosk(["--data-dir", str(data), "--json", "directory", "import", str(source)]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["stored"] == 2 and doc["skipped"]["bad_check_digit"]["count"] == 1
    assert "rows/s" in err  # the progress bar
    assert ipkiosk(["--data-dir", str(data), "directory", "verify", A, "--last-name", "LEE", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcome"] == "verified" and doc["region"] == 1
    assert set(doc["answers"]) == {"1", "2", "3", "4", "5"}
    assert ipkiosk(["--data-dir", str(data), "directory", "verify", C, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["outcome"] == "not_found"
    assert ipkiosk(["--data-dir", str(data), "directory", "verify", "1234567890"]) == 2
    assert "check digit" in capsys.readouterr().err
    assert ipkiosk(["--data-dir", str(data), "directory", "load", str(source)]) == 0
    assert "2 stored" in capsys.readouterr().out


def test_cli_refuses_a_non_nppes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    assert ipkiosk(["--data-dir", str(tmp_path / "d"), "directory", "import", str(bad)]) == 2
    assert "not an NPPES" in capsys.readouterr().err
