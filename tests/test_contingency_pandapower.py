"""N-1 firm hosting checked against pandapower's DC power flow with the circuit taken out.

For a POI whose firm limit comes from an outage, pandapower runs the network with the load
``firm_mw`` at the POI (every generator raised by its share, as in
``test_hosting_pandapower``) and the circuit ``firm_outage_line_id`` out of service; the
circuit ``firm_limiting_line_id`` must sit at its emergency rating within 1 %. Then, for
every outage of the screen (each circuit whose flow change per MW of the load is at least the
cut-off, plus every circuit at the POI; bridges left out), the load at 99 % of ``firm_mw``
must not push any monitored branch above its emergency rating. A branch already above it
after the outage without the load (a pre-existing violation) is set aside by default
(``n1_preexisting = "exclude"``); with ``"binding"`` the load must not load it further.
"""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest

from geo import grid
from geo.grid import hosting
from geo.settings import Settings
from tests.test_hosting_pandapower import (
    DATA,
    DATA_OSM,
    embedded_cut,
    layers_from_net,
    participants,
)

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")
from pandapower.pypower.idx_brch import PF  # noqa: E402

CUTOFF = Settings().distribution_factor_cutoff
FACTOR = 1.2


class Runner:
    """DC power flow of ``net`` with a load at one bus and one branch out (then restored)."""

    def __init__(self, net):
        self.net = net
        self.gens = participants(net)
        self.share = (self.gens["capacity_mw"] / self.gens["capacity_mw"].sum()).to_numpy()
        lookup = net._pd2ppc_lookups
        self.ppc2pd = {int(lookup["bus"][b]): b for b in net.bus.index}
        self.element = {}
        for table in ("line", "trafo"):
            if table in lookup["branch"]:
                start, _ = lookup["branch"][table]
                for k, idx in enumerate(getattr(net, table).index):
                    self.element[start + k] = (table, idx)
        self.p0 = {(t, i): getattr(net, t).loc[i, "p_mw"]
                   for t, i in self.gens[["table", "index"]].itertuples(index=False)
                   if t != "ext_grid"}

    def flows(self, bus: int, mw: float, out: int | None) -> np.ndarray:
        return self.flows_at({bus: mw}, out)

    def flows_at(self, loads: dict[int, float], out: int | None) -> np.ndarray:
        """Branch flows with ``loads`` (ppc bus -> MW, generators raised by their share of
        the total) and branch ``out`` (ppc index) out of service."""
        net = self.net
        made = [pp.create_load(net, bus=self.ppc2pd[b], p_mw=mw) for b, mw in loads.items()]
        total = sum(loads.values())
        for (t, i), sh in zip(self.gens[["table", "index"]].itertuples(index=False),
                              self.share, strict=True):
            if t != "ext_grid":
                getattr(net, t).loc[i, "p_mw"] = self.p0[(t, i)] + sh * total
        if out is not None:
            table, idx = self.element[out]
            getattr(net, table).loc[idx, "in_service"] = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pp.rundcpp(net, numba=False)
            return net._ppc["branch"][:, PF].real.copy()
        finally:
            net.load = net.load.drop(index=made)
            for (t, i), p in self.p0.items():
                getattr(net, t).loc[i, "p_mw"] = p
            if out is not None:
                getattr(net, table).loc[idx, "in_service"] = True


def circuit_facts(lines, g):
    """Per line of the layers: id, ppc branch index, end substations, sorted end pair, and
    whether it is a single-circuit bridge (its outage islands part of the grid)."""
    ids = lines["line_id"].to_numpy()
    branch = np.array([int(x[2:]) for x in ids])
    ends = lines[["from_sub", "to_sub"]].to_numpy()
    pair = [tuple(sorted(e)) for e in ends]
    n_circuits = {p: pair.count(p) for p in set(pair)}
    bridges = {tuple(sorted(b)) for b in nx.bridges(g.graph)}
    radial = np.array([p in bridges and n_circuits[p] == 1 for p in pair])
    return ids, branch, ends, pair, radial


