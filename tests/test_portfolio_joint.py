"""The joint screen of a portfolio (geo.grid.joint, geo.portfolio): loads that are each below
the cut-off on a shared branch but overload it together.

A (generator) feeds H by two circuits AHa, AHb (1 pu, 1,000 MW each) and by the weak way
A-M-H (AM 10 pu, 10,000 MW; MH 10 pu, rated ``mh_mw``). P1, P2, P3 each hang on H by two
circuits (1 pu, 1,000 MW). A load at any Pi puts 0.5 / 20.5 = 2.44 % of itself on MH, and
after the outage of AHa 1 / 21 = 4.76 %: below the 5 % cut-off both ways, so no site's own
screen (nor the old portfolio check, which re-ran those screens with the others queued)
monitors MH. Three loads of 300 MW put 900 / 41 = 21.95 MW on it N-0 and 900 / 21 = 42.86
MW after AHa's outage (the independent re-solve of tests/n1_resolve.py says the same).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid, portfolio
from geo.grid import hosting, joint
from geo.settings import Settings
from tests.n1_resolve import Net

XY = {"A": (0.0, 0.0), "H": (0.1, 0.0), "M": (0.05, 0.1), "P1": (0.2, 0.05),
      "P2": (0.2, 0.0), "P3": (0.2, -0.05)}
POIS = ["P1", "P2", "P3"]


def _lines(mh_mw: float) -> list:
    rows = [("AHa", "A", "H", 1.0, 1000.0), ("AHb", "A", "H", 1.0, 1000.0),
            ("AM", "A", "M", 10.0, 1e4), ("MH", "M", "H", 10.0, mh_mw)]
    for p in POIS:
        rows += [(f"H{p}a", "H", p, 1.0, 1000.0), (f"H{p}b", "H", p, 1.0, 1000.0)]
    return rows


def _network(mh_mw: float, **settings):
    rows = _lines(mh_mw)
    subs = gpd.GeoDataFrame({"sub_id": list(XY), "voltage_kv": 345.0},
                            geometry=[Point(p) for p in XY.values()], crs="EPSG:4326")
    lines = gpd.GeoDataFrame(
        {"line_id": [r[0] for r in rows], "from_sub": [r[1] for r in rows],
         "to_sub": [r[2] for r in rows], "voltage_kv": 345.0,
         "reactance_pu": [r[3] for r in rows], "capacity_mw": [r[4] for r in rows],
         "flow_mw": 0.0},
        geometry=[LineString([XY[r[1]], XY[r[2]]]) for r in rows], crs="EPSG:4326")
    plants = gpd.GeoDataFrame({"plant_id": ["G"], "fuel": "gas", "capacity_mw": [5000.0],
                               "sub_id": ["A"]}, geometry=[Point(XY["A"])], crs="EPSG:4326")
    st = Settings(emergency_rating_factor=1.0, **settings)
    g = grid.build(subs, lines, st)
    alone = hosting.hosting(g, plants, st, sub_ids=POIS)
    ranked = gpd.GeoDataFrame({
        "site_id": ["s1", "s2", "s3"], "rank": [1, 2, 3], "poi_sub_id": POIS,
        "redundancy": "N-1 secure", "serves_load": True,
        "firm_limiting_line_id": alone.loc[POIS, "firm_limiting_line_id"].to_numpy(),
        "limiting_line_id": alone.loc[POIS, "limiting_line_id"].to_numpy()})
    return g, plants, st, alone, ranked


def _resolve(mh_mw: float) -> Net:
    return Net(list(XY), _lines(mh_mw), {}, {"A": 5000.0})


def _mh_flow(net: Net, pois: list[str], mw: float, out: str | None = None) -> float:
    """MW on MH with ``mw`` at each of ``pois`` (after the outage of ``out``), re-solved."""
    p = np.zeros(net.n)
    for poi in pois:
        p += mw * net.w
        p[net.pos[poi]] -= mw
    ids = [ln[0] for ln in net.lines]
    f = net.flows(p, None if out is None else ids.index(out))
    return float(f[ids.index("MH")])


def test_each_site_is_below_the_cut_off_on_the_shared_branch():
    net = _resolve(30.0)
    for poi in POIS:
        assert net.df(poi, "MH") == pytest.approx(0.5 / 20.5)
        assert net.df(poi, "MH", out="AHa") == pytest.approx(1 / 21)
        assert abs(net.df(poi, "MH", out="AHa")) < 0.05
    # together: 21.95 MW N-0, 42.86 MW with AHa out (hand: 900 / 41, 900 / 21)
    assert _mh_flow(net, POIS, 300.0) == pytest.approx(900 / 41)
    assert _mh_flow(net, POIS, 300.0, out="AHa") == pytest.approx(900 / 21)
    assert _mh_flow(net, POIS[:2], 300.0, out="AHa") == pytest.approx(600 / 21)


def test_each_sites_own_screen_with_the_others_in_misses_the_overload():
    g, plants, st, alone, _ = _network(30.0)
    np.testing.assert_allclose(alone.loc[POIS, "firm_mw"], 1000.0)
    for i, poi in enumerate(POIS):
        others = pd.DataFrame({"sub_id": [p for p in POIS if p != poi], "mw": 300.0})
        with_others = hosting.hosting(g, plants, st, sub_ids=[poi], queued=others)
        assert with_others.loc[poi, "firm_mw"] >= 300.0, i   # the old check: firm


def test_the_joint_screen_sees_the_post_outage_overload():
    g, plants, st, *_ = _network(30.0)
    three = joint.screen(g, plants, st, pd.DataFrame({"sub_id": POIS, "mw": 300.0}))
    # 30 MW of MH over 42.86 MW after AHa's outage: 70 % of each load fits
    assert three.fits == pytest.approx(30.0 / (900 / 21))
    assert not three.firm and three.kind == "outage"
    assert (three.limiting_line_id, three.outage_line_id) == ("MH", "AHa")
    assert three.cutoff_mw == pytest.approx(15.0)
    two = joint.screen(g, plants, st, pd.DataFrame({"sub_id": POIS[:2], "mw": 300.0}))
    assert two.firm and two.fits == pytest.approx(30.0 / (600 / 21))


def test_the_portfolio_passes_over_the_site_that_overloads_the_shared_branch():
    g, plants, st, _, ranked = _network(30.0)
    chosen = portfolio.choose(ranked, 3, 300.0, g, plants, st)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"] and chosen.verified
    reason = chosen.passed_over.set_index("site_id").loc["s3", "portfolio_reason"]
    assert portfolio.JOINT_FAILS in reason
    assert "70.0 % of their MW (line MH after the outage of line AHa; base case)" in reason
    assert chosen.joint is not None and chosen.joint.firm
    assert portfolio.passed_by_joint(chosen) == 1
    # 200 MW each: 600 / 21 = 28.6 MW after AHa's outage, all three fit
    chosen = portfolio.choose(ranked, 3, 200.0, g, plants, st)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2", "s3"] and chosen.verified


def test_the_joint_screen_sees_the_n0_overload():
    # MH rated 20 MW, flexible loads (N-0 alone): three loads put 21.95 MW on it, two 14.6
    g, plants, st, _, ranked = _network(20.0, flexible_load=True)
    net = _resolve(20.0)
    assert _mh_flow(net, POIS, 300.0) > 20.0 > _mh_flow(net, POIS[:2], 300.0)
    three = joint.screen(g, plants, st, pd.DataFrame({"sub_id": POIS, "mw": 300.0}), n1=False)
    assert three.fits == pytest.approx(20.0 / (900 / 41))
    assert three.kind == "n-0" and three.limiting_line_id == "MH"
    chosen = portfolio.choose(ranked, 3, 300.0, g, plants, st)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"] and chosen.verified
    reason = chosen.passed_over.set_index("site_id").loc["s3", "portfolio_reason"]
    assert "91.1 % of their MW (line MH (N-0))" in reason


def test_a_queued_load_counts_in_the_joint_screen():
    # 300 MW queued at P3: the portfolio of P1 and P2 then meets 42.86 MW after AHa's outage
    g, plants, st, _, ranked = _network(30.0)
    queued = pd.DataFrame({"sub_id": ["P3"], "mw": [300.0]})
    two = joint.screen(g, plants, st, pd.DataFrame({"sub_id": POIS[:2], "mw": 300.0}),
                       queued=queued)
    # 30 MW less the queue's 300 / 21 leaves 15.71 MW for 600 / 21 MW: 55 %
    assert two.fits == pytest.approx((30.0 - 300 / 21) / (600 / 21))
    chosen = portfolio.choose(ranked.iloc[:2], 2, 300.0, g, plants, st, queued=queued)
    assert chosen.sites["site_id"].tolist() == ["s1"] and chosen.verified


def _two_areas(fh_mw: float, **settings):
    """A (4,000 MW, area X) feeds H by two circuits (1 pu, 1,000 MW each); F (1,000 MW, area
    Y) hangs on H by one circuit FH (1 pu, rated ``fh_mw``); P1..P3 (area X) hang on H as
    above. Base case (the POIs' area): A serves every load and FH carries nothing. Stressed
    case (nameplate over the interconnection): F serves 1,000 / 5,000 = 20 % of each load,
    all of it over FH: three 300 MW loads put 180 MW on it (N-0)."""
    xy = {"A": (0.0, 0.0), "H": (0.1, 0.0), "F": (0.1, 0.1), **{p: XY[p] for p in POIS}}
    rows = [("AHa", "A", "H"), ("AHb", "A", "H"), ("FH", "F", "H")]
    rows += [(f"H{p}{c}", "H", p) for p in POIS for c in "ab"]
    subs = gpd.GeoDataFrame({"sub_id": list(xy), "voltage_kv": 345.0,
                             "balancing_area": ["X", "X", "Y", "X", "X", "X"]},
                            geometry=[Point(p) for p in xy.values()], crs="EPSG:4326")
    lines = gpd.GeoDataFrame(
        {"line_id": [r[0] for r in rows], "from_sub": [r[1] for r in rows],
         "to_sub": [r[2] for r in rows], "voltage_kv": 345.0, "reactance_pu": 1.0,
         "capacity_mw": [fh_mw if r[0] == "FH" else 1000.0 for r in rows], "flow_mw": 0.0},
        geometry=[LineString([xy[r[1]], xy[r[2]]]) for r in rows], crs="EPSG:4326")
    plants = gpd.GeoDataFrame({"plant_id": ["GA", "GF"], "fuel": "gas",
                               "capacity_mw": [4000.0, 1000.0], "sub_id": ["A", "F"]},
                              geometry=[Point(xy["A"]), Point(xy["F"])], crs="EPSG:4326")
    st = Settings(emergency_rating_factor=1.0, participation_method="nameplate",
                  participation_area="balancing_authority", **settings)
    return grid.build(subs, lines, st), plants, st


def test_the_joint_screen_screens_the_stressed_case():
    g, plants, st = _two_areas(150.0)
    loads = pd.DataFrame({"sub_id": POIS, "mw": 300.0})
    both = joint.screen(g, plants, st, loads)
    # stressed: FH carries 0.2 x 900 = 180 MW on 150 MW: 83.3 % fits; base: FH carries none
    assert both.fits == pytest.approx(150.0 / 180.0)
    assert (both.kind, both.limiting_line_id, both.case) == ("n-0", "FH", "stressed")
    assert not both.firm
    assert both.describe().endswith("(line FH (N-0); stressed case)")
    base = joint.screen(g, plants, st.model_copy(update={"dispatch_stress_case": False}),
                        loads)
    assert base.firm and base.case is None
    # 250 MW each: 150 MW on FH, exactly its rating: firm together in both cases
    assert joint.screen(g, plants, st, loads.assign(mw=250.0)).firm
    # each POI alone fits in both cases (60 MW on FH)
    alone = hosting.hosting(g, plants, st, sub_ids=POIS)
    assert (alone.loc[POIS, "firm_mw"] >= 300.0).all()
    np.testing.assert_allclose(alone.loc[POIS, "firm_stressed_mw"], 150.0 / 0.2)
