"""Throttling password guesses (NIST SP 800-63B 5.2.2): a growing delay per account and per kiosk.

An attempt is *reserved* before its password is checked: in one short transaction the account's
and the kiosk's failure counts are read under a row lock and, when neither is in its delay, both
are incremented as if the attempt failed. Only then does the slow argon2 check run, outside any
transaction; a correct password gives the reservation back. So however many kiosks guess at once,
each attempt is counted exactly once and no more attempts are checked than the delay allows.

An account is locked only at `lock_at` consecutive failures (at most 100); until then a stranger
who knows a username can slow its owner down by a minute at most, never lock them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, case, delete, select, update

from core.clock import Clock
from core.schema import accounts, signin_throttle

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

ACCOUNT = "account"
KIOSK = "kiosk"


@dataclass(frozen=True)
class Lockout:
    """Failures allowed without delay, then a delay doubling from `base_delay` up to `max_delay`
    seconds. A kiosk's count starts over after `kiosk_quiet` seconds without a failure; an
    account's only after a correct password or an unlock by IT staff."""

    account_free: int = 3
    kiosk_free: int = 10
    base_delay: float = 1.0
    max_delay: float = 60.0
    kiosk_quiet: float = 15 * 60.0
    lock_at: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.lock_at <= 100:
            raise ValueError("an account locks after 1 to 100 failed sign-ins (NIST SP 800-63B 5.2.2)")

    def delay(self, failures: int, free: int) -> float:
        if failures < free:
            return 0.0
        return float(min(self.max_delay, self.base_delay * 2 ** min(failures - free, 32)))


@dataclass(frozen=True)
class Reservation:
    allowed: bool  # False: in a delay; the password must not be checked
    account_failures: int  # after this attempt, were it to fail
    locked_now: bool  # this attempt's failure reached lock_at
    at: float = 0.0  # when it was reserved
    kiosk_before: float | None = None  # the kiosk's last failure before this attempt


def _insert(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    # Each dialect's module only when its store is in use: a command that never signs anyone in
    # (the token listing) need not import the PostgreSQL one on a SQLite kiosk.
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(signin_throttle)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(signin_throttle)


def _row(conn: Connection, scope: str, name: str) -> tuple[int, float | None]:
    conn.execute(
        _insert(conn)
        .values(scope=scope, name=name, failures=0, last_failure_at=None)
        .on_conflict_do_nothing(index_elements=["scope", "name"])
    )
    row = conn.execute(
        select(signin_throttle.c.failures, signin_throttle.c.last_failure_at)
        .where(signin_throttle.c.scope == scope, signin_throttle.c.name == name)
        .with_for_update()
    ).one()
    return int(row.failures), row.last_failure_at


def _wait(last_failure_at: float | None, delay: float, now: float) -> float:
    return 0.0 if last_failure_at is None or delay <= 0 else last_failure_at + delay - now


def _set(conn: Connection, scope: str, name: str, failures: int, at: float | None) -> None:
    conn.execute(
        update(signin_throttle)
        .where(signin_throttle.c.scope == scope, signin_throttle.c.name == name)
        .values(failures=failures, last_failure_at=at)
    )


class Throttle:
    def __init__(self, lockout: Lockout, kiosk_id: str) -> None:
        self.lockout = lockout
        self.kiosk_id = kiosk_id

    def reserve(self, conn: Connection, username: str | None, clock: Clock) -> Reservation:
        """Count this attempt as failed, unless the account or kiosk is in its delay.

        `username` is None for a name no account can have (too long, bad characters): only the
        kiosk is counted. Locks the rows in one order (account, kiosk) so kiosks never deadlock.
        The time is read once the rows are locked: read before, a kiosk that waited for the
        lock would find the last failure in its future and wait for nothing."""
        lo = self.lockout
        account_failures, account_at = _row(conn, ACCOUNT, username) if username is not None else (0, None)
        kiosk_failures, kiosk_at = _row(conn, KIOSK, self.kiosk_id)
        now = clock.time()
        account_wait = _wait(account_at, lo.delay(account_failures, lo.account_free), now)
        if kiosk_at is not None and now - kiosk_at >= lo.kiosk_quiet:
            kiosk_failures = 0
        kiosk_wait = _wait(kiosk_at, lo.delay(kiosk_failures, lo.kiosk_free), now)
        if account_wait > 0 or kiosk_wait > 0:
            return Reservation(False, account_failures, False)
        _set(conn, KIOSK, self.kiosk_id, kiosk_failures + 1, now)
        if username is None:
            return Reservation(True, 0, False, now, kiosk_at)
        failures = account_failures + 1
        _set(conn, ACCOUNT, username, failures, now)
        values: dict[str, int] = {"failed_signins": failures}
        if failures >= lo.lock_at:
            values["locked"] = 1  # an integer column on every store: never a boolean expression
        conn.execute(update(accounts).where(accounts.c.username == username).values(**values))
        return Reservation(True, failures, failures == lo.lock_at, now, kiosk_at)

    def release(self, conn: Connection, username: str, reservation: Reservation, *, account: bool = True) -> None:
        """The password was right: the kiosk gets its attempt back (and its delay, unless a later
        failure came in meanwhile), and unless the account is locked (IT staff must look first)
        the account's count starts over."""
        if account:
            # Start over from this attempt: failures reserved before it go, those reserved after
            # it (still in flight on other kiosks) stay counted, each exactly once.
            k = reservation.account_failures
            t = signin_throttle.c
            conn.execute(
                update(signin_throttle)
                .where(t.scope == ACCOUNT, t.name == username)
                .values(
                    failures=case((t.failures > k, t.failures - k), else_=0),
                    last_failure_at=case((t.failures > k, t.last_failure_at), else_=None),
                )
            )
            left = select(t.failures).where(t.scope == ACCOUNT, t.name == username).scalar_subquery()
            conn.execute(update(accounts).where(accounts.c.username == username).values(failed_signins=left))
        mine = and_(signin_throttle.c.scope == KIOSK, signin_throttle.c.name == self.kiosk_id)
        conn.execute(
            update(signin_throttle)
            .where(mine, signin_throttle.c.failures > 0)
            .values(
                failures=signin_throttle.c.failures - 1,
                last_failure_at=case(
                    (signin_throttle.c.last_failure_at == reservation.at, reservation.kiosk_before),
                    else_=signin_throttle.c.last_failure_at,
                ),
            )
        )


def forget_account(conn: Connection, username: str) -> None:
    """IT staff unlocked the account: its delay ends with its count."""
    conn.execute(delete(signin_throttle).where(signin_throttle.c.scope == ACCOUNT, signin_throttle.c.name == username))
