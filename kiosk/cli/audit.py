"""`ipkiosk audit ...`: verify the HMAC chain, export, and the daily review report."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from core.admin import Administration
from core.daily_review import SIGNED_IN
from core.events import Event, Outcome, is_lockout
from kiosk.cli import audit_daily
from kiosk.cli.common import UsageError, parse_date, path_argument
from kiosk.cli.context import CliContext
from kiosk.files import check_output

# What EPCS 1311.150's daily review looks for.
REVIEW_EVENTS = (
    Event.SIGN_IN,
    Event.TEST_SIGN_IN,
    Event.BIND,
    Event.REVOKE,
    Event.REPLACE,
    Event.ASSIGN,
    Event.RESYNC,
    Event.TOKEN_UNLOCK,
    Event.ACCOUNT_UNLOCK,
    Event.BACKUP_CODES_ISSUED,
)
SIGN_INS = (Event.SIGN_IN, Event.TEST_SIGN_IN)


def _date(text: str) -> Any:
    # argparse turns only ArgumentTypeError into a usage message; a KioskError raised inside a
    # `type=` callback escaped as a traceback with exit 1.
    try:
        return parse_date(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="the audit trail")
    s = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = s.add_parser("verify", help="exit 0 when the chain is intact; else name the first bad row")
    verify.set_defaults(handler=verify_chain)
    export = s.add_parser("export", help="write rows as CSV")
    export.add_argument("--since", type=_date, help="YYYY-MM-DD (UTC)")
    export.add_argument("--csv", type=path_argument, required=True, dest="csv_file")
    export.set_defaults(handler=export_csv)
    report = s.add_parser("report", help="daily review: failed sign-ins, reuse, lock-outs, factor changes")
    report.add_argument("--since", type=_date, required=True)
    report.set_defaults(handler=review_report)
    audit_daily.register(s)


def verify_chain(ctx: CliContext, args: argparse.Namespace) -> int:
    r = Administration.for_cli(ctx.services.system).verify_audit()
    doc = {
        "intact": r.intact,
        "rows": r.rows,
        "head_seq": r.head_seq,
        "head_mac": r.head_mac,
        "first_bad_seq": r.first_bad_seq,
        "problem": r.problem,
    }
    text = (
        f"audit chain intact: {r.rows} rows, head {r.head_seq} {r.head_mac[:16]}"
        if r.intact
        else f"AUDIT CHAIN BROKEN at row {r.first_bad_seq}: {r.problem}"
    )
    ctx.emit(doc, text)
    return 0 if r.intact else 1


def export_csv(ctx: CliContext, args: argparse.Namespace) -> int:
    check_output(args.csv_file, "CSV file", ctx.settings)  # never over the kiosk's own files
    count = Administration.for_cli(ctx.services.system).export_audit(args.csv_file, since=args.since)
    ctx.emit({"rows": count, "file": str(args.csv_file)}, f"wrote {count} rows to {args.csv_file}")
    return 0


def review_report(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = Administration.for_cli(ctx.services.system).audit_rows(since=args.since, events=REVIEW_EVENTS)
    failed = [r for r in rows if r.event in SIGN_INS and r.outcome not in SIGNED_IN]
    reuse = [r for r in rows if r.outcome == Outcome.REFUSED_REUSED]
    lockouts = [r for r in rows if is_lockout(r.outcome, r.detail)]
    changes = [r for r in rows if r.event not in SIGN_INS and r.outcome == Outcome.OK]
    doc = {
        "since": args.since.isoformat(),
        "failed_sign_ins": len(failed),
        "failed_by_user": dict(Counter(r.subject for r in failed)),
        "reuse_attempts": [r.as_dict() for r in reuse],
        "lockouts": [r.as_dict() for r in lockouts],
        "factor_changes": [r.as_dict() for r in changes],
    }
    lines = [f"Audit review since {args.since.date().isoformat()}", f"failed sign-ins: {len(failed)}"]
    lines += [f"  {u}: {n}" for u, n in Counter(r.subject for r in failed).most_common()]
    lines.append(f"code reuse attempts: {len(reuse)}")
    lines += [f"  {r.at} {r.subject} {r.serial}" for r in reuse]
    lines.append(f"lock-outs: {len(lockouts)}")
    lines += [f"  {r.at} {r.subject} {r.serial or 'account'}" for r in lockouts]
    lines.append(f"factor changes: {len(changes)}")
    lines += [f"  {r.at} {r.event:<20} by {r.actor:<16} for {r.subject:<16} {r.serial} {r.detail}" for r in changes]
    ctx.emit(doc, "\n".join(lines))
    return 0
