"""Adversarial pass on the seed-file readers (issues 9 and 11): hostile OATH CSV and PSKC files.

Each test names the rule it holds the reader to; the xfail ones are open findings."""

from __future__ import annotations

import base64
import contextlib
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

import pyotp
import pytest

from core.admin import Administration
from core.errors import ImportRejected, KioskError
from core.seedfiles import read_seed_bytes
from tests.conftest import TOKEN_SEED, World
from tests.unit.test_pskc_integrity import NOW, PSK, SEED_A, SEED_B, Key, b64, container

HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"


def plain_pskc(serial: str, seed: bytes, counter: str = "0") -> bytes:
    return (
        '<?xml version="1.0"?><KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
        f"<KeyPackage><DeviceInfo><SerialNo>{serial}</SerialNo></DeviceInfo>"
        f'<Key Id="1" Algorithm="{HOTP}"><Data><Secret><PlainValue>{b64(seed)}</PlainValue></Secret>'
        f"<Counter><PlainValue>{counter}</PlainValue></Counter></Data></Key></KeyPackage></KeyContainer>"
    ).encode()


# --------------------------------------------------------------------------- secrets never echoed


def test_swapped_columns_with_a_dash_grouped_key_never_show_the_seed_as_a_serial() -> None:
    """_decode_key accepts 'GEZD-GNBV-...' as a key, so a file with serial and key swapped puts
    that seed in the serial column; the report named the row by it (rule 19)."""
    seed = "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ"
    result = read_seed_bytes(f"{seed},T-2,totp,6,30\n".encode())
    assert result.specs == []
    shown = repr([(r.where, r.serial, r.reason) for r in result.rejected])
    assert "GEZD" not in shown and result.rejected[0].serial is None


# --------------------------------------------------------------------------- bounded values


def test_a_pskc_counter_beyond_the_store_column_is_refused_not_a_traceback() -> None:
    result = read_seed_bytes(plain_pskc("BIG1", TOKEN_SEED, "99999999999999999999999"))
    assert result.specs == [] and "counter" in result.rejected[0].reason


def test_a_pskc_counter_at_the_edge_of_the_column_cannot_break_resync_later(world: World) -> None:
    """Counter 2**63-1 imported, then resync wrote 2**63 into the 64-bit column: OverflowError."""
    result = read_seed_bytes(plain_pskc("BIG2", TOKEN_SEED, str(2**63 - 1)))
    if result.specs:  # if the reader lets it in, the token must still work without a traceback
        world.system.tokens.import_specs(result.specs)
        admin = Administration(world.system, "cli:test")
        admin.assign("BIG2", "ana")
        hotp = pyotp.HOTP(base64.b32encode(TOKEN_SEED).decode())
        with contextlib.suppress(KioskError):  # a refusal is fine; an OverflowError is not
            admin.resync("BIG2", hotp.at(2**63 - 1), hotp.at(2**63))
    else:
        assert "counter" in result.rejected[0].reason


# --------------------------------------------------------------------------- crashes


def test_deeply_nested_xml_is_refused_without_killing_the_process(tmp_path: Path) -> None:
    depth = 200_000  # 1.4 MB, far below the 32 MiB cap
    deep = tmp_path / "deep.pskcxml"
    deep.write_bytes(
        b'<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
        + b"<a>" * depth
        + b"</a>" * depth
        + b"</KeyContainer>"
    )
    probe = (
        "import sys; from pathlib import Path; from core.seedfiles import read_seed_file\n"
        "from core.errors import ImportRejected\n"
        "try: read_seed_file(Path(sys.argv[1]))\n"
        "except ImportRejected: sys.exit(0)\n"
        "sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(deep)], capture_output=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-300:])


# --------------------------------------------------------------------------- integrity


def test_a_value_and_its_mac_copied_onto_another_key_is_refused() -> None:
    """Whoever can edit the file copies KeyPackage A's <Secret> (ciphertext and MAC) into B:
    every MAC verifies, and B's owner now shares A's seed (the holder of A makes B's codes).
    Two keys of one file with the same seed are never a vendor's intent."""
    a = Key("A1", SEED_A)
    copied = a.secret_xml()

    class Copy(Key):
        def secret_xml(self) -> str:
            return copied

    data = container(a, Copy("B1", SEED_B))
    try:
        result = read_seed_bytes(data, psk=PSK, now=NOW)
    except ImportRejected:
        return
    assert [s.serial for s in result.specs if s.secret == SEED_A] != ["A1", "B1"]


class KeyGiven(TypedDict, total=False):
    """The key IT gives with a seed file: a pre-shared key or a passphrase."""

    psk: bytes
    passphrase: str


@pytest.mark.parametrize("given", [{"psk": PSK}, {"passphrase": "vendor passphrase"}])
@pytest.mark.parametrize(
    "swapped_in",
    [plain_pskc("EVIL1", bytes(20)), b"EVIL2,0000000000000000000000000000000000000000,totp,6,30\n"],
    ids=["plain-pskc", "oath-csv"],
)
def test_a_key_given_for_a_file_that_is_not_encrypted_refuses_it(given: KeyGiven, swapped_in: bytes) -> None:
    """IT expects the vendor's encrypted file (they hold its key); a plain file put in its place
    on the way imports the swapper's seeds without a word."""
    with pytest.raises(ImportRejected, match="not encrypted"):
        read_seed_bytes(swapped_in, now=NOW, **given)


def test_an_exact_copy_of_another_keys_secret_names_both_packages_never_the_seed() -> None:
    a = Key("A1", SEED_A)
    copied = a.secret_xml()

    class Same(Key):
        def secret_xml(self) -> str:
            return copied

    data = container(Same("A1", SEED_A), Key("OK1", SEED_B), Same("B1", SEED_B))
    with pytest.raises(ImportRejected, match="KeyPackage 1 and KeyPackage 3") as caught:
        read_seed_bytes(data, psk=PSK, now=NOW)
    assert SEED_A.hex() not in str(caught.value) and b64(SEED_A) not in str(caught.value)


def test_one_serial_listed_twice_with_its_seed_is_the_duplicate_rule_not_a_copy() -> None:
    one = plain_pskc("D1", TOKEN_SEED)
    package = one[one.index(b"<KeyPackage>") : one.index(b"</KeyContainer>")]
    result = read_seed_bytes(one.replace(b"</KeyContainer>", package + b"</KeyContainer>"))
    assert result.specs == [] and all("more than once" in r.reason for r in result.rejected)
