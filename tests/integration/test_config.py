"""Config values are checked at start-up: a bad one stops every command with exit 2 and a
message naming the setting and the file (or variable), never a traceback, never a secret."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from core.errors import ConfigError
from kiosk import config
from kiosk.cli import main

PY = sys.executable
RSA_PEM = (
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
ED_PEM = (
    ed25519.Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def real_kiosk() -> Iterator[None]:
    """This process as a real kiosk would be: the test run's memory-keyring permission off."""
    config.allow_memory_keyring(False)
    try:
        yield
    finally:
        config.allow_memory_keyring(True)


BAD = [
    ("region_timeout = inf", "region_timeout"),
    ("region_timeout = 1e308", "region_timeout"),
    ("region_timeout = nan", "region_timeout"),
    ("region_timeout = -1", "region_timeout"),
    ('database_url = ""', "database_url"),
    ('database_url = "garbage"', "database_url"),
    ('database_url = "mysql://kiosk@db.example/kiosk"', "database_url"),
    ('database_url = "sqlite://"', "database_url"),
    ("idle_timeout = nan", "idle_timeout"),
    ("idle_timeout = inf", "idle_timeout"),
    ("idle_timeout = 0", "idle_timeout"),
    ("idle_timeout = -120", "idle_timeout"),
    ("scan_timeout = inf", "scan_timeout"),
    ('issuer_name = ""', "issuer_name"),
    ('issuer_name = "kiösk"', "issuer_name"),
    ('kiosk_id = "' + "k" * 65 + '"', "kiosk_id"),
    ('kiosk_id = "front\\tdesk"', "kiosk_id"),
    ('[issuers]\nother = "not a key"', "issuers"),
    (f'[issuers]\nother = """{RSA_PEM}"""', "issuers"),
    ('[regions.1]\nurl = ""', "regions.1.url"),
    ('[regions.1]\nurll = "https://registry.example/api"', "regions.1.urll"),
    ("idle_timout = 60", "idle_timout"),
    ('[regions.6]\nurl = "https://registry.example/api"', "regions"),
    ('[regions.2]\nurl = "http://registry.example/api"', "regions.2.url"),
    ('[regions.2]\nurl = "ftp://registry.example/api"', "regions.2.url"),
    ('[regions.2]\nurl = "https://169.254.169.254/latest/meta-data"', "regions.2.url"),
    ('[regions.2]\nurl = "http://2852039166/"', "regions.2.url"),
    ('[regions.2]\nurl = "https://[fe80::1]/api"', "regions.2.url"),
    ('[regions.2]\nurl = "https://169.254.10.1/api"', "regions.2.url"),
    ('[regions.2]\nurl = "https://[fd00:ec2::254]/"', "regions.2.url"),
    ('[regions.2]\nurl = "https://metadata.google.internal/computeMetadata/v1"', "regions.2.url"),
    ('[regions.2]\nurl = "https://[::ffff:169.254.169.254]/"', "regions.2.url"),
    ('[regions.2]\nurl = "https://registry.example:99999/"', "regions.2.url"),
    ('keyring = "memory"', "keyring"),
    ('stop_binding = "no"', "stop_binding"),  # pydantic alone would read this as False
    ('idle_timeout = "120"', "idle_timeout"),
    ('data_dir = "/elsewhere"', "data_dir"),
    ('[regions.2]\npath = ""', "regions.2.path"),
    ('[regions.2]\npath = "."', "regions.2.path"),
    ("camera = true", "camera"),
]


@pytest.mark.parametrize(("toml", "setting"), BAD, ids=[b[0][:40] for b in BAD])
def test_bad_value_stops_with_the_setting_named(tmp_path: Path, toml: str, setting: str, real_kiosk: None) -> None:
    (tmp_path / "config.toml").write_text(toml + "\n", encoding="utf-8")
    code, out, err = run(["--data-dir", str(tmp_path), "tokens", "list"])
    assert code == 2, err
    assert f"'{setting}'" in err and str(tmp_path / "config.toml") in err
    assert "Traceback" not in err + out
    assert not (tmp_path / "kiosk.sqlite3").exists()  # stopped before anything was opened


def test_good_values_pass(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'kiosk_id = "front-desk-2"\nregion_timeout = 1.5\nidle_timeout = 90\ncamera = 1\n'
        'database_url = "postgresql://kiosk@db.example/kiosk"\n'
        f'[issuers]\n"hq" = """{ED_PEM}"""\n'
        '[regions.1]\nurl = "https://registry.example/api/"\n'
        '[regions.2]\nurl = "http://127.0.0.1:8080/api"\n'
        '[regions.3]\nurl = "http://localhost:8080/api"\n'
        '[regions.4]\npath = "shards/four.sqlite3"\n',
        encoding="utf-8",
    )
    s = config.load_settings(tmp_path)
    assert s.region_timeout == 1.5 and s.issuers["hq"] == ED_PEM and s.camera == "1"
    assert s.region_source(4).path == tmp_path.resolve() / "shards" / "four.sqlite3"


