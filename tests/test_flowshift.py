"""The flow-shift screen gathers a watched branch's candidates by a materiality bound and
checks exactly what testing every candidate checks (geo.grid.flowshift).

K5 (the complete graph of tests/test_contingency.py, equal reactances, the generator at
K5, the load at K1, no base flows): K1's flow per MW is 0.4 on K5-K1 and 0.2 on the six
K5-Kj and K1-Kj; a unit transfer over one edge puts 1/5 on each of its 6 neighbours, so
the outage of a neighbour moves 1/3 of its flow onto an edge. N-0 hosting at K1 is
1,000 MW / 0.4 = 2,500 MW.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.grid import flowshift, hosting
from geo.settings import Settings
from tests.test_contingency import XY, run

K5 = [f"K{i}" for i in range(1, 6)]


def k5_gathered(share: float, monkeypatch) -> tuple[int, int]:
    """Candidates gathered and flow-shift checks of K1 at a 0.35 cut-off."""
    for i, name in enumerate(K5):
        XY[name] = (float(np.cos(2 * np.pi * i / 5)), float(np.sin(2 * np.pi * i / 5)))
    lines = [(f"{a}{b}", a, b, 0.1, 1000.0, 0.0) for i, a in enumerate(K5) for b in K5[i + 1:]]
    gathered = []
    prefix = flowshift.ShiftOrder.prefix

    def counted(self, r, x):
        out = prefix(self, r, x)
        gathered.append(int(out.sum()))
        return out

    monkeypatch.setattr(flowshift.ShiftOrder, "prefix", counted)
    h = run(lines, gens={"K5": 1000.0}, sub_ids=["K1"],
            settings=Settings(distribution_factor_cutoff=0.35, n1_outage_impact_share=share,
                              dispatch_stress_case=False))
    assert h.loc["K1", "hosting_mw"] == pytest.approx(2500.0)
    return sum(gathered), h.attrs["report"]["n1_flow_shift_checks"]


def test_only_candidates_that_can_be_material_are_gathered(monkeypatch):
    # 7 watched edges (|s| >= 0.175), each with 7 candidates: its 6 neighbours (LODF 1/3,
    # below the 0.35 cut-off) and its own circuit (always). The POI's largest flow per MW
    # is 0.4, so an outage moves at most 1/3 x 0.4 x 2,500 = 333 MW of its load onto an
    # edge: at 5 % of 1,000 MW (50 MW) every neighbour may be material and is gathered,
    # and 6 are (on K5-K1: 1/3 x 0.2 x 2,500 = 167 MW, K1 at 0.467 >= 0.35 after them)
    assert k5_gathered(0.05, monkeypatch) == (49, 6)
    # at 40 % (400 MW) none can be: only the 7 own circuits are gathered, and none is
    # checked (the own edge's rest carries nothing)
    assert k5_gathered(0.40, monkeypatch) == (7, 0)


def every_candidate(screen, r, c, s, s_t, cutoff, host):
    """The flow-shift pairs found by testing every candidate of every watched pair (the
    screen's rule written out without the bound)."""
    circ = screen.circ
    _, ci, factor = screen.table.shifts(r)
    lens = screen.table.shift.length[r]
    edge, col = np.repeat(r, lens), np.repeat(c, lens)
    kk = circ.edge[ci]
    coef = factor * circ.share[ci]
    s_k = s_t[col, kk]
    s_new = s[r, c].repeat(lens) + coef * s_k
    own = kk == edge
    s_new[own] *= 1.0 - circ.share[ci[own]]
    moved = np.abs(coef) * (screen.f_abs[kk] + np.abs(s_k) * np.nan_to_num(host, posinf=0.0)[col])
    keep = (np.abs(s_new) >= cutoff) & (
        (np.abs(factor) >= cutoff) | own
        | (moved >= screen.settings.n1_outage_impact_share * screen.em[edge]))
    edge, kk, ci, coef, s_new, own = (x[keep] for x in (edge, kk, ci, coef, s_new, own))
    em = screen.em[edge]
    em[own] = screen.rem_em[ci[own]]

    def after(f):
        out = f[edge] + coef * f[kk]
        out[own] *= 1.0 - circ.share[ci[own]]
        return out

    ratio, pre = screen._ratio(s_new, *screen._with_and_without_queue(after), em)
    return ratio, col[keep], ci, edge, own, pre


def meshed_grid(seed: int):
    """A 40-bus ring with chords and double circuits, random reactances, ratings and base
    flows, generators at four buses."""
    rng = np.random.default_rng(seed)
    n = 40
    names = [f"B{i}" for i in range(n)]
    pairs = [(i, (i + 1) % n) for i in range(n)]
    pairs += [(int(a), int(b)) for a, b in rng.integers(0, n, (30, 2)) if a != b]
    pairs += pairs[:6]                                   # second circuits
    lines = gpd.GeoDataFrame(
        {"line_id": [f"L{k}" for k in range(len(pairs))],
         "from_sub": [names[a] for a, _ in pairs], "to_sub": [names[b] for _, b in pairs],
         "voltage_kv": 230.0, "reactance_pu": rng.uniform(0.02, 0.3, len(pairs)),
         "capacity_mw": rng.uniform(200.0, 2000.0, len(pairs)),
         "flow_mw": rng.uniform(-600.0, 600.0, len(pairs))},
        geometry=[LineString([(a * 0.01, 0.0), (b * 0.01, 0.01)]) for a, b in pairs],
        crs="EPSG:4326")
    subs = gpd.GeoDataFrame({"sub_id": names, "voltage_kv": 230.0},
                            geometry=[Point(i * 0.01, 0.005 * (i % 3)) for i in range(n)],
                            crs="EPSG:4326")
    gens = ["B0", "B11", "B23", "B31"]
    plants = gpd.GeoDataFrame({"plant_id": gens, "fuel": "gas",
                               "capacity_mw": rng.uniform(500.0, 3000.0, len(gens)),
                               "sub_id": gens},
                              geometry=[Point(0.0, 0.0)] * len(gens), crs="EPSG:4326")
    return subs, lines, plants


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_bound_checks_what_every_candidate_checks(seed, monkeypatch):
    subs, lines, plants = meshed_grid(seed)
    settings = Settings(use_cache=False, hosting_batch=16)
    seen = {"pairs": 0, "gathered": 0, "candidates": 0}
    bounded, prefix = flowshift.flow_shift, flowshift.ShiftOrder.prefix

    def counted(self, r, x):
        out = prefix(self, r, x)
        seen["gathered"] += int(out.sum())
        seen["candidates"] += int(self.length[r].sum())
        return out

    def both(screen, order, r, c, s, s_t, cutoff, host):
        got = bounded(screen, order, r, c, s, s_t, cutoff, host)
        want = every_candidate(screen, r, c, s, s_t, cutoff, host)
        key_got = np.lexsort((got[3], got[2], got[1]))
        key_want = np.lexsort((want[3], want[2], want[1]))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(np.asarray(a)[key_got], np.asarray(b)[key_want])
        seen["pairs"] += len(got[0])
        return got

    monkeypatch.setattr(flowshift.ShiftOrder, "prefix", counted)
    monkeypatch.setattr(flowshift, "flow_shift", both)
    h = hosting.hosting(grid.build(subs, lines, settings), plants, settings)
    assert (h["hosting_status"] == "computed").sum() == 40
    # the bound left candidates out, and checks were made
    assert seen["pairs"] > 0
    assert seen["gathered"] < seen["candidates"]


def test_screens_on_one_store_share_an_order_only_with_the_same_flows(monkeypatch):
    """A portfolio's runs share an island's LODF store (``reuse``): a screen whose base
    flows, ratings and cut-off equal an earlier one's reuses that one's flow-shift order
    (flowshift.kept_order), and every result is what a new order gives."""
    subs, lines, plants = meshed_grid(4)
    settings = Settings(use_cache=False, hosting_batch=16)
    g = grid.build(subs, lines, settings)
    loads = [None, {"B5": 150.0}, None, {"B17": 90.0, "B5": 40.0}, {"B5": 150.0}]
    made = {"n": 0}
    init, bounded = flowshift.ShiftOrder.__init__, flowshift.flow_shift

    def counting(self, screen, cutoff):
        made["n"] += 1
        init(self, screen, cutoff)

    def checked(screen, order, *args):
        # the order holds this screen's base flows and thresholds, however it was found
        at = slice(0, order.used)
        np.testing.assert_array_equal(order.f_k[at], screen.f_abs[order.kk[at]])
        np.testing.assert_array_equal(
            order.thr, screen.settings.n1_outage_impact_share * screen.em)
        return bounded(screen, order, *args)

    monkeypatch.setattr(flowshift.ShiftOrder, "__init__", counting)
    monkeypatch.setattr(flowshift, "flow_shift", checked)

    def walk(kept: int) -> list:
        monkeypatch.setattr(flowshift, "KEPT_ORDERS", kept)
        made["n"] = 0
        reuse: dict = {}
        out = []
        for q in loads:
            queued = None if q is None else pd.DataFrame({"sub_id": list(q),
                                                          "mw": list(q.values())})
            out.append(hosting.hosting(g, plants, settings, sub_ids=["B3", "B9", "B27"],
                                       queued=queued, reuse=reuse))
        return out, made["n"]

    default = flowshift.KEPT_ORDERS
    fresh, n_fresh = walk(0)
    shared, n_shared = walk(default)
    for a, b in zip(fresh, shared, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    # five runs in two cases: ten new orders; shared, one per distinct base flow: three
    # sets of queued loads (the fifth run's are the second's; on this grid of no areas
    # both cases serve them from the whole island, so their base flows are the same)
    assert n_fresh == 10
    assert n_shared == 3
