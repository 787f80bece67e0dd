"""The daily audit analysis (21 CFR 1311.150(b)-(c)): one UTC calendar day, read by a person.

It counts failed and throttled sign-ins, code reuse attempts, lock-outs, factor and EPCS
permission changes and imports, verifies the whole chain, and flags incidents: what a security
officer must look at that day. The report is written as HTML (for people) and CSV (for
machines) under DATA_DIR/reports/, its running is audited, and a designee signs it off
(audited too). Nothing in it is secret: it is made of audit rows, which never hold one.
"""

from __future__ import annotations

import csv
import html
import io
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from core.accounts import Role
from core.audit import _FIELDS, AuditRow, ChainReport
from core.clock import utcnow
from core.errors import ReviewError
from core.events import Event, Outcome, is_lockout, is_refusal
from core.schema import audit, audit_reports

if TYPE_CHECKING:
    from core.system import KioskSystem

SIGN_IN_EVENTS = frozenset({Event.SIGN_IN, Event.TEST_SIGN_IN, Event.EPCS_SIGN_IN})
FACTOR_EVENTS = frozenset(
    {
        Event.BIND,
        Event.ASSIGN,
        Event.REPLACE,
        Event.REVOKE,
        Event.RESYNC,
        Event.TOKEN_UNLOCK,
        Event.ACCOUNT_UNLOCK,
        Event.BACKUP_CODES_ISSUED,
    }
)
PERMISSION_EVENTS = frozenset(
    {
        Event.EPCS_GRANT,
        Event.EPCS_APPROVE,
        Event.EPCS_REVOKE,
        Event.EPCS_SUSPEND,
        Event.IDENTITY_PROOFED,
        Event.ACCOUNT_CREATED,
        Event.ACCOUNT_CHANGED,
    }
)
EPCS_EVENTS = frozenset({Event.EPCS_GRANT, Event.EPCS_APPROVE, Event.EPCS_REVOKE, Event.EPCS_SUSPEND})
IMPORT_EVENTS = frozenset({Event.TOKENS_IMPORT, Event.DIRECTORY_IMPORT})
SIGNED_IN = frozenset({Outcome.OK, Outcome.CODE_REQUIRED})
# An account with this many failed sign-ins in one day is worth a look even without a lock-out.
FAILED_SIGNIN_ALERT = 5
CATEGORIES = (
    "failed_sign_in",
    "throttled_sign_in",
    "reuse_attempt",
    "lockout",
    "factor_change",
    "permission_change",
    "import",
    "refused_permission",
    "refused_image",
)


@dataclass
class DailyReport:
    day: date
    counts: dict[str, int]
    findings: list[tuple[str, AuditRow]]
    incidents: list[str]
    chain: ChainReport
    rows_that_day: int
    html_path: Path | None = None
    csv_path: Path | None = None
    failed_by_account: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "rows": self.rows_that_day,
            "counts": self.counts,
            "failed_by_account": self.failed_by_account,
            "incidents": self.incidents,
            "chain": {
                "intact": self.chain.intact,
                "rows": self.chain.rows,
                "head_seq": self.chain.head_seq,
                "head_mac": self.chain.head_mac,
                "problem": self.chain.problem,
            },
            "html": str(self.html_path) if self.html_path else None,
            "csv": str(self.csv_path) if self.csv_path else None,
        }


@dataclass(frozen=True)
class ReportRecord:
    day: str
    created_at: float
    html_path: str
    csv_path: str
    incidents: int
    signed_off_by: str | None
    signed_off_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "html": self.html_path,
            "csv": self.csv_path,
            "incidents": self.incidents,
            "signed_off_by": self.signed_off_by,
            "signed_off_at": _iso(self.signed_off_at),
        }


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _stamp(d: datetime) -> str:
    return d.isoformat(timespec="seconds").replace("+00:00", "Z")


def categorize(row: AuditRow) -> str | None:
    outcome = row.outcome
    if row.event in SIGN_IN_EVENTS or is_refusal(outcome):
        if outcome == Outcome.REFUSED_REUSED:
            return "reuse_attempt"
        if is_lockout(outcome, row.detail):
            return "lockout"
    if row.event in SIGN_IN_EVENTS:
        if outcome == Outcome.THROTTLED:
            return "throttled_sign_in"
        if outcome not in SIGNED_IN:
            return "failed_sign_in"
        return None
    if row.event in EPCS_EVENTS and is_refusal(outcome):
        return "refused_permission"
    if row.event == Event.NPI_VERIFICATION and is_refusal(outcome):
        return "refused_image"
    if outcome != Outcome.OK:
        return None
    if row.event in FACTOR_EVENTS:
        return "factor_change"
    if row.event in PERMISSION_EVENTS:
        return "permission_change"
    if row.event in IMPORT_EVENTS:
        return "import"
    return None


