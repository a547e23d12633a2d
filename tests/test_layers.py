"""The embedded US layers: counts and spot values a reader can check against the sources."""

from __future__ import annotations

import pytest
from pyproj import Geod

import layers
from layers.errors import RegionError


def test_substation_count_and_columns(us_layers, us_substation_count):
    subs = us_layers.substations
    assert len(subs) == us_substation_count
    assert subs["sub_id"].is_unique
    assert list(subs.columns[:9]) == layers.schema.columns("substations")
    assert subs.crs.to_epsg() == 4326
    # every TAMU substation lies in one of the 48 contiguous states (DC's are in MD/VA zones)
    assert subs["state"].str.match(r"^US-[A-Z]{2}$").all()
    assert subs["state"].nunique() == 48


def test_texas_interconnect(us_layers):
    subs = us_layers.substations
    counts = subs["interconnect"].value_counts()
    assert set(counts.index) == {"Eastern", "Western", "Texas"}
    texas = subs[subs["interconnect"] == "Texas"]
    assert len(texas) == 1_250
    # ERCOT lies almost wholly in Texas
    assert (texas["state"] == "US-TX").mean() > 0.99


def test_grand_coulee(us_layers):
    plants = us_layers.plants
    hydro = plants[plants["fuel"] == "hydro"].sort_values("capacity_mw", ascending=False)
    top = hydro.iloc[0]
    assert top["name"] == "GRAND COULEE hydro"
    assert top["capacity_mw"] == pytest.approx(6_809, abs=1)
    _, _, d = Geod(ellps="WGS84").inv(top.geometry.x, top.geometry.y, -118.98, 47.96)
    assert d < 2_000


def test_lines_have_no_zero_ratings_and_mark_estimates(us_layers):
    lines = us_layers.lines
    kind = lines["kind"]
    # TAMU's own transformers are rows too (kind "transformer", within one substation); the 4
    # with rateA = 0 stay empty, marked estimated, for the grid to estimate
    xfmr = lines[kind == "transformer"]
    assert len(xfmr) == 14_935 and (xfmr["from_sub"] == xfmr["to_sub"]).all()
    assert (xfmr["capacity_mw"].isna() == (xfmr["capacity_source"] == "estimated")).all()
    assert xfmr["capacity_mw"].isna().sum() == 4
    lines = lines[kind == "line"]
    assert len(lines) == 61_450
    assert (lines["capacity_mw"] > 0).all()
    est = lines[lines["capacity_source"] == "estimated"]
    assert len(est) == 1
    assert est["voltage_kv"].iloc[0] == 345.0
    assert est["capacity_mw"].iloc[0] == 750.0  # reVX 345 kV class
    assert (lines["from_sub"] != lines["to_sub"]).all()
    assert lines["from_sub"].isin(us_layers.substations["sub_id"]).all()


def test_line_length_is_geodesic(us_layers):
    row = us_layers.lines.iloc[0]
    (x0, y0), (x1, y1) = row.geometry.coords
    _, _, d = Geod(ellps="WGS84").inv(x0, y0, x1, y1)
    assert row["length_km"] == pytest.approx(d / 1000, abs=1e-3)


def test_substation_voltage_is_the_highest_bus_voltage(us_layers):
    subs = us_layers.substations.set_index("sub_id")
    assert subs.loc["0", "voltage_kv"] == 230.0  # AUBURN 1: 230/115 kV buses, 18 kV units
    assert (subs["voltage_kv"] >= subs["min_voltage_kv"]).all()
    assert (subs["voltage_kv"] >= 115).sum() == 26_505
    assert (subs["voltage_kv"] >= 230).sum() == 4_062


def test_region_state_clips_points(us_substation_count):
    tx = layers.load("US-TX")
    inside = tx.in_region("substations")
    assert 0 < len(inside) < us_substation_count
    assert (inside["state"] == "US-TX").mean() > 0.98


def test_a_country_without_an_embedded_grid_names_those_that_have_one():
    with pytest.raises(RegionError, match=r"has no embedded grid .*covers US, CA, MX, NO, ET"):
        layers.load("FR")
    with pytest.raises(RegionError, match="covers the contiguous US only"):
        layers.load("NO", grid="tamu-synthetic")


@pytest.mark.parametrize("kind", [k.name for k in layers.kinds.table() if k.path])
def test_embedded_layers_validate_unchanged(kind):
    """The shipped files are read without validation; they must be what validation gives."""
    import geopandas as gpd
    import pandas as pd

    from layers import catalog
    from layers.paths import data_dir

    raw = gpd.read_parquet(data_dir() / catalog.entry(kind).path)
    checked = layers.validate(raw, kind, source=kind)
    # pandas 3 reads text columns as its string dtype, validation keeps text as objects: the
    # same values either way
    text = [c for c in raw.columns if c != "geometry" and pd.api.types.is_string_dtype(raw[c])]
    pd.testing.assert_frame_equal(checked.astype(dict.fromkeys(text, object)),
                                  raw.astype(dict.fromkeys(text, object)), check_exact=True)