def check_n1(net, n_pois: int, rating: np.ndarray | None = None,
             preexisting: str = "exclude") -> int:
    subs, lines, plants, f0, rating = layers_from_net(net, rating)
    settings = Settings(hosting_min_kv=0, emergency_rating_factor=FACTOR,
                        n1_lodf_tolerance=0.0, n1_max_outages=100_000,
                        n1_preexisting=preexisting)
    g = grid.build(subs, lines, settings)
    h = hosting.hosting(g, plants, settings)
    ok = h[(h["firm_kind"] == "outage") & (h["firm_mw"] > 1.0)]
    assert len(ok) >= n_pois
    assert (h["firm_mw"] <= h["hosting_mw"] + 1e-9).all()
    run = Runner(net)
    emergency = FACTOR * rating
    ids, branch, ends, pair, radial = circuit_facts(lines, g)
    edge_of = np.unique(pair, axis=0, return_inverse=True)[1].ravel()
    sign = np.array([1.0 if a <= b else -1.0 for a, b in ends])
    for sub in ok.index[np.linspace(0, len(ok) - 1, n_pois).astype(int)]:
        mw = float(ok.loc[sub, "firm_mw"])
        out = int(ok.loc[sub, "firm_outage_line_id"][2:])
        lim = int(ok.loc[sub, "firm_limiting_line_id"][2:])
        f1 = run.flows(int(sub), mw, out)
        before_lim = abs(run.flows(int(sub), 0.0, out)[lim])
        if preexisting == "exclude" and before_lim >= emergency[lim] * (1 - 1e-6):
            # a set-aside overload binds where the load has added its worsening share
            share = settings.n1_preexisting_worsening_share
            assert abs(f1[lim]) - before_lim == pytest.approx(share * emergency[lim],
                                                              rel=0.01), (sub, mw)
        else:
            assert abs(f1[lim]) / emergency[lim] == pytest.approx(1.0, rel=0.01), (sub, mw)
        # the screen: circuits with |flow change per MW| >= cut-off, and circuits at the POI
        sens = (run.flows(int(sub), 1.0, None) - f0)[branch]
        screened = [i for i in range(len(ids))
                    if (abs(sens[i]) >= CUTOFF or sub in ends[i])
                    and not radial[i]]
        assert len(screened) >= 2
        for i in screened:
            fa = run.flows(int(sub), 0.0, branch[i])[branch]
            fb = run.flows(int(sub), 0.99 * mw, branch[i])[branch]
            s_edge = np.bincount(edge_of, weights=sign * (fb - fa) / (0.99 * mw))
            mon = (np.abs(s_edge[edge_of]) >= CUTOFF * (1 + 1e-6)) & (np.arange(len(ids)) != i)
            before = np.abs(fa) / emergency[branch]
            after = np.abs(fb) / emergency[branch]
            if preexisting == "exclude":  # over the rating before the load: set aside
                mon &= before < 1.0 - 1e-6
            assert (after[mon] <= np.maximum(before[mon], 1.0) + 1e-6).all(), (sub, ids[i])
    # a firm of 0 after an outage: the outage alone already loads the limiting circuit to
    # its emergency rating, and the new load adds to it
    for sub in h.index[(h["firm_kind"] == "outage") & (h["firm_mw"] == 0)][:2]:
        out = int(h.loc[sub, "firm_outage_line_id"][2:])
        lim = int(h.loc[sub, "firm_limiting_line_id"][2:])
        fa, fb = run.flows(int(sub), 0.0, out), run.flows(int(sub), 1.0, out)
        assert abs(fa[lim]) >= 0.999 * emergency[lim]
        assert abs(fb[lim]) > abs(fa[lim])
    return n_pois


@pytest.mark.slow
def test_case118_firm_against_pandapower_with_the_outage():
    net = pn.case118()
    f0 = layers_from_net(net)[3]
    rating = np.maximum(2.5 * np.abs(f0), 80.0)
    assert check_n1(net, n_pois=4, rating=rating) == 4
    # with "binding", every POI that adds to a post-outage overload the base case already
    # has is firm 0: the complete screen (model version 8) finds such a branch at all but
    # one POI of this case (9 before it); the binding rule is checked at four POIs on the
    # embedded cut (tests/test_hosting_pandapower.py)
    assert check_n1(net, n_pois=1, rating=rating, preexisting="binding") == 1


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "lines.parquet").exists(), reason="embedded data not built")
def test_embedded_cut_firm_against_pandapower_with_the_outage():
    net, rating = embedded_cut(60)
    # the synthetic ratings leave most of the cut N-1 insecure before any load: raise them
    rating = np.maximum(rating, 2.5 * np.abs(layers_from_net(net, rating)[3]))
    assert check_n1(net, n_pois=4, rating=rating) == 4


@pytest.mark.slow
@pytest.mark.skipif(not (DATA_OSM / "lines.parquet").exists(), reason="embedded data not built")
def test_openstreetmap_cut_firm_against_pandapower_with_the_outage():
    """N-1 on the real topology (OSM 2016, estimated ratings) around the largest plant of
    Texas: the firm figure loads its limiting line to the rating under its outage."""
    net, rating = embedded_cut(60, DATA_OSM)
    rating = np.maximum(rating, 2.5 * np.abs(layers_from_net(net, rating)[3]))
    assert check_n1(net, n_pois=4, rating=rating) == 4
