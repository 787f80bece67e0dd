"""Seed files at vendor scale (issue 11): read as they are stored, in bounded memory, with every
file-wide rule still decided before a token is kept, and stored in batches in one transaction."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select

from core import pskcfile
from core.clock import ManualClock
from core.credentials import CredentialStore
from core.errors import ImportRejected
from core.seedfiles import Rejected, TokenSpec, open_seed_bytes, read_oath_csv, read_pskc
from core.seeds import SeedBox
from core.store import Store, tokens
from core.token_records import IMPORT_BATCH
from core.tokens import TokenInventory
from tests.unit.test_pskc_integrity import NOW, PSK, SEED_A, SEED_B, Key, b64, container

SEED = bytes(range(1, 21))


@pytest.fixture
def inventory(store: Store, credentials: CredentialStore, clock: ManualClock) -> TokenInventory:
    return TokenInventory(store, SeedBox(credentials.key("seed-key", create=True)), clock)


def stored(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tokens)).scalar_one())


# --------------------------------------------------------------------------- memory


def _read_peak(data: bytes) -> int:
    stream = open_seed_bytes(data, psk=PSK, now=NOW)  # modules loaded, file checked once
    tracemalloc.start()
    try:
        read = sum(1 for _ in open_seed_bytes(data, psk=PSK, now=NOW))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == stream.expected
    return peak


def test_a_pskc_is_read_once_holding_each_key_in_a_small_form() -> None:
    data = container(*(Key(f"K{i:05d}", os.urandom(20)) for i in range(6000)))
    peak = _read_peak(data)
    # python-pskc's Key and Device objects alone take about 1,200 bytes a key.
    assert peak < 6000 * 1_200, f"peak {peak} bytes for 6000 keys ({len(data)}-byte file)"


def test_a_pskc_with_more_keys_than_are_held_is_read_twice_in_memory_that_does_not_grow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pskcfile, "HOLD_KEYS", 100)
    data = container(*(Key(f"K{i:05d}", os.urandom(20)) for i in range(6000)))
    peak = _read_peak(data)
    # The whole tree, python-pskc's copy of it and its objects took about 14 times the file.
    assert peak < len(data) // 2, f"peak {peak} bytes for a {len(data)}-byte file"


def test_a_pskc_reads_the_same_held_or_read_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [Key(f"K{i:03d}", os.urandom(20)) for i in range(30)]
    keys += [Key("K007", os.urandom(20)), Key("bad/serial", os.urandom(20)), Key("SHORT1", bytes(4))]
    data = container(*keys)
    held = read_pskc(data, psk=PSK, now=NOW)
    monkeypatch.setattr(pskcfile, "HOLD_KEYS", 10)
    twice = read_pskc(data, psk=PSK, now=NOW)
    assert twice == held
    assert len(held.specs) == 29 and {r.serial for r in held.rejected} >= {"K007", None}


# --------------------------------------------------------------------------- same answers as before


def test_header_after_the_packages_is_read_as_python_pskc_reads_it() -> None:
    normal = container(Key("A1", SEED_A), Key("B1", SEED_B)).decode()
    start = normal.index("<pskc:MACMethod")
    end = normal.index("</pskc:MACMethod>") + len("</pskc:MACMethod>")
    mac_method = normal[start:end]
    moved = (normal[:start] + normal[end:]).replace("</pskc:KeyContainer>", mac_method + "</pskc:KeyContainer>")
    result = read_pskc(moved.encode(), psk=PSK, now=NOW)
    assert [(s.serial, s.secret) for s in result.specs] == [("A1", SEED_A), ("B1", SEED_B)]


def test_a_mac_broken_in_the_last_package_refuses_the_file_during_the_second_pass() -> None:
    keys = [Key(f"K{i:04d}", os.urandom(20)) for i in range(50)]
    data = container(*keys).decode()
    last = data.rindex("<pskc:ValueMAC>") + len("<pskc:ValueMAC>")
    data = data[:last] + b64(bytes(20)) + data[last + 28 :]
    stream = open_seed_bytes(data.encode(), psk=PSK, now=NOW)  # the MAC is checked with the seed
    with pytest.raises(ImportRejected, match="failed its MAC check"):
        for _ in stream:
            pass


def test_csv_duplicates_far_apart_are_both_refused_and_a_rejected_copy_does_not_count() -> None:
    seed = SEED.hex()
    lines = [f"DUP-1,{seed},totp,6,30", f"ONCE-1,{'00' * 4},totp,6,30", f"ONCE-1,{seed},totp,6,30"]
    lines += [f"ROW-{i:04d},{seed},totp,6,30" for i in range(1500)]
    lines += [f"dup-1,{seed},totp,6,30"]
    result = read_oath_csv("\n".join(lines) + "\n")
    assert "DUP-1" not in [s.serial for s in result.specs]
    assert "ONCE-1" in [s.serial for s in result.specs]  # line 2's seed is refused, line 3 is the only copy
    dup = [r for r in result.rejected if r.serial == "DUP-1"]
    assert [r.where for r in dup] == ["line 1", "line 1504"]
    assert all("line 1, line 1504" in r.reason for r in dup)
    assert [r.where for r in result.rejected] == ["line 1", "line 2", "line 1504"]


def test_a_seed_stream_gives_the_same_tokens_every_time_it_is_read() -> None:
    stream = open_seed_bytes(f"A-1,{SEED.hex()},totp,6,30\nB-1,zz,totp,6,30\n".encode())
    first = [s.serial for s in stream]
    assert [s.serial for s in stream] == first == ["A-1"]
    assert [r.where for r in stream.rejected] == ["line 2"]


# --------------------------------------------------------------------------- storing in batches


def test_import_in_batches_finds_duplicates_across_batches_and_in_the_input(
    store: Store, inventory: TokenInventory
) -> None:
    inventory.import_specs([TokenSpec(f"OLD-{i:04d}", "totp", SEED) for i in range(0, 1200, 7)])
    before = stored(store)
    specs = [TokenSpec(f"old-{i:04d}", "totp", SEED) for i in range(1200)]
    specs.append(TokenSpec("OLD-0001", "totp", SEED))  # twice in the input: the first copy is new
    specs.insert(IMPORT_BATCH + 3, TokenSpec("BAD-1", "totp", SEED, digits=7))
    report = inventory.import_specs(specs)
    old = {f"OLD-{i:04d}" for i in range(0, 1200, 7)}
    assert set(report.duplicates) == old | {"OLD-0001"} and len(report.duplicates) == len(old) + 1
    assert len(report.added) == 1200 - len(old) and "OLD-0001" in report.added
    assert [r.serial for r in report.rejected] == ["BAD-1"]
    assert stored(store) == before + len(report.added)
    info = inventory.get("OLD-0002")
    assert info is not None and info.params.kind == "totp"
    assert inventory.code_now("OLD-0002")[0]  # the seed was sealed under its own serial


def test_the_lookup_of_present_serials_takes_a_batch_as_one_statement_of_fixed_size(
    store: Store, inventory: TokenInventory
) -> None:
    # On PostgreSQL 500 parameters made the planner scan the whole table for every batch once an
    # import outgrew the table's statistics: 100,000 tokens took 86 s (bench/seedfiles.py --postgres).
    lookups: list[int] = []

    def seen(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "tokens.serial" in statement:
            lookups.append(statement.count("%(") + statement.count("?") + statement.count("$"))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        inventory.import_specs([TokenSpec(f"L-{i:04d}", "totp", SEED) for i in range(IMPORT_BATCH * 2 + 1)])
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert len(lookups) == 3
    if store.engine.dialect.name == "postgresql":
        assert lookups == [1, 1, 1]  # the batch's serials as one array


def test_rejections_found_while_the_tokens_are_read_reach_the_report(inventory: TokenInventory) -> None:
    rejected: list[Rejected] = []

    def reading() -> Iterator[TokenSpec]:
        yield TokenSpec("LATE-1", "totp", SEED)
        rejected.append(Rejected("line 2", None, "key is empty"))

    report = inventory.import_specs(reading(), rejected)
    assert report.added == ["LATE-1"] and [r.where for r in report.rejected] == ["line 2"]


def test_an_error_while_reading_leaves_no_token_stored(store: Store, inventory: TokenInventory) -> None:
    def reading() -> Iterator[TokenSpec]:
        for i in range(IMPORT_BATCH * 2 + 1):
            yield TokenSpec(f"GONE-{i:04d}", "totp", SEED)
        raise ImportRejected("The PSKC file failed its MAC check.")

    before = stored(store)
    with pytest.raises(ImportRejected):
        inventory.import_specs(reading())
    assert stored(store) == before


# --------------------------------------------------------------------------- listing


def test_pages_cover_the_inventory_once_in_serial_order(inventory: TokenInventory) -> None:
    inventory.import_specs([TokenSpec(f"P-{i:04d}", "totp", SEED) for i in range(250)])
    everything = [t.serial for t in inventory.list()]
    assert 250 <= len(everything) < 300 and everything == sorted(everything)
    pages = [[t.serial for t in inventory.list(limit=100, offset=start)] for start in (0, 100, 200, 300)]
    assert [len(p) for p in pages] == [100, 100, len(everything) - 200, 0]
    assert [serial for page in pages for serial in page] == everything
    assert inventory.count() == len(everything)
    assert inventory.count(search="p-012") == 10 == len(inventory.list(search="P-012"))


def test_documents_are_the_token_dicts(store: Store, inventory: TokenInventory) -> None:
    inventory.import_specs([TokenSpec("D-1", "hotp", SEED), TokenSpec("D-2", "totp", SEED, period=60)])
    assert list(inventory.documents()) == [t.as_dict() for t in inventory.list()]
    assert list(inventory.documents(search="d-", limit=1, offset=1)) == [inventory.list(search="d-")[1].as_dict()]
