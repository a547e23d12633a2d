"""HIFLD adapters on the Nevada fixture (tests/data/hifld, see tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

import layers
from layers import adapters
from layers.errors import LayerValidationError

DATA = Path(__file__).parent / "data"
SUBS, LINES = DATA / "hifld" / "substations.geojson", DATA / "hifld" / "lines.geojson"


def test_detection():
    assert adapters.detect_file(SUBS) == "hifld"
    assert adapters.detect_file(LINES) == "hifld"


def test_lines_voltage_estimates_dc_and_status():
    lines = adapters.read(LINES, "lines")
    rep = lines.attrs["report"]
    kv = lines.set_index("line_id")["voltage_kv"]
    src = lines.set_index("line_id")["voltage_source"]
    assert len(lines) == 10  # 12 rows minus the DC line and the proposed one
    assert kv["200005"] == 230.0 and src["200005"] == "estimated"  # from VOLT_CLASS 220-287
    assert kv["200006"] == 230.0 and src["200006"] == "estimated"  # from neighbouring lines
    assert src["200001"] == "observed"
    assert rep["voltage_from_class"] == 1 and rep["voltage_from_neighbours"] == 1
    assert rep["dc_lines"] == 1 and "200008" not in set(lines["line_id"])
    assert list(lines.attrs["extras"]["dc_lines"]["line_id"]) == ["200008"]
    assert rep["left_out_by_status"] == {"PROPOSED": 1}
    # SUB_1/SUB_2 are names, not keys: the ends are left for the grid to snap
    assert lines["from_sub"].isna().all() and lines["to_sub"].isna().all()
    assert lines.set_index("line_id").loc["200006", "sub_1"] == "TAP140359"


def test_substations_sentinels_duplicates_and_status():
    subs = adapters.read(SUBS, "substations")
    rep = subs.attrs["report"]
    by_id = subs.set_index("sub_id")
    assert rep["substations_merged"] == 1 and rep["merged_groups"] == [["100004", "100006"]]
    assert by_id.loc["100004", "merged_ids"] == "100006"
    assert rep["left_out_by_status"] == {"INACTIVE": 1}
    # -999999 / NOT AVAILABLE become nulls; with no lines to fill from, the TAP is left out
    assert set(rep["left_out_without_voltage"]) == {"100005", "100010"}
    assert by_id.loc["100008", "voltage_kv"] == 230.0  # MAX_VOLT known, MIN_VOLT -999999
    assert by_id.loc["100008", "voltage_source"] == "estimated"  # MAX_INFER = Y
    assert by_id.loc["100008", "status"] is None  # NOT AVAILABLE


def test_substation_voltage_filled_from_lines():
    bundle = layers.load("US-NV", substations=SUBS, lines=LINES)
    tap = bundle.substations.set_index("sub_id").loc["100005"]
    assert (tap["voltage_kv"], tap["voltage_source"]) == (230.0, "estimated")
    assert bundle.reports["substations"]["voltage_from_lines"] == 1
    assert bundle.reports["substations"]["left_out_without_voltage"] == ["100010"]
    assert bundle.sources["substations"]["format"] == "hifld"
    assert len(bundle.plants) == 0  # embedded plants belong to the embedded grid
    assert bundle.reports["lines"]["dc_lines"] == 1


def test_wrong_hifld_layer_is_named():
    with pytest.raises(LayerValidationError, match="HIFLD substations file needs"):
        adapters.read(LINES, "substations", source_format="hifld")
