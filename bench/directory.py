"""Benchmark the NPPES import and regional verification (issue 5).

    .venv/bin/python bench/directory.py --rows 200000
    .venv/bin/python bench/directory.py --rows 9200000   # national size (~11 GB of CSV)

In one run: generate an NPPES-format file with the real 330-column header, then time
(a) a bare `csv.reader` pass over it (the floor for a stdlib parser), (b) the sqlite3 shell's
`.import` into one table (what an IT person would reach for), (c) this importer in a child
process, with its peak RSS; print the ratios; then verify latency p50/p99 over 100,000 random
lookups, half present and half absent, through `RegionalDirectory.verify` (name check included).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.directory import RegionalDirectory, open_backends  # noqa: E402
from core.directory.nppes import (  # noqa: E402
    DEACTIVATION_DATE,
    ENTITY_TYPE,
    FIRST_NAME,
    LAST_NAME,
    NPI,
    ORGANIZATION_NAME,
    PRACTICE_STATE,
    REACTIVATION_DATE,
    nppes_header,
)
from core.directory.regional import default_shard_paths  # noqa: E402
from core.npi import npi_check_digit_ok  # noqa: E402
from core.regions import default_region_map  # noqa: E402

LAST_NAMES = [
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ",
    "MARTINEZ", "HERNANDEZ", "LOPEZ", "O'BRIEN", "NGUYEN", "KIM", "PATEL", "SHAH", "COHEN",
]  # fmt: skip
FIRST_NAMES = ["JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA"]
CITIES = ["SPRINGFIELD", "FRANKLIN", "CLINTON", "GREENVILLE", "BRISTOL", "SALEM", "FAIRVIEW"]


def with_check_digit(stem: int) -> str:
    text = f"{stem:09d}"
    return next(text + d for d in "0123456789" if npi_check_digit_ok(text + d))


def generate(path: Path, rows: int, rng: random.Random) -> list[tuple[str, str]]:
    """Write `rows` NPPES rows (realistic fill, ~1.1 KB each); return a sample of present NPIs."""
    header = nppes_header()
    col = {name: i for i, name in enumerate(header)}
    states = sorted(default_region_map().states)
    sample: list[tuple[str, str]] = []
    stem = 100_000_000

    def street() -> str:
        return f"{rng.randint(1, 9999)} MAIN ST, STE {rng.randint(1, 99)}"  # a comma inside

    def location() -> str:
        return f"{rng.randint(1, 9999)} OAK AVE" + (' "B"' if rng.random() < 0.02 else "")

    extra_cols = [
        (col["Provider First Line Business Mailing Address"], street),
        (col["Provider Business Mailing Address City Name"], lambda: rng.choice(CITIES)),
        (col["Provider Business Mailing Address Postal Code"], lambda: f"{rng.randint(10000, 99999)}0000"),
        (col["Provider First Line Business Practice Location Address"], location),
        (col["Provider Business Practice Location Address City Name"], lambda: rng.choice(CITIES)),
        (col["Provider Business Practice Location Address Telephone Number"], lambda: str(rng.randint(2, 9) * 10**9)),
        (col["Provider Enumeration Date"], lambda: "05/23/2005"),
        (col["Last Update Date"], lambda: "07/08/2007"),
        (col["Healthcare Provider Taxonomy Code_1"], lambda: "207Q00000X"),
        (col["Provider License Number_1"], lambda: f"{rng.randint(10000, 999999)}"),
        (col["Healthcare Provider Primary Taxonomy Switch_1"], lambda: "Y"),
        (col["Is Sole Proprietor"], lambda: "N"),
        (col["Certification Date"], lambda: "03/15/2016"),
    ]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        for i in range(rows):
            # Even stems only, ascending like the CMS file (9.2 M rows stay below 3xx...): odd
            # stems are never present, which gives the "absent" half of the lookups.
            stem += 2 * rng.randint(1, 20)
            npi = with_check_digit(stem)
            roll = rng.random()
            values = [""] * len(header)
            if roll < 0.001:  # a typo in the file: the check digit is off
                npi = npi[:9] + str((int(npi[9]) + 1) % 10)
            values[col[NPI]] = npi
            if roll > 0.995:  # how NPPES ships a deactivated NPI: NPI and date only
                values[col[DEACTIVATION_DATE]] = "06/12/2019"
                writer.writerow(values)
                continue
            state = rng.choice(states) if roll > 0.003 else rng.choice(["", "ONTARIO", "ZZ"])
            last = rng.choice(LAST_NAMES)
            if roll > 0.95:
                values[col[ENTITY_TYPE]] = "2"
                values[col[ORGANIZATION_NAME]] = f"{last} MEDICAL GROUP, LLC"
            else:
                values[col[ENTITY_TYPE]] = "1"
                values[col[LAST_NAME]] = last
                values[col[FIRST_NAME]] = rng.choice(FIRST_NAMES)
                if roll < 0.001:
                    pass  # not a valid NPI: never asked for
                elif len(sample) < 50_000:
                    sample.append((npi, last))
                elif (j := rng.randrange(i + 1)) < 50_000:
                    sample[j] = (npi, last)
            values[col[PRACTICE_STATE]] = state
            if 0.99 < roll <= 0.993:
                values[col[DEACTIVATION_DATE]] = "01/02/2018"
                values[col[REACTIVATION_DATE]] = "03/04/2018"
            for index, make in extra_cols:
                values[index] = make()
            writer.writerow(values)
    return sample


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_csv_reader(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a bare csv.reader pass (CPU time is steadier on a shared box)."""
    started, cpu = time.perf_counter(), cpu_self()
    with path.open(encoding="utf-8", newline="") as f:
        for _row in csv.reader(f):
            pass
    return time.perf_counter() - started, cpu_self() - cpu


