"""geo.costs: hand-computed interconnection capital, land cost and the cost tables.

The power paths, their months and the money columns are worked by hand in test_power.py.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import costs
from geo.errors import LayerValidationError, SettingsError
from geo.settings import Settings

LOAD = 300.0  # MW: at 230 kV one 400 MW circuit plus one for N-1 supply
KM_20_MILES = 20.0 * costs.KM_PER_MILE
ESC = 1.7  # capex_escalation_from_2019
#: Circuits at 230 kV for 300 MW: 1 + 1 (N-1 supply)
N = 2


def _site(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "site_id": "s",
        "poi_sub_id": "p",
        "poi_voltage_kv": 230.0,
        "tie_distance_km": 3.0,
        "interconnect": "Eastern",
        "subdivision": "US-IA",
        "hosting_mw": 500.0,
        "firm_mw": 500.0,
        "land_price_usd_per_acre": 10_000.0,
        "existing_site": False,
        "gas_field": None,
        "gas_field_km": None,
    }
    row.update(overrides)
    return row


def _frame(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


# Hand computation, 300 MW at 230 kV -> 400 MW class, 2 circuits; miles = km / 1.609344;
# everything x 1.7 (2019 USD escalated).
#   MISO  3 km: 1,694,747 USD/mi * 1.864114 mi * 1.5 (under 3 mi) * 2 = 9.477602 MUSD (2019)
#   MISO 20 km: 1,694,747 USD/mi * 12.427424 mi * 1.0 * 2           = 42.122678
#   TEPPC 3 km: 1,579,572 * 1.864114 * 1.5 * 2                      = 8.833504
#   TEPPC 20 km: 1,579,572 * 12.427424 * 1.0 * 2                    = 39.260022
# 230 kV bay: MISO 2.2, TEPPC 5.5 MUSD; transformer 7,110 USD/MW * 300 MW = 2.133 MUSD.
HAND = [
    # interconnect, subdivision, km, region, tie, bay, transformer (2019 MUSD)
    ("Eastern", "US-IA", 3.0, "MISO", 9.477602, 2.2, 2.133),
    ("Eastern", "US-IA", 20.0, "MISO", 42.122678, 2.2, 2.133),
    ("Western", "US-CO", 3.0, "TEPPC", 8.833504, 5.5, 2.133),
    ("Western", "US-CO", 20.0, "TEPPC", 39.260022, 5.5, 2.133),
]


@pytest.mark.parametrize(
    ("interconnect", "subdivision", "km", "region", "tie", "sub", "xfmr"), HAND
)
def test_hand_computed_costs(interconnect, subdivision, km, region, tie, sub, xfmr) -> None:
    out = costs.estimate(_frame(_site(interconnect=interconnect, subdivision=subdivision,
                                      tie_distance_km=km)), LOAD).iloc[0]
    assert out["cost_region"] == region
    assert out["tie_cost_musd"] == pytest.approx(tie * ESC, abs=1e-5)
    assert out["substation_cost_musd"] == pytest.approx(sub * ESC)
    assert out["transformer_cost_musd"] == pytest.approx(xfmr * ESC)
    assert out["interconnection_cost_musd"] == pytest.approx((tie + sub + xfmr) * ESC, abs=1e-5)


def test_hand_computed_land_and_time() -> None:
    out = costs.estimate(
        _frame(_site(tie_distance_km=20.0, land_price_usd_per_acre=2_970.0)), LOAD
    ).iloc[0]
    assert out["acres_needed"] == pytest.approx(225.0)  # 0.75 acre/MW * 300 MW
    assert out["land_cost_musd"] == pytest.approx(225.0 * 2_970.0 / 1e6)  # 0.66825
    # study 12 + tie (11.6 + 0.39 x 20 + certificate 12 = 31.4) = 43.4
    assert out["time_to_power_months"] == pytest.approx(43.4)


@pytest.mark.parametrize(
    ("km", "multiplier"),
    [(0.0, 1.5), (4.8, 1.5), (4.83, 1.2), (16.0, 1.2), (16.1, 1.0), (80.0, 1.0)],
)
def test_spur_multiplier_breakpoints(km: float, multiplier: float) -> None:
    # 3 miles = 4.828 km, 10 miles = 16.093 km
    out = costs.estimate(_frame(_site(tie_distance_km=km)), LOAD).iloc[0]
    expected = 1_694_747.0 * km / costs.KM_PER_MILE * multiplier * N / 1e6 * ESC
    assert out["tie_cost_musd"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("load", "per_mile", "circuits"),
    [
        # 500 kV: up to 3,000 MW a circuit; the class holds each circuit's share
        (50.0, 1_254_921.0, 2),
        (102.0, 1_254_921.0, 2),
        (103.0, 1_446_469.0, 2),
        (400.0, 1_694_747.0, 2),
        (1_500.0, 2_787_303.0, 2),
        (1_501.0, 2_306_137.0, 2),
        (4_000.0, 2_306_137.0, 3),  # 2 circuits of 2,000 MW (3,000 MW class) + 1 spare
    ],
)
def test_capacity_class(load: float, per_mile: float, circuits: int) -> None:
    site = _site(tie_distance_km=KM_20_MILES, poi_voltage_kv=500.0, firm_mw=5_000.0)
    out = costs.estimate(_frame(site), load).iloc[0]
    assert out["tie_circuits"] == circuits
    assert out["tie_cost_musd"] == pytest.approx(per_mile * 20.0 * circuits / 1e6 * ESC)


@pytest.mark.parametrize(
    ("subdivision", "interconnect", "region"),
    [
        ("US-GA", "Eastern", "Southeast"),
        ("US-TN", "Eastern", "Southeast"),
        ("US-TX", "Texas", "MISO"),
        ("US-VA", "Eastern", "MISO"),
        ("US-CA", "Western", "TEPPC"),
        ("US-TX", "Western", "TEPPC"),  # El Paso: Western Interconnection wins
        (None, None, "MISO"),
        ("NO-03", None, "MISO"),
    ],
)
def test_region_mapping(subdivision: str | None, interconnect: str | None, region: str) -> None:
    out = costs.estimate(
        _frame(_site(subdivision=subdivision, interconnect=interconnect)), LOAD
    ).iloc[0]
    assert out["cost_region"] == region


def test_southeast_tie_cost() -> None:
    out = costs.estimate(
        _frame(_site(subdivision="US-GA", tie_distance_km=KM_20_MILES)), LOAD
    ).iloc[0]
    assert out["tie_cost_musd"] == pytest.approx(1_567_655.0 * 20 * N / 1e6 * ESC)


@pytest.mark.parametrize(
    ("kv", "sub", "per_mw"),
    [
        (34.5, 1.1, 4_720.0),
        (69.0, 1.1, 4_720.0),
        (115.0, 1.1, 4_720.0),
        (138.0, 1.6, 5_790.0),
        (161.0, 1.6, 5_790.0),
        (230.0, 2.2, 7_110.0),
        (345.0, 3.52, 8_670.0),
        (500.0, 5.3, 11_610.0),
        (765.0, 5.3, 11_610.0),
    ],
)
def test_voltage_class_nearest_lower(kv: float, sub: float, per_mw: float) -> None:
    out = costs.estimate(_frame(_site(poi_voltage_kv=kv)), LOAD).iloc[0]
    assert out["substation_cost_musd"] == pytest.approx(sub * ESC)
    assert out["transformer_cost_musd"] == pytest.approx(per_mw * LOAD / 1e6 * ESC)


def test_no_poi_rows_have_null_costs_and_time() -> None:
    out = costs.estimate(
        _frame(_site(poi_sub_id=None, tie_distance_km=None, poi_voltage_kv=None)), LOAD
    ).iloc[0]
    for column in (
        "tie_cost_musd",
        "substation_cost_musd",
        "transformer_cost_musd",
        "interconnection_cost_musd",
        "time_to_power_months",
    ):
        assert math.isnan(out[column]), column
    # land does not need a POI
    assert out["land_cost_musd"] == pytest.approx(2.25)


def test_unknown_voltage_leaves_total_null() -> None:
    out = costs.estimate(_frame(_site(poi_voltage_kv=None)), LOAD).iloc[0]
    assert out["tie_cost_musd"] > 0
    assert math.isnan(out["interconnection_cost_musd"])


def test_existing_site_column_is_optional() -> None:
    site = _site()
    del site["existing_site"]
    out = costs.estimate(_frame(site), LOAD)
    # 3 km tie: 12 + 11.6 + 0.39 x 3 = 24.77, inside the campus transformers' 34.6
    assert out["time_to_power_months"].iloc[0] == pytest.approx(34.6)


def test_geodataframe_in_geodataframe_out() -> None:
    frame = gpd.GeoDataFrame(_frame(_site(), _site(site_id="t")), geometry=[Point(0, 0)] * 2)
    frame = frame.set_crs("EPSG:4326")
    out = costs.estimate(frame, LOAD)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs == frame.crs
    assert list(out.index) == list(frame.index)
    assert set(costs.COST_COLUMNS) <= set(out.columns)
    assert "cost_region" not in frame.columns  # input untouched


def test_settings_override_costs() -> None:
    settings = Settings().replace(
        tie_cost_usd_per_mile_miso=[1.0e6] * 5,
        spur_multipliers=[1.0, 1.0, 1.0],
        acres_per_mw=1.0,
        capex_escalation_from_2019=1.0,
        tie_n1_supply=False,
    )
    out = costs.estimate(_frame(_site(tie_distance_km=KM_20_MILES)), LOAD, settings).iloc[0]
    assert out["tie_cost_musd"] == pytest.approx(20.0)
    assert out["acres_needed"] == pytest.approx(300.0)


def test_vectorised_over_many_rows() -> None:
    rng = np.random.default_rng(0)
    n = 5_000
    frame = pd.DataFrame(
        {
            "poi_sub_id": np.where(rng.random(n) < 0.1, None, "p"),
            "poi_voltage_kv": rng.choice([69.0, 138.0, 230.0, 345.0, 500.0], n),
            "tie_distance_km": rng.uniform(0, 50, n),
            "interconnect": rng.choice(["Eastern", "Western", "Texas"], n),
            "subdivision": rng.choice(["US-GA", "US-IA", "US-TX"], n),
            "hosting_mw": rng.uniform(0, 1000, n),
            "firm_mw": rng.uniform(0, 1000, n),
            "gas_field": None,
            "gas_field_km": None,
            "land_price_usd_per_acre": rng.uniform(500, 20_000, n),
        }
    )
    out = costs.estimate(frame, LOAD)
    has_poi = frame["poi_sub_id"].notna()
    assert out.loc[has_poi, "interconnection_cost_musd"].notna().all()
    assert out.loc[~has_poi, "interconnection_cost_musd"].isna().all()


@pytest.mark.parametrize("load", [0.0, -5.0, float("nan"), float("inf"), 1e6, "a lot"])
def test_bad_load_raises(load: object) -> None:
    with pytest.raises(SettingsError, match=r"^--load-mw "):
        costs.estimate(_frame(_site()), load)  # type: ignore[arg-type]


def test_inconsistent_tables_are_reported_together() -> None:
    settings = Settings().replace(
        tie_cost_usd_per_mile_teppc=[1.0, 2.0], spur_multipliers=[1.5, 1.0]
    )
    with pytest.raises(SettingsError) as err:
        costs.estimate(_frame(_site()), LOAD, settings)
    assert "tie_cost_usd_per_mile_teppc" in str(err.value)
    assert "spur_multipliers" in str(err.value)


def test_circuit_table_settings_must_fit() -> None:
    settings = Settings().replace(tie_circuit_mw=[100.0], new_substation_cost_musd=[1.0])
    with pytest.raises(SettingsError) as err:
        costs.estimate(_frame(_site()), LOAD, settings)
    assert "tie_circuit_mw needs one value per tie_circuit_kv (7)" in str(err.value)
    assert "new_substation_cost_musd needs one value per substation_classes_kv" in str(err.value)


def test_retired_time_settings_say_why() -> None:
    with pytest.raises(SettingsError, match=r"time_new_months = 40\.0 is no longer a setting"):
        Settings().replace(time_new_months=40.0)


def test_numeric_table_settings_are_type_checked() -> None:
    with pytest.raises(SettingsError, match="spur_multipliers"):
        Settings().replace(spur_multipliers=["high"])
    with pytest.raises(SettingsError, match="substation_upgrade_cost_musd"):
        Settings().replace(substation_upgrade_cost_musd=[1.0, -2.0])


def test_missing_columns_are_listed() -> None:
    with pytest.raises(LayerValidationError, match="firm_mw, land_price_usd_per_acre"):
        costs.estimate(
            _frame(_site()).drop(columns=["firm_mw", "land_price_usd_per_acre"]), LOAD
        )


def test_region_table_is_cost_region_of_every_pair() -> None:
    # nulls on both sides, a Southeast state, TEPPC winning over the Southeast
    area = np.array(["US-TN", None, "US-TX", "US-TN", np.nan, "US-GA"], dtype=object)
    inter = np.array(["Western", "Eastern", None, "ERCOT", "Eastern"], dtype=object)
    site_code, poi_code, table = costs.region_table(area, inter, Settings())
    i, j = np.meshgrid(np.arange(len(area)), np.arange(len(inter)), indexing="ij")
    i, j = i.ravel(), j.ravel()
    plain = costs.cost_region({"poi_sub_id": np.ones(len(i)), "subdivision": area[i],
                               "interconnect": inter[j]}, Settings())
    assert table[site_code[i], poi_code[j]].tolist() == plain.tolist()
    assert set(plain) == {"MISO", "Southeast", "TEPPC"}


def test_early_power_counts_delay_only_for_the_mw_still_waiting() -> None:
    """Issue 30: an energized site (200 MW reused in 12 months) was charged delay for the
    whole 300 MW over the whole wait. By hand: carrying cost 11.7 M USD/MW x 300 MW x 7.1 %
    / 12 = 20.7675 M USD a month; 200 MW wait 12 months and 100 MW wait the path's 84
    (firm 0 and hosting 0 at the POI: upgrades), so 200/300 x 12 + 100/300 x 84 = 36
    months of the whole load: 747.63 M USD (it was 84 x 20.7675 = 1,744.47)."""
    from tests.test_score import _rank, _site

    site = _site("abilene", subdivision="US-TX", interconnect="Texas", firm_mw=0.0,
                 hosting_mw=0.0, serves_load=False, redundancy="not N-1 secure",
                 existing_site=True, existing_mw=200.0)
    row = _rank(site).iloc[0]
    assert row["power_path"] == "energized"
    assert (row["first_power_mw"], row["first_power_months"]) == (200.0, 12.0)
    assert row["time_to_power_months"] == pytest.approx(84.0)
    assert row["delay_cost_musd"] == pytest.approx(36 * 20.7675)
    assert "delay 747.6 (200 MW wait 12 months, 100 MW 84 months)" in row["reasons"]
    # a path with no earlier phase still waits the full months for the whole load
    plain = _rank(_site("iowa")).iloc[0]
    assert plain["delay_cost_musd"] == pytest.approx(plain["time_to_power_months"] * 20.7675)


def test_pair_paths_are_grid_path_to_the_bit_on_random_pairs():
    """assign_poi's per-POI shortcut against grid_path over every pair: random POIs (some
    without firm, hosting or voltage) and ties (0 km, past the spur cutoffs and the
    certificate length) in the three cost regions, at a bay load and a station load."""
    from geo.costs import REGIONS, grid_path, pair_paths

    rng = np.random.default_rng(31)
    m = 40
    kv = rng.choice([69.0, 115.0, 138.0, 230.0, 345.0, 500.0, 765.0, np.nan], m)
    firm = np.where(rng.random(m) < 0.1, np.nan, rng.uniform(0, 1500, m))
    hosting = np.where(rng.random(m) < 0.1, np.nan, rng.uniform(0, 2000, m))
    pois = {"firm_mw": firm, "hosting_mw": hosting, "poi_voltage_kv": kv}
    n = 5000
    at = rng.integers(0, m, n)
    tie = np.where(rng.random(n) < 0.05, 0.0, rng.uniform(0, 120, n))
    region = rng.integers(0, len(REGIONS), n)
    for load in (150.0, 300.0, 1000.0):
        got = pair_paths(pois, at, tie, region, load, Settings())
        want = grid_path({"poi_sub_id": at, "firm_mw": firm[at], "hosting_mw": hosting[at],
                          "poi_voltage_kv": kv[at], "tie_distance_km": tie}, load, Settings(),
                         region=np.asarray(REGIONS, dtype=object)[region])
        np.testing.assert_array_equal(got["months"], want["months"])
        np.testing.assert_array_equal(got["capital"], want["capital"])
