"""`ipkiosk`: the kiosk, the demo and the IT-staff commands.

Each command group lives in its own module here with a `register(subparsers)` function; its
handlers take `(ctx: CliContext, args) -> int` (the exit code). Errors of type `KioskError` are
printed as their message and hint (or as JSON with --json) and exit 2; nothing prints a traceback
at a user.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.clock import Clock
from core.errors import KioskError
from kiosk.cli.context import CliContext
from kiosk.files import restrict_umask

# Command modules, in the order `ipkiosk --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "run",
    "demo",
    "users",
    "tokens",
    "auth",
    "backup_codes",
    "directory",
    "cronto",
    "credentials",
    "audit",
    "epcs",
    "notifications",
    "doctor",
    "token_sim",
    "serve",
)
# The command each module registers, as typed: only that spelling names the module (argparse
# refuses `backup_codes`, listing every command, so its parser needs every module).
_COMMAND_NAMES = {name.replace("_", "-"): name for name in COMMAND_MODULES}


def _data_dir(text: str) -> Path:
    # Path("") is ".": an empty --data-dir (an unset shell variable) would quietly mean "here".
    if not text.strip():
        raise argparse.ArgumentTypeError("the data dir is empty")
    return Path(text)


class KioskParser(argparse.ArgumentParser):
    """Every parser, at every level, takes the global options, so `ipkiosk --json tokens list`
    and `ipkiosk tokens list --json` mean the same. Defaults are SUPPRESSed so a subcommand's
    parser never overwrites what was given before the subcommand; main() fills them in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(
            "--data-dir", type=_data_dir, default=argparse.SUPPRESS, help="where the store, directory and config live"
        )
        self.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iprescribe-kiosk")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _prefix_of(arg: str, option: str) -> bool:
    return len(arg) >= 3 and option.startswith(arg)  # argparse takes an unambiguous prefix


def _command_module(argv: Sequence[str]) -> str | None:
    """The command module the arguments name, if they name one: only it need be imported to
    parse them (importing every command's module took a tenth of a short command's run). None
    whenever the full parser might read the line otherwise: no command named (help, version,
    the kiosk), a name that is no command's, or anything before it but the global options
    `--data-dir DIR` and `--json` (argparse reads `-` and `-1` as a positional, for one)."""
    args = iter(argv)
    for arg in args:
        option, has_value, _ = arg.partition("=")
        if _prefix_of(option, "--data-dir"):
            if not has_value:
                next(args, None)
            continue
        if not has_value and _prefix_of(arg, "--json"):
            continue
        if arg.startswith("-"):
            return None  # help, version, `--`, `-`, anything odd: the full parser answers
        return _COMMAND_NAMES.get(arg)
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or with `argv` naming a command, for that command only."""
    parser = KioskParser(
        prog="ipkiosk",
        description="iPrescribe enrollment kiosk: two-factor binding with regional NPI verification.",
    )
    parser.add_argument("--version", action="version", version=f"ipkiosk {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    only = _command_module(argv) if argv is not None else None
    for name in (only,) if only else COMMAND_MODULES:
        try:
            module = importlib.import_module(f"kiosk.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kiosk.cli.{name}":
                raise
            continue  # a command group not built yet
        module.register(sub)
    return parser


def _silence_stdout() -> None:
    """The reader of our output went away (`ipkiosk ... | head -1`). Point stdout at /dev/null
    so the interpreter's final flush does not raise again (the Python docs' recipe)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (tests capture it): nothing will flush to a closed pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; `clock` (default: the system clock) is what every time rule reads."""
    restrict_umask()
    try:
        return _main(argv, clock)
    except BrokenPipeError:
        _silence_stdout()
        return 1


def _undecodable(argv: Sequence[str]) -> int | None:
    """The position of an argument that was not UTF-8 on the command line (Python carries such
    bytes as lone surrogates, which the store and the terminal cannot take), else None."""
    for i, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return i
    return None


def _main(argv: Sequence[str] | None, clock: Clock | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    bad = _undecodable(argv)
    if bad is not None:
        parser.error(f"argument {bad} is not valid UTF-8 text; retype it (or rename the file) in UTF-8")
    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "run"
        args.handler = importlib.import_module("kiosk.cli.run").run_kiosk
    ctx = CliContext(data_dir=getattr(args, "data_dir", None), as_json=getattr(args, "json", False), clock=clock)
    try:
        code: int = args.handler(ctx, args)
        # Flushed here, not at exit, so a reader that went away is seen while main() can handle it.
        sys.stdout.flush()
    except KioskError as exc:
        ctx.fail(exc)
        code = 2
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        raise
    except OSError as exc:
        # A file the command was given, or the data dir, could not be used at a point no check
        # foresaw (a disk that fills up, a name too long): say which, never a traceback.
        where = f" ({exc.filename})" if exc.filename else ""
        ctx.fail(
            KioskError(
                f"{exc.strerror or type(exc).__name__}{where}.", hint="Check the path and the disk, then try again."
            )
        )
        code = 2
    finally:
        ctx.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
