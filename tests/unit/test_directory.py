"""The regional directory's rules (security.md 3-6) over real SQLite shards."""

from __future__ import annotations

import asyncio
import threading
from datetime import date
from pathlib import Path

import pytest

from core.directory import DirectoryRecord, Outcome, RegionalDirectory, open_backends
from core.directory.nppes import NppesRecord
from core.directory.shard import LocalRegionBackend
from core.errors import DirectoryUnavailable, InvalidNPI
from core.regions import default_region_map
from tests.nppes_factory import build_directory, individual, npi_from, organization

ACTIVE = npi_from(100_000_001)  # NY -> region 1
ORG = npi_from(100_000_002)
DEACTIVATED = npi_from(100_000_003)
REACTIVATED = npi_from(100_000_004)
REDEACTIVATED = npi_from(100_000_005)  # reactivated, then deactivated again
CA_ACTIVE = npi_from(100_000_006)
ABSENT = npi_from(199_999_999)


@pytest.fixture
def shards(tmp_path: Path) -> dict[int, Path]:
    records: list[NppesRecord] = [
        individual(ACTIVE, "O'Brien-Smith", "Ann", "NY"),
        organization(ORG, "Smith Clinic, LLC", "TX"),
        individual(DEACTIVATED, "Lee", state="FL", deactivation_date=date(2021, 3, 4)),
        individual(
            REACTIVATED,
            "Diaz",
            state="OH",
            deactivation_date=date(2020, 1, 1),
            reactivation_date=date(2020, 6, 1),
        ),
        individual(
            REDEACTIVATED,
            "Kim",
            state="OH",
            deactivation_date=date(2022, 1, 1),
            reactivation_date=date(2020, 6, 1),
        ),
        individual(CA_ACTIVE, "Nguyen", state="CA"),
    ]
    targets, summary = build_directory(tmp_path, records)
    assert summary.stored == len(records)
    return targets


def local(shards: dict[int, Path], timeout: float = 2.0) -> RegionalDirectory:
    backends = open_backends({r: (p, None) for r, p in shards.items()}, lambda r: None)
    return RegionalDirectory(backends, timeout)


def test_active_individual_with_matching_name_is_verified(shards: dict[int, Path]) -> None:
    result = local(shards).verify(ACTIVE, "obrien smith")
    assert result.outcome is Outcome.VERIFIED
    assert result.region == default_region_map().region_for("NY")
    assert result.name_matched is True
    assert set(result.answers) == {1, 2, 3, 4, 5}
    assert result.answers[1].status == "found"
    assert all(a.status == "not_found" for r, a in result.answers.items() if r != 1)
    assert ACTIVE in result.message


@pytest.mark.parametrize("spelling", ["O'BRIEN-SMITH", " o'brien smith ", "OBrienSmith", "Ó'Brien-Smith"])
def test_name_match_ignores_case_spaces_punctuation_and_accents(shards: dict[int, Path], spelling: str) -> None:
    assert local(shards).verify(ACTIVE, spelling).outcome is Outcome.VERIFIED


def test_someone_elses_npi_is_not_verified(shards: dict[int, Path]) -> None:
    # Rule 6: the NPI must belong to the signed-in account.
    result = local(shards).verify(ACTIVE, "Smith")
    assert result.outcome is Outcome.NOT_FOUND
    assert result.name_matched is False
    assert "does not match" in result.message


def test_organization_npi_never_verifies_an_individual(shards: dict[int, Path]) -> None:
    result = local(shards).verify(ORG, "Smith Clinic, LLC")
    assert result.outcome is Outcome.NOT_FOUND
    assert "organization" in result.message


def test_deactivated_npi_is_deactivated(shards: dict[int, Path]) -> None:
    result = local(shards).verify(DEACTIVATED, "Lee")
    assert result.outcome is Outcome.DEACTIVATED
    assert result.region == default_region_map().region_for("FL")
    assert "March 04, 2021" in result.message


def test_reactivated_npi_is_verified(shards: dict[int, Path]) -> None:
    assert local(shards).verify(REACTIVATED, "Diaz").outcome is Outcome.VERIFIED


def test_deactivated_after_its_reactivation_is_deactivated(shards: dict[int, Path]) -> None:
    assert local(shards).verify(REDEACTIVATED, "Kim").outcome is Outcome.DEACTIVATED


def test_unknown_npi_is_not_found(shards: dict[int, Path]) -> None:
    result = local(shards).verify(ABSENT, "Lee")
    assert result.outcome is Outcome.NOT_FOUND
    assert result.region is None


def test_invalid_npi_is_refused_before_any_region_is_asked(shards: dict[int, Path]) -> None:
    with pytest.raises(InvalidNPI):
        local(shards).verify("1234567890", "Lee")


