"""The public campus set (data/us/campuses.csv) and its build step."""

from __future__ import annotations

import shutil
from pathlib import Path

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
    assert len(table) >= 40
    assert set(table["type"]) == set(campuses.TYPES)
    assert set(table["coordinate_precision"]) == {"site", "town"}
    assert table["source"].str.startswith("http").all()
    known = bp.read_known(bp.known_set_path("us-campuses"))
    assert len(known) == len(table) and known["mw"].notna().sum() >= 25


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
