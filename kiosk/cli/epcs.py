"""`ipkiosk epcs ...`: the EPCS signing permission, entered by one person and approved by another.

The person named with --by signs on stdin: password on the first line, token code on the second
(empty when no factor is bound to an IT account).
"""

from __future__ import annotations

import argparse
from typing import Any

from core.admin import Administration, Signature
from kiosk.cli.common import UsageError
from kiosk.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("epcs", help="EPCS signing permission (two-person approval)")
    s = p.add_subparsers(dest="epcs_command", required=True, metavar="ACTION")
    grant = s.add_parser("grant", help="IT staff enter a grant; it waits for a registrant's approval")
    grant.add_argument("username")
    grant.add_argument("--by", required=True, help="the IT staff member entering it")
    grant.set_defaults(handler=grant_permission)
    approve = s.add_parser("approve", help="a DEA registrant approves a pending grant")
    approve.add_argument("username")
    approve.add_argument("--by", required=True, help="the approving DEA registrant")
    approve.set_defaults(handler=approve_permission)
    revoke = s.add_parser("revoke", help="IT staff revoke a permission")
    revoke.add_argument("username")
    revoke.add_argument("--by", required=True)
    revoke.add_argument("--reason", required=True)
    revoke.set_defaults(handler=revoke_permission)
    ls = s.add_parser("list", help="every provider's permission: state, who entered, who approved")
    ls.set_defaults(handler=list_permissions)
    roles = s.add_parser("roles", help="who holds the entry and the approval role")
    roles.set_defaults(handler=list_roles)
    token = s.add_parser("token", help="record a token's vendor, model and FIPS 140 certificate (1311.115(b))")
    token.add_argument("serial")
    token.add_argument("--vendor")
    token.add_argument("--model")
    token.add_argument("--fips-cert", help="the CMVP certificate number of the token's cryptographic module")
    token.set_defaults(handler=describe_token)


def _signature(ctx: CliContext, by: str) -> Signature:
    password = ctx.read_secret_stdin()
    code = ctx.read_secret_stdin().strip()
    if not password:
        raise UsageError("No password on stdin: password on the first line, code on the second.")
    return Signature(by, password, code or None)


def _admin(ctx: CliContext) -> Administration:
    return Administration.for_cli(ctx.services.system)


def _emit(ctx: CliContext, doc: dict[str, Any], verb: str) -> int:
    ctx.emit(doc, f"{doc['username']}: {verb} (state {doc['state']})")
    return 0


def grant_permission(ctx: CliContext, args: argparse.Namespace) -> int:
    permission = _admin(ctx).grant_epcs(args.username, _signature(ctx, args.by))
    return _emit(ctx, permission.as_dict(), f"grant entered by {permission.entered_by}, waiting for approval")


def approve_permission(ctx: CliContext, args: argparse.Namespace) -> int:
    signature = _signature(ctx, args.by)
    if not signature.code:
        raise UsageError("An approval needs the approver's token code on the second line of stdin.")
    permission = _admin(ctx).approve_epcs(args.username, signature)
    return _emit(ctx, permission.as_dict(), f"approved by {permission.approved_by}")


def revoke_permission(ctx: CliContext, args: argparse.Namespace) -> int:
    permission = _admin(ctx).revoke_epcs(args.username, _signature(ctx, args.by), args.reason)
    return _emit(ctx, permission.as_dict(), "revoked")


def list_permissions(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = _admin(ctx).epcs_overview()
    lines = [
        f"{r['username']:<16} {r['state']:<10} entered {r['entered_by'] or '-'} {r['entered_at'] or ''}"
        f"  approved {r['approved_by'] or '-'} {r['approved_at'] or ''}"
        for r in rows
    ]
    ctx.emit(rows, "\n".join(lines) or "no providers")
    return 0


def list_roles(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = [r.as_dict() for r in _admin(ctx).epcs_roles()]
    lines = [f"{r['username']:<16} {r['role']:<9} {'' if r['eligible'] else 'NOT ELIGIBLE: ' + r['why']}" for r in rows]
    ctx.emit(rows, "\n".join(lines) or "nobody holds an EPCS role")
    return 0


def describe_token(ctx: CliContext, args: argparse.Namespace) -> int:
    info = _admin(ctx).describe_token(args.serial, vendor=args.vendor, model=args.model, fips_cert=args.fips_cert)
    ctx.emit(
        info.as_dict(),
        f"{info.serial}: {info.vendor or '-'} {info.model or '-'}, FIPS 140 certificate {info.fips_cert or 'none'}",
    )
    return 0
