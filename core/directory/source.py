"""Where an import reads from: an NPPES CSV, or the zip CMS ships with the data file inside."""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from core.errors import ImportRejected

_NPIDATA_MEMBER = re.compile(r"npidata_pfile_[^/]*\.csv$", re.IGNORECASE)


@contextlib.contextmanager
def open_source(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """A byte stream over an NPPES CSV or the CMS zip's data file, and its (uncompressed) size."""
    if not path.is_file():
        raise ImportRejected(f"{path} does not exist or is not a file.")
    with contextlib.ExitStack() as stack:
        if zipfile.is_zipfile(path):
            archive = stack.enter_context(zipfile.ZipFile(path))
            member = _pick_member(archive, path)
            binary: IO[bytes] = stack.enter_context(archive.open(member))
            total = member.file_size
        else:
            binary = stack.enter_context(path.open("rb"))
            total = path.stat().st_size
        yield binary, total


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