def test_a_password_in_a_region_url_is_never_printed(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[regions.3]\nurl = "https://nppes:hunter2@registry.example/api"\n')
    code, out, err = run(["--json", "--data-dir", str(tmp_path), "directory", "status"])
    assert code == 2 and "regions.3.url" in out and "hunter2" not in out + err and "***@registry.example" in out
    (tmp_path / "config.toml").write_text('database_url = "mysql://kiosk:hunter2@db.example/kiosk"\n')
    code, out, err = run(["--data-dir", str(tmp_path), "users", "list"])
    assert code == 2 and "database_url" in err and "hunter2" not in out + err


def test_a_url_given_as_a_shard_path_is_refused_without_its_password(tmp_path: Path) -> None:
    # Found by tests/integration/test_cli_property.py: the URL was shown back, password and all,
    # as "Region 2's directory file .../https:/u:hunter2@registry.example is missing".
    (tmp_path / "config.toml").write_text('[regions.2]\npath = "https://nppes:hunter2@registry.example/"\n')
    code, out, err = run(["--data-dir", str(tmp_path), "directory", "status"])
    assert code == 2 and "regions.2.path" in err and "is a URL" in err, err
    assert "hunter2" not in out + err and "***@registry.example" in err


def test_unknown_environment_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPKIOSK_IDEL_TIMEOUT", "30")
    code, _, err = run(["--data-dir", str(tmp_path), "tokens", "list"])
    assert code == 2 and "IPKIOSK_IDEL_TIMEOUT" in err


@pytest.mark.parametrize("name", ["IPKIOSK_DEMO__X", "IPKIOSK_IDLE_TIMEOUT__SECONDS", "IPKIOSK_DATABASE_URL__HOST"])
def test_a_key_under_a_plain_setting_is_named_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # Found by the attack pass: only regions, issuers and smtp have keys; IPKIOSK_DEMO__X=1 was
    # dropped without a word, so whoever set it believed it in force.
    monkeypatch.setenv(name, "1")
    code, _, err = run(["--data-dir", str(tmp_path), "tokens", "list"])
    assert code == 2 and name in err, err


def test_keys_under_settings_made_of_keys_still_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPKIOSK_REGIONS__1__URL", "https://registry.example/")
    monkeypatch.setenv("IPKIOSK_SMTP__HOST", "smtp.example")
    monkeypatch.setenv("IPKIOSK_SMTP__FROM", "kiosk@example.org")
    settings = config.load_settings(tmp_path)
    assert settings.regions[1].url == "https://registry.example/"
    assert settings.smtp is not None and settings.smtp.host == "smtp.example"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("IPKIOSK_REGIONS", "garbage"),
        ("IPKIOSK_ISSUERS", "{"),
        ("IPKIOSK_IDLE_TIMEOUT", "nan"),
        ("IPKIOSK_STOP_BINDING", "maybe"),
        ("IPKIOSK_REGIONS__1__URL", "http://nppes:hunter2@registry.example/"),
        ("IPKIOSK_KIOSK_ID", ""),
    ],
)
def test_bad_environment_values_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    code, out, err = run(["--data-dir", str(tmp_path), "tokens", "list"])
    assert code == 2 and name.split("__")[0] in err and "config.toml" not in err, err
    assert "hunter2" not in out + err and "Traceback" not in out + err


def test_memory_keyring_refused_by_the_cli_and_the_kiosk(tmp_path: Path) -> None:
    """Subprocesses are real kiosks: nothing they read can turn the test-only keyring on."""
    env = {**os.environ, "IPKIOSK_KEYRING": "memory"}
    for argv in (["tokens", "list"], ["run"], [], ["credentials", "check"]):
        r = subprocess.run(
            [PY, "-m", "kiosk.cli", "--data-dir", str(tmp_path), *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert r.returncode == 2, (argv, r.stdout, r.stderr)
        assert "'keyring'" in r.stderr and "IPKIOSK_KEYRING" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "config.toml").write_text('keyring = "memory"\ndemo = true\n')
    r = subprocess.run(
        [PY, "-m", "kiosk.cli", "--data-dir", str(tmp_path), "users", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "'keyring'" in r.stderr and "config.toml" in r.stderr
    assert not (tmp_path / "kiosk.sqlite3").exists()


def test_memory_keyring_set_after_loading_is_refused_when_opened(tmp_path: Path, real_kiosk: None) -> None:
    from kiosk.services import open_credentials

    settings = config.load_settings(tmp_path)
    settings.keyring = "memory"  # not validated on assignment: the opener checks again
    with pytest.raises(ConfigError, match="keyring"):
        open_credentials(settings)


def test_relative_paths_are_made_absolute_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = config.load_settings(Path("data"))
    assert s.data_dir == tmp_path.resolve() / "data"
    assert s.region_source(1).path == tmp_path.resolve() / "data" / "directory" / "region-1.sqlite3"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.load_settings(Path("~/kiosk")).data_dir == tmp_path.resolve() / "kiosk"


def test_a_data_dir_that_is_a_file_or_too_long(tmp_path: Path) -> None:
    f = tmp_path / "a-file"
    f.write_text("x")
    code, _, err = run(["--data-dir", str(f), "users", "list"])
    assert code == 2 and "not a directory" in err
    code, _, err = run(["--data-dir", str(tmp_path / ("n" * 300)), "users", "list"])
    assert code == 2 and "Traceback" not in err and err.startswith("error:")
    (tmp_path / "cfgdir").mkdir()
    (tmp_path / "cfgdir" / "config.toml").mkdir()
    code, _, err = run(["--data-dir", str(tmp_path / "cfgdir"), "users", "list"])
    assert code == 2 and "config.toml is not a file" in err
