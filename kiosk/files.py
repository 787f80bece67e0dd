"""The kiosk's files are its user's alone (security rule 29): store, WAL, shards, config,
enrollment images (bearer credentials) and exports are 0600 in 0700 directories, whatever
umask the kiosk was started with."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from core.errors import KioskError

if TYPE_CHECKING:
    from kiosk.config import Settings

PRIVATE_UMASK = 0o077
# What the kiosk keeps at the top of its data dir, and the folders an output may go to there.
KIOSK_FILES = frozenset({"kiosk.sqlite3", "config.toml", "demo-only-keyring.cfg"})
OUTPUT_FOLDERS = frozenset({"reports", "cronto", "exports"})
# SQLite's companions of a database file (and the directory import's work file): writing over
# one of them damages the database as surely as writing over the file.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal", ".importing-")


class PathProblem(KioskError):
    """A path given to a command cannot be used; nothing was changed."""

    hint = "Check the path and try again."


def restrict_umask() -> None:
    """Add 0o077 to the process umask: every file and directory made from here on is private.
    Called at every entry (CLI, App services, demo); it only ever tightens."""
    old = os.umask(PRIVATE_UMASK)
    os.umask(old | PRIVATE_UMASK)


def private_dir(path: Path, *, adopt_empty: bool = False) -> Path:
    """Create `path` (and missing parents) as 0700. A folder that already exists is not
    re-moded (`--data-dir /tmp` would drop the sticky bit of /tmp): one that others can write
    to is refused, since whoever can write there can swap the kiosk's files. With `adopt_empty`
    (the demo, which fills a new or empty folder), an empty folder of this user's that no one
    else can write to is made 0700 as if the kiosk had created it."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        for made in missing:  # only what this call created (mkdir's mode is cut by the umask)
            made.chmod(0o700)
        info = path.stat()
        if (
            adopt_empty
            and not missing
            and not info.st_mode & 0o022
            and info.st_uid == os.geteuid()
            and not any(path.iterdir())
        ):
            path.chmod(0o700)
    except OSError as exc:
        raise PathProblem(f"Cannot create the directory {path}: {exc.strerror or exc}.") from None
    if not missing and info.st_mode & 0o022:
        raise PathProblem(
            f"The folder {path} can be written by other users, so the kiosk will not keep its files there.",
            hint=f"Give a folder of the kiosk's own, or make this one private: chmod 700 {path}",
        )
    return path


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_output(path: Path, what: str = "file", settings: Settings | None = None) -> Path:
    """An output file the command may write: its folder exists and is writable, it is not a
    folder or a symbolic link, and (given the settings) it is none of the kiosk's own files.
    Checked before anything is changed, so a refusal leaves the store as it was."""
    try:
        if path.is_symlink():
            # A link planted in a shared folder would aim the write at whatever it names.
            raise PathProblem(f"{path} is a symbolic link; give a {what} name that is not a link.")
        if settings is not None:
            _refuse_kiosk_file(path, settings)
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


def _kiosk_files(settings: Settings) -> list[Path]:
    """The store and the directory shards, wherever the settings put them."""
    from sqlalchemy.engine import make_url

    files = [settings.data_dir / "kiosk.sqlite3"]
    if settings.database_url is not None:
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            files.append(Path(url.database))
    for region in range(1, 6):
        shard = settings.region_source(region).path
        if shard is not None:
            files.append(shard)
    return [f.resolve() for f in files]


def _is_database_file(target: Path, database: Path) -> bool:
    if target.parent != database.parent:
        return False
    return target.name == database.name or any(
        target.name.startswith(database.name + companion) for companion in SQLITE_COMPANIONS
    )


def _refuse_kiosk_file(path: Path, settings: Settings) -> None:
    """The store, a shard, the config, the demo keyring, or a kiosk folder other than the ones
    meant for outputs: `audit export --csv DATA_DIR/kiosk.sqlite3` wrote the CSV over the store."""
    target = path.resolve()
    data = settings.data_dir
    inside = target.relative_to(data).parts if target.is_relative_to(data) else None
    in_kiosk_folder = inside is not None and (
        not inside or inside[0] in KIOSK_FILES or (len(inside) > 1 and inside[0] not in OUTPUT_FOLDERS)
    )
    if in_kiosk_folder or any(_is_database_file(target, f) for f in _kiosk_files(settings)):
        raise PathProblem(
            f"{path} is one of the kiosk's own files or folders; writing there would destroy its data. "
            "Nothing was written.",
            hint=f"Give a file name outside {data}, or in {data / 'reports'}.",
        )


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
