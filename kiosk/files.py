"""The kiosk's files are its user's alone (security rule 29): store, WAL, shards, config,
enrollment images (bearer credentials) and exports are 0600 in 0700 directories, whatever
umask the kiosk was started with."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from core.private_files import PathProblem, check_output, open_private, write_private

PRIVATE_UMASK = 0o077


# In core since the audit export (core.admin) writes its file with them too.
__all__ = ["PathProblem", "check_output", "open_private", "write_private"]


def restrict_umask() -> None:
    """Add 0o077 to the process umask: every file and directory made from here on is private.
    Called at every entry (CLI, App services, demo); it only ever tightens."""
    old = os.umask(PRIVATE_UMASK)
    os.umask(old | PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700 and tighten it if it already exists."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise PathProblem(f"Cannot create the directory {path}: {exc.strerror or exc}.") from None
    with contextlib.suppress(PermissionError):  # someone else's directory: leave it, it is readable anyway
        path.chmod(0o700)
    return path


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_input(path: Path, what: str = "file") -> Path:
    """An input file: it exists, is a regular file and can be read."""
    try:
        if not path.exists():
            raise PathProblem(f"No {what} at {path}.")
        if path.is_dir():
            raise PathProblem(f"{path} is a directory; give the {what} itself.")
        if not path.is_file():  # /dev/zero would be read for ever
            raise PathProblem(f"{path} is not a regular file; give the {what} itself.")
        if not os.access(path, os.R_OK):
            raise PathProblem(f"{path} cannot be read (permission denied).")
    except OSError as exc:
        raise PathProblem(f"Cannot use {path}: {_reason(exc)}.") from None
    return path
