"""Portfolios (geo.portfolio): sites that are firm together, on a 5-bus grid by hand.

A (generator) feeds H by two paths of equal reactance: the line AH, and AB + BH. Each is
rated 400 MW, so a load beyond H is firm (N-1) up to 400 MW: with AH out, A-B-H carries it
all, and the reverse. P1 and P2 each hang on H by two circuits rated 1,000 MW. Alone, P1
and P2 each host 300 MW firm; together they need 600 MW through one path after an outage.
"""

from __future__ import annotations

import itertools
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid, portfolio
from geo.grid import hosting
from geo.settings import Settings

XY = {"A": (0.0, 0.0), "B": (0.05, 0.05), "H": (0.1, 0.0), "P1": (0.2, 0.05),
      "P2": (0.2, -0.05), "Z": (0.3, 0.3)}
LINES = [("AH", "A", "H", 0.1, 400.0), ("AB", "A", "B", 0.05, 400.0),
         ("BH", "B", "H", 0.05, 400.0),
         ("HP1a", "H", "P1", 0.1, 1000.0), ("HP1b", "H", "P1", 0.1, 1000.0),
         ("HP2a", "H", "P2", 0.1, 1000.0), ("HP2b", "H", "P2", 0.1, 1000.0)]


def _network(xy: dict, rows: list, gen_mw: float, pois: list[str]):
    """The grid of ``xy`` (substations) and ``rows`` (line_id, from, to, x pu, MW), one
    generator of ``gen_mw`` at A, and sites s1, s2 at ``pois`` ranked 1, 2."""
    subs = gpd.GeoDataFrame({"sub_id": list(xy), "voltage_kv": 345.0},
                            geometry=[Point(p) for p in xy.values()], crs="EPSG:4326")
    lines = gpd.GeoDataFrame(
        {"line_id": [r[0] for r in rows], "from_sub": [r[1] for r in rows],
         "to_sub": [r[2] for r in rows], "voltage_kv": 345.0,
         "reactance_pu": [r[3] for r in rows], "capacity_mw": [r[4] for r in rows],
         "flow_mw": 0.0},
        geometry=[LineString([xy[r[1]], xy[r[2]]]) for r in rows], crs="EPSG:4326")
    plants = gpd.GeoDataFrame({"plant_id": ["G"], "fuel": "gas", "capacity_mw": [gen_mw],
                               "sub_id": ["A"]}, geometry=[Point(xy["A"])], crs="EPSG:4326")
    settings = Settings()
    g = grid.build(subs, lines, settings)
    alone = hosting.hosting(g, plants, settings, sub_ids=pois)
    ranked = gpd.GeoDataFrame({
        "site_id": ["s1", "s2"], "rank": [1, 2], "poi_sub_id": pois,
        "redundancy": "N-1 secure",
        "firm_limiting_line_id": alone.loc[pois, "firm_limiting_line_id"].to_numpy(),
        "limiting_line_id": alone.loc[pois, "limiting_line_id"].to_numpy()})
    return g, plants, settings, alone, ranked


@pytest.fixture(scope="module")
def net():
    return _network({s: XY[s] for s in list(XY)[:-1]}, LINES, 2000.0, ["P1", "P2"])


def test_each_site_alone_is_firm(net):
    _, _, _, alone, _ = net
    np.testing.assert_allclose(alone.loc[["P1", "P2"], "firm_mw"], [400, 400])
    np.testing.assert_allclose(alone.loc[["P1", "P2"], "hosting_mw"], [800, 800])


