"""The null-aware column toolkit (geo._arrays): columns taken out of a frame lazily."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from geo._arrays import arrays, merged, rows, take_with


def test_columns_are_taken_out_when_read_once_and_floats_with_nan():
    frame = pd.DataFrame({"site_id": ["a", "b", None], "hosting_mw": ["5", None, "x"],
                          "tier": ["A", "B", "C"]})
    data = arrays(frame)
    assert list(data) == ["site_id", "hosting_mw", "tier"] and len(data) == 3
    assert "tier" in data and "land_score" not in data
    with pytest.raises(KeyError):
        data["land_score"]
    # a float site column (geo/schemas/sites.csv) comes out as floats, text as objects
    np.testing.assert_array_equal(data["hosting_mw"], [5.0, np.nan, np.nan])
    assert data["site_id"].dtype == object and data["site_id"][0] == "a"
    assert pd.isna(data["site_id"][2])
    assert data["tier"] is data["tier"]  # converted once
    assert dict(data).keys() == {"site_id", "hosting_mw", "tier"}


def test_a_column_not_read_is_never_converted(monkeypatch):
    """A text column of pandas 3 becomes a Python string per row when converted: only the
    columns a stage reads are converted."""
    converted = []
    to_numpy = pd.Series.to_numpy

    def spy(self, *args, **kwargs):
        converted.append(self.name)
        return to_numpy(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "to_numpy", spy)
    factorize = pd.factorize

    def spy_text(values, *args, **kwargs):  # a text column is read through factorize
        converted.append(values.name)
        return factorize(values, *args, **kwargs)

    monkeypatch.setattr(pd, "factorize", spy_text)
    data = arrays(pd.DataFrame({"tier": ["A"], "reasons": ["x"], "rank": [1]}))
    assert data["tier"].tolist() == ["A"] and "reasons" in data
    assert converted == ["tier"]


def test_an_absent_column_reads_as_the_rows_length_without_converting_any(monkeypatch):
    """``as_float``/``present``/``as_bool`` of a column the frame lacks are as long as the
    frame (a block, merged mappings): no column (here a text one) is converted for it."""
    from geo._arrays import as_bool, as_float, present, rows_at

    converted = []
    factorize = pd.factorize

    def spy_text(values, *args, **kwargs):  # a text column is read through factorize
        converted.append(values.name)
        return factorize(values, *args, **kwargs)

    monkeypatch.setattr(pd, "factorize", spy_text)
    monkeypatch.setattr(pd.Series, "to_numpy", lambda *a, **k: converted.append("num"))
    data = arrays(pd.DataFrame({"site_id": list("abcde"), "rank": [1, 2, 3, 4, 5]}))
    assert as_float(data, "existing_mw").shape == (5,)
    assert present(data, "poi_sub_id").tolist() == [False] * 5
    assert as_bool(rows(data, 1, 4), "x").shape == (3,)
    assert as_bool(rows(data, 3, 9), "x").shape == (2,)
    assert as_float(rows_at(data, np.array([4, 0])), "x").shape == (2,)
    assert present(merged({}, data), "x").shape == (5,)
    assert converted == []


def test_rows_slice_a_block_and_keep_the_columns_lazy(monkeypatch):
    converted = []
    to_numpy = pd.Series.to_numpy

    def spy(self, *args, **kwargs):
        converted.append(self.name)
        return to_numpy(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "to_numpy", spy)
    factorize = pd.factorize

    def spy_text(values, *args, **kwargs):  # a text column is read through factorize
        converted.append(values.name)
        return factorize(values, *args, **kwargs)

    monkeypatch.setattr(pd, "factorize", spy_text)
    data = arrays(pd.DataFrame({"tier": list("ABCDE"), "reasons": list("vwxyz")}))
    block = rows(data, 1, 3)
    assert list(block) == ["tier", "reasons"] and "tier" in block and "rank" not in block
    assert block["tier"].tolist() == ["B", "C"]
    assert converted == ["tier"]


def test_take_with_consume_moves_the_columns_out():
    import geopandas as gpd
    from shapely.geometry import Point

    def frame() -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"site_id": ["a", "b", "c"], "mw": [1.0, 2.0, 3.0]},
                                geometry=[Point(0, 0), Point(1, 1), Point(2, 2)],
                                crs="EPSG:4326")

    order = np.array([2, 0, 1])
    kept, moved = frame(), frame()
    def added() -> dict:
        return {"rank": np.array([3, 1, 2]), "reasons": np.array(["x", None, "z"], object)}

    expected = take_with(kept, added(), order)
    given = added()
    got = take_with(moved, given, order, consume=True)
    pd.testing.assert_frame_equal(got, expected)  # the same dtypes (pandas 3: str)
    assert got["reasons"].tolist()[0] == "z" and given == {}
    assert got["site_id"].tolist() == ["c", "a", "b"] and got.crs == "EPSG:4326"
    assert list(kept.columns) == ["site_id", "mw", "geometry"]  # untouched without consume
    assert list(moved.columns) == ["geometry"]


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_text_columns_share_one_string_per_distinct_text(dtype):
    if dtype == "str" and int(pd.__version__.split(".")[0]) < 3:
        pytest.skip("pandas < 3 has no str dtype of its own")
    frame = pd.DataFrame({"data_regime": pd.array(["GDPR", None, "GDPR", "CCPA"] * 3,
                                                  dtype=dtype)})
    got = arrays(frame)["data_regime"]
    expected = frame["data_regime"].to_numpy()
    assert got.dtype == object and len(got) == 12
    assert [(a is b) or (pd.isna(a) and pd.isna(b) and type(a) is type(b))
            or a == b for a, b in zip(got, expected, strict=True)] == [True] * 12
    if dtype is not object:  # one object per distinct text
        assert got[0] is got[2] is got[4]


def test_merged_reads_the_first_mapping_that_holds_a_name():
    both = merged({"tier": np.array(["A"])}, {"tier": np.array(["B"]), "rank": np.array([1])})
    assert both["tier"].tolist() == ["A"] and both["rank"].tolist() == [1]
    assert sorted(both) == ["rank", "tier"] and len(both) == 2 and "rank" in both
    with pytest.raises(KeyError):
        both["score"]


_HEAP_CHECK = """
import ctypes
import numpy as np
from geo import _memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

