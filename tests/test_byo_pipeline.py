"""Bring your own data end to end: HIFLD-format Nevada and OSM-format Norway fixtures
through ``geo-rank grid``, ``geo-rank layers`` and the ranking."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import layers
from layers import regions
from layers.errors import RegionError

DATA = Path(__file__).parent / "data"
HIFLD = ["--substations", str(DATA / "hifld" / "substations.geojson"),
         "--lines", str(DATA / "hifld" / "lines.geojson")]
OSM = str(DATA / "osm" / "norway_overpass.json")


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("byo")
    path = root / "geo-rank.toml"
    path.write_text(f'cache_dir = "{root / "cache"}"\n')
    return path


def _rank(geo_rank, args, config, out):
    res = geo_rank(*args, "--config", str(config), "--out", str(out),
                   "--no-map", "-q")
    assert res.exit_code == 0, res.output
    files = list(Path(out).glob("*.geojson"))
    assert len(files) == 1
    return json.loads(files[0].read_text())


def test_grid_report_of_hifld_region(geo_rank):
    res = geo_rank("grid", "--region", "US-NV", *HIFLD, "--json", "--no-cache")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    # 7 substations and 2 lower voltage levels (geo.grid.levels); 10 lines and the 2 banks
    # estimated between the levels (HIFLD maps no transformer)
    assert (doc["nodes"], doc["lines"], doc["edges"]) == (9, 12, 10)
    assert (doc["level_nodes"], doc["transformers_estimated"]) == (2, 2)
    assert doc["snapped_line_ends"] == 19 and doc["unsnapped_line_ends"] == 1
    assert doc["unsnapped_line_ids"] == ["200011"]  # a 138 kV end 8 km from any substation
    assert doc["parallel_circuits_merged"] == 1
    assert doc["islands"] == 2 and doc["island_sizes"] == [7, 2]  # Pahrump-Amargosa island
    assert doc["merged_substations"] == 1
    assert doc["estimated_line_voltages"] == 2 and doc["estimated_substation_voltages"] == 1
    assert doc["dc_lines_kept_apart"] == 1
    assert doc["estimated_capacity"] == 10  # HIFLD has no ratings
    assert doc["inputs"]["lines"]["format"] == "hifld"


def test_line_ends_300_m_off_snap():
    bundle = layers.load("US-NV", substations=DATA / "hifld" / "substations.geojson",
                         lines=DATA / "hifld" / "lines.geojson")
    from geo import grid

    g = grid.build(bundle.substations, bundle.lines)
    lines = g.lines.set_index("line_id")
    assert lines.loc["200002", "to_sub"] == "100004"  # MEAD, 300 m off
    assert lines.loc["200002", "to_snap_km"] == pytest.approx(0.3, abs=0.01)
    assert lines.loc["200006", ["from_sub", "to_sub"]].tolist() == ["100005", "100003"]


def test_rank_hifld_region_with_eia_plants(config, tmp_path, geo_rank):
    doc = _rank(geo_rank,
                ["--region", "US-NV", *HIFLD, "--plants", str(DATA / "eia" / "Power_Plants.csv"),
                 "--land-prices", str(DATA / "generic" / "land_values.geojson"),
                 "--price-column", "usd_per_ha", "--land-unit", "usd_per_hectare"],
                config, tmp_path)
    props = [f["properties"] for f in doc["features"]]
    assert len(props) == 7
    top = props[0]
    # tier B: the campus's own transformers take 34.6 months (campus_transformer_lead_months)
    assert top["rank"] == 1 and top["tier"] == "B" and top["hosting_mw"] > 300
    assert top["power_binding"] in ("campus transformers", "gas equipment lead time")
    assert top["country_iso3"] == "USA" and top["subdivision"] == "US-NV"
    # their island has no generation: firm (N-1) hosting is not computed, redundancy null
    assert {p["poi_name"] for p in props if p["redundancy"] is None} == {"PAHRUMP", "AMARGOSA"}
    assert top["redundancy"] == "N-1 secure" and top["firm_mw"] >= 300
    assert {round(p["land_price_usd_per_acre"]) for p in props} == {5000, 1000}
    assert any(p["hydro_mw_within_100km"] > 1000 for p in props)  # Hoover Dam


def test_layers_dir_with_hifld_and_eia860(tmp_path, geo_rank):
    for src in ("hifld/substations.geojson", "hifld/lines.geojson",
                "eia/2___Plant_Y2023.xlsx", "eia/3_1_Generator_Y2023.xlsx"):
        shutil.copy(DATA / src, tmp_path / Path(src).name)
    res = geo_rank("layers", "--region", "US-NV", "--layers-dir", str(tmp_path),
                   "--json")
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["plants"]["count"] == 4 and info["plants"]["status"] == "user"
    assert info["quality"]["plants"]["format"] == "eia860"
    assert info["substations"]["source"] == "user file (hifld)"


def test_norway_run_is_eu_eea_gdpr(config, tmp_path, geo_rank):
    doc = _rank(geo_rank, ["--region", "NO", "--substations", OSM, "--lines", OSM, "--plants", OSM],
                config, tmp_path)
    props = [f["properties"] for f in doc["features"]]
    assert len(props) == 5
    assert {p["sovereignty_bloc"] for p in props} == {"EU/EEA"}
    assert all(p["data_regime"].startswith("GDPR") for p in props)
    assert {p["country_iso3"] for p in props} == {"NOR"}
    assert all(p["land_price_usd_per_acre"] is None for p in props)  # no land layer: neutral
    assert all(p["gas_field"] is None for p in props)
    # tier B: the campus's own transformers take 34.6 months (campus_transformer_lead_months)
    assert props[0]["tier"] == "B" and props[0]["hosting_mw"] > 300


def test_country_region_needs_grid_layers():
    assert regions.parse("et") == ("ET", ())
    with pytest.raises(RegionError, match="--substations and --lines"):
        layers.load("FR")


def test_boundary_file_is_the_outline(tmp_path):
    boundary = tmp_path / "vegas.geojson"
    boundary.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[
            [-115.5, 35.9], [-114.8, 35.9], [-114.8, 36.5], [-115.5, 36.5], [-115.5, 35.9]]]}}]}))
    bundle = layers.load("US", substations=DATA / "hifld" / "substations.geojson",
                         lines=DATA / "hifld" / "lines.geojson", boundary=boundary)
    assert bundle.region == "vegas"
    assert sorted(bundle.in_region("substations")["name"]) == [
        "ARDEN", "HARRY ALLEN", "MEAD", "NORTHWEST", "TAP140359"]
