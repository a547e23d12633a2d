"""Repeated site text held as categories (geo._compact): coded, given back exactly, and
written as the same bytes as the text it was."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import _compact
from geo.io import export
from geo.provenance import build_provenance
from geo.settings import Settings

#: The text dtype the sites hold: pandas 3's ``str``; on older pandas its ``string``
#: (pandas' own text dtype, which older pandas does not choose by itself).
TEXT = (pd.Series(["a"]).dtype if isinstance(pd.Series(["a"]).dtype, pd.StringDtype)
        else pd.StringDtype())


def _sites(n: int = 10) -> gpd.GeoDataFrame:
    regimes = ["EU: GDPR", "US: CLOUD Act", None, "EU: GDPR", "US: CLOUD Act"]
    return gpd.GeoDataFrame(
        {"site_id": pd.array([f"s{i}" for i in range(n)], dtype=TEXT),
         "site_name": pd.array([f"cell {i}" for i in range(n)], dtype=TEXT),
         # a text a spreadsheet would run: the CSV writer neutralises it in either form
         "utility": pd.array(["Zeta Power", "=Acme Electric"] * (n // 2), dtype=TEXT),
         "data_regime": pd.array((regimes * n)[:n], dtype=TEXT),
         "poi_name": pd.array([None] * n, dtype=TEXT),          # null in every row
         "my_note": pd.array(["same"] * n, dtype=TEXT),         # the user's own column
         "hosting_mw": np.arange(n, dtype=float)},
        geometry=[Point(i, -i) for i in range(n)], crs="EPSG:4326")


def test_compact_codes_the_repeated_text_and_restored_gives_it_back_exactly():
    sites = _sites()
    before = sites.copy()
    _compact.compact(sites)
    coded = {c for c in sites.columns if isinstance(sites[c].dtype, pd.CategoricalDtype)}
    # the site's own text, a user's column and a column null throughout stay text
    assert coded == {"utility", "data_regime"}
    # sorted categories, each distinct text once, nulls missing
    assert list(sites["utility"].cat.categories) == ["=Acme Electric", "Zeta Power"]
    assert sites["data_regime"].cat.codes.tolist() == [0, 1, -1, 0, 1] * 2
    back = _compact.restored(sites)
    pd.testing.assert_frame_equal(back, before, check_exact=True)
    assert list(back.dtypes) == list(before.dtypes)
    # restored leaves its input coded, and a frame without categories is itself
    assert isinstance(sites["utility"].dtype, pd.CategoricalDtype)
    assert _compact.restored(before) is before


@pytest.mark.parametrize("fmt", ["parquet", "csv", "geojson", "gpkg"])
def test_a_compacted_frame_is_written_as_the_same_bytes(tmp_path, monkeypatch, fmt):
    """Written whole (GeoJSON, CSV, GeoPackage) and a block of rows at a time (GeoParquet
    in row groups of 4: the categories are given back per block), the files are the
    text's bytes."""
    monkeypatch.setattr(export, "PARQUET_ROW_GROUP_ROWS", 4)
    prov = build_provenance(Settings(), {}, "US-TX", 100.0)
    prov["generated_at"] = "2026-01-01T00:00:00Z"
    sites = _sites()
    text = export.write(sites, tmp_path / f"text.{fmt}", prov).read_bytes()
    _compact.compact(sites)
    assert isinstance(sites["data_regime"].dtype, pd.CategoricalDtype)
    coded = export.write(sites, tmp_path / f"coded.{fmt}", prov).read_bytes()
    assert coded == text


@pytest.mark.skipif(not isinstance(pd.Series(["a"]).dtype, pd.StringDtype),
                    reason="older pandas holds text as objects: it is left as it is")
def test_python_strings_are_coded_as_text_and_a_column_null_throughout_is_left():
    """The Dask engine's joined partitions hold a column as Python strings where one
    partition had it null throughout: coded like the text it is, and given back as text."""
    sites = _sites()
    sites["utility_overlap"] = pd.Series([None, "A; B"] * 5, dtype=object)
    sites["gas_field"] = pd.Series([None] * 10, dtype=object)
    assert sites["utility_overlap"].dtype == object
    _compact.compact(sites)
    assert sites["utility_overlap"].cat.categories.dtype == pd.Series(["a"]).dtype
    assert sites["gas_field"].dtype == object
    back = _compact.restored(sites)["utility_overlap"]
    assert back.dtype == pd.Series(["a"]).dtype and back.tolist()[:2] == [np.nan, "A; B"]
