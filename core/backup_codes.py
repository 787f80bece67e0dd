"""Backup codes: 10 single-use codes of 80 random bits each, stored as argon2id hashes.

Shown once when issued; a new set invalidates the old one (docs/security.md rule 14). Codes use
Crockford's base32 alphabet (no I, L, O, U) in groups of four so they read aloud and type well.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, func, select, update

from core.clock import Clock
from core.hashing import check_secret, hash_secret
from core.schema import backup_codes
from core.store import Store

COUNT = 10
LENGTH = 16  # 16 symbols x 5 bits = 80 bits, above the 64 the rules ask for
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalize(code: str) -> str | None:
    cleaned = code.upper().replace("-", "").replace(" ", "").translate(_CONFUSABLE)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


class BackupUse(StrEnum):
    ACCEPTED = "accepted"
    REUSED = "reused"  # a code of the current set, already used
    WRONG = "wrong"  # no code of the current set


@dataclass(frozen=True)
class BackupMatch:
    code_id: int | None  # the matching code's row, or None
    used: bool


def looks_like_backup_code(code: str) -> bool:
    return normalize(code) is not None


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


class BackupCodes:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def issue(self, conn: Connection, username: str) -> list[str]:
        """A fresh set; every earlier code of this user stops working in the same transaction."""
        conn.execute(
            update(backup_codes)
            .where(backup_codes.c.username == username, backup_codes.c.invalidated == 0)
            .values(invalidated=1)
        )
        set_id = uuid.uuid4().hex
        codes = [_new_code() for _ in range(COUNT)]
        now = self.clock.time()
        conn.execute(
            backup_codes.insert(),
            [
                {
                    "username": username,
                    "set_id": set_id,
                    "code_hash": hash_secret(normalize(c) or ""),
                    "created_at": now,
                    "invalidated": 0,
                }
                for c in codes
            ],
        )
        return codes

    def match(self, username: str, code: str) -> BackupMatch:
        """Which code of the user's current set this is, if any. The argon2 checks (one per code)
        run here, outside any write transaction; `claim` then marks the code used."""
        cleaned = normalize(code)
        if cleaned is None:
            return BackupMatch(None, used=False)
        with self.store.connect() as conn:
            rows = conn.execute(
                select(backup_codes.c.id, backup_codes.c.code_hash, backup_codes.c.used_at)
                .where(backup_codes.c.username == username, backup_codes.c.invalidated == 0)
                .order_by(backup_codes.c.used_at.is_not(None), backup_codes.c.id)  # unused first
            ).all()
        for row in rows:
            if check_secret(row.code_hash, cleaned):
                return BackupMatch(int(row.id), used=row.used_at is not None)
        return BackupMatch(None, used=False)

    def claim(self, conn: Connection, found: BackupMatch) -> BackupUse:
        """Mark a matched code used, by a conditional UPDATE: of two kiosks presenting the same
        code, one gets ACCEPTED and the other REUSED."""
        if found.code_id is None:
            return BackupUse.WRONG
        if found.used:
            return BackupUse.REUSED
        result = conn.execute(
            update(backup_codes)
            .where(
                backup_codes.c.id == found.code_id,
                backup_codes.c.used_at.is_(None),
                backup_codes.c.invalidated == 0,
            )
            .values(used_at=self.clock.time())
        )
        return BackupUse.ACCEPTED if result.rowcount == 1 else BackupUse.REUSED

    def use(self, username: str, code: str) -> BackupUse:
        """match, then claim in a short transaction of its own."""
        found = self.match(username, code)
        with self.store.begin() as conn:
            return self.claim(conn, found)

    def ever_issued(self, conn: Connection, username: str) -> bool:
        q = select(backup_codes.c.id).where(backup_codes.c.username == username).limit(1)
        return conn.execute(q).first() is not None

    def remaining(self, username: str, conn: Connection | None = None) -> int:
        q = (
            select(func.count())
            .select_from(backup_codes)
            .where(
                backup_codes.c.username == username,
                backup_codes.c.invalidated == 0,
                backup_codes.c.used_at.is_(None),
            )
        )
        if conn is not None:
            return int(conn.execute(q).scalar_one())
        with self.store.connect() as c:
            return int(c.execute(q).scalar_one())