ACCOUNT_FAILURES = ("failed_sign_in", "throttled_sign_in", "lockout", "reuse_attempt")


class DailyReview:
    def __init__(self, system: KioskSystem) -> None:
        self.system = system

    def yesterday(self) -> date:
        return utcnow(self.system.clock).date() - timedelta(days=1)

    def analyse(self, day: date) -> DailyReport:
        today = utcnow(self.system.clock).date()
        if day > today:
            # A day still to come has no rows to review, and a report of it could be signed off
            # before its rows exist (9999-12-31 also has no next day to end the query at).
            raise ReviewError(
                f"{day.isoformat()} has not begun yet (today is {today.isoformat()} UTC); "
                "a daily review is of a day that has begun.",
                hint="Give today or an earlier day: ipkiosk audit daily --date YYYY-MM-DD",
            )
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        q = (
            select(audit)
            .where(audit.c.at >= _stamp(start), audit.c.at < _stamp(start + timedelta(days=1)))
            .order_by(audit.c.seq)
        )
        with self.system.store.connect() as conn:
            rows = [AuditRow(**{f: getattr(r, f) for f in (*_FIELDS, "mac")}) for r in conn.execute(q)]
        findings = [(c, r) for r in rows if (c := categorize(r)) is not None]
        counts = {c: 0 for c in CATEGORIES} | dict(Counter(c for c, _ in findings))
        # Guesses inside the throttle's delay are part of the same burst against the account.
        failed = Counter(r.subject for c, r in findings if c in ACCOUNT_FAILURES)
        chain = self.system.audit.verify()
        return DailyReport(
            day, counts, findings, _incidents(findings, failed, chain), chain, len(rows), failed_by_account=dict(failed)
        )

    def run(self, day: date, reports_dir: Path, actor: str) -> DailyReport:
        """Analyse, write both files, record the report and audit that it ran."""
        report = self.analyse(day)
        reports_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem = f"audit-{day.isoformat()}"
        report.html_path = _write(reports_dir / f"{stem}.html", render_html(report, self.system.policy.kiosk_id))
        report.csv_path = _write(reports_dir / f"{stem}.csv", render_csv(report))
        now = self.system.clock.time()
        values = {
            "created_at": now,
            "html_path": str(report.html_path),
            "csv_path": str(report.csv_path),
            "incidents": len(report.incidents),
            "signed_off_by": None,
            "signed_off_at": None,
        }
        with self.system.store.begin() as conn:
            # Running a day again replaces its report, and a new report needs a new sign-off.
            done = conn.execute(update(audit_reports).where(audit_reports.c.day == day.isoformat()).values(**values))
            if done.rowcount == 0:
                conn.execute(audit_reports.insert().values(day=day.isoformat(), **values))
            self.system.audit.record(
                conn,
                Event.AUDIT_DAILY_REVIEW,
                actor=actor,
                subject="-",
                outcome=Outcome.INCIDENTS if report.incidents else Outcome.OK,
                detail=f"day={day.isoformat()} rows={report.rows_that_day} incidents={len(report.incidents)} "
                f"chain={'intact' if report.chain.intact else 'BROKEN'} head={report.chain.head_seq}",
            )
        return report

    def reports(self, *, unreviewed_only: bool = False) -> list[ReportRecord]:
        q = select(audit_reports).order_by(audit_reports.c.day.desc())
        if unreviewed_only:
            q = q.where(audit_reports.c.signed_off_by.is_(None))
        with self.system.store.connect() as conn:
            return [
                ReportRecord(
                    r.day, r.created_at, r.html_path, r.csv_path, r.incidents, r.signed_off_by, r.signed_off_at
                )
                for r in conn.execute(q)
            ]

    def sign_off(self, day: str, by: str, password: str, code: str | None) -> ReportRecord:
        """A designee (IT staff or a DEA registrant) signs that they reviewed the day's report."""
        key = _day_key(day)
        person = self.system.accounts.get(by)
        if person is None or not (person.role is Role.IT_STAFF or person.dea_registrant):
            raise ReviewError(f"'{by}' may not sign off audit reports; IT staff or a DEA registrant may.", "")
        record = next((r for r in self.reports() if r.day == key), None)
        if record is None:
            raise ReviewError(f"There is no daily audit report for {key}.")
        if record.signed_off_by:
            raise ReviewError(f"The report for {key} was already signed off by {record.signed_off_by}.", "")
        self.system.epcs.sign(person.username, password, code, need_token=False)
        now = self.system.clock.time()
        with self.system.store.begin() as conn:
            done = conn.execute(
                update(audit_reports)
                .where(audit_reports.c.day == key, audit_reports.c.signed_off_by.is_(None))
                .values(signed_off_by=person.username, signed_off_at=now)
            )
            if done.rowcount != 1:
                raise ReviewError(f"The report for {key} was signed off on another kiosk meanwhile.", "")
            self.system.audit.record(
                conn,
                Event.AUDIT_REPORT_SIGNOFF,
                actor=person.username,
                subject="-",
                outcome=Outcome.OK,
                detail=f"day={key} incidents={record.incidents}",
            )
        return next(r for r in self.reports() if r.day == key)


