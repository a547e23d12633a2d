"""OpenStreetMap adapter on the Norway fixtures (Overpass JSON and GeoJSON)."""

from __future__ import annotations

from pathlib import Path

import pytest

from layers import adapters
from layers.adapters import _common

DATA = Path(__file__).parent / "data" / "osm"
FILES = [DATA / "norway_overpass.json", DATA / "norway.geojson"]


@pytest.mark.parametrize("path", FILES, ids=["overpass", "geojson"])
def test_detected_as_osm(path):
    assert adapters.detect_file(path) == "osm"


@pytest.mark.parametrize("path", FILES, ids=["overpass", "geojson"])
def test_substations_areas_merge_and_voltages(path):
    subs = adapters.read(path, "substations")
    rep = subs.attrs["report"]
    by_name = subs.set_index("name")
    assert sorted(by_name.index) == ["Hylen", "Kvilldal", "Sauda", "Saurdal", "Suldal"]
    assert rep["areas_as_centroids"] == 2 and (subs.geom_type == "Point").all()
    # the old power=sub_station node 200 m from the Saurdal area merges into it
    assert rep["substations_merged"] == 1
    assert by_name.loc["Saurdal", "merged_ids"] == "osm-node-1002"
    assert (by_name.loc["Saurdal", "voltage_kv"], by_name.loc["Saurdal", "min_voltage_kv"]) == (
        420.0, 132.0)
    assert (by_name.loc["Sauda", "voltage_kv"], by_name.loc["Sauda", "min_voltage_kv"]) == (
        300.0, 132.0)
    assert rep["junk_voltage_tokens"] == ["medium"]
    centre = by_name.loc["Saurdal", "geometry"]
    assert centre.x == pytest.approx(6.55, abs=1e-4) and centre.y == pytest.approx(59.53, abs=1e-4)


@pytest.mark.parametrize("path", FILES, ids=["overpass", "geojson"])
def test_lines_multi_voltage_circuits_dc(path):
    lines = adapters.read(path, "lines")
    rep = lines.attrs["report"]
    by_id = lines.set_index("line_id")
    assert sorted(by_id.index) == ["osm-way-3001", "osm-way-3002", "osm-way-3003",
                                   "osm-way-3004", "osm-way-3007"]
    assert by_id.loc["osm-way-3001", "voltage_kv"] == 300.0  # "300000;132000": the highest
    assert by_id.loc["osm-way-3001", "voltages_kv"] == "300;132"
    assert by_id.loc["osm-way-3001", "circuits"] == 2  # circuits=2
    assert by_id.loc["osm-way-3002", "circuits"] == 2  # cables=6
    assert by_id.loc["osm-way-3004", "power"] == "cable"
    assert sorted(rep["junk_voltage_tokens"]) == ["abc", "yes"]
    assert rep["left_out_without_voltage"] == ["osm-way-3005"]
    assert rep["dc_lines"] == 1 and rep["multi_voltage_lines"] == 2


@pytest.mark.parametrize("path", FILES, ids=["overpass", "geojson"])
def test_plants(path):
    plants = adapters.read(path, "plants").set_index("name")
    assert plants.loc["Kvilldal kraftverk", "capacity_mw"] == 1240.0
    assert plants.loc["Saurdal kraftverk", "capacity_mw"] == 640.0  # an area, at its centroid
    assert plants.loc["Sauda småkraft", ["fuel", "fuels", "capacity_mw"]].tolist() == [
        "hydro", "hydro;solar", 1.5]
    assert "Vindpark" not in plants.index  # output "yes": no capacity, left out and counted


def test_overpass_and_geojson_agree():
    a, b = (adapters.read(p, "substations") for p in FILES)
    assert a.sort_values("sub_id")["voltage_kv"].tolist() == \
        b.sort_values("sub_id")["voltage_kv"].tolist()


def test_voltage_and_output_parsing():
    assert _common.parse_voltages("110000;220000") == ([110.0, 220.0], [])
    assert _common.parse_voltages("400000;unknown;") == ([400.0], ["unknown"])
    assert _common.parse_power_mw("600 MW") == 600.0
    assert _common.parse_power_mw("2 GW") == 2000.0
