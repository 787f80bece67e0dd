"""`ipkiosk token-sim SERIAL`: the display of a demo hardware token, in a second terminal.

Demo data only: on a real kiosk nobody may read a token's codes off the store.
"""

from __future__ import annotations

import argparse
import select
import sys
from typing import Any

from core.errors import NotAllowed
from kiosk.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("token-sim", help="show a demo token's codes (demo data only)")
    p.add_argument("serial")
    p.add_argument("--once", action="store_true", help="print the current code and exit")
    p.set_defaults(handler=simulate)


def simulate(ctx: CliContext, args: argparse.Namespace) -> int:
    # `demo = true` alone can be set on a real kiosk; the demo-only keyring file cannot be used
    # with the real kiosk's seeds (they are sealed with the key in the system keyring), so both
    # together mean the store holds demo seeds only.
    if not ctx.settings.demo or ctx.settings.keyring != "demo-file":
        raise NotAllowed("token-sim works only on demo data (ipkiosk demo).")
    tokens = ctx.services.system.tokens
    info = tokens.get(args.serial)
    if info is None:
        from core.errors import TokenNotFound

        raise TokenNotFound(f"No demo token {args.serial}.")
    press = info.last_used + 1
    if args.once:
        code, remaining = tokens.code_now(info.serial, press=press)
        ctx.emit({"serial": info.serial, "code": code, "seconds_left": round(remaining)}, code)
        return 0
    print(f"Token {info.serial} ({info.params.kind.upper()}). Enter = press the button, Ctrl-C = quit.")
    shown = ""
    try:
        while True:
            code, remaining = tokens.code_now(info.serial, press=press)
            if info.params.kind == "totp":
                line = f"\r  {code}   changes in {int(remaining):>2} s "
            else:
                line = f"\r  {code}   (press Enter for the next code) "
            if line != shown:
                sys.stdout.write(line)
                sys.stdout.flush()
                shown = line
            ready, _, _ = select.select([sys.stdin], [], [], 0.25)
            if ready:
                if not sys.stdin.readline():
                    break
                press += 1 if info.params.kind == "hotp" else 0
    except KeyboardInterrupt:
        pass
    print()
    return 0
