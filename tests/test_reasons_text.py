"""The reasons text: numbers read as ``str.format`` writes them, whatever the shortcut."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import _reasons

SPECS = ["{:,.0f} months", " ({:,.1f} km", "{:,.2f}", "{:.3f}", "{:.0f}"]
# halves and near-halves in binary and decimal, signed zeros, huge values, NaN
EDGES = [0.0, -0.0, 0.5, 1.5, 2.5, 0.25, 0.35, 2.675, 1.005, 0.0005, 0.05, 0.15, 1234.5,
         -1.5, -0.04, 1e15 + 0.5, 2.0 ** 40, 1e300, np.nan, 999.95, 999_999.5, 0.1 + 0.2]


@pytest.mark.parametrize("spec", SPECS)
def test_numbers_read_as_str_format(spec):
    values = np.array(EDGES + [np.nextafter(v, np.inf) for v in EDGES]
                      + [np.nextafter(v, -np.inf) for v in EDGES])
    expected = [spec.format(v) if v == v else "" for v in values.tolist()]
    assert _reasons._fmt(values, spec).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_infinity=False, min_value=-1e7, max_value=1e7)
                | st.integers(0, 10**6).map(lambda k: k / 2000), min_size=1, max_size=50))
def test_any_numbers_read_as_str_format(values):
    arr = np.array(values, dtype=float)
    for spec in SPECS:
        expected = [spec.format(v) if v == v else "" for v in arr.tolist()]
        assert _reasons._fmt(arr, spec).tolist() == expected


def test_reasons_do_not_depend_on_the_blocks_of_rows(monkeypatch):
    """Lines built in blocks of rows (each block's parts, the separation clause of the
    whole ranking) read as lines built at once."""
    import pandas as pd

    from geo import costs, score
    from geo.settings import Settings

    rng = np.random.default_rng(3)
    n = 40
    sites = pd.DataFrame({
        "site_id": [f"s{i:02d}" for i in range(n)],
        "poi_sub_id": [None if i % 7 == 0 else f"p{i % 5}" for i in range(n)],
        "poi_name": [None if i % 7 == 0 else f"POI {i % 5}" for i in range(n)],
        "poi_voltage_kv": rng.choice([138.0, 230.0, 345.0], n),
        "tie_distance_km": np.round(rng.uniform(0, 40, n), 1),
        "interconnect": "Eastern", "subdivision": rng.choice(["US-IA", "US-TX", "US-GA"], n),
        "hosting_mw": rng.choice([0.0, 150.0, 600.0], n),
        "firm_mw": rng.choice([0.0, 299.0, 600.0], n),
        "hosting_source": "computed", "limiting_line_id": "l1", "serves_load": True,
        "redundancy": "N-1 secure", "backbone_km": 0.0, "hydro_mw_within_100km": 0.0,
        "nearest_hydro_km": None, "gas_field": rng.choice([None, "Permian"], n),
        "gas_field_km": rng.choice([0.0, 4.0, 30.0], n),
        "land_price_usd_per_acre": rng.choice([np.nan, 3_000.0, 9_000.0], n),
        "land_price_note": "state average, 2025", "existing_site": False})
    settings = Settings()
    costed = costs.estimate(sites, 300.0, settings)
    whole = score.rank(costed, 300.0, settings)
    monkeypatch.setattr(_reasons, "_BLOCK_ROWS", 3)
    blocks = score.rank(costed, 300.0, settings)
    assert whole["reasons"].nunique() > 10
    assert blocks["reasons"].tolist() == whole["reasons"].tolist()


def _line(n_rows: int = 4):
    """A hand-made line of every kind of part: a text on every row, a text on some rows,
    a column of texts, numbers formatted (said on some rows), a list."""
    from geo._phrases import Line, fmt, fmt_at

    line = Line(n_rows)
    line.add("Tier ", np.array(["A", "B", "A", "D"], dtype=object), ": ")
    line.add_if(np.array([True, False, True, False]), "grid")
    line.add(fmt(np.array([24.0, 36.0, np.nan, 7.25]), "{:,.0f} months"))
    line.add_if(np.array([False, True, True, True]), "; firm ",
                fmt_at(np.array([0.0, 1234.5, 2.0, -0.0]), "{:,.1f}",
                       np.array([False, True, False, True])), " MW")
    line.add_list("; other:", [(np.array([True, False, True, False]), "gas"),
                               (np.array([True, True, False, False]), "energized")])
    return line


EXPECTED = ["Tier A: grid24 months; other: gas, energized",
            "Tier B: 36 months; firm 1,234.5 MW; other: energized",
            "Tier A: grid; firm  MW; other: gas",
            "Tier D: 7 months; firm -0.0 MW"]


@pytest.mark.parametrize("merge_distinct", [1, 2, 4096])
def test_line_joins_its_parts_whatever_the_merging(monkeypatch, merge_distinct):
    """The lines read as the parts said row by row (hand-written), whether neighbouring
    parts are merged into one (many combinations allowed) or each kept apart (1)."""
    from geo import _phrases

    monkeypatch.setattr(_phrases, "MERGE_DISTINCT", merge_distinct)
    assert _line().join().tolist() == EXPECTED
    joined = _line().join_arrow()
    assert str(joined.type) == "large_string"
    assert joined.to_pylist() == EXPECTED


def test_parts_merge_while_their_combinations_are_few():
    """Neighbouring parts merge into one while their distinct combinations are within the
    limit: the 4 rows' parts into one part of 4 texts; with a limit of 1, no two parts that
    vary merge."""
    from geo._phrases import _merge

    parts = _line().parts
    whole = _merge(parts, 4096)
    assert len(whole) == 1 and sorted(whole[0].values) == sorted(EXPECTED)
    apart = _merge(parts, 1)
    assert len(apart) == sum(p.codes is not None for p in parts)  # the constants fold in


def test_line_blank_and_tail():
    """``blank`` says nothing on the rows given; ``extend_tail`` adds another line's parts
    without its first rows."""
    from geo._phrases import Line

    line = _line()
    line.blank(np.array([False, True, False, True]))
    assert line.join().tolist() == [EXPECTED[0], "", EXPECTED[2], ""]
    head = Line(2)
    head.add("x")
    head.extend_tail(_line(), 2)
    assert head.join().tolist() == ["x" + EXPECTED[2], "x" + EXPECTED[3]]
    assert Line(0).join().tolist() == []
    constant = Line(2)
    constant.add("a", "b")
    assert constant.join().tolist() == ["ab", "ab"]


def test_rows_of_a_frame_read_as_the_whole_column():
    """A frame's column converted at some rows only (geo._arrays.take) equals the whole
    column converted and then taken: text (nulls as the dtype's null), floats from text or
    objects, booleans with None, and a column already converted whole."""
    import pandas as pd

    from geo._arrays import arrays, forget, merged, rows_at, take

    frame = pd.DataFrame({
        "poi_name": pd.Series(["A", None, "B", "A", "C"], dtype="str"),
        "firm_mw": pd.Series([1.5, None, "7", 2.0, None], dtype=object),
        "existing_site": pd.Series([True, None, False, True, None], dtype=object),
        "hosting_mw": [1.0, 2.0, np.nan, 4.0, 5.0]})
    at = np.array([4, 0, 1, 3])

    def same(got, expected):
        assert got.dtype == expected.dtype
        assert pd.isna(got).tolist() == pd.isna(expected).tolist()
        assert [v for v in got.tolist() if not pd.isna(v)] == \
            [v for v in expected.tolist() if not pd.isna(v)]

    for name in frame.columns:
        whole = arrays(frame)[name]
        data = arrays(frame)
        for got in (take(data, name, at), take(merged({}, data), name, at),
                    rows_at(data, at)[name]):
            same(got, whole[at])
        same(take(data, name, slice(1, 3)), whole[1:3])
        assert data._done == {}  # nothing kept
        data[name]  # converted whole: kept, and taken from there
        assert name in data._done
        same(take(data, name, at), whole[at])
        forget(merged({}, data))
        assert data._done == {}
    assert take(arrays(frame), "firm_mw", at)[1:].tolist()[:1] == [1.5]
    assert take(arrays(frame), "poi_name", at).tolist()[1] == "A"


def test_arrow_text_takes_the_form_of_a_text_column():
    """The reasons' arrow blocks become a column of the form pandas gives text (pandas 3:
    ``str``; older pandas: object)."""
    import pandas as pd
    import pyarrow as pa

    from geo._arrays import pandas_form, pandas_text

    got = pandas_text([pa.array(["a", "b"], pa.large_string()), pa.array(["c"], pa.string())])
    expected = pandas_form(np.array(["a", "b", "c"], dtype=object))
    assert type(got) is type(expected)
    assert pd.Series(got).dtype == pd.Series(expected).dtype
    assert list(got) == ["a", "b", "c"]
    assert len(pandas_text([])) == 0
