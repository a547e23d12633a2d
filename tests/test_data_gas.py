"""The committed US gas-basin layer."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers.paths import data_dir
from layers.schema import columns, validate


@pytest.fixture(scope="module")
def basins() -> gpd.GeoDataFrame:
    return gpd.read_parquet(data_dir() / "us" / "gas_fields.parquet").set_index("field_id",
                                                                               drop=False)


def test_schema(basins):
    assert list(basins.columns) == columns("gas_fields")
    validate(basins.reset_index(drop=True), "gas_fields")
    assert len(basins) == 15
    assert (basins["kind"] == "basin").all()
    assert (basins["geometry_source"] == "approximate extent").all()


def test_permian(basins):
    permian = basins.loc["permian"]
    assert permian["production_bcf_per_day"] == pytest.approx(25.103)
    assert permian.geometry.contains(Point(-102.08, 32.0))  # Midland, TX
    assert not basins.loc["haynesville"].geometry.contains(Point(-102.08, 32.0))


def test_production_known_for_dpr_regions_only(basins):
    prod = basins["production_bcf_per_day"]
    assert prod.notna().sum() == 7
    assert prod.idxmax() == "appalachia"
    assert prod["appalachia"] == pytest.approx(36.199)
    assert prod["bakken"] == pytest.approx(3.401)
    assert prod[["powder-river", "barnett", "arkoma"]].isna().all()
