"""An upper bound on the joint screen (:mod:`geo.grid.joint`) that is cheap to compute: a
set of loads whose bound is below 1 is not firm together, without its complete screen
(:func:`geo.portfolio.choose` passes a candidate over on it; docs/methods.md, "The joint
screen's bound")."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from geo.errors import GridError
from geo.grid import contingency, dispatch, joint
from geo.grid.joint import TOLERANCE, Joint, _Island
from geo.grid.lodf import BRIDGE_TOL
from geo.grid.model import GridGraph
from geo.settings import Settings

#: :func:`bound_each` counts an entry only when it passes each of the screen's thresholds
#: by this much more (relative): its solves are not the screen's, so their last bits may
#: differ, and an entry on a threshold must not be counted when the screen drops it.
MARGIN = 1e-9


def bound_each(grid: GridGraph, plants: gpd.GeoDataFrame | None, settings: Settings,
               loads: pd.DataFrame, extra: pd.DataFrame, outages: dict[str, set[str]], *,
               queued: pd.DataFrame | None = None, reuse: dict | None = None,
               n1: bool = True) -> list[Joint]:
    """A cheap upper bound on :func:`screen_each`'s ``fits`` for the same sets: a set whose
    bound is below 1 is not firm together, without its complete screen.

    The bound is the lowest load ratio over entries the complete screen provably checks:
    the N-0 ratio of every branch the set's combined change reaches the cut-off on (all of
    the screen's N-0 part), and, in each dispatch case, after the outage of each circuit
    named in ``outages[case]`` (line ids; :data:`hosting.BASE_CASE` when one case is
    screened), the ratio of each branch of the outage's LODF column that the set's change
    after the outage reaches the cut-off on. Such an outage counts for a set only when
    part 1 of the screen (:meth:`geo.grid.contingency.Screen.contingencies`) takes it for
    that set: it is no bridge, the set's change on its edge reaches half the cut-off, and
    its change of the set's flow on some branch, ``|s_c|·max_l |LODF_lc|``, reaches the
    other half; then the screen checks every monitored branch of its column with the same
    formulas (:meth:`geo.grid.contingency.Screen._ratio`, pre-existing rule included). Its
    answer is the minimum over every entry it checks, so it is at most each of these.
    With ``n1_max_outages`` (a capped list may leave the outage out) only the N-0 part
    counts. The Joint of each set names the entry where its bound is reached, ``bound``
    True, ``outages`` 0.
    """
    reuse = {} if reuse is None else reuse
    sets, refs, cutoff, runs = additive_runs(grid, plants, settings, loads, extra, queued,
                                             reuse, n1)
    k = len(sets)
    fits = np.full(k, np.inf)
    found: list[tuple] = [(None, None, None, None)] * k      # kind, limiting, outage, case
    # SuperLU's triangular solves call BLAS on small supernodes: one thread (as in
    # geo.grid.hosting; threaded OpenBLAS only spins there)
    with threadpool_limits(limits=1, user_api="blas"):
        for name, several, isl_k, cols, base_inj, new_inj, _ in runs:
            isl = joint._Island.make(grid, plants, settings, reuse, queued, isl_k, base_inj,
                                     new_inj, refs[cols], cutoff, island_rows=True)
            if isl is None:
                continue
            host, arg = isl.n0()
            names = isl.circ.edge_binding if n1 else isl.line_ids
            lim = np.full(len(cols), None, dtype=object)
            lim[arg >= 0] = names[arg[arg >= 0]]
            kind = np.full(len(cols), contingency.N0, dtype=object)
            out = np.full(len(cols), None, dtype=object)
            named = outages.get(name, set())
            if n1 and named and settings.n1_max_outages is None:
                ratio, lim2, out2 = _after(isl, named)
                lower = ratio < host
                host = np.where(lower, ratio, host)
                lim[lower], out[lower], kind[lower] = lim2[lower], out2[lower], contingency.OUTAGE
            share = host / refs[cols]           # MW of M: the share of every load
            for i, j in enumerate(cols):
                if share[i] < fits[j] * (1.0 - TOLERANCE):
                    fits[j] = share[i]
                    found[j] = (kind[i], lim[i], out[i], name if several else None)
    return [Joint(float(fits[j]), found[j][0], found[j][1], found[j][2], 0,
                  float(cutoff * refs[j]), False, found[j][3], bound=True)
            for j in range(k)]


def _after(isl: _Island, names: set[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per set, the lowest load ratio after the outage of the circuits named ``names``
    that the screen's part 1 takes for the set, on the monitored branches of their
    LODF columns (inf when none), with that branch and outage (see :func:`bound_each`;
    the formulas are :meth:`geo.grid.contingency.Screen._post_outage`'s)."""
    circ, s, cutoff = isl.circ, isl.s, isl.cutoff
    cols = s.shape[1]
    best = np.full(cols, np.inf)
    lim = np.full(cols, None, dtype=object)
    out = np.full(cols, None, dtype=object)
    outaged = np.flatnonzero(np.isin(circ.line_id, sorted(names)))
    if not len(outaged):
        return best, lim, out
    scr = isl.screen()
    table = scr.table
    table.ensure(circ.edge[outaged])
    half = (1.0 - contingency.WATCH) * cutoff * (1.0 + MARGIN)
    watch = contingency.WATCH * cutoff * (1.0 + MARGIN)
    for c in outaged:
        k, a = int(circ.edge[c]), float(circ.share[c])
        pkk = table.pkk[k]
        d = 1.0 - a * pkk
        if d < BRIDGE_TOL:
            continue
        sc = np.abs(s[k]) * a
        change = sc * max(table.pmax[k], (1.0 - a) * abs(pkk)) / d
        taken = (np.abs(s[k]) >= watch) & (sc >= half) & (change >= half)
        if not taken.any():
            continue
        start, length = table.cols.start[k], table.cols.length[k]
        idx = table.cols.idx[start:start + length].astype(np.int64)
        val = table.cols.val[start:start + length]
        own = np.zeros(length, bool)
        own[table.own[k]] = True
        s_c = a * s[k, taken]
        s_new = s[idx][:, taken] + val[:, None] * (s_c / d)[None, :]
        s_new[own] *= 1.0 - a
        r, j = np.nonzero(np.abs(s_new) >= cutoff * (1.0 + MARGIN))
        if not len(r):
            continue
        lodf = val[r] / d
        em = scr.em[idx[r]]
        em[own[r]] = scr.rem_em[c]
        f_new = _moved(scr.f0, idx[r], lodf, a, k, own[r])
        f_orig = (f_new if scr.base_flows is scr.f0 else
                  _moved(scr.base_flows, idx[r], lodf, a, k, own[r]))
        ratio = scr._ratio(s_new[r, j], f_new, f_orig, em)[0]
        col = np.flatnonzero(taken)[j]
        low = np.full(cols, np.inf)
        np.minimum.at(low, col, ratio)
        for q in np.flatnonzero(low < best):
            e = np.flatnonzero((col == q) & (ratio == low[q]))[0]
            best[q] = low[q]
            lim[q] = circ.rem_binding[c] if own[r[e]] else circ.edge_binding[idx[r[e]]]
            out[q] = circ.line_id[c]
    return best, lim, out


