"""`RegionalDirectory`: ask all five regions at once and turn their answers into one outcome.

Rules (security.md 3-6): verified = an active individual (entity type 1) NPI whose last name
matches the account's; a deactivation with no later reactivation -> deactivated; an organization
NPI never verifies a prescriber; an unknown practice state fails closed; a region that does not
answer in time makes the result `unavailable`, never `not_found`, unless another region found
the NPI.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from core.directory.journal import finish_pending_swap
from core.directory.model import (
    DirectoryRecord,
    Outcome,
    RegionAnswer,
    RegionCredentialsRejected,
    RegionTimedOut,
    Verification,
    name_key,
)
from core.directory.online import OnlineRegionBackend
from core.directory.shard import LocalRegionBackend, lookup_threads, shard_name
from core.directory.wording import (
    BLANK,
    DEACTIVATED,
    DEACTIVATED_ON,
    LATE,
    MONTHS,
    NAME_MISMATCH,
    NOT_FOUND,
    ORGANIZATION,
    SLOW,
    UNKNOWN_LOCATION,
    UNREACHABLE,
    UNREACHABLES,
    UNREACHED,
    VERIFIED,
)
from core.errors import N_, DirectoryUnavailable, fill
from core.npi import validate_npi
from core.regions import REGIONS, RegionMap, default_region_map


class RegionBackend(Protocol):
    region: int
    kind: str  # "local" or "online"
    description: str  # a path or URL, for IT staff

    async def alookup(self, npi: str) -> DirectoryRecord | None:
        """The record; None when the region lacks the NPI; DirectoryUnavailable on failure."""
        ...

    async def aclose(self) -> None: ...


class RegionalDirectory:
    def __init__(
        self,
        backends: Mapping[int, RegionBackend],
        timeout: float,
        *,
        region_map: RegionMap | None = None,
    ) -> None:
        unknown = sorted(set(backends) - set(REGIONS))
        if unknown:
            raise ValueError(f"regions are numbered 1-5, got {unknown}")
        self.backends = dict(sorted(backends.items()))
        self.timeout = timeout
        for backend in self.backends.values():
            if isinstance(backend, OnlineRegionBackend):
                # Its two attempts share the region's budget; keep them inside this timeout.
                backend.timeout = timeout
        self.region_map = region_map or default_region_map()

    async def averify(
        self, npi: str, last_name: str | None, on_answer: Callable[[RegionAnswer], object] | None = None
    ) -> Verification:
        """Verify an NPI for the account whose last name is given.

        `last_name=None` skips the name check (IT staff's plain lookup); enrollment always passes
        the account's last name. Raises InvalidNPI before asking any region.
        """
        npi = validate_npi(npi)
        local, online = self._split()
        online_tasks = [asyncio.ensure_future(self._ask_online(r, npi, on_answer)) for r in online]
        found: dict[int, RegionAnswer] = {}
        if local:
            loop = asyncio.get_running_loop()
            job = loop.run_in_executor(lookup_threads(), _ask_local, local, npi, found, on_answer)
            await asyncio.wait({job}, timeout=self.timeout)
        for region, answer in zip(online, await asyncio.gather(*online_tasks), strict=True):
            found[region] = answer
        return self._decide(npi, last_name, self._complete(found))

    def verify(
        self, npi: str, last_name: str | None, on_answer: Callable[[RegionAnswer], object] | None = None
    ) -> Verification:
        """Blocking form of `averify`, for threads and the command line.

        `on_answer` is called with each region's answer as it arrives (from a lookup thread or
        the event loop), so a screen can show the regions answering one by one.
        """
        local, online = self._split()
        if not online:
            # All local: one hand-off to a lookup thread, no event loop to build (p99 matters).
            npi = validate_npi(npi)
            found: dict[int, RegionAnswer] = {}
            job = lookup_threads().submit(_ask_local, local, npi, found, on_answer)
            with contextlib.suppress(concurrent.futures.TimeoutError):
                job.result(timeout=self.timeout)
            return self._decide(npi, last_name, self._complete(dict(found)))
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.averify(npi, last_name, on_answer))
        # Called from inside a running loop's thread: asyncio.run would refuse, so run it on a
        # helper thread and wait (the caller chose to block).
        box: list[Verification | BaseException] = []

        def run() -> None:
            try:
                box.append(asyncio.run(self.averify(npi, last_name, on_answer)))
            except BaseException as exc:  # handed back to the caller below
                box.append(exc)

        helper = threading.Thread(target=run, name="directory-verify")
        helper.start()
        helper.join()
        result = box[0]
        if isinstance(result, BaseException):
            raise result
        return result

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()

    def _split(self) -> tuple[dict[int, LocalRegionBackend], list[int]]:
        local = {r: b for r, b in self.backends.items() if isinstance(b, LocalRegionBackend)}
        return local, [r for r in self.backends if r not in local]

    def _complete(self, found: dict[int, RegionAnswer]) -> dict[int, RegionAnswer]:
        """Every region gets an answer; one that gave none in time is a timeout."""
        return {r: found.get(r) or self._timed_out(r) for r in self.backends}

    def _timed_out(self, region: int) -> RegionAnswer:
        return RegionAnswer.told(region, "timeout", LATE, region=region, seconds=f"{self.timeout:g}")

    async def _ask_online(
        self, region: int, npi: str, on_answer: Callable[[RegionAnswer], object] | None = None
    ) -> RegionAnswer:
        answer = await self._lookup_online(region, npi)
        if on_answer is not None:
            on_answer(answer)
        return answer

    async def _lookup_online(self, region: int, npi: str) -> RegionAnswer:
        backend = self.backends[region]
        try:
            async with asyncio.timeout(self.timeout):
                record = await backend.alookup(npi)
        except TimeoutError:
            return self._timed_out(region)
        except Exception as exc:
            return _failure(region, exc)
        return _answer(region, record)

    def _decide(self, npi: str, last_name: str | None, answers: dict[int, RegionAnswer]) -> Verification:
        def result(
            outcome: Outcome, where: int | None, template: str, matched: bool | None = None, **more: str
        ) -> Verification:
            params = {"npi": npi, **more}
            return Verification(outcome, npi, where, answers, matched, fill(template, params), template, params)

        deactivated = [a for a in answers.values() if a.status == "deactivated"]
        if deactivated:
            # Any region saying "deactivated" wins: a stale copy elsewhere must not verify.
            first = deactivated[0]
            day = first.record.deactivation_date if first.record else None
            if day is None:
                return result(Outcome.DEACTIVATED, first.region, DEACTIVATED)
            month = MONTHS[day.month - 1]
            return result(
                Outcome.DEACTIVATED, first.region, DEACTIVATED_ON, month=month, day=f"{day:%d}", year=f"{day:%Y}"
            )
        found = [a for a in answers.values() if a.status == "found" and a.record is not None]
        refusals: list[tuple[int, str, bool | None, dict[str, str]]] = []
        for answer in found:
            record = answer.record
            assert record is not None
            if not record.is_individual:
                refusals.append((answer.region, ORGANIZATION, None, {}))
                continue
            if self.region_map.get(record.state) is None:
                refusals.append((answer.region, UNKNOWN_LOCATION, None, {"state": record.state or BLANK}))
                continue
            if last_name is not None and name_key(record.last_name) != name_key(last_name):
                refusals.append((answer.region, NAME_MISMATCH, False, {}))
                continue
            matched = True if last_name is not None else None
            return result(Outcome.VERIFIED, answer.region, VERIFIED, matched, region=str(answer.region))
        if refusals:
            region, template, matched, more = refusals[0]
            return result(Outcome.NOT_FOUND, region, template, matched, **more)
        silent = [a.region for a in answers.values() if a.status in ("error", "timeout")]
        if silent:
            listed = ", ".join(str(r) for r in silent)
            return result(Outcome.UNAVAILABLE, None, UNREACHABLE if len(silent) == 1 else UNREACHABLES, regions=listed)
        return result(Outcome.NOT_FOUND, None, NOT_FOUND)


def _ask_local(
    backends: Mapping[int, LocalRegionBackend],
    npi: str,
    found: dict[int, RegionAnswer],
    on_answer: Callable[[RegionAnswer], object] | None = None,
) -> None:
    """Look the NPI up in each local shard in turn, filling `found` as answers come.

    Local lookups take microseconds; one thread for all of them keeps a verification to one
    thread hand-off. The caller stops waiting at the timeout and counts the regions missing
    from `found` as timed out, so a hung disk still gives `unavailable`, never `not_found`.
    """
    for region, backend in backends.items():
        try:
            found[region] = _answer(region, backend.lookup(npi))
        except Exception as exc:
            found[region] = _failure(region, exc)
        if on_answer is not None:
            on_answer(found[region])


def _answer(region: int, record: DirectoryRecord | None) -> RegionAnswer:
    if record is None:
        return RegionAnswer(region, "not_found", "")
    if record.is_deactivated:
        day = record.deactivation_date.isoformat() if record.deactivation_date else "?"
        return RegionAnswer.told(region, "deactivated", N_("Deactivated on {day}."), record, day=day)
    return RegionAnswer(region, "found", "", record)


def _failure(region: int, exc: Exception) -> RegionAnswer:
    # The reason is for IT staff (a URL, a file path, an HTTP status); the provider reads a
    # plain template instead.
    if isinstance(exc, RegionTimedOut):
        return RegionAnswer(region, "timeout", exc.message, None, SLOW, {"region": str(region)})
    if isinstance(exc, RegionCredentialsRejected):
        return RegionAnswer(region, "error", str(exc), None, UNREACHED, {"region": str(region)})
    if isinstance(exc, DirectoryUnavailable):
        return RegionAnswer(region, "error", exc.message, None, UNREACHED, {"region": str(region)})
    # A broken backend is an unavailable region, not a crash.
    reason = f"Region {region} failed: {exc.__class__.__name__}."
    return RegionAnswer(region, "error", reason, None, UNREACHED, {"region": str(region)})


def default_shard_paths(directory: Path) -> dict[int, Path]:
    return {r: directory / shard_name(r) for r in REGIONS}


def open_backends(
    region_sources: Mapping[int, tuple[Path | None, str | None]],
    api_key_for: Callable[[int], str | None],
    *,
    timeout: float = 2.0,
) -> dict[int, RegionBackend]:
    """Backends for regions given as (shard path, None) or (None, endpoint URL).

    `api_key_for(region)` is only called for online regions, so purely local directories need
    no keyring. A pending shard swap left by a killed import is finished first.
    """
    backends: dict[int, RegionBackend] = {}
    for region, (path, url) in sorted(region_sources.items()):
        if url:
            backends[region] = OnlineRegionBackend(region, url, api_key=api_key_for(region), timeout=timeout)
        elif path is not None:
            finish_pending_swap(path.parent)
            backends[region] = LocalRegionBackend(region, path)
        else:
            raise ValueError(f"region {region} has neither a path nor a URL")
    return backends
