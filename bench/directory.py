"""Benchmark the NPPES import against a bare csv.reader pass, and regional verification.

    .venv/bin/python bench/directory.py                         # 200,000 and 1,000,000 rows
    .venv/bin/python bench/directory.py --rows 200000 --lookups 10000
    .venv/bin/python bench/directory.py --national              # 9.2 M rows (~11 GB of CSV), 3 runs each

For each size: generate an NPPES-format file with the real 330-column header and realistic fill
(~1.2 KB a row), then, side by side and alternating (best of --repeat), time in child processes
(interpreter start-up included on both sides) a bare `csv.reader` pass over it (the floor for a
stdlib parser) and this importer; print wall and CPU seconds (best and median of the runs), their
ratios, rows/s and peak RSS, with the load average before each run, and extrapolate to the
national 9.2 M rows (start-up + per-row cost fitted on the two largest sizes); --national measures
at that size instead. Optionally (--sqlite-shell) the sqlite3 shell's `.import`. Then verify
latency p50/p99 through `RegionalDirectory.verify` (name check included), half present and half
absent NPIs.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
    "VAN DER BERG", "ABERNATHY-WILLIAMSON",
]  # fmt: skip
FIRST_NAMES = ["JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "CHRISTOPHER"]
MIDDLE_NAMES = ["A", "B", "LEE", "MARIE", "J", "ANN", ""]
CREDENTIALS = ["M.D.", "MD", "D.O.", "NP", "PA-C", "RN", "DDS", "PHARMD", "LCSW", "DPT", "FNP-BC"]
CITIES = ["SPRINGFIELD", "FRANKLIN", "CLINTON", "GREENVILLE", "BRISTOL", "SALEM", "FAIRVIEW", "COLORADO SPRINGS"]
TAXONOMIES = ["207Q00000X", "363LF0000X", "207R00000X", "1223G0001X", "225100000X", "104100000X", "208D00000X"]
STREETS = ["MAIN ST", "OAK AVE", "MEDICAL CENTER DR", "UNIVERSITY BLVD", "N WASHINGTON ST"]


def with_check_digit(stem: int) -> str:
    text = f"{stem:09d}"
    return next(text + d for d in "0123456789" if npi_check_digit_ok(text + d))


def generate(path: Path, rows: int, rng: random.Random) -> list[tuple[str, str]]:
    """Write `rows` NPPES rows with the real 330-column header; return a sample of present NPIs.

    The fill follows the real file: an individual has names, credential, both addresses with
    phone and fax, dates, sex, one to three taxonomies with licenses, some other identifiers,
    sole-proprietor and certification fields; an organization has its authorized official; the
    rest of the ~330 columns (taxonomy slots 4-15, identifier slots, ...) are empty but quoted.
    About 1.2 KB a row, as the national file (~11 GB for ~9 M rows).
    """
    header = nppes_header()
    col = {name: i for i, name in enumerate(header)}
    states = sorted(default_region_map().states)
    sample: list[tuple[str, str]] = []
    stem = 100_000_000

    def phone() -> str:
        return str(rng.randint(2_000_000_000, 9_899_999_999))

    def address(values: list[str], kind: str, state: str) -> None:
        first = "Provider First Line Business " + kind + " Address"
        values[col[first]] = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}" + (' "B"' if rng.random() < 0.02 else "")
        if rng.random() < 0.4:
            values[col["Provider Second Line Business " + kind + " Address"]] = f"STE {rng.randint(1, 999)}, FL 2"
        prefix = "Provider Business " + kind + " Address "
        values[col[prefix + "City Name"]] = rng.choice(CITIES)
        values[col[prefix + "State Name"]] = state
        values[col[prefix + "Postal Code"]] = f"{rng.randint(10000, 99999)}{rng.randint(0, 9999):04d}"
        values[col[prefix + "Country Code (If outside U.S.)"]] = "US"
        values[col[prefix + "Telephone Number"]] = phone()
        if rng.random() < 0.5:
            values[col[prefix + "Fax Number"]] = phone()

    def taxonomies(values: list[str], state: str) -> None:
        for slot in range(1, rng.choice([2, 2, 2, 3, 4])):
            values[col[f"Healthcare Provider Taxonomy Code_{slot}"]] = rng.choice(TAXONOMIES)
            values[col[f"Provider License Number_{slot}"]] = f"{rng.choice('ABCDEFGR')}{rng.randint(10000, 999999)}"
            values[col[f"Provider License Number State Code_{slot}"]] = state
            values[col[f"Healthcare Provider Primary Taxonomy Switch_{slot}"]] = "Y" if slot == 1 else "N"
        for slot in range(1, rng.choice([1, 1, 2, 3, 4])):
            values[col[f"Other Provider Identifier_{slot}"]] = str(rng.randint(100000, 99999999))
            values[col[f"Other Provider Identifier Type Code_{slot}"]] = rng.choice(["01", "05", "02"])
            values[col[f"Other Provider Identifier State_{slot}"]] = state
            values[col[f"Other Provider Identifier Issuer_{slot}"]] = rng.choice(["MEDICAID", "BCBS", "", "AETNA"])

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
            values[col["Provider Enumeration Date"]] = (
                f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/20{rng.randint(5, 24):02d}"
            )
            values[col["Last Update Date"]] = "07/08/2023"
            values[col["Certification Date"]] = "03/15/2023" if rng.random() < 0.6 else ""
            address(values, "Mailing", rng.choice(states))
            address(values, "Practice Location", "")
            taxonomies(values, state or "NY")
            if roll > 0.95:
                values[col[ENTITY_TYPE]] = "2"
                values[col[ORGANIZATION_NAME]] = f"{last} MEDICAL GROUP, LLC"
                values[col["Employer Identification Number (EIN)"]] = "<UNAVAIL>"
                if rng.random() < 0.3:
                    values[col["Provider Other Organization Name"]] = f"{last} FAMILY CLINIC"
                    values[col["Provider Other Organization Name Type Code"]] = "3"
                values[col["Authorized Official Last Name"]] = rng.choice(LAST_NAMES)
                values[col["Authorized Official First Name"]] = rng.choice(FIRST_NAMES)
                values[col["Authorized Official Title or Position"]] = "PRACTICE ADMINISTRATOR"
                values[col["Authorized Official Telephone Number"]] = phone()
                values[col["Authorized Official Credential Text"]] = rng.choice(["", "MBA", "M.D."])
                values[col["Is Organization Subpart"]] = "N"
                values[col["Healthcare Provider Taxonomy Group_1"]] = "193200000X MULTI-SPECIALTY GROUP"
            else:
                values[col[ENTITY_TYPE]] = "1"
                values[col[LAST_NAME]] = last
                values[col[FIRST_NAME]] = rng.choice(FIRST_NAMES)
                values[col["Provider Middle Name"]] = rng.choice(MIDDLE_NAMES)
                values[col["Provider Name Prefix Text"]] = "DR." if rng.random() < 0.3 else ""
                values[col["Provider Credential Text"]] = rng.choice(CREDENTIALS)
                values[col["Provider Sex Code"]] = rng.choice("MF")
                values[col["Is Sole Proprietor"]] = rng.choice("NNNYX")
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
            writer.writerow(values)
    return sample


def run_child(argv: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one child process, and its stdout.

    The child reports its own peak (VmHWM): the kernel's ru_maxrss of a child also counts the
    parent's image it was spawned from.
    """
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{argv[0]} failed (status {status})")
    *lines, peak = out.strip().splitlines()
    return elapsed, usage.ru_utime + usage.ru_stime, int(peak), "\n".join(lines)


