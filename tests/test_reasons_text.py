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
