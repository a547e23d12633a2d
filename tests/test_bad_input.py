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
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, Polygon, box

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
#: name, CLI arguments, what the message must say is wrong, and what it must say to do
Case = tuple[str, Callable[[Path], list[str]], str, str]

CASES: list[Case] = [
    # missing, empty, garbage files
    ("missing substations file", lambda t: [*RI, "--substations", str(t / "nope.geojson")],
     "nope.geojson: no such file", "check the path"),
    ("empty substations file", lambda t: [*RI, "--substations", str(_write(t, "e.geojson", ""))],
     "e.geojson: the file is empty", "give a file with features"),
    ("not a spatial file", lambda t: [*RI, "--substations",
                                      str(_write(t, "s.geojson", "hello, world"))],
     "s.geojson: not a readable spatial file", "give GeoParquet, GeoPackage, GeoJSON"),
    ("binary junk as GeoPackage", lambda t: [*RI, "--lines",
                                             str(_write(t, "l.gpkg", os.urandom(2048)))],
     "l.gpkg: not a readable spatial file", "give GeoParquet, GeoPackage, GeoJSON"),
    ("missing sites file", lambda t: [*RI, "--candidates", str(t / "farms.csv")],
     "farms.csv: no such file", "check the path"),
    ("missing land-price file", lambda t: [*RI, "--land-prices", str(t / "land.tif")],
     "land.tif: no such file", "check the path"),
    ("missing config file", lambda t: [*RI, "--config", str(t / "none.toml")],
     "--config", "none.toml: no such file; check the path"),
    ("1 GiB sparse sites file", lambda t: [*RI, "--candidates", str(_sparse(t))],
     "huge_sites.csv: 1,024 MB is more than the 512 MB", "clip it to your region first"),
    # geometry and CRS
    ("polygons for substations", lambda t: [*RI, "--substations", str(_subs(
        t, geometry=[box(-71.6, 41.6, -71.5, 41.7), box(-71.4, 41.7, -71.3, 41.8)]))],
     "rows 0, 1 are Polygon", "geometry must be Point"),
    ("points for lines", lambda t: [*RI, "--lines", str(_subs(t, name="lines.geojson",
                                                              line_id=["x", "y"]))],
     "rows 0, 1 are Point", "geometry must be LineString"),
    ("shapefile without .prj (no CRS)", lambda t: [*RI, "--substations",
                                                  str(_no_prj_shapefile(t))],
     "subs.shp: layer 'substations' has no CRS", "set one in your GIS"),
    ("projected coordinates labelled as degrees", lambda t: [*RI, "--substations", str(_subs(
        t, geometry=[Point(500_000, 4_600_000), Point(510_000, 4_610_000)]))],
     "coordinates outside lon -180..180 / lat -90..90 in rows 0, 1",
     "projected coordinates labelled as degrees? set the file's real CRS"),
    ("latitude 200 in a sites CSV", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,lat,lon\na,200,-71.5\n"))],
     "outside lon -180..180 / lat -90..90 in row 2", "is the CRS right?"),
    ("sites CSV without lat/lon columns", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,name\na,Farm\n"))],
     "CSV needs latitude and longitude columns", "named lat/latitude and lon/lng/longitude"),
    ("negative existing_mw in a sites CSV", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,lat,lon,existing_mw\na,41.7,-71.5,-5\n"))],
     "sites.csv: column existing_mw must be a number of MW >= 0", "or empty"),
    ("electricity price file without its columns", lambda t: [*RI, "--config", str(_write(
        t, "c.toml", "electricity_prices_file = '" + str(_write(t, "p.csv", "state,usd\nRI,1"))
        + "'\n"))],
     "electricity_prices_file", "give subdivision (e.g. US-TX) and price_usd_per_mwh"),
    ("sites CSV with an empty latitude", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,lat,lon\na,,-71.5\n"))],
     "'lat'/'lon' are empty or not numbers in row 2", "fill them with decimal degrees"),
    # a spreadsheet's rows as it shows them (header = row 1): lat and lon swapped yet in
    # range put a US site in Antarctica
    ("sites outside the region (lat and lon swapped)", lambda t: [
        "--region", "US", "--candidates", str(
        _write(t, "sites.csv", "name,lat,lon\nOld farm,41.7,-71.5\nMill,41.8,-71.4\n"
                               "New Albany OH,-82.8088,40.0812\n"))],
     "sites.csv: 1 of 3 sites outside US (row 4; New Albany OH",
     "are lat and lon swapped? (swapped, 1 of them fall inside); fix the rows, choose a "
     "region that holds them, or keep them with --allow-outside"),
    ("sites with duplicate ids", lambda t: [*RI, "--candidates", str(_write(
        t, "sites.csv", "id,lat,lon\na,41.7,-71.5\na,41.8,-71.4\n"))],
     "duplicate site ids a", "make them unique"),
    # columns and values
    ("all voltages missing", lambda t: [*RI, "--substations", str(_subs(
        t, voltage_kv=[None, None]))],
     "required column 'voltage_kv' is empty in every row", "NOT AVAILABLE); fill it"),
    ("sentinel-only voltages", lambda t: [*RI, "--substations", str(_subs(
        t, voltage_kv=[-999999.0, -999999.0]))],
     "'voltage_kv' is empty in every row (only nulls or sentinels", "NOT AVAILABLE); fill it"),
    ("duplicate substation ids", lambda t: [*RI, "--substations", str(_subs(
        t, sub_id=["a", "a"]))],
     "'sub_id' has duplicates in rows 0, 1", "make them unique"),
    ("negative plant capacity", lambda t: [*RI, "--plants", str(_gdf_file(
        t, "plants.geojson", gpd.GeoDataFrame(
            {"plant_id": ["p"], "fuel": ["gas"], "capacity_mw": [-50.0]},
            geometry=[Point(-71.5, 41.7)], crs=4326)))],
     "'capacity_mw' must be at least 0 MW but is lower in rows 0", "correct or remove those rows"),
    ("a billion circuits on one line", lambda t: [*RI, "--lines", str(_gdf_file(
        t, "lines.geojson", gpd.GeoDataFrame(
            {"line_id": ["l"], "voltage_kv": [115.0], "circuits": [1e9]},
            geometry=[LineString([(-71.5, 41.7), (-71.4, 41.8)])], crs=4326)))],
     "'circuits' must be at most 24 but is higher in rows 0", "correct or remove those rows"),
    ("self-intersecting gas field", lambda t: [*RI, "--gas-fields", str(_gdf_file(
        t, "gas.geojson", gpd.GeoDataFrame({"field_id": ["g"], "name": ["G"]},
                                           geometry=[BOWTIE], crs=4326)))],
     "invalid (e.g. self-intersecting) polygons in rows 0", "repair them (QGIS: Fix geometries)"),
    ("self-intersecting land-price polygon", lambda t: [*RI, "--land-prices", str(_gdf_file(
        t, "land.geojson", gpd.GeoDataFrame(
            {"region_id": ["z"], "price_usd_per_acre": [5000.0]},
            geometry=[BOWTIE], crs=4326)))],
     "invalid (e.g. self-intersecting) polygons in rows 0", "repair them (QGIS: Fix geometries)"),
    ("land polygons without the price column", lambda t: [*RI, "--land-prices", str(_gdf_file(
        t, "land.geojson", gpd.GeoDataFrame({"region_id": ["z"], "usd": [5000.0]},
                                           geometry=[box(-72, 41, -71, 42)], crs=4326)))],
     "lacks required column(s) price_usd_per_acre", "--map-column CANONICAL=SOURCE"),
    ("raster without nodata", lambda t: [*RI, "--land-unit", "usd_per_acre", "--land-prices",
                                         str(_raster(t, nodata=None))],
     "land.tif: raster has no nodata value", "gdal_edit -a_nodata"),
    ("raster without CRS", lambda t: [*RI, "--land-unit", "usd_per_acre", "--land-prices",
                                      str(_raster(t, crs=None))],
     "land.tif: raster has no CRS", "assign one (gdal_edit -a_srs)"),
    ("raster without a unit flag", lambda t: [*RI, "--land-prices", str(_raster(t))],
     "the raster does not say its price unit", "pass --land-unit usd_per_acre"),
    ("lines that touch no substation", lambda t: ["--region", "US-NV", "--substations",
                                                  str(HIFLD / "substations.geojson"),
                                                  "--lines", str(_isolated_lines(t))],
     "none of the 1 lines connects two substations", "raise snap_tolerance_km in --config"),
    ("a grid with no generation", lambda t: [
        "--region", "US-NV", "--substations", str(HIFLD / "substations.geojson"),
        "--lines", str(HIFLD / "lines.geojson"), "--plants", str(_plants_without_generation(t))],
     "no generation in the grid islands", "give --plants with the generators"),
    # flags
    ("region with no candidates", lambda t: [*RI, "--min-kv", "1500"],
     "no candidate sites in US-RI", "lower --min-kv"),
    ("unknown region", lambda t: ["--region", "XX"],
     "unknown region 'XX'", "valid regions: US, US-AL"),
    ("a state without US-", lambda t: ["--region", "TX"],
     "unknown region 'TX'; did you mean US-TX?", "valid regions: US, US-AL"),
    ("a misspelt state", lambda t: ["--region", "US-CAL"],
     "unknown region 'US-CAL'; did you mean US-CA?", "valid regions: US, US-AL"),
    ("an unknown Canadian province", lambda t: ["--region", "CA-XB"],
     "unknown region 'CA-XB'; did you mean CA-NB?", "provinces and territories are CA-AB"),
    ("country without a grid", lambda t: ["--region", "FR"],
     "region 'FR' has no embedded grid", "pass your own --substations and --lines"),
    ("synthetic grid outside the US", lambda t: ["--region", "NO", "--grid", "tamu-synthetic"],
     "--grid tamu-synthetic covers the contiguous US only", "use --grid osm-2016"),
    ("--load-mw 0", lambda t: ["--region", "US-RI", "--load-mw", "0"],
     "--load-mw 0.0:", "must be a number above 0 and at most 20,000 MW"),
    ("--load-mw negative", lambda t: ["--region", "US-RI", "--load-mw", "-5"],
     "--load-mw -5.0:", "must be a number above 0 and at most 20,000 MW"),
    ("--load-mw NaN", lambda t: ["--region", "US-RI", "--load-mw", "nan"],
     "--load-mw nan:", "must be a number above 0 and at most 20,000 MW"),
    ("--load-mw huge", lambda t: ["--region", "US-RI", "--load-mw", "1e9"],
     "--load-mw 1000000000.0:", "must be a number above 0 and at most 20,000 MW"),
    ("--load-mw text", lambda t: ["--region", "US-RI", "--load-mw", "lots"],
     "'--load-mw': 'lots'", "is not a valid float"),
    ("--top 0", lambda t: [*RI, "--top", "0"],
     "--top 0:", "must be a whole number of at least 1"),
    ("unknown --format", lambda t: [*RI, "--format", "shp"],
     "'--format': 'shp'", "is not one of 'csv', 'geojson', 'gpkg', 'parquet'"),
    ("--candidates h3:16", lambda t: [*RI, "--candidates", "h3:16"],
     "--candidates h3:16", "H3 resolution must be 0 to 10"),
    ("--candidates nonsense", lambda t: [*RI, "--candidates", "everything"],
     "--candidates 'everything'", "use 'substations', 'h3:<res>' or a file of sites"),
    ("--max-tie-km negative", lambda t: [*RI, "--max-tie-km", "-1"],
     "max_tie_km = -1.0", "must be a number > 0"),
    ("--sovereignty unknown bloc", lambda t: [*RI, "--sovereignty", "Mars"],
     "--sovereignty 'Mars': unknown bloc", "use one of CA, CN, EU/EEA"),
    ("--data-from unknown regime", lambda t: [*RI, "--data-from", "XX"],
     "--data-from 'XX': unknown regime", "use one of CN, EU, IN, UK, US"),
    ("--source-format unknown", lambda t: [*RI, "--substations",
                                           str(HIFLD / "substations.geojson"),
                                           "--source-format", "shapefile-ish"],
     "--source-format 'shapefile-ish'", "use one of hifld, osm"),
    ("--map-column without =", lambda t: [*RI, "--map-column", "voltage_kv"],
     "--map-column: 'voltage_kv'", "write NAME=VALUE"),
    ("unwritable --out", lambda t: [*RI, "--out", str(_write(t, "afile", "x") / "exports")],
     "cannot write", "choose another output path"),
    ("config: unknown key", lambda t: [*RI, "--config", str(_config(t, "max_tie_kms = 3\n"))],
     "unknown setting max_tie_kms = 3", "did you mean max_tie_km"),
    ("config: wrong type", lambda t: [*RI, "--config", str(_config(t, 'max_tie_km = "far"\n'))],
     'max_tie_km = "far"', "must be a number > 0"),
    ("config: not TOML", lambda t: [*RI, "--config", str(_config(t, "max_tie_km = = 3\n"))],
     "not valid TOML", "line 1, column 14"),
    ("boundary of points", lambda t: [*RI, "--boundary", str(_subs(t, name="b.geojson"))],
     "b.geojson: no polygon in the file", "give a polygon layer of the area"),
    ("custom tiles without attribution", lambda t: [*RI, "--tiles",
                                                    "https://tiles.example/{z}/{x}/{y}.png"],
     "'https://tiles.example/{z}/{x}/{y}.png'", "needs --tiles-attribution"),
    ("unknown tile provider", lambda t: [*RI, "--tiles", "NoSuchTiles"],
     "'NoSuchTiles': not a known tile provider", "use a name such as"),
    ("missing queued-loads file", lambda t: [*RI, "--queued-loads", str(t / "q.csv")],
     "q.csv: no such file", "check the path"),
    ("queued loads without MW", lambda t: [*RI, "--queued-loads",
                                           str(_write(t, "q.csv", "lat,lon\n41.8,-71.4\n"))],
     "q.csv: no 'mw' column", "the MW of each queued load"),
    ("queued load at an unknown POI",
     lambda t: [*RI, "--queued-loads", str(_write(t, "q.csv", "poi_sub_id,mw\nnope,5\n"))],
     "poi_sub_id not in the substations layer: nope", "or give lat/lon instead"),
]


