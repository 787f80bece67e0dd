"""Adversarial pass on the other inputs of issues 9 and 11: enrollment images, config values,
CLI paths, the directory import. Real subprocesses on a demo data dir; xfail marks open findings."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.cronto import CrontoIssuer, CrontoVerifier
from core.errors import CrontoRejected
from core.store import Store
from kiosk.config_checks import check_region_url
from tests.conftest import T0
from tests.nppes_factory import individual, npis

PY = sys.executable


def ipk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=120
    )


def clean_refusal(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stderr, r.stderr[-400:]
    assert r.returncode == 2, (r.returncode, r.stderr[-400:])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("attack") / "demo"
    r = ipk(d, "demo", "--build-only")
    assert r.returncode == 0, r.stdout + r.stderr
    return d


# --------------------------------------------------------------------------- enrollment images


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_deeply_nested_unsigned_body_is_not_our_format(store: Store) -> None:
    """1,900 characters fit a QR code; json.loads of 1,400 '[' raised RecursionError before any
    signature was checked (`ipkiosk cronto decode` printed a traceback)."""
    issuer = CrontoIssuer.generate("ipkiosk")
    verifier = CrontoVerifier({"ipkiosk": issuer.public_key_pem()}, ManualClock(T0), store)
    payload = _b64(b'{"alg":"Ed25519"}') + "." + _b64(b"[" * 1400) + ".AAAA"
    with pytest.raises(CrontoRejected) as caught:
        verifier.check(payload, None)
    assert caught.value.reason == "not_our_format"


# --------------------------------------------------------------------------- config values


@pytest.mark.parametrize("sep", ["#", "/", "?"])
def test_a_region_url_whose_password_holds_a_separator_never_shows_it(sep: str) -> None:
    """urlsplit cuts the netloc at the separator, so 'user:s3cr' reads as host and port and
    urllib's reason ("...as 's3cr'") carried the password's start into the message."""
    with pytest.raises(ValueError) as caught:
        check_region_url(f"https://user:s3cr{sep}et@host.example/api")
    assert "s3cr" not in str(caught.value)


@pytest.mark.parametrize("kind", ["symlink-loop", "unknown-user"])
def test_a_data_dir_that_cannot_be_resolved_is_a_clean_error(tmp_path: Path, kind: str) -> None:
    if kind == "symlink-loop":
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        data_dir = str(tmp_path / "a")
    else:
        data_dir = "~no-such-user-here/kiosk"
    clean_refusal(ipk(Path(data_dir), "users", "list"))


def test_a_relative_sqlite_database_url_is_refused(tmp_path: Path) -> None:
    """`database_url = "sqlite:///kiosk.sqlite3"` opens a different, empty store in every folder
    IT staff start ipkiosk from: tokens and accounts seem lost."""
    data_dir = tmp_path / "demo"
    assert ipk(data_dir, "demo", "--build-only").returncode == 0
    config = data_dir / "config.toml"  # top-level keys go before its [issuers] table
    config.write_text('database_url = "sqlite:///relative.sqlite3"\n' + config.read_text())
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    r = subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(data_dir), "users", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=elsewhere,
    )
    assert not (elsewhere / "relative.sqlite3").exists()
    clean_refusal(r)


@pytest.mark.parametrize(
    "values",
    [{"idle_timeout": 1e-300}, {"idle_timeout": 5.0, "idle_warning": 20.0}, {"region_timeout": 1e-9}],
    ids=["idle-timeout-denormal", "warning-longer-than-timeout", "region-timeout-nanosecond"],
)
def test_timeouts_no_kiosk_can_work_with_are_refused(tmp_path: Path, values: dict[str, float]) -> None:
    """idle_timeout = 1e-300 wipes every session at once; region_timeout = 1e-9 makes every
    region 'unavailable' (every provider sent to the Code Generator): typos, not settings."""
    from core.errors import ConfigError
    from kiosk.config import load_settings

    with pytest.raises(ConfigError, match="|".join(values)):
        load_settings(tmp_path, **values)


# --------------------------------------------------------------------------- output paths


def test_an_output_path_that_is_a_symlink_never_overwrites_its_target(demo: Path, tmp_path: Path) -> None:
    """A symlink planted where IT staff write an image (a shared folder) pointed at the store:
    `cronto make --out` overwrote the store with a PNG."""
    victim = tmp_path / "precious.txt"
    victim.write_bytes(b"precious data\n")
    link = tmp_path / "image.png"
    link.symlink_to(victim)
    r = ipk(demo, "cronto", "make", "--user", "drsmith", "--npi", "1234567893", "--out", str(link))
    assert victim.read_bytes() == b"precious data\n"
    clean_refusal(r)


def test_an_export_onto_the_store_itself_is_refused(tmp_path: Path) -> None:
    """A slip at the prompt, `audit export --csv DATA_DIR/kiosk.sqlite3`, wrote the CSV over the
    store: every account, token and audit row gone."""
    data_dir = tmp_path / "demo"
    assert ipk(data_dir, "demo", "--build-only").returncode == 0
    r = ipk(data_dir, "audit", "export", "--csv", str(data_dir / "kiosk.sqlite3"))
    assert ipk(data_dir, "users", "list").returncode == 0
    clean_refusal(r)


# --------------------------------------------------------------------------- directory import


def _nppes_zip(tmp_path: Path, damage: str) -> Path:
    from core.directory.nppes import write_nppes_csv

    csv_path = tmp_path / "n.csv"
    write_nppes_csv(csv_path, [individual(n, f"Doe{i}") for i, n in enumerate(npis(2000))])
    path = tmp_path / f"{damage}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("npidata_pfile_20240101-20240107.csv", csv_path.read_bytes())
    raw = bytearray(path.read_bytes())
    central = raw.rfind(b"PK\x01\x02")
    if damage == "bad-crc":
        middle = len(raw) // 2
        raw[middle : middle + 50] = bytes(50)
    elif damage == "encrypted":
        raw[6] |= 1
        raw[central + 8] |= 1
    elif damage == "unknown-method":
        raw[8:10] = raw[central + 10 : central + 12] = struct.pack("<H", 99)
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("damage", ["bad-crc", "encrypted", "unknown-method"])
def test_a_damaged_zip_is_refused_and_the_directory_kept(demo: Path, tmp_path: Path, damage: str) -> None:
    before = ipk(demo, "directory", "status").stdout
    r = ipk(demo, "directory", "import", "--no-progress", str(_nppes_zip(tmp_path, damage)))
    assert ipk(demo, "directory", "status").stdout == before
    clean_refusal(r)


# --------------------------------------------------------------------------- file modes


def test_a_shared_folder_given_as_the_data_dir_keeps_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ipkiosk --data-dir /tmp users list` (a slip of the operator, as root) made /tmp 0700 and
    dropped its sticky bit; a shard path in a shared folder does the same at `directory import`.
    A folder the kiosk did not make is refused or left as it was, never re-moded."""
    from kiosk.cli import main

    shared = tmp_path / "like-tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("IPKIOSK_KEYRING", "memory")  # the test run allows it (tests/conftest.py)
    umask = os.umask(0o077)  # main() tightens the umask of the process: give it back afterwards
    try:
        main(["--data-dir", str(shared), "users", "list"])
    finally:
        os.umask(umask)
    capsys.readouterr()
    assert shared.stat().st_mode & 0o7777 == 0o1777


