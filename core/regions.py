"""Practice-location state -> regional directory (1-5), from assets/regions.json.

Every NPI belongs to exactly one region; a state the map does not know fails closed
(docs/security.md rule 4): `region_for` raises `UnknownPracticeState`, and callers report it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from core.errors import ConfigError, UnknownPracticeState

REGIONS: tuple[int, ...] = (1, 2, 3, 4, 5)
ASSETS = Path(__file__).resolve().parents[1] / "assets"
REGIONS_FILE = ASSETS / "regions.json"


class RegionMap:
    def __init__(self, state_to_region: Mapping[str, int], names: Mapping[int, str]) -> None:
        self._by_state = dict(state_to_region)
        self.names = dict(names)

    @classmethod
    def from_file(cls, path: Path) -> RegionMap:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            by_state: dict[str, int] = {}
            names: dict[int, str] = {}
            for key, region in doc["regions"].items():
                number = int(key)
                if number not in REGIONS:
                    raise ValueError(f"region {number} is not one of 1-5")
                names[number] = str(region["name"])
                for state in region["states"]:
                    code = str(state).upper()
                    if code in by_state:
                        twice = f"{code} is listed in regions {by_state[code]} and {number}"
                        raise ValueError(twice)
                    by_state[code] = number
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"The region map {path} is unusable: {exc}.") from None
        if set(names) != set(REGIONS):
            raise ConfigError(f"The region map {path} must name regions 1-5.")
        return cls(by_state, names)

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self._by_state)

    def get(self, state: str) -> int | None:
        """The region of a USPS state code, or None when the map does not know it."""
        return self._by_state.get(state.strip().upper())

    def region_for(self, state: str) -> int:
        region = self.get(state)
        if region is None:
            shown = state.strip() or "(blank)"
            raise UnknownPracticeState(
                f"The practice-location state '{shown}' is not in the kiosk's region map, "
                "so this NPI cannot be verified here."
            )
        return region


@cache
def default_region_map() -> RegionMap:
    return RegionMap.from_file(REGIONS_FILE)


def region_for(state: str) -> int:
    return default_region_map().region_for(state)
