"""Notifications of binding (NIST SP 800-63B-4 4.1.2.1, 4.6; 4.2.1.1 for backup codes).

Every new binding, revocation, replacement, new backup-code set and EPCS permission change tells
the provider by email, so someone who did not make the change hears of it. The message is
queued in the `outbox` table by a listener on the audit trail: every such change writes its
audit row in the transaction that makes it, so the message commits with the change or not at
all, and no path (kiosk, CLI, IT screen) can forget it. Delivery happens later: mail being down
never fails a binding, and a queued message survives a restart.

A message never carries a secret: only the event, the serial, the time and the kiosk.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, func, select, update

from core.audit import AuditRow
from core.clock import Clock
from core.errors import KioskError
from core.errors import NotificationError as NotificationError  # defined there; kiosk/mail.py imports it from here
from core.schema import accounts, outbox
from core.store import Store

SMTP_PASSWORD = "smtp-password"  # noqa: S105 - the keyring name, not a password
CLAIM_SECONDS = 120.0  # a sender that dies mid-delivery frees its messages after this
MAX_BACKOFF = 3600.0

# event -> (subject, what happened). Serial and time are filled in; nothing secret exists here.
NOTICES: dict[str, tuple[str, str]] = {
    "bind": ("New sign-in factor bound", "A new second factor ({what}) was bound to your account."),
    "assign": ("New sign-in factor bound", "IT staff bound a hardware token ({what}) to your account."),
    "replace": ("Sign-in factor replaced", "Your hardware token was replaced; the new one is {what}."),
    "revoke": ("Sign-in factor revoked", "Your second factor {what} was revoked and no longer works."),
    "backup_codes_issued": (
        "New backup codes issued",
        "A new set of backup codes was issued for your account; any earlier codes stopped working.",
    ),
    "epcs_grant": (
        "EPCS permission entered",
        "A grant of permission to sign controlled-substance prescriptions was entered for you and waits for approval.",
    ),
    "epcs_approve": (
        "EPCS permission granted",
        "Your permission to sign controlled-substance prescriptions was approved.",
    ),
    "epcs_revoke": (
        "EPCS permission revoked",
        "Your permission to sign controlled-substance prescriptions was revoked.",
    ),
    "epcs_suspend": (
        "EPCS permission suspended",
        "Your permission to sign controlled-substance prescriptions was suspended because no "
        "second factor is bound to your account any more.",
    ),
}


@dataclass(frozen=True)
class Notice:
    id: int
    created_at: float
    username: str
    to_addr: str | None
    event: str
    subject: str
    body: str
    attempts: int
    last_error: str
    next_attempt_at: float
    sent_at: float | None

    @property
    def state(self) -> str:
        if self.sent_at is not None:
            return "sent"
        return "waiting" if self.attempts == 0 else "retrying"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": _iso(self.created_at),
            "username": self.username,
            "to": self.to_addr,
            "event": self.event,
            "subject": self.subject,
            "state": self.state,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "next_attempt_at": _iso(self.next_attempt_at),
            "sent_at": _iso(self.sent_at),
        }


@dataclass
class FlushReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    no_address: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "no_address": self.no_address}


class Sender(Protocol):
    def deliver(self, message: EmailMessage) -> None:
        """Hand the message on or raise (OSError, smtplib.SMTPException, NotificationError)."""
        ...


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _notice(row: Any) -> Notice:
    return Notice(
        row.id,
        row.created_at,
        row.username,
        row.to_addr,
        row.event,
        row.subject,
        row.body,
        row.attempts,
        row.last_error or "",
        row.next_attempt_at,
        row.sent_at,
    )


class Outbox:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- queueing (inside the change's transaction) ----------------------------------------

    def on_audit(self, conn: Connection, row: AuditRow) -> None:
        """Audit listener: queue the provider's notice for a change that went through."""
        if row.outcome != "ok" or row.event not in NOTICES or row.subject in ("", "-"):
            return
        subject, what = NOTICES[row.event]
        serial = f"serial {row.serial}" if row.serial else (row.method or "")
        body = "\n".join(
            [
                "Hello,",
                "",
                what.format(what=serial or "see your IT administrator"),
                "",
                f"Account: {row.subject}",
                f"When: {row.at} (UTC)",
                f"Where: kiosk {row.kiosk_id}",
                "",
                "If you did not make or expect this change, contact your IT administrator at once:",
                "someone else may be using your account.",
                "",
                "This message was sent automatically; it never contains a password or a code.",
            ]
        )
        self.queue(conn, row.subject, row.event, f"iPrescribe: {subject}", body)

    def queue(self, conn: Connection, username: str, event: str, subject: str, body: str) -> None:
        email = conn.execute(select(accounts.c.email).where(accounts.c.username == username)).scalar_one_or_none()
        now = self.clock.time()
        conn.execute(
            outbox.insert().values(
                created_at=now,
                username=username,
                to_addr=email,
                event=event,
                subject=subject,
                body=body,
                attempts=0,
                last_error="",
                next_attempt_at=now,
            )
        )

    # -- reading ---------------------------------------------------------------------------

    def notices(self, *, pending_only: bool = False, limit: int | None = None) -> list[Notice]:
        q = select(outbox).order_by(outbox.c.id.desc())
        if pending_only:
            q = q.where(outbox.c.sent_at.is_(None))
        if limit:
            q = q.limit(limit)
        with self.store.connect() as conn:
            return [_notice(r) for r in conn.execute(q)]

    def pending_count(self) -> int:
        with self.store.connect() as conn:
            q = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            return int(conn.execute(q).scalar_one())

    # -- delivering ------------------------------------------------------------------------

    def flush(self, sender: Sender, from_addr: str, *, force: bool = False) -> FlushReport:
        """Deliver every message that is due (all waiting ones with `force`); each is claimed
        first, so two kiosks flushing one store do not both send it."""
        report = FlushReport()
        now = self.clock.time()
        q = select(outbox.c.id).where(outbox.c.sent_at.is_(None))
        if not force:
            q = q.where(outbox.c.next_attempt_at <= now)
        with self.store.connect() as conn:
            due = list(conn.execute(q.order_by(outbox.c.id)).scalars())
        for notice_id in due:
            notice = self._claim(notice_id)
            if notice is None:
                continue
            to_addr = notice.to_addr or self._address_now(notice.username)
            if not to_addr:
                self._failed(notice, "no email address on the account (ipkiosk users set USERNAME --email ADDR)")
                report.no_address.append(notice.id)
                continue
            try:
                sender.deliver(self.message(notice, from_addr, to_addr))
            except (OSError, smtplib.SMTPException, NotificationError) as exc:
                self._failed(notice, _describe(exc))
                report.failed.append(notice.id)
                continue
            with self.store.begin() as conn:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == notice.id)
                    .values(sent_at=self.clock.time(), to_addr=to_addr, claimed_until=None, last_error="")
                )
            report.sent.append(notice.id)
        return report

    def message(self, notice: Notice, from_addr: str, to_addr: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = from_addr
        msg["To"] = to_addr
        msg["Subject"] = notice.subject
        msg["Date"] = format_datetime(datetime.fromtimestamp(notice.created_at, tz=UTC))
        domain = from_addr.rpartition("@")[2] or "ipkiosk.invalid"
        msg["Message-ID"] = make_msgid(idstring=f"ipkiosk-{notice.id}", domain=domain)
        msg.set_content(notice.body)
        return msg

    def _claim(self, notice_id: int) -> Notice | None:
        now = self.clock.time()
        with self.store.begin() as conn:
            done = conn.execute(
                update(outbox)
                .where(
                    outbox.c.id == notice_id,
                    outbox.c.sent_at.is_(None),
                    (outbox.c.claimed_until.is_(None)) | (outbox.c.claimed_until < now),
                )
                .values(claimed_until=now + CLAIM_SECONDS)
            )
            if done.rowcount != 1:
                return None
            return _notice(conn.execute(select(outbox).where(outbox.c.id == notice_id)).one())

    def _address_now(self, username: str) -> str | None:
        with self.store.connect() as conn:
            q = select(accounts.c.email).where(accounts.c.username == username)
            email: str | None = conn.execute(q).scalar_one_or_none()
            return email

    def _failed(self, notice: Notice, error: str) -> None:
        attempts = notice.attempts + 1
        delay = min(60.0 * 2 ** min(attempts - 1, 10), MAX_BACKOFF)
        with self.store.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == notice.id)
                .values(
                    attempts=attempts,
                    last_error=error[:500],
                    next_attempt_at=self.clock.time() + delay,
                    claimed_until=None,
                )
            )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KioskError):
        return exc.message
    return f"{type(exc).__name__}: {exc}".strip()


class SmtpSender:
    """Delivery over SMTP, with STARTTLS (verified certificate) unless switched off."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.tls_context = tls_context

    def deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=self.tls_context or ssl.create_default_context())
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class EmlDirectory:
    """The demo's mail server: each message is a .eml file to open in any mail reader."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def deliver(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem = str(message["Message-ID"]).strip("<>").split("@")[0]
        target = self.directory / f"{stem}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(message.as_bytes())
        os.replace(tmp, target)
