"""The committed boundary layers: world countries and US subdivisions."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers.paths import data_dir
from layers.schema import columns, validate


@pytest.fixture(scope="module")
def countries() -> gpd.GeoDataFrame:
    return gpd.read_parquet(data_dir() / "world" / "countries.parquet")


@pytest.fixture(scope="module")
def subdivisions() -> gpd.GeoDataFrame:
    return gpd.read_parquet(data_dir() / "us" / "subdivisions.parquet")


def test_countries_match_schema(countries):
    assert list(countries.columns) == columns("countries")
    assert countries.crs.equals("EPSG:4326")
    validate(countries, "countries")
    assert countries["iso_a3"].is_monotonic_increasing
    assert countries["iso_a3"].is_unique


def test_countries_have_real_iso_codes(countries):
    assert not countries["iso_a3"].isin(["-99", "-1", ""]).any()
    assert countries["iso_a3"].str.fullmatch(r"[A-Z]{3}").all()
    assert countries["iso_a2"].str.fullmatch(r"[A-Z]{2}").all()
    codes = dict(zip(countries["iso_a3"], countries["iso_a2"], strict=True))
    assert codes["NOR"] == "NO"
    assert codes["FRA"] == "FR"
    assert codes["USA"] == "US"
    assert codes["XKX"] == "XK"  # Kosovo: user-assigned code (EU, World Bank)
    assert codes["NAM"] == "NA"  # Namibia's alpha-2 is not a "not available" sentinel
    assert countries["iso_a2"].notna().all()


def test_countries_contain_their_capitals(countries):
    by_code = countries.set_index("iso_a3").geometry
    assert by_code["NOR"].contains(Point(10.75, 59.91))  # Oslo
    assert by_code["FRA"].contains(Point(2.35, 48.86))  # Paris
    assert by_code["USA"].contains(Point(-77.04, 38.90))  # Washington
    assert by_code["AUS"].contains(Point(149.13, -35.28))  # Canberra


def test_countries_drop_only_the_documented_features(countries):
    assert len(countries) == 238
    # Ashmore and Cartier Is. merged into Australia; Indian Ocean Ter. split in two.
    assert {"CXR", "CCK"} <= set(countries["iso_a3"])
    assert countries["name"].notna().all()


def test_subdivisions_codes(subdivisions):
    assert list(subdivisions.columns) == columns("subdivisions")
    validate(subdivisions, "subdivisions")
    codes = set(subdivisions["code"])
    assert len(codes) == 56  # 50 states, DC and five territories
    assert {"US-DC", "US-PR", "US-GU", "US-VI", "US-AS", "US-MP"} <= codes
    assert subdivisions["code"].str.fullmatch(r"US-[A-Z]{2}").all()


def test_texas_contains_austin(subdivisions):
    tx = subdivisions.set_index("code").loc["US-TX"]
    assert tx["name"] == "Texas"
    assert tx.geometry.contains(Point(-97.74, 30.27))
    assert not tx.geometry.contains(Point(-93.61, 41.59))  # Des Moines is in Iowa


# --- Canadian provinces and territories (layers/build/provinces.py) -------------------------

def _admin1(codes: list[str], country: str = "CAN") -> list[dict]:
    """Hand-made Natural Earth admin-1 features: a 1-degree square per code, west to east,
    plus one feature of another country that the build must leave out."""
    square = lambda i: {"type": "Polygon", "coordinates": [[  # noqa: E731
        [-140 + i, 50], [-139 + i, 50], [-139 + i, 51], [-140 + i, 51], [-140 + i, 50]]]}
    feats = [{"type": "Feature", "geometry": square(i),
              "properties": {"adm0_a3": country, "iso_3166_2": code, "name": f"n{code}",
                             "name_en": f"{code} in English"}}
             for i, code in enumerate(codes)]
    feats.append({"type": "Feature", "geometry": square(40),
                  "properties": {"adm0_a3": "USA", "iso_3166_2": "US-WA", "name": "WA"}})
    return feats


def test_provinces_build_keeps_canadas_13_sorted_with_english_names():
    from layers.build.provinces import build_provinces
    from layers.regions import CANADA

    codes = list(reversed(CANADA))                   # the source's order is not kept
    gdf = build_provinces(_admin1(codes), source="t.json")
    assert gdf["code"].tolist() == list(CANADA)     # sorted, the US feature left out
    assert gdf.loc[0, "name"] == "CA-AB in English"
    # CA-AB was the last square: -128..-127 W
    assert gdf.loc[0, "geometry"].bounds == (-128.0, 50.0, -127.0, 51.0)
    assert gdf.crs.equals("EPSG:4326")


def test_provinces_build_stops_on_a_code_iso_does_not_know():
    from layers.build.provinces import build_provinces
    from layers.errors import DataSourceError
    from layers.regions import CANADA

    codes = [c if c != "CA-NL" else "CA-NF" for c in CANADA]  # Newfoundland's pre-2002 code
    with pytest.raises(DataSourceError) as err:
        build_provinces(_admin1(codes), source="t.json")
    assert str(err.value) == (
        "t.json: Canada's admin-1 codes differ from ISO 3166-2 (unexpected: CA-NF; missing: "
        "CA-NL; 13 features); check the archive or map the codes in layers/build/provinces.py")


def test_committed_provinces_match_the_schema():
    gdf = gpd.read_parquet(data_dir() / "ca" / "subdivisions.parquet")
    validate(gdf, "subdivisions")
    assert len(gdf) == 13 and gdf["code"].is_monotonic_increasing
    assert gdf.set_index("code").loc["CA-AB", "name"] == "Alberta"
