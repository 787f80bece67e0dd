"""`ipkiosk tokens ...`: the hardware token inventory (IT staff)."""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TextIO

from core.admin import Administration
from core.errors import ImportRejected
from core.tokens import TokenInfo
from kiosk.cli.common import UsageError, count_argument, path_argument
from kiosk.cli.context import CliContext
from kiosk.files import check_input


def register(sub: Any) -> None:
    p = sub.add_parser("tokens", help="hardware token inventory")
    s = p.add_subparsers(dest="tokens_command", required=True, metavar="ACTION")

    imp = s.add_parser("import", help="add tokens from an OATH CSV or PSKC (RFC 6030) seed file")
    imp.add_argument("file", type=path_argument)
    key = imp.add_mutually_exclusive_group()
    key.add_argument("--passphrase-stdin", action="store_true", help="PSKC encrypted with a passphrase (PBKDF2)")
    key.add_argument("--psk-hex-stdin", action="store_true", help="PSKC encrypted with a pre-shared key, in hex")
    imp.set_defaults(handler=import_tokens)

    ls = s.add_parser("list", help="serial, type, state, owner (never the seed)")
    ls.add_argument("--user", help="only this user's tokens")
    ls.add_argument("--search", help="serial or username contains this")
    count = count_argument("tokens")
    ls.add_argument("--limit", type=count, metavar="N", help="at most N tokens (one page)")
    ls.add_argument("--offset", type=count, default=0, metavar="N", help="skip the first N tokens (with --limit)")
    ls.set_defaults(handler=list_tokens)

    assign = s.add_parser("assign", help="give an available token to a user")
    assign.add_argument("serial")
    assign.add_argument("username")
    assign.set_defaults(handler=assign_token)

    resync = s.add_parser("resync", help="resynchronize from two consecutive codes")
    resync.add_argument("serial")
    resync.add_argument("code1", nargs="?", help="the code shown now")
    resync.add_argument("code2", nargs="?", help="the next code the token shows")
    resync.add_argument("--codes-stdin", action="store_true", help="read the two codes from stdin, one per line")
    resync.set_defaults(handler=resync_token)

    unlock = s.add_parser("unlock", help="unlock a token locked after 10 invalid codes")
    unlock.add_argument("serial")
    unlock.set_defaults(handler=unlock_token)

    revoke = s.add_parser("revoke", help="a lost, damaged or stolen token stops working at once")
    revoke.add_argument("serial")
    revoke.add_argument("--reason", choices=["lost", "damaged", "stolen"], required=True)
    revoke.set_defaults(handler=revoke_token)

    replace = s.add_parser("replace", help="revoke OLD and give its owner NEW")
    replace.add_argument("old")
    replace.add_argument("new")
    codes = replace.add_mutually_exclusive_group()
    codes.add_argument("--codes", nargs=2, metavar=("CODE1", "CODE2"), help="sync NEW with two consecutive codes")
    codes.add_argument("--codes-stdin", action="store_true", help="read the two codes from stdin, one per line")
    replace.set_defaults(handler=replace_token)


def _line(t: TokenInfo) -> str:
    kind = f"{t.params.kind.upper()}/{t.params.algorithm}/{t.params.digits}"
    extra = f" failures={t.failures}" if t.failures else ""
    owner = t.owner or "-"
    return f"{t.serial:<14} {t.method.value:<15} {kind:<14} {t.state.value:<10} {owner:<16} drift={t.drift}{extra}"


def import_tokens(ctx: CliContext, args: argparse.Namespace) -> int:
    from core.seedfiles import open_seed_file  # the readers (python-pskc, defusedxml): only an import needs them

    passphrase = ctx.read_secret_stdin() if args.passphrase_stdin else None
    psk: bytes | None = None
    if args.psk_hex_stdin:
        try:
            psk = bytes.fromhex(ctx.read_secret_stdin().strip())
        except ValueError:
            raise ImportRejected("The pre-shared key on stdin is not hex.") from None
    check_input(args.file, "seed file")  # a folder or a FIFO is not "no file"
    now = datetime.fromtimestamp(ctx.services.clock.time(), UTC)
    # Checked as a whole first; its tokens are then read as they are stored, in one transaction.
    seed_file = open_seed_file(args.file, passphrase=passphrase, psk=psk, now=now)
    progress = _ImportProgress(sys.stderr)
    report = _admin(ctx).import_tokens(seed_file, seed_file.rejected, args.file.name, progress=progress)
    progress.finish()
    lines = [f"added {len(report.added)}, duplicates {len(report.duplicates)}, rejected {report.rejected.total}"]
    lines += [f"  duplicate (left as it was): {s}" for s in report.duplicates]
    lines += [f"  rejected {r.where}{f' ({r.serial})' if r.serial else ''}: {r.reason}" for r in report.rejected]
    if unlisted := report.rejected.unlisted:
        lines.append(f"  ... and {unlisted:,} more rejected (the first {len(report.rejected):,} are listed)")
    ctx.emit(report.as_dict(), "\n".join(lines))
    return 0 if report.added or not report.rejected else 1