PEAK_RSS = """
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""

BARE_CHILD = """
import csv, sys
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    for _row in csv.reader(f):
        pass
"""
BARE_CHILD += PEAK_RSS

IMPORT_CHILD = """
import sys
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from core.directory.importer import import_directory
from core.directory.regional import default_shard_paths
s = import_directory(Path(sys.argv[1]), default_shard_paths(Path(sys.argv[2])))
print(s.rows, s.stored, dict(s.skipped), s.per_region)
"""
IMPORT_CHILD += PEAK_RSS


def time_bare(path: Path, _directory: Path | None = None) -> tuple[float, float, int, str]:
    """A bare csv.reader pass in a child process, interpreter start-up included like the import's."""
    return run_child([sys.executable, "-c", BARE_CHILD, str(path)])


def time_importer(path: Path, directory: Path) -> tuple[float, float, int, str]:
    """Import in a child process (interpreter start-up included): wall, CPU, peak RSS, summary."""
    shutil.rmtree(directory, ignore_errors=True)
    return run_child([sys.executable, "-c", IMPORT_CHILD, str(path), str(directory), str(ROOT)])


def time_sqlite_shell(path: Path, work: Path) -> tuple[float, float] | None:
    if shutil.which("sqlite3") is None:
        return None
    db = work / "shell.sqlite3"
    started = time.perf_counter()
    child = subprocess.Popen(["sqlite3", str(db), ".mode csv", f".import {path} npidata"])
    _pid, _status, usage = os.wait4(child.pid, 0)
    db.unlink()
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


