"""`ipkiosk auth check`: a sign-in as the kiosk would do it, for scripts and IT checks."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import AccountLocked, AuthenticationFailed
from core.signin import CodeRefused, CodeRequired
from kiosk.cli.common import UsageError
from kiosk.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("auth", help="check a sign-in")
    s = p.add_subparsers(dest="auth_command", required=True, metavar="ACTION")
    check = s.add_parser("check", help="password from stdin plus a security code; exit 0 when accepted")
    check.add_argument("username")
    check.add_argument("--password-stdin", action="store_true", required=True)
    code = check.add_mutually_exclusive_group()
    code.add_argument("--code", help="a token code or a backup code (visible to other users in the process list)")
    code.add_argument(
        "--code-stdin", action="store_true", help="read the code from stdin too, on the line after the password"
    )
    check.set_defaults(handler=check_sign_in)


def check_sign_in(ctx: CliContext, args: argparse.Namespace) -> int:
    password = ctx.read_secret_stdin()
    code = args.code
    if args.code_stdin:
        code = ctx.read_secret_stdin().strip()
        if not code:
            raise UsageError("--code-stdin: no code on the line after the password.")
    system = ctx.services.system
    doc: dict[str, Any] = {"username": args.username, "accepted": False}
    try:
        signed = system.signin.sign_in(args.username, password, code)
    except CodeRefused as exc:
        doc.update(diagnosis=exc.diagnosis.value, message=exc.message, hint=exc.hint)
    except CodeRequired as exc:
        doc.update(diagnosis="code_required", message=exc.message, hint=exc.hint)
    except AccountLocked as exc:
        doc.update(diagnosis="account_locked", message=exc.message, hint=exc.hint)
    except AuthenticationFailed as exc:
        doc.update(diagnosis="bad_password", message=exc.message, hint=exc.hint)
    else:
        doc.update(accepted=True, second_factor=signed.second_factor or "none bound")
    text = "accepted" if doc["accepted"] else f"refused ({doc['diagnosis']}): {doc['message']} {doc['hint']}"
    ctx.emit(doc, text)
    return 0 if doc["accepted"] else 1
