"""geo.grid.cache.frame_hash: the key of cached and shipped results."""

from __future__ import annotations

import pandas as pd

from geo.grid.cache import frame_hash


def test_frame_hash_is_the_same_for_the_same_values_in_any_dtype():
    # pandas 3 reads text as its string dtype, pandas 2 as object; numbers as int or float
    a = pd.DataFrame({"id": pd.Series(["x", None, "z"], dtype=object), "mw": [1, 2, 3]})
    b = pd.DataFrame({"id": pd.Series(["x", None, "z"], dtype="string"),
                      "mw": [1.0, 2.0, 3.0]})
    assert frame_hash(a) == frame_hash(b)


def test_frame_hash_tells_different_values_apart():
    a = pd.DataFrame({"id": pd.Series(["x", None, "z"], dtype=object), "mw": [1, 2, 3]})
    assert frame_hash(a.assign(id=["x", "", "z"])) != frame_hash(a)   # null is not ""
    assert frame_hash(a.assign(mw=[1, 2, 4])) != frame_hash(a)
    assert frame_hash(a.iloc[::-1]) != frame_hash(a)                  # row order matters
