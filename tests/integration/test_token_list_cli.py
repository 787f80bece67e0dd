"""`ipkiosk tokens list` streams the inventory and pages it (issue 11), in-process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cli_run import Cli, demo_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    base = tmp_path_factory.mktemp("toklist")
    d = demo_cli(base / "demo")
    batch = base / "batch.csv"
    seed = bytes(range(1, 21)).hex()
    batch.write_text(
        "".join(f"LIST-{i:04d},{seed},{'totp' if i % 2 else 'hotp'},6,{30 if i % 2 else 0}\n" for i in range(1200))
    )
    r = d("tokens", "import", str(batch))
    assert r.returncode == 0 and r.stdout.startswith("added 1200,"), r.stderr
    return d


def listed(demo: Cli, *args: str) -> list[dict[str, object]]:
    r = demo("--json", "tokens", "list", *args)
    assert r.returncode == 0, r.stderr
    found: list[dict[str, object]] = r.doc()
    return found


def test_the_json_list_is_one_array_of_every_token(demo: Cli) -> None:
    found = listed(demo)
    serials = [str(t["serial"]) for t in found]
    assert len(serials) == 1211 and serials == sorted(serials)  # with the demo's tokens
    hotp = next(t for t in found if t["serial"] == "LIST-0000")
    assert hotp["type"] == "hotp" and hotp["period"] is None and hotp["state"] == "available"
    assert all("seed" not in key for t in found for key in t)


def test_pages_and_search(demo: Cli) -> None:
    everything = [t["serial"] for t in listed(demo)]
    assert [t["serial"] for t in listed(demo, "--limit", "5", "--offset", "100")] == everything[100:105]
    assert [t["serial"] for t in listed(demo, "--search", "list-01", "--limit", "3")] == [
        "LIST-0100",
        "LIST-0101",
        "LIST-0102",
    ]
    assert listed(demo, "--search", "no-such-token") == []
    text = demo("tokens", "list", "--search", "no-such-token")
    assert text.returncode == 0 and text.stdout == "no tokens\n"


def test_a_limit_that_is_not_a_number_is_a_usage_error(demo: Cli) -> None:
    r = demo("tokens", "list", "--limit", "ten")
    assert r.returncode == 2 and "not a whole number" in r.stderr and "Traceback" not in r.stderr


def test_a_command_imports_only_its_own_module_and_the_help_lists_every_command(demo: Cli) -> None:
    # In a fresh process: the test process has every command module loaded already.
    probe = (
        "import sys\n"
        "from kiosk.cli import COMMAND_MODULES, main\n"
        f"main(['--data-dir', {str(demo.data_dir)!r}, '--json', 'tokens', 'list', '--limit', '1'])\n"
        "print(sorted(n for n in COMMAND_MODULES if 'kiosk.cli.' + n in sys.modules), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stderr.strip() == "['tokens']"
    assert len(json.loads(run.stdout)) == 1
    for given in (["--help"], ["-h", "tokens"], ["--data-dir", "tokens", "--help"]):
        shown = subprocess.run([sys.executable, "-m", "kiosk.cli", *given], capture_output=True, text=True)
        assert shown.returncode == 0, shown.stderr
        assert all(name in shown.stdout for name in ("tokens", "backup-codes", "doctor", "token-sim")), given
