"""Where an import reads from: an NPPES CSV, or the zip CMS ships with the data file inside."""

from __future__ import annotations

import contextlib
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from core.errors import ImportRejected

_NPIDATA_MEMBER = re.compile(r"npidata_pfile_[^/]*\.csv$", re.IGNORECASE)


# What a damaged zip raises while its member is read: a bad CRC, a corrupt deflate stream, a
# member cut short.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError)


@contextlib.contextmanager
def open_source(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """A byte stream over an NPPES CSV or the CMS zip's data file, and its (uncompressed) size.
    A damaged zip is an ImportRejected, also when the damage shows only as the member is read
    (inside the caller's `with`), so the import is abandoned and the old directory kept."""
    if not path.is_file():
        raise ImportRejected(f"{path} does not exist or is not a file.")
    with contextlib.ExitStack() as stack:
        if zipfile.is_zipfile(path):
            member, binary = _open_member(stack, path)
            total = member.file_size
            try:
                yield binary, total
            except _DAMAGED as exc:
                raise _damaged(path, exc) from None
        else:
            binary = stack.enter_context(path.open("rb"))
            total = path.stat().st_size
            yield binary, total


def _damaged(path: Path, exc: BaseException) -> ImportRejected:
    reason = str(exc).split(" in file ")[0] or type(exc).__name__  # zipfile names the member: enough
    return ImportRejected(
        f"{path} is a damaged zip ({reason}); nothing was imported. Download the file from CMS again."
    )


def _open_member(stack: contextlib.ExitStack, path: Path) -> tuple[zipfile.ZipInfo, IO[bytes]]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
        member = _pick_member(archive, path)
        if member.flag_bits & 0x1:
            raise ImportRejected(f"{path} holds {member.filename} encrypted; CMS ships it unencrypted.")
        return member, stack.enter_context(archive.open(member))
    except NotImplementedError:  # a compression method zipfile cannot read
        raise ImportRejected(
            f"{path} uses a zip compression method the kiosk cannot read; unpack it and import the CSV."
        ) from None
    except (*_DAMAGED, RuntimeError, OSError) as exc:  # RuntimeError: an encrypted member
        raise _damaged(path, exc) from None


def _pick_member(archive: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    members = [m for m in archive.infolist() if not m.is_dir()]
    data = [m for m in members if _NPIDATA_MEMBER.search(m.filename) and "fileheader" not in m.filename.lower()]
    if len(data) == 1:
        return data[0]
    csvs = [m for m in members if m.filename.lower().endswith(".csv")]
    if not data and len(csvs) == 1:
        return csvs[0]
    raise ImportRejected(
        f"{path} does not hold exactly one NPPES data file (npidata_pfile_*.csv); "
        f"found {[m.filename for m in data or csvs]}."
    )
