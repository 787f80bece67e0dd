"""Attack pass on the command line and the config: hundreds of odd invocations on a demo data
dir, counting tracebacks, exit codes and refusals that changed the store.

    .venv/bin/python bench/cli_attack.py [--cases 600] [--subprocess 80] [--seed 1]

In-process cases call kiosk.cli.main (fast); a sample also runs as real subprocesses, where an
uncaught exception, a closed pipe or an interpreter-exit error would show on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.cli import main
from tests.integration.test_cli_hardening import only_audited, store_rows
from tests.integration.test_cli_property import ODD, ODD_SETTINGS, OPTIONS, SHAPES

# Commands and options the property test leaves out (the EPCS, notification and daily-review
# commands, paging numbers) and values it has none of: numbers past any store's integers,
# dates at the calendar's ends, an empty path.
MORE_SHAPES = [
    "tokens list --limit {} --offset {}", "tokens list --limit {}", "notifications list --limit {}",
    "notifications list --pending", "audit daily --date {}", "audit reports --unreviewed",
    "audit signoff {} --by {}", "users set {} --email {} --dea {}", "users set {} --registrant",
    "users proof {} --document passport --last4 {} --by {}", "users list", "epcs grant {} --by {}",
    "epcs approve {} --by {}", "epcs revoke {} --by {} --reason {}", "epcs list", "epcs roles",
    "epcs token {} --vendor {} --model {} --fips-cert {}", "doctor", "cronto public-key",
    "credentials check",
]  # fmt: skip
MORE_ODD = ["9" * 30, str(2**63), str(2**64), "-" + "9" * 30, "0001-01-01", "9999-12-31", "0", "99999999"]

PY = sys.executable
UNICODE = ["é", "\u202e", "\u0000x", "\U0001f600", "\x1b[31m", "\r", "\t", "ﬁ", "Ⅻ", "\ufeff"]
CONFIG_LINES = [
    "region_timeout = inf", "region_timeout = 1e308", "region_timeout = nan", "region_timeout = -1",
    'database_url = ""', 'database_url = "garbage"', 'database_url = "mysql://u:pw@h/db"',
    "idle_timeout = nan", "idle_timeout = inf", "idle_timeout = 0", "idle_timeout = -1",
    'issuer_name = ""', 'issuer_name = "ïssuer"', '[issuers]\nx = "junk"', '[regions.1]\nurl = ""',
    '[regions.1]\nurll = "https://r.example/"', 'keyring = "memory"', "demo = 3", "stop_binding = \"no\"",
    '[regions.2]\nurl = "http://r.example/"', '[regions.2]\nurl = "https://u:hunter2@r.example/"',
    '[regions.2]\nurl = "https://169.254.169.254/"', '[regions.2]\nurl = "https://[fe80::1%25eth0]/"',
    '[regions.2]\nurl = "https://metadata.google.internal/"', '[regions.2]\nurl = "https://[fd00:ec2::254]/"',
    '[regions.2]\npath = ""', '[regions.2]\npath = "/"', '[regions.0]\npath = "x"', "regions = 5",
    'kiosk_id = "' + "k" * 65 + '"', "kiosk_id = 5", "camera = \"\"", "[regions]\n1 = 2", "= =", "\x00",
    'issuers = "x"', "scan_timeout = 1e400", "idle_warning = -1", "data_dir = 5",
]  # fmt: skip


def run(argv: list[str], stdin: str) -> tuple[int, str, BaseException | None]:
    out = io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                return main(argv), out.getvalue(), None
            except SystemExit as exc:
                return (exc.code if isinstance(exc.code, int) else 2), out.getvalue(), None
            except BaseException as exc:  # what the pass is looking for
                return -1, out.getvalue(), exc
    finally:
        sys.stdin = saved


def odd_value(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.5:
        return rng.choice(ODD + MORE_ODD)
    if pick < 0.7:
        return rng.choice(UNICODE).replace("\x00", "") * rng.randint(1, 3)
    return "".join(chr(rng.randint(33, 0x2FF)) for _ in range(rng.randint(0, 10))).lstrip("-")


def argv_case(rng: random.Random) -> list[str]:
    if rng.random() < 0.75:
        return [odd_value(rng) if w == "{}" else w for w in rng.choice(SHAPES + MORE_SHAPES).split(" ")]
    words = rng.choice(SHAPES + MORE_SHAPES).split(" ")[:2]
    return [*words, *(rng.choice(OPTIONS + ODD) for _ in range(rng.randint(0, 5)))]


def main_pass(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="cli-attack-"))
    demo = root / "demo"
    build = [PY, "-m", "kiosk.cli", "--data-dir", str(demo), "demo", "--build-only"]
    subprocess.run(build, check=True, capture_output=True)
    work = root / "work"
    (work / "a-folder").mkdir(parents=True)
    import os

    os.chdir(work)
    exits: Counter[int] = Counter()
    crashes: list[tuple[list[str], str]] = []
    changed: list[list[str]] = []
    for _ in range(args.cases):
        argv = argv_case(rng)
        stdin = rng.choice(["", "x\n", "123456\n654321\n", "demo-password\n123456\n"])
        before = store_rows(demo)
        code, output, exc = run(["--data-dir", str(demo), *argv], stdin)
        exits[code] += 1
        if exc is not None or "Traceback" in output:
            crashes.append((argv, f"{type(exc).__name__}: {exc}" if exc else output[-300:]))
        elif code == 2 and not only_audited(before, store_rows(demo)):
            changed.append(argv)
    print(f"in-process CLI cases: {args.cases}; exit codes {dict(sorted(exits.items()))}")
    print(f"  uncaught exceptions/tracebacks: {len(crashes)}; refusals that changed the store: {len(changed)}")
    for argv, what in crashes[:10]:
        print(f"    {argv!r}: {what}")
    for argv in changed[:10]:
        print(f"    changed: {argv!r}")

    config_crashes: list[tuple[str, str]] = []
    config_exits: Counter[int] = Counter()
    values = CONFIG_LINES + [f"{k} = {v!r}" for k in ("kiosk_id", "issuer_name", "database_url") for v in ODD_SETTINGS]
    for line in values:
        d = root / f"cfg-{len(config_exits) + sum(config_exits.values())}"
        d.mkdir()
        with contextlib.suppress(ValueError):
            (d / "config.toml").write_text(line + "\n", encoding="utf-8")
        code, output, exc = run(["--data-dir", str(d), "directory", "status"], "")
        config_exits[code] += 1
        if exc is not None or "Traceback" in output or "hunter2" in output:
            config_crashes.append((line, f"{type(exc).__name__}: {exc}" if exc else output[-300:]))
    print(f"config cases: {len(values)}; exit codes {dict(sorted(config_exits.items()))}")
    print(f"  uncaught exceptions/tracebacks/leaked passwords: {len(config_crashes)}")
    for line, what in config_crashes[:10]:
        print(f"    {line!r}: {what}")

    sub_bad = 0
    sample = [argv_case(rng) for _ in range(args.subprocess)]
    sample += [["--json", "users", "list"], ["tokens", "list", "--json"], ["--version"], ["audit", "verify"]]
    for argv in sample:
        clean = [a.replace("\x00", "") for a in argv]
        r = subprocess.run(
            [PY, "-m", "kiosk.cli", "--data-dir", str(demo), *clean],
            input="x\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        if "Traceback" in r.stderr or "Exception ignored" in r.stderr or r.returncode not in (0, 1, 2):
            sub_bad += 1
            print(f"    subprocess {clean!r}: rc={r.returncode} {r.stderr[-300:]}")
    pipe = subprocess.run(  # noqa: S602 - the documented pipeline
        f"{PY} -m kiosk.cli --json --data-dir {demo} users list | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    sub_bad += "Traceback" in pipe.stderr or "Exception" in pipe.stderr
    print(f"subprocess cases: {len(sample) + 1}; with a traceback or an odd exit: {sub_bad}")
    shutil.rmtree(root, ignore_errors=True)
    return 1 if crashes or changed or config_crashes or sub_bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--subprocess", type=int, default=80)
    parser.add_argument("--seed", type=int, default=1)
    sys.exit(main_pass(parser.parse_args()))
