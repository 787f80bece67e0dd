"""Streaming NPPES import into the five regional shards, swapped in atomically.

The monthly file (~9.2 million rows, ~11 GB, or the zip CMS ships) streams through in constant
memory: pyarrow reads it in chunks (`columnar`), and rows are routed to their region's new shard
file in batches. Only when every new shard is complete are they renamed over the old ones, after a
swap journal is written: a failed, interrupted or killed import before that point leaves the old
shards answering untouched, and a kill during the renames is rolled forward by the next reader or
import (see `journal`).

A weekly update file starts from copies of the current shards and applies its rows on top (an
NPI whose practice state moved changes region); a deactivation report (NPI + date) marks NPIs
deactivated wherever they are.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.directory import nppes
from core.directory.columnar import NppesChunks
from core.directory.journal import finish_pending_swap, swap_in
from core.directory.nppes import Row, Skip
from core.directory.shard import LocalRegionBackend, ShardWriter
from core.directory.source import open_source
from core.errors import DirectoryUnavailable, ImportRejected
from core.npi import is_valid_npi
from core.regions import REGIONS, RegionMap, default_region_map

LOCK_FILE = ".directory-import.lock"
BATCH_ROWS = 4096
PROGRESS_EVERY_S = 0.25
EXAMPLES_PER_REASON = 5


@dataclass(frozen=True)
class Progress:
    rows: int
    bytes_done: int
    bytes_total: int | None
    elapsed: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def fraction(self) -> float | None:
        if not self.bytes_total:
            return None
        return min(1.0, self.bytes_done / self.bytes_total)

    @property
    def seconds_left(self) -> float | None:
        frac = self.fraction
        if frac is None or frac <= 0:
            return None
        return self.elapsed * (1 - frac) / frac


@dataclass
class ImportSummary:
    source: str
    kind: str  # "monthly", "weekly" or "deactivations"
    rows: int = 0  # data records read (the header excluded)
    stored: int = 0
    per_region: dict[int, int] = field(default_factory=lambda: dict.fromkeys(REGIONS, 0))
    skipped: Counter[str] = field(default_factory=Counter)
    # reason -> first few (line, NPI) pairs, so IT staff can look at the file
    examples: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    deactivations_applied: int = 0
    deactivations_not_in_directory: int = 0
    deactivations_rejected: int = 0
    totals: dict[int, int] = field(default_factory=dict)  # rows per shard after the import
    elapsed: float = 0.0

    def skip(self, item: Skip) -> None:
        self.skipped[item.reason] += 1
        examples = self.examples.setdefault(item.reason, [])
        if len(examples) < EXAMPLES_PER_REASON:
            examples.append((item.line, item.npi))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "rows": self.rows,
            "stored": self.stored,
            "per_region": {str(r): n for r, n in self.per_region.items()},
            "skipped": {
                reason: {
                    "count": n,
                    "meaning": nppes.SKIP_REASONS.get(reason, reason),
                    "examples": [{"line": line, "npi": npi} for line, npi in self.examples[reason]],
                }
                for reason, n in sorted(self.skipped.items())
            },
            "deactivations": {
                "applied": self.deactivations_applied,
                "not_in_directory": self.deactivations_not_in_directory,
                "rejected": self.deactivations_rejected,
            },
            "totals": {str(r): n for r, n in self.totals.items()},
            "elapsed_s": round(self.elapsed, 3),
        }


# --- the import -----------------------------------------------------------------------------


class _Build:
    """The new shard files of one import, keyed by region."""

    def __init__(self, targets: Mapping[int, Path], *, start_from_current: bool) -> None:
        self.targets = dict(targets)
        suffix = f".importing-{os.getpid()}"
        self.temp = {r: p.with_name(p.name + suffix) for r, p in targets.items()}
        self.writers: dict[int, ShardWriter] = {}
        for region, temp in self.temp.items():
            current = self.targets[region]
            if start_from_current and current.is_file():
                shutil.copyfile(current, temp)
                self.writers[region] = ShardWriter(temp, fresh=False)
            else:
                self.writers[region] = ShardWriter(temp)

    def commit(self, meta: dict[str, str]) -> dict[int, int]:
        totals = {}
        for region, writer in self.writers.items():
            totals[region] = writer.count()
            writer.commit({**meta, "region": str(region), "rows": str(totals[region])})
        swap_in([(self.temp[r], self.targets[r]) for r in self.writers])
        return totals

    def abandon(self) -> None:
        for writer in self.writers.values():
            with contextlib.suppress(Exception):
                writer.abandon()


@contextlib.contextmanager
def _import_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportRejected(
                f"Another directory import is running on {directory}; wait for it to finish.",
                hint="Nothing was changed.",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_stale_builds(targets: Mapping[int, Path]) -> None:
    # Under the import lock, any leftover build belongs to a dead import.
    for target in targets.values():
        for stale in target.parent.glob(f"{target.name}.importing-*"):
            stale.unlink(missing_ok=True)


def import_directory(
    source: Path | None,
    targets: Mapping[int, Path],
    *,
    weekly: bool = False,
    deactivations: Path | None = None,
    progress: Callable[[Progress], None] | None = None,
    region_map: RegionMap | None = None,
) -> ImportSummary:
    """Build new shards from `source` (None: only the deactivation report) and swap them in.

    A monthly import replaces the directory; `weekly=True` (or a report alone) applies on top of
    it. Raises ImportRejected (nothing changed) for an unreadable or non-NPPES file.
    """
    if set(targets) != set(REGIONS):
        raise ValueError("an import writes all five regions")
    if source is None and deactivations is None:
        raise ImportRejected("Nothing to import: give an NPPES file or a deactivation report.")
    kind = "weekly" if weekly else "monthly" if source is not None else "deactivations"
    summary = ImportSummary(source=str(source or deactivations), kind=kind)
    regions = region_map or default_region_map()
    started = time.monotonic()
    lock_dir = targets[REGIONS[0]].parent
    with _import_lock(lock_dir):
        for directory in {p.parent for p in targets.values()}:
            directory.mkdir(parents=True, exist_ok=True)
            finish_pending_swap(directory)
        _remove_stale_builds(targets)
        build = _Build(targets, start_from_current=source is None or weekly)
        try:
            if source is not None:
                old = {r: LocalRegionBackend(r, p) for r, p in targets.items() if p.is_file()}
                _stream(source, build, summary, regions, old, weekly, progress, started)
            if deactivations is not None:
                _apply_deactivations(deactivations, build, summary)
            summary.totals = build.commit(
                {
                    "kind": kind,
                    "source": summary.source,
                    "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        except BaseException:
            build.abandon()
            raise
    summary.elapsed = time.monotonic() - started
    return summary


def _stream(
    source: Path,
    build: _Build,
    summary: ImportSummary,
    regions: RegionMap,
    old: Mapping[int, LocalRegionBackend],
    weekly: bool,
    progress: Callable[[Progress], None] | None,
    started: float,
) -> None:
    # One thread: a writer thread was measured slower here (GIL hand-offs cost more than the
    # B-tree work it could overlap on a busy 2-core kiosk).
    writers = build.writers
    batches: dict[int, list[Row]] = {r: [] for r in writers}
    state_region = {s: r for s in regions.states if (r := regions.get(s)) is not None}
    moved: dict[int, int] = {}  # weekly: npi -> the region it is in now, to delete elsewhere
    next_report = started  # the first report comes after the first chunk, however fast it went

    def flush(region: int) -> None:
        batch = batches[region]
        batches[region] = []
        writers[region].insert(batch)
        summary.per_region[region] += len(batch)
        summary.stored += len(batch)

    with open_source(source) as (binary, total):
        chunks = NppesChunks(binary)
        for chunk in chunks:
            # Weekly rows apply in file order (a later row moves an NPI); a monthly chunk's
            # clean rows go straight to their region, checked in C.
            split = None if weekly else chunk.split(state_region)
            items: Iterable[tuple[int, Row | Skip]] = chunk.in_order() if split is None else split[1]
            if split is not None:
                for clean_region, rows in split[0].items():
                    batches[clean_region] += rows
                    if len(batches[clean_region]) >= BATCH_ROWS:
                        flush(clean_region)
            for line, item in items:
                if isinstance(item, Skip):
                    summary.skip(item)
                    continue
                row = item
                region = state_region.get(row.state)
                if region is None:
                    placed = _place_weekly(row, writers) if weekly else _place_monthly(row, old)
                    if placed is None:
                        unlocated = row.deactivated and not row.state
                        reason = nppes.DEACTIVATED_NO_LOCATION if unlocated else nppes.UNKNOWN_STATE
                        summary.skip(Skip(line, reason, f"{row.npi:010d}"))
                        continue
                    region, row = placed
                batch = batches[region]
                batch.append(row)
                if weekly:
                    moved[row.npi] = region
                if len(batch) >= BATCH_ROWS:
                    if weekly:
                        for r in writers:
                            flush(r)
                        _delete_elsewhere(moved, writers)
                    else:
                        flush(region)
            if progress is not None and (now := time.monotonic()) >= next_report:
                next_report = now + PROGRESS_EVERY_S
                progress(Progress(chunks.rows_read, chunks.bytes_read, total, now - started))
        for region in writers:
            flush(region)
        if weekly:
            _delete_elsewhere(moved, writers)
        summary.rows = chunks.rows_read
        if progress is not None:
            progress(Progress(chunks.rows_read, total, total, time.monotonic() - started))


def _delete_elsewhere(moved: dict[int, int], writers: Mapping[int, ShardWriter]) -> None:
    """Weekly: an NPI lives in one region only (its latest row), so drop it from the others."""
    for region, writer in writers.items():
        writer.delete(npi for npi, now in moved.items() if now != region)
    moved.clear()


def _place_monthly(row: Row, old: Mapping[int, LocalRegionBackend]) -> tuple[int, Row] | None:
    """A deactivated NPI comes without its location: keep it where the old directory had it."""
    if not row.deactivated or row.state:
        return None
    for region, backend in old.items():
        try:
            record = backend.lookup(f"{row.npi:010d}")
        except DirectoryUnavailable:
            continue
        if record is not None:
            kept = Row(
                row.npi,
                record.entity_type,
                record.last_name,
                record.first_name,
                record.organization_name,
                record.state,
                row.deactivated,
                row.reactivated,
            )
            return region, kept
    return None


def _place_weekly(row: Row, writers: Mapping[int, ShardWriter]) -> tuple[int, Row] | None:
    """The weekly form: the record is in one of the shards being updated."""
    if not row.deactivated or row.state:
        return None
    for region, writer in writers.items():
        previous = writer.get(row.npi)
        if previous is not None:
            return region, previous._replace(deactivated=row.deactivated, reactivated=row.reactivated)
    return None


def _apply_deactivations(path: Path, build: _Build, summary: ImportSummary) -> None:
    """CMS's deactivation report, saved as CSV: an `NPI` column and a deactivation date column."""
    with open_source(path) as (binary, _total):
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text)
        try:
            header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        except (StopIteration, csv.Error):
            raise ImportRejected(f"The deactivation report {path} is empty.") from None
        try:
            npi_col = header.index("NPI")
            date_col = next(i for i, h in enumerate(header) if "deactivation date" in h.lower())
        except (ValueError, StopIteration):
            raise ImportRejected(
                f"The deactivation report {path} needs an 'NPI' column and a deactivation date "
                f"column; its header is {header}."
            ) from None
        try:
            for fields in reader:
                if not fields:
                    continue
                npi = fields[npi_col].strip() if len(fields) > npi_col else ""
                try:
                    raw_day = fields[date_col].strip() if len(fields) > date_col else ""
                    day = nppes.iso_date(raw_day)
                except ValueError:
                    day = None
                if not is_valid_npi(npi) or day is None:
                    summary.deactivations_rejected += 1
                    continue
                if any(w.deactivate(int(npi), day) for w in build.writers.values()):
                    summary.deactivations_applied += 1
                else:
                    summary.deactivations_not_in_directory += 1
        except csv.Error as exc:
            raise ImportRejected(f"The deactivation report {path} is not valid CSV: {exc}.") from None
