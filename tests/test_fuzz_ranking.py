"""Fuzzing the cost and ranking stages with arbitrary, often broken, site tables.

Whatever the table holds, ``costs.estimate`` and ``score.rank`` either return a ranking
that keeps the invariants (ranks 1..N unique, tiers ordered, scores in [0, 1.1], no
negative cost) or raise the package's own ``GeoRankError`` with a one-line message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import costs, score
from geo.errors import GeoRankError

FUZZ = settings(max_examples=1000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

COLUMNS = ("site_id", "poi_sub_id", "poi_name", "poi_voltage_kv", "tie_distance_km",
           "interconnect", "subdivision", "hosting_mw", "land_price_usd_per_acre",
           "redundancy", "backbone_km", "hydro_mw_within_100km", "gas_field", "gas_field_km",
           "existing_site", "serves_load", "land_price_note", "firm_mw", "existing_mw")

value = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9),
    st.text(max_size=6), st.booleans(), st.sampled_from(["N+1", "radial", "isolated",
                                                           "Western", "US-TX", "A"]),
)


@st.composite
def tables(draw):
    n = draw(st.integers(0, 6))
    cols = draw(st.lists(st.sampled_from(COLUMNS), unique=True,
                         min_size=draw(st.integers(0, len(COLUMNS)))))
    return pd.DataFrame({c: draw(st.lists(value, min_size=n, max_size=n)) for c in cols},
                        index=range(n))


@FUZZ
@given(tables(), st.sampled_from([0.5, 100.0, 300.0, 1_000.0]))
def test_any_table_ranks_or_fails_cleanly(table, load):
    try:
        ranked = score.rank(costs.estimate(table, load), load)
    except GeoRankError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    n = len(table)
    assert ranked["rank"].tolist() == list(range(1, n + 1))
    tiers = ranked["tier"].tolist()
    assert tiers == sorted(tiers) and set(tiers) <= set(score.TIERS)
    assert ranked["score"].between(0, 1.1).all() and ranked["power_score"].between(0, 1).all()
    for name in ("interconnection_cost_musd", "cost_of_power_musd", "delay_cost_musd"):
        cost = ranked[name].dropna()
        assert (cost >= 0).all() and np.isfinite(cost).all(), name
    months = ranked["time_to_power_months"].dropna()
    assert (months >= 0).all() and np.isfinite(months).all()
    assert ranked["reasons"].map(lambda r: isinstance(r, str) and r.startswith("Tier")).all()
