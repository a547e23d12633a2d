"""A portfolio's joint screen checked by an independent engine: pandapower's DC power flow.

On the 60-substation cut of the embedded data (``tests/test_hosting_pandapower.py``), a
portfolio is chosen with :func:`geo.portfolio.choose`; pandapower then runs the network
with *every* chosen load in at once (each generator raised by its capacity share of the
total, as the model dispatches), with all circuits in and with each circuit out. For each
chosen POI and each outage in its screen (found here in pandapower, not taken from the
model): one that moves the POI's own flow per MW on some branch by the cut-off, or ends at
the POI, with every branch the POI's load reaches by the cut-off after it monitored; or one
that moves at least the cut-off of its own flow (LODF) onto a branch the POI's load reaches
by the cut-off, with those branches monitored. No monitored branch may end above its rating.
A branch the outage alone already overloads (a pre-existing violation) is left out by
default (``n1_preexisting = "exclude"``); with ``"binding"`` it may not end above its
loading without the loads.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo import grid, portfolio
from geo.grid import hosting
from geo.settings import Settings
from tests.test_contingency_pandapower import Runner, circuit_facts
from tests.test_hosting_pandapower import DATA, embedded_cut, layers_from_net

pp = pytest.importorskip("pandapower")

CUTOFF = Settings().distribution_factor_cutoff


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "lines.parquet").exists(), reason="embedded data not built")
@pytest.mark.parametrize("preexisting", ["exclude", "binding"])
def test_the_portfolio_overloads_nothing_with_every_load_in(preexisting):
    net, rating = embedded_cut(60)
    rating = np.maximum(rating, 2.5 * np.abs(layers_from_net(net, rating)[3]))
    subs, lines, plants, _f0, rating = layers_from_net(net, rating)
    settings = Settings(hosting_min_kv=0, n1_lodf_tolerance=0.0, n1_preexisting=preexisting)
    g = grid.build(subs, lines, settings)
    alone = hosting.hosting(g, plants, settings)
    load = 60.0
    ok = alone[(alone["firm_mw"] >= load) & (alone["hosting_mw"] >= load)]
    assert len(ok) >= 4
    ranked = gpd.GeoDataFrame({
        "site_id": [f"s{i}" for i in range(len(ok))], "rank": np.arange(1, len(ok) + 1),
        "poi_sub_id": ok.index.to_numpy(), "redundancy": "N-1 secure",
        "firm_limiting_line_id": ok["firm_limiting_line_id"].to_numpy(),
        "limiting_line_id": ok["limiting_line_id"].to_numpy()})
    chosen = portfolio.choose(ranked, 6, load, g, plants, settings)
    assert chosen.verified and len(chosen.sites) >= 2
    # pandapower, independently: every chosen load at once
    run = Runner(net)
    loads = {int(p): load for p in chosen.sites["poi_sub_id"]}
    ids, branch, ends, _, radial = circuit_facts(lines, g)
    base = run.flows_at({}, None)[branch]
    with_all = run.flows_at(loads, None)[branch]
    assert (np.abs(with_all) <= rating * (1 + 1e-6)).all()          # N-0
    # the screened outages, found independently: those whose loss changes some chosen
    # load's flow per MW on some branch by the cut-off (issue 13's set), plus every circuit
    # at a chosen POI; single-circuit bridges are left out (they island, see the N-1 tests)
    one = {bus: run.flows_at({bus: 1.0}, None)[branch] - base
           for bus in loads}
    reach = {bus: np.abs(one[bus]) >= CUTOFF * (1 + 1e-6) for bus in loads}
    shifted = 0
    checked = screened = 0
    for i in range(len(ids)):
        if radial[i]:
            continue
        fa = run.flows_at({}, branch[i])[branch]
        after_one = {bus: run.flows_at({bus: 1.0}, branch[i])[branch] - fa
                     for bus in loads}
        # per chosen POI, as the model screens: the outage is in the POI's set when it moves
        # the POI's own flow per MW on some branch by the cut-off (or ends at the POI), and
        # the POI then watches the branches its own load reaches by the cut-off after it
        mon = np.zeros(len(ids), bool)
        lodf = (fa - base) / base[i] if abs(base[i]) > 1e-6 else np.zeros(len(ids))
        for bus, sub in zip(loads, chosen.sites["poi_sub_id"].astype(str), strict=True):
            moved = np.abs(np.delete(after_one[bus] - one[bus], i)).max()
            after_reach = np.abs(after_one[bus]) >= CUTOFF * (1 + 1e-6)
            if moved >= CUTOFF or sub in ends[i]:
                mon |= after_reach
            onto = reach[bus] & after_reach & (np.abs(lodf) >= CUTOFF * (1 + 1e-6))
            onto[i] = False
            if onto.any():                   # the flow-shift part of the POI's screen
                mon |= onto
                shifted += 1
        mon[i] = False
        if not mon.any():
            continue
        screened += 1
        fb = run.flows_at(loads, branch[i])[branch]
        before = np.abs(fa) / rating
        if preexisting == "exclude":
            mon &= before < 1.0 - 1e-6
        before = np.maximum(before, 1.0)
        after = np.abs(fb) / rating
        bad = np.flatnonzero(mon & (after > before + 1e-6))
        assert not len(bad), (ids[i], [(ids[j], after[j], before[j]) for j in bad])
        checked += int(mon.sum())
    assert screened >= 3
    assert shifted >= 1
    assert checked > 0
