"""`ipkiosk audit ...`: verify the HMAC chain, export, and the daily review report."""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path
from typing import Any

from kiosk.cli import audit_daily
from kiosk.cli.common import UsageError, parse_date
from kiosk.cli.context import CliContext
from kiosk.files import check_output, open_private

# What EPCS 1311.150's daily review looks for.
REVIEW_EVENTS = (
    "sign_in",
    "test_sign_in",
    "bind",
    "revoke",
    "replace",
    "assign",
    "resync",
    "token_unlock",
    "account_unlock",
    "backup_codes_issued",
)


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
    export.add_argument("--csv", type=Path, required=True, dest="csv_file")
    export.set_defaults(handler=export_csv)
    report = s.add_parser("report", help="daily review: failed sign-ins, reuse, lock-outs, factor changes")
    report.add_argument("--since", type=_date, required=True)
    report.set_defaults(handler=review_report)
    audit_daily.register(s)


def verify_chain(ctx: CliContext, args: argparse.Namespace) -> int:
    r = ctx.services.system.audit.verify()
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
    target = check_output(args.csv_file, "CSV file", ctx.settings)
    rows = list(ctx.services.system.audit.rows(since=args.since))
    fields = ["seq", "at", "event", "actor", "subject", "method", "serial", "outcome", "detail", "kiosk_id", "mac"]
    # 0600: the trail names providers, kiosks and sign-in outcomes.
    with open_private(target) as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for row in rows:
            w.writerow(row.as_dict())
    ctx.emit({"rows": len(rows), "file": str(args.csv_file)}, f"wrote {len(rows)} rows to {args.csv_file}")
    return 0


def review_report(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = list(ctx.services.system.audit.rows(since=args.since, events=REVIEW_EVENTS))
    failed = [r for r in rows if r.event in ("sign_in", "test_sign_in") and r.outcome not in ("ok", "code_required")]
    reuse = [r for r in rows if r.outcome == "refused_reused"]
    lockouts = [
        r for r in rows if r.outcome == "account_locked" or "token locked" in r.detail or r.outcome == "refused_locked"
    ]
    changes = [r for r in rows if r.event not in ("sign_in", "test_sign_in") and r.outcome == "ok"]
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