def test_no_name_means_plain_lookup(shards: dict[int, Path]) -> None:
    result = local(shards).verify(CA_ACTIVE, None)
    assert result.outcome is Outcome.VERIFIED
    assert result.name_matched is None


def test_missing_shard_makes_its_region_unavailable_not_not_found(
    shards: dict[int, Path],
) -> None:
    shards[3].unlink()
    result = local(shards).verify(ABSENT, "Lee")
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.answers[3].status == "error"
    assert "ipkiosk directory import" in result.answers[3].reason


def test_missing_shard_does_not_hide_a_find_elsewhere(shards: dict[int, Path]) -> None:
    shards[3].unlink()
    assert local(shards).verify(ACTIVE, "O'Brien-Smith").outcome is Outcome.VERIFIED


def test_corrupt_shard_is_unavailable(shards: dict[int, Path]) -> None:
    shards[2].write_bytes(b"this is not a database" * 100)
    result = local(shards).verify(ABSENT, "Lee")
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.answers[2].status == "error"


class HangingRegion:
    """A region that never answers in time (the online tests use a real slow server)."""

    kind = "online"
    description = "hangs"

    def __init__(self, region: int) -> None:
        self.region = region

    async def alookup(self, npi: str) -> DirectoryRecord | None:
        await asyncio.sleep(30)
        return None

    async def aclose(self) -> None:
        return None


def test_a_silent_region_gives_unavailable_never_not_found(shards: dict[int, Path]) -> None:
    directory = local(shards, timeout=0.2)
    directory.backends[4] = HangingRegion(4)
    result = directory.verify(ABSENT, "Lee")
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.answers[4].status == "timeout"
    assert "4" in result.message


def test_a_silent_region_does_not_hide_a_find_elsewhere(shards: dict[int, Path]) -> None:
    directory = local(shards, timeout=0.2)
    directory.backends[4] = HangingRegion(4)
    assert directory.verify(ACTIVE, "O'Brien-Smith").outcome is Outcome.VERIFIED


def test_deactivated_anywhere_wins_over_a_stale_active_copy(shards: dict[int, Path], tmp_path: Path) -> None:
    # An NPI present in two regions (e.g. a half-applied update): deactivated must win.
    other = tmp_path / "stale"
    other.mkdir()
    stale, _ = build_directory(other, [individual(DEACTIVATED, "Lee", state="NY")])
    directory = local(shards)
    directory.backends[1] = LocalRegionBackend(1, stale[1])
    assert directory.verify(DEACTIVATED, "Lee").outcome is Outcome.DEACTIVATED


async def test_averify_asks_regions_concurrently(shards: dict[int, Path]) -> None:
    directory = local(shards, timeout=0.5)
    for r in (2, 3, 4):
        directory.backends[r] = HangingRegion(r)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await directory.averify(ACTIVE, "O'Brien-Smith")
    # Three hanging regions cost one timeout, not three (the rule, not a speed target).
    assert loop.time() - started < 3 * 0.5
    assert result.outcome is Outcome.VERIFIED


async def test_blocking_verify_works_inside_a_running_loop(shards: dict[int, Path]) -> None:
    assert local(shards).verify(ACTIVE, "O'Brien-Smith").outcome is Outcome.VERIFIED


def test_blocking_verify_works_from_worker_threads(shards: dict[int, Path]) -> None:
    directory = local(shards)
    outcomes: list[Outcome] = []

    def verify() -> None:
        outcomes.append(directory.verify(ACTIVE, "O'Brien-Smith").outcome)

    threads = [threading.Thread(target=verify) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == [Outcome.VERIFIED] * 6


def test_local_backend_reports_missing_file_as_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DirectoryUnavailable):
        LocalRegionBackend(1, tmp_path / "nope.sqlite3").lookup(ACTIVE)


def test_verification_serialises_for_the_cli(shards: dict[int, Path]) -> None:
    doc = local(shards).verify(DEACTIVATED, "Lee").to_dict()
    assert doc["outcome"] == "deactivated"
    assert doc["answers"]["2"]["record"]["deactivation_date"] == "2021-03-04"


def test_a_local_shard_that_hangs_is_a_timeout(shards: dict[int, Path]) -> None:
    # An exclusive lock makes SQLite readers wait (as a hung disk or NFS mount would).
    import sqlite3

    holder = sqlite3.connect(shards[3], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = local(shards, timeout=0.3).verify(ABSENT, "Lee")
        assert result.outcome is Outcome.UNAVAILABLE
        assert result.answers[3].status == "timeout"
        assert result.answers[1].status == "not_found"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