def test_a_warning_as_long_as_a_workable_timeout_is_refused(tmp_path: Path) -> None:
    from core.errors import ConfigError
    from kiosk.config import load_settings

    with pytest.raises(ConfigError, match="idle_warning"):
        load_settings(tmp_path, idle_timeout=30.0, idle_warning=30.0)
    assert load_settings(tmp_path, idle_timeout=30.0, idle_warning=29.0).idle_warning == 29.0


def test_a_shard_path_in_a_symlink_loop_names_its_setting(tmp_path: Path) -> None:
    from core.errors import ConfigError
    from kiosk.config import load_settings

    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "config.toml").write_text(f'[regions.2]\npath = "{tmp_path / "a" / "x.sqlite3"}"\n')
    with pytest.raises(ConfigError, match=r"regions\.2\.path"):
        load_settings(tmp_path)


def test_a_camera_file_under_an_unknown_users_home_is_a_source_error() -> None:
    from kiosk.camera.source import SourceError, parse_camera

    with pytest.raises(SourceError):
        parse_camera("~no-such-user-here/clip.mp4")


def test_a_link_put_at_the_output_after_the_check_is_replaced_not_written_through(tmp_path: Path) -> None:
    """Between check_output and the write, a symlink or a hard link to the store may appear."""
    from kiosk.files import open_private, write_private

    victim = tmp_path / "store.sqlite3"
    victim.write_bytes(b"precious data\n")
    soft, hard = tmp_path / "soft.png", tmp_path / "hard.csv"
    soft.symlink_to(victim)
    os.link(victim, hard)
    write_private(soft, b"image")
    with open_private(hard) as f:
        f.write("csv\n")
    assert victim.read_bytes() == b"precious data\n"
    assert soft.read_bytes() == b"image" and not soft.is_symlink() and hard.read_text() == "csv\n"
    assert soft.stat().st_mode & 0o777 == 0o600 and hard.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.csv", "soft.png", "store.sqlite3"]


