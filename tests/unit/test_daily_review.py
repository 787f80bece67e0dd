"""The daily audit analysis (1311.150(b)-(c)): counts for one UTC day, incidents, files, sign-off."""

from __future__ import annotations

import csv
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from core.admin import Administration
from core.audit import AuditRow
from core.daily_review import DailyReview, categorize
from core.errors import AuthenticationFailed, CodeRefused, ReviewError
from core.events import LEGACY_TOKEN_LOCKED_DETAIL, Event, Outcome
from core.otp import MAX_FAILURES
from core.schema import audit
from tests.conftest import PASSWORD, World

DAY = date(2023, 11, 14)  # the fixtures' clock starts at 2023-11-14T22:13:20Z


def scene(world: World) -> None:
    """On DAY: 2 failed sign-ins for ana, 5 for ben, a code reuse, a binding, a revocation and an
    ID check; the next day: one more failure that DAY's report must not count."""
    system = world.system
    for who, times in (("ana", 2), ("ben", 5)):
        for _ in range(times):
            with pytest.raises(AuthenticationFailed):
                system.signin.sign_in(who, "not the password")
            world.clock.advance(61)  # past the growing per-account delay: each guess is evaluated
    admin = Administration(system, "ivy")
    admin.assign("T1", "ana")
    world.clock.advance(30)
    code = system.tokens.code_now("T1")[0]
    system.signin.sign_in("ana", PASSWORD, code)
    with pytest.raises(CodeRefused):
        system.signin.sign_in("ana", PASSWORD, code)
    system.proofing.record("raj", "ivy", document_type="passport", last4="9876")
    admin.revoke("T1", "lost")
    world.clock.advance(2 * 3600)  # past midnight UTC
    with pytest.raises(AuthenticationFailed):
        system.signin.sign_in("ana", "not the password")


def test_counts_incidents_and_files_for_one_day(world: World, tmp_path: Path) -> None:
    scene(world)
    review = DailyReview(world.system)
    assert review.yesterday() == DAY
    report = review.run(DAY, tmp_path / "reports", "cli:test")
    c = report.counts
    assert c["failed_sign_in"] == 7 and c["reuse_attempt"] == 1
    assert c["factor_change"] == 2 and c["permission_change"] == 1 and c["lockout"] == 0
    assert report.failed_by_account == {"ana": 3, "ben": 5}  # ana: 2 passwords + the reuse
    assert report.chain.intact
    assert any("reuse" in i and "T1" in i for i in report.incidents)
    assert "5 failed sign-ins for ben" in report.incidents
    assert not any("for ana" in i and "failed sign-ins" in i for i in report.incidents)
    assert report.html_path is not None and report.csv_path is not None
    with report.csv_path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == sum(c.values())
    assert {r["category"] for r in rows} == {"failed_sign_in", "reuse_attempt", "factor_change", "permission_change"}
    page = report.html_path.read_text()
    assert "5 failed sign-ins for ben" in page and "intact" in page
    assert stat.S_IMODE(report.html_path.stat().st_mode) == 0o600
    ran = next(world.system.audit.rows(event="audit_daily_review"))
    assert ran.outcome == "incidents" and "day=2023-11-14" in ran.detail
    assert PASSWORD not in page and "not the password" not in page


def test_a_broken_chain_is_an_incident(world: World, tmp_path: Path) -> None:
    scene(world)
    with world.system.store.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 3).values(outcome="ok"))
    report = DailyReview(world.system).run(DAY, tmp_path, "cli:test")
    assert not report.chain.intact and report.incidents[0].startswith("AUDIT CHAIN BROKEN at row 3")


