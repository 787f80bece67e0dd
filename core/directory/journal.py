"""The shard swap journal: new shard files renamed over the old ones, all or none.

An import builds every new shard next to its old one, then writes this journal (the pairs to
rename) and only then renames. A kill before the journal leaves the old shards answering; a kill
during the renames is rolled forward by the next reader or import, since every new shard named
in the journal is already complete and durable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SWAP_JOURNAL = ".directory-swap.json"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def finish_pending_swap(directory: Path) -> None:
    """Roll forward a swap that a killed import started: its new shards are complete."""
    journal = directory / SWAP_JOURNAL
    if not journal.is_file():
        return
    try:
        pairs = json.loads(journal.read_text(encoding="utf-8"))["pairs"]
        for new, final in pairs:
            if Path(new).exists():
                os.replace(new, final)
        _fsync_dir(directory)
        journal.unlink(missing_ok=True)
    except (OSError, ValueError, KeyError, TypeError):
        # A read-only reader cannot finish it; the next import (IT staff) will.
        return


def swap_in(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each complete new file over its target, journaled per directory."""
    by_dir: dict[Path, list[tuple[Path, Path]]] = {}
    for new, final in pairs:
        by_dir.setdefault(final.parent, []).append((new, final))
    for directory, dir_pairs in by_dir.items():
        journal = directory / SWAP_JOURNAL
        pending = journal.with_suffix(".tmp")
        with pending.open("w", encoding="utf-8") as f:
            json.dump({"pairs": [[str(n), str(t)] for n, t in dir_pairs]}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(pending, journal)
        _fsync_dir(directory)
    for directory in by_dir:
        finish_pending_swap(directory)
