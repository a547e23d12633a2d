"""Shared fixtures: the embedded layers (loaded once) and tiny hand-made layers."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pytest
from click.testing import CliRunner, Result
from hypothesis import settings as hypothesis_settings
from shapely.geometry import Point

import layers

# CI (.ci/run sets CI) draws the same property-test examples on every run, so a red build
# means the change broke something, not that a fresh random draw found an old bug; a
# developer's run draws new examples each time (HYPOTHESIS_PROFILE=explore anywhere).
hypothesis_settings.register_profile("ci", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "explore"))

#: Substations in the embedded US grid (the TAMU test system; data/SOURCES.md). The one
#: place the tests hold this known answer.
US_SUBSTATION_COUNT = 41_083


@pytest.fixture(scope="session")
def geo_rank() -> Callable[..., Result]:
    """``geo_rank("layers", "--json")``: run the ``geo-rank`` command in this process
    (click's CliRunner; stdout and stderr apart); keywords go to ``CliRunner.invoke``. The
    one way the tests run the CLI in-process (a real process: ``python -m geo``). Session
    scope, so module-scoped fixtures may run the CLI too; each call gets a fresh runner."""
    from geo.cli.app import cli

    def invoke(*args: str, **kwargs: Any) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)

    return invoke


@pytest.fixture(scope="session")
def us_substation_count() -> int:
    """How many substations the embedded US layers hold."""
    return US_SUBSTATION_COUNT


@pytest.fixture(scope="session")
def us_layers() -> layers.Layers:
    """The embedded USA TAMU synthetic layers (the tests that pin its figures)."""
    return layers.load("US", grid="tamu-synthetic")


@pytest.fixture(scope="session")
def osm_us_layers() -> layers.Layers:
    """The embedded OpenStreetMap 2016 US layers (the default grid)."""
    return layers.load("US", grid="osm-2016")


@pytest.fixture()
def tiny_substations() -> gpd.GeoDataFrame:
    """Three substations on a meridian, 0.1 degree (about 11.1 km) apart."""
    return gpd.GeoDataFrame(
        {"sub_id": ["a", "b", "c"], "name": ["A", "B", "C"], "voltage_kv": [345.0, 230.0, 115.0]},
        geometry=[Point(-100.0, 40.0), Point(-100.0, 40.1), Point(-100.0, 40.2)],
        crs="EPSG:4326",
    )
