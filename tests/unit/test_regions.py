"""Security rule 4: every NPI maps to exactly one region; unknown states fail closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import ConfigError, UnknownPracticeState
from core.regions import REGIONS, REGIONS_FILE, RegionMap, default_region_map

_STATES_TEXT = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC"
)
STATES_AND_DC = tuple(_STATES_TEXT.split())
TERRITORIES_AND_MILITARY = ["PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP"]


def test_every_state_territory_and_military_code_has_exactly_one_region() -> None:
    regions = default_region_map()
    assert len(STATES_AND_DC) == 51
    for code in (*STATES_AND_DC, *TERRITORIES_AND_MILITARY):
        assert regions.get(code) in REGIONS, code
    # Exactly one: the loader refuses a code listed twice (tested below), and nothing extra.
    assert regions.states == frozenset((*STATES_AND_DC, *TERRITORIES_AND_MILITARY))


def test_every_region_is_used() -> None:
    regions = default_region_map()
    assert {regions.get(s) for s in regions.states} == set(REGIONS)


def test_lookup_ignores_case_and_spaces() -> None:
    assert default_region_map().region_for(" ny ") == default_region_map().region_for("NY")


@pytest.mark.parametrize("state", ["", "ZZ", "ONTARIO", "N.Y.", "XX"])
def test_unknown_state_fails_closed(state: str) -> None:
    regions = default_region_map()
    assert regions.get(state) is None
    with pytest.raises(UnknownPracticeState):
        regions.region_for(state)


def test_the_map_documents_its_split() -> None:
    doc = json.loads(REGIONS_FILE.read_text())
    assert doc["about"]
    assert all(doc["regions"][str(r)]["name"] for r in REGIONS)


def test_a_state_in_two_regions_is_refused(tmp_path: Path) -> None:
    doc = json.loads(REGIONS_FILE.read_text())
    doc["regions"]["2"]["states"].append("NY")
    bad = tmp_path / "regions.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="NY"):
        RegionMap.from_file(bad)


def test_a_missing_region_is_refused(tmp_path: Path) -> None:
    doc = json.loads(REGIONS_FILE.read_text())
    del doc["regions"]["5"]
    bad = tmp_path / "regions.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ConfigError):
        RegionMap.from_file(bad)
