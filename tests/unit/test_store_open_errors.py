"""A store that cannot be opened says what the driver found (found by the attack pass: every
failure read 'OperationalError'), and never the password, from the URL or the keyring."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core.errors import StoreError
from core.store import Store


def refused_port() -> int:
    with socket.socket() as s:  # a port just closed on loopback: connecting is refused at once
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_file_that_is_not_a_database_is_called_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, but long enough to have a header page\n" * 20)
    with pytest.raises(StoreError) as caught:
        Store(f"sqlite:///{path}")
    assert "file is not a database" in caught.value.message
    assert path.read_text().startswith("not a database")  # left as it was


def test_a_folder_as_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        Store(f"sqlite:///{tmp_path}")
    assert "unable to open database file" in caught.value.message


def test_postgresql_refused_and_bad_port_say_so_without_the_password() -> None:
    port = refused_port()
    with pytest.raises(StoreError) as caught:
        Store(f"postgresql://kiosk:hunter2@127.0.0.1:{port}/kiosk")
    assert "Connection refused" in caught.value.message and "hunter2" not in caught.value.message
    with pytest.raises(StoreError) as caught:
        Store("postgresql://kiosk@127.0.0.1:99999/kiosk")
    assert 'invalid port number: "99999"' in caught.value.message


def test_the_keyrings_password_is_masked_where_the_driver_repeats_it() -> None:
    # The driver echoes the host name: a password in it stands for one a driver repeats.
    with pytest.raises(StoreError) as caught:
        Store("postgresql://kiosk@s3cretpw.invalid/kiosk", password="s3cretpw")
    said = caught.value.message.split("): ", 1)[1]  # after the URL, which names its host
    assert "s3cretpw" not in said and "***.invalid" in said