@pytest.mark.parametrize(
    "name", ["kiosk.sqlite3-wal", "config.toml", "directory/region-3.sqlite3", "directory/new.csv", "."]
)
def test_an_export_onto_any_kiosk_file_or_folder_is_refused(tmp_path: Path, name: str) -> None:
    from kiosk.config import load_settings
    from kiosk.files import PathProblem, check_output

    settings = load_settings(tmp_path)
    (tmp_path / "directory").mkdir()
    with pytest.raises(PathProblem, match="kiosk's own files"):
        check_output(tmp_path / name, "CSV file", settings)
    for fine in ("audit.csv", "reports/audit.csv"):
        (tmp_path / "reports").mkdir(exist_ok=True)
        check_output(tmp_path / fine, "CSV file", settings)


def test_an_export_onto_a_store_outside_the_data_dir_is_refused(tmp_path: Path) -> None:
    from kiosk.config import load_settings
    from kiosk.files import PathProblem, check_output

    elsewhere = tmp_path / "db"
    elsewhere.mkdir()
    (tmp_path / "d").mkdir()
    settings = load_settings(tmp_path / "d", database_url=f"sqlite:///{elsewhere / 'k.sqlite3'}")
    with pytest.raises(PathProblem, match="kiosk's own files"):
        check_output(elsewhere / "k.sqlite3", "CSV file", settings)


def test_a_folder_others_can_write_is_refused_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main

    shared = tmp_path / "group-writable"
    shared.mkdir()
    shared.chmod(0o775)
    monkeypatch.setenv("IPKIOSK_KEYRING", "memory")
    umask = os.umask(0o077)
    try:
        code = main(["--data-dir", str(shared), "users", "list"])
    finally:
        os.umask(umask)
    err = capsys.readouterr().err
    assert code == 2 and f"chmod 700 {shared}" in err and "Traceback" not in err
    assert shared.stat().st_mode & 0o777 == 0o775 and not (shared / "kiosk.sqlite3").exists()


def test_private_dir_makes_what_is_missing_0700_and_leaves_what_exists(tmp_path: Path) -> None:
    from kiosk.files import private_dir

    existing = tmp_path / "mine"
    existing.mkdir()
    existing.chmod(0o755)
    made = private_dir(existing / "a" / "b")
    assert made.stat().st_mode & 0o777 == 0o700 and (existing / "a").stat().st_mode & 0o777 == 0o700
    assert private_dir(existing) == existing and existing.stat().st_mode & 0o777 == 0o755
