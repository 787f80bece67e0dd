"""An online region: an HTTP(S) endpoint answering in the NPPES Registry API v2.1 JSON shape.

Request: `GET URL?version=2.1&number=NPI` with the region's API key (from the keyring) in the
`X-API-Key` header when one is set. Each attempt gets half the region's time budget, so one retry
after a timeout, a connection failure or a 5xx still fits inside it. 401/403 is a credentials
problem (no retry); a body that is not the expected JSON makes the region unavailable.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

from core.directory.model import (
    ENTITY_INDIVIDUAL,
    ENTITY_ORGANIZATION,
    DirectoryRecord,
    RegionCredentialsRejected,
    RegionTimedOut,
)
from core.errors import DirectoryUnavailable

API_KEY_HEADER = "X-API-Key"
ATTEMPTS = 2


class OnlineRegionBackend:
    kind = "online"

    def __init__(self, region: int, url: str, *, api_key: str | None, timeout: float) -> None:
        self.region = region
        self.url = url
        self.description = url
        self.timeout = timeout
        self._headers = {"Accept": "application/json", "User-Agent": "ipkiosk"}
        if api_key:
            self._headers[API_KEY_HEADER] = api_key

    async def alookup(self, npi: str) -> DirectoryRecord | None:
        import httpx  # here, not at module level: kiosks with only local regions never load it

        attempt_timeout = httpx.Timeout(self.timeout / ATTEMPTS)
        params = {"version": "2.1", "number": npi}
        last_problem = ""
        # One client per lookup: the kiosk verifies rarely, and a client must not outlive the
        # event loop it was made on (the blocking `verify` runs a fresh loop per call).
        async with httpx.AsyncClient(headers=self._headers, timeout=attempt_timeout) as client:
            for _attempt in range(ATTEMPTS):
                try:
                    response = await client.get(self.url, params=params)
                except httpx.TimeoutException:
                    last_problem = "timeout"
                    continue
                except httpx.HTTPError as exc:
                    last_problem = f"connection failed ({exc.__class__.__name__})"
                    continue
                if response.status_code in (401, 403):
                    raise RegionCredentialsRejected(self.region, response.status_code)
                if response.status_code >= 500 or response.status_code == 429:
                    last_problem = f"HTTP {response.status_code}"
                    continue
                if response.status_code != 200:
                    raise DirectoryUnavailable(
                        f"Region {self.region}'s directory at {self.url} answered HTTP "
                        f"{response.status_code}; check the region's URL in the kiosk settings."
                    )
                return self._parse(response, npi)
        if last_problem == "timeout":
            raise RegionTimedOut(
                f"Region {self.region}'s directory at {self.url} did not answer within "
                f"{self.timeout:g} s ({ATTEMPTS} attempts)."
            )
        raise DirectoryUnavailable(
            f"Region {self.region}'s directory at {self.url} failed: {last_problem} ({ATTEMPTS} attempts)."
        )

    def _parse(self, response: httpx.Response, npi: str) -> DirectoryRecord | None:
        try:
            doc = response.json()
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            if doc.get("Errors"):
                first = doc["Errors"][0]
                detail = first.get("description", "error") if isinstance(first, dict) else first
                raise DirectoryUnavailable(f"Region {self.region}'s directory reported an error: {str(detail)[:200]}.")
            results = doc.get("results") or []
            if not isinstance(results, list):
                raise ValueError("results is not a list")
            for result in results:
                if isinstance(result, dict) and str(result.get("number", "")).zfill(10) == npi:
                    return _record(npi, result)
            if int(doc.get("result_count", 0) or 0) and results:
                raise ValueError("results do not hold the NPI asked for")
            return None
        except DirectoryUnavailable:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise DirectoryUnavailable(
                f"Region {self.region}'s directory at {self.url} sent an answer that is not "
                f"NPPES Registry API v2.1 JSON ({exc.__class__.__name__})."
            ) from None

    async def aclose(self) -> None:
        return None


def _api_date(value: Any) -> date | None:
    """The API writes YYYY-MM-DD; some mirrors keep the CSV's MM/DD/YYYY."""
    if not value:
        return None
    text = str(value)
    if len(text) == 10 and text[2] == "/" and text[5] == "/":
        text = f"{text[6:10]}-{text[0:2]}-{text[3:5]}"
    return date.fromisoformat(text)


def _record(npi: str, result: dict[str, Any]) -> DirectoryRecord:
    basic = result.get("basic") or {}
    if not isinstance(basic, dict):
        raise ValueError("basic is not an object")
    kind = str(result.get("enumeration_type", ""))
    entity = {"NPI-1": ENTITY_INDIVIDUAL, "NPI-2": ENTITY_ORGANIZATION}.get(kind)
    location = next(
        (
            a
            for a in result.get("addresses") or []
            if isinstance(a, dict) and str(a.get("address_purpose", "")).upper() == "LOCATION"
        ),
        {},
    )
    deactivated = _api_date(basic.get("deactivation_date"))
    if deactivated is None and str(basic.get("status", "A")).upper() == "D":
        # Status "D" without a date: still deactivated; the date is unknown.
        deactivated = date.min
    return DirectoryRecord(
        npi=npi,
        entity_type=entity,
        last_name=str(basic.get("last_name", "")),
        first_name=str(basic.get("first_name", "")),
        organization_name=str(basic.get("organization_name") or basic.get("name") or "")
        if entity == ENTITY_ORGANIZATION
        else "",
        state=str(location.get("state", "")).strip().upper(),
        deactivation_date=deactivated,
        reactivation_date=_api_date(basic.get("reactivation_date")),
    )
