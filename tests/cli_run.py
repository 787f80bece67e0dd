"""`ipkiosk` in the test process, on a manual clock: what every CLI test drives.

`kiosk.cli.main(argv, clock=...)` runs as the installed command would, with stdin given as text
and stdout/stderr captured. The clock is a ManualClock the test moves, and a token's codes are
computed from the same clock, so no test depends on the wall clock crossing a 30 s step (a
subprocess test did, and flaked). Process-wide state main() touches is put back after each call:
the umask (restrict_umask only ever tightens it), sys.stdin, and IPKIOSK_* variables of the
developer's shell, which are hidden so a test sees only its own --data-dir and config.

Subprocess tests remain where the process itself is under test (tests/integration/
test_cli_hardening.py, test_cli_property.py, and the smoke test of the installed `ipkiosk`).
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

import pytest

from core.clock import ManualClock
from kiosk.cli import main
from kiosk.config import ENV_PREFIX, load_settings
from kiosk.services import Services, build_services

# A decoded --json document: its shape is what each test asserts, so it is not typed further.
JsonDoc: TypeAlias = Any

STEP = 30.0  # the TOTP period of every demo token
# Where the clock starts: a fixed time on a step boundary (tests.conftest.T0, 2023-11-14T22:13:20Z),
# the same in every run. Not imported from there: conftest pulls in the PostgreSQL fixtures.
START = 1_700_000_010.0


class CliResult(NamedTuple):
    returncode: int
    stdout: str
    stderr: str

    def doc(self) -> JsonDoc:
        return json.loads(self.stdout)


def _exit_code(exc: SystemExit) -> int:
    # argparse exits (usage errors: 2, --help/--version: 0); sys.exit("text") prints it, exits 1.
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


@contextmanager
def _process_state(stdin: str) -> Iterator[None]:
    umask = os.umask(0o077)
    os.umask(umask)
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key in list(os.environ):
                if key.startswith(ENV_PREFIX):
                    mp.delenv(key)
            mp.setattr(sys, "stdin", io.StringIO(stdin))
            yield
    finally:
        os.umask(umask)


def run_main(argv: list[str], *, clock: ManualClock, stdin: str = "") -> CliResult:
    """`ipkiosk ARGV` in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with _process_state(stdin), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv, clock=clock)
        except SystemExit as exc:
            code = _exit_code(exc)
    result = CliResult(code, out.getvalue(), err.getvalue())
    assert "Traceback" not in result.stderr, result.stderr
    return result


class Cli:
    """`ipkiosk --data-dir DATA_DIR ...` on one data dir and one manual clock."""

    def __init__(self, data_dir: Path, clock: ManualClock | None = None) -> None:
        self.data_dir = data_dir
        self.clock = clock if clock is not None else ManualClock(START)

    def __call__(self, *args: str, stdin: str = "", check: bool = False) -> CliResult:
        result = run_main(["--data-dir", str(self.data_dir), *args], clock=self.clock, stdin=stdin)
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def json(self, *args: str, stdin: str = "") -> tuple[int, JsonDoc]:
        """`ipkiosk --json ...`: the exit code and the one JSON document printed."""
        result = self("--json", *args, stdin=stdin)
        return result.returncode, result.doc()

    @contextmanager
    def services(self) -> Iterator[Services]:
        """The same store in this process, on the same clock: to set a scene or read it back."""
        services = build_services(load_settings(self.data_dir), clock=self.clock)
        try:
            yield services
        finally:
            services.close()

    def code(self, serial: str, offset: int = 0) -> str:
        """The code token `serial` shows at the clock's time (`offset` steps later)."""
        with self.services() as services:
            return services.system.tokens.code_now(serial, offset_steps=offset)[0]

    def next_step(self, steps: int = 1) -> None:
        """Move the clock on by whole TOTP steps: a code used now is never the next one asked for."""
        self.clock.advance(steps * STEP)


def demo_cli(data_dir: Path, clock: ManualClock | None = None) -> Cli:
    """`ipkiosk demo --build-only` into `data_dir` (new or empty), and a Cli on it."""
    cli = Cli(data_dir, clock)
    cli("demo", "--build-only", check=True)
    return cli
