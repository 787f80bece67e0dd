"""`ipkiosk tokens list` streams the inventory and pages it (issue 11), as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PY = sys.executable


def ipk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("toklist")
    d = base / "demo"
    assert ipk(d, "demo", "--build-only").returncode == 0
    batch = base / "batch.csv"
    seed = bytes(range(1, 21)).hex()
    batch.write_text(
        "".join(f"LIST-{i:04d},{seed},{'totp' if i % 2 else 'hotp'},6,{30 if i % 2 else 0}\n" for i in range(1200))
    )
    r = ipk(d, "tokens", "import", str(batch))
    assert r.returncode == 0 and r.stdout.startswith("added 1200,"), r.stderr
    return d


def listed(demo: Path, *args: str) -> list[dict[str, object]]:
    r = ipk(demo, "--json", "tokens", "list", *args)
    assert r.returncode == 0, r.stderr
    found: list[dict[str, object]] = json.loads(r.stdout)
    return found


def test_the_json_list_is_one_array_of_every_token(demo: Path) -> None:
    found = listed(demo)
    serials = [t["serial"] for t in found]
    assert len(serials) == 1211 and serials == sorted(serials)  # with the demo's tokens
    hotp = next(t for t in found if t["serial"] == "LIST-0000")
    assert hotp["type"] == "hotp" and hotp["period"] is None and hotp["state"] == "available"
    assert all("seed" not in key for t in found for key in t)


def test_pages_and_search(demo: Path) -> None:
    everything = [t["serial"] for t in listed(demo)]
    assert [t["serial"] for t in listed(demo, "--limit", "5", "--offset", "100")] == everything[100:105]
    assert [t["serial"] for t in listed(demo, "--search", "list-01", "--limit", "3")] == [
        "LIST-0100",
        "LIST-0101",
        "LIST-0102",
    ]
    assert listed(demo, "--search", "no-such-token") == []
    text = ipk(demo, "tokens", "list", "--search", "no-such-token")
    assert text.returncode == 0 and text.stdout == "no tokens\n"


def test_a_limit_that_is_not_a_number_is_a_usage_error(demo: Path) -> None:
    r = ipk(demo, "tokens", "list", "--limit", "ten")
    assert r.returncode == 2 and "not a whole number" in r.stderr and "Traceback" not in r.stderr
