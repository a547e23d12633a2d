"""Land-price sampling (raster in any CRS, polygons) and sovereignty tags."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from geo import land, sovereignty
from geo.errors import LayerValidationError, SettingsError

AUSTIN = (-97.74, 30.27)
DES_MOINES = (-93.61, 41.59)


def test_embedded_raster_and_polygons_agree(us_layers):
    lon = np.array([AUSTIN[0], DES_MOINES[0], -70.0])
    lat = np.array([AUSTIN[1], DES_MOINES[1], 30.0])  # the last one is in the Atlantic
    price = land.sample_raster(us_layers.land_raster, lon, lat)
    assert price[:2].tolist() == [2970.0, 9790.0] and np.isnan(price[2])
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326)
    poly, year = land.sample_polygons(us_layers.land_prices, pts)
    assert poly[:2].tolist() == [2970.0, 9790.0] and np.isnan(poly[2])
    assert year[0] == 2025


def _raster(path, crs="EPSG:5070", nodata=-1.0, value=1000.0):
    # a 10 x 10 grid of 10 km cells in Albers, lower-left near central Kansas
    data = np.full((10, 10), value, dtype="float32")
    data[0, 0] = nodata if nodata is not None else 0
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1,
                       dtype="float32", crs=crs, nodata=nodata,
                       transform=from_origin(-200_000, 1_800_000, 10_000, 10_000)) as ds:
        ds.write(data, 1)


def test_projected_raster_per_hectare(tmp_path):
    path = tmp_path / "ha.tif"
    _raster(path)
    from pyproj import Transformer

    to_ll = Transformer.from_crs("EPSG:5070", "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(np.array([-155_000.0, -195_000.0]),
                               np.array([1_745_000.0, 1_795_000.0]))
    acre = land.sample_raster(path, lon, lat, unit="usd_per_hectare")
    assert acre[0] == pytest.approx(1000 * 0.40468564224)
    assert np.isnan(acre[1])  # the nodata cell


def test_raster_without_nodata_is_refused(tmp_path):
    path = tmp_path / "nonodata.tif"
    _raster(path, nodata=None)
    with pytest.raises(LayerValidationError, match="no nodata value"):
        land.sample_raster(path, np.array([-100.0]), np.array([38.0]))


def test_sovereignty_tags_and_filter(us_layers):
    sites = pd.DataFrame({"country_iso3": ["USA", "CHN", "NOR", None]})
    tagged = sovereignty.tag(sites, us_layers.sovereignty)
    assert tagged["sovereignty_bloc"].tolist() == ["US", "CN", "EU/EEA", "unknown"]
    assert tagged["localization"].tolist() == ["none", "strict", "none", "unknown"]
    kept = sovereignty.keep_bloc(tagged, "eu/eea", us_layers.sovereignty)
    assert len(kept) == 1
    with pytest.raises(SettingsError, match="--sovereignty 'Mars': unknown bloc"):
        sovereignty.keep_bloc(tagged, "Mars", us_layers.sovereignty)


def test_sovereignty_tags_are_looked_up_once_per_country_and_spread_over_the_sites():
    table = pd.DataFrame({"iso_a3": ["NOR", "USA"], "bloc": ["EU/EEA", "USA"],
                          "data_regime": ["GDPR", None], "data_law": ["a", "b"],
                          "localization": ["none", "sectoral"], "eu_adequacy": ["member", "no"]})
    sites = pd.DataFrame({"country_iso3": ["USA", None, "XXX", "NOR", "USA"]})
    tagged = sovereignty.tag(sites, table)
    assert tagged["sovereignty_bloc"].tolist() == ["USA", "unknown", "unknown", "EU/EEA", "USA"]
    assert tagged["data_regime"].tolist() == ["unknown", "unknown", "unknown", "GDPR",
                                              "unknown"]
    assert tagged["eu_adequacy"].tolist() == ["no", "unknown", "unknown", "member", "no"]
    assert tagged["sovereignty_bloc"].dtype == pd.Series(["a"]).dtype  # text, as before


def test_sample_polygons_takes_the_first_polygon_that_contains_the_point():
    from shapely.geometry import box

    from geo.outlines import points_tree

    # two overlapping squares: A [0, 2] x [0, 2] (100 USD, 2020), B [1, 3] x [0, 2] (200,
    # no year); points in both, in B alone, on A's outline only (not within), outside
    prices = gpd.GeoDataFrame({"price_usd_per_acre": [100.0, 200.0],
                               "year": pd.array([2020, None], dtype="Int64")},
                              geometry=[box(0, 0, 2, 2), box(1, 0, 3, 2)], crs=4326)
    pts = gpd.GeoSeries(gpd.points_from_xy([1.5, 2.5, 0.0, 5.0], [1.0, 1.0, 1.0, 1.0]),
                        crs=4326)
    for tree in (None, points_tree(pts)):
        price, year = land.sample_polygons(prices, pts, tree)
        np.testing.assert_array_equal(price, [100.0, 200.0, np.nan, np.nan])
        np.testing.assert_array_equal(year, [2020.0, np.nan, np.nan, np.nan])
    # the same as the spatial join it stands for
    hit = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), prices, how="left", predicate="within")
    np.testing.assert_array_equal(hit[~hit.index.duplicated()]["price_usd_per_acre"], price)
