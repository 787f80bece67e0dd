"""`ipkiosk users ...`: provider and IT staff accounts."""

from __future__ import annotations

import argparse
from typing import Any

from core.admin import Administration, Signature
from core.proofing import DocumentType
from kiosk.cli.common import UsageError
from kiosk.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("users", help="provider and IT staff accounts")
    s = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = s.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--name", required=True, help='"Last, First" as in the NPI registry')
    add.add_argument("--npi", help="the provider's NPI (required for providers)")
    add.add_argument("--role", choices=["provider", "it_staff"], default="provider")
    add.add_argument("--password-stdin", action="store_true", required=True, help="read the password from stdin")
    add.add_argument("--email", required=True, help="where binding and EPCS notifications go")
    add.add_argument("--dea", help="DEA registration number (needed for an EPCS grant)")
    add.add_argument("--registrant", action="store_true", help="a DEA registrant who may approve EPCS grants")
    add.set_defaults(handler=add_user)

    change = s.add_parser("set", help="change an account's email, DEA number or registrant flag")
    change.add_argument("username")
    change.add_argument("--email")
    change.add_argument("--dea")
    change.add_argument("--registrant", action=argparse.BooleanOptionalAction, default=None)
    change.set_defaults(handler=set_details)

    proof = s.add_parser("proof", help="record the ID document checked before binding (EPCS identity proofing)")
    proof.add_argument("username")
    proof.add_argument("--document", choices=[d.value for d in DocumentType], help="the ID document checked")
    proof.add_argument("--last4", help="its last four characters (never the whole number)")
    proof.add_argument("--csp-reference", help="or: the credential service provider's transaction reference")
    proof.add_argument("--by", required=True, help="the IT staff member who checked it (signs on stdin)")
    proof.set_defaults(handler=record_proofing)

    ls = s.add_parser("list", help="list accounts and their bound factors")
    ls.set_defaults(handler=list_users)

    unlock = s.add_parser("unlock", help="unlock an account locked after failed sign-ins")
    unlock.add_argument("username")
    unlock.set_defaults(handler=unlock_user)


def add_user(ctx: CliContext, args: argparse.Namespace) -> int:
    password = ctx.read_secret_stdin()
    if not password:
        raise UsageError("No password on stdin.")
    account = Administration.for_cli(ctx.services.system).add_account(
        args.username,
        display_name=args.name,
        npi=args.npi,
        role=args.role,
        password=password,
        email=args.email,
        dea_number=args.dea,
        dea_registrant=args.registrant,
    )
    ctx.emit(
        {
            "username": account.username,
            "role": account.role.value,
            "npi": account.npi,
            "email": account.email,
            "dea_number": account.dea_number,
            "dea_registrant": account.dea_registrant,
        },
        f"added {account.username} ({account.role.value})",
    )
    return 0


def list_users(ctx: CliContext, args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for entry in Administration.for_cli(ctx.services.system).accounts_overview():
        account = entry.account
        rows.append(
            {
                "username": account.username,
                "name": account.display_name,
                "npi": account.npi,
                "role": account.role.value,
                "email": account.email,
                "dea_number": account.dea_number,
                "dea_registrant": account.dea_registrant,
                "locked": account.locked,
                "factors": [
                    {"serial": f.serial, "method": f.method.value, "state": f.state.value} for f in entry.factors
                ],
                "backup_codes_left": entry.backup_codes_left,
            }
        )
    lines = [
        f"{r['username']:<16} {r['role']:<9} {r['npi'] or '-':<11} {'LOCKED ' if r['locked'] else ''}"
        + ", ".join(f"{f['serial']} ({f['method']}, {f['state']})" for f in r["factors"])
        for r in rows
    ]
    ctx.emit(rows, "\n".join(lines) or "no accounts")
    return 0


def unlock_user(ctx: CliContext, args: argparse.Namespace) -> int:
    Administration.for_cli(ctx.services.system).unlock_account(args.username)
    ctx.emit({"username": args.username, "unlocked": True}, f"unlocked {args.username}")
    return 0


def set_details(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.email is None and args.dea is None and args.registrant is None:
        raise UsageError("Give --email, --dea or --registrant/--no-registrant.")
    account, changed = Administration.for_cli(ctx.services.system).change_account(
        args.username, email=args.email, dea_number=args.dea, dea_registrant=args.registrant
    )
    ctx.emit(
        {
            "username": account.username,
            "email": account.email,
            "dea_number": account.dea_number,
            "dea_registrant": account.dea_registrant,
        },
        f"changed {account.username}: {', '.join(changed)}",
    )
    return 0


def record_proofing(ctx: CliContext, args: argparse.Namespace) -> int:
    password = ctx.read_secret_stdin()
    code = ctx.read_secret_stdin().strip()
    if not password:
        raise UsageError("No password on stdin: password on the first line, code on the second.")
    record = Administration.for_cli(ctx.services.system).record_id_check(
        args.username,
        document_type=args.document,
        last4=args.last4,
        csp_reference=args.csp_reference,
        signature=Signature(args.by, password, code or None),
    )
    ctx.emit({"username": record.username, **record.as_dict()}, f"{record.username}: {record.summary}")
    return 0
