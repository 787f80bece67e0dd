"""Properties over odd command lines and config values, run in-process (`kiosk.cli.main`):
no exception escapes, an error exits 2 and leaves the store as it was (but for the audit rows of a
refused admin action), and every value a
config file gets accepted with is one the kiosk can live with."""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kiosk import config
from kiosk.cli import main
from tests.integration.test_cli_hardening import only_audited, store_rows

PY = sys.executable
# Commands whose refusals must not touch the store. Left out: `run` and `demo` (a terminal UI),
# `token-sim` without --once (reads the terminal), `credentials set/delete` (change the keyring on
# purpose) and `auth check` (a refused sign-in is counted and audited, as it must be).
COMMANDS = [
    ["users", "add"],
    ["users", "list"],
    ["users", "unlock"],
    ["tokens", "import"],
    ["tokens", "list"],
    ["tokens", "assign"],
    ["tokens", "resync"],
    ["tokens", "unlock"],
    ["tokens", "revoke"],
    ["tokens", "replace"],
    ["backup-codes", "issue"],
    ["directory", "verify"],
    ["directory", "status"],
    ["directory", "load"],
    ["directory", "import"],
    ["cronto", "make"],
    ["cronto", "decode"],
    ["cronto", "public-key"],
    ["credentials", "check"],
    ["audit", "verify"],
    ["audit", "export"],
    ["audit", "report"],
    ["token-sim"],
    [],
]
OPTIONS = [
    "--json", "--name", "--npi", "--role", "--password-stdin", "--user", "--search", "--reason", "--codes",
    "--codes-stdin", "--code", "--code-stdin", "--passphrase-stdin", "--psk-hex-stdin", "--weekly",
    "--deactivations", "--no-progress", "--last-name", "--out", "--expires-in", "--create-key", "--since",
    "--csv", "--once", "--help", "-h", "--version", "--",
]  # fmt: skip
ODD = [
    "", " ", "-", "nan", "inf", "-1", "0", "1e308", "1e-300", "9" * 400, "DEMO-0001", "demo-0001", "DEMO-IT01",
    "dr.rivera", "it.admin", "1234567893", "1234567890", "123456", "2027-01-01", "9999-12-31", "0000-00-00",
    "provider", "it_staff", "lost", "stolen", "x" * 65, "é", "\u202e", "\x1b[2J", "../../etc/passwd",
    "/proc/sys/vm/compact_memory", "/proc/x.csv", "/dev/null", "/", "n" * 300, "a-folder", "no/such/file.csv",
    "\udcff", "nppes.csv",
]  # fmt: skip
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12)
ARG = st.one_of(st.sampled_from(OPTIONS), st.sampled_from(ODD), TEXT)


