"""Defects found by the attack pass on the command line (bench/cli_attack.py): numbers past the
store's integers, dates at the calendar's end, empty paths, folders and FIFOs given as files.
Each answer is a refusal naming the argument, never a traceback, and the store is unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli_run import Cli, demo_cli
from tests.integration.test_cli_hardening import store_rows


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return demo_cli(tmp_path_factory.mktemp("attack") / "demo")


@pytest.mark.parametrize(
    "argv",
    [
        ["tokens", "list", "--limit", str(2**64)],
        ["tokens", "list", "--limit", "1", "--offset", "9" * 30],
        ["tokens", "list", "--limit", "9" * 5000],  # past int()'s digit limit too
        ["notifications", "list", "--limit", str(2**63)],
    ],
)
def test_a_count_past_the_stores_integers_is_a_usage_error(cli: Cli, argv: list[str]) -> None:
    r = cli(*argv)
    assert r.returncode == 2
    assert "is not a whole number of" in r.stderr and "from" in r.stderr


def test_a_superscript_digit_is_refused_in_words_not_by_a_function_name(cli: Cli) -> None:
    r = cli("tokens", "list", "--limit", "²")
    assert r.returncode == 2
    assert "_count" not in r.stderr and "'²' is not a whole number of tokens" in r.stderr


def test_notifications_limit_zero_is_refused_not_read_as_no_limit(cli: Cli) -> None:
    r = cli("notifications", "list", "--limit", "0")
    assert r.returncode == 2 and "from 1 to" in r.stderr


@pytest.mark.parametrize("day", ["9999-12-31", "2099-01-01"])
def test_a_daily_review_of_a_day_to_come_is_refused(cli: Cli, day: str) -> None:
    before = store_rows(cli.data_dir)
    r = cli("audit", "daily", "--date", day)
    assert r.returncode == 2
    assert f"{day} has not begun yet" in r.stderr
    assert store_rows(cli.data_dir) == before
    assert not (cli.data_dir / "reports" / f"audit-{day}.html").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["tokens", "import", ""],
        ["directory", "load", ""],
        ["directory", "import", "", "--no-progress"],
        ["cronto", "decode", ""],
        ["audit", "export", "--csv", ""],
        ["cronto", "make", "--user", "dr.rivera", "--npi", "1234567893", "--out", ""],
    ],
)
def test_an_empty_path_is_refused_as_empty_not_read_as_this_folder(cli: Cli, argv: list[str]) -> None:
    r = cli(*argv)
    assert r.returncode == 2
    assert "the path is empty" in r.stderr and ". is a directory" not in r.stderr


@pytest.fixture
def odd_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    return {"directory": folder, "not a regular file": fifo}


@pytest.mark.parametrize("command", [["tokens", "import"], ["cronto", "decode"]])
def test_a_folder_or_fifo_given_as_the_file_is_called_so(
    cli: Cli, odd_files: dict[str, Path], command: list[str]
) -> None:
    for words, path in odd_files.items():
        r = cli(*command, str(path))
        assert r.returncode == 2
        assert f"{path} is a {words}" in r.stderr or f"{path} is {words}" in r.stderr, r.stderr
        assert "No file" not in r.stderr and "There is no file" not in r.stderr
