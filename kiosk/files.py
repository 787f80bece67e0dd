"""The kiosk's files are its user's alone (security rule 29): store, WAL, shards, config,
enrollment images (bearer credentials) and exports are 0600 in 0700 directories, whatever
umask the kiosk was started with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import PathProblem
from core.private_files import check_input as check_input
from core.private_files import check_output as check_writable
from core.private_files import is_database_file, open_private, write_private

if TYPE_CHECKING:
    from kiosk.config import Settings

PRIVATE_UMASK = 0o077
# What the kiosk keeps at the top of its data dir, and the folders an output may go to there.
KIOSK_FILES = frozenset({"kiosk.sqlite3", "config.toml", "demo-only-keyring.cfg"})
OUTPUT_FOLDERS = frozenset({"reports", "cronto", "exports"})


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
    """`core.private_files.check_output`, and (given the settings) none of the kiosk's own files.
    Checked before anything is changed, so a refusal leaves the store as it was."""
    if settings is not None:
        try:
            _refuse_kiosk_file(path, settings)
        except OSError as exc:
            raise PathProblem(f"Cannot use {path}: {_reason(exc)}.") from None
    return check_writable(path, what)


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


def _refuse_kiosk_file(path: Path, settings: Settings) -> None:
    """The store, a shard, the config, the demo keyring, or a kiosk folder other than the ones
    meant for outputs: `audit export --csv DATA_DIR/kiosk.sqlite3` wrote the CSV over the store."""
    target = path.resolve()
    data = settings.data_dir
    inside = target.relative_to(data).parts if target.is_relative_to(data) else None
    in_kiosk_folder = inside is not None and (
        not inside or inside[0] in KIOSK_FILES or (len(inside) > 1 and inside[0] not in OUTPUT_FOLDERS)
    )
    if in_kiosk_folder or any(is_database_file(target, f) for f in _kiosk_files(settings)):
        raise PathProblem(
            f"{path} is one of the kiosk's own files or folders; writing there would destroy its data. "
            "Nothing was written.",
            hint=f"Give a file name outside {data}, or in {data / 'reports'}.",
        )


# In core since the audit export (core.admin) writes its file with them too.
__all__ = ["PathProblem", "check_input", "check_output", "open_private", "write_private"]
