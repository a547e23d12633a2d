"""The public campus set (data/us/campuses.csv) and its build step."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo.backtest import points as bp
from layers.build import campuses
from layers.errors import LayerValidationError

DATA = Path(__file__).resolve().parents[1] / "data"


def test_shipped_file_is_the_build_output(tmp_path: Path) -> None:
    (tmp_path / "us").mkdir()
    shutil.copy(DATA / "us" / "subdivisions.parquet", tmp_path / "us")
    (written,) = campuses.build(Path(), tmp_path)
    assert written.read_bytes() == (DATA / campuses.OUT).read_bytes()


def test_the_set_is_large_varied_and_sourced() -> None:
    table = pd.read_csv(DATA / campuses.OUT)
    assert len(table) == 99
    assert set(table["type"]) == set(campuses.TYPES)
    assert set(table["coordinate_precision"]) == {"site", "town"}
    assert table["source"].str.startswith("http").all()
    known = bp.read_known(bp.known_set_path("us-campuses"))
    assert len(known) == len(table) and known["mw"].notna().sum() >= 25


def test_the_main_markets_are_covered() -> None:
    """Every main US data-centre market has at least one campus that is not a bitcoin mine."""
    table = pd.read_csv(DATA / campuses.OUT)
    subs = gpd.read_parquet(DATA / "us" / "subdivisions.parquet")
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                              crs="EPSG:4326").to_crs(subs.crs)
    joined = gpd.sjoin(points, subs[["code", "geometry"]], how="left", predicate="within")
    assert joined["code"].notna().all()
    ai = joined[joined["type"].isin(["ai_campus", "hyperscale"])]
    markets = {"VA", "OH", "GA", "AZ", "OR", "IA", "TX", "IL", "IN", "WI", "NE"}
    assert markets <= {code.removeprefix("US-") for code in ai["code"]}


def test_bad_rows_are_named_in_one_message() -> None:
    table = pd.read_csv(campuses.TABLE, dtype=str, keep_default_na=False, na_values=[""])
    table.loc[0, "type"] = "crypto"
    table.loc[1, "source"] = "see press release"
    table.loc[2, "lat"] = "95"
    with pytest.raises(LayerValidationError) as err:
        campuses.check(table)
    message = str(err.value)
    assert "type not one of" in message and "(lines 2)" in message
    assert "not an http(s) URL (lines 3)" in message and "out of range (lines 4)" in message
