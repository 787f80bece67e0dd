"""`ipkiosk demo`: build demo data in a fresh folder and run the kiosk on it."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from kiosk.cli.context import CliContext
from kiosk.config import absolute


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="build demo data in a fresh folder and run the kiosk on it")
    p.add_argument("--build-only", action="store_true", help="build the demo data and exit")
    p.set_defaults(handler=run_demo)


def run_demo(ctx: CliContext, args: argparse.Namespace) -> int:
    from kiosk.demo import build_demo, demo_guide

    data_dir = absolute(ctx.data_dir) if ctx.data_dir else Path(tempfile.mkdtemp(prefix="ipkiosk-demo-"))
    ctx.data_dir = data_dir
    services = build_demo(data_dir, clock=ctx.clock)
    services.close()
    guide = demo_guide(data_dir)
    ctx.emit({"data_dir": str(data_dir)}, guide)
    if args.build_only:
        return 0
    from kiosk.cli.run import launch

    input("\nPress Enter to start the kiosk (IT staff can leave it from the IT staff area)...")
    return launch(ctx)
