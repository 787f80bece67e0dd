"""`ipkiosk audit daily | reports | signoff`: the daily audit analysis (21 CFR 1311.150)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from core.admin import Administration
from kiosk.cli.common import UsageError
from kiosk.cli.context import CliContext


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; write it as YYYY-MM-DD.") from None


def register(s: Any) -> None:
    """Adds to the `audit` group's subcommands."""
    daily = s.add_parser("daily", help="analyse one UTC day (default yesterday); HTML + CSV under DATA_DIR/reports/")
    daily.add_argument("--date", type=_day, dest="day", help="YYYY-MM-DD (UTC)")
    daily.set_defaults(handler=run_daily)
    reports = s.add_parser("reports", help="daily reports and who signed each off")
    reports.add_argument("--unreviewed", action="store_true", help="only those not signed off yet")
    reports.set_defaults(handler=list_reports)
    signoff = s.add_parser("signoff", help="sign off a daily report as reviewed (password, code on stdin)")
    signoff.add_argument("report", help="the day (YYYY-MM-DD) or the report's file name")
    signoff.add_argument("--by", required=True, help="the designee signing it off")
    signoff.set_defaults(handler=sign_off)


def run_daily(ctx: CliContext, args: argparse.Namespace) -> int:
    services = ctx.services
    report = Administration.for_cli(services.system).daily_review(args.day, services.data_dir / "reports")
    lines = [f"Daily audit review {report.day} (UTC): {report.rows_that_day} rows"]
    lines += [f"  {name.replace('_', ' ')}: {n}" for name, n in report.counts.items()]
    lines.append(f"  chain: {'intact' if report.chain.intact else 'BROKEN: ' + report.chain.problem}")
    lines.append(f"incidents: {len(report.incidents)}")
    lines += [f"  ! {i}" for i in report.incidents]
    lines += [f"wrote {report.html_path}", f"wrote {report.csv_path}"]
    ctx.emit(report.as_dict(), "\n".join(lines))
    # Non-zero with incidents, so the systemd unit (or cron) shows the day needs attention.
    return 1 if report.incidents else 0


def list_reports(ctx: CliContext, args: argparse.Namespace) -> int:
    rows = [
        r.as_dict() for r in Administration.for_cli(ctx.services.system).daily_reports(unreviewed_only=args.unreviewed)
    ]
    lines = [
        f"{r['day']}  incidents {r['incidents']:<3} "
        + (f"signed off by {r['signed_off_by']} {r['signed_off_at']}" if r["signed_off_by"] else "NOT REVIEWED")
        for r in rows
    ]
    ctx.emit(rows, "\n".join(lines) or "no reports")
    return 0


def sign_off(ctx: CliContext, args: argparse.Namespace) -> int:
    password = ctx.read_secret_stdin()
    code = ctx.read_secret_stdin().strip()
    if not password:
        raise UsageError("No password on stdin: password on the first line, code on the second.")
    record = Administration.for_cli(ctx.services.system).sign_off_report(args.report, args.by, password, code or None)
    ctx.emit(record.as_dict(), f"{record.day}: signed off by {record.signed_off_by}")
    return 0
