"""layers.read.read_geoparquet: every embedded layer read as geopandas reads it, the CRS
built once per process (issue 31: the warm default run)."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import Point

from layers import read
from layers.paths import data_dir

EMBEDDED = sorted(p for p in data_dir().rglob("*.parquet")
                  if b"geo" in (pq.read_schema(p).metadata or {}))


def _same(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert got.geometry.name == want.geometry.name
    assert got.crs == want.crs and got.crs.to_json() == want.crs.to_json()
    assert got.attrs == want.attrs
    assert type(got) is type(want) and got.dtypes.equals(want.dtypes)
    assert got.index.equals(want.index)
    # WKB, not geopandas' assert_geodataframe_equal: GEOS (geopandas 1.0) finds a degenerate
    # line (one point twice, 14,945 of the TAMU lines) unequal to itself
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns=got.geometry.name)),
                                  pd.DataFrame(want.drop(columns=want.geometry.name)),
                                  check_exact=True)
    assert (shapely.to_wkb(got.geometry.to_numpy()).tolist()
            == shapely.to_wkb(want.geometry.to_numpy()).tolist())


@pytest.mark.parametrize("path", EMBEDDED, ids=lambda p: str(p.relative_to(data_dir())))
def test_every_embedded_layer_reads_as_geopandas_reads_it(path, monkeypatch):
    monkeypatch.setattr(read, "_CRS", {})
    first = read.read_geoparquet(path)            # geopandas itself; the CRS is kept
    assert len(read._CRS) == 1
    again = read.read_geoparquet(path)            # the short way
    want = gpd.read_parquet(path)
    _same(first, want)
    _same(again, want)
    assert again.crs is first.crs                 # built once


def test_a_file_of_another_crs_gets_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "_CRS", {})
    frame = gpd.GeoDataFrame({"name": ["a"], "n": [1]}, geometry=[Point(500_000, 4_000_000)],
                             crs="EPSG:32614")
    frame.to_parquet(tmp_path / "utm.parquet")
    frame.to_crs(4326).to_parquet(tmp_path / "wgs.parquet")
    for _ in range(2):
        assert read.read_geoparquet(tmp_path / "utm.parquet").crs.to_epsg() == 32614
        assert read.read_geoparquet(tmp_path / "wgs.parquet").crs.to_epsg() == 4326
    assert len(read._CRS) == 2
    crs = json.loads(pq.read_schema(tmp_path / "utm.parquet").metadata[b"geo"])
    assert crs["columns"]["geometry"]["crs"]["id"]["code"] == 32614
