"""`ipkiosk doctor`: what this kiosk's setup lacks, and how to fix it; exit 0 only when all hold."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.context import CliContext
from kiosk.doctor import Doctor


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check keyring, store, directory, camera, mail, clock and file permissions")
    p.set_defaults(handler=run_doctor)


def run_doctor(ctx: CliContext, args: argparse.Namespace) -> int:
    checks = Doctor(ctx.settings).run()
    lines = []
    for c in checks:
        lines.append(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<12} {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"     {'':<12} fix: {c.fix}")
    ctx.emit({"ok": all(c.ok for c in checks), "checks": [c.as_dict() for c in checks]}, "\n".join(lines))
    return 0 if all(c.ok for c in checks) else 1
