"""geo.score: tier table, known scores, reasons text, ordering and one site per POI."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import costs, score
from geo.errors import LayerValidationError, SettingsError
from geo.settings import Settings

LOAD = 300.0


def _site(site_id: str = "s", **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "site_id": site_id,
        "poi_sub_id": "p-" + site_id,
        "poi_name": "POI " + site_id,
        "poi_voltage_kv": 345.0,
        "tie_distance_km": 3.0,
        "interconnect": "Eastern",
        "subdivision": "US-IA",
        "hosting_mw": 600.0,
        "hosting_source": "computed",
        "limiting_line_id": "l1",
        "serves_load": True,
        "redundancy": "N-1 secure",
        "backbone_km": 0.0,
        "hydro_mw_within_100km": 0.0,
        "nearest_hydro_km": None,
        "gas_field": None,
        "gas_field_km": None,
        "land_price_usd_per_acre": 5_000.0,
        "land_price_note": "state average, 2025",
        "existing_site": False,
    }
    row.update(overrides)
    return row


def _rank(*rows: dict[str, object], settings: Settings | None = None) -> pd.DataFrame:
    settings = settings or Settings()
    return score.rank(costs.estimate(pd.DataFrame(list(rows)), LOAD, settings), LOAD, settings)


# --- tiers -------------------------------------------------------------------------------
TIER_TABLE = [
    # hosting, redundancy, tie km, hydro MW, gas field, gas km, has POI, tier
    (300.0, "N-1 secure", 10.0, 0.0, None, None, True, "A"),  # exactly the load, tie at the limit
    (900.0, "N-1 secure", 10.1, 0.0, None, None, True, "B"),  # tie too long for A
    (900.0, "not N-1 secure", 1.0, 0.0, None, None, True, "B"),  # not N-1 secure
    (299.0, "N-1 secure", 1.0, 0.0, None, None, True, "C"),  # >= half the load
    (150.0, "not N-1 secure", 40.0, 0.0, None, None, True, "C"),  # exactly half
    (149.0, "N-1 secure", 1.0, 0.0, None, None, True, "D"),
    (100.0, "N-1 secure", 1.0, 300.0, None, None, True, "C"),  # hydro >= load
    (100.0, "N-1 secure", 1.0, 299.0, None, None, True, "D"),  # hydro short of the load
    (None, "isolated", 1.0, 0.0, "Permian", 0.0, True, "C"),  # inside a gas basin
    (None, "isolated", 1.0, 0.0, "Permian", 10.0, True, "C"),  # at the gas limit
    (None, "isolated", 1.0, 0.0, "Permian", 10.5, True, "D"),
    (None, "isolated", 1.0, 0.0, None, 0.0, True, "D"),  # distance without a basin name
    (None, "isolated", None, 5_000.0, "Permian", 0.0, False, "D"),  # no POI
    (5_000.0, "N-1 secure", None, 0.0, None, None, False, "D"),  # hosting without POI is ignored
]


@pytest.mark.parametrize(
    ("hosting", "redundancy", "tie", "hydro", "gas", "gas_km", "has_poi", "tier"), TIER_TABLE
)
def test_tier_table(
    hosting: float | None,
    redundancy: str,
    tie: float | None,
    hydro: float,
    gas: str | None,
    gas_km: float | None,
    has_poi: bool,
    tier: str,
) -> None:
    row = _site(
        hosting_mw=hosting,
        redundancy=redundancy,
        tie_distance_km=tie,
        hydro_mw_within_100km=hydro,
        gas_field=gas,
        gas_field_km=gas_km,
        serves_load=hosting is not None and hosting >= LOAD,
    )
    if not has_poi:
        row.update(poi_sub_id=None, poi_name=None, serves_load=False)
    out = _rank(row)
    assert out.loc[0, "tier"] == tier


def test_serves_load_is_recomputed(caplog: pytest.LogCaptureFixture) -> None:
    out = _rank(_site(hosting_mw=100.0, serves_load=True))
    assert not out.loc[0, "serves_load"]
    assert "serves_load disagreed" in caplog.text


# --- scores --------------------------------------------------------------------------------
def test_known_power_score() -> None:
    # 300 MW load, 600 MW hosting, 345 kV, 3 km MISO tie, N+1, no firm power.
    #   margin  min(600/300, 2)/2                        = 1.0    x 0.30
    #   cost    10.859801 MUSD / 300 MW = 36.20 USD/kW;
    #           1 - 36.199338/250                        = 0.855203 x 0.20
    #   voltage 345/500                                  = 0.69   x 0.10
    #   N+1                                              = 1.0    x 0.15
    #   time    18.3 months: 1 - (18.3-12)/(60-12)       = 0.86875 x 0.15
    #   firm                                             = 0      x 0.10
    expected = 0.30 + 0.20 * 0.855203 + 0.10 * 0.69 + 0.15 + 0.15 * 0.86875
    out = _rank(_site())
    assert out.loc[0, "power_score"] == pytest.approx(expected, abs=2e-6)  # 0.8192531
    # land: 5,000 USD/acre, log-linear from 1,000 (1) to 50,000 (0)
    land = 1 - np.log(5.0) / np.log(50.0)
    assert out.loc[0, "land_score"] == pytest.approx(land, abs=1e-6)  # 0.588592
    assert out.loc[0, "score"] == pytest.approx(expected + 0.1 * land, abs=3e-6)


@pytest.mark.parametrize(
    ("price", "land"), [(None, 0.5), (0.0, 1.0), (1_000.0, 1.0), (50_000.0, 0.0), (9e5, 0.0)]
)
def test_land_score_bounds_and_neutral_null(price: float | None, land: float) -> None:
    out = _rank(_site(land_price_usd_per_acre=price))
    assert out.loc[0, "land_score"] == pytest.approx(land)


def test_scores_in_unit_interval() -> None:
    rows = [
        _site("a", hosting_mw=1e6, hydro_mw_within_100km=1e6, poi_voltage_kv=765.0),
        _site("b", poi_sub_id=None, hosting_mw=None, tie_distance_km=None, poi_voltage_kv=None),
        _site("c", tie_distance_km=500.0, redundancy="isolated", hosting_mw=0.0),
    ]
    out = _rank(*rows)
    assert out["power_score"].between(0, 1).all()
    assert out["land_score"].between(0, 1).all()


# --- ordering ------------------------------------------------------------------------------
def test_land_never_lifts_a_site_across_tiers() -> None:
    good_power = _site("a", tie_distance_km=3.0, land_price_usd_per_acre=1e6)  # tier A, dear
    free_land = _site("b", tie_distance_km=11.0, land_price_usd_per_acre=0.0)  # tier B, free
    out = _rank(free_land, good_power)
    assert list(out["site_id"]) == ["a", "b"]
    assert list(out["tier"]) == ["A", "B"]


def test_land_breaks_near_ties_within_a_tier() -> None:
    out = _rank(
        _site("a", land_price_usd_per_acre=20_000.0), _site("b", land_price_usd_per_acre=2_000.0)
    )
    assert list(out["site_id"]) == ["b", "a"]


def test_exact_ties_broken_by_site_id() -> None:
    out = _rank(_site("b"), _site("c"), _site("a"))
    assert list(out["site_id"]) == ["a", "b", "c"]
    assert list(out["rank"]) == [1, 2, 3]
    assert list(out.index) == [0, 1, 2]


def test_missing_costs_are_refused_not_estimated() -> None:
    frame = pd.DataFrame([_site()])
    with pytest.raises(LayerValidationError) as err:
        score.rank(frame, LOAD)
    assert str(err.value) == (
        "cannot rank the candidate sites: missing column(s) interconnection_cost_musd, "
        "time_to_power_months (run geo.costs.estimate first)")
    out = score.rank(costs.estimate(frame, LOAD), LOAD)
    assert set(costs.COST_COLUMNS) <= set(out.columns)


def test_given_costs_are_kept() -> None:
    given = costs.estimate(pd.DataFrame([_site()]), LOAD)
    out = score.rank(given, LOAD)
    given["interconnection_cost_musd"] = 0.0  # e.g. a user-supplied figure
    assert score.rank(given, LOAD).loc[0, "power_score"] > out.loc[0, "power_score"]


def test_geodataframe_in_geodataframe_out() -> None:
    frame = gpd.GeoDataFrame(
        pd.DataFrame([_site("b"), _site("a", hosting_mw=100.0)]),
        geometry=[Point(-100, 40), Point(-101, 41)],
        crs="EPSG:4326",
    )
    out = score.rank(costs.estimate(frame, LOAD), LOAD)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs == frame.crs
    assert out.geometry.iloc[0].equals(Point(-100, 40))  # "b" (tier A) moved with its point
    for column in score.RANK_COLUMNS:
        assert column in out.columns


# --- reasons -------------------------------------------------------------------------------
def test_reasons_text_for_a_fixed_row() -> None:
    row = _site(
        "tx-1",
        poi_name="CHILDRESS 2",
        hosting_mw=1_240.0,
        tie_distance_km=3.1,
        interconnect="Texas",
        subdivision="US-TX",
        hydro_mw_within_100km=2_100.0,
        land_price_usd_per_acre=2_970.0,
    )
    out = _rank(row)
    assert out.loc[0, "reasons"] == (
        "Tier A: 1,240 MW headroom (DC estimate) at 345 kV CHILDRESS 2 (3.1 km), N-1 secure, "
        "2.1 GW hydro within 100 km; 11.0 M USD to connect (reVX 2019), "
        "~18 months to power; land 2,970 USD/acre (state average, 2025)"
    )


def test_reasons_for_short_hosting_gas_and_unknown_land() -> None:
    row = _site(
        "co-1",
        poi_name="FOO",
        poi_voltage_kv=138.0,
        hosting_mw=180.0,
        redundancy="not N-1 secure",
        tie_distance_km=5.0,
        gas_field="Piceance",
        gas_field_km=0.0,
        hydro_mw_within_100km=850.0,
        land_price_usd_per_acre=None,
        land_price_note=None,
    )
    text = _rank(row).loc[0, "reasons"]
    assert text.startswith(
        "Tier C: 180 MW headroom (DC estimate; short of the 300 MW load) at 138 kV FOO (5.0 km), "
        "not N-1 secure, 850 MW hydro within 100 km, inside the Piceance gas basin "
        "(approximate extent)"
    )
    assert text.endswith("; land price unknown (neutral land score)")


def test_reasons_without_poi() -> None:
    row = _site(
        "x",
        poi_sub_id=None,
        poi_name=None,
        poi_voltage_kv=None,
        tie_distance_km=None,
        hosting_mw=None,
        hosting_source=None,
        redundancy="isolated",
        gas_field="Permian",
        gas_field_km=42.4,
        existing_site=True,
        land_price_note="raster cell",
    )
    assert _rank(row).loc[0, "reasons"] == (
        "Tier D: no point of interconnection within the tie limit, Permian gas basin 42 km away "
        "(approximate extent), existing energized site; land 5,000 USD/acre (raster cell)"
    )


def test_reasons_hosting_not_computed() -> None:
    text = _rank(_site(hosting_mw=None, hosting_source=None)).loc[0, "reasons"]
    assert text.startswith("Tier D: hosting not computed at 345 kV POI s (3.0 km), N-1 secure;")
    assert "~48 months to power" in text


# --- one site per POI ------------------------------------------------------------------------
def test_one_per_poi_keeps_best_and_renumbers() -> None:
    rows = [
        _site("a1", poi_sub_id="P", hosting_mw=200.0),
        _site("a2", poi_sub_id="P", hosting_mw=900.0),
        _site("b1", poi_sub_id="Q"),
        _site("n1", poi_sub_id=None, hosting_mw=None),
        _site("n2", poi_sub_id=None, hosting_mw=None),
    ]
    ranked = _rank(*rows)
    kept = score.one_per_poi(ranked)
    assert list(kept["site_id"]) == ["a2", "b1", "n1", "n2"]
    assert list(kept["rank"]) == [1, 2, 3, 4]
    assert list(kept.index) == [0, 1, 2, 3]
    assert len(ranked) == 5  # input untouched


def test_one_per_poi_keeps_geodataframe() -> None:
    frame = gpd.GeoDataFrame(
        pd.DataFrame([_site("a", poi_sub_id="P"), _site("b", poi_sub_id="P")]),
        geometry=[Point(0, 0), Point(1, 1)],
        crs="EPSG:4326",
    )
    kept = score.one_per_poi(score.rank(costs.estimate(frame, LOAD), LOAD))
    assert isinstance(kept, gpd.GeoDataFrame)
    assert len(kept) == 1


# --- validation ------------------------------------------------------------------------------
def test_repeated_and_missing_site_ids_reported_once() -> None:
    frame = pd.DataFrame([_site("a"), _site("a"), _site("b")]).drop(columns=["redundancy"])
    with pytest.raises(LayerValidationError) as err:
        score.rank(frame, LOAD)
    assert "redundancy" in str(err.value)
    assert "repeated site_id(s): a" in str(err.value)


def test_bad_score_settings() -> None:
    settings = Settings().replace(
        score_weight_margin=0.0,
        score_weight_cost=0.0,
        score_weight_voltage=0.0,
        score_weight_redundancy=0.0,
        score_weight_time=0.0,
        score_weight_firm=0.0,
        land_price_low_usd_per_acre=100_000.0,
    )
    with pytest.raises(SettingsError) as err:
        _rank(_site(), settings=settings)
    assert "score_weight_" in str(err.value)
    assert "land_price_low_usd_per_acre" in str(err.value)


# --- the credit table ------------------------------------------------------------------------
def test_power_score_is_the_weighted_mean_of_the_credit_table() -> None:
    frame = costs.estimate(pd.DataFrame([_site("a", hosting_mw=450.0)]), LOAD)
    s = Settings()
    parts = {c.name: float(score._credit(c.function(score.arrays(frame), LOAD, s))[0])
             for c in score.CREDITS}
    assert parts["margin"] == pytest.approx(450 / 300 / 2)  # min(1.5, cap 2) / 2
    assert parts["voltage"] == pytest.approx(345 / 500) and parts["redundancy"] == 1.0
    weights = {c.name: getattr(s, c.weight) for c in score.CREDITS}
    expected = sum(weights[n] * parts[n] for n in parts) / sum(weights.values())
    assert score.power_score(frame, LOAD, s)[0] == pytest.approx(expected)


def test_a_new_credit_is_one_row(monkeypatch) -> None:
    frame = costs.estimate(pd.DataFrame([_site("a"), _site("b", hosting_mw=100.0)]), LOAD)
    before = score.power_score(frame, LOAD, Settings())
    toy = score.Credit("toy", "land_weight", lambda sites, load, s: np.ones(len(sites["site_id"])))
    monkeypatch.setattr(score, "CREDITS", (*score.CREDITS, toy))
    s = Settings()
    total = sum(getattr(s, c.weight) for c in score.CREDITS[:-1])  # 1.0 by default
    after = score.power_score(frame, LOAD, s)
    np.testing.assert_allclose(after, (before * total + s.land_weight) / (total + s.land_weight))
    # the weight check sees the new row: all the old weights at 0 is no longer an error
    zero = s.replace(**{c.weight: 0.0 for c in score.CREDITS[:-1]})
    score.check_score_settings(zero)
    np.testing.assert_allclose(score.power_score(frame, LOAD, zero), [1.0, 1.0])


# --- one definition of "hosts the load" -------------------------------------------------------
@pytest.mark.parametrize(("hosting", "hosts", "partial"), [
    (LOAD, True, True), (np.nextafter(LOAD, 0), False, True),
    (LOAD / 2, False, True), (np.nextafter(LOAD / 2, 0), False, False), (None, False, False)])
def test_tier_time_and_serves_load_agree_on_hosting(hosting, hosts, partial) -> None:
    row = _site("a", hosting_mw=hosting, redundancy="radial", serves_load=hosts)
    out = _rank(row).iloc[0]
    s = Settings()
    assert bool(out["serves_load"]) is hosts
    assert out["tier"] == ("B" if hosts else "C" if partial else "D")
    base = s.time_new_months if hosts else (
        s.time_upgrade_months if partial else s.time_major_upgrade_months)
    assert out["time_to_power_months"] == pytest.approx(base + 3.0 * s.time_tie_months_per_km)