class _ImportProgress:
    """Tokens stored so far on a terminal's stderr, redrawn every EVERY tokens: a vendor file
    of a million tokens takes minutes. Nothing when stderr is a file or a pipe (scripts)."""

    EVERY = 1000

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.taken = 0

    def __call__(self, taken: int) -> None:
        self.taken = taken
        if self.tty and taken % self.EVERY == 0:
            self.stream.write(f"\r{taken:,} tokens read\033[K")
            self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.taken >= self.EVERY:
            self.stream.write("\n")
            self.stream.flush()


_WRITE_CHUNK = 1000  # documents encoded and written at a time


def list_tokens(ctx: CliContext, args: argparse.Namespace) -> int:
    """Printed as read from the store, a chunk at a time: a national inventory is never held whole.
    With --json it is still one JSON array (one token per line)."""
    admin = Administration.for_cli(ctx.services.system)
    page = {"owner": args.user, "search": args.search, "limit": args.limit, "offset": args.offset}
    out = sys.stdout
    empty = True
    if ctx.as_json:
        with _no_cycle_collection():
            return _write_json(admin.token_documents(**page), out)
    for t in admin.token_stream(**page):
        out.write(_line(t) + "\n")
        empty = False
    if empty:
        out.write("no tokens\n")
    return 0


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A listing makes a dict per token and no reference cycle, so reference counting frees
    each chunk; the cycle collector, started every few hundred new containers, spent an eighth
    of a large listing's time finding nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Between two documents of a chunk: `},{"` opening the next one's first key. A string value
# ending in `},{` gives the same four bytes with its closing quote, but a closing quote is always
# followed by `,` or `}` (a quote inside a string is escaped, `\\"`), and no key starts so.
_BETWEEN = re.compile(rb'\},\{"(?=[^,}])')
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _write_json(documents: Iterator[dict[str, object]], out: TextIO) -> int:
    """One JSON array, one token per line.

    orjson encodes a chunk of documents in one call (the standard encoder took most of a whole
    inventory's listing), which is then cut into lines between documents; a newline inside a
    string is escaped, so each document is one line. Non-ASCII text is escaped (`\\u00e9`) as
    in every other --json document, so the listing prints on a terminal of any encoding."""
    import orjson

    empty = True
    while chunk := list(islice(documents, _WRITE_CHUNK)):
        lines = _BETWEEN.sub(b'},\n  {"', orjson.dumps(chunk)[1:-1]).decode()
        if not lines.isascii():  # only ever inside a string: json's own escape of the character
            lines = _NON_ASCII.sub(lambda m: json.dumps(m.group())[1:-1], lines)
        out.write(("[\n  " if empty else ",\n  ") + lines)
        empty = False
    out.write("[]\n" if empty else "\n]\n")
    return 0


def _admin(ctx: CliContext) -> Administration:
    return Administration.for_cli(ctx.services.system)


def assign_token(ctx: CliContext, args: argparse.Namespace) -> int:
    t = _admin(ctx).assign(args.serial, args.username)
    ctx.emit(t.as_dict(), f"assigned {t.serial} to {t.owner}; now run `ipkiosk tokens resync {t.serial} CODE1 CODE2`")
    return 0


def _codes_from_stdin(ctx: CliContext) -> tuple[str, str]:
    """Two codes, one per line: arguments are visible to every user in /proc/PID/cmdline."""
    first, second = ctx.read_secret_stdin().strip(), ctx.read_secret_stdin().strip()
    if not first or not second:
        raise UsageError("--codes-stdin: give two codes on stdin, one per line.")
    return first, second


def resync_token(ctx: CliContext, args: argparse.Namespace) -> int:
    given = args.code1 is not None, args.code2 is not None
    if args.codes_stdin and any(given):
        raise UsageError("Give the codes either as arguments or with --codes-stdin, not both.")
    if not args.codes_stdin and not all(given):
        raise UsageError("Give two consecutive codes: CODE1 CODE2, or --codes-stdin.")
    code1, code2 = _codes_from_stdin(ctx) if args.codes_stdin else (args.code1, args.code2)
    t = _admin(ctx).resync(args.serial, code1, code2)
    ctx.emit(
        t.as_dict(),
        f"resynchronized {t.serial} (drift {t.drift} steps)"
        if t.params.kind == "totp"
        else f"resynchronized {t.serial}",
    )
    return 0


def unlock_token(ctx: CliContext, args: argparse.Namespace) -> int:
    t = _admin(ctx).unlock_token(args.serial)
    ctx.emit(t.as_dict(), f"unlocked {t.serial} ({t.state.value})")
    return 0


def revoke_token(ctx: CliContext, args: argparse.Namespace) -> int:
    t = _admin(ctx).revoke(args.serial, args.reason)
    hint = f"; issue backup codes with `ipkiosk backup-codes issue {t.owner}`" if t.owner else ""
    ctx.emit(t.as_dict(), f"revoked {t.serial} ({args.reason}){hint}")
    return 0


def replace_token(ctx: CliContext, args: argparse.Namespace) -> int:
    codes = _codes_from_stdin(ctx) if args.codes_stdin else (args.codes[0], args.codes[1]) if args.codes else None
    t = _admin(ctx).replace(args.old, args.new, codes)
    tail = "" if codes else f"; sync it with `ipkiosk tokens resync {t.serial} --codes-stdin`"
    ctx.emit(t.as_dict(), f"{t.serial} now belongs to {t.owner}; {args.old.upper()} is revoked{tail}")
    return 0
