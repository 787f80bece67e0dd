"""Backup codes: 10 single-use codes of 80 random bits each, stored as argon2id hashes.

Shown once when issued; a new set invalidates the old one (security rule 14). Codes use
Crockford's base32 alphabet (no I, L, O, U) in groups of four so they read aloud and type well.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import Connection, func, select, update

from core.clock import Clock
from core.hashing import check_secret, hash_secret
from core.store import Store, backup_codes

COUNT = 10
LENGTH = 16  # 16 symbols x 5 bits = 80 bits, above the 64 the rules ask for
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalize(code: str) -> str | None:
    cleaned = code.upper().replace("-", "").replace(" ", "").translate(_CONFUSABLE)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


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

    def use(self, conn: Connection, username: str, code: str) -> bool:
        """True once per code: the matching row is marked used by a conditional UPDATE, so two
        kiosks presenting the same code cannot both succeed."""
        cleaned = normalize(code)
        if cleaned is None:
            return False
        rows = conn.execute(
            select(backup_codes.c.id, backup_codes.c.code_hash).where(
                backup_codes.c.username == username,
                backup_codes.c.invalidated == 0,
                backup_codes.c.used_at.is_(None),
            )
        ).all()
        for row in rows:
            if check_secret(row.code_hash, cleaned):
                result = conn.execute(
                    update(backup_codes)
                    .where(backup_codes.c.id == row.id, backup_codes.c.used_at.is_(None))
                    .values(used_at=self.clock.time())
                )
                return result.rowcount == 1
        return False

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
