"""The flow-shift part of the N-1 contingency set, gathered by materiality.

Part 2 of the contingency set (:mod:`geo.grid.contingency`, docs/methods.md "The contingency
set"): for every *watched* pair of a branch ``l`` and a POI column ``j`` (the POI loads ``l``
by at least ``WATCH·cutoff``), the candidates are the circuits of ``l``'s flow-shift list
(:meth:`geo.grid.lodf.Lodf.shifts`). Candidate ``c`` (a circuit of edge ``k``, coefficient
``coef_c = LODF_lc·a_c``) is checked on ``l`` when, after its outage, the POI loads ``l`` by
the cut-off (``|s_lj + coef_c·s_kj| ≥ cutoff``; the rest of ``l`` itself scaled by
``1 − a_c``) and the outage is *material* for ``l``: ``|LODF_lc| ≥ cutoff``, or ``c`` is a
circuit of ``l`` itself, or the MW it moves onto ``l`` (the outaged flow, plus the load's
share at the POI's N-0 hosting ``h_j``) reaches ``n1_outage_impact_share`` of ``l``'s
emergency rating ``thr_l``::

    moved = |coef_c| · (|f_k| + |s_kj| · h_j) ≥ thr_l

The order of the work, not the rule, is what this module adds. A branch's list holds
every LODF-row entry above ``n1_lodf_tolerance`` (a hundred or more circuits), and a TAMU
batch of 256 POIs has hundreds of thousands of watched pairs: testing every candidate of
every pair made tens of millions of entries per batch, most of them immaterial. Since
``|s_kj| ≤ S_j = max_e |s_ej|`` (the POI's largest flow per MW on any edge),
``moved ≤ |coef_c|·|f_k| + |coef_c|·X_j`` with ``X_j = S_j·h_j``, so ``c`` can be material
for ``j`` only when ``X_j ≥ X*_c = thr_l / |coef_c| − |f_k|`` (``−∞`` for the always
material ones). Each branch's candidates are kept sorted by ``X*_c`` (per screen: ``f_k``
are its base flows), a pair gathers the prefix with ``X*_c ≤ X_j`` (a margin of 1e-9 on
either side keeps the rounding of the bound from dropping a candidate), and the exact
tests above run on those entries, with the same arithmetic as on every candidate: the
checked pairs and their ratios are exactly those of testing every candidate.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

#: A :class:`geo.grid.contingency.Screen` (not imported: that module imports this one).
Screen = Any

#: Relative margin on the materiality bound (far above the rounding of ``moved``, 1e-15).
MARGIN = 1e-9
#: Orders kept per LODF store (:func:`kept_order`): a portfolio's walk alternates between
#: the base flows of its joint screens and of its hosting runs, in two dispatch cases.
KEPT_ORDERS = 4


class ShiftOrder:
    """Each watched branch's flow-shift candidates, sorted by their materiality bound
    ``X*_c``, with what the exact tests read per candidate (one screen: its base flows)."""

    def __init__(self, screen: Screen, cutoff: float) -> None:
        self.screen = screen
        self.cutoff = cutoff
        m = len(screen.eu)
        self.start = np.full(m, -1, np.int64)
        self.length = np.zeros(m, np.int64)
        self.used = 0
        self.key = np.empty(0)
        self.ci = np.empty(0, np.int64)
        self.kk = np.empty(0, np.int64)
        self.coef = np.empty(0)
        self.abs_coef = np.empty(0)
        self.f_k = np.empty(0)
        self.rest = np.empty(0)          # 1 − a_c, read where c is a circuit of l itself
        self.own = np.empty(0, bool)
        self.always = np.empty(0, bool)
        #: ``n1_outage_impact_share`` × emergency rating of each branch
        self.thr = screen.settings.n1_outage_impact_share * screen.em

    def add(self, edges: np.ndarray) -> None:
        """Order the candidates of those ``edges`` (unique) not ordered yet."""
        todo = edges[self.start[edges] < 0]
        if not len(todo):
            return
        sc, circ = self.screen, self.screen.circ
        which, ci, factor = sc.table.shifts(todo)
        kk = circ.edge[ci]
        coef = factor * circ.share[ci]
        abs_coef = np.abs(coef)
        f_k = sc.f_abs[kk]
        ls = todo[which]
        own = kk == ls
        always = (np.abs(factor) >= self.cutoff) | own
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = (self.thr[ls] * (1.0 - MARGIN) / abs_coef - f_k * (1.0 + MARGIN))
        # a branch rated 0 (or a share of 0): every moved MW reaches it
        key = np.where(always | (self.thr[ls] <= 0.0), -np.inf, bound)
        order = np.lexsort((key, which))
        lens = np.bincount(which, minlength=len(todo))
        need = self.used + len(order)
        if need > len(self.key):
            size = max(need, 2 * len(self.key), 1 << 16)
            for name in ("key", "ci", "kk", "coef", "abs_coef", "f_k", "rest", "own",
                         "always"):
                setattr(self, name, np.resize(getattr(self, name), size))
        at = slice(self.used, need)
        self.key[at], self.ci[at], self.kk[at] = key[order], ci[order], kk[order]
        self.coef[at], self.abs_coef[at], self.f_k[at] = (coef[order], abs_coef[order],
                                                          f_k[order])
        self.rest[at] = 1.0 - circ.share[ci[order]]
        self.own[at], self.always[at] = own[order], always[order]
        self.start[todo] = self.used + np.r_[0, np.cumsum(lens)[:-1]]
        self.length[todo] = lens
        self.used = need

    def prefix(self, r: np.ndarray, x: np.ndarray) -> np.ndarray:
        """How many of branch ``r[i]``'s candidates have ``X*_c ≤ x[i]`` (a bisection per
        pair over its sorted keys)."""
        lo = self.start[r].copy()
        hi = lo + self.length[r]
        first = lo.copy()
        while True:
            open_ = np.flatnonzero(lo < hi)
            if not len(open_):
                return lo - first
            mid = (lo[open_] + hi[open_]) // 2
            up = self.key[mid] <= x[open_]
            lo[open_[up]] = mid[up] + 1
            hi[open_[~up]] = mid[~up]


def kept_order(screen: Screen, cutoff: float) -> ShiftOrder:
    """The :class:`ShiftOrder` of ``screen``: an earlier screen's on the same LODF store
    when that one had the same base flows, ratings and cut-off (a portfolio's hosting runs
    and joint screens of one island), else a new one (kept for the next, at most
    :data:`KEPT_ORDERS` per store). What it holds per branch depends on those alone (the
    store's flow-shift lists are solved once per branch), so either gives the same bits."""
    thr = screen.settings.n1_outage_impact_share * screen.em
    digest = hashlib.blake2b(screen.f_abs.tobytes(), digest_size=16)
    digest.update(thr.tobytes())
    key = (float(cutoff), digest.hexdigest())
    kept = screen.table.shift_orders
    order = kept.pop(key, None)
    if order is None:
        order = ShiftOrder(screen, cutoff)
    kept[key] = order
    while len(kept) > KEPT_ORDERS:
        kept.pop(next(iter(kept)))               # the least recently used
    return order


def flow_shift(screen: Screen, order: ShiftOrder, r: np.ndarray, c: np.ndarray,
               s: np.ndarray, s_t: np.ndarray, cutoff: float, host: np.ndarray):
    """The flow-shift pairs of watched ``(edge r[i], POI column c[i])`` pairs, checked on
    the branch they concern (see the module notes). Returns ``ratio`` (headroom over
    ``|s'_lj|`` after the outage), ``col``, ``circuit``, ``edge``, ``own`` and ``pre``
    (:meth:`geo.grid.contingency.Screen._ratio`). ``s_t`` is ``s`` with one row per column.
    """
    order.add(np.unique(r))
    host_mw = np.nan_to_num(host, posinf=0.0)
    # the largest load share the POI can move with an outage: |s_kj| ≤ S_j
    x = (np.abs(s_t).max(axis=1) if s_t.shape[1] else np.zeros(len(host_mw))) * host_mw
    lens = order.prefix(r, x[c] * (1.0 + MARGIN))
    offs = np.r_[0, np.cumsum(lens)[:-1]]
    total = int(lens.sum())
    pos = np.repeat(order.start[r] - offs, lens) + np.arange(total)
    edge, col = np.repeat(r, lens), np.repeat(c, lens)
    kk, coef = np.take(order.kk, pos), np.take(order.coef, pos)   # np.take: faster than [ ]
    s_k = np.take(s_t.ravel(), col * s_t.shape[1] + kk)
    s_new = np.repeat(s[r, c], lens)
    s_new += coef * s_k
    own = np.take(order.own, pos)
    s_new[own] *= order.rest[pos[own]]
    mon = np.flatnonzero(np.abs(s_new) >= cutoff)
    pm, e_mon = np.take(pos, mon), np.take(edge, mon)
    moved = np.take(order.abs_coef, pm) * (np.take(order.f_k, pm) + np.abs(np.take(s_k, mon))
                                           * np.take(host_mw, np.take(col, mon)))
    material = np.take(order.always, pm) | (moved >= np.take(order.thr, e_mon))
    mon, pm = mon[material], pm[material]
    is_own = own[mon]
    edge, kk, ci = np.take(edge, mon), np.take(order.kk, pm), np.take(order.ci, pm)
    coef, s_new = np.take(coef, mon), np.take(s_new, mon)
    rest = order.rest[pm[is_own]]
    em = np.take(screen.em, edge)
    em[is_own] = screen.rem_em[ci[is_own]]

    def after(f: np.ndarray) -> np.ndarray:     # post-outage flows from base flows f
        out = np.take(f, edge) + coef * np.take(f, kk)
        out[is_own] *= rest
        return out

    ratio, pre = screen._ratio(s_new, *screen._with_and_without_queue(after), em)
    return ratio, np.take(col, mon), ci, edge, is_own, pre
