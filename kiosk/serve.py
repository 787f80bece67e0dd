"""`ipkiosk serve`: the IT console in a browser, through textual-serve.

textual-serve starts one `ipkiosk it-console` process per browser session and relays its
terminal over a websocket. Every session signs in on its own (password and code), and the
console's idle wipe runs in each. What this module adds: loopback unless asked otherwise, and a
websocket refused to pages from another origin, so a web page the IT person happens to open
cannot drive a console on their machine.
"""

from __future__ import annotations

import ipaddress
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

from core.errors import ConfigError

TITLE = "iPrescribe kiosk · IT console"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere, so it counts as remote


def check_host(host: str, allow_remote: bool) -> None:
    if not host.strip():
        raise ConfigError("The host to serve on is empty.", hint="Leave --host out to serve on 127.0.0.1.")
    if not is_loopback(host) and not allow_remote:
        raise ConfigError(
            f"{host} is not a loopback address: the IT console would be reachable from the network.",
            hint="Put a TLS reverse proxy in front and keep 127.0.0.1 (docs/serve.md), "
            "or add --allow-remote if that proxy runs on another machine.",
        )


def console_command(data_dir: Path | None) -> str:
    """The shell command textual-serve runs per session: this Python, this data dir."""
    argv = [sys.executable, "-m", "kiosk.cli"]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    argv.append("it-console")
    return shlex.join(argv)


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """An address as a browser's Origin header gives it: scheme://host[:port], no default port."""
    parts = urlsplit(url.strip().lower())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{url!r} has no valid port.", hint="Give it as https://host[:port].") from None
    return f"{parts.scheme}://{host}" + ("" if port in (None, DEFAULT_PORTS.get(parts.scheme)) else f":{port}")


class ConsoleServer(Server):
    """textual-serve's Server, with the websocket refused to pages from other origins."""

    def __init__(self, command: str, host: str, port: int, public_url: str | None = None) -> None:
        if public_url is None and ":" in host:
            public_url = f"http://[{host}]:{port}"  # textual-serve would write an IPv6 host bare
        super().__init__(command, host=host, port=port, title=TITLE, public_url=public_url)
        self.allowed_origins = {origin_of(self.public_url)}
        if public_url is None and is_loopback(host):
            # The same server, however the browser names the loopback host.
            self.allowed_origins |= {f"http://{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        origin = request.headers.get("Origin")
        # Browsers always send Origin on a websocket; a missing one is a program, which could
        # reach the port anyway and still has to sign in.
        if origin is not None and origin.lower() not in self.allowed_origins:
            raise web.HTTPForbidden(text="This IT console opens only from its own page.")
        return await super().handle_websocket(request)
