"""`ipkiosk serve`: the IT staff area in a browser; and `ipkiosk it-console` (not listed), the
App it serves to each browser session."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.context import CliContext


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the IT staff area to a browser (IT sign-in still required)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)")
    p.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (only behind a TLS reverse proxy: see docs/serve.md)",
    )
    p.add_argument("--public-url", help="the URL browsers use, when a reverse proxy is in front (https://...)")
    p.set_defaults(handler=serve)
    # Not listed in --help: textual-serve runs it, a person does not.
    c = sub.add_parser("it-console")
    c.set_defaults(handler=it_console)


def serve(ctx: CliContext, args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from kiosk.config import absolute
    from kiosk.serve import ConsoleServer, check_host, console_command

    check_host(args.host, args.allow_remote)
    public_url = args.public_url.strip().rstrip("/") if args.public_url is not None else None
    if public_url is not None and not public_url.startswith(("https://", "http://")):
        raise ConfigError(f"{public_url!r} is not a web address.", hint="Give it as https://host[:port].")
    # Opened once here so a broken config or store is said now, not in every browser session.
    ctx.services.close()
    data_dir = absolute(ctx.data_dir) if ctx.data_dir is not None else None
    server = ConsoleServer(console_command(data_dir), args.host, args.port, public_url)
    try:
        server.serve()
    except OSError as exc:
        raise ConfigError(
            f"Could not listen on {args.host} port {args.port} ({exc.strerror or exc}).",
            hint="Another program may use that port: pick another with --port.",
        ) from None
    return 0


def it_console(ctx: CliContext, args: argparse.Namespace) -> int:
    from kiosk.it_console import create_it_console

    app = create_it_console(ctx.settings)
    try:
        app.run()
    finally:
        if app.services is not None:
            app.services.close()
    return int(app.return_code or 0)
