"""The committed US land-price layers (vector and raster)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import rasterio

from layers.paths import data_dir
from layers.schema import columns, validate

AUSTIN = (-97.74, 30.27)
DES_MOINES = (-93.61, 41.59)
ALBUQUERQUE = (-106.65, 35.08)
ATLANTIC = (-70.0, 30.0)


@pytest.fixture(scope="module")
def prices() -> gpd.GeoDataFrame:
    return gpd.read_parquet(data_dir() / "us" / "land_prices.parquet")


def test_schema_and_coverage(prices):
    assert list(prices.columns) == columns("land_prices")
    validate(prices, "land_prices")
    assert len(prices) == 49  # 48 contiguous states and DC
    ids = set(prices["region_id"])
    assert "US-DC" in ids
    assert not ids & {"US-AK", "US-HI", "US-PR"}
    assert (prices["year"] == 2025).all()


def test_extremes_and_known_values(prices):
    by_id = prices.set_index("region_id")["price_usd_per_acre"]
    assert by_id.idxmax() == "US-RI"
    assert by_id.max() == 22500
    assert by_id.idxmin() == "US-NM"
    assert by_id.min() == 725
    assert by_id["US-TX"] == 2970
    assert by_id["US-IA"] == 9790


def test_only_dc_is_estimated(prices):
    by_id = prices.set_index("region_id")
    assert by_id.loc["US-DC", "price_source"] == "estimated"
    assert by_id.loc["US-DC", "price_usd_per_acre"] == (9750 + 6100) / 2
    observed = by_id.drop(index="US-DC")["price_source"]
    assert (observed == "observed").all()


def test_raster_matches_vector(prices):
    by_id = prices.set_index("region_id")["price_usd_per_acre"]
    with rasterio.open(data_dir() / "us" / "land_prices.tif") as src:
        assert src.crs.to_epsg() == 4326
        assert src.count == 1
        assert src.dtypes[0] == "float32"
        assert src.nodata == -9999
        assert src.res == pytest.approx((0.05, 0.05))
        assert src.bounds.left <= -124.7 and src.bounds.right >= -67.0
        assert src.bounds.bottom <= 24.5 and src.bounds.top >= 49.3
        austin, des_moines, abq, ocean = (v[0] for v in src.sample(
            [AUSTIN, DES_MOINES, ALBUQUERQUE, ATLANTIC]))
    assert austin == by_id["US-TX"] == 2970
    assert des_moines == by_id["US-IA"] == 9790
    assert abq == by_id["US-NM"] == 725
    assert ocean == -9999