def test_the_portfolio_keeps_the_better_site_and_passes_over_the_other(net, monkeypatch):
    g, plants, settings, _, ranked = net
    # s1's joint screen binds on AH after AB's outage (rated 400 MW, it then carries the
    # whole load); with s2 in, 600 MW: the joint screen's bound (400 / 600) fails s2 before
    # its own hosting run
    chosen = portfolio.choose(ranked, 2, 300.0, g, plants, settings)
    assert chosen.sites["site_id"].tolist() == ["s1"] and chosen.bounded == 1
    assert chosen.passed_over["portfolio_reason"].iloc[0].endswith(
        "fit together to at most 66.7 % of their MW (line AH after the outage of line AB; "
        "base case)")
    # without the bound, its own check (the hosting run with s1's load in) says why
    monkeypatch.setattr(portfolio, "BOUND_MARGIN", None)
    chosen = portfolio.choose(ranked, 2, 300.0, g, plants, settings)
    assert chosen.sites["site_id"].tolist() == ["s1"]
    assert chosen.passed_over["site_id"].tolist() == ["s2"]
    reason = chosen.passed_over["portfolio_reason"].iloc[0]
    # with s1's 300 MW in, P2 keeps 400 - 300 = 100 MW firm, bound by a path line
    assert "firm 100 MW < 300 MW" in reason
    assert "#1 s1" in reason and any(f"line {x}" in reason for x in ("AH", "AB", "BH"))
    assert chosen.verified
    # nothing else chosen: P1 keeps its 400 MW firm
    assert chosen.sites["portfolio_remaining_mw"].iloc[0] == pytest.approx(400)


def test_a_smaller_load_fits_both(net):
    g, plants, settings, _, ranked = net
    chosen = portfolio.choose(ranked, 2, 200.0, g, plants, settings)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"]
    assert chosen.verified
    # each keeps 400 - 200 = 200 MW firm with the other in: exactly its load
    np.testing.assert_allclose(chosen.sites["portfolio_remaining_mw"], [200, 200], atol=1e-6)


def test_a_load_mw_column_sizes_each_site(net):
    g, plants, settings, _, ranked = net
    # s1 asks 150 MW, s2 250 MW: 400 MW in all, exactly the firm path
    chosen = portfolio.choose(ranked.assign(load_mw=[150.0, 250.0]), 2, 300.0, g, plants,
                              settings)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"] and chosen.verified
    np.testing.assert_allclose(chosen.sites["portfolio_remaining_mw"], [150, 250], atol=1e-6)


def test_shares_limit_with_names_the_better_ranked_site(net):
    *_, ranked = net
    out = portfolio.shares_limit_with(ranked)
    assert out[0] is None and out[1] == "#1 s1"


# A load whose share of a kept site's limit is below the cut-off (so its own screen does
# not watch that element) still takes the kept site below its load.
# A (generator) feeds P1 by L (two circuits La, Lb, 2 pu each, 200 MW each) and by the long
# way A-M-P1 (AMa, AMb: 2 pu each; M-P1: 28 pu); every other rating is 10,000 MW. With La
# out, Lb carries 29/31 of a load at P1 and 1/31 (3.2 %, below the 5 % cut-off) of a load
# at M.
HURT_XY = {"A": (0.0, 0.0), "P1": (0.1, 0.0), "M": (0.05, 0.08)}
HURT_LINES = [("La", "A", "P1", 2.0, 200.0), ("Lb", "A", "P1", 2.0, 200.0),
              ("AMa", "A", "M", 2.0, 1e4), ("AMb", "A", "M", 2.0, 1e4),
              ("MP1", "M", "P1", 28.0, 1e4)]


@pytest.fixture(scope="module")
def hurt_net():
    return _network(HURT_XY, HURT_LINES, 5000.0, ["P1", "M"])


