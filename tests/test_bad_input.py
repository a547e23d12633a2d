"""Bad input never crashes geo-rank or loses a file: the validation matrix through the CLI.

Each case asserts exit code 2, one line on stderr that names the file, flag or column and
what to do, no traceback, and no output written (the export folder and the map path stay
absent, and an earlier output stays byte-identical).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, Polygon, box

from geo.cli import cli

HIFLD = Path(__file__).parent / "data" / "hifld"
BOWTIE = Polygon([(-71.6, 41.6), (-71.4, 41.8), (-71.4, 41.6), (-71.6, 41.8)])


# --- builders of bad files -------------------------------------------------------------

def _subs(tmp: Path, name="subs.geojson", crs="EPSG:4326", **cols) -> Path:
    data = {"sub_id": ["a", "b"], "voltage_kv": [230.0, 345.0]}
    data.update(cols)
    geoms = cols.pop("geometry", None) or [Point(-71.5, 41.7), Point(-71.4, 41.8)]
    data.pop("geometry", None)
    gdf = gpd.GeoDataFrame(data, geometry=geoms, crs=crs)
    path = tmp / name
    gdf.to_file(path)
    return path


def _raster(tmp: Path, name="land.tif", crs="EPSG:4326", nodata=-9999.0, units=None) -> Path:
    path = tmp / name
    profile = {"driver": "GTiff", "width": 20, "height": 20, "count": 1, "dtype": "float32",
               "transform": from_origin(-72.0, 42.2, 0.05, 0.05)}
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.full((1, 20, 20), 5000.0, dtype="float32"))
        if units:
            ds.update_tags(1, units=units)
    return path


def _write(tmp: Path, name: str, text: str | bytes) -> Path:
    path = tmp / name
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def _config(tmp: Path, text: str) -> Path:
    return _write(tmp, "bad.toml", text)


def _gdf_file(tmp: Path, name: str, gdf: gpd.GeoDataFrame) -> Path:
    path = tmp / name
    gdf.to_file(path)
    return path


def _sparse(tmp: Path) -> Path:
    path = tmp / "huge_sites.csv"
    with open(path, "wb") as fh:
        fh.write(b"id,lat,lon\n")
        fh.truncate(1024**3)  # 1 GiB, sparse: no disk used
    return path


def _no_prj_shapefile(tmp: Path) -> Path:
    path = _subs(tmp, name="subs.shp")
    path.with_suffix(".prj").unlink()
    return path


def _isolated_lines(tmp: Path) -> Path:
    gdf = gpd.GeoDataFrame({"line_id": ["far"], "voltage_kv": [345.0]},
                           geometry=[LineString([(-100, 30), (-100.5, 30.5)])], crs=4326)
    return _gdf_file(tmp, "lines.geojson", gdf)


def _plants_without_generation(tmp: Path) -> Path:
    gdf = gpd.GeoDataFrame({"plant_id": ["w"], "fuel": ["wind"], "capacity_mw": [100.0]},
                           geometry=[Point(-115.2, 36.1)], crs=4326)
    return _gdf_file(tmp, "plants.geojson", gdf)


# --- the matrix ------------------------------------------------------------------------

RI = ["--region", "US-RI", "--load-mw", "100"]
Case = tuple[str, Callable[[Path], list[str]], str]

CASES: list[Case] = [
    # missing, empty, garbage files
    ("missing substations file", lambda t: [*RI, "--substations", str(t / "nope.geojson")],
     "nope.geojson: no such file"),
    ("empty substations file", lambda t: [*RI, "--substations", str(_write(t, "e.geojson", ""))],
     "e.geojson: the file is empty"),
    ("not a spatial file", lambda t: [*RI, "--substations",
                                      str(_write(t, "s.geojson", "hello, world"))],
     "not a readable spatial file"),
    ("binary junk as GeoPackage", lambda t: [*RI, "--lines",
                                             str(_write(t, "l.gpkg", os.urandom(2048)))],
     "l.gpkg"),
    ("missing sites file", lambda t: [*RI, "--candidates", str(t / "farms.csv")],
     "farms.csv: no such file"),
    ("missing land-price file", lambda t: [*RI, "--land-prices", str(t / "land.tif")],
     "land.tif"),
    ("missing config file", lambda t: [*RI, "--config", str(t / "none.toml")],
     "--config"),
    ("1 GiB sparse sites file", lambda t: [*RI, "--candidates", str(_sparse(t))],
     "huge_sites.csv: 1,024 MB is more than the 512 MB"),
    # geometry and CRS
    ("polygons for substations", lambda t: [*RI, "--substations", str(_subs(
        t, geometry=[box(-71.6, 41.6, -71.5, 41.7), box(-71.4, 41.7, -71.3, 41.8)]))],
     "must be Point"),
    ("points for lines", lambda t: [*RI, "--lines", str(_subs(t, name="lines.geojson",
                                                              line_id=["x", "y"]))],
     "must be LineString"),
    ("shapefile without .prj (no CRS)", lambda t: [*RI, "--substations",
                                                  str(_no_prj_shapefile(t))],
     "no CRS"),
    ("projected coordinates labelled as degrees", lambda t: [*RI, "--substations", str(_subs(
        t, geometry=[Point(500_000, 4_600_000), Point(510_000, 4_610_000)]))],
     "projected coordinates labelled as degrees"),
    ("latitude 200 in a sites CSV", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,lat,lon\na,200,-71.5\n"))],
     "outside lon -180..180 / lat -90..90"),
    ("sites CSV without lat/lon columns", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,name\na,Farm\n"))],
     "needs latitude and longitude columns"),
    ("sites CSV with an empty latitude", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,lat,lon\na,,-71.5\n"))],
     "empty or not numbers"),
    ("sites with duplicate ids", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,lat,lon\na,41.7,-71.5\na,41.8,-71.4\n"))],
     "duplicate site ids"),
    # columns and values
    ("all voltages missing", lambda t: [*RI, "--substations", str(_subs(
        t, voltage_kv=[None, None]))],
     "voltage_kv"),
    ("sentinel-only voltages", lambda t: [*RI, "--substations", str(_subs(
        t, voltage_kv=[-999999.0, -999999.0]))],
     "voltage_kv"),
    ("duplicate substation ids", lambda t: [*RI, "--substations", str(_subs(
        t, sub_id=["a", "a"]))],
     "duplicates"),
    ("negative plant capacity", lambda t: [*RI, "--plants", str(_gdf_file(
        t, "plants.geojson", gpd.GeoDataFrame(
            {"plant_id": ["p"], "fuel": ["gas"], "capacity_mw": [-50.0]},
            geometry=[Point(-71.5, 41.7)], crs=4326)))],
     "capacity_mw"),
    ("self-intersecting gas field", lambda t: [*RI, "--gas-fields", str(_gdf_file(
        t, "gas.geojson", gpd.GeoDataFrame({"field_id": ["g"], "name": ["G"]},
                                           geometry=[BOWTIE], crs=4326)))],
     "invalid (e.g. self-intersecting) polygons"),
    ("self-intersecting land-price polygon", lambda t: [*RI, "--land-prices", str(_gdf_file(
        t, "land.geojson", gpd.GeoDataFrame(
            {"region_id": ["z"], "price_usd_per_acre": [5000.0]},
            geometry=[BOWTIE], crs=4326)))],
     "invalid (e.g. self-intersecting) polygons"),
    ("land polygons without the price column", lambda t: [*RI, "--land-prices", str(_gdf_file(
        t, "land.geojson", gpd.GeoDataFrame({"region_id": ["z"], "usd": [5000.0]},
                                           geometry=[box(-72, 41, -71, 42)], crs=4326)))],
     "price_usd_per_acre"),
    ("raster without nodata", lambda t: [*RI, "--land-unit", "usd_per_acre", "--land-prices",
                                         str(_raster(t, nodata=None))],
     "no nodata value"),
    ("raster without CRS", lambda t: [*RI, "--land-unit", "usd_per_acre", "--land-prices",
                                      str(_raster(t, crs=None))],
     "no CRS"),
    ("raster without a unit flag", lambda t: [*RI, "--land-prices", str(_raster(t))],
     "--land-unit"),
    ("lines that touch no substation", lambda t: ["--region", "US-NV", "--substations",
                                                  str(HIFLD / "substations.geojson"),
                                                  "--lines", str(_isolated_lines(t))],
     "lines"),
    ("a grid with no generation", lambda t: [
        "--region", "US-NV", "--substations", str(HIFLD / "substations.geojson"),
        "--lines", str(HIFLD / "lines.geojson"), "--plants", str(_plants_without_generation(t))],
     "generation"),
    # flags
    ("region with no candidates", lambda t: [*RI, "--min-kv", "1500"], "no candidate sites"),
    ("unknown region", lambda t: ["--region", "XX"], "unknown region 'XX'"),
    ("country without a grid", lambda t: ["--region", "NO"], "--substations"),
    ("--load-mw 0", lambda t: ["--region", "US-RI", "--load-mw", "0"], "--load-mw"),
    ("--load-mw negative", lambda t: ["--region", "US-RI", "--load-mw", "-5"], "--load-mw"),
    ("--load-mw NaN", lambda t: ["--region", "US-RI", "--load-mw", "nan"], "--load-mw"),
    ("--load-mw huge", lambda t: ["--region", "US-RI", "--load-mw", "1e9"], "--load-mw"),
    ("--load-mw text", lambda t: ["--region", "US-RI", "--load-mw", "lots"], "--load-mw"),
    ("--top 0", lambda t: [*RI, "--top", "0"], "--top"),
    ("unknown --format", lambda t: [*RI, "--format", "shp"], "--format"),
    ("--candidates h3:16", lambda t: [*RI, "--candidates", "h3:16"], "--candidates h3:16"),
    ("--candidates nonsense", lambda t: [*RI, "--candidates", "everything"], "--candidates"),
    ("--max-tie-km negative", lambda t: [*RI, "--max-tie-km", "-1"], "max_tie_km"),
    ("--sovereignty unknown bloc", lambda t: [*RI, "--sovereignty", "Mars"], "--sovereignty"),
    ("--source-format unknown", lambda t: [*RI, "--substations",
                                           str(HIFLD / "substations.geojson"),
                                           "--source-format", "shapefile-ish"],
     "--source-format"),
    ("--map-column without =", lambda t: [*RI, "--map-column", "voltage_kv"], "--map-column"),
    ("unwritable --out", lambda t: [*RI, "--out", str(_write(t, "afile", "x") / "exports")],
     "afile"),
    ("config: unknown key", lambda t: [*RI, "--config", str(_config(t, "max_tie_kms = 3\n"))],
     "unknown setting max_tie_kms = 3 (did you mean max_tie_km "),
    ("config: wrong type", lambda t: [*RI, "--config", str(_config(t, 'max_tie_km = "far"\n'))],
     'max_tie_km = "far" (must be a number > 0)'),
    ("config: not TOML", lambda t: [*RI, "--config", str(_config(t, "max_tie_km = = 3\n"))],
     "not valid TOML"),
    ("boundary of points", lambda t: [*RI, "--boundary", str(_subs(t, name="b.geojson"))],
     "boundary"),
    ("custom tiles without attribution", lambda t: [*RI, "--tiles",
                                                    "https://tiles.example/{z}/{x}/{y}.png"],
     "--tiles-attribution"),
    ("unknown tile provider", lambda t: [*RI, "--tiles", "NoSuchTiles"], "--tiles"),
]


@pytest.fixture(scope="module")
def cache_config(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-input-cache")
    path = root / "cache.toml"
    path.write_text(f'cache_dir = "{root}"\n')
    return path


@pytest.mark.parametrize(("name", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line_and_writes_nothing(name, build, expected, tmp_path,
                                                        cache_config):
    args = build(tmp_path)
    if "--config" not in args:
        args = [*args, "--config", str(cache_config)]
    out, html = tmp_path / "exports", tmp_path / "maps" / "map.html"
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--map", str(html)]
                                if "--out" not in args else [*args, "--map", str(html)])
    assert result.exit_code == 2, f"{name}: exit {result.exit_code}\n{result.output}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"{name}: {result.stderr}"
    assert lines[0].startswith("geo-rank: error: ")
    assert expected in lines[0], f"{name}: {lines[0]}"
    assert "Traceback" not in result.output
    assert not out.exists() and not html.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing half-written


def test_matrix_has_at_least_forty_cases():
    assert len(CASES) >= 40


def test_debug_shows_the_traceback_instead(tmp_path, cache_config):
    result = CliRunner().invoke(cli, ["--debug", "--region", "US-RI", "--load-mw", "-1",
                                      "--config", str(cache_config)])
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "SettingsError"


def test_bom_semicolon_csv_sites_work(tmp_path, cache_config):
    sites = tmp_path / "farms.csv"
    sites.write_bytes("\ufeffid;name;lat;lon\nf1;Old farm;41,7;-71,5\nf2;Mill;41.8;-71.4\n"
                      .replace("41,7", "41.7").replace("-71,5", "-71.5").encode("utf-8"))
    result = CliRunner().invoke(cli, [*RI, "--candidates", str(sites), "--no-map",
                                      "--out", str(tmp_path / "out"),
                                      "--config", str(cache_config)])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "us-ri_sites.geojson").read_text())
    assert {f["properties"]["site_id"] for f in doc["features"]} == {"f1", "f2"}


def test_a_users_file_is_never_replaced_without_overwrite(tmp_path, cache_config):
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "us-ri_sites.geojson"
    mine.write_text('{"type": "FeatureCollection", "features": []}')
    args = [*RI, "--no-map", "--out", str(out), "--config", str(cache_config)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr
    assert mine.read_text() == '{"type": "FeatureCollection", "features": []}'
    forced = CliRunner().invoke(cli, [*args, "--overwrite"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(mine.read_text())["metadata"]["tool"] == "geo-rank"
    again = CliRunner().invoke(cli, args)  # geo-rank's own file: replaced without a flag
    assert again.exit_code == 0, again.output


def test_an_interrupted_run_leaves_the_previous_output(tmp_path, cache_config, monkeypatch):
    args = [*RI, "--no-map", "--out", str(tmp_path), "--config", str(cache_config)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    target = tmp_path / "us-ri_sites.geojson"
    before = target.read_bytes()

    import geo.export as export

    real = export.json.dumps

    def crash(*a, **k):
        text = real(*a, **k)
        if '"type":"Feature"' in text or '"type": "Feature"' in text:
            raise KeyboardInterrupt  # the user pressed Ctrl-C mid-write
        return text

    monkeypatch.setattr(export.json, "dumps", crash)
    CliRunner().invoke(cli, args)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["us-ri_sites.geojson"]


def test_a_users_html_at_the_map_path_stops_the_run_before_any_export(tmp_path, cache_config):
    html = tmp_path / "mine.html"
    html.write_text("<html>my notes</html>")
    result = CliRunner().invoke(cli, [*RI, "--out", str(tmp_path / "out"), "--map", str(html),
                                      "--config", str(cache_config)])
    assert result.exit_code == 2 and "mine.html exists and was not written by geo-rank" in \
        result.stderr
    assert html.read_text() == "<html>my notes</html>"
    assert not (tmp_path / "out").exists()  # nothing half-done: the export was not written
