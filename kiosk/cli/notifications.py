"""`ipkiosk notifications ...`: the outbox of binding and EPCS notifications."""

from __future__ import annotations

import argparse
from typing import Any

from core.admin import Administration
from kiosk.cli.common import count_argument
from kiosk.cli.context import CliContext
from kiosk.mail import not_configured, sender_for


def register(sub: Any) -> None:
    p = sub.add_parser("notifications", help="binding and EPCS notifications (email outbox)")
    s = p.add_subparsers(dest="notifications_command", required=True, metavar="ACTION")
    send = s.add_parser("send", help="deliver every waiting notification now (SMTP, or .eml files in the demo)")
    send.set_defaults(handler=send_notifications)
    ls = s.add_parser("list", help="notifications, newest first, with their delivery state")
    ls.add_argument("--pending", action="store_true", help="only those not delivered yet")
    ls.add_argument("--limit", type=count_argument("notifications", least=1), default=200, metavar="N")
    ls.set_defaults(handler=list_notifications)


def send_notifications(ctx: CliContext, args: argparse.Namespace) -> int:
    if ctx.settings.smtp is None and not ctx.settings.demo:
        raise not_configured()  # before the store and keyring are opened: nothing could be sent
    services = ctx.services
    sender, from_addr = sender_for(services.settings, services.credentials)
    # On demand means now: do not wait out the back-off of earlier failures.
    report, waiting = Administration.for_cli(services.system).send_notices(sender, from_addr)
    doc = {**report.as_dict(), "waiting": waiting}
    text = (
        f"sent {len(report.sent)}, failed {len(report.failed)}, no address {len(report.no_address)}; waiting {waiting}"
    )
    ctx.emit(doc, text)
    return 0 if not report.failed and not report.no_address else 1


def list_notifications(ctx: CliContext, args: argparse.Namespace) -> int:
    notices = Administration.for_cli(ctx.services.system).notices(pending_only=args.pending, limit=args.limit)
    rows = [n.as_dict() for n in notices]
    lines = [
        f"{r['id']:>5} {r['created_at']} {r['state']:<8} {r['username']:<14} {r['subject']}"
        + (f"  [{r['last_error']}]" if r["last_error"] and r["state"] != "sent" else "")
        for r in rows
    ]
    ctx.emit(rows, "\n".join(lines) or "no notifications")
    return 0
