"""The committed data-sovereignty table."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from layers._paths import data_dir


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(data_dir() / "world" / "sovereignty.csv", dtype=str,
                       keep_default_na=False).set_index("iso_a3", drop=False)


def test_one_row_per_country(table):
    countries = gpd.read_parquet(data_dir() / "world" / "countries.parquet")
    assert list(table["iso_a3"]) == sorted(countries["iso_a3"])
    assert list(table.columns) == ["iso_a3", "name", "bloc", "data_regime", "localization",
                                   "eu_adequacy", "notes"]
    assert set(table["localization"]) == {"none", "conditional", "strict", "unknown"}
    assert set(table["eu_adequacy"]) == {"member", "yes", "partial", "no"}


def test_eu_and_eea(table):
    assert (table["bloc"] == "EU/EEA").sum() == 30
    assert table.loc["FRA", "eu_adequacy"] == "member"
    nor = table.loc["NOR"]
    assert nor["bloc"] == "EU/EEA"
    assert "EEA Agreement" in nor["data_regime"]
    assert nor["localization"] == "none"


@pytest.mark.parametrize(
    ("iso", "bloc", "localization", "adequacy"),
    [
        ("CHN", "CN", "strict", "no"),
        ("RUS", "RU", "strict", "no"),
        ("IND", "IND", "conditional", "no"),
        ("SAU", "GCC", "conditional", "no"),
        ("QAT", "GCC", "unknown", "no"),
        ("USA", "US", "none", "partial"),
        ("CAN", "CA", "none", "partial"),
        ("GBR", "UK", "none", "yes"),
        ("JPN", "JPN", "unknown", "yes"),
        ("BRA", "BRA", "unknown", "no"),
    ],
)
def test_known_rows(table, iso, bloc, localization, adequacy):
    row = table.loc[iso]
    assert (row["bloc"], row["localization"], row["eu_adequacy"]) == (bloc, localization,
                                                                      adequacy)


def test_regime_text(table):
    assert "PIPL 2021" in table.loc["CHN", "data_regime"]
    assert table.loc["GBR", "data_regime"] == "UK GDPR and Data Protection Act 2018"
    assert "CLOUD Act 2018" in table.loc["USA", "data_regime"]
    assert table.loc["BRA", "data_regime"] == "unknown"
