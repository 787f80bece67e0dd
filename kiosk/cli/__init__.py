"""`ipkiosk`: the kiosk, the demo and the IT-staff commands.

Each command group lives in its own module here with a `register(subparsers)` function; its
handlers take `(ctx: CliContext, args) -> int` (the exit code). Errors of type `KioskError` are
printed as their message and hint (or as JSON with --json) and exit 2; nothing prints a traceback
at a user.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from core.errors import KioskError
from kiosk.cli.context import CliContext

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
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipkiosk",
        description="iPrescribe enrollment kiosk: two-factor binding with regional NPI verification.",
    )
    parser.add_argument("--data-dir", type=Path, help="where the store, directory and config live")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"kiosk.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kiosk.cli.{name}":
                raise
            continue  # a command group not built yet
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "run"
        args.handler = importlib.import_module("kiosk.cli.run").run_kiosk
    ctx = CliContext(data_dir=args.data_dir, as_json=args.json)
    try:
        code: int = args.handler(ctx, args)
    except KioskError as exc:
        ctx.fail(exc)
        code = 2
    except KeyboardInterrupt:
        code = 130
    finally:
        ctx.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
