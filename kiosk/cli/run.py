"""`ipkiosk run` (the default): the full-screen kiosk."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the kiosk (the default command)")
    p.add_argument("--camera", help="device index, video file or image file (overrides the config)")
    p.set_defaults(handler=run_kiosk)


def run_kiosk(ctx: CliContext, args: argparse.Namespace) -> int:
    if getattr(args, "camera", None):
        ctx.settings.camera = args.camera
    return launch(ctx)


def launch(ctx: CliContext) -> int:
    from kiosk.app import create_app
    from kiosk.mail import start_flusher

    # The App opens the store and keyring itself, after the first screen is drawn.
    app = create_app(ctx.settings)
    flusher = start_flusher(ctx.settings)
    try:
        app.run()
    finally:
        if flusher is not None:
            flusher.stop()
        if app.services is not None:
            app.services.close()
    return int(app.return_code or 0)
