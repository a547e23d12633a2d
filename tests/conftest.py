"""Shared fixtures: the embedded layers (loaded once) and tiny hand-made layers."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

import layers


@pytest.fixture(scope="session")
def us_layers() -> layers.Layers:
    return layers.load("US")


@pytest.fixture()
def tiny_substations() -> gpd.GeoDataFrame:
    """Three substations on a meridian, 0.1 degree (about 11.1 km) apart."""
    return gpd.GeoDataFrame(
        {"sub_id": ["a", "b", "c"], "name": ["A", "B", "C"], "voltage_kv": [345.0, 230.0, 115.0]},
        geometry=[Point(-100.0, 40.0), Point(-100.0, 40.1), Point(-100.0, 40.2)],
        crs="EPSG:4326",
    )
