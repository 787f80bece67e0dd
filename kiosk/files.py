"""The kiosk's files are its user's alone (security rule 29): store, WAL, shards, config,
enrollment images (bearer credentials) and exports are 0600 in 0700 directories, whatever
umask the kiosk was started with."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from core.errors import KioskError

PRIVATE_UMASK = 0o077


class PathProblem(KioskError):
    """A path given to a command cannot be used; nothing was changed."""

    hint = "Check the path and try again."


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


def check_output(path: Path, what: str = "file") -> Path:
    """An output file the command may write: its folder exists and is writable, and it is not a
    folder itself. Checked before anything is changed, so a refusal leaves the store as it was."""
    try:
        if path.is_dir():
            raise PathProblem(f"{path} is a directory; give a {what} name.")
        parent = path.parent
        if not parent.is_dir():
            raise PathProblem(f"The folder {parent} does not exist; create it first.")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise PathProblem(f"The folder {parent} is not writable.")
        if path.exists() and not path.is_file():
            # A device or a pipe (/dev/null, /dev/stdout): the file would be chmod-ed to 0600.
            raise PathProblem(f"{path} is not a regular file; give a {what} name.")
        if path.exists() and not os.access(path, os.W_OK):
            raise PathProblem(f"{path} is not writable.")
        os.stat(parent)  # a name too long for the file system shows up here or at open
    except OSError as exc:
        raise PathProblem(f"Cannot use {path}: {_reason(exc)}.") from None
    return path


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


@contextlib.contextmanager
def open_private(path: Path) -> Iterator[IO[str]]:
    """Open `path` for writing text (UTF-8, newlines as written) as 0600, also when it already
    existed with wider permissions."""
    fd = _private_fd(path)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        yield f


def _private_fd(path: Path) -> int:
    try:
        # O_NONBLOCK: a FIFO put in the file's place after the check must not hang the open.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        raise PathProblem(f"Cannot write {path}: {_reason(exc)}.") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PathProblem(f"{path} is not a regular file; nothing was written.")
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
        os.fchmod(fd, 0o600)  # only ever a regular file: never a device's permissions
    except OSError as exc:
        os.close(fd)
        raise PathProblem(f"Cannot write {path}: {_reason(exc)}.") from None
    except PathProblem:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, data: bytes) -> None:
    with os.fdopen(_private_fd(path), "wb") as f:
        f.write(data)
