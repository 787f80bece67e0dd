"""`ipkiosk credentials ...`: the kiosk's service credentials in the keyring (service `ipkiosk`).

Values are read with a prompt that does not echo (or one line from stdin with --stdin) and are
never printed: `check` says which names are set and which backend holds them, nothing more.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from typing import Any

from core.credentials import KNOWN_NAMES, SERVICE, CredentialStore
from kiosk.cli.common import UsageError
from kiosk.cli.context import CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("credentials", help="service credentials in the keyring (never shown)")
    s = p.add_subparsers(dest="credentials_command", required=True, metavar="ACTION")

    put = s.add_parser("set", help="store a credential (prompts without echo)")
    put.add_argument("name", help="one of: " + ", ".join(KNOWN_NAMES))
    put.add_argument("--stdin", action="store_true", help="read the value from stdin (scripts)")
    put.set_defaults(handler=set_credential)

    check = s.add_parser("check", help="which credentials are set, and where (never values)")
    check.set_defaults(handler=check_credentials)

    delete = s.add_parser("delete", help="remove a credential")
    delete.add_argument("name")
    delete.set_defaults(handler=delete_credential)


def open_store(ctx: CliContext) -> CredentialStore:
    from kiosk.services import open_credentials

    return open_credentials(ctx.settings)


def _known(name: str) -> str:
    if name not in KNOWN_NAMES:
        raise UsageError(f"'{name}' is not a credential the kiosk uses; known names: {', '.join(KNOWN_NAMES)}.")
    return name


def set_credential(ctx: CliContext, args: argparse.Namespace) -> int:
    name = _known(args.name)
    store = open_store(ctx)  # before the prompt: no point typing a secret into a broken keyring
    if args.stdin:
        value = ctx.read_secret_stdin()
    else:
        if not sys.stdin.isatty():
            raise UsageError("No terminal to prompt on; pipe the value in with --stdin.")
        value = getpass.getpass(f"Value for {name} (not shown): ")
    if not value:
        raise UsageError(f"Empty value; '{name}' was not changed.")
    store.set(name, value)
    ctx.emit({"name": name, "set": True, "backend": store.label}, f"{name} stored in {store.label}")
    return 0


def holders(store: CredentialStore, name: str) -> list[str]:
    """Which backends hold a name. keyring's chainer merges several (e.g. Secret Service and a
    plaintext file), so IT staff see where each credential really lives."""
    parts = getattr(store.backend, "backends", None)
    if not parts:
        return [store.label] if store.get(name) is not None else []
    found = []
    for backend in parts:
        with contextlib.suppress(Exception):  # one broken backend must not hide the others
            if backend.get_password(SERVICE, name) is not None:
                found.append(f"{type(backend).__module__}.{type(backend).__name__}")
    return found


def check_credentials(ctx: CliContext, args: argparse.Namespace) -> int:
    store = open_store(ctx)
    present = store.present()
    where = {name: holders(store, name) for name, ok in present.items() if ok}
    doc = {
        "backend": store.label,
        "demo_only": store.is_demo_only,
        "credentials": present,
        "held_by": where,
    }
    lines = [f"keyring backend: {store.label}" + (" (DEMO ONLY)" if store.is_demo_only else "")]
    for name, ok in present.items():
        held = f"  ({', '.join(where[name])})" if ok and where.get(name) else ""
        lines.append(f"  {'set    ' if ok else 'missing'}  {name}{held}")
    ctx.emit(doc, "\n".join(lines))
    return 0


def delete_credential(ctx: CliContext, args: argparse.Namespace) -> int:
    name = _known(args.name)
    store = open_store(ctx)
    deleted = store.delete(name)
    text = f"{name} deleted from {store.label}" if deleted else f"{name} was not set"
    ctx.emit({"name": name, "deleted": deleted, "backend": store.label}, text)
    return 0 if deleted else 1