@dataclass
class Size:
    rows: int
    bytes: int
    bare: tuple[float, float, int]  # best wall, best CPU, peak RSS KiB
    ours: tuple[float, float, int]
    summary: str
    bare_median: tuple[float, float] = (0.0, 0.0)  # median wall, median CPU (ours_median too)
    ours_median: tuple[float, float] = (0.0, 0.0)


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(work: Path, rows: int, repeat: int, rng: random.Random) -> tuple[Size, list[tuple[str, str]]]:
    source = work / f"npidata_pfile_{rows}.csv"
    started = time.perf_counter()
    present = generate(source, rows, rng)
    size = source.stat().st_size
    took = time.perf_counter() - started
    print(f"generated {rows:,} rows, {size / 1e6:,.0f} MB ({size / rows:,.0f} B/row) in {took:.0f} s")
    bare: list[tuple[float, float, int, str]] = []
    ours: list[tuple[float, float, int, str]] = []
    for n in range(repeat):  # side by side, alternating, best of each: the box is shared
        print(f"  run {n + 1} of {repeat} ({load()})", flush=True)
        for what, runs, run in (("csv.reader", bare, time_bare), ("import", ours, time_importer)):
            runs.append(run(source, work / "directory"))
            print(f"    {what:<10} wall {runs[-1][0]:7.2f} s  CPU {runs[-1][1]:7.2f} s  "
                  f"peak RSS {runs[-1][2] / 1024:5.0f} MB", flush=True)  # fmt: skip
    result = Size(
        rows,
        size,
        (min(b[0] for b in bare), min(b[1] for b in bare), max(b[2] for b in bare)),
        (min(o[0] for o in ours), min(o[1] for o in ours), max(o[2] for o in ours)),
        ours[-1][3],
        (statistics.median(b[0] for b in bare), statistics.median(b[1] for b in bare)),
        (statistics.median(o[0] for o in ours), statistics.median(o[1] for o in ours)),
    )
    source.unlink()
    return result, present


