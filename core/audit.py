"""The audit trail: append-only rows chained by HMAC.

Each row's MAC covers its own fields and the previous row's MAC, keyed with `audit-key` from the
keyring, so editing, inserting or deleting a row breaks the chain from that row on. The newest
(seq, mac) is also kept in `audit_head`; truncating the tail together with the head cannot be
seen from inside the store, so `verify` returns the head for IT staff to compare with an
external copy (e.g. the daily report).

Rows never hold a secret: callers pass events, names, serials and outcomes only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from core.clock import Clock, utcnow
from core.errors import NameTooLong, StoreError
from core.events import Event
from core.schema import NAME_MAX, audit, audit_head
from core.store import Store

GENESIS = "0" * 64
_FIELDS = ("seq", "at", "event", "actor", "subject", "method", "serial", "outcome", "detail", "kiosk_id")


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: str
    event: str
    actor: str
    subject: str
    method: str
    serial: str
    outcome: str
    detail: str
    kiosk_id: str
    mac: str

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in (*_FIELDS, "mac")}


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    rows: int
    head_seq: int
    head_mac: str
    first_bad_seq: int | None = None
    problem: str = ""


TOO_LONG_MARK = "..."


def fit_name(name: str) -> str:
    """A name as an audit row can hold it: cut to NAME_MAX and marked, so a hostile over-long
    username is still audited (and visibly not a real one: no account name holds '...')."""
    if len(name) <= NAME_MAX:
        return name
    return name[: NAME_MAX - len(TOO_LONG_MARK)] + TOO_LONG_MARK


def check_kiosk_id(kiosk_id: str) -> str:
    if not kiosk_id.strip():
        raise NameTooLong("The kiosk id is empty.", "Set kiosk_id in the kiosk configuration.")
    if len(kiosk_id) > NAME_MAX:
        raise NameTooLong(
            f"The kiosk id is {len(kiosk_id)} characters; at most {NAME_MAX} are allowed.",
            "Set a shorter kiosk_id in the kiosk configuration.",
        )
    return kiosk_id


def _mac(key: bytes, prev: str, fields: dict[str, Any]) -> str:
    body = json.dumps([fields[f] for f in _FIELDS], ensure_ascii=True, separators=(",", ":"))
    return hmac.new(key, (prev + body).encode("ascii"), hashlib.sha256).hexdigest()


class AuditTrail:
    def __init__(self, store: Store, key: bytes, clock: Clock, kiosk_id: str) -> None:
        self.store = store
        self._key = key
        self.clock = clock
        self.kiosk_id = check_kiosk_id(kiosk_id)
        # Called with each row inside its transaction (the outbox queues notices this way).
        self.listeners: list[Callable[[Connection, AuditRow], None]] = []

    def record(
        self,
        conn: Connection,
        event: Event,
        *,
        actor: str,
        subject: str,
        outcome: str,
        method: str = "",
        serial: str = "",
        detail: str = "",
    ) -> AuditRow:
        """Append one row inside the caller's transaction, so the row and the change it
        describes commit together."""
        head = conn.execute(
            select(audit_head.c.seq, audit_head.c.mac).where(audit_head.c.id == 1).with_for_update()
        ).first()
        if head is None:  # made by the store's migration; gone only if someone deleted it
            raise StoreError(
                "The audit trail's head row is missing.",
                hint="Run `ipkiosk audit verify` and tell your security officer.",
            )
        prev_seq, prev_mac = head.seq, head.mac
        fields = {
            "seq": prev_seq + 1,
            "at": utcnow(self.clock).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "event": event,
            "actor": fit_name(actor or "-"),
            "subject": fit_name(subject or "-"),
            "method": method,
            "serial": serial,
            "outcome": outcome,
            "detail": detail,
            "kiosk_id": self.kiosk_id,
        }
        mac = _mac(self._key, prev_mac, fields)
        conn.execute(audit.insert().values(**fields, mac=mac))
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=fields["seq"], mac=mac))
        row = AuditRow(**fields, mac=mac)
        for listener in self.listeners:
            listener(conn, row)
        return row

    def log(
        self,
        event: Event,
        *,
        actor: str,
        subject: str,
        outcome: str,
        method: str = "",
        serial: str = "",
        detail: str = "",
    ) -> AuditRow:
        """Append in a transaction of its own (for events with no other change)."""
        with self.store.begin() as conn:
            return self.record(
                conn, event, actor=actor, subject=subject, outcome=outcome, method=method, serial=serial, detail=detail
            )

    def verify(self) -> ChainReport:
        prev = GENESIS
        expected_seq = 1
        count = 0
        with self.store.connect() as conn:
            for row in conn.execute(select(audit).order_by(audit.c.seq)):
                fields = {f: getattr(row, f) for f in _FIELDS}
                if row.seq != expected_seq:
                    return ChainReport(False, count, row.seq, row.mac, expected_seq, f"row {expected_seq} is missing")
                if not hmac.compare_digest(_mac(self._key, prev, fields), row.mac):
                    return ChainReport(False, count, row.seq, row.mac, row.seq, f"row {row.seq} was changed")
                prev = row.mac
                expected_seq += 1
                count += 1
            head = conn.execute(select(audit_head.c.seq, audit_head.c.mac)).first()
        head_seq, head_mac = (head.seq, head.mac) if head else (0, GENESIS)
        if head_seq != count or head_mac != prev:
            return ChainReport(False, count, head_seq, head_mac, count + 1, "rows after the last one were removed")
        return ChainReport(True, count, head_seq, head_mac)

    def rows(
        self,
        *,
        since: datetime | None = None,
        user: str | None = None,
        event: str | None = None,
        events: Sequence[str] | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> Iterator[AuditRow]:
        q = select(audit)
        if since is not None:
            q = q.where(audit.c.at >= since.isoformat(timespec="seconds").replace("+00:00", "Z"))
        if user:
            q = q.where((audit.c.actor == user) | (audit.c.subject == user))
        if event:
            q = q.where(audit.c.event == event)
        if events:
            q = q.where(audit.c.event.in_(list(events)))
        q = q.order_by(audit.c.seq.desc() if newest_first else audit.c.seq)
        if limit:
            q = q.limit(limit)
        with self.store.connect() as conn:
            result = [AuditRow(**{f: getattr(r, f) for f in (*_FIELDS, "mac")}) for r in conn.execute(q)]
        yield from result

    def count(self) -> int:
        with self.store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit)).scalar_one())
