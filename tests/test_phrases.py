"""The reasons' text columns as codes (geo._phrases.Text): each distinct value read once,
whatever the column's form (pandas 3 ``str``, categorical, arrow dictionary, objects)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from geo import _phrases
from geo._arrays import arrays, merged, rows_at
from geo._phrases import Text, present, text_codes, text_column

ROWS = ["b", None, "a", "b"]


@pytest.mark.parametrize("form", ["object", "str", "category", "dictionary"])
def test_text_codes_read_every_form_of_a_text_column(form):
    """``distinct[codes]`` reads as the column, nulls None (the last code); a categorical
    by its codes (an unused category stays unread), arrow's dictionary as it is."""
    if form == "str" and int(pd.__version__.split(".")[0]) < 3:
        pytest.skip("pandas < 3 has no str dtype of its own")
    column = {
        "object": lambda: pd.Series(ROWS, dtype=object),
        "str": lambda: pd.Series(ROWS, dtype="str"),
        "category": lambda: pd.Series(pd.Categorical(ROWS, categories=["a", "b", "c"])),
        "dictionary": lambda: pd.Series(pd.arrays.ArrowExtensionArray(
            pa.array(ROWS).dictionary_encode())),
    }[form]()
    codes, distinct = text_codes(column)
    assert distinct[codes].tolist() == ROWS
    assert codes[1] == len(distinct) - 1 and distinct[-1] is None
    assert codes[0] == codes[3] != codes[2]
    assert text_column({"c": column}, "c").tolist() == ["b", "", "a", "b"]
    assert present({"c": column}, "c", 4).tolist() == [True, False, True, True]


def test_objects_that_are_not_text_are_their_str():
    """1, 1.0 and True hash as one value: each is its ``str`` first, as the line says it."""
    column = np.array([1, 1.0, True, "1", None, np.nan], dtype=object)
    codes, distinct = text_codes(column)
    assert distinct[codes].tolist() == ["1", "1.0", "True", "1", None, None]
    text = text_column({"c": column}, "c")
    assert text.tolist() == ["1", "1.0", "True", "1", "", ""]
    assert text.codes[0] == text.codes[3] and text.codes[4] == text.codes[5]


def test_a_frame_column_is_coded_once_for_every_block(monkeypatch):
    """The rows of a frame's column read block after block (``rows_at``, also through
    ``merged``) take their codes from one coding of the whole column."""
    calls = []

    def counted(values):
        calls.append(len(values))
        return text_codes(values)

    monkeypatch.setattr(_phrases, "text_codes", counted)
    frame = pd.DataFrame({"utility": pd.Series(["X", None, "Y", "X", "Z"], dtype=object)})
    data = merged({"rank": np.arange(5)}, arrays(frame))
    assert text_column(rows_at(data, np.array([3, 1])), "utility").tolist() == ["X", ""]
    assert text_column(rows_at(data, np.array([4, 2, 0])), "utility").tolist() == \
        ["Z", "Y", "X"]
    assert present(rows_at(data, np.array([1, 0])), "utility", 2).tolist() == [False, True]
    assert calls == [5]  # the whole column, once
    plain = {"utility": np.array(["X", None, "Y"], dtype=object)}
    assert text_column(rows_at(plain, np.array([2, 1])), "utility").tolist() == ["Y", ""]
    assert calls == [5, 2]  # an array's rows only
    assert text_column(rows_at(data, np.array([0])), "absent", 1).tolist() == [""]


def test_text_tests_and_combinations():
    """Tests against a text, the text or another where it is "", the previous row's
    text, a lookup: hand-computed."""
    name = Text(np.array([0, 1, 1, 2], dtype=np.int32), ["CHILDRESS", "", "TAP 7"])
    other = Text(np.array([1, 0, 2, 1], dtype=np.int32), ["s1", "TAP 7", "s3"])
    assert name.eq("").tolist() == [False, True, True, False]
    assert name.ne("TAP 7").tolist() == [True, True, True, False]
    assert name.contains("TAP").tolist() == [False, False, False, True]
    either = name.or_else(other)
    assert either.tolist() == ["CHILDRESS", "s1", "s3", "TAP 7"]
    assert len(set(either.values)) == len(either.values)  # distinct: codes compare as texts
    assert name.previous().tolist() == ["CHILDRESS", "CHILDRESS", "", ""]
    assert name.map({"TAP 7": "t"}).tolist() == ["", "", "", "t"]


@pytest.mark.parametrize("bound", [6, 10**9])
def test_pairs_code_the_distinct_values_without_or_with_hashing(bound):
    """A small range is coded by a table of flags (values in increasing order), a large
    one by hashing (in order of appearance): either way ``values[codes]`` is the input."""
    from geo._phrases import _pairs

    pair = np.array([5, 2, 5, 0, 2], dtype=np.int64)
    codes, values = _pairs(pair, bound)
    assert np.asarray(values)[codes].tolist() == pair.tolist()
    expected = [0, 2, 5] if bound == 6 else [5, 2, 0]
    assert np.asarray(values).tolist() == expected


def test_an_absent_column_of_some_rows_converts_no_other_column(monkeypatch):
    """An absent column read at some rows (``as_float``, ``as_bool``) has their count of
    rows, counted without converting a column of the frame (here: its text)."""
    from geo import _arrays
    from geo._arrays import as_bool, as_float, rows

    def refused(column):
        raise AssertionError("a text column was converted")

    monkeypatch.setattr(_arrays, "_shared_text", refused)
    frame = pd.DataFrame({"site_id": pd.Series(["a", "b", "c", "d"], dtype="string")})
    data = merged({"rank": np.arange(4)}, arrays(frame))
    assert len(as_float(rows_at(arrays(frame), np.array([2, 0])), "firm_mw")) == 2
    assert as_bool(rows(data, 1, 4), "existing_site").tolist() == [False] * 3
    assert np.isnan(as_float(rows(arrays(frame), 0, 3), "firm_mw")).sum() == 3


def test_a_value_and_the_one_above_are_formatted_once_for_both():
    """``fmt_vs``: the rows' values and, after " vs ", the values of the rows above, as
    ``fmt_at`` of each says them (hand-computed: 1.25 reads 1.2, NaN says nothing)."""
    from geo._phrases import fmt_at, fmt_vs

    values = np.array([1.25, np.nan, 3.0, 3.0, 7.04])
    rows = np.array([False, True, True, False, True])
    now, above = fmt_vs(values, "{:,.1f}", rows)
    assert now.tolist() == ["", "", "3.0", "", "7.0"]
    assert above.tolist() == ["", " vs 1.2", "", "", " vs 3.0"]
    previous = np.concatenate([values[:1], values[:-1]])
    assert above.tolist() == fmt_at(previous, " vs {:,.1f}", rows).tolist()
    first, alone = fmt_vs(values, "{:.3f}", np.array([True, False, False, False, False]))
    assert first.tolist()[0] == "1.250" and alone.tolist()[0] == " vs 1.250"

