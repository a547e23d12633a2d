"""Invariants of the power paths and the ranking, checked with hypothesis (issue 15).

* more firm MW never makes the months to power worse, nor the tier or the rank;
* more N-0 hosting never makes the months worse;
* a lower energy price never worsens the rank among sites with equal power facts;
* land never lifts a site across a tier;
* shuffling the input rows does not change the output.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import costs, power, prices, score
from geo.settings import Settings

SETTINGS = Settings()
TIER_INDEX = {t: i for i, t in enumerate(score.TIERS)}  # smaller is better

# Integers (as floats) draw much faster than st.floats and still hit every boundary that
# matters (firm vs the load, tie vs the certificate length, gas vs 10 km, ...).
_number = st.integers(0, 3_000).map(float)
_maybe_number = st.one_of(st.none(), _number)


@st.composite
def _site(draw: st.DrawFn) -> dict[str, object]:
    has_poi = draw(st.booleans())
    gas = draw(st.sampled_from([None, "Permian", "Haynesville"]))
    return {
        "poi_sub_id": draw(st.sampled_from(["P1", "P2", "P3"])) if has_poi else None,
        "poi_name": "SUB",
        "poi_voltage_kv": draw(st.sampled_from([None, 69.0, 138.0, 230.0, 345.0, 500.0])),
        "tie_distance_km": float(draw(st.integers(0, 50))) if has_poi else None,
        "interconnect": draw(st.sampled_from(["Eastern", "Western", "Texas", None])),
        "subdivision": draw(st.sampled_from(["US-TX", "US-GA", "US-CO", "US-WY", None])),
        "hosting_mw": draw(_maybe_number) if has_poi else None,
        "firm_mw": draw(_maybe_number) if has_poi else None,
        "hosting_source": "computed",
        "redundancy": draw(st.sampled_from(["N-1 secure", "not N-1 secure", None])),
        "hydro_mw_within_100km": draw(_number),
        "gas_field": gas,
        "gas_field_km": float(draw(st.integers(0, 30))) if gas else None,
        "land_price_usd_per_acre": draw(st.one_of(st.none(), st.integers(0, 200_000).map(float))),
        "land_price_note": "state average, 2025",
        "existing_site": draw(st.booleans()),
        "existing_mw": draw(st.one_of(st.none(), st.integers(0, 1_500).map(float))),
    }


@st.composite
def _sites(draw: st.DrawFn, min_size: int = 1) -> pd.DataFrame:
    rows = draw(st.lists(_site(), min_size=min_size, max_size=6))
    frame = pd.DataFrame(rows)
    frame.insert(0, "site_id", [f"s{i:02d}" for i in range(len(frame))])
    return frame


_load = st.integers(20, 2_000).map(float)


def _rank(frame: pd.DataFrame, load: float, s: Settings = SETTINGS) -> pd.DataFrame:
    return score.rank(costs.estimate(frame, load, s), load, s)


def _key(ranked: pd.DataFrame, site_id: str) -> tuple[int, int]:
    row = ranked.loc[ranked["site_id"] == site_id].iloc[0]
    return TIER_INDEX[row["tier"]], int(row["rank"])


@settings(max_examples=80, deadline=None)
@given(frame=_sites(), load=_load, data=st.data())
def test_shuffling_rows_does_not_change_the_output(
    frame: pd.DataFrame, load: float, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(frame))))
    before = _rank(frame, load)
    after = _rank(frame.iloc[list(order)].reset_index(drop=True), load)
    pd.testing.assert_frame_equal(before, after)


@settings(max_examples=100, deadline=None)
@given(frame=_sites(), load=_load, data=st.data())
def test_more_firm_never_worsens_months_tier_or_rank(
    frame: pd.DataFrame, load: float, data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(frame) - 1))
    site_id = frame.loc[i, "site_id"]
    more = frame.copy()
    base = frame.loc[i, "firm_mw"]
    base = 0.0 if base is None or pd.isna(base) else float(base)
    more.loc[i, "firm_mw"] = base + data.draw(st.integers(1, 2_000))
    before, after = _rank(frame, load), _rank(more, load)

    def months(ranked: pd.DataFrame) -> float:
        value = ranked.loc[ranked["site_id"] == site_id, "time_to_power_months"].iloc[0]
        return np.inf if pd.isna(value) else float(value)

    assert months(after) <= months(before)
    tier_before, rank_before = _key(before, site_id)
    tier_after, rank_after = _key(after, site_id)
    assert tier_after <= tier_before
    if tier_after == tier_before and months(after) == months(before):
        # same months: the cost of power and the firm key can only improve
        assert rank_after <= rank_before


@settings(max_examples=300, deadline=None)
@given(firm=st.lists(_number, min_size=2, max_size=2), load=_load,
       kv=st.sampled_from([69.0, 138.0, 230.0, 345.0, 500.0]),
       tie=st.integers(0, 60).map(float), need=st.one_of(st.none(), _number))
def test_grid_months_monotone_in_firm(firm, load, kv, tie, need) -> None:
    low, high = sorted(firm)
    data = {"poi_sub_id": np.array(["p", "p"], dtype=object),
            "firm_mw": np.array([low, high]), "poi_voltage_kv": np.array([kv, kv]),
            "tie_distance_km": np.array([tie, tie])}
    mw = np.full(2, load if need is None else min(need, load))
    months = power.grid_months(data, mw, load, SETTINGS)["months"]
    assert months[1] <= months[0]


@settings(max_examples=300, deadline=None)
@given(hosting=st.lists(_maybe_number, min_size=2, max_size=2), firm=_maybe_number,
       load=_load, kv=st.sampled_from([69.0, 138.0, 230.0, 345.0, 500.0]),
       tie=st.integers(0, 60).map(float))
def test_grid_months_monotone_in_n0_hosting(hosting, firm, load, kv, tie) -> None:
    low, high = sorted(hosting, key=lambda v: -1.0 if v is None else v)
    data = {"poi_sub_id": np.array(["p", "p"], dtype=object),
            "hosting_mw": np.array([low, high], dtype=object),
            "firm_mw": np.array([firm, firm], dtype=object),
            "poi_voltage_kv": np.array([kv, kv]), "tie_distance_km": np.array([tie, tie])}
    months = power.grid_months(data, np.full(2, load), load, SETTINGS)["months"]
    assert months[1] <= months[0]


@settings(max_examples=60, deadline=None)
@given(frame=_sites(min_size=2), load=_load, data=st.data())
def test_lower_energy_price_never_worsens_the_rank_among_equal_power_facts(
    frame: pd.DataFrame, load: float, data: st.DataObject
) -> None:
    # Every site gets the same power facts but the price of its own subdivision.
    first = frame.iloc[0]
    same = pd.DataFrame([first] * len(frame)).reset_index(drop=True)
    same["site_id"] = frame["site_id"].to_numpy()
    same["subdivision"] = [f"XX-{i}" for i in range(len(same))]
    same["land_price_usd_per_acre"] = frame["land_price_usd_per_acre"].to_numpy()
    price = data.draw(st.lists(st.integers(0, 300), min_size=len(same), max_size=len(same)))
    i = data.draw(st.integers(0, len(same) - 1))
    cheaper = list(price)
    cheaper[i] = data.draw(st.integers(0, price[i]))

    def ranked(values: list[int]) -> pd.DataFrame:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "prices.csv"
            rows = "".join(f"XX-{k},{v}\n" for k, v in enumerate(values))
            path.write_text("subdivision,price_usd_per_mwh\n" + rows)
            prices.read_table.cache_clear()
            out = _rank(same, load, SETTINGS.replace(electricity_prices_file=str(path)))
            prices.read_table.cache_clear()
            return out

    before, after = ranked(price), ranked(cheaper)
    site_id = same.loc[i, "site_id"]
    assert _key(after, site_id)[1] <= _key(before, site_id)[1]
    # and among them the order follows the price whenever the path pays it
    if (before["power_path"] != "gas").all() and before["cost_of_power_musd"].notna().all():
        order = before.sort_values("rank")
        paid = order["subdivision"].map(lambda c: price[int(c.split("-")[1])]).to_numpy()
        assert (np.diff(paid) >= 0).all()


@settings(max_examples=80, deadline=None)
@given(frame=_sites(min_size=2), load=_load, data=st.data())
def test_land_never_crosses_a_tier(
    frame: pd.DataFrame, load: float, data: st.DataObject
) -> None:
    cheap = frame.copy()
    i = data.draw(st.integers(0, len(frame) - 1))
    cheap.loc[i, "land_price_usd_per_acre"] = 0.0
    before, after = _rank(frame, load), _rank(cheap, load)
    for ranked in (before, after):
        tiers = [TIER_INDEX[t] for t in ranked["tier"]]
        assert tiers == sorted(tiers)
    # land changes no power fact
    cols = ["site_id", "tier", "time_to_power_months", "cost_of_power_musd", "power_path"]
    pd.testing.assert_frame_equal(before[cols].sort_values("site_id").reset_index(drop=True),
                                  after[cols].sort_values("site_id").reset_index(drop=True))
    # and only reorders sites of equal power facts
    site_id = frame.loc[i, "site_id"]
    b, a = _key(before, site_id), _key(after, site_id)
    assert a[0] == b[0]
    ahead = set(after.loc[after["rank"] < a[1], "site_id"]) ^ set(
        before.loc[before["rank"] < b[1], "site_id"])
    facts = before.set_index("site_id")[cols[1:]]
    for other in ahead:
        pd.testing.assert_series_equal(facts.loc[other], facts.loc[site_id], check_names=False)


@settings(max_examples=60, deadline=None)
@given(frame=_sites(min_size=2), load=_load)
def test_a_shared_score_means_equal_power_facts(frame: pd.DataFrame, load: float) -> None:
    ranked = _rank(frame, load)
    facts = ranked[["tier", "power_path", "time_to_power_months", "cost_of_power_musd",
                    "firm_mw"]].copy()
    firm = pd.to_numeric(facts["firm_mw"], errors="coerce")
    facts["firm_mw"] = firm.fillna(0.0).clip(lower=0.0)  # unknown firm counts as 0
    for _, group in ranked.groupby("score"):
        if len(group) > 1:
            assert len(facts.loc[group.index].round(6).drop_duplicates()) == 1
