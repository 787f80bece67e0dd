"""`ipkiosk directory ...`: build the regional NPI directory from NPPES files, and look NPIs up.

Local regions live in DATA_DIR/directory/region-N.sqlite3 (or the path set for the region);
online regions (a URL in the settings) are asked over HTTP with their API key from the keyring.
Purely local directories never touch the keyring.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from core.directory import RegionalDirectory
from core.directory.nppes import SKIP_REASONS
from core.directory.shard import LocalRegionBackend, shard_name
from core.errors import DirectoryUnavailable
from core.regions import REGIONS, default_region_map
from kiosk.cli.common import UsageError, path_argument
from kiosk.cli.context import CliContext
from kiosk.config import Settings
from kiosk.files import check_input, private_dir

if TYPE_CHECKING:
    from core.directory.importer import ImportSummary, Progress


def register(sub: Any) -> None:
    p = sub.add_parser("directory", help="the regional NPI directory (NPPES import, lookups)")
    s = p.add_subparsers(dest="directory_command", required=True, metavar="ACTION")

    load = s.add_parser("load", help="replace the directory with a small NPPES CSV file (demo)")
    load.add_argument("file", type=path_argument)
    load.set_defaults(handler=load_directory)

    imp = s.add_parser(
        "import",
        help="stream a monthly NPPES file (CSV or the CMS zip) or a weekly update into the shards",
    )
    imp.add_argument("file", type=path_argument, nargs="?", help="NPPES data dissemination CSV or zip")
    imp.add_argument("--weekly", action="store_true", help="apply a weekly update on top")
    imp.add_argument("--deactivations", type=path_argument, metavar="FILE", help="NPPES deactivation report (CSV)")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    imp.set_defaults(handler=import_file)

    verify = s.add_parser("verify", help="verify an NPI in all five regions")
    verify.add_argument("npi")
    verify.add_argument("--last-name", help="the account's last name (the name check)")
    verify.set_defaults(handler=verify_npi)

    status = s.add_parser("status", help="each region's source and size")
    status.set_defaults(handler=directory_status)


def shard_targets(settings: Settings) -> dict[int, Path]:
    """Where each region's shard is written; an online region keeps one at the default path."""
    targets = {}
    for region in REGIONS:
        source = settings.region_source(region)
        default = settings.data_dir / "directory" / shard_name(region)
        targets[region] = source.path if source.path is not None else default
    return targets


def build_directory(settings: Settings) -> RegionalDirectory:
    from kiosk.services import open_credentials, open_directory

    return open_directory(settings, lambda: open_credentials(settings))


def _shard_dirs(settings: Settings) -> dict[int, Path]:
    """The shard targets, their folders made (0700) before a long import starts."""
    targets = shard_targets(settings)
    for path in {p.parent for p in targets.values()}:
        private_dir(path)
    return targets


def load_directory(ctx: CliContext, args: argparse.Namespace) -> int:
    from core.directory.importer import import_directory  # only an import needs it (every start would)

    check_input(args.file, "NPPES file")
    summary = import_directory(args.file, _shard_dirs(ctx.settings))
    ctx.emit(summary.to_dict(), summary_text(summary))
    return 0


def import_file(ctx: CliContext, args: argparse.Namespace) -> int:
    from core.directory.importer import import_directory  # only an import needs it (every start would)

    if args.file is None and args.deactivations is None:
        raise UsageError("Give an NPPES file to import, or --deactivations FILE.")
    if args.weekly and args.file is None:
        raise UsageError("--weekly needs the weekly NPPES file.")
    if args.file is not None:
        check_input(args.file, "NPPES file")
    if args.deactivations is not None:
        check_input(args.deactivations, "deactivation report")
    targets = _shard_dirs(ctx.settings)
    bar = None if args.no_progress else ProgressBar(sys.stderr)
    summary = import_directory(
        args.file,
        targets,
        weekly=args.weekly,
        deactivations=args.deactivations,
        progress=bar,
    )
    if bar is not None:
        bar.finish()
    ctx.emit(summary.to_dict(), summary_text(summary))
    return 0