def test_a_load_below_the_cut_off_on_a_kept_sites_limit_is_passed_over(hurt_net, monkeypatch):
    g, plants, settings, alone, ranked = hurt_net
    # P1: with La out, Lb carries 29/31 of its load: 200 * 31 / 29 MW firm
    assert alone.loc["P1", "firm_mw"] == pytest.approx(200 * 31 / 29)
    s1_mw = 200 * 31 / 29 - 5.0     # s1 leaves 5 MW of load at P1: 5 * 29 / 31 MW on Lb
    # s2's 300 MW puts 300 / 31 = 9.7 MW on Lb after La's outage
    with_s1 = hosting.hosting(g, plants, settings, sub_ids=["M"], queued=pd.DataFrame(
        {"sub_id": ["P1"], "mw": [s1_mw]}))
    assert with_s1.loc["M", "firm_mw"] > 300          # M's own screen lets it in
    both = hosting.hosting(g, plants, settings, sub_ids=["P1"], queued=pd.DataFrame(
        {"sub_id": ["P1", "M"], "mw": [s1_mw, 300.0]}))
    assert both.loc["P1", "firm_mw"] == 0             # but P1 is then overloaded
    chosen = portfolio.choose(ranked.assign(load_mw=[s1_mw, 300.0]), 2, 300.0, g, plants,
                              settings)
    assert chosen.sites["site_id"].tolist() == ["s1"] and chosen.verified
    reason = chosen.passed_over.set_index("site_id").loc["s2", "portfolio_reason"]
    # the joint screen (run first) sees it: both loads change Lb by far more than the
    # cut-off after La's outage; without it the kept-site re-check does (below)
    assert portfolio.JOINT_FAILS in reason
    assert "(line Lb after the outage of line La; base case)" in reason
    # on Lb: s1 195.3 MW (29/31 of 208.8) + s2 9.7 MW (300/31) = 205.0 against 200 MW
    assert "97.6 % of their MW" in reason
    # without the joint screen (the walk screens its candidates with screen_each)
    monkeypatch.setattr(portfolio, "BOUND_MARGIN", None)
    monkeypatch.setattr(portfolio.joint, "screen_each", lambda *a, **k: [portfolio.joint.Joint(
        np.inf, None, None, None, 0, 15.0, False)] * (1 if a[4] is None else len(a[4])))
    chosen = portfolio.choose(ranked.assign(load_mw=[s1_mw, 300.0]), 2, 300.0, g, plants,
                              settings)
    reason = chosen.passed_over.set_index("site_id").loc["s2", "portfolio_reason"]
    assert "would take #1 s1 below its own load" in reason
    assert "line La" in reason or "line Lb" in reason
    monkeypatch.undo()
    # 150 MW adds 4.84 MW on Lb: still too much; 140 MW adds 4.52 MW: it fits
    chosen = portfolio.choose(ranked.assign(load_mw=[s1_mw, 150.0]), 2, 300.0, g, plants,
                              settings)
    assert chosen.sites["site_id"].tolist() == ["s1"]
    chosen = portfolio.choose(ranked.assign(load_mw=[s1_mw, 140.0]), 2, 300.0, g, plants,
                              settings)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"] and chosen.verified


def test_cli_portfolio_export(tmp_path, geo_rank):
    import json

    run = geo_rank("-q", "--region", "US-TX", "--load-mw", "300",
                   "--portfolio", "3", "--no-map", "--out", str(tmp_path))
    assert run.exit_code == 0, run.output
    doc = json.loads((tmp_path / "us-tx_portfolio.geojson").read_text("utf-8"))
    props = [f["properties"] for f in doc["features"]]
    assert [p["portfolio_rank"] for p in props] == [1, 2, 3]
    assert all(p["portfolio_remaining_mw"] >= 300 for p in props)
    assert doc["metadata"]["portfolio"]["verified"] is True


def test_a_flexible_portfolio_is_checked_on_n0_alone(net, monkeypatch):
    g, plants, _, _, ranked = net
    # the site's own check, not the joint screen's bound (tests/test_portfolio_bound.py)
    monkeypatch.setattr(portfolio, "BOUND_MARGIN", None)
    flexible = Settings(flexible_load=True)
    ranked = ranked.assign(serves_load=True)
    # N-0: both paths A-H (400 MW each) carry a load at P1 or P2: 800 MW each, 800 in all.
    # 300 MW each: P2 keeps 800 - 300 = 500 MW N-0 with s1 in, so both are kept (N-1, only
    # s1 is: see above)
    chosen = portfolio.choose(ranked, 2, 300.0, g, plants, flexible)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"] and chosen.verified
    np.testing.assert_allclose(chosen.sites["portfolio_remaining_mw"], [500, 500], atol=1e-6)
    # 450 MW each: P2 keeps 800 - 450 = 350 MW N-0, short of its load
    chosen = portfolio.choose(ranked, 2, 450.0, g, plants, flexible)
    assert chosen.sites["site_id"].tolist() == ["s1"] and chosen.verified
    reason = chosen.passed_over["portfolio_reason"].iloc[0]
    assert "N-0 hosting 350 MW < 450 MW" in reason
    assert any(f"line {x}" in reason for x in ("AH", "AB", "BH"))
    assert chosen.sites["portfolio_remaining_mw"].iloc[0] == pytest.approx(800)
    # candidates are the sites whose POI hosts the load, not the N-1 secure ones
    chosen = portfolio.choose(ranked.assign(redundancy="not N-1 secure"), 2, 300.0, g,
                              plants, flexible)
    assert chosen.sites["site_id"].tolist() == ["s1", "s2"]
    chosen = portfolio.choose(ranked.assign(serves_load=[False, True]), 2, 300.0, g,
                              plants, flexible)
    assert chosen.sites["site_id"].tolist() == ["s2"]


