"""Files the kiosk writes for people to take away (exports, images) are its user's alone
(security rule 29): 0600 whatever the umask, also over an existing file with wider permissions."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from core.errors import KioskError


class PathProblem(KioskError):
    """A path given to a command cannot be used; nothing was changed."""

    hint = "Check the path and try again."


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