def run_child(argv: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one child process, and its stdout."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{argv[0]} failed (status {status})")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.strip()


def time_sqlite_shell(path: Path, work: Path) -> tuple[float, float] | None:
    if shutil.which("sqlite3") is None:
        return None
    db = work / "shell.sqlite3"
    wall, cpu, _rss, _out = run_child(["sqlite3", str(db), ".mode csv", f".import {path} npidata"])
    db.unlink()
    return wall, cpu


IMPORT_CHILD = """
import sys
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from core.directory.importer import import_directory
from core.directory.regional import default_shard_paths
s = import_directory(Path(sys.argv[1]), default_shard_paths(Path(sys.argv[2])))
print(s.rows, s.stored, dict(s.skipped), s.per_region)
"""


def time_importer(path: Path, directory: Path) -> tuple[float, float, int, str]:
    """Import in a child process (interpreter start-up included): wall, CPU, peak RSS, summary."""
    return run_child([sys.executable, "-c", IMPORT_CHILD, str(path), str(directory), str(ROOT)])


def verify_latency(
    directory: Path, present: list[tuple[str, str]], lookups: int, rng: random.Random
) -> tuple[float, float, dict[str, int]]:
    paths = default_shard_paths(directory)
    regional = RegionalDirectory(open_backends({r: (p, None) for r, p in paths.items()}, lambda r: None), timeout=2.0)
    absent = []
    while len(absent) < lookups // 2:
        npi = with_check_digit(2 * rng.randrange(50_000_000, 149_999_999) + 1)  # odd: absent
        absent.append((npi, "NOBODY"))
    queries = [rng.choice(present) for _ in range(lookups - len(absent))] + absent
    rng.shuffle(queries)
    outcomes: dict[str, int] = {}
    times = []
    for npi, last in queries:
        started = time.perf_counter()
        result = regional.verify(npi, last)
        times.append(time.perf_counter() - started)
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    times.sort()
    p50 = statistics.median(times)
    p99 = times[int(0.99 * (len(times) - 1))]
    return p50, p99, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--work-dir", type=Path, help="keep files here (default: a temp dir, removed)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="ipkiosk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        source = work / "npidata_pfile_bench.csv"
        started = time.perf_counter()
        present = generate(source, args.rows, rng)
        size = source.stat().st_size
        print(f"generated {args.rows:,} rows, {size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s")
        bare, bare_cpu = time_csv_reader(source)
        print(
            f"(a) bare csv.reader pass:   {bare:7.2f} s wall, {bare_cpu:6.2f} s CPU  ({args.rows / bare:,.0f} rows/s)"
        )
        shell = time_sqlite_shell(source, work)
        if shell is None:
            print("(b) sqlite3 shell .import:  skipped (no sqlite3 command)")
        else:
            print(f"(b) sqlite3 shell .import:  {shell[0]:7.2f} s wall, {shell[1]:6.2f} s CPU")
        ours, ours_cpu, rss_kib, summary = time_importer(source, work / "directory")
        rate = args.rows / ours
        print(
            f"(c) ipkiosk import:         {ours:7.2f} s wall, {ours_cpu:6.2f} s CPU  ({rate:,.0f} rows/s), "
            f"peak RSS {rss_kib / 1024:.0f} MB"
        )
        print(f"    summary: {summary}")
        print(f"ratios: import / csv.reader = {ours / bare:.2f}x wall, {ours_cpu / bare_cpu:.2f}x CPU", end="")
        print(f"; sqlite3 shell / import = {shell[0] / ours:.2f}x wall" if shell else "")
        national = 9_200_000 / rate
        print(f"extrapolated national import (9.2 M rows): {national / 60:.1f} min")
        p50, p99, outcomes = verify_latency(work / "directory", present, args.lookups, rng)
        print(f"verify over {args.lookups:,} lookups (half present): p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")
        print(f"    outcomes: { {str(k): v for k, v in outcomes.items()} }")
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
