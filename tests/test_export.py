"""geo.io.export and geo.provenance: formats, determinism, atomicity, overwrite guard."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import geo
from geo.errors import DataSourceError, LayerValidationError, SettingsError
from geo.io import export
from geo.provenance import build_provenance
from geo.settings import Settings

HOSTILE = "<img src=x onerror=alert(1)>"
FIXED_TIME = "2025-05-01T12:00:00Z"


def make_sites() -> gpd.GeoDataFrame:
    """Three ranked sites: NaNs, a boolean, a non-ASCII and a hostile name."""
    return gpd.GeoDataFrame(
        {
            "site_id": ["s1", "s2", "s3"],
            "rank": [1, 2, 3],
            "tier": ["A", "B", None],
            "score": [0.91, 0.5, np.nan],
            "poi_sub_id": ["001", "002", "003"],
            "poi_name": ["Zürich Nord", HOSTILE, "Plain"],
            "poi_voltage_kv": [345.0, 230.0, 115.0],
            "tie_distance_km": [1.25, np.nan, 12.0],
            "hosting_mw": [350.0, 120.5, 0.0],
            "serves_load": [True, False, False],
            "redundancy": ["N-1 secure", "not N-1 secure", "not N-1 secure"],
            "hydro_mw_within_100km": [np.nan, 40.0, np.nan],
            "country_iso3": ["CHE", "USA", "USA"],
            "reasons": ["hosts 100 MW, N+1", 'quote " and, comma', "#3 no hosting"],
        },
        geometry=[Point(8.5512345678, 47.41), Point(-97.7431, 30.2672), Point(-100.0, 40.0)],
        crs="EPSG:4326",
    )


@pytest.fixture()
def prov() -> dict:
    p = build_provenance(Settings(), {"substations": {"path": "us/substations.parquet",
                                                      "vintage": "2020"}}, "US-TX", 100.0)
    p["generated_at"] = FIXED_TIME
    return p


# --- provenance ---------------------------------------------------------------------------

def test_provenance_contents():
    p = build_provenance(Settings(), {}, "US-TX", 100.0, extra={"candidates": "substations"})
    assert p["tool"] == "geo-rank"
    assert p["version"] == geo.__version__
    assert p["region"] == "US-TX" and p["load_mw"] == 100.0
    assert "cache_dir" not in p["settings"] and "use_cache" not in p["settings"]
    assert p["settings"]["backbone_kv"] == 345.0
    assert p["candidates"] == "substations"
    assert p["generated_at"].endswith("Z") and len(p["generated_at"]) == 20
    json.dumps(p, allow_nan=False)


# --- GeoJSON ------------------------------------------------------------------------------

def test_geojson_rfc7946(tmp_path, prov):
    out = export.write(make_sites(), tmp_path / "s.geojson", prov)
    raw = out.read_bytes()
    assert raw.endswith(b"\n")
    doc = json.loads(raw.decode("utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    assert doc["metadata"]["version"] == geo.__version__
    assert doc["metadata"]["tool"] == "geo-rank"
    f0, f1, f2 = doc["features"]
    assert f0["geometry"]["coordinates"] == [8.5512346, 47.41]  # lon first, 7 decimals
    assert [f["id"] for f in doc["features"]] == ["s1", "s2", "s3"]
    assert list(f0["properties"]) == [c for c in make_sites().columns if c != "geometry"]
    assert f0["properties"]["hydro_mw_within_100km"] is None
    assert f2["properties"]["score"] is None and f2["properties"]["tier"] is None
    assert f0["properties"]["serves_load"] is True and f1["properties"]["serves_load"] is False
    assert f0["properties"]["rank"] == 1 and isinstance(f0["properties"]["rank"], int)
    assert f0["properties"]["poi_name"] == "Zürich Nord"
    assert "Zürich Nord".encode() in raw  # UTF-8, not \u escapes
    assert b"NaN" not in raw
    gdf = gpd.read_file(out)
    assert len(gdf) == 3
    assert gdf.geometry.iloc[1].x == pytest.approx(-97.7431)


def test_geojson_reprojects(tmp_path, prov):
    projected = make_sites().to_crs(3857)
    doc = json.loads(export.write(projected, tmp_path / "p.json", prov).read_text("utf-8"))
    lon, lat = doc["features"][1]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((-97.7431, 30.2672), abs=1e-7)
    assert "crs" not in doc


def test_no_crs_refused(tmp_path, prov):
    with pytest.raises(LayerValidationError, match="no CRS"):
        export.write(make_sites().set_crs(None, allow_override=True), tmp_path / "x.geojson",
                     prov)


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "parquet"])
def test_deterministic_bytes(tmp_path, prov, fmt):
    a = export.write(make_sites(), tmp_path / "a" / f"s{export.FORMATS[fmt]}", prov)
    b = export.write(make_sites(), tmp_path / "b" / f"s{export.FORMATS[fmt]}", dict(prov))
    assert a.read_bytes() == b.read_bytes()


def test_only_generated_at_differs(tmp_path, prov):
    a = export.write(make_sites(), tmp_path / "a.geojson", prov).read_text("utf-8")
    later = dict(prov, generated_at="2030-01-01T00:00:00Z")
    b = export.write(make_sites(), tmp_path / "b.geojson", later).read_text("utf-8")
    assert a.replace(FIXED_TIME, "2030-01-01T00:00:00Z") == b


# --- round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "parquet", "csv"])
def test_round_trip(tmp_path, prov, fmt):
    sites = make_sites()
    out = export.write(sites, export.path_for(tmp_path, "US-TX", fmt), prov)
    back, meta = export.read_sites(out)
    dictionary = meta.pop("columns")
    assert meta == prov
    written = [c for c in sites.columns if c != "geometry"]
    if fmt == "csv":
        written += ["lat", "lon"]
    assert [entry["name"] for entry in dictionary] == written
    assert list(back.columns) == list(sites.columns)
    assert back.crs.to_epsg() == 4326
    assert list(back["site_id"]) == ["s1", "s2", "s3"]
    assert list(back["poi_sub_id"]) == ["001", "002", "003"]
    assert list(back["poi_name"]) == ["Zürich Nord", HOSTILE, "Plain"]
    assert [bool(v) for v in back["serves_load"]] == [True, False, False]
    assert math.isnan(back["score"].iloc[2])
    assert back.geometry.iloc[0].x == pytest.approx(8.5512346)
    assert back.geometry.iloc[0].y == pytest.approx(47.41)
    pd.testing.assert_series_equal(back["hosting_mw"], sites["hosting_mw"])


def test_csv_layout(tmp_path, prov):
    out = export.write(make_sites(), tmp_path / "s.csv", prov)
    header = out.read_text("utf-8").splitlines()[0].split(",")
    assert header[-2:] == ["lat", "lon"]
    sidecar = json.loads((tmp_path / "s.csv.provenance.json").read_text("utf-8"))
    dictionary = {entry["name"]: entry for entry in sidecar.pop("columns")}
    assert sidecar == prov
    assert list(dictionary) == header
    assert dictionary["lat"]["unit"] == "degree"
    assert dictionary["hosting_mw"]["unit"] == "MW"
    df = pd.read_csv(out)  # plain pandas reads it, no comment lines
    assert df["lat"].iloc[1] == pytest.approx(30.2672)


FORMULA = '=HYPERLINK("http://x","y")'


def test_csv_cells_that_a_spreadsheet_would_run_are_made_inert(tmp_path, prov):
    """OWASP CSV injection: a text cell starting with =, +, -, @, tab or CR gets a leading
    single quote; numbers (a negative longitude) and other text are untouched."""
    sites = make_sites()
    sites["site_name"] = [FORMULA, "+1 dial", "Plain"]
    sites["poi_name"] = ["@SUM(A1)", "\tTabbed", "-2+3"]
    sites["reasons"] = ["\rCR first", "ok", "=1+1"]
    out = export.write(sites, tmp_path / "s.csv", prov)
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert df["site_name"].tolist() == ["'" + FORMULA, "'+1 dial", "Plain"]
    assert df["poi_name"].tolist() == ["'@SUM(A1)", "'\tTabbed", "'-2+3"]
    assert df["reasons"].tolist() == ["'\nCR first", "ok", "'=1+1"]  # a CR: LF, quoted
    assert df["lon"].tolist()[1] == "-97.7431"           # a number: as it is
    # the other formats hold the text as given (no spreadsheet opens them)
    back, _ = export.read_sites(export.write(sites, tmp_path / "s.geojson", prov))
    assert back["site_name"].tolist()[0] == FORMULA


def test_terminal_cells_are_inert_too():
    from geo.cli.tables import cell

    assert cell("{}", FORMULA).startswith("'=HYPERLINK(")
    assert cell("{}", "\x1b[31mRED") == "?[31mRED"
    assert cell("{:,.0f}", -5.0) == "-5"  # a number: as it is


def test_terminal_table_aligns_numbers_right_and_text_left():
    """The table laid out by pandas: headers over their columns, numbers right-aligned with
    thousands separators, text left-aligned and cut by its format, "-" for a missing value
    or column, a formula-like name made inert; no leading or trailing spaces."""
    from geo.cli.tables import text_table

    rows = pd.DataFrame({"rank": [1, 12], "name": ["Luna", "=cmd|' /C calc'!A0"],
                         "mw": [1234.4, float("nan")]})
    shown = [("rank", "rank", "{:,}"), ("name", "name", "{:.6}"), ("host MW", "mw", "{:,.0f}"),
             ("ISO", "iso", "{}")]
    assert text_table(rows, shown, left={"name", "iso"}).splitlines() == [
        "rank name   host MW ISO",
        "   1 Luna     1,234 -",
        "  12 '=cmd|       - -",
    ]


def test_csv_refuses_polygons(tmp_path, prov):
    sites = make_sites()
    sites["geometry"] = [box(p.x, p.y, p.x + 0.01, p.y + 0.01) for p in sites.geometry]
    with pytest.raises(LayerValidationError, match="points only"):
        export.write(sites, tmp_path / "s.csv", prov)


def test_path_for():
    assert export.path_for("exports", "US-TX", "geojson") == Path("exports/us-tx_sites.geojson")
    assert export.path_for("o", "data/My Area.geojson", "csv") == Path("o/my_area_sites.csv")
    with pytest.raises(SettingsError):
        export.path_for("o", "US", "shp")
    with pytest.raises(SettingsError):
        export.write(make_sites(), Path("x.shp"), {})


# --- atomicity and the overwrite guard ------------------------------------------------------

@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_failure_leaves_previous_file(tmp_path, prov, fmt, monkeypatch):
    out = export.write(make_sites(), tmp_path / f"s{export.FORMATS[fmt]}", prov)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    if fmt == "geojson":
        monkeypatch.setattr(export, "_dumps", boom)
    else:
        monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export.write(make_sites().iloc[:1], out, dict(prov, region="US"))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_failure_mid_write_leaves_no_temp(tmp_path, prov, monkeypatch):
    out = tmp_path / "s.geojson"
    calls = {"n": 0}
    real = export._dumps

    def flaky(obj):
        calls["n"] += 1
        if calls["n"] == 3:  # after the header and the first feature were written
            raise OSError(28, "No space left on device")
        return real(obj)

    monkeypatch.setattr(export, "_dumps", flaky)
    with pytest.raises(DataSourceError, match="No space left"):
        export.write(make_sites(), out, prov)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder(tmp_path, prov):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataSourceError, match="choose another output path"):
        export.write(make_sites(), blocker / "sub" / "s.geojson", prov)


def test_creates_parent(tmp_path, prov):
    out = export.write(make_sites(), tmp_path / "a" / "b" / "s.gpkg", prov)
    assert out.is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["s.gpkg"]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "parquet", "csv"])
def test_overwrite_guard(tmp_path, prov, fmt):
    sites = make_sites()
    target = tmp_path / f"user{export.FORMATS[fmt]}"
    user = sites.iloc[:1]
    if fmt == "csv":
        user.drop(columns="geometry").to_csv(target, index=False)
    else:
        user.to_file(target) if fmt in ("geojson", "gpkg") else user.to_parquet(target)
    before = target.read_bytes()
    with pytest.raises(DataSourceError, match="not written by geo-rank; pass --overwrite"):
        export.write(sites, target, prov)
    assert target.read_bytes() == before
    export.write(sites, target, prov, overwrite=True)  # forced
    export.write(sites.iloc[:2], target, prov)  # now ours: replaced without --overwrite
    assert len(export.read_sites(target)[0]) == 2


def test_read_user_geojson_without_provenance(tmp_path):
    path = tmp_path / "user.geojson"
    make_sites().to_crs(3857).to_file(path)  # GDAL writes a crs member for non-WGS84
    gdf, meta = export.read_sites(path)
    assert meta is None
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[1].x == pytest.approx(-97.7431)


def test_read_missing_file(tmp_path):
    with pytest.raises(DataSourceError, match="does not exist"):
        export.read_sites(tmp_path / "nope.geojson")


def test_output_not_private(tmp_path, prov):
    out = export.write(make_sites(), tmp_path / "s.geojson", prov)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_gpkg_describes_its_columns(tmp_path, prov):
    """GeoPackage schema extension: each column's description and unit in gpkg_data_columns."""
    import sqlite3

    out = export.write(make_sites(), tmp_path / "s.gpkg", prov)
    con = sqlite3.connect(out)
    try:
        rows = dict(con.execute("SELECT column_name, description FROM gpkg_data_columns "
                                "WHERE table_name = 'sites'").fetchall())
        extensions = con.execute("SELECT table_name FROM gpkg_extensions "
                                 "WHERE extension_name = 'gpkg_schema'").fetchall()
    finally:
        con.close()
    assert sorted(rows) == sorted(c for c in make_sites().columns if c != "geometry")
    assert rows["hosting_mw"].startswith("Load the POI can take") and rows["hosting_mw"].endswith(
        " [MW]")
    assert sorted(extensions) == [("gpkg_data_column_constraints",), ("gpkg_data_columns",)]
    back, _ = export.read_sites(out)  # GDAL reads the file as before
    assert list(back.columns) == list(make_sites().columns)