@pytest.fixture(scope="module")
def cache_config(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-input-cache")
    path = root / "cache.toml"
    path.write_text(f'cache_dir = "{root}"\n')
    return path


@pytest.mark.parametrize(("name", "build", "problem", "fix"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line_and_writes_nothing(name, build, problem, fix, tmp_path,
                                                        cache_config, geo_rank):
    args = build(tmp_path)
    if "--config" not in args:
        args = [*args, "--config", str(cache_config)]
    out, html = tmp_path / "exports", tmp_path / "maps" / "map.html"
    before = sorted(p.name for p in tmp_path.rglob("*"))
    out_flags = ["--out", str(out)] if "--out" not in args else []
    result = geo_rank(*args, *out_flags, "--map", str(html))
    assert result.exit_code == 2, f"{name}: exit {result.exit_code}\n{result.output}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"{name}: {result.stderr}"
    assert lines[0].startswith("geo-rank: error: ")
    assert problem in lines[0], f"{name}: the problem is not named: {lines[0]}"
    assert fix in lines[0], f"{name}: the fix is not named: {lines[0]}"
    assert "Traceback" not in result.output
    assert not out.exists() and not html.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing half-written


def test_matrix_has_at_least_forty_cases():
    assert len(CASES) >= 40


def test_each_row_expects_a_problem_and_a_fix():
    # a row that only looks for an echo of the input (a file name, a flag) checks nothing
    weak = [name for name, _, problem, fix in CASES
            if min(len(problem), len(fix)) < 8 or fix in problem or problem in fix]
    assert weak == []


def test_debug_shows_the_traceback_instead(tmp_path, cache_config, geo_rank):
    result = geo_rank("--debug", "--region", "US-RI", "--load-mw", "-1",
                      "--config", str(cache_config))
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "SettingsError"


def test_bom_semicolon_csv_sites_work(tmp_path, cache_config, geo_rank):
    sites = tmp_path / "farms.csv"
    sites.write_bytes("\ufeffid;name;lat;lon\nf1;Old farm;41,7;-71,5\nf2;Mill;41.8;-71.4\n"
                      .replace("41,7", "41.7").replace("-71,5", "-71.5").encode("utf-8"))
    result = geo_rank(*RI, "--candidates", str(sites), "--no-map",
                      "--all-candidates", "--out", str(tmp_path / "out"),
                      "--config", str(cache_config))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "us-ri_sites.geojson").read_text())
    assert {f["properties"]["site_id"] for f in doc["features"]} == {"f1", "f2"}


def test_a_users_file_is_never_replaced_without_overwrite(tmp_path, cache_config, geo_rank):
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "us-ri_sites.geojson"
    mine.write_text('{"type": "FeatureCollection", "features": []}')
    args = [*RI, "--no-map", "--out", str(out), "--config", str(cache_config)]
    refused = geo_rank(*args)
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr
    assert mine.read_text() == '{"type": "FeatureCollection", "features": []}'
    forced = geo_rank(*args, "--overwrite")
    assert forced.exit_code == 0, forced.output
    assert json.loads(mine.read_text())["metadata"]["tool"] == "geo-rank"
    again = geo_rank(*args)  # geo-rank's own file: replaced without a flag
    assert again.exit_code == 0, again.output


def test_an_interrupted_run_leaves_the_previous_output(tmp_path, cache_config, monkeypatch,
                                                       geo_rank):
    args = [*RI, "--no-map", "--out", str(tmp_path), "--config", str(cache_config)]
    assert geo_rank(*args).exit_code == 0
    target = tmp_path / "us-ri_sites.geojson"
    before = target.read_bytes()

    import geo.io.export as export

    real = export.json.dumps

    def crash(*a, **k):
        text = real(*a, **k)
        if '"type":"Feature"' in text or '"type": "Feature"' in text:
            raise KeyboardInterrupt  # the user pressed Ctrl-C mid-write
        return text

    monkeypatch.setattr(export.json, "dumps", crash)
    geo_rank(*args)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["us-ri_sites.geojson"]


def test_a_users_html_at_the_map_path_stops_the_run_before_any_export(tmp_path, cache_config,
                                                                      geo_rank):
    html = tmp_path / "mine.html"
    html.write_text("<html>my notes</html>")
    result = geo_rank(*RI, "--out", str(tmp_path / "out"), "--map", str(html),
                      "--config", str(cache_config))
    assert result.exit_code == 2 and "mine.html exists and was not written by geo-rank" in \
        result.stderr
    assert html.read_text() == "<html>my notes</html>"
    assert not (tmp_path / "out").exists()  # nothing half-done: the export was not written
