"""The territories build step (layers/build/territories.py) on a hand-made CommonGrid folder.

Fast, and needs no copy of CommonGrid: the fixture has two overlapping retail territories,
a balancing authority across a state line (the Red River, about 34 N, between Texas and
Oklahoma), a self-intersecting (bow-tie) territory, one with nested parts, one with no
area, an ISO/RTO with its non-ISO remainder, a community-choice area and a listed area
without a polygon.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

import layers
from layers import kinds, schema
from layers.build import territories as terr
from layers.build.__main__ import STEPS
from layers.errors import DataSourceError

DATE = "2026-02-15"


def _square(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


#: region id -> (type, name, EIA id, state, source, geometry or None, extra properties)
REGIONS = {
    # nested shells: a second part inside the first (invalid); both claim the area
    "region-st-100": ("SERVICE_TERRITORY", "ALPHA POWER CO", "100", "TX",
                      "ArcGIS HIFLD Electric Retail Service Territories",
                      {"type": "MultiPolygon", "coordinates": [
                          _square(-100.0, 32.0, -98.0, 34.0)["coordinates"],
                          _square(-99.5, 32.5, -99.2, 32.8)["coordinates"]]}, {}),
    "region-st-200": ("SERVICE_TERRITORY", "BETA ELEC COOP", "200", "TX",
                      "ArcGIS HIFLD Electric Retail Service Territories",
                      _square(-99.0, 33.0, -97.0, 33.9), {}),
    # a bow-tie: its ring crosses itself at (-95.5, 32.5)
    "region-st-300": ("SERVICE_TERRITORY", "BOWTIE MUNI", "300", "TX",
                      "ArcGIS HIFLD Electric Retail Service Territories",
                      {"type": "Polygon", "coordinates": [[[-96, 32], [-95, 33], [-95, 32],
                                                           [-96, 33], [-96, 32]]]}, {}),
    # a ring folded onto a line: no area at all
    "region-st-400": ("SERVICE_TERRITORY", "GHOST LIGHT", "400", "OK",
                      "ArcGIS HIFLD Electric Retail Service Territories",
                      {"type": "Polygon", "coordinates": [[[-97, 35], [-96, 36], [-97, 35],
                                                           [-97, 35]]]}, {}),
    "region-ba-red-river": ("BALANCING_AUTHORITY", "Red River Balancing", "900", None,
                            "HIFLD Control Areas", _square(-101.0, 31.0, -96.0, 35.0),
                            {"code": "RRBA"}),
    "region-ba-no-polygon": ("BALANCING_AUTHORITY", "Listed Only", "901", None,
                             "HIFLD Control Areas", None, {"code": "LO"}),
    "region-iso-tiso": ("ISO", "TEXAS ISO, INC.", "900", "TX",
                        "ArcGIS HIFLD Independent System Operators",
                        _square(-101.0, 31.0, -96.0, 34.5), {"shortName": "TISO"}),
    "region-iso-north-non-iso": ("CUSTOM", "North (non-ISO)", None, None,
                                 "ArcGIS HIFLD Independent System Operators",
                                 _square(-101.0, 34.5, -96.0, 36.0), {}),
    "region-cca-gamma": ("CCA_TERRITORY", "Gamma Choice Energy", "500", "TX",
                         "CEC Electric Load Serving Entities (Other)",
                         _square(-99.5, 32.5, -99.0, 33.0), {"acronym": "GCE"}),
}

UTILITIES = [
    # Alpha twice, as EIA-861 has some utilities: the record with a BA code wins
    {"id": "u1a", "name": "Alpha Power", "eiaId": "100", "status": "ACTIVE", "baCode": None,
     "balancingAuthorityId": None, "serviceTerritoryId": "region-st-100"},
    {"id": "u1b", "name": "Alpha Power", "eiaId": "100", "status": "ACTIVE", "baCode": "RRBA",
     "balancingAuthorityId": "ba-red-river", "serviceTerritoryId": "region-st-100"},
    # "NA" is EIA-861's "not available"; the BA link still names it
    {"id": "u2", "name": "Beta Coop", "eiaId": "200", "status": "ACTIVE", "baCode": "NA",
     "balancingAuthorityId": "ba-red-river", "serviceTerritoryId": "region-st-200"},
    {"id": "u5", "name": "Gamma Choice Energy", "eiaId": "500", "status": "ACTIVE",
     "baCode": "RRBA", "balancingAuthorityId": None, "serviceTerritoryId": "region-cca-gamma",
     "parentId": "h1"},
    # a holding company (no EIA id) of Alpha (once) and Gamma: their other name
    {"id": "h1", "name": "Omega Holdings", "eiaId": None, "status": "ACTIVE", "baCode": None,
     "balancingAuthorityId": None, "serviceTerritoryId": None},
]
UTILITIES[1]["parentId"] = "h1"
BALANCING_AUTHORITIES = [
    {"id": "ba-red-river", "eiaCode": "RRBA", "eiaId": "900", "isoId": "iso-uuid-1"},
    {"id": "ba-no-polygon", "eiaCode": "LO", "eiaId": "901", "isoId": None},
]
ISOS = [{"id": "iso-uuid-1", "shortName": "TISO", "name": "Texas ISO"}]


def make_folder(root: Path) -> Path:
    """Write the fixture as a CommonGrid data folder under ``root``."""
    folder = root / "commongrid"
    (folder / "territories").mkdir(parents=True)
    regions = []
    for rid, (typ, name, eia, state, source, geom, extra) in REGIONS.items():
        regions.append({"id": rid, "slug": rid.removeprefix("region-"), "name": name,
                        "type": typ, "eiaId": eia, "state": state, "customers": None,
                        "source": source, "sourceDate": DATE})
        if geom is None:
            continue
        stem = eia if typ == "SERVICE_TERRITORY" else rid.removeprefix("region-")
        feature = {"type": "Feature", "geometry": geom,
                   "properties": {"id": rid, "name": name, **extra}}
        (folder / "territories" / f"{stem}.json").write_text(
            json.dumps({"type": "FeatureCollection", "features": [feature]}))
    for name, data in (("regions.json", regions), ("utilities.json", UTILITIES),
                       ("balancing-authorities.json", BALANCING_AUTHORITIES),
                       ("isos.json", ISOS)):
        (folder / name).write_text(json.dumps(data))
    return folder


@pytest.fixture()
def folder(tmp_path) -> Path:
    return make_folder(tmp_path / "src")


def test_the_fixture_builds_to_the_expected_rows(folder):
    report = terr.Report()
    gdf = terr.territories(folder, report)
    assert list(gdf.columns) == schema.columns("territories")
    assert list(gdf["territory_id"]) == [
        "ba-red-river", "cca-gamma", "iso-north-non-iso", "iso-tiso", "st-100", "st-200",
        "st-300"]
    assert list(gdf["kind"]) == [
        "balancing_authority", "community_choice", "iso_rto", "iso_rto",
        "retail_service_territory", "retail_service_territory", "retail_service_territory"]
    row = gdf.set_index("territory_id")
    assert row["eia_id"].to_dict() == {
        "ba-red-river": "900", "cca-gamma": "500", "iso-north-non-iso": None,
        "iso-tiso": "900", "st-100": "100", "st-200": "200", "st-300": "300"}
    assert row["code"].dropna().to_dict() == {"ba-red-river": "RRBA", "iso-tiso": "TISO"}
    assert row["balancing_authority"].dropna().to_dict() == {
        "ba-red-river": "RRBA", "cca-gamma": "RRBA", "st-100": "RRBA", "st-200": "RRBA"}
    assert row["iso_rto"].dropna().to_dict() == {
        "ba-red-river": "TISO", "cca-gamma": "TISO", "iso-tiso": "TISO", "st-100": "TISO",
        "st-200": "TISO"}
    # the state of record is a utility's; an ISO's or a BA's would be its seat
    assert row["state"].dropna().to_dict() == {"cca-gamma": "TX", "st-100": "TX",
                                               "st-200": "TX", "st-300": "TX"}
    assert row.loc["st-100", "source"].startswith("HIFLD Electric Retail Service Territories;")
    assert set(gdf["source_date"]) == {DATE}
    assert (report.polygons, report.repaired, report.dropped) == (8, 3, ["st-400"])
    assert report.without_polygon == ["ba-no-polygon"]
    assert report.simplified_m is None  # a small file is not simplified


def test_geometry_is_valid_multipolygons_and_overlaps_are_kept(folder):
    gdf = terr.territories(folder)
    assert gdf.crs.equals("EPSG:4326")
    assert set(gdf.geom_type) == {"MultiPolygon"} and gdf.is_valid.all()
    row = gdf.set_index("territory_id").geometry
    # the bow-tie is repaired into its two triangles, both kept
    assert len(row["st-300"].geoms) == 2 and row["st-300"].area == pytest.approx(0.5)
    # nested parts add up: the inner one is not cut out as a hole
    assert len(row["st-100"].geoms) == 1 and row["st-100"].area == pytest.approx(4.0)
    assert row["st-100"].contains(Point(-99.3, 32.6))
    # both overlapping territories contain a point of their overlap
    in_both = Point(-98.5, 33.5)
    assert list(gdf.loc[gdf.contains(in_both) & (gdf["kind"] == "retail_service_territory"),
                        "territory_id"]) == ["st-100", "st-200"]
    # the balancing authority spans the state line in one row, with no state of its own
    texas, oklahoma = Point(-98.0, 33.8), Point(-98.0, 34.6)
    assert row["ba-red-river"].contains(texas) and row["ba-red-river"].contains(oklahoma)
    assert gdf.set_index("territory_id").loc["ba-red-river", "state"] is None


def test_the_build_is_deterministic_and_skipped_without_a_source(folder, tmp_path, caplog,
                                                                  monkeypatch):
    assert terr in STEPS
    a = terr.build(tmp_path / "cache", tmp_path / "a", folder)
    b = terr.build(tmp_path / "cache", tmp_path / "b", folder)
    assert a == [tmp_path / "a" / "us" / "territories.parquet",
                 tmp_path / "a" / "us" / "utility_aliases.csv"]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert a[1].read_text() == "alias,eia_id\nOmega Holdings,100\nOmega Holdings,500\n"
    assert len(gpd.read_parquet(a[0])) == 7
    monkeypatch.setenv(terr.ENV, str(folder))
    assert terr.source_dir() == folder
    monkeypatch.setenv(terr.ENV, str(tmp_path / "absent"))
    with caplog.at_level(logging.INFO, logger=terr.__name__):
        assert terr.build(tmp_path / "cache", tmp_path / "c") == []
    assert not (tmp_path / "c").exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"territories: skipped, no CommonGrid folder at {tmp_path / 'absent'} "
        f"(--territories-dir or ${terr.ENV})"]


def test_a_large_file_is_simplified_in_metres(folder):
    report = terr.Report()
    gdf = terr.territories(folder, report, max_bytes=0)
    assert report.simplified_m == terr.SIMPLIFY_M == 50.0
    assert gdf.is_valid.all() and set(gdf.geom_type) == {"MultiPolygon"}
    assert gdf.set_index("territory_id").geometry["st-100"].area == pytest.approx(4.0, rel=1e-6)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("territories/100.json", '{"type": "FeatureCollection", "features": [', "not readable JSON"),
    ("territories/100.json", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "region-st-100"},
         "geometry": {"type": "Point", "coordinates": [-99, 33]}}]}),
     "not a GeoJSON polygon feature"),
    ("territories/200.json", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "region-st-200"},
         "geometry": {"type": "Polygon", "coordinates": "junk"}}]}),
     "not a GeoJSON polygon feature"),
    ("regions.json", json.dumps({"not": "a list"}), "expected a JSON list of objects"),
    ("utilities.json", json.dumps([{"eiaId": "100"}]), "entry 0 lacks baCode"),
])
def test_a_malformed_file_is_one_line_naming_it(folder, name, text, message):
    (folder / name).write_text(text)
    with pytest.raises(DataSourceError, match=message) as exc:
        terr.territories(folder)
    assert str(exc.value).startswith(f"{folder / name}: ")
    assert "\n" not in str(exc.value)


def test_users_may_bring_their_own_territories(tmp_path):
    kind = kinds.get("territories")
    assert (kind.flag, kind.embedded, kind.path) == ("--territories", "us",
                                                      "us/territories.parquet")
    assert kinds.kind_of_file("Electric_Retail_Service_Territories.geojson") == "territories"
    assert kinds.kind_of_file("Control_Areas.shp") == "territories"
    path = tmp_path / "my_territories.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": _square(-71.6, 41.5, -71.3, 41.9),
         "properties": {"territory_id": "t1", "kind": "retail_service_territory",
                        "name": "Ocean State Power", "eia_id": 13214}}]}))
    bundle = layers.load("US-RI", territories=path)
    assert list(bundle.territories["territory_id"]) == ["t1"]
    assert list(bundle.territories["eia_id"]) == ["13214"]  # ids are text
    assert bundle.sources["territories"]["status"] == "user"