def _moved(f, idx, lodf, a, k, own) -> np.ndarray:
    """Flows ``f`` on edges ``idx`` after the outage of a circuit (share ``a``) of edge
    ``k`` (``own``: the entry is the rest of edge ``k``), as the screen computes them."""
    moved = f[idx] + lodf * (a * f[k])
    moved[own] *= 1.0 - a
    return moved


def additive_runs(grid, plants, settings, loads, extra, queued, reuse, n1):
    """:func:`geo.grid.joint._runs` for :func:`bound_each`: ``loads`` served once, each row
    of ``extra`` (one load at one bus) served alone, by :func:`dispatch.serve_queued`'s
    formula, and each set's injection their sum (what serving them together gives, as the
    served MW are linear in the loads: equal but for the last bits), with no per-set
    table."""
    subs = grid.substations
    ids = subs["sub_id"].to_numpy()
    island = subs["island"].to_numpy()
    loads = loads[loads["mw"].to_numpy(float) > 0]
    k_node, k_mw = dispatch.queued_nodes(loads, ids)
    c_node = pd.Index(ids).get_indexer(extra["sub_id"].astype(str).to_numpy())
    if (c_node < 0).any():
        raise GridError(f"unknown sub_id(s): {sorted(set(extra['sub_id'][c_node < 0]))[:10]}")
    c_mw = np.maximum(extra["mw"].to_numpy(float), 0.0)
    top = float(k_mw.max()) if len(k_mw) else 0.0
    refs = np.maximum(top, c_mw)
    cutoff = max(settings.distribution_factor_cutoff, 1e-12)
    q_node, q_mw = dispatch.queued_nodes(queued, ids)
    own = np.unique(island[k_node])
    where = [np.union1d(own, island[[c]] if mw > 0 else []) for c, mw in zip(c_node, c_mw,
                                                                             strict=True)]
    cases = joint._cases(grid, plants, settings, reuse, n1)

    def runs():
        for name, gen, area in cases:
            left = np.array(gen, dtype=float, copy=True)
            base_inj = dispatch.serve_queued(left, area, island, q_node, q_mw)
            kept_inj = dispatch.serve_queued(left.copy(), area, island, k_node, k_mw)
            for isl in np.unique(np.concatenate(where)):
                # one island's rows of the sets' injections: the kept loads', plus each
                # candidate's of the island served from its area's columns
                nodes = np.flatnonzero(island == isl)
                cols = np.flatnonzero([isl in w for w in where])
                new_inj = np.zeros((len(nodes), len(cols)))
                new_inj += kept_inj[nodes][:, None]
                at = np.flatnonzero(island[c_node[cols]] == isl)
                here = cols[at]
                if len(here):
                    qcols, qcol = dispatch.island_columns(left[nodes], area[nodes],
                                                          area[c_node[here]])
                    share = qcols / np.where(qcols.sum(axis=0) > 0, qcols.sum(axis=0), 1.0)
                    new_inj[:, at] += share[:, qcol] * c_mw[here]
                    row = np.searchsorted(nodes, c_node[here])
                    new_inj[row, at] -= c_mw[here]
                yield (name, len(cases) > 1, int(isl), cols, base_inj, new_inj, None)

    return list(range(len(c_node))), refs, cutoff, runs() if len(c_node) else iter(())
