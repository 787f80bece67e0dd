"""A seed file's refused entries are all counted but kept in bounded memory (issue 11: memory
<= 200 MB for any file the size cap allows). A 32 MiB CSV of refused rows took 2.4 GB to report,
and a 1 MB file of 20,000 copies of one row took 18 GB: each copy's reason named every other."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from core.seedfiles import Rejected, read_oath_csv
from core.token_spec import Rejections
from tests.cli_run import demo_cli
from tests.seedfile_helpers import SEED_HEX


def test_every_refusal_is_counted_and_the_first_ones_are_kept() -> None:
    rejections = Rejections(Rejected(f"line {n}", None, "bad") for n in range(1, 2501))
    assert rejections.total == 2500 and len(rejections) == Rejections.KEPT == 1000
    assert rejections[-1].where == "line 1000" and rejections.unlisted == 1500
    joined = Rejections([Rejected("serial X", "X", "token parameters are not supported")])
    joined.extend(rejections)  # what was left out of the part is still counted in the whole
    assert joined.total == 2501 and len(joined) == 1000 and joined.unlisted == 1501


def test_many_copies_of_one_row_are_refused_in_memory_that_does_not_grow_with_them() -> None:
    row = f"DUP-1,{SEED_HEX},totp,6,30\n"
    read_oath_csv(row * 10)  # modules loaded
    tracemalloc.start()
    try:
        result = read_oath_csv(row * 3000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.specs == [] and result.rejected.total == 3000
    reason = "serial number appears 3,000 times in this file (line 1, line 2, line 3, line 4, line 5, ...)"
    assert [(r.where, r.reason) for r in result.rejected] == [(f"line {n}", reason) for n in range(1, 6)]
    # The file is 160 KB; every copy naming the other 2,999 took over 100 MB.
    assert peak < 4 * 2**20, f"peak {peak} bytes"


def test_a_few_copies_are_each_named() -> None:
    row = f"DUP-1,{SEED_HEX},totp,6,30\n"
    result = read_oath_csv(row + f"OK-1,{SEED_HEX},totp,6,30\n" + row)
    reason = "serial number appears more than once in this file (line 1, line 3)"
    assert [(r.where, r.reason) for r in result.rejected] == [("line 1", reason), ("line 3", reason)]
    assert [s.serial for s in result.specs] == ["OK-1"]


def test_the_command_line_counts_what_it_does_not_list(tmp_path: Path) -> None:
    cli = demo_cli(tmp_path / "demo")
    seed_file = tmp_path / "bad.csv"
    seed_file.write_text(f"GOOD-1,{SEED_HEX},totp,6,30\n" + "".join(f"B{n},zz,totp,6,30\n" for n in range(1500)))
    result = cli("tokens", "import", str(seed_file))
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and lines[0] == "added 1, duplicates 0, rejected 1500"
    assert sum(line.startswith("  rejected line") for line in lines) == 1000
    assert lines[-1] == "  ... and 500 more rejected (the first 1,000 are listed)"
    _, doc = cli.json("tokens", "import", str(seed_file))
    assert doc["rejected_total"] == 1500 and len(doc["rejected"]) == 1000
