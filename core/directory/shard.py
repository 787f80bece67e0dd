"""One region's local directory: a compact SQLite file `region-N.sqlite3` keyed by NPI.

A shard is written once by the importer (journal off, one transaction: a build is thrown away
on failure, never repaired) and then only read. Readers open it read-only and reopen when the
importer swaps a new file in under the same name.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from core.directory.model import DirectoryRecord
from core.directory.nppes import Row
from core.errors import DirectoryUnavailable

SCHEMA = """
CREATE TABLE npi (
    npi INTEGER PRIMARY KEY,          -- the rowid itself: the smallest and fastest key
    entity_type INTEGER,              -- 1 individual, 2 organization, NULL when NPPES blanked it
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    organization_name TEXT NOT NULL,
    state TEXT NOT NULL,              -- practice-location state (USPS code)
    deactivated TEXT,                 -- YYYY-MM-DD
    reactivated TEXT                  -- YYYY-MM-DD
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

INSERT = "INSERT OR REPLACE INTO npi VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
SELECT = (
    "SELECT npi, entity_type, last_name, first_name, organization_name, state, deactivated,"
    " reactivated FROM npi WHERE npi = ?"
)


def shard_name(region: int) -> str:
    return f"region-{region}.sqlite3"


class ShardWriter:
    """Builds a new shard file; only `commit()` makes it complete (else: junk to delete)."""

    def __init__(self, path: Path, *, cache_mb: int = 8, fresh: bool = True) -> None:
        self.path = path
        if fresh:
            path.unlink(missing_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None)
        # Nobody reads this file until it is swapped in, and a crash means "rebuild": no journal
        # and no fsync per page, one transaction for the whole build.
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.conn.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
        if fresh:
            self.conn.executescript(SCHEMA)
        self.conn.execute("BEGIN")
        self.rows = 0

    def insert(self, rows: Iterable[Row]) -> None:
        cur = self.conn.executemany(INSERT, rows)
        self.rows += max(cur.rowcount, 0)

    def delete(self, npis: Iterable[int]) -> None:
        self.conn.executemany("DELETE FROM npi WHERE npi = ?", ((n,) for n in npis))

    def get(self, npi: int) -> Row | None:
        found = self.conn.execute(SELECT, (npi,)).fetchone()
        return Row(*found) if found else None

    def deactivate(self, npi: int, iso_day: str) -> bool:
        """Mark an NPI deactivated on a day; False when this shard does not hold it."""
        cur = self.conn.execute("UPDATE npi SET deactivated = ? WHERE npi = ?", (iso_day, npi))
        return cur.rowcount > 0

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM npi").fetchone()[0])

    def commit(self, meta: dict[str, str]) -> None:
        self.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
        self.conn.execute("COMMIT")
        self.conn.close()
        # The build ran without fsync; make the finished file durable before anyone swaps it in.
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def abandon(self) -> None:
        try:
            self.conn.close()
        finally:
            self.path.unlink(missing_ok=True)


def row_to_record(row: Row | tuple[object, ...]) -> DirectoryRecord:
    npi, entity, last, first, org, state, deactivated, reactivated = row
    return DirectoryRecord(
        npi=f"{npi:010d}",
        entity_type=entity if isinstance(entity, int) else None,
        last_name=str(last),
        first_name=str(first),
        organization_name=str(org),
        state=str(state),
        deactivation_date=date.fromisoformat(str(deactivated)) if deactivated else None,
        reactivation_date=date.fromisoformat(str(reactivated)) if reactivated else None,
    )


# Local lookups are microseconds, but a shard on a slow or hung disk must not stall the event
# loop or the other regions: they run on these threads, under the directory's timeout.
_LOOKUP_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="directory-lookup")


def lookup_threads() -> ThreadPoolExecutor:
    return _LOOKUP_THREADS


class LocalRegionBackend:
    """One region answered from its SQLite shard."""

    kind = "local"

    def __init__(self, region: int, path: Path) -> None:
        self.region = region
        self.path = path
        self.description = str(path)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise DirectoryUnavailable(
                f"Region {self.region}'s directory file {self.path} is missing; "
                "IT staff can build it with `ipkiosk directory import`."
            ) from None
        identity = (st.st_ino, st.st_mtime_ns, st.st_size)
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.identity == identity:
            return conn
        if conn is not None:
            conn.close()
        # as_uri() refuses a relative path (a relative --data-dir once made every region "no answer").
        uri = f"{self.path.absolute().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._local.conn, self._local.identity = conn, identity
        return conn

    def lookup(self, npi: str) -> DirectoryRecord | None:
        try:
            found = self._connection().execute(SELECT, (int(npi),)).fetchone()
        except sqlite3.Error as exc:
            raise DirectoryUnavailable(
                f"Region {self.region}'s directory file {self.path} cannot be read ({exc})."
            ) from None
        return row_to_record(found) if found else None

    async def alookup(self, npi: str) -> DirectoryRecord | None:
        return await asyncio.get_running_loop().run_in_executor(_LOOKUP_THREADS, self.lookup, npi)

    def count(self) -> int:
        return int(self._connection().execute("SELECT count(*) FROM npi").fetchone()[0])

    def meta(self) -> dict[str, str]:
        return dict(self._connection().execute("SELECT key, value FROM meta").fetchall())

    async def aclose(self) -> None:
        return None