def test_parquet_blocks_from_the_frame_are_the_writers_bytes(tmp_path, prov, monkeypatch):
    """A block's data converted straight from the frame gives the file, byte for byte, that
    geopandas' writer (into memory and read back) gives; 3D geometry takes the writer."""
    n = 10
    sites = gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(n)],
         "note": pd.array([None] * 4 + ["x"] * 6, dtype=object),
         "tier": pd.Series(list("ABCDABCDAB")),  # pandas 3: str (arrow), else object
         "score": np.r_[np.arange(n - 1, dtype=float), np.nan],
         "rank": np.arange(1, n + 1)},
        geometry=[Point(i, -i) for i in range(n - 2)] + [None, box(1, 1, 2, 2)],
        crs="EPSG:4326")
    monkeypatch.setattr(export, "PARQUET_ROW_GROUP_ROWS", 4)
    direct = export.write(sites, tmp_path / "direct.parquet", prov).read_bytes()
    monkeypatch.setattr(export, "_wkb_as_written", lambda frame, kind=None: False)
    written = export.write(sites, tmp_path / "writer.parquet", prov).read_bytes()
    assert direct == written
    three_d = sites.set_geometry([Point(i, i, 1.0) for i in range(n)], crs="EPSG:4326")
    monkeypatch.undo()
    assert not export._wkb_as_written(three_d) and export._wkb_as_written(sites)