info = ctypes.CDLL("libc.so.6").mallinfo2
info.restype = MallInfo2
size = 64 << 20                       # above glibc's largest mmap threshold (32 MiB)
before = info().hblkhd                # bytes in blocks of their own mapping
with _memory.reused_heap():
    big = np.ones(size // 8)
    inside = info().hblkhd - before
    del big
big = np.ones(size // 8)
after = info().hblkhd - before
print(inside, after)
"""


def _heap_figures(script: str) -> tuple[int, int]:
    """The two integers ``script`` prints, run in a fresh process (a heap that earlier
    tests grew would serve the array either way); skipped off glibc 2.33+."""
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    try:
        ctypes.CDLL("libc.so.6").mallinfo2  # noqa: B018
    except (OSError, AttributeError):
        pytest.skip("needs glibc 2.33 or later")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    first, second = map(int, done.stdout.split())
    return first, second


def test_reused_heap_serves_a_large_array_from_the_heap_and_restores_the_mappings():
    inside, after = _heap_figures(_HEAP_CHECK)
    assert inside < 64 << 20 <= after


_NESTED_HEAP_CHECK = _HEAP_CHECK.split("with _memory.reused_heap():")[0] + """
with _memory.reused_heap():
    with _memory.reused_heap():       # a hosting run inside a portfolio's walk
        big = np.ones(size // 8)
    del big
    kept = info().arena               # the freed block is still the heap's
    big = np.ones(size // 8)          # after the inner one left: still from the heap
    inside = info().hblkhd - before
    del big
print(inside, kept)
"""


def test_reused_heap_nested_leaves_the_heap_and_settings_to_the_outer_one():
    inside, kept = _heap_figures(_NESTED_HEAP_CHECK)
    assert inside < 64 << 20 <= kept


def test_take_with_adds_the_ordered_columns_as_they_are():
    """A column already in the new order (the reasons, made in rank order) is not taken
    again, with or without repeated column names."""
    frame = pd.DataFrame({"site_id": ["a", "b", "c"], "reasons": ["old"] * 3})
    order = np.array([2, 0, 1])
    ordered = {"reasons": np.array(["#1 c", "#2 a", "#3 b"], dtype=object)}
    got = take_with(frame, {"rank": np.array([2, 3, 1])}, order, ordered=ordered)
    assert got["site_id"].tolist() == ["c", "a", "b"]
    assert got["reasons"].tolist() == ["#1 c", "#2 a", "#3 b"]
    assert got["rank"].tolist() == [1, 2, 3] and list(got.columns)[-1] == "reasons"
    twice = pd.concat([frame, frame[["site_id"]]], axis=1)  # a repeated name
    got = take_with(twice, {}, order, ordered=ordered)
    assert got["reasons"].tolist() == ["#1 c", "#2 a", "#3 b"]


@pytest.mark.parametrize("dtype", ["str", object])
def test_text_order_ranks_the_distinct_texts_in_code_point_order(dtype):
    """Each row's position among the distinct texts, in code-point order (upper case before
    lower, "a10" before "a9", "é" after "z"), with or without arrow, and for a column
    already converted."""
    from geo._arrays import text_order

    frame = pd.DataFrame({"site_id": pd.Series(["b", "a", "é", "B", "a10", "a9", "z", "a"],
                                               dtype=dtype)})
    expected = [4, 1, 6, 0, 2, 3, 5, 1]  # B a a10 a9 b z é
    assert text_order(arrays(frame), "site_id").tolist() == expected
    assert text_order(merged({}, arrays(frame)), "site_id").tolist() == expected
    read = arrays(frame)
    read["site_id"]
    assert text_order(read, "site_id").tolist() == expected
    assert text_order({"site_id": np.array(["b", "a"], dtype=object)}, "site_id").tolist() == [1, 0]


def test_codes_of_and_expand_give_back_the_column_as_a_frame_holds_it():
    from geo._arrays import codes_of, expand

    def framed(values: object) -> pd.DataFrame:  # a column put in a frame, as the stages do
        frame = pd.DataFrame({"n": range(len(values))})  # type: ignore[arg-type]
        frame["c"] = values
        return frame

    values = np.array(["b", None, "a", "b"], dtype=object)
    codes, distinct = codes_of(values)
    assert codes.tolist() == [0, 2, 1, 0]  # nulls take the last code
    assert distinct.tolist() == ["b", "a", None]
    # figures made per distinct value, spread over the rows; values no row uses (the 5) are
    # left out before the take, the rows' codes renumbered
    spread = expand(np.array(["x", "y", None], dtype=object), codes)
    want = framed(np.array(["x", None, "y", "x"], dtype=object))
    pd.testing.assert_frame_equal(framed(spread), want, check_exact=True)
    unused = expand(np.array(["x", 5, None], dtype=object), np.array([0, 0, 2]))
    pd.testing.assert_frame_equal(framed(unused), framed(
        np.array(["x", "x", None], dtype=object)), check_exact=True)
    assert expand(np.array([1.5, 2.5]), np.array([1, 1, 0])).tolist() == [2.5, 2.5, 1.5]
    # a text column of a frame (pandas 3: arrow) is factorised as it is
    column = pd.Series(["US", None, "US"], dtype=object).astype(pd.Series(["a"]).dtype)
    codes, distinct = codes_of(column)
    assert codes.tolist() == [0, 1, 0] and distinct[0] == "US" and pd.isna(distinct[1])


@pytest.mark.parametrize("values", [
    np.array(["b", None, "a", np.nan, "b", "b"], dtype=object),  # text and both nulls
    np.array([None, np.nan], dtype=object),                      # no text: as it is
    np.array(["a", 1, True, None], dtype=object),                # not all text
    np.array([1.5, np.nan]),                                     # numbers
    np.array([], dtype=object)])
def test_text_form_is_the_frame_form_made_among_the_distinct_texts(values, monkeypatch):
    import geo._arrays as arr

    plain = arr.pandas_form(values)
    sizes: list[int] = []
    form = arr.pandas_form
    monkeypatch.setattr(arr, "pandas_form", lambda v: sizes.append(len(v)) or form(v))
    got = arr.text_form(values)
    frame = pd.DataFrame({"c": got})
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"c": plain}), check_exact=True)
    if isinstance(getattr(plain, "dtype", None), pd.StringDtype) and len(values) == 6:
        # pandas 3: the texts "b", "a" and one null converted, then taken by arrow
        assert sizes == [3] and frame["c"].tolist()[:3] == ["b", plain[1], "a"]
        assert frame["c"].isna().tolist() == [False, True, False, True, False, False]


def test_add_columns_holds_the_new_arrays_as_they_are_and_copies_one_given_twice():
    from geo._arrays import add_columns

    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}, index=[10, 11])
    twice, other = np.array([5.0, 6.0]), np.array([7.0, 8.0])
    out = add_columns(frame, {"b": twice, "c": twice, "d": other})
    assert out.columns.tolist() == ["a", "b", "c", "d"] and out.index.tolist() == [10, 11]
    assert out["c"].tolist() == [5.0, 6.0] and out["d"].tolist() == [7.0, 8.0]
    # the array given twice is held twice, not shared (a write to one leaves the other)
    assert not np.shares_memory(out["b"].to_numpy(), out["c"].to_numpy())
