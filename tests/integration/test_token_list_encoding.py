"""`ipkiosk --json tokens list` encodes a thousand documents at a time and splits them into
lines by the separators (kiosk/cli/tokens.py): text that looks like those separators, in any
field, is still read back as it was stored, one token per line."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

PY = sys.executable
# "Acme},{" ends in the bytes orjson puts between two documents (its closing quote the last).
TRICKY = ['x",\n"y', "},\n{", '"}, {"serial": "FAKE"}', ",\n  {", "caf\u00e9 \u2603 \\n", "\x00\t", "Acme},{", "},{"]
TRICKY += ["\U0001f510 \u6771\u4eac"]  # beyond the BMP too


def ipk(data_dir: Path, *args: str, encoding: str = "utf-8") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    return subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        encoding=encoding,
        env=env,
        timeout=120,
    )


def test_text_that_looks_like_the_separators_survives(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    assert ipk(d, "demo", "--build-only").returncode == 0
    batch = tmp_path / "batch.csv"
    seed = bytes(range(1, 21)).hex()
    batch.write_text("".join(f"ENC-{i:04d},{seed},totp,6,30\n" for i in range(2500)))  # three chunks
    assert ipk(d, "tokens", "import", str(batch)).returncode == 0
    with sqlite3.connect(d / "kiosk.sqlite3") as db:
        for i, text in enumerate(TRICKY):
            db.execute("UPDATE tokens SET vendor = ?, model = ? WHERE serial = ?", (text, text[::-1], f"ENC-{i:04d}"))
            db.execute("UPDATE tokens SET vendor = ? WHERE serial = ?", (text, f"ENC-{1000 + i:04d}"))
    r = ipk(d, "--json", "tokens", "list")
    assert r.returncode == 0, r.stderr
    # A terminal that is not UTF-8 gets the same document: non-ASCII text escaped, as every --json.
    narrow = ipk(d, "--json", "tokens", "list", encoding="ascii")
    assert narrow.returncode == 0, narrow.stderr
    assert narrow.stdout == r.stdout and r.stdout.isascii()
    found = json.loads(r.stdout)
    by_serial = {t["serial"]: t for t in found}
    assert len(by_serial) == len(found) and "FAKE" not in by_serial
    for i, text in enumerate(TRICKY):
        assert by_serial[f"ENC-{i:04d}"]["vendor"] == text and by_serial[f"ENC-{i:04d}"]["model"] == text[::-1]
        assert by_serial[f"ENC-{1000 + i:04d}"]["vendor"] == text
    lines = r.stdout.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(found) + 2
    assert [json.loads(line.strip().rstrip(",")) for line in lines[1:-1]] == found