def run(argv: list[str], stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = saved
    return code, out.getvalue()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo data dir, and a working folder for the relative paths the examples write."""
    root = tmp_path_factory.mktemp("property")
    r = subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(root / "demo"), "demo", "--build-only"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    (root / "work" / "a-folder").mkdir(parents=True)
    shutil.copy(root / "demo" / "demo-nppes.csv", root / "work" / "nppes.csv")
    yield root


# Well-formed command lines with their values left open ({}), so most examples get past argparse
# into the handlers and the core.
SHAPES = [
    "users add {} --name {} --npi {} --password-stdin",
    "users add {} --name {} --role it_staff --password-stdin",
    "users unlock {}",
    "tokens list --user {} --search {}",
    "tokens assign {} {}",
    "tokens resync {} {} {}",
    "tokens resync {} --codes-stdin",
    "tokens unlock {}",
    "tokens revoke {} --reason lost",
    "tokens replace {} {} --codes {} {}",
    "tokens replace {} {} --codes-stdin",
    "tokens import {}",
    "backup-codes issue {}",
    "directory verify {} --last-name {}",
    "directory load {}",
    "directory import {} --no-progress",
    "directory import --deactivations {} --no-progress",
    "cronto make --user {} --npi {} --out {} --expires-in {}",
    "cronto make --user {} --npi {} --out {}",
    "cronto decode {} --user {}",
    "audit export --csv {} --since {}",
    "audit export --csv {}",
    "audit report --since {}",
    "token-sim {} --once",
]
VALUE = st.one_of(st.sampled_from(ODD), TEXT.map(lambda t: t.lstrip("-")))


@st.composite
def shaped(draw: st.DrawFn) -> list[str]:
    words = draw(st.sampled_from(SHAPES)).split(" ")
    return [draw(VALUE) if w == "{}" else w for w in words]


@st.composite
def free(draw: st.DrawFn) -> list[str]:
    return [*draw(st.sampled_from(COMMANDS)), *draw(st.lists(ARG, max_size=6))]


STDIN = st.sampled_from(["", "x\n", "1\n2\n", "demo-password\n123456\n"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.one_of(shaped(), shaped(), shaped(), free()), stdin=STDIN)
def test_odd_command_lines(sandbox: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str) -> None:
    monkeypatch.chdir(sandbox / "work")
    demo = sandbox / "demo"
    if not argv or (argv[0].startswith("-") and not {"--help", "-h", "--version"} & set(argv)):
        return  # no command: the kiosk itself would start
    if argv[0] == "token-sim" and "--once" not in argv:
        argv = [*argv, "--once"]
    before = store_rows(demo)
    code, output = run(["--data-dir", str(demo), *argv], stdin)
    event(f"exit {code}" + (" (usage)" if "usage: " in output else ""))
    assert isinstance(code, int) and code in (0, 1, 2), (argv, code, output)
    assert "Traceback" not in output
    if code == 2:
        assert only_audited(before, store_rows(demo)), (argv, output)


KEYS = [*config.Settings.model_fields, "urll", "idle_timout", "Keyring", "regions.1.url", "regions.2.path"]
ODD_SETTINGS = [
    "", "memory", "system", "demo-file", "https://registry.example/api", "http://registry.example/api",
    "http://127.0.0.1:9/api", "https://u:secret@registry.example/", "https://169.254.169.254/",
    "https://[fe80::1]/", "postgresql://kiosk@db.example/kiosk", "mysql://a@b/c", "sqlite://", "garbage",
    "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "k" * 65, "0", "../x.sqlite3",
]  # fmt: skip
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(ODD_SETTINGS),
    st.lists(st.integers(), max_size=2),
)


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)  # a JSON string is a TOML basic string


def toml_document(entries: dict[str, object]) -> str:
    top = [f"{k} = {toml_value(v)}" for k, v in entries.items() if "." not in k and k not in ("regions", "issuers")]
    tables = []
    if "issuers" in entries:
        tables.append(f"[issuers]\nsome-issuer = {toml_value(entries['issuers'])}")
    if "regions" in entries:
        tables.append(f"[regions.3]\nurl = {toml_value(entries['regions'])}")
    for k, v in entries.items():
        if k.startswith("regions."):
            _, n, field = k.split(".")
            tables.append(f"[regions.{n}]\n{field} = {toml_value(v)}")
    return "\n".join(top + tables) + "\n"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=3))
def test_config_values(tmp_path_factory: pytest.TempPathFactory, entries: dict[str, object]) -> None:
    d = tmp_path_factory.mktemp("cfg")
    document = toml_document(entries)
    (d / "config.toml").write_text(document, encoding="utf-8")
    config.allow_memory_keyring(False)
    try:
        code, output = run(["--data-dir", str(d), "directory", "status"])
        accepted = None
        with contextlib.suppress(Exception):
            accepted = config.load_settings(d)
    finally:
        config.allow_memory_keyring(True)
    event(f"exit {code}")
    assert code in (0, 2) and "Traceback" not in output, (document, output)
    assert "secret" not in output
    if code == 2:
        assert output.startswith("error: ") and (str(d / "config.toml") in output), (document, output)
        assert accepted is None
        return
    assert accepted is not None, document
    for seconds in (accepted.idle_timeout, accepted.region_timeout, accepted.scan_timeout):
        assert math.isfinite(seconds) and 0 < seconds <= 3600
    assert accepted.keyring != "memory"
    assert 0 < len(accepted.kiosk_id) <= 64 and accepted.kiosk_id.isascii()
    assert accepted.issuer_name.isascii() and accepted.issuer_name.isprintable() and accepted.issuer_name
    assert accepted.data_dir.is_absolute()
    for region in range(1, 6):
        src = accepted.region_source(region)
        assert (src.url or "").startswith(("https://", "http://127.", "http://localhost")) or src.url is None
        assert src.path is None or src.path.is_absolute()
