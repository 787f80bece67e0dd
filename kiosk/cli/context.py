"""What every command handler gets: settings and services built on first use, and output."""

from __future__ import annotations

import json
import sys
from functools import cached_property
from pathlib import Path
from typing import Any

from core.clock import Clock, SystemClock
from core.errors import KioskError
from kiosk.config import Settings, load_settings
from kiosk.services import Services, build_services


class CliContext:
    def __init__(self, data_dir: Path | None, as_json: bool, *, clock: Clock | None = None) -> None:
        self.data_dir = data_dir  # as given with --data-dir (None: from config/env/default)
        self.as_json = as_json
        # Injected by tests that drive main() in-process, so a token's codes follow a clock they
        # move step by step instead of the wall clock crossing a 30 s boundary mid-test.
        self.clock: Clock = clock or SystemClock()
        self._services: Services | None = None

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.data_dir)

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = build_services(self.settings, clock=self.clock)
        return self._services

    def emit(self, document: Any, text: str | None = None) -> None:
        """Print `document` as JSON with --json, else `text` (or the document, plainly)."""
        if self.as_json:
            print(json.dumps(document, indent=2, sort_keys=True, default=str))
        elif text is not None:
            print(text)
        else:
            print(document)

    def fail(self, exc: KioskError) -> None:
        if self.as_json:
            doc = {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint}
            for attr in ("reason", "rule", "diagnosis", "seq"):
                if hasattr(exc, attr):
                    doc[attr] = getattr(exc, attr)
            print(json.dumps(doc, indent=2, sort_keys=True))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
            if exc.hint:
                print(f"  {exc.hint}", file=sys.stderr)

    def read_secret_stdin(self) -> str:
        """One line from stdin, without its newline (passwords, passphrases)."""
        line = sys.stdin.readline()
        return line.rstrip("\r\n")

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
