"""geo.power and geo.costs: the three power paths, their months and money, by hand.

Every expected figure below is worked out from the default settings in the comments
(geo/settings.py names each default's source). Load 300 MW unless stated. ``S`` leaves out
the campus's own transformers (``campus_transformer_lead_months = 0``) so that each case
shows the element it is about; their lead time is tested with the defaults (``DEFAULT``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geo import costs, power, prices
from geo.errors import LayerValidationError
from geo.settings import Settings

LOAD = 300.0
S = Settings(campus_transformer_lead_months=0.0)
DEFAULT = Settings()
ESC = 1.7  # capex_escalation_from_2019
# Carrying cost per month: 11.7 M USD/MW x 300 MW x 7.1 % / 12 = 20.7675 M USD
CARRY = 11.7 * 300 * 0.071 / 12
# A year at 80 % of 300 MW: 2,102,400 MWh
MWH = 300 * 0.8 * 8760


def _site(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "site_id": "s", "poi_sub_id": "p", "poi_voltage_kv": 345.0, "tie_distance_km": 1.0,
        "interconnect": "Eastern", "subdivision": "US-IA", "hosting_mw": 900.0,
        "firm_mw": 600.0, "redundancy": "N-1 secure", "land_price_usd_per_acre": 5_000.0,
        "gas_field": None, "gas_field_km": None,
    }
    row.update(overrides)
    return row


def _one(load: float = LOAD, settings: Settings = S, **overrides: object) -> pd.Series:
    return costs.estimate(pd.DataFrame([_site(**overrides)]), load, settings).iloc[0]


# --- the grid path: months -----------------------------------------------------------------
@pytest.mark.parametrize(("overrides", "months", "binding", "first"), [
    # the default site: study 12 + bay 12 = 24 < the campus transformers' 34.6 from month 0
    ({}, 34.6, "campus transformers", 34.6),
    # a 20 km tie: 12 + 31.4 = 43.4 outlasts them
    ({"tie_distance_km": 20.0}, 43.4, "tie line", 43.4),
    # firm 150 of 300: upgrades 12 + 27 = 39 bind; first power (150 MW) waits for the
    # transformers: max(18, 12 + 12, 34.6) = 34.6
    ({"firm_mw": 150.0}, 39.0, "network upgrades", 34.6),
])
def test_the_campus_transformers_run_from_month_0(overrides, months, binding, first) -> None:
    out = _one(settings=DEFAULT, **overrides)
    assert out["grid_months"] == pytest.approx(months)
    assert out["power_binding"] == binding
    assert out["first_power_months"] == pytest.approx(first)


def test_an_energized_substation_that_covers_the_load_needs_no_campus_transformers() -> None:
    # existing_mw 300 covers the load: its grid path is 24 months (study + bay), no lead
    covered = _one(settings=DEFAULT, existing_mw=300.0)
    assert covered["grid_months"] == pytest.approx(24.0)
    # existing_mw 100: the other 200 MW need new transformers: 34.6 on the grid path and
    # for the energized path's remainder (12 for the first 100 MW)
    part = _one(settings=DEFAULT, existing_mw=100.0)
    assert part["grid_months"] == pytest.approx(34.6)
    assert part["energized_months"] == pytest.approx(34.6)
    assert part["first_power_mw"] == 100.0 and part["first_power_months"] == 12.0


@pytest.mark.parametrize(("overrides", "load", "months", "binding"), [
    # firm covers the load, 345 kV fits 300 MW, bay (300 <= 500 MW), 1 km tie:
    # study 12 + max(bay 12, tie 11.6 + 0.39 x 1 = 11.99) = 24 > campus 18
    ({}, LOAD, 24.0, "POI bay"),
    # a 3 km tie: 11.6 + 1.17 = 12.77 > bay 12; 12 + 12.77 = 24.77
    ({"tie_distance_km": 3.0}, LOAD, 24.77, "tie line"),
    # a 20 km tie: 11.6 + 7.8 + certificate 12 (beyond 8.05 km) = 31.4; 12 + 31.4 = 43.4
    ({"tie_distance_km": 20.0}, LOAD, 43.4, "tie line"),
    # 8.05 km exactly: no certificate: 11.6 + 3.1395 = 14.7395; 26.7395
    ({"tie_distance_km": 8.05}, LOAD, 26.7395, "tie line"),
    # firm 150 of 300: upgrades 18 + 18 x 0.5 = 27; 12 + 27 = 39
    ({"firm_mw": 150.0}, LOAD, 39.0, "network upgrades"),
    # firm unknown counts as 0: 18 + 18 = 36; 48
    ({"firm_mw": None}, LOAD, 48.0, "network upgrades"),
    # firm 0 and the intact network hosts 150 of 300 MW too: + 36 x 0.5 -> 54; 66
    ({"firm_mw": 0.0, "hosting_mw": 150.0}, LOAD, 66.0, "network upgrades"),
    # neither N-0 nor N-1 hosts any of it: 18 + 18 + 36 = 72; 84 (Dominion's 7 years)
    ({"firm_mw": 0.0, "hosting_mw": 0.0}, LOAD, 84.0, "network upgrades"),
    # hosting unknown counts as the firm figure: firm 150 -> N-0 short 0.5 too: 18 + 9 + 18
    ({"firm_mw": 150.0, "hosting_mw": None}, LOAD, 57.0, "network upgrades"),
    # 138 kV for 300 MW (needs 230 kV): a large transformer, 34.6 months; 46.6
    ({"poi_voltage_kv": 138.0}, LOAD, 46.6, "large transformer"),
    # 600 MW with firm 900: a new switching station (600 > 500 MW), 24; 36
    ({"firm_mw": 900.0}, 600.0, 36.0, "new switching station"),
    # study and works shorter than the campus: campus build binds
    ({"tie_distance_km": 0.0}, LOAD, 24.0, "POI bay"),
])
def test_grid_months_by_hand(overrides, load, months, binding) -> None:
    out = _one(load=load, **overrides)
    assert out["grid_months"] == pytest.approx(months)
    assert out["power_path"] == "grid"
    assert out["time_to_power_months"] == pytest.approx(months)
    assert out["power_binding"] == binding


def test_campus_build_binds_when_the_grid_is_quicker() -> None:
    fast = S.replace(study_months=0.0, poi_bay_months=6.0)
    out = _one(settings=fast)  # 0 + max(6, 11.99) = 11.99 < campus 18
    assert out["time_to_power_months"] == 18.0
    assert out["power_binding"] == "campus build"


def test_first_phase_is_the_firm_mw_before_the_upgrades() -> None:
    out = _one(firm_mw=150.0)
    # the works but the upgrades: 12 + max(bay 12, tie 11.99) = 24
    assert out["first_power_mw"] == 150.0 and out["first_power_months"] == 24.0
    assert out["network_upgrades"]


# --- the grid path: money --------------------------------------------------------------------
def test_interconnection_capital_by_hand() -> None:
    out = _one()
    miles = 1.0 / 1.609344
    # 345 kV carries 750 MW per circuit (reVX power_to_voltage): 1 circuit + 1 for N-1;
    # each carries 300 MW -> 400 MW class, MISO 1,694,747 USD/mile; spur x1.5 (< 3 miles)
    tie = 1_694_747.0 * miles * 1.5 * 2 / 1e6 * ESC
    bay = 3.52 * ESC  # MISO upgrade-substation cost, 345 kV (interpolated)
    xfmr = 8_670.0 * 300 / 1e6 * ESC
    assert out["tie_circuits"] == 2
    assert out["tie_cost_musd"] == pytest.approx(tie)
    assert out["substation_cost_musd"] == pytest.approx(bay)
    assert out["transformer_cost_musd"] == pytest.approx(xfmr)
    assert out["interconnection_cost_musd"] == pytest.approx(tie + bay + xfmr)
    assert out["poi_works"] == "bay"
    # delay 24 months x 20.7675; energy: Iowa 6.91 c/kWh = 69.1 USD/MWh (EIA 2023)
    assert out["delay_cost_musd"] == pytest.approx(24 * CARRY)  # 498.42
    assert out["energy_price_usd_per_mwh"] == pytest.approx(69.1)
    assert out["energy_price_note"] == "EIA 2023"
    assert out["energy_cost_musd_per_year"] == pytest.approx(MWH * 69.1 / 1e6)  # 145.28
    assert out["cost_of_power_musd"] == pytest.approx(
        tie + bay + xfmr + 24 * CARRY + 10 * MWH * 69.1 / 1e6)


@pytest.mark.parametrize(("kv", "load", "circuits", "per_mile"), [
    (138.0, 300.0, 3, 1_446_469.0),   # 205 MW a circuit: 2 + 1; 150 MW each -> 205 class
    (230.0, 300.0, 2, 1_694_747.0),   # 400 MW a circuit: 1 + 1; 400 class
    (500.0, 1_000.0, 2, 2_787_303.0),  # 3,000 MW a circuit: 1 + 1; 1,000 MW -> 1,500 class
    (500.0, 2_000.0, 2, 2_306_137.0),  # 2,000 MW -> reVX's 3,000 MW class
    (230.0, 1_000.0, 4, 1_694_747.0),  # 3 + 1 circuits of 333 MW -> 400 class
])
def test_tie_sized_by_poi_voltage_and_load(kv, load, circuits, per_mile) -> None:
    out = _one(load=load, poi_voltage_kv=kv, tie_distance_km=32.18688, firm_mw=5_000.0)
    assert out["tie_circuits"] == circuits
    assert out["tie_cost_musd"] == pytest.approx(per_mile * 20 * circuits / 1e6 * ESC)


def test_one_circuit_without_n1_supply() -> None:
    out = _one(settings=S.replace(tie_n1_supply=False))
    assert out["tie_circuits"] == 1


@pytest.mark.parametrize(("subdivision", "interconnect", "bay", "station"), [
    ("US-IA", "Eastern", 3.52, 14.21), ("US-GA", "Eastern", 4.82, 11.96),
    ("US-CO", "Western", 7.52, 11.86)])
def test_poi_works_by_region(subdivision, interconnect, bay, station) -> None:
    small = _one(subdivision=subdivision, interconnect=interconnect)
    big = _one(load=600.0, subdivision=subdivision, interconnect=interconnect, firm_mw=900.0)
    assert small["substation_cost_musd"] == pytest.approx(bay * ESC)
    assert big["substation_cost_musd"] == pytest.approx(station * ESC)
    assert big["poi_works"] == "switching station"


# --- the energized path ------------------------------------------------------------------------
def test_energized_site_covering_the_load_takes_12_months_and_no_tie() -> None:
    out = _one(existing_mw=300.0, firm_mw=0.0)
    assert out["power_path"] == "energized"
    assert out["time_to_power_months"] == 12.0
    assert out["path_capex_musd"] == 0.0
    assert out["first_power_mw"] == 300.0 and out["first_power_months"] == 12.0
    assert out["power_binding"] == "energized reuse"
    assert out["delay_cost_musd"] == pytest.approx(12 * CARRY)
    assert not out["network_upgrades"]


def test_energized_part_then_the_grid_for_the_rest() -> None:
    out = _one(existing_mw=200.0, firm_mw=50.0)
    # the rest, 100 MW, by the grid: firm 50 -> upgrades 18 + 18 x 0.5 = 27; 12 + 27 = 39
    assert out["energized_months"] == 39.0
    assert out["grid_months"] == pytest.approx(12 + 18 + 18 * (1 - 50 / 300))  # 45
    assert out["power_path"] == "energized"
    assert out["first_power_mw"] == 200.0 and out["first_power_months"] == 12.0
    # capital for 100 MW only: 345 kV, 1 + 1 circuits of the 102 MW class... 100 MW -> 102
    miles = 1.0 / 1.609344
    tie = 1_254_921.0 * miles * 1.5 * 2 / 1e6 * ESC
    xfmr = 8_670.0 * 100 / 1e6 * ESC
    assert out["path_capex_musd"] == pytest.approx(tie + 3.52 * ESC + xfmr)


def test_existing_site_without_existing_mw_has_no_energized_path() -> None:
    out = _one(existing_site=True)
    assert np.isnan(out["energized_months"]) and out["power_path"] == "grid"


# --- the gas path --------------------------------------------------------------------------------
def test_gas_path_by_hand() -> None:
    out = _one(poi_sub_id=None, poi_voltage_kv=None, tie_distance_km=None, firm_mw=None,
               gas_field="Permian", gas_field_km=0.0)
    # lead 24 + install 6 = 30 > campus 18
    assert out["power_path"] == "gas" and out["time_to_power_months"] == 30.0
    units = math.ceil(300 / 53) + 1  # 7 (N+1)
    capex = units * 53 * 1_000 * 2_275 / 1e6 + (0 + 10) * 2.5  # 844.025 + 25
    assert out["gas_capex_musd"] == pytest.approx(capex)
    fuel = MWH * 9_447 / 1e3 * 3.5 / 1e6  # 69.5148 M USD/year (EIA AEO2026 heat rate)
    # O&M: 5.97 USD/MWh on the energy + 9.99 USD/kW-year on 7 x 53 MW installed
    om = (MWH * 5.97 + units * 53 * 1_000 * 9.99) / 1e6  # 12.5513 + 3.7063 M USD/year
    assert out["energy_cost_musd_per_year"] == pytest.approx(fuel + om)
    assert np.isnan(out["energy_price_usd_per_mwh"])
    assert out["cost_of_power_musd"] == pytest.approx(capex + 30 * CARRY + 10 * (fuel + om))


def test_both_paths_wait_for_the_transformers() -> None:
    # campus_transformer_lead_months (34.6, from month 0) binds the gas path as it binds the
    # grid path (max(18, 24 + 6, 34.6)): the lead does not tip the choice between them
    lead = S.replace(campus_transformer_lead_months=34.6)
    out = _one(settings=lead, gas_field="Permian", gas_field_km=0.0)
    assert out["gas_months"] == 34.6 and out["grid_months"] == 34.6
    alone = _one(settings=lead, poi_sub_id=None, poi_voltage_kv=None, tie_distance_km=None,
                 firm_mw=None, gas_field="Permian", gas_field_km=0.0)
    assert alone["power_path"] == "gas" and alone["power_binding"] == "campus transformers"


@pytest.mark.parametrize(("km", "possible"), [(10.0, True), (10.5, False)])
def test_gas_only_near_a_basin(km, possible) -> None:
    out = _one(gas_field="Permian", gas_field_km=km)
    assert np.isnan(out["gas_months"]) is not possible


def test_no_gas_layer_no_poi_no_path() -> None:
    out = _one(poi_sub_id=None, tie_distance_km=None)
    assert out["power_path"] is None and np.isnan(out["time_to_power_months"])
    assert np.isnan(out["cost_of_power_musd"])


def test_fastest_path_wins_and_months_beat_money() -> None:
    # grid 48 months (firm 0) against gas 30: gas, though its capital is far larger
    out = _one(firm_mw=0.0, gas_field="Permian", gas_field_km=0.0)
    assert out["power_path"] == "gas"
    assert out["grid_months"] == 48.0


# --- monotone in firm MW -----------------------------------------------------------------------
def test_more_firm_never_more_months() -> None:
    firm = np.linspace(0, 700, 71)
    data = {k: np.repeat(np.asarray([v], dtype=object), len(firm))
            for k, v in _site().items()}
    data["firm_mw"] = firm
    data["poi_voltage_kv"] = np.full(len(firm), 345.0)
    data["tie_distance_km"] = np.full(len(firm), 1.0)
    months = power.grid_months(data, np.full(len(firm), LOAD), LOAD, S)["months"]
    assert (np.diff(months) <= 0).all()
    assert months[0] == 48.0 and months[-1] == 24.0


def test_more_n0_hosting_never_more_months() -> None:
    hosting = np.linspace(0, 700, 71)
    data = {k: np.repeat(np.asarray([v], dtype=object), len(hosting))
            for k, v in _site().items()}
    data["hosting_mw"] = hosting
    data["firm_mw"] = np.zeros(len(hosting))
    months = power.grid_months(data, np.full(len(hosting), LOAD), LOAD, S)["months"]
    assert (np.diff(months) <= 0).all() and (np.diff(months[:31]) < 0).all()
    assert months[0] == 84.0 and months[30] == 48.0 and months[-1] == 48.0


# --- prices ------------------------------------------------------------------------------------
def test_every_state_has_a_price_and_wyoming_is_marked_estimated() -> None:
    table, notes = prices.read_table()
    assert len([code for code in table if code.startswith("US-")]) == 51  # 50 states and DC
    assert table["US-TX"] == pytest.approx(66.0) and notes["US-TX"] == "EIA 2023"
    assert notes["US-WY"] == "EIA 2023, estimated"


def test_user_price_table_and_default(tmp_path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("subdivision,price_usd_per_mwh\nNO-03,40\n")
    s = S.replace(electricity_prices_file=str(path), default_energy_price_usd_per_mwh=90.0)
    out = costs.estimate(pd.DataFrame([_site(subdivision="NO-03"), _site(site_id="t")]), LOAD, s)
    assert out["energy_price_usd_per_mwh"].tolist() == [40.0, 90.0]
    assert out["energy_price_note"].tolist() == [
        "user table prices.csv", "default_energy_price_usd_per_mwh setting"]


def test_unknown_price_leaves_cost_of_power_null() -> None:
    out = _one(subdivision="NO-03")
    assert np.isnan(out["energy_cost_musd_per_year"]) and np.isnan(out["cost_of_power_musd"])
    assert out["time_to_power_months"] == 24.0


def test_price_table_build_matches_the_committed_file(tmp_path) -> None:
    from layers.build import electricity_prices as build
    from layers.paths import data_dir

    us, world = build.build(tmp_path, tmp_path)
    assert us.read_text() == (data_dir() / build.OUT).read_text()
    assert world.read_text() == (data_dir() / build.WORLD_OUT).read_text()


def test_outside_the_us_a_site_takes_its_province_then_its_country_price() -> None:
    # Hydro-Québec 2022 (Montréal, 5 MW at 25 kV): 5.33 CAD cents/kWh at 1.3014 CAD/USD
    # (Federal Reserve G.5A 2022) = 53.3 / 1.3014 = 40.96 USD/MWh; Statistics Norway Q4 2019
    # energy-intensive manufacturing: 31.8 ore/kWh at 8.8001 NOK/USD = 36.14 USD/MWh
    sites = pd.DataFrame([_site(subdivision="CA-QC", country_iso3="CAN"),
                          _site(site_id="n", subdivision=None, country_iso3="NOR"),
                          _site(site_id="a", subdivision="CA-AB", country_iso3="CAN"),
                          _site(site_id="t", subdivision="US-TX", country_iso3="USA")])
    out = costs.estimate(sites, LOAD, S)
    assert out["energy_price_usd_per_mwh"].tolist()[:2] == [40.96, 36.14]
    assert np.isnan(out["energy_price_usd_per_mwh"].iloc[2])       # Alberta: not in reach
    assert out["energy_price_usd_per_mwh"].iloc[3] == pytest.approx(66.0)
    assert out["energy_price_note"].tolist()[:2] == [
        "Hydro-Québec comparison 2022 (Montréal, 5 MW at 25 kV)",
        "Statistics Norway Q4 2019 (energy only, no grid rent or taxes)"]
    figures = prices.figures_outside_us(out)
    assert figures["electricity_price"].endswith(
        "at 2 of 3 sites, unknown at 1 (no published price in reach for their area)")
    assert figures["cost_tables"].startswith("US tables used as a proxy")
    assert prices.figures_outside_us(out.iloc[3:]) is None           # a US run: nothing


def test_prices_are_looked_up_once_per_distinct_subdivision_and_country(monkeypatch) -> None:
    # 4 distinct (subdivision, country) pairs over 4,000 rows, nulls as None and NaN alike
    sub = np.array(["US-TX", None, "CA-AB", np.nan] * 1000, dtype=object)
    country = np.array(["USA", "NOR", "CAN", "NOR"] * 1000, dtype=object)
    seen = []
    lookup = prices._lookup
    monkeypatch.setattr(prices, "_lookup", lambda *a: seen.append(len(a[0])) or lookup(*a))
    price, note = prices.lookup(sub, S, country)
    assert seen == [3]  # the two null subdivisions in Norway are one pair
    assert price[:4].tolist()[:2] == [66.0, 36.14] and np.isnan(price[2])
    assert note[:4].tolist() == ["EIA 2023",
                                 "Statistics Norway Q4 2019 (energy only, no grid rent or taxes)",
                                 None, note[1]]
    np.testing.assert_array_equal(price, np.tile(price[:4], 1000))
    assert note.dtype == object and note.tolist() == note[:4].tolist() * 1000
    price, note = prices.lookup(sub[:3], S)  # no country: by subdivision alone
    assert price[0] == 66.0 and np.isnan(price[1:]).all() and note.tolist()[1:] == [None] * 2


def test_world_price_table_refuses_a_bad_row_naming_its_line() -> None:
    from layers.build import electricity_prices as build

    table = pd.read_csv(build.WORLD_TABLE, dtype={"note": str})
    table.loc[0, "area"] = "US-TX"
    table.loc[1, "currency_per_usd"] = 0
    with pytest.raises(LayerValidationError) as err:
        build.check_world(table, source="w.csv")
    assert str(err.value) == (
        "w.csv: area is neither XX-YY (ISO 3166-2) nor XXX (ISO 3166-1 alpha-3) (lines 2); "
        "currency_per_usd not a number above 0 (lines 3)")


def test_price_table_build_refuses_an_estimate_without_a_note() -> None:
    from layers.build import electricity_prices as build

    table = pd.read_csv(build.TABLE, dtype={"note": str})
    table.loc[table["subdivision"] == "US-WY", "note"] = None
    table.loc[0, "cents_per_kwh"] = -1
    with pytest.raises(LayerValidationError) as err:
        build.check(table, source="t.csv")
    assert "an estimated row without a note (lines 52)" in str(err.value)
    assert "cents_per_kwh not a number above 0 (lines 2)" in str(err.value)


@pytest.mark.parametrize(("text", "message"), [
    ("region,price\nUS-TX,1\n", "missing column(s) subdivision, price_usd_per_mwh"),
    ("subdivision,price_usd_per_mwh\nUS-TX,-1\n", "price_usd_per_mwh is not a number >= 0"),
    ("subdivision,price_usd_per_mwh\nUS-TX,1\nUS-TX,2\n", "subdivision US-TX repeats"),
])
def test_bad_price_table_one_line(tmp_path, text, message) -> None:
    path = tmp_path / f"bad{abs(hash(text))}.csv"
    path.write_text(text)
    with pytest.raises(LayerValidationError) as err:
        _one(settings=S.replace(electricity_prices_file=str(path)))
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


# --- honesty in the outputs ------------------------------------------------------------------
def test_terminal_table_and_map_panel_say_the_grid_is_synthetic() -> None:
    from types import SimpleNamespace

    from geo.cli import tables as rank_command
    from geo.web import legend as _map_legend

    ranked = pd.DataFrame([_site()]).assign(rank=1, tier="A")
    shown = rank_command.table(SimpleNamespace(sites=ranked,
                                               provenance={"synthetic_grid": True}), 5)
    assert shown.splitlines()[0].startswith("grid: the embedded USA TAMU synthetic test system")
    plain = rank_command.table(SimpleNamespace(sites=ranked, provenance={}), 5)
    assert "synthetic" not in plain
    panel = _map_legend.panel("US-TX", {"synthetic_grid": True}, {})
    assert "grid: embedded synthetic test system (USA TAMU)" in panel
    assert "synthetic test" not in _map_legend.panel("US-TX", {}, {})


# --- a flexible load (--flexible) ----------------------------------------------------------------
FLEX = Settings(flexible_load=True, campus_transformer_lead_months=0.0)


@pytest.mark.parametrize(("overrides", "firm_months", "flexible_months", "binding"), [
    # firm 150 of 300, the intact network carries 900: firm power waits 12 + 18 + 9 = 39;
    # a flexible load has no upgrades (N-0 hosts it): study 12 + bay 12 = 24
    ({"firm_mw": 150.0}, 39.0, 24.0, "POI bay"),
    # firm 0, hosting 150: firm 12 + 18 + 18 + 18 = 66; flexible judged on N-0 as if firm
    # were 150: 12 + 18 + 9 + 36 x 0.5 = 57
    ({"firm_mw": 0.0, "hosting_mw": 150.0}, 66.0, 57.0, "network upgrades"),
    # firm covers the load: the same 24 months either way
    ({}, 24.0, 24.0, "POI bay"),
])
def test_a_flexible_load_is_judged_on_n0_hosting(overrides, firm_months, flexible_months,
                                                  binding) -> None:
    firm = _one(**overrides)
    flexible = _one(settings=FLEX, **overrides)
    assert firm["time_to_power_months"] == pytest.approx(firm_months)
    assert flexible["time_to_power_months"] == pytest.approx(flexible_months)
    assert flexible["power_binding"] == binding
    assert flexible["network_upgrades"] == (binding == "network upgrades")


def test_flexible_load_is_said_in_the_table_the_panel_and_the_reasons() -> None:
    from types import SimpleNamespace

    from geo import score
    from geo.cli import tables as rank_command
    from geo.web import legend as _map_legend

    ranked = pd.DataFrame([_site()]).assign(rank=1, tier="A")
    prov = {"synthetic_grid": True, "settings": {"flexible_load": True}}
    shown = rank_command.table(SimpleNamespace(sites=ranked, provenance=prov), 5)
    assert shown.splitlines()[0].startswith("load: flexible (--flexible): curtailed after an")
    assert shown.splitlines()[1].startswith("grid: the embedded USA TAMU synthetic")
    assert "flexible" not in rank_command.table(
        SimpleNamespace(sites=ranked, provenance={"settings": {"flexible_load": False}}), 5)
    assert "load: flexible" in _map_legend.panel("US-TX", prov, {})
    assert "flexible" not in _map_legend.panel("US-TX", {"settings": {}}, {})
    clause = "flexible load: months on N-0 hosting, curtailed after an outage"
    short = costs.estimate(pd.DataFrame([_site(firm_mw=150.0)]), LOAD, FLEX)
    assert clause in score.rank(short, LOAD, FLEX).loc[0, "reasons"]
    firm = costs.estimate(pd.DataFrame([_site()]), LOAD, FLEX)  # firm 600 >= 300
    assert clause not in score.rank(firm, LOAD, FLEX).loc[0, "reasons"]
    assert clause not in score.rank(costs.estimate(pd.DataFrame([_site(firm_mw=150.0)]), LOAD),
                                    LOAD).loc[0, "reasons"]
