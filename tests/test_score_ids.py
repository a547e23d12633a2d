"""The site ids' check of the ranking: a text column without nulls or repeats is checked
as pandas holds it."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.mark.parametrize("dtype", ["string", "str"])
def test_site_ids_held_as_text_are_checked_as_held(dtype):
    """A text column of pandas without nulls or repeats passes ``score._unique_text`` (no
    Python string per row); a repeat, a null or an object column goes to the text check,
    which names the repeat and counts the nulls."""
    from geo import score
    from geo.errors import LayerValidationError

    if dtype == "str" and int(pd.__version__.split(".")[0]) < 3:
        pytest.skip("pandas < 3 has no str dtype of its own")
    assert score._unique_text(pd.Series(["h3-a", "h3-b"], dtype=dtype))
    assert not score._unique_text(pd.Series(["h3-a", "h3-a"], dtype=dtype))
    assert not score._unique_text(pd.Series(["h3-a", None], dtype=dtype))
    assert not score._unique_text(pd.Series(["h3-a", "h3-b"], dtype=object))
    frame = pd.DataFrame({"site_id": pd.Series(["x", "y", "x", None], dtype=dtype)})
    with pytest.raises(LayerValidationError, match=r"1 row\(s\) without a site_id.*"
                                                   r"repeated site_id\(s\): x"):
        score._validate(frame)