def report(sizes: list[Size]) -> None:
    print()
    print(f"{'rows':>10} {'MB':>6} | {'csv.reader wall/CPU s':>21} | {'import wall/CPU s':>17} | "
          f"{'ratio wall/CPU':>14} | {'import rows/s':>13} | {'peak RSS MB (bare, import)':>26}")  # fmt: skip
    for s in sizes:
        print(
            f"{s.rows:>10,} {s.bytes / 1e6:>6,.0f} | {s.bare[0]:>10.2f} {s.bare[1]:>10.2f} | "
            f"{s.ours[0]:>8.2f} {s.ours[1]:>8.2f} | {s.ours[0] / s.bare[0]:>6.2f}x {s.ours[1] / s.bare[1]:>6.2f}x | "
            f"{s.rows / s.ours[0]:>13,.0f} | {s.bare[2] / 1024:>12.0f} {s.ours[2] / 1024:>13.0f}"
        )
        print(
            f"{'median':>17} | {s.bare_median[0]:>10.2f} {s.bare_median[1]:>10.2f} | "
            f"{s.ours_median[0]:>8.2f} {s.ours_median[1]:>8.2f} | "
            f"{s.ours_median[0] / s.bare_median[0]:>6.2f}x {s.ours_median[1] / s.bare_median[1]:>6.2f}x |"
        )
    if any(s.rows >= 9_200_000 for s in sizes):
        print("the national size was measured above, not extrapolated")
    else:
        extrapolate(sizes, 9_200_000)
    print(f"    summary of the last import: {sizes[-1].summary}")


def extrapolate(sizes: list[Size], national: int) -> None:
    if len(sizes) >= 2:
        # start-up (interpreter, pyarrow, empty shards) plus a per-row cost, from the two largest
        small, large = sorted(sizes, key=lambda s: s.rows)[-2:]
        per_row = [(large.ours[w] - small.ours[w]) / (large.rows - small.rows) for w in (0, 1)]
        fits = [large.ours[w] + per_row[w] * (national - large.rows) for w in (0, 1)]
        bare_per_row = (large.bare[0] - small.bare[0]) / (large.rows - small.rows)
        bare_national = large.bare[0] + bare_per_row * (national - large.rows)
        how = f"fitted on {small.rows:,} and {large.rows:,} rows"
    else:
        only = sizes[0]
        fits = [only.ours[0] * national / only.rows, only.ours[1] * national / only.rows]
        bare_national = only.bare[0] * national / only.rows
        how = f"scaled from {only.rows:,} rows"
    print(
        f"extrapolated to the national file (9.2 M rows, {how}): import {fits[0]:.0f} s wall "
        f"({fits[1]:.0f} s CPU), bare csv.reader pass {bare_national:.0f} s wall"
    )


def verify_latency(
    directory: Path, present: list[tuple[str, str]], lookups: int, rng: random.Random
) -> tuple[float, float, dict[str, int]]:
    paths = default_shard_paths(directory)
    regional = RegionalDirectory(open_backends({r: (p, None) for r, p in paths.items()}, lambda r: None), timeout=2.0)
    absent: list[tuple[str, str]] = []
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
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side, alternating (best kept)")
    parser.add_argument(
        "--national", action="store_true", help="the national file's size: 9.2 M rows, measured at that size, 3 runs"
    )
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--sqlite-shell", action="store_true", help="also time the sqlite3 shell's .import")
    parser.add_argument("--work-dir", type=Path, help="keep files here (default: a temp dir, removed)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    if args.national:
        args.rows, args.repeat = [9_200_000], max(args.repeat, 3)
    rng = random.Random(args.seed)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="ipkiosk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    pyarrow = importlib.metadata.version("pyarrow")  # not imported here: children spawn from this image
    print(f"python {sys.version.split()[0]}, pyarrow {pyarrow}, {os.cpu_count()} cores, {load()}")
    try:
        sizes = []
        present: list[tuple[str, str]] = []
        for rows in sorted(args.rows):
            if args.sqlite_shell and rows == max(args.rows):
                source = work / "shell.csv"
                generate(source, rows, random.Random(args.seed))
                shell = time_sqlite_shell(source, work)
                source.unlink()
                print(
                    "sqlite3 shell .import: "
                    + (f"{shell[0]:.2f} s wall, {shell[1]:.2f} s CPU" if shell else "no sqlite3")
                )
            size, present = measure(work, rows, args.repeat, rng)
            sizes.append(size)
        report(sizes)
        p50, p99, outcomes = verify_latency(work / "directory", present, args.lookups, rng)
        print(f"verify over {args.lookups:,} lookups (half present): p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms")
        print(f"    outcomes: { {str(k): v for k, v in outcomes.items()} }")
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