def verify_npi(ctx: CliContext, args: argparse.Namespace) -> int:
    result = build_directory(ctx.settings).verify(args.npi, args.last_name)
    lines = [f"{result.outcome}: {result.message}"]
    for region, answer in sorted(result.answers.items()):
        detail = f" - {answer.reason}" if answer.reason else ""
        lines.append(f"  region {region}: {answer.status}{detail}")
    ctx.emit(result.to_dict(), "\n".join(lines))
    return 0 if result.verified else 1


def directory_status(ctx: CliContext, args: argparse.Namespace) -> int:
    settings = ctx.settings
    names = default_region_map().names
    regions = []
    for region in REGIONS:
        source = settings.region_source(region)
        entry: dict[str, Any] = {"region": region, "name": names[region]}
        if source.url:
            entry |= {"kind": "online", "url": source.url}
        else:
            assert source.path is not None
            entry |= {"kind": "local", "path": str(source.path)}
            backend = LocalRegionBackend(region, source.path)
            try:
                entry |= {"rows": backend.count(), "meta": backend.meta()}
            except DirectoryUnavailable as exc:
                entry["problem"] = exc.message
            except sqlite3.Error as exc:  # not a shard (a folder, another kind of file, a damaged one)
                entry["problem"] = f"{source.path} is not a readable directory shard ({exc})"
        regions.append(entry)
    lines = []
    for e in regions:
        where = e.get("url") or e.get("path")
        size = f"{e['rows']:,} NPIs" if "rows" in e else e.get("problem", "")
        lines.append(f"region {e['region']} ({e['name']}), {e['kind']}: {where} {size}".rstrip())
    ctx.emit({"regions": regions}, "\n".join(lines))
    return 0


def summary_text(summary: ImportSummary) -> str:
    lines = [
        f"{summary.kind} import of {summary.source}: {summary.rows:,} rows read, "
        f"{summary.stored:,} stored in {summary.elapsed:.1f} s",
        "  per region: "
        + ", ".join(f"{r}: {n:,}" for r, n in summary.per_region.items())
        + "  (directory now: "
        + ", ".join(f"{r}: {n:,}" for r, n in summary.totals.items())
        + ")",
    ]
    if summary.skipped:
        lines.append(f"  skipped {sum(summary.skipped.values()):,} rows:")
        for reason, count in sorted(summary.skipped.items()):
            where = ", ".join(f"line {line}" for line, _npi in summary.examples[reason][:3])
            lines.append(f"    {count:,} {SKIP_REASONS.get(reason, reason)} (e.g. {where})")
    deact = (
        summary.deactivations_applied,
        summary.deactivations_not_in_directory,
        summary.deactivations_rejected,
    )
    if any(deact):
        lines.append(
            f"  deactivation report: {deact[0]:,} applied, {deact[1]:,} not in the directory, "
            f"{deact[2]:,} unreadable rows"
        )
    return "\n".join(lines)


class ProgressBar:
    """Rows done, rows/s and time left on stderr; a line every 10 s when not a terminal."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_line = 0.0
        self._drawn = False

    def __call__(self, p: Progress) -> None:
        frac = p.fraction
        bar = ""
        if frac is not None:
            filled = int(frac * self.WIDTH)
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {frac * 100:5.1f}%  "
        left = p.seconds_left
        eta = f"  {_clock(left)} left" if left is not None else ""
        text = f"{bar}{p.rows:,} rows  {p.rows_per_s:,.0f} rows/s{eta}"
        if self.tty:
            self.stream.write(f"\r{text}\033[K")
            self.stream.flush()
            self._drawn = True
        elif time.monotonic() - self._last_line >= 10:
            self._last_line = time.monotonic()
            self.stream.write(text + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
