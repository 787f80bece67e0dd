"""The NPPES file in record-aligned chunks, parsed by pyarrow's C CSV reader.

Only the eight needed columns are converted; the other ~320 are split in C and dropped. The
common row (valid NPI, no dates, a known state) is checked column-wise in C too, so Python only
touches the few rows that need a decision (a skip, a date, a placement), through `nppes.to_row`.

The chunker cuts the byte stream after its last newline, so the first line number of every chunk
is known. pyarrow vouches for a chunk when each of its lines is one record of the header's width
in valid UTF-8; any other chunk goes whole through `nppes.careful_records` (the stdlib reader),
which has the last word on its records: a row of the wrong width (short, cut, extra fields, a
blank line), a value holding a newline (pyarrow's row count would not match the lines, so line
numbers would drift), bytes that are not UTF-8 in a needed column (read as U+FFFD, as the import
always has), and a record that runs past the chunk's end (carried into the next chunk). Both
readers read a stray quote inside a value alike, so a row means the same whichever way its chunk
went.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import IO, Any, cast

from core.directory.nppes import Layout, Row, Skip, careful_records, to_row
from core.errors import ImportRejected

# pyarrow and numpy are imported where they are used: the CLI and the kiosk import this module
# on every start, and only an import needs them (~0.3 s and ~80 MB).

CHUNK_BYTES = 4 << 20  # ~3,500 NPPES rows
BLOCK_BYTES = 1 << 20
HEADER_BYTES = 1 << 20  # the real header is ~12 KB; a file with no newline is not read whole
# A record never reaches this (NPPES rows are ~1 KB): past it a chunk is cut at a newline even
# inside quotes, so a stray quote cannot pull the rest of the file into memory.
MAX_CHUNK_BYTES = 16 << 20
_NEWLINE = ord("\n")
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # Luhn: what a doubled digit contributes
_PREFIX_SUM = 24  # the Luhn share of the `80840` prefix (see core.npi)

Item = tuple[int, Row | Skip]  # (line where the record starts, what it became)


@dataclass
class Chunk:
    """Whole records of the file: either pyarrow's columns or the careful reader's items."""

    first_line: int
    records: int
    table: Any = None  # pyarrow Table of the needed columns (REQUIRED_COLUMNS order), or None
    careful: list[Item] | None = None

    def in_order(self) -> Iterator[Item]:
        """Every record, in file order, as (line, Row | Skip)."""
        if self.careful is not None:
            yield from self.careful
            return
        columns = [c.to_pylist() for c in self.table.columns]
        for offset, values in enumerate(zip(*columns, strict=True)):
            line = self.first_line + offset
            yield line, to_row(values, line)

    def split(self, region_of_state: Mapping[str, int]) -> tuple[dict[int, list[Row]], list[Item]] | None:
        """Clean rows by region (checked in C), and the others in file order; None when this
        chunk names an NPI twice (file order between the two then decides: use `in_order`)."""
        if self.table is None:
            return None
        import pyarrow as pa
        import pyarrow.compute as pc

        npi, entity, organization, last, first, state, deactivated, reactivated = self.table.columns
        shaped = pc.match_substring_regex(npi, r"^[12][0-9]{9}$")
        shaped_npis = pc.filter(npi, shaped)
        if pc.count_distinct(shaped_npis).as_py() != len(shaped_npis):
            return None
        number = pc.cast(pc.if_else(shaped, npi, "1000000000"), pa.int64())
        entity_code = pc.index_in(entity, value_set=pa.array(["1", "2", ""]))
        states = sorted(region_of_state)
        normalized = pc.utf8_upper(pc.utf8_trim_whitespace(state))
        region = pc.take(
            pa.array([region_of_state[s] for s in states], pa.int8()),
            pc.index_in(normalized, value_set=pa.array(states, pa.string())),
        )
        clean = pc.and_kleene(
            pc.and_kleene(shaped, _check_digit_ok(number)),
            pc.and_kleene(
                pc.and_(pc.equal(deactivated, ""), pc.equal(reactivated, "")),
                # ASCII only: Python's str.upper() and pyarrow's differ on a few other letters
                pc.and_(pc.and_(pc.is_valid(entity_code), pc.is_valid(region)), pc.string_is_ascii(state)),
            ),
        )
        clean = pc.fill_null(clean, False)
        # 1 and 2 as ints, "" (NPPES blanked it) as NULL
        entity_int = pc.if_else(pc.equal(entity_code, 2), pa.scalar(None, pa.int32()), pc.add(entity_code, 1))
        # One stable sort by region, so each region's rows are one slice of one list per column.
        keep = pc.indices_nonzero(clean)
        keep_region = pc.take(region, keep)
        at = pc.take(keep, pc.sort_indices(keep_region))
        columns = [pc.take(col, at).to_pylist() for col in (number, entity_int, last, first, organization, normalized)]
        # Plain tuples in Row's field order: sqlite binds them alike, and making 9 M NamedTuples
        # one by one would cost seconds.
        rows = cast("list[Row]", list(zip(*columns, repeat(None), repeat(None))))
        by_region: dict[int, list[Row]] = {}
        start = 0
        for count in pc.value_counts(keep_region).sort("ascending", by="values").to_pylist():
            by_region[count["values"]] = rows[start : start + count["counts"]]
            start += count["counts"]
        others_at = pc.indices_nonzero(pc.invert(clean))
        others: list[Item] = []
        if len(others_at):
            picked = [pc.take(col, others_at).to_pylist() for col in self.table.columns]
            for offset, values in zip(others_at.to_pylist(), zip(*picked, strict=True), strict=True):
                line = self.first_line + offset
                others.append((line, to_row(values, line)))
        return by_region, others


def _check_digit_ok(number: Any) -> Any:
    """Luhn over `80840` + the NPI, column-wise: the same rule as core.npi.npi_check_digit_ok."""
    import pyarrow as pa
    import pyarrow.compute as pc

    doubled = pa.array(_DOUBLED, pa.int64())
    total = pa.scalar(_PREFIX_SUM, pa.int64())
    rest = number
    for position in range(10):  # from the right: the check digit itself is not doubled
        tens = pc.divide(rest, 10)
        digit = pc.subtract(rest, pc.multiply(tens, 10))
        total = pc.add(total, pc.take(doubled, digit) if position % 2 else digit)
        rest = tens
    return pc.equal(pc.subtract(total, pc.multiply(pc.divide(total, 10), 10)), 0)


class NppesChunks:
    """Iterate an NPPES byte stream (CSV, header first) as `Chunk`s; counts records and bytes."""

    def __init__(self, binary: IO[bytes]) -> None:
        self._binary = binary
        header_line = binary.readline(HEADER_BYTES)
        self.bytes_read = len(header_line)
        try:
            header = next(csv.reader([header_line.decode("utf-8", "replace")]))
        except (StopIteration, csv.Error):
            raise ImportRejected("The file is empty or its header line is unreadable.") from None
        self.layout = Layout(header)
        self.rows_read = 0
        import pyarrow.csv as pcsv

        names = [f"c{i}" for i in range(self.layout.width)]  # headers may repeat; these do not
        self._needed = [names[i] for i in self.layout.needed_indexes]
        # One thread: on a shared 2-core box the pool's hand-offs cost more CPU than they save wall
        # time, and the rest of the import (sqlite, the row checks) runs on this thread anyway.
        self._read_options = pcsv.ReadOptions(column_names=names, block_size=BLOCK_BYTES, use_threads=False)
        self._convert_options = pcsv.ConvertOptions(
            include_columns=self._needed,
            column_types=dict.fromkeys(self._needed, "string"),  # checks UTF-8; "" stays "", never NULL
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )

    def __iter__(self) -> Iterator[Chunk]:
        line = 2
        # One buffer read into again and again: fresh 4 MiB bytes objects per chunk cost more in
        # page faults and copies than pyarrow spends parsing them.
        buffer = bytearray(CHUNK_BYTES)
        filled = 0  # bytes at the start of `buffer` carried over from the last piece
        final = False
        while not final:
            if filled == len(buffer):  # one record fills it: make room (exports forbid resizing)
                buffer = bytearray(buffer) + bytearray(len(buffer))
            view = memoryview(buffer)
            got = self._binary.readinto(view[filled:])  # type: ignore[attr-defined]
            self.bytes_read += got
            end = filled + got
            final = got == 0
            if not end:
                return
            # Cut after the last newline: in a clean chunk that ends a record. If it sits
            # inside a value, the chunk is not clean and the careful reader finds the real end.
            cut = end if final else buffer.rfind(b"\n", 0, end) + 1
            if not cut and end < MAX_CHUNK_BYTES:
                filled = end
                continue
            cut = cut or end
            lines = _newlines(view[:cut]) + (buffer[cut - 1] != _NEWLINE)
            table = self._parse(view[:cut])
            if table is not None and table.num_rows == lines:
                chunk = Chunk(line, lines, table=table)
            else:
                items, incomplete_at = careful_records(bytes(view[:cut]), line, self.layout, final=final)
                if incomplete_at == 0:
                    if end < MAX_CHUNK_BYTES:
                        filled = end  # one record spans the whole piece: read on
                        continue
                    items, incomplete_at = careful_records(bytes(view[:cut]), line, self.layout)
                if incomplete_at is not None:
                    cut = incomplete_at
                    lines = _newlines(view[:cut])
                chunk = Chunk(line, len(items), careful=items)
            self.rows_read += chunk.records
            line += lines
            yield chunk
            filled = end - cut
            buffer[:filled] = buffer[cut:end]

    def _parse(self, piece: memoryview) -> Any:
        """pyarrow's table of the needed columns, or None when it cannot vouch for every row."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        invalid = 0

        def count_invalid(_row: object) -> str:
            nonlocal invalid
            invalid += 1
            return "skip"

        try:
            table = pcsv.read_csv(
                pa.BufferReader(pa.py_buffer(piece)),
                read_options=self._read_options,
                parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=count_invalid),
                convert_options=self._convert_options,
            )
        except pa.ArrowException:
            return None  # e.g. a needed value that is not UTF-8
        return None if invalid else table.select(self._needed)


def _newlines(data: memoryview) -> int:
    # numpy's vectorized compare: ~5x bytes.count, which would cost seconds on the national file
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(data, np.uint8) == _NEWLINE))