def test_the_terminal_says_a_flexible_portfolio_is_n0(net):
    from geo.cli.tables import portfolio_lines

    g, plants, _, _, ranked = net
    chosen = portfolio.choose(ranked.assign(serves_load=True), 2, 300.0, g, plants,
                              Settings(flexible_load=True))
    text = portfolio_lines(chosen, 2, 300.0, flexible=True)
    assert "2 of 2 sites hosted together (N-0: flexible loads)" in text
    # both loads, 600 MW, split evenly over the two 400 MW paths: 400 / 300 = 133.3 %
    assert "joint screen: N-0 hosted, the loads fit together to 133.3 % of their MW" in text
    assert "(N-0)" in text and "500 MW N-0 with the others in" in text
    assert "firm" not in text


def test_the_terminal_names_a_site_passed_over_as_the_table_does(net):
    from geo.cli.tables import portfolio_lines

    g, plants, _, _, ranked = net
    ranked = ranked.assign(serves_load=True, poi_name=["Alpha Substation", "Beta Substation"])
    # 450 MW each, N-0: s2 is passed over (see the flexible test above)
    chosen = portfolio.choose(ranked, 2, 450.0, g, plants, Settings(flexible_load=True))
    text = portfolio_lines(chosen, 2, 450.0, flexible=True)
    assert "passed over #2 Beta Substation:" in text



def test_the_run_after_a_keep_checks_a_few_candidates_then_twice_as_many(monkeypatch):
    """After a site is kept the next hosting run takes FIRST_AFTER_KEEP candidates, then
    twice as many per run up to BATCH (the kept load makes the rest of a run stale); the
    walk keeps and passes over the same sites as with every run at BATCH."""
    from tests.test_flowshift import meshed_grid

    subs, lines, plants = meshed_grid(0)
    settings = Settings(use_cache=False, hosting_batch=16)
    g = grid.build(subs, lines, settings)
    alone = hosting.hosting(g, plants, settings)
    ids = alone.index[alone["hosting_status"] == "computed"].to_numpy()
    ranked = gpd.GeoDataFrame({
        "site_id": [f"s{i}" for i in range(len(ids))], "rank": np.arange(1, len(ids) + 1),
        "poi_sub_id": ids, "redundancy": "N-1 secure",
        "firm_limiting_line_id": alone.loc[ids, "firm_limiting_line_id"].to_numpy(),
        "limiting_line_id": alone.loc[ids, "limiting_line_id"].to_numpy()})
    runs: list[tuple[str, int]] = []
    real = hosting.hosting

    def spied(*args, **kwargs):
        runs.append((sys._getframe(1).f_code.co_name, len(kwargs.get("sub_ids") or [])))
        return real(*args, **kwargs)

    monkeypatch.setattr(hosting, "hosting", spied)
    monkeypatch.setattr(portfolio, "BATCH", 8)

    def walk(first: int):
        monkeypatch.setattr(portfolio, "FIRST_AFTER_KEEP", first)
        runs.clear()
        chosen = portfolio.choose(ranked, 6, 40.0, g, plants, settings)
        return chosen, list(runs)

    steps, step_runs = walk(2)
    whole, _ = walk(8)
    assert steps.sites["site_id"].tolist() == whole.sites["site_id"].tolist()
    assert len(steps.sites) == 6 and len(steps.passed_over) == 33
    assert (sorted(steps.passed_over["site_id"]) == sorted(whole.passed_over["site_id"]))
    assert steps.verified == whole.verified
    # the walk's own runs (the kept set's check, _hurts, and the final checks aside): the
    # first takes BATCH, the first after a keep at most 2, a later one at most twice the last
    batch = [n for who, n in step_runs if who == "_walk"][: 1 + len(whole.sites)]
    assert batch[0] == 8
    after_keep = [m for (who, _), (nxt, m) in itertools.pairwise(step_runs)
                  if who == "_hurts" and nxt == "_walk"]
    assert after_keep and max(after_keep) <= 2
