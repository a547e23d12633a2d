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
