"""``--format tif``: an H3 surface as a Cloud-Optimised GeoTIFF, read back with rasterio."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from shapely.geometry import Point

from geo.errors import DataSourceError, SettingsError
from geo.io import export
from geo.io import raster as _raster

PROV = {"tool": "geo-rank", "version": "9.9.9", "region": "US",
        "generated_at": "2025-05-01T12:00:00Z", "settings": {"max_tie_km": 50.0},
        "data_sources": {"lines": {"source": "TAMU", "vintage": "2020"}}}
#: Two clusters of 19 res-7 cells, Providence and Chicago (about 1,350 km apart).
CLUSTERS = [h3.latlng_to_cell(41.8, -71.4, 7), h3.latlng_to_cell(41.9, -87.6, 7)]


def surface() -> gpd.GeoDataFrame:
    """38 res-7 cells ranked 1..38 in id order; months 10 + rank; firm_mw 100 * rank, but
    none for the last cell."""
    cells = sorted(c for centre in CLUSTERS for c in h3.grid_disk(centre, 2))
    n = len(cells)
    rank = np.arange(1, n + 1)
    firm = 100.0 * rank
    firm[-1] = np.nan
    latlng = [h3.cell_to_latlng(c) for c in cells]
    return gpd.GeoDataFrame(
        {"site_id": cells, "candidate_kind": "h3", "rank": rank, "tier": "A",
         "time_to_power_months": 10.0 + rank, "firm_mw": firm},
        geometry=[Point(lng, lat) for lat, lng in latlng], crs="EPSG:4326")


def at(src: rasterio.DatasetReader, lon: float, lat: float) -> list[float]:
    x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
    return [float(v) for v in next(src.sample([(x, y)]))]


@pytest.fixture(scope="module")
def tif(tmp_path_factory):
    return export.write(surface(), tmp_path_factory.mktemp("tif") / "us_sites.tif", PROV)


def test_bands_crs_nodata_and_values(tif):
    sites = surface()
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 5070
        assert src.descriptions == ("rank_percentile", "time_to_power_months", "firm_mw")
        assert src.units == ("percent", "month", "MW")
        assert src.nodata == -9999.0 and src.dtypes == ("float32",) * 3
        assert src.res == (1406.0, 1406.0)  # the mean edge of an H3 res-7 cell
        for i in (0, 7, 37):  # rank i + 1 of 38
            row = sites.iloc[i]
            expected = [100 * (38 - (i + 1)) / 37, 10.0 + i + 1,
                        100.0 * (i + 1) if i < 37 else -9999.0]
            assert at(src, row.geometry.x, row.geometry.y) == pytest.approx(expected, abs=1e-3)
        assert at(src, -80.0, 41.8) == [-9999.0] * 3  # between the clusters: no cell
        data = src.read(1, masked=True)
        # about 2.6 pixels per hexagon (pixel side = edge length): no holes, no spill
        assert 2.2 < data.count() / 38 < 3.2


def test_cloud_optimised(tif):
    with rasterio.open(tif) as src:
        assert src.profile["tiled"] and src.block_shapes == [(512, 512)] * 3
        assert src.overviews(1) == [2]  # 960 pixels wide: one overview fits a tile
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_provenance_in_tags_without_time(tif):
    prov = export.read_provenance(tif)
    assert prov["tool"] == "geo-rank" and prov["settings"] == {"max_tie_km": 50.0}
    assert prov["data_sources"]["lines"]["source"] == "TAMU"
    assert prov["h3_resolution"] == 7 and prov["cells"] == 38
    assert [b["name"] for b in prov["bands"]] == ["rank_percentile", "time_to_power_months",
                                                  "firm_mw"]
    assert "generated_at" not in prov
    with rasterio.open(tif) as src:
        assert src.tags()["TIFFTAG_SOFTWARE"] == "geo-rank 9.9.9"


def test_byte_identical_rerun(tif, tmp_path):
    again = export.write(surface().iloc[::-1], tmp_path / "again.tif",
                         {**PROV, "generated_at": "2026-01-01T00:00:00Z"})
    assert again.read_bytes() == tif.read_bytes()


def test_outside_the_us_an_equal_area_laea(tmp_path):
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(60.4, 5.3, 6), 1))  # Bergen
    latlng = [h3.cell_to_latlng(c) for c in cells]
    sites = gpd.GeoDataFrame({"site_id": cells, "candidate_kind": "h3", "rank": range(1, 8)},
                             geometry=[Point(b, a) for a, b in latlng], crs="EPSG:4326")
    out = export.write(sites, tmp_path / "no.tif", PROV)
    with rasterio.open(out) as src:
        assert src.crs.to_dict()["proj"] == "laea"
        assert at(src, latlng[0][1], latlng[0][0])[0] == pytest.approx(100.0)


def test_other_sites_refused_naming_the_flag(tmp_path):
    sites = surface().assign(candidate_kind="substation")
    with pytest.raises(SettingsError, match=r"--format tif .*--candidates h3:<res>"):
        export.write(sites, tmp_path / "x.tif", PROV)
    assert not list(tmp_path.iterdir())


def test_cli_refuses_tif_for_substations_before_any_work(tmp_path, monkeypatch, geo_rank):
    def no_work(*args, **kwargs):
        raise AssertionError("ranked before refusing --format tif")

    monkeypatch.setattr("geo.cli.rank.rank_sites", no_work)
    run = geo_rank("--region", "US-RI", "--format", "tif", "--no-map",
                   "--out", str(tmp_path))
    assert run.exit_code != 0
    lines = run.output.strip().splitlines()
    assert len(lines) == 1 and "--format tif" in lines[0] and "h3:" in lines[0], run.output
    assert not list(tmp_path.iterdir())


def test_overwrite_guard_and_reading_sites(tif, tmp_path):
    export.write(surface(), tif, PROV)  # geo-rank's own file: replaced
    foreign = tmp_path / "foreign.tif"
    foreign.write_bytes(b"not ours")
    with pytest.raises(DataSourceError, match="--overwrite"):
        export.write(surface(), foreign, PROV)
    with pytest.raises(DataSourceError, match="raster of a surface"):
        export.read_sites(tif)


def test_crs_choice():
    assert _raster.crs_for(np.array([-124.0, -67.0]), np.array([25.0, 49.0])) == "EPSG:5070"
    assert _raster.crs_for(np.array([-150.0]), np.array([61.0])).startswith("+proj=laea")


@pytest.mark.slow
def test_cli_surface_writes_every_cell_to_the_tif_and_the_map(tmp_path, geo_rank):
    """``--candidates h3:5 --format tif`` on US-RI (13 cells): the GeoTIFF and the map hold
    every cell whatever --top; ``geo-rank map`` draws the export again with --top markers."""
    html = tmp_path / "ri.html"
    run = geo_rank("-q", "--region", "US-RI", "--candidates", "h3:5",
                   "--format", "tif", "--top", "2", "--out", str(tmp_path),
                   "--map", str(html), "--offline")
    assert run.exit_code == 0, run.output
    prov = export.read_provenance(tmp_path / "us-ri_sites.tif")
    assert prov["cells"] == prov["candidate_count"] == prov["sites_written"] == 13
    assert prov["h3_resolution"] == 5
    page = html.read_text("utf-8")
    assert "Surface: best tier of 13 sites in 13 H3 res-5 cells" in page
    assert "Ranked sites (2, the best one per POI)" in page

    run = geo_rank("-q", "--region", "US-RI", "--candidates", "h3:5",
                   "--all-candidates", "--no-map", "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    again = tmp_path / "again.html"
    run = geo_rank("map", str(tmp_path / "us-ri_sites.geojson"), "--out",
                   str(again), "--top", "3", "--offline", "--no-layers")
    assert run.exit_code == 0, run.output
    page = again.read_text("utf-8")
    assert "Surface: best tier of 13 sites in 13 H3 res-5 cells" in page
    assert "Ranked sites (3, the best one per POI)" in page
