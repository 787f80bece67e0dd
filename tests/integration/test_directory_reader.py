"""Reading the NPPES file: pyarrow's chunks against the stdlib reader alone, and damaged files."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from core.directory import Outcome
from core.directory import columnar as columnar_module
from core.directory.columnar import NppesChunks
from core.directory.importer import Progress, import_directory
from core.directory.nppes import (
    MALFORMED_LINE,
    Layout,
    NppesRecord,
    Row,
    Skip,
    careful_records,
    nppes_csv_text,
    nppes_header,
)
from core.directory.regional import default_shard_paths
from core.errors import ImportRejected
from core.regions import default_region_map
from tests.integration.test_import import directory
from tests.nppes_factory import individual, npi_from, npis, with_bad_check_digit, write_bulk

STATES = sorted(default_region_map().states)
MAILING = "Provider First Line Business Mailing Address"


def varied_records(count: int, seed: int, *, newlines: bool = True) -> list[NppesRecord]:
    """Rows of every kind the row rules tell apart, mixed at random (deterministic per seed)."""
    rng = random.Random(seed)
    records = []
    for i, npi in enumerate(npis(count, 140_000_000)):
        roll = rng.random()
        state = rng.choice(STATES)
        extra: dict[str, str] = {}
        if roll < 0.05:
            npi = with_bad_check_digit(npi)
        elif roll < 0.08:
            npi = rng.choice(["12345", "312345678", "１２３４５６７８９０", " " + npi, npi + "0", ""])
        if 0.1 < roll < 0.14:
            state = rng.choice(["", "ONTARIO", "ZZ", " ny ", "ca"])  # unknown, or known once normalized
        if 0.2 < roll < 0.23:
            extra["NPI Deactivation Date"] = rng.choice(["01/02/2019", "2019-01-02", "02/30/2019"])
        if 0.3 < roll < 0.32:
            extra["NPI Reactivation Date"] = "03/04/2020"
        if 0.4 < roll < 0.42:
            extra["Entity Type Code"] = rng.choice(["3", "", "X"])
        if 0.5 < roll < 0.53:
            extra[MAILING] = 'Suite "A", "," floor'
        if newlines and 0.6 < roll < 0.61:
            extra[MAILING] = "1 MAIN ST\r\nSTE 2"  # every later line number in its chunk moves by one
        last = rng.choice(["LEE", 'O"NEIL, JR.', "NGUYEN", "MÜLLER", ""])
        if roll > 0.9:
            records.append(NppesRecord(npi, 2, organization_name=f"CLINIC {i}, LLC", state=state, extra=extra))
        else:
            records.append(NppesRecord(npi, 1, last, "PAT", state=state, extra=extra))
    return records


def chunked(data: bytes) -> list[tuple[int, Row | Skip]]:
    return [item for chunk in NppesChunks(io.BytesIO(data)) for item in chunk.in_order()]


def stdlib_alone(data: bytes) -> list[tuple[int, Row | Skip]]:
    """The whole body through the stdlib reader alone, as one piece."""
    _header, _, body = data.partition(b"\n")
    items, incomplete = careful_records(body, 2, Layout(nppes_header()))
    assert incomplete is None
    return items


def record(rec: NppesRecord) -> bytes:
    return nppes_csv_text([rec]).encode().split(b"\r\n", 1)[1].removesuffix(b"\r\n")


class DamagedFile:
    """Good rows around every kind of damage a download or an export can leave.

    Line numbers are counted here as the file is written (the header is line 1).
    """

    def __init__(self) -> None:
        self.lines = [nppes_csv_text([]).encode().removesuffix(b"\r\n")]
        self.malformed: list[int] = []
        self.at: dict[str, int] = {}
        self.good = 0
        for k, npi in enumerate(npis(12)):
            self.add(record(individual(npi, f"Row{k}", state=STATES[k % len(STATES)])), f"good{k}")
            self.good += 1
            self.damage(k, npi_from(160_000_000 + k))
        self.add(record(individual(npi_from(160_000_100), "Last")), "last")
        self.add(b'"' + npi_from(160_000_101).encode() + b'","1","","Cut', "cut", bad=True)  # no newline

    def add(self, raw: bytes, name: str, *, bad: bool = False) -> None:
        self.at[name] = len(self.lines) + 1
        if bad:
            self.malformed.append(len(self.lines) + 1)
        self.lines.extend(raw.split(b"\r\n"))

    def damage(self, k: int, npi: str) -> None:
        row = record(individual(npi, f"Dmg{k}", state="NY"))
        kinds = [
            lambda: self.add(row[: len(row) // 2], "short", bad=True),  # cut in the middle of a value
            lambda: self.add(b"", "blank", bad=True),
            lambda: self.add(row + b',"extra"', "extra", bad=True),
            lambda: self.add(row.replace(b"Dmg", b"D\xffg"), "utf8_needed"),
            lambda: self.add(row.replace(b'""', b'"\xe9"', 1), "utf8_other"),  # Replacement NPI column
            lambda: self.add(record(individual(npi, "Multi", extra={MAILING: "1 MAIN ST\r\nSTE 2"})), "multi"),
            lambda: self.add(row.replace(b'"Dmg', b'"D"m"g', 1), "stray"),  # stray quotes that pair up
            lambda: self.add(row.replace(b'Dmg7"', b"Dmg7", 1), "unpaired", bad=True),
            lambda: self.add(row.replace(b'"Dmg8"', b'"Dmg8",""', 1), "wide", bad=True),
            lambda: self.add(row.replace(b'","', b'"\r\n"', 1), "split", bad=True),  # a row cut in two lines
        ]
        if k < len(kinds):
            kinds[k]()

    def data(self) -> bytes:
        return b"\r\n".join(self.lines)


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
@pytest.mark.parametrize("chunk_bytes", [700, 3_000, 1 << 14, columnar_module.CHUNK_BYTES])
def test_chunks_agree_with_the_stdlib_reader_alone(monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, eol: str) -> None:
    # Small chunks put a chunk boundary inside records, values and multi-line values.
    monkeypatch.setattr(columnar_module, "CHUNK_BYTES", chunk_bytes)
    data = nppes_csv_text(varied_records(400, seed=chunk_bytes), lineterminator=eol).encode()
    items = chunked(data)
    assert items == stdlib_alone(data)
    assert len(items) == 400


@pytest.mark.parametrize("chunk_bytes", [700, 5_000, columnar_module.CHUNK_BYTES])
def test_damaged_rows_are_found_at_their_lines(monkeypatch: pytest.MonkeyPatch, chunk_bytes: int) -> None:
    monkeypatch.setattr(columnar_module, "CHUNK_BYTES", chunk_bytes)
    damaged = DamagedFile()
    items = chunked(damaged.data())
    assert items == stdlib_alone(damaged.data())
    malformed = [line for line, item in items if isinstance(item, Skip) and item.reason == MALFORMED_LINE]
    # a row cut in two lines is two malformed lines
    assert malformed == sorted([*damaged.malformed, damaged.at["split"] + 1])
    by_line = {line: item for line, item in items}
    for k in range(12):
        good = by_line[damaged.at[f"good{k}"]]
        assert isinstance(good, Row) and good.last_name == f"Row{k}", k
    assert by_line[damaged.at["multi"]] == Row(int(npi_from(160_000_005)), 1, "Multi", "Pat", "", "NY", None, None)

    def row_at(name: str) -> Row:
        item = by_line[damaged.at[name]]
        assert isinstance(item, Row), name
        return item

    assert row_at("utf8_needed").last_name == "D\ufffdg3"
    assert row_at("utf8_other").last_name == "Dmg4"
    assert row_at("stray").last_name == 'Dm"g6"'
    assert row_at("last").last_name == "Last"


def test_chunk_split_agrees_with_the_row_rules() -> None:
    data = nppes_csv_text(varied_records(3_000, seed=7, newlines=False)).encode()
    region_of_state = {s: r for s in STATES if (r := default_region_map().get(s)) is not None}
    for chunk in NppesChunks(io.BytesIO(data)):
        assert chunk.table is not None, "a clean file is read by pyarrow"
        split = chunk.split(region_of_state)
        assert split is not None
        by_region, others = split
        expected_clean: dict[int, list[tuple[object, ...]]] = {}
        expected_others = []
        for line, item in chunk.in_order():
            region = region_of_state.get(item.state) if isinstance(item, Row) else None
            if isinstance(item, Row) and region is not None and not item.deactivated and not item.reactivated:
                expected_clean.setdefault(region, []).append(tuple(item))
            else:
                expected_others.append((line, item))
        assert {r: [tuple(row) for row in rows] for r, rows in by_region.items()} == expected_clean
        assert others == expected_others
        assert sum(map(len, by_region.values())) > 2_000  # most rows took the column-wise path


def test_a_chunk_naming_an_npi_twice_keeps_file_order(tmp_path: Path) -> None:
    npi = npi_from(150_000_003)
    source = tmp_path / "twice.csv"
    source.write_text(nppes_csv_text([individual(npi, "Old"), individual(npi, "New")]), newline="")
    targets = default_shard_paths(tmp_path / "directory")
    summary = import_directory(source, targets)
    assert summary.rows == 2
    assert directory(targets).verify(npi, "New").outcome is Outcome.VERIFIED


def test_a_damaged_file_imports_its_good_rows(tmp_path: Path) -> None:
    damaged = DamagedFile()
    source = tmp_path / "damaged.csv"
    source.write_bytes(damaged.data())
    targets = default_shard_paths(tmp_path / "directory")
    summary = import_directory(source, targets)
    malformed = len(damaged.malformed) + 1  # the row cut in two lines counts twice
    assert dict(summary.skipped) == {MALFORMED_LINE: malformed}
    assert summary.stored == 12 + 1 + 4  # good rows, the last one, and the 4 damaged but readable
    assert summary.rows == summary.stored + malformed
    assert [line for line, _npi in summary.examples[MALFORMED_LINE]] == damaged.malformed[:5]
    d = directory(targets)
    assert d.verify(npi_from(160_000_005), "Multi").outcome is Outcome.VERIFIED
    assert d.verify(npi_from(160_000_000), "Dmg0").outcome is Outcome.NOT_FOUND  # cut short: not stored


def test_a_file_without_a_newline_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    blob = tmp_path / "export.csv"
    blob.write_bytes(b'"NPI",' * 1_000_000)  # 6 MB, no line end: not an NPPES header
    with blob.open("rb") as f:
        with pytest.raises(ImportRejected, match="not an NPPES"):
            NppesChunks(f)
        assert f.tell() <= columnar_module.HEADER_BYTES


def test_the_cms_zip_streams_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar_module, "CHUNK_BYTES", 64 << 10)  # ~60 rows a chunk
    plain = tmp_path / "npidata_pfile_20050523-20240310.csv"
    write_bulk(plain, 2_000)
    archive = tmp_path / "NPPES_Data_Dissemination_March_2024.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(plain, plain.name)
    seen: list[Progress] = []
    targets = default_shard_paths(tmp_path / "directory")
    summary = import_directory(archive, targets, progress=seen.append)
    assert (summary.rows, summary.stored) == (2_000, 2_000)
    assert directory(targets).verify(next(npis(1, 150_000_000)), "Bulk").outcome is Outcome.VERIFIED
    assert seen[-1].fraction == 1.0 and 0 < seen[0].rows < 2_000
