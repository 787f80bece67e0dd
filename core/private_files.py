"""Files the kiosk writes for people to take away (exports, images) are its user's alone
(security rule 29): 0600 whatever the umask, also over an existing file with wider permissions."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from core.errors import PathProblem


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


# SQLite's companions of a database file (and the directory import's work file): writing over
# one of them damages the database as surely as writing over the file.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal", ".importing-")


def is_database_file(target: Path, database: Path) -> bool:
    """`target` (resolved) is the SQLite file `database` (resolved) or one of its companions."""
    if target.parent != database.parent:
        return False
    return target.name == database.name or any(
        target.name.startswith(database.name + companion) for companion in SQLITE_COMPANIONS
    )


def refuse_database_files(path: Path, databases: list[Path]) -> None:
    """`audit export --csv DATA_DIR/kiosk.sqlite3` wrote the CSV over the store: never again."""
    target = path.resolve()
    if any(is_database_file(target, db.resolve()) for db in databases):
        raise PathProblem(
            f"{path} is one of the kiosk's own database files; writing there would destroy its data. "
            "Nothing was written.",
            hint="Give a file name outside the kiosk's data folder.",
        )


def check_output(path: Path, what: str = "file") -> Path:
    """An output file the command may write: its folder exists and is writable, it is not a
    folder or a symbolic link. Checked before anything is changed, so a refusal leaves the store as it was."""
    try:
        if path.is_symlink():
            # A link planted in a shared folder would aim the write at whatever it names.
            raise PathProblem(f"{path} is a symbolic link; give a {what} name that is not a link.")
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
    """An input file: it exists, is a regular file and can be read (the CLI and the IT screens
    say the same of a folder or a FIFO given as a file)."""
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
    """Write `path` as text (UTF-8, newlines as written), 0600."""
    with _private_file(path, "w") as f:
        yield f  # type: ignore[misc]


@contextlib.contextmanager
def _private_file(path: Path, mode: str) -> Iterator[IO[str] | IO[bytes]]:
    """A new 0600 file beside `path` (O_EXCL, never a link's target), renamed over `path` once
    fully written. A symlink or hard link put at `path` is replaced, not written through, and a
    failed write leaves whatever was there before."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise PathProblem(f"Cannot write {path}: {_reason(exc)}.") from None
    try:
        encoding = {"encoding": "utf-8", "newline": ""} if "b" not in mode else {}
        with os.fdopen(fd, mode, **encoding) as f:  # type: ignore[call-overload]
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise PathProblem(f"Cannot write {path}: {_reason(exc)}.") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_private(path: Path, data: bytes) -> None:
    with _private_file(path, "wb") as f:
        f.write(data)  # type: ignore[arg-type]
