"""The command line against hostile and careless use: private files whatever the umask, codes
kept off the command line, relative and broken paths, closed pipes, options in either place."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import load_settings
from kiosk.demo import PROVIDERS
from kiosk.services import Services, build_services

PY = sys.executable
RIVERA = PROVIDERS[0]
UNREADABLE = Path("/proc/sys/vm/compact_memory")  # write-only, even for root


def ipk(*args: str, stdin: str = "", umask: int = -1) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "kiosk.cli", *args], input=stdin, capture_output=True, text=True, timeout=120, umask=umask
    )


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """`ipkiosk ARGV` in this process (fast), with stdin, stdout and stderr as strings."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def store_rows(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the store, in order."""
    with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'kiosk.sqlite3'}?mode=ro", uri=True)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: db.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}  # noqa: S608


def store_hash(data_dir: Path) -> str:
    """Equal hashes mean nothing in the store changed."""
    return hashlib.sha256(repr(sorted(store_rows(data_dir).items())).encode()).hexdigest()


def only_audited(before: dict[str, list[tuple[object, ...]]], after: dict[str, list[tuple[object, ...]]]) -> bool:
    """Nothing changed but audit rows appended (a refused admin action is audited, rule 17)."""
    chain = ("audit", "audit_head")
    same = all(before[t] == after.get(t) for t in before if t not in chain)
    return same and after["audit"][: len(before["audit"])] == before["audit"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hardening") / "demo"
    r = ipk("--data-dir", str(d), "demo", "--build-only")
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture
def demo(template: Path, tmp_path: Path) -> Path:
    d = tmp_path / "demo"
    shutil.copytree(template, d)
    return d


@pytest.fixture
def services(demo: Path) -> Iterator[Services]:
    s = build_services(load_settings(demo))
    yield s
    s.close()


def test_everything_in_the_data_dir_is_private_whatever_the_umask(tmp_path: Path) -> None:
    d = tmp_path / "kiosk"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)  # noqa: S103 - the world-readable folder the kiosk must tighten
    assert ipk("--data-dir", str(d), "demo", "--build-only", umask=0o022).returncode == 0
    r = ipk("--data-dir", str(d), "audit", "export", "--csv", str(d / "audit.csv"), umask=0o022)
    assert r.returncode == 0, r.stderr
    r = ipk("--data-dir", str(d), "directory", "import", str(d / "demo-nppes.csv"), "--no-progress", umask=0o022)
    assert r.returncode == 0, r.stderr
    r = ipk("--data-dir", str(d), "cronto", "make", "--user", "dr.x", "--npi", RIVERA.npi, "--out", str(d / "x.png"))
    assert r.returncode == 0, r.stderr
    # SQLite gives its WAL and shared-memory files the store's own mode: look while they exist.
    with contextlib.closing(sqlite3.connect(d / "kiosk.sqlite3")) as db:
        db.execute("SELECT count(*) FROM audit").fetchone()
        assert (d / "kiosk.sqlite3-wal").exists() and (d / "kiosk.sqlite3-shm").exists()
        paths = [d, *d.rglob("*")]
        wide = {str(p.relative_to(d)): oct(stat.S_IMODE(p.stat().st_mode)) for p in paths if p.stat().st_mode & 0o077}
    assert {"audit.csv", "x.png", "config.toml", "cronto/dr.rivera.png", "directory/region-1.sqlite3"} <= {
        str(p.relative_to(d)) for p in paths
    }
    assert wide == {}
    assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_an_export_over_a_readable_file_becomes_private(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.csv"
    out.write_text("old")
    out.chmod(0o644)
    assert run(["--data-dir", str(demo), "audit", "export", "--csv", str(out)])[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text().startswith("seq,")


def _codes(services: Services, serial: str) -> tuple[str, str]:
    return services.system.tokens.code_now(serial, offset_steps=-1)[0], services.system.tokens.code_now(serial)[0]


def test_codes_are_read_from_stdin(demo: Path, services: Services) -> None:
    dd = ["--data-dir", str(demo)]
    assert (
        run(
            [
                *dd,
                "users",
                "add",
                "dr.in",
                "--name",
                "In, Std",
                "--npi",
                "1993999998",
                "--password-stdin",
                "--email",
                "in@clinic.example",
            ],
            "pw for stdin\n",
        )[0]
        == 0
    )
    assert run([*dd, "tokens", "assign", "DEMO-0002", "dr.in"])[0] == 0
    c1, c2 = _codes(services, "DEMO-0002")
    code, out, err = run([*dd, "--json", "tokens", "resync", "DEMO-0002", "--codes-stdin"], f"{c1}\n{c2}\n")
    assert code == 0 and json.loads(out)["drift"] in (0, -1), err
    nxt = services.system.tokens.code_now("DEMO-0002", offset_steps=1)[0]
    code, out, _ = run(
        [*dd, "--json", "auth", "check", "dr.in", "--password-stdin", "--code-stdin"], f"pw for stdin\n{nxt}\n"
    )
    assert code == 0 and json.loads(out)["accepted"] is True
    c1, c2 = _codes(services, "DEMO-0003")
    code, out, err = run(
        [*dd, "--json", "tokens", "replace", "DEMO-0002", "DEMO-0003", "--codes-stdin"], f"{c1}\n{c2}\n"
    )
    assert code == 0 and json.loads(out)["owner"] == "dr.in", err
    # Codes in both places, or too few on stdin, are refused before anything is touched.
    before = store_hash(demo)
    assert run([*dd, "tokens", "resync", "DEMO-0003", "123456", "--codes-stdin"], "1\n2\n")[0] == 2
    assert run([*dd, "tokens", "resync", "DEMO-0003", "--codes-stdin"], "123456\n")[0] == 2
    assert run([*dd, "tokens", "resync", "DEMO-0003"])[0] == 2
    assert run([*dd, "auth", "check", "dr.in", "--password-stdin", "--code-stdin"], "pw for stdin\n")[0] == 2
    assert store_hash(demo) == before


def test_a_relative_data_dir_still_verifies_npis(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(demo.parent)
    code, out, err = run(["--json", "--data-dir", "demo", "directory", "verify", RIVERA.npi, "--last-name", "Rivera"])
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["outcome"] == "verified" and all(a["status"] != "unavailable" for a in doc["answers"].values())


def test_a_shard_given_by_a_relative_path_is_read(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.directory.shard import LocalRegionBackend

    monkeypatch.chdir(demo)
    backend = LocalRegionBackend(1, Path("directory/region-1.sqlite3"))
    record = backend.lookup(RIVERA.npi)
    assert record is not None and record.last_name == "Rivera"


def test_a_reader_that_goes_away_gets_no_traceback(demo: Path) -> None:
    proc = subprocess.Popen(
        [PY, "-m", "kiosk.cli", "--json", "--data-dir", str(demo), "tokens", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the child writes anything: its first write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
    r = subprocess.run(  # noqa: S602 - the documented pipeline itself
        f"{PY} -m kiosk.cli --json --data-dir {demo} users list | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout.strip() == "[" and "Traceback" not in r.stderr and "Exception" not in r.stderr


def test_global_options_go_before_or_after_the_command(demo: Path) -> None:
    d = str(demo)
    for argv in (
        ["--json", "--data-dir", d, "tokens", "list"],
        ["tokens", "list", "--json", "--data-dir", d],
        ["--data-dir", d, "tokens", "--json", "list"],
        ["tokens", "list", "--data-dir", d, "--json"],
    ):
        code, out, err = run(argv)
        assert code == 0 and {t["serial"] for t in json.loads(out)} >= {"DEMO-0001"}, (argv, err)
    code, out, _ = run(["auth", "check", "dr.rivera", "--password-stdin", "--json", "--data-dir", d], "demo-password\n")
    assert json.loads(out)["accepted"] is True
    image = str(demo / "cronto" / "dr.rivera.png")
    code, out, err = run(["cronto", "decode", image, "--json", "--data-dir", d])
    assert code == 0 and json.loads(out)["claims"]["sub"] == "dr.rivera", err
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", json.loads(out)["expires_at"])
    code, out, _ = run(["cronto", "decode", image, "--data-dir", d])
    assert re.search(r"expires at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", out) and "Unix" not in out
    code, out, _ = run(["directory", "status", "--data-dir", d, "--json"])
    assert code == 0 and len(json.loads(out)["regions"]) == 5


def test_demo_takes_its_data_dir_after_the_command(tmp_path: Path) -> None:
    r = ipk("demo", "--build-only", "--data-dir", str(tmp_path / "d"), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["data_dir"] == str(tmp_path / "d")


def test_version() -> None:
    from importlib.metadata import version

    r = ipk("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"ipkiosk {version('iprescribe-kiosk')}"


LONG = "n" * 300


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    (tmp / "a-folder").mkdir(exist_ok=True)
    return {
        "missing": tmp / "missing.csv",
        "folder": tmp / "a-folder",
        "long name": tmp / LONG,
        "long folder": tmp / LONG / "x.csv",
        "unreadable": UNREADABLE,
        "a device": Path("/dev/zero"),
    }


def _bad_outputs(tmp: Path) -> dict[str, Path]:
    (tmp / "a-folder").mkdir(exist_ok=True)
    return {
        "folder": tmp / "a-folder",
        "missing parent": tmp / "no" / "such" / "out.file",
        "long name": tmp / LONG,
        "unwritable folder": Path("/proc/out.file"),
        "parent is a file": tmp / "config-file" / "out.file",
        "a device": Path("/dev/null"),
    }


@pytest.mark.parametrize(
    "command",
    [
        ["tokens", "import", "{in}"],
        ["directory", "load", "{in}"],
        ["directory", "import", "{in}", "--no-progress"],
        ["directory", "import", "--deactivations", "{in}", "--no-progress"],
        ["cronto", "decode", "{in}"],
        ["audit", "export", "--csv", "{out}"],
        ["cronto", "make", "--user", "dr.rivera", "--npi", RIVERA.npi, "--out", "{out}"],
    ],
    ids=lambda c: " ".join(c[:2]) + (" --deactivations" if "--deactivations" in c else ""),
)
def test_bad_paths_are_clear_errors_and_change_nothing(demo: Path, tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "config-file").write_text("x")
    cases = _bad_inputs(tmp_path) if "{in}" in command else _bad_outputs(tmp_path)
    shards = {p.name: p.read_bytes() for p in (demo / "directory").iterdir()}
    before = store_hash(demo)
    for what, path in cases.items():
        argv = [a.replace("{in}", str(path)).replace("{out}", str(path)) for a in command]
        code, out, err = run(["--data-dir", str(demo), *argv])
        assert code == 2, (what, out, err)
        assert err.startswith("error: ") and "Traceback" not in err, (what, err)
        assert store_hash(demo) == before, what
    assert {p.name: p.read_bytes() for p in (demo / "directory").iterdir()} == shards
    assert not (tmp_path / "no").exists()
    assert stat.S_IMODE(os.stat("/dev/null").st_mode) == 0o666  # never chmod-ed as an "export"


def test_bad_data_dirs(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    for data_dir in (tmp_path / "file", tmp_path / LONG, tmp_path / "file" / "below", Path("/proc/kiosk")):
        for argv in (["users", "list"], ["demo", "--build-only"], ["tokens", "list"]):
            code, _, err = run(["--data-dir", str(data_dir), *argv])
            assert code == 2 and err.startswith("error: ") and "Traceback" not in err, (data_dir, argv, err)
    # An empty --data-dir (an unset shell variable) is not "the current folder".
    code, _, err = run(["--data-dir", "", "users", "list"])
    assert code == 2 and "data dir is empty" in err


def test_arguments_that_are_not_utf8_are_refused(demo: Path) -> None:
    for argv in (
        ["users", "unlock", b"\xff".decode("utf-8", "surrogateescape")],
        ["--json", "tokens", "list", "--user", "\udcff"],
    ):
        r = subprocess.run(
            [PY, "-m", "kiosk.cli", "--data-dir", str(demo), *(os.fsencode(a) for a in argv)],
            capture_output=True,
            timeout=60,
        )
        assert r.returncode == 2 and b"not valid UTF-8" in r.stderr and b"Traceback" not in r.stderr
