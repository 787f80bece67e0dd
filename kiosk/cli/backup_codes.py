"""`ipkiosk backup-codes issue USERNAME`: a new set, shown once; the old set stops working."""

from __future__ import annotations

import argparse
from typing import Any

from core.admin import Administration
from kiosk.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("backup-codes", help="issue backup codes")
    s = p.add_subparsers(dest="bc_command", required=True, metavar="ACTION")
    issue = s.add_parser("issue", help="a new set of 10 codes (the old set stops working)")
    issue.add_argument("username")
    issue.set_defaults(handler=issue_codes)


def issue_codes(ctx: CliContext, args: argparse.Namespace) -> int:
    codes = Administration.for_cli(ctx.services.system).issue_backup_codes(args.username)
    text = "\n".join(
        [f"Backup codes for {args.username} (each works once; shown only now):", *[f"  {c}" for c in codes]]
    )
    ctx.emit({"username": args.username, "codes": codes}, text)
    return 0
