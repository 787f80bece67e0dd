"""`ipkiosk` builds its parser with only the command module its arguments name
(kiosk/cli `_command_module`): every command line parses exactly as with every command, the same
namespace, or the same exit code and the same words on stdout and stderr."""

from __future__ import annotations

import argparse
import contextlib
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.cli import COMMAND_MODULES, build_parser

# Every command's name as typed, with the module spellings (backup_codes), prefixes of names and
# of the global options, and what argparse reads specially.
COMMANDS = ["run", "demo", "users", "tokens", "auth", "backup-codes", "directory", "cronto", "credentials"]
COMMANDS += ["audit", "epcs", "notifications", "doctor", "token-sim", "serve", "it-console"]
WORDS = [*COMMANDS, *COMMAND_MODULES, "tok", "token", "backup", "it_console", "list", "import", "add", "verify"]
WORDS += ["--data-dir", "--data-dir=d", "--data", "--data=d", "--d", "--da=x", "--json", "--js", "--j", "--jso=1"]
WORDS += ["-h", "--help", "--he", "--h", "--version", "--vers", "--", "-", "-x", "--bogus", "d", "", "-hx", "--help=1"]


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[object, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            args = vars(parser.parse_args(argv))
            # A handler is a function of the module: compared by name (the modules are the same).
            result: object = {k: getattr(v, "__qualname__", v) for k, v in args.items()}
        except SystemExit as exc:
            result = ("exit", exc.code)
    return result, out.getvalue(), err.getvalue()


def _same(argv: list[str]) -> None:
    assert _parse(build_parser(argv), argv) == _parse(build_parser(), argv), argv


def test_a_module_spelling_of_a_dashed_command_is_refused_as_with_every_command() -> None:
    for argv in (["backup_codes", "issue"], ["token_sim"], ["--json", "token_sim", "--once"]):
        _same(argv)


def test_a_dash_or_a_negative_number_before_the_command_is_read_as_the_full_parser_reads_it() -> None:
    # Found by the property below: argparse reads `-` (and `-1`) as the command's place.
    for argv in (["-", "run"], ["-1", "tokens", "list"], ["--json", "-", "demo"], ["-x y", "run"]):
        _same(argv)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=5))
def test_any_command_line_parses_as_with_every_command(argv: list[str]) -> None:
    _same(argv)
