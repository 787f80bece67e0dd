"""Hardware-token seed files: OATH CSV and PSKC (RFC 6030).

Vendors ship a seed file with each batch of tokens. This module only *reads* such a file into
`TokenSpec`s and a list of `Rejected` entries; core.tokens stores what is returned.

Two kinds of failure:
- one row or KeyPackage is unusable -> a `Rejected` entry, the rest of the file still imports;
- the file as a whole cannot be trusted or read (not CSV or XML, a DTD, a bad MAC, a wrong
  passphrase or pre-shared key) -> `ImportRejected`, and nothing is imported.

No message built here ever contains a seed (docs/security.md rule 19): reasons name rows by line number
and fields by name, never echo their values; a serial is shown only when it parses as one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from core.errors import ImportRejected
from core.pskcfile import open_pskc
from core.seed_checks import (
    BASE32_TEXT,
    HEX_TEXT,
    MAX_FILE_BYTES,
    Entry,
    EntryError,
    Repeated,
    SeedFile,
    SeedStream,
    check_algorithm,
    check_counter,
    check_digits,
    check_period,
    check_seed,
    check_serial,
    serial_or_none,
)
from core.seedcopies import refuse_key_for_plain_file

# The parsers' results live in core.token_spec; kept importable from here for the readers' callers.
from core.token_spec import Algorithm as Algorithm
from core.token_spec import Kind as Kind
from core.token_spec import Rejected as Rejected
from core.token_spec import TokenSpec as TokenSpec

CSV_COLUMNS = "serial,key,type,digits,period_or_counter[,algorithm]"


# --------------------------------------------------------------------------- OATH CSV


def _decode_key(raw: str, serial: str) -> bytes:
    key = re.sub(r"[\s-]", "", raw)
    if not key:
        raise EntryError("key is empty", serial)
    if HEX_TEXT.fullmatch(key) and len(key) % 2 == 0:
        # Hex wins when a key is valid in both encodings: oathtool and vendor CSVs default to it.
        return bytes.fromhex(key)
    b32 = key.upper().rstrip("=")
    if not BASE32_TEXT.fullmatch(b32) or len(b32) % 8 in (1, 3, 6):
        raise EntryError("key is neither hex nor base32", serial)
    try:
        return base64.b32decode(b32 + "=" * (-len(b32) % 8))
    except (binascii.Error, ValueError):
        raise EntryError("key is neither hex nor base32", serial) from None


def _whole_number(raw: str, what: str, serial: str) -> int:
    value = raw.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", value):
        raise EntryError(f"{what} is not a whole number", serial)
    return int(value)


def _csv_row(fields: list[str]) -> TokenSpec:
    if len(fields) < 5:
        raise EntryError(f"missing fields: expected {CSV_COLUMNS}, found {len(fields)} fields")
    if len(fields) > 6:
        raise EntryError(f"too many fields: expected {CSV_COLUMNS}, found {len(fields)} fields")
    serial = check_serial(fields[0])
    secret = check_seed(_decode_key(fields[1], serial), serial)
    kind = fields[2].strip().lower()
    if kind not in ("totp", "hotp"):
        raise EntryError("unknown token type: use totp or hotp", serial)
    digits = check_digits(_whole_number(fields[3], "digits", serial), serial)
    algorithm = check_algorithm(fields[5] if len(fields) == 6 else "", serial)
    if kind == "totp":
        period = check_period(_whole_number(fields[4], "time step", serial), serial)
        return TokenSpec(serial, "totp", secret, algorithm, digits, period=period)
    counter = check_counter(_whole_number(fields[4], "counter", serial), serial)
    return TokenSpec(serial, "hotp", secret, algorithm, digits, counter=counter)


_HEADER = re.compile(r"serial([ _-]?(no|number))?")


def _lines(text: str) -> Iterator[str]:
    """`text.split("\n")` one line at a time, so a big file is not copied into a list."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def _csv_lines(text: str) -> Iterator[tuple[int, list[str] | None]]:
    """Yield (line number, fields) for each data line; fields is None when not parseable CSV."""
    header_allowed = True
    for number, line in enumerate(_lines(text.removeprefix("\ufeff")), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            fields = next(csv.reader([line], skipinitialspace=True, strict=True), [])
        except csv.Error:
            yield number, None
            continue
        if header_allowed and fields and _HEADER.fullmatch(fields[0].strip().lower()):
            header_allowed = False
            continue
        header_allowed = False
        yield number, fields


def _csv_entries(text: str) -> Iterator[Entry]:
    for number, fields in _csv_lines(text):
        where = f"line {number}"
        if fields is None:
            yield where, Rejected(where, None, "not a valid CSV line (check the quotes)")
            continue
        try:
            yield where, _csv_row(fields)
        except EntryError as e:
            # With the wrong number of fields (a ';' or space delimiter) the first field may be
            # the whole row, seed included: the row is then named by its line number only.
            serial = e.serial
            if serial is None and len(fields) in (5, 6):
                serial = serial_or_none(fields[0])
            yield where, Rejected(where, serial, e.reason)


def open_oath_csv(text: str) -> SeedStream:
    """Check `serial,key,type,digits,period_or_counter[,algorithm]` lines; read them when iterated."""
    lines = 0
    widest = 0
    serials = Repeated()
    for _number, fields in _csv_lines(text):
        lines += 1
        if fields is not None:
            widest = max(widest, len(fields))
            # Only acceptable rows can be duplicates of each other: a file of a million refused
            # rows holds no serial for them.
            with contextlib.suppress(EntryError):
                serials.add(_csv_row(fields).serial)
    if not lines:
        raise ImportRejected("The seed file holds no tokens (only blank lines, comments or a header).")
    if widest < 5:  # no row can be accepted with fewer fields
        raise ImportRejected(f"This is not an OATH CSV seed file: no line has the columns {CSV_COLUMNS}.")
    return SeedStream(lambda: _csv_entries(text), serials, lines)


def read_oath_csv(text: str) -> SeedFile:
    """Read `serial,key,type,digits,period_or_counter[,algorithm]` lines."""
    return open_oath_csv(text).read()


# --------------------------------------------------------------------------- PSKC


def read_pskc(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedFile:
    """Read an RFC 6030 container (core.pskcfile, which builds on the checks above)."""
    return open_pskc(data, passphrase=passphrase, psk=psk, now=now).read()


# --------------------------------------------------------------------------- sniffing


def open_seed_bytes(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedStream:
    """Check a seed file's content, telling PSKC XML from OATH CSV by its first character; `now`
    (UTC) decides which PSKC keys have expired. Iterate the result to read its tokens."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(f"The seed file is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRejected("The seed file is not valid UTF-16 text.") from None
    else:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return open_pskc(data, passphrase=passphrase, psk=psk, now=now)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ImportRejected(
                f"The seed file is neither PSKC XML nor OATH CSV text: byte {e.start} is not UTF-8."
            ) from None
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        return open_pskc(data, passphrase=passphrase, psk=psk, now=now)
    if "\x00" in text:
        raise ImportRejected("The seed file is binary data, neither PSKC XML nor OATH CSV text.")
    refuse_key_for_plain_file(passphrase, psk)  # an OATH CSV is never encrypted
    return open_oath_csv(text)


def read_seed_bytes(
    data: bytes, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedFile:
    """`open_seed_bytes`, every token read into a list."""
    return open_seed_bytes(data, passphrase=passphrase, psk=psk, now=now).read()


def open_seed_file(
    path: Path, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedStream:
    """Check a seed file on disk; PSKC or OATH CSV is decided by its content, not its name."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ImportRejected(f"Cannot read the seed file {path}: {e.strerror or e}.") from None
    return open_seed_bytes(data, passphrase=passphrase, psk=psk, now=now)


def read_seed_file(
    path: Path, *, passphrase: str | None = None, psk: bytes | None = None, now: datetime | None = None
) -> SeedFile:
    """`open_seed_file`, every token read into a list."""
    return open_seed_file(path, passphrase=passphrase, psk=psk, now=now).read()