def _day_key(text: str) -> str:
    # Accept the day or the report's file name (audit-YYYY-MM-DD.html).
    stem = Path(text).name.removeprefix("audit-").split(".")[0]
    try:
        return date.fromisoformat(stem).isoformat()
    except ValueError:
        raise ReviewError(f"'{text}' names no day; give YYYY-MM-DD or the report's file name.") from None


def _incidents(findings: list[tuple[str, AuditRow]], failed: Counter[str], chain: ChainReport) -> list[str]:
    incidents = []
    if not chain.intact:
        incidents.append(f"AUDIT CHAIN BROKEN at row {chain.first_bad_seq}: {chain.problem}")
    for category, row in findings:
        if category == "reuse_attempt":
            incidents.append(f"{row.at} code reuse attempt on {row.serial or '-'} for {row.subject} (replay?)")
        elif category == "lockout":
            incidents.append(f"{row.at} lock-out: {row.subject} {row.serial or 'account'}")
        elif category == "refused_permission":
            incidents.append(f"{row.at} EPCS change refused ({row.outcome}) by {row.actor} for {row.subject}")
        elif category == "refused_image" and row.outcome in (Outcome.REFUSED_OTHER_USER, Outcome.REFUSED_BAD_SIGNATURE):
            incidents.append(f"{row.at} enrollment image refused ({row.outcome}) for {row.subject}")
        elif category == "permission_change" and row.event == Event.EPCS_SUSPEND:
            incidents.append(f"{row.at} EPCS permission of {row.subject} suspended: {row.detail}")
    incidents += [f"{n} failed sign-ins for {who}" for who, n in failed.items() if n >= FAILED_SIGNIN_ALERT]
    return incidents


def render_csv(report: DailyReport) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["category", "seq", "at", "event", "actor", "subject", "method", "serial", "outcome", "detail"])
    for category, r in report.findings:
        w.writerow([category, r.seq, r.at, r.event, r.actor, r.subject, r.method, r.serial, r.outcome, r.detail])
    return out.getvalue()


def render_html(report: DailyReport, kiosk_id: str) -> str:
    e = html.escape
    chain = report.chain
    counts = "".join(f"<tr><th>{e(c.replace('_', ' '))}</th><td>{n}</td></tr>" for c, n in report.counts.items())
    incidents = "".join(f"<li>{e(i)}</li>" for i in report.incidents) or "<li>none</li>"
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(v))}</td>"
            for v in (c, r.seq, r.at, r.event, r.actor, r.subject, r.serial, r.outcome, r.detail)
        )
        + "</tr>"
        for c, r in report.findings
    )
    status = (
        f"intact: {chain.rows} rows, head {chain.head_seq} {e(chain.head_mac)}"
        if chain.intact
        else f"BROKEN at row {chain.first_bad_seq}: {e(chain.problem)}"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Daily audit review {report.day}</title>
<style>body{{font-family:sans-serif}} table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:2px 6px;text-align:left}}</style>
</head><body>
<h1>Daily audit review {report.day} (UTC)</h1>
<p>Kiosk {e(kiosk_id)}. {report.rows_that_day} audit rows that day.
21 CFR 1311.150: review, act on each incident, then sign off
(<code>ipkiosk audit signoff {report.day} --by USERNAME</code>).</p>
<h2>Incidents ({len(report.incidents)})</h2><ul>{incidents}</ul>
<h2>Audit chain</h2><p>{status}</p>
<h2>Counts</h2><table>{counts}</table>
<h2>Details</h2><table><tr><th>category</th><th>seq</th><th>at</th><th>event</th><th>actor</th><th>subject</th>
<th>serial</th><th>outcome</th><th>detail</th></tr>{rows}</table>
</body></html>
"""


def _write(path: Path, text: str) -> Path:
    """Write atomically, readable by the kiosk's user only (docs/security.md rule 29)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