def test_sign_off_by_a_designee_once(world: World, tmp_path: Path) -> None:
    scene(world)
    review = DailyReview(world.system)
    review.run(DAY, tmp_path, "cli:test")
    assert [r.day for r in review.reports(unreviewed_only=True)] == ["2023-11-14"]
    with pytest.raises(ReviewError):
        review.sign_off("2023-11-14", "ben", PASSWORD, None)  # a provider, not a designee
    with pytest.raises(ReviewError):
        review.sign_off("2023-11-13", "ivy", PASSWORD, None)  # no such report
    record = review.sign_off("audit-2023-11-14.html", "ivy", PASSWORD, None)
    assert record.signed_off_by == "ivy" and record.signed_off_at is not None
    assert review.reports(unreviewed_only=True) == []
    with pytest.raises(ReviewError):
        review.sign_off("2023-11-14", "ivy", PASSWORD, None)
    row = next(world.system.audit.rows(event="audit_report_signoff"))
    assert row.actor == "ivy" and "day=2023-11-14" in row.detail
    # Running the day again makes a new report, which needs its own sign-off.
    review.run(DAY, tmp_path, "cli:test")
    assert [r.day for r in review.reports(unreviewed_only=True)] == ["2023-11-14"]


def test_guesses_inside_the_delay_count_as_throttled(world: World, tmp_path: Path) -> None:
    # Five wrong passwords at once: the account's first free failures are evaluated, the rest
    # arrive inside the growing delay and are throttled; the report tells the two apart.
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            world.system.signin.sign_in("ben", "not the password")
    c = DailyReview(world.system).run(DAY, tmp_path, "cli:test").counts
    free = world.system.policy.lockout.account_free
    assert c["failed_sign_in"] == free and c["throttled_sign_in"] == 5 - free


def row(event: str, outcome: str, detail: str = "") -> AuditRow:
    return AuditRow(1, "2023-11-14T10:00:00Z", event, "ivy", "ana", "", "T1", outcome, detail, "k1", "0" * 64)


def test_a_sign_in_that_locks_the_token_is_a_lockout_by_its_outcome(world: World) -> None:
    system = world.system
    Administration.for_cli(system).assign("T1", "ana")
    world.clock.advance(30)
    good = system.tokens.code_now("T1")[0]
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"  # the manual clock makes this one fixed wrong code
    for _ in range(MAX_FAILURES):
        with pytest.raises(CodeRefused):
            system.signin.sign_in("ana", PASSWORD, wrong)
        world.clock.advance(61)
    rows = list(system.audit.rows(event=Event.SIGN_IN))
    assert [r.outcome for r in rows][-1] == Outcome.TOKEN_LOCKED
    assert categorize(rows[-1]) == "lockout" and rows[-1].detail == "diagnosis=wrong"
    assert {categorize(r) for r in rows[:-1]} == {"failed_sign_in"}


def test_the_categories_come_from_events_and_outcomes_not_the_detail_text() -> None:
    assert categorize(row(Event.SIGN_IN, Outcome.REFUSED_REUSED)) == "reuse_attempt"
    assert categorize(row(Event.SIGN_IN, Outcome.ACCOUNT_LOCKED)) == "lockout"
    assert categorize(row(Event.SIGN_IN, Outcome.REFUSED_LOCKED)) == "lockout"
    assert categorize(row(Event.SIGN_IN, Outcome.THROTTLED)) == "throttled_sign_in"
    assert categorize(row(Event.SIGN_IN, Outcome.CODE_REQUIRED)) is None
    assert categorize(row(Event.EPCS_APPROVE, Outcome.refused("not_registrant"))) == "refused_permission"
    assert categorize(row(Event.NPI_VERIFICATION, Outcome.REFUSED_OTHER_USER)) == "refused_image"
    assert categorize(row(Event.ASSIGN, Outcome.OK)) == "factor_change"
    # A reason typed by IT staff lands in detail: it says nothing about a lock-out.
    revoke = row(Event.EPCS_REVOKE, Outcome.refused("changed"), "reason=token locked in a drawer, lost")
    assert categorize(revoke) == "refused_permission"
    # Rows written before Outcome.TOKEN_LOCKED said it with a fixed detail; they still count.
    assert categorize(row(Event.SIGN_IN, Outcome.REFUSED_WRONG, LEGACY_TOKEN_LOCKED_DETAIL)) == "lockout"