def test_parquet_in_row_groups_holds_the_same_table(tmp_path, prov, monkeypatch):
    """A table longer than a row group is converted and written one block at a time: the
    same table, schema and ``geo`` key (bounding box, geometry types) as written at once,
    though a text column is null in the whole first block, the extreme points and the one
    polygon lie in the last, and an object column mixes booleans and None."""
    import pyarrow.parquet as pq

    n = 10
    sites = gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(n)],
         "note": pd.array([None] * 4 + ["x"] * 6, dtype=object),
         "generation_short": np.array([None, None, None, None, True, False, None, True,
                                       False, None], dtype=object),
         "score": np.arange(n, dtype=float)},
        geometry=[Point(i, i) for i in range(n - 2)] + [Point(-50.0, 80.0), box(1, 1, 2, 2)],
        crs="EPSG:4326")
    whole, blocks = tmp_path / "whole.parquet", tmp_path / "blocks.parquet"
    export.write(sites, whole, prov)
    monkeypatch.setattr(export, "PARQUET_ROW_GROUP_ROWS", 4)
    export.write(sites, blocks, prov)
    assert pq.ParquetFile(blocks).num_row_groups == 3
    a, b = pq.read_table(whole), pq.read_table(blocks)
    assert a.equals(b) and a.schema.equals(b.schema, check_metadata=True)
    geo_key = json.loads(b.schema.metadata[b"geo"])["columns"]["geometry"]
    assert geo_key["bbox"] == [-50.0, 0.0, 7.0, 80.0]
    assert geo_key["geometry_types"] == ["Point", "Polygon"]
