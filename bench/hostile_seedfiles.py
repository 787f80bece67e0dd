"""Benchmark the seed import's memory on the worst files the size cap allows (issue 11: <= 200 MB
for any file the cap allows).

    .venv/bin/python bench/hostile_seedfiles.py [--only NAME ...]

Each file is made here at the importer's cap (core.seed_checks.MAX_FILE_BYTES) in a shape a
careless vendor, a wrong tool or an attacker could send, and imported with the real CLI
(`ipkiosk tokens import`) in a child process into a fresh demo store. Prints the child's wall
time, peak RSS, exit code and the report's first line. Asserts nothing.

Shapes: CSV of one good row and millions of refused rows; one row repeated to the cap; every
serial twice, side by side and the file concatenated with itself; millions of distinct serials
with a bad key; PSKC of a million empty KeyPackages; PSKC of 400,000 serials without a secret.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seedfiles import ipk  # the bench beside this one

from core.seed_checks import MAX_FILE_BYTES

SEED = "3132333435363738393031323334353637383930"
END = "</KeyPackage>"
PSKC_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
)


def _fill(path: Path, head: str, rows: Iterator[str], tail: str = "", limit: int = MAX_FILE_BYTES) -> int:
    """`head`, as many rows as fit under `limit` (the cap), `tail`: the number of rows written."""
    room = limit - len(head) - len(tail) - 64
    written = 0
    with path.open("w", encoding="ascii") as out:
        out.write(head)
        for row in rows:
            room -= len(row)
            if room < 0:
                break
            out.write(row)
            written += 1
        out.write(tail)
    return written


def _counted(row: Callable[[int], str]) -> Iterator[str]:
    n = 0
    while True:
        yield row(n)
        n += 1


def _concatenated(path: Path) -> int:
    """A vendor's file joined to itself (`cat batch.csv batch.csv`): every serial twice, far apart."""
    half = path.with_suffix(".half")
    row = _counted(lambda n: f"P{n:07d},{os.urandom(20).hex()},totp,6,30\n")
    rows = _fill(half, "", row, limit=MAX_FILE_BYTES // 2)
    path.write_text(half.read_text() * 2)
    half.unlink()
    return 2 * rows


SHAPES: dict[str, tuple[str, Callable[[Path], int]]] = {
    "csv-refused": (
        "csv",
        lambda p: _fill(p, f"S1,{SEED},totp,6,30\n", _counted(lambda n: "x,x,x,x,x\n")),
    ),
    "csv-one-row-repeated": ("csv", lambda p: _fill(p, "", _counted(lambda n: f"S1,{SEED},totp,6,30\n"))),
    "csv-pairs-side-by-side": (
        "csv",
        lambda p: _fill(p, "", _counted(lambda n: f"P{n // 2:07d},{os.urandom(20).hex()},totp,6,30\n")),
    ),
    "csv-file-twice": ("csv", _concatenated),
    "csv-distinct-bad-keys": (
        "csv",
        lambda p: _fill(p, f"S1,{SEED},totp,6,30\n", _counted(lambda n: f"A{n:07d},zz,totp,6,30\n")),
    ),
    "pskc-empty-packages": (
        "pskc",
        lambda p: _fill(p, PSKC_HEAD, _counted(lambda n: "<KeyPackage><Key/></KeyPackage>"), "</KeyContainer>"),
    ),
    "pskc-serials-no-secret": (
        "pskc",
        lambda p: _fill(
            p,
            PSKC_HEAD,
            _counted(lambda n: f"<KeyPackage><DeviceInfo><SerialNo>A{n:07d}</SerialNo></DeviceInfo><Key/>{END}"),
            "</KeyContainer>",
        ),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(SHAPES), help="only these shapes")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    try:
        template = work / "template"
        if ipk(template, "demo", "--build-only")[3] != 0:
            raise SystemExit("could not build the demo store")
        print(f"cap {MAX_FILE_BYTES // 2**20} MiB; goal: peak RSS <= 200 MB for any file under it")
        for name in args.only or SHAPES:
            suffix, make = SHAPES[name]
            path = work / f"{name}.{suffix}"
            rows = make(path)
            store = work / name
            shutil.copytree(template, store)
            wall, _cpu, rss, code, out = ipk(store, "tokens", "import", str(path))
            first = out.splitlines()[0] if out else "(refused: see the message above)"
            print(f"{name:<24} {rows:>9,} entries  wall {wall:6.1f} s  peak RSS {rss:5.0f} MB  exit {code}  {first}")
            shutil.rmtree(store)
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
