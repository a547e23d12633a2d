"""N-1 firm hosting: line-outage distribution factors on the factorised B matrix.

:func:`geo.grid.hosting.hosting` computes, per island and per batch of points of interconnection
(POIs), the flow change ``s`` (per MW of new load) on every merged edge. This module turns
that into ``firm_mw``: the largest load that no monitored branch exceeds its emergency
rating for after the outage of any one screened circuit (NERC TPL-001 category P1), and at
most the N-0 ``hosting_mw``.

Circuits, not merged edges, are outaged. Edge ``k`` of admittance ``b_k`` holds circuits
``c`` of admittance ``b_c`` (share ``a_c = b_c / b_k``; flow and sensitivity split in that
proportion). With ``ψ_k = B⁻¹(e_i − e_j)`` for the edge's ends ``i, j`` (one sparse solve
per distinct outaged edge, cached for the island) and ``p_lk = b_l (ψ_k[i_l] − ψ_k[j_l])``
(the flow on edge ``l`` of a unit transfer from ``i`` to ``j``), MATPOWER's ``makeLODF``
gives, for the outage of circuit ``c``::

    d_c = 1 − a_c·p_kk                     (1 − PTDF of the circuit for its own transfer)
    LODF_lc = p_lk / d_c                   (edge l ≠ k)
    post-outage flow        f'_l = f_l + LODF_lc · a_c f_k
    post-outage sensitivity s'_l = s_l + LODF_lc · a_c s_k

and for the circuits of edge ``k`` that stay in service (admittance ``b_k − b_c``) the same
with ``l = k``, times ``1 − a_c``; their rating is the flow at which the first remaining
circuit reaches its rating. ``d_c ≈ 0`` means the circuit is a bridge.

Contingency set of a POI (docs/methods.md "The contingency set"). A branch is monitored
after an outage when the POI's flow per MW on it, *after* the outage, reaches the cut-off.
Part 1 (:meth:`Screen.contingencies`): every circuit whose outage changes the POI's flow per
MW on some branch by at least ``(1 − WATCH)·cutoff``, ``|s_c|·max_l |LODF_lc|`` (only
circuits with ``|s_c|`` that large can, since ``|LODF| ≤ 1`` in a DC network, so only their
columns are solved), bridges among those, plus every circuit that ends at the POI; each is
checked on every branch of its column. ``n1_max_outages`` optionally caps this list
(largest change first); a POI whose list was cut gets ``firm_source = "estimated"``.

Part 2 (:meth:`Screen._flow_shift`): every branch ``l`` the POI loads by ``WATCH·cutoff`` is
*watched*; every circuit of its LODF row (:mod:`geo.grid.lodf`) whose outage is material
(``|LODF_lc| ≥ cutoff``, or ``|LODF_lc·a_c|·(|f_c| + |s_c|·hosting_mw) ≥
n1_outage_impact_share · emergency rating of l``), and the other circuits of ``l`` itself,
are checked on ``l``. A branch the POI loads by less than ``WATCH·cutoff`` can only reach the
cut-off after an outage that changes its flow per MW by more than ``(1 − WATCH)·cutoff``,
which part 1 holds; so every (outage, branch) pair above the cut-off after the outage is
checked, except immaterial pairs on watched branches, LODF entries below the tolerance and
bridges that cut off a spur (docs/methods.md lists what the screen can still miss). A
watched branch's circuits are gathered by a bound on their materiality and tested exactly
(:mod:`geo.grid.flowshift`).

LODF columns are kept sparse: entries with ``|p_lk| < n1_lodf_tolerance·d`` are dropped;
those branches keep their N-0 flow and sensitivity within that tolerance, and the N-0 check
(normal rating ≤ emergency rating) already covers them. A bridge circuit whose far side
holds more than half of the participation (``|s_c| > 0.5``) islands the POI: ``firm_mw = 0``
(``firm_kind = "islanded"``). A bridge that cuts off a smaller part (a spur with its own
generator) is not modelled (the lost generation would be re-dispatched) and is counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.grid import flowshift
from geo.grid.circuits import Circuits, expand
from geo.grid.lodf import BRIDGE_TOL, Lodf
from geo.settings import Settings

LOG = logging.getLogger(__name__)

#: ``firm_source`` values.
COMPUTED, ESTIMATED, NOT_COMPUTED = "computed", "estimated", "not computed"
#: ``firm_kind`` values: the binding element is a branch after an outage, the N-0 limit,
#: or the outage islands the POI.
OUTAGE, N0, ISLANDED = "outage", "n-0", "islanded"
#: A bridge whose far side holds more than this share of the participation islands the POI.
ISLANDING_SHARE = 0.5
#: Relative difference below which two outage results are a tie (see Screen._lower).
TIE = 1e-9
#: The load ratio of a pre-existing violation left aside without limit
#: (``n1_preexisting = "exclude"`` and ``n1_preexisting_worsening_share = None``).
PREEXISTING = np.inf
#: Entries of the LODF columns gathered at a time in the post-outage check (8 MB a column
#: of floats): the batch's pairs reach tens of millions on the US grids.
CHUNK = 1 << 20
#: Branches the POI loads by this fraction of the cut-off or more are *watched*: every
#: material outage is checked on them (from their LODF rows), and an outage that changes
#: the POI's flow per MW on some branch by the rest of the cut-off is screened on every
#: branch (its LODF column). A branch whose flow per MW reaches the cut-off after an
#: outage is then always found (see the module docstring).
WATCH = 0.5


@dataclass
class Screen:
    """N-1 screening of one island (one factorisation shared with the N-0 solves).

    Parameters are the island's arrays from :func:`geo.grid.hosting._island`: ``solve`` (the
    LU solve of the reduced system), ``red`` (bus → row of the solution, the slack's row
    ``n − 1`` stays 0), ``eu``/``ev`` (local edge ends), ``bl`` (edge admittances), ``f0``
    (base flows, NaN unknown; with queued loads in), ``base_flows`` (the same without
    queued loads: what a pre-existing violation is judged on; default ``f0``), ``limit``
    (normal ratings), ``circ`` (:func:`circuits`), ``flows`` (sparse edge × solution row:
    ``flows @ θ`` is every edge's flow).
    """

    solve: Any
    red: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    bl: np.ndarray
    f0: np.ndarray
    limit: np.ndarray
    circ: Circuits
    settings: Settings
    flows: Any
    lodf: Lodf | None = None
    base_flows: np.ndarray | None = None
    skipped_bridges: int = 0
    shift_checks: int = 0

    def __post_init__(self) -> None:
        n = len(self.red)
        self.n = n
        inc_e = np.r_[np.arange(len(self.eu)), np.arange(len(self.eu))]
        inc_n = np.r_[self.eu, self.ev]
        o = np.argsort(inc_n, kind="stable")
        self.node_edges = inc_e[o]
        self.node_ptr = np.r_[0, np.cumsum(np.bincount(inc_n, minlength=n))]
        self.em = self.limit * self.settings.emergency_rating_factor
        if self.base_flows is None:             # no queued loads: the base case is f0
            self.base_flows = self.f0
        self.rem_em = self.circ.rem_limit_mw * self.settings.emergency_rating_factor
        # |base flow| of each edge, unknown flows at assumed_utilisation (the flow-shift test)
        self.f_abs = np.where(np.isnan(self.f0),
                              self.settings.assumed_utilisation * self.limit, np.abs(self.f0))
        #: the island's LODF columns: ``lodf`` when kept from an earlier run, else new
        self.table: Lodf = self.lodf if self.lodf is not None else Lodf(
            solve=self.solve, red=self.red, eu=self.eu, ev=self.ev, bl=self.bl,
            flows=self.flows, circ=self.circ, settings=self.settings)
        self.lodf = self.table
        self._shift_order: flowshift.ShiftOrder | None = None

    @property
    def solves(self) -> int:
        return self.table.solves

    @property
    def shared(self) -> int:
        return self.table.shared

    def offer(self, b: np.ndarray, s: np.ndarray, tcol: np.ndarray) -> None:
        """See :meth:`geo.grid.lodf.Lodf.offer`."""
        self.table.offer(b, s, tcol)

    # -- the contingency set ------------------------------------------------------------
    def contingencies(self, b: np.ndarray, s: np.ndarray,
                      monitored: tuple[np.ndarray, np.ndarray] | None = None,
                      poi_col: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Screened ``(column, circuit)`` pairs for POIs ``b`` and their truncation flags.

        A circuit ``c`` of edge ``k`` is screened for a POI when its outage changes the
        POI's flow per MW on some branch by at least the cut-off:
        ``|s_c| · max_l |LODF_lc| ≥ cutoff``, ``l`` over every other edge and the circuits
        of ``k`` left in service (``(1 − a_c)·|p_kk| / d_c``); bridges with
        ``|s_c| ≥ cutoff`` always (they may island the POI); and every circuit ending at
        the POI. Only circuits with ``|s_c| ≥ cutoff`` can qualify (``|LODF| ≤ 1``), so
        their LODF columns are solved first (once per island, shared by all POIs).
        ``monitored``: ``np.nonzero(|s| ≥ cutoff)`` when the caller has it already.
        ``poi_col``: the column of each of ``b`` (default: ``b[j]`` is column ``j``; the
        joint screen, :mod:`geo.grid.joint`, gives several POIs one column).
        """
        st = self.settings
        # an outage that changes a flow per MW by (1 − WATCH)·cutoff can lift a branch the
        # POI loads by less than WATCH·cutoff to the cut-off (see the module docstring)
        cutoff = (1.0 - WATCH) * max(st.distribution_factor_cutoff, 1e-12)
        circ = self.circ
        r, c = monitored if monitored is not None else np.nonzero(np.abs(s) >= cutoff)
        # expand edges to their circuits
        at, ci = expand(circ.ptr, r)
        pc = c[at]
        sc = np.abs(s[circ.edge[ci], pc]) * circ.share[ci]
        big = sc >= cutoff
        pc, ci, sc = pc[big], ci[big], sc[big]
        # every circuit that ends at the POI
        ic, at = expand(self.node_ptr, b)
        ie = self.node_edges[at]
        at, inc_c = expand(circ.ptr, ie)
        inc_p = (ic if poi_col is None else np.asarray(poi_col, np.int64)[ic])[at]
        self.table.ensure(np.r_[circ.edge[ci], circ.edge[inc_c]])
        # the largest change the outage makes to the POI's flow per MW on any branch
        ek, a = circ.edge[ci], circ.share[ci]
        pkk = self.table.pkk[ek]
        d = 1.0 - a * pkk
        bridge = d < BRIDGE_TOL
        with np.errstate(divide="ignore", invalid="ignore"):
            change = sc * np.maximum(self.table.pmax[ek], (1.0 - a) * np.abs(pkk)) / d
        change = np.where(bridge, np.inf, change)
        keep = change >= cutoff
        pc, ci, change = pc[keep], ci[keep], change[keep]
        truncated = np.zeros(s.shape[1], bool)
        limit = st.n1_max_outages
        if limit is not None:
            # the ``limit`` largest changes per POI
            order = np.lexsort((ci, -change, pc))
            pc, ci = pc[order], ci[order]
            first = np.r_[0, np.flatnonzero(np.diff(pc)) + 1]
            rank = np.arange(len(pc)) - np.repeat(first, np.diff(np.r_[first, len(pc)]))
            truncated[pc[rank >= limit]] = True
            pc, ci = pc[rank < limit], ci[rank < limit]
        # distinct (column, circuit) pairs in that order, by one integer key (a sort of
        # int64, not of the rows of a 2-column array)
        width = len(circ.edge)
        key = np.unique(np.r_[pc, inc_p].astype(np.int64) * width + np.r_[ci, inc_c])
        return key // width, key % width, truncated

    # -- firm hosting of a batch -----------------------------------------------------------
    def firm(self, b: np.ndarray, s: np.ndarray, host: np.ndarray, host_edge: np.ndarray,
             monitored: tuple[np.ndarray, np.ndarray] | None = None,
             poi_col: np.ndarray | None = None, islanding: bool = True
             ) -> dict[str, np.ndarray]:
        """N-1 firm hosting of the POIs ``b`` (local bus indices, one column of ``s`` each).

        ``host`` is the N-0 hosting, ``host_edge`` its binding edge (-1: incident rating).
        Returns arrays ``firm_mw``, ``limiting`` and ``outage`` (line ids), ``kind``,
        ``source`` (``computed``/``estimated``), ``outages`` (screened per POI) and
        ``preexisting`` (True where a branch the POI loads is already above its rating after
        a screened outage without the load; see :attr:`Settings.n1_preexisting`).
        ``poi_col`` as in :meth:`contingencies`; ``islanding=False`` counts every bridge as
        not modelled (the joint screen: each POI's own screen judged its bridges).
        """
        st, circ = self.settings, self.circ
        k = s.shape[1]
        cutoff = max(st.distribution_factor_cutoff, 1e-12)
        # watched: every branch the POI loads by half the cut-off or more (WATCH)
        r, c = np.nonzero(np.abs(s) >= WATCH * cutoff)
        pc, ci, truncated = self.contingencies(b, s, (r, c), poi_col)
        # each POI's flows in one row: the screens read a POI's entries together
        s_t = np.ascontiguousarray(s.T)
        shift = self._flow_shift(r, c, s, s_t, cutoff, host)
        outages = np.bincount(pc, minlength=k)
        self.shift_checks += len(shift[0])
        ek = circ.edge[ci]
        a = circ.share[ci]
        d = 1.0 - a * self.table.pkk[ek]
        bridge = d < BRIDGE_TOL
        s_c = a * s[ek, pc]
        best = np.full(k, np.inf)
        lim = np.full(k, None, dtype=object)
        out = np.full(k, None, dtype=object)
        kind = np.full(k, N0, dtype=object)
        # bridges: the POI is islanded when the far side holds most of the participation
        isl = bridge & (np.abs(s_c) > ISLANDING_SHARE) & islanding
        self.skipped_bridges += int((bridge & ~isl).sum())
        for j, cc in zip(pc[isl], ci[isl], strict=True):
            best[j], lim[j], out[j], kind[j] = 0.0, circ.line_id[cc], circ.line_id[cc], ISLANDED
        go = ~bridge
        pc, ci, ek, d, a, s_c = (x[go] for x in (pc, ci, ek, d, a, s_c))
        pre = np.zeros(k, bool)
        if len(pc):
            ratio, pair, edge, own, set_aside = self._post_outage(pc, ci, ek, d, a, s_c, s_t,
                                                                  cutoff)
            self._lower(best, lim, out, kind, ratio, pc[pair], ci[pair], edge, own)
            pre[pc[pair][set_aside]] = True
        # outages that move flow onto a branch the POI loads (only where strictly lower)
        self._lower(best, lim, out, kind, *shift[:5])
        pre[shift[1][shift[5]]] = True
        n0 = ~(best < host)
        firm = np.where(n0, host, best)
        kind[n0], out[n0] = N0, None
        lim[n0] = np.where(host_edge[n0] >= 0,
                           circ.edge_binding[np.maximum(host_edge[n0], 0)], None)
        source = np.where(truncated, ESTIMATED, COMPUTED).astype(object)
        return {"firm_mw": np.maximum(firm, 0.0), "limiting": lim, "outage": out,
                "kind": kind, "source": source, "outages": outages, "preexisting": pre}

    def _lower(self, best, lim, out, kind, ratio, col, circuit, edge, own) -> None:
        """Where a column's smallest ``ratio`` is below ``best`` (by more than ``TIE``),
        take it. Of the entries within ``TIE`` of the minimum, the one with the lowest
        circuit, then edge, index names the limiting branch and the outage: ties (a
        symmetric pair of circuits) are broken the same way on every platform, not by the
        last bits of the solver."""
        circ = self.circ
        col_best = np.full(len(best), np.inf)
        np.minimum.at(col_best, col, ratio)
        hit = np.flatnonzero(ratio <= col_best[col] * (1.0 + TIE))
        hit = hit[np.lexsort((edge[hit], circuit[hit], col[hit]))]
        win = np.full(len(best), -1, np.int64)
        win[col[hit[::-1]]] = hit[::-1]            # the lowest key near the minimum
        for j in np.flatnonzero((col_best < best * (1.0 - TIE)) & (win >= 0)):
            e = win[j]
            c = circuit[e]
            best[j] = col_best[j]
            lim[j] = circ.rem_binding[c] if own[e] else circ.edge_binding[edge[e]]
            out[j] = circ.line_id[c]
            kind[j] = OUTAGE

    def _post_outage(self, pc, ci, ek, d, a, s_c, s_t, cutoff):
        """Load ratio ``headroom / |s'|`` of every monitored branch of every pair (``s_t``:
        the flow changes, one row per POI column).

        Returns ``ratio``, ``pair`` (row in the pair arrays), ``edge`` (monitored edge)
        and ``own`` (the entry is the rest of the outaged circuit's own edge).
        """
        lens = self.table.cols.length[ek]
        # pairs in runs of about CHUNK entries: their columns gathered, kept where monitored
        ends = np.cumsum(lens)
        cuts = np.searchsorted(ends, np.arange(CHUNK, ends[-1], CHUNK), side="right")
        parts = [self._monitored(p0, p1, pc, ek, d, a, s_c, s_t, cutoff)
                 for p0, p1 in zip(np.r_[0, cuts], np.r_[cuts, len(ek)], strict=True)
                 if p1 > p0]
        s_new, pair, idx, own, val = (np.concatenate(x) for x in zip(*parts, strict=True))
        lodf = val / np.take(d, pair)
        em = np.take(self.em, idx)
        if own.any():
            em[own] = self.rem_em[ci[pair[own]]]

        def after(f: np.ndarray) -> np.ndarray:     # post-outage flows from base flows f
            out = np.take(f, idx) + lodf * np.take(a * f[ek], pair)
            out[own] *= 1.0 - a[pair[own]]
            return out

        ratio, pre = self._ratio(s_new, *self._with_and_without_queue(after), em)
        return ratio, pair, idx, own, pre

    def _monitored(self, p0, p1, pc, ek, d, a, s_c, s_t, cutoff):
        """Pairs ``p0:p1`` of :meth:`_post_outage`: each monitored entry of their columns
        as ``(s_new, pair, edge, own, p_lk)``."""
        cols, sl = self.table.cols, slice(p0, p1)
        lens = cols.length[ek[sl]]
        offs = np.r_[0, np.cumsum(lens)[:-1]]
        pos = np.repeat(cols.start[ek[sl]] - offs, lens) + np.arange(int(offs[-1] + lens[-1]))
        # np.take, not [ ]: several times faster for these long index arrays
        idx, val = np.take(cols.idx, pos), np.take(cols.val, pos)
        flat = np.repeat(pc[sl] * s_t.shape[1], lens)
        flat += idx
        s_new = np.take(s_t.ravel(), flat)
        shift = np.repeat(s_c[sl] / d[sl], lens)
        shift *= val
        s_new += shift
        own_at = offs + self.table.own[ek[sl]]
        s_new[own_at] *= 1.0 - a[sl]
        mon = np.flatnonzero(np.abs(s_new) >= cutoff)
        # own entries among them (own_at increases: one per pair)
        at = np.minimum(np.searchsorted(own_at, mon), len(own_at) - 1)
        own = own_at[at] == mon
        # the pair of an entry: the last whose column starts at or before it
        pair = p0 + np.searchsorted(offs, mon, side="right") - 1
        return np.take(s_new, mon), pair, np.take(idx, mon), own, np.take(val, mon)

    def _flow_shift(self, r, c, s, s_t, cutoff, host):
        """The flow-shift part of the contingency set, checked on the branch it concerns.

        For every monitored ``(edge l, POI column j)`` pair (``|s_lj| ≥ cutoff``), every
        circuit whose outage moves at least the cut-off of its own flow onto ``l``
        (``|LODF_lc| = |p_lk| / d_c ≥ cutoff``, :meth:`geo.grid.lodf.Lodf.shifts`), and every
        other circuit of ``l`` itself. Returns ``ratio`` (headroom over ``|s'_lj|`` after
        the outage, where ``|s'_lj| ≥ cutoff``), ``col``, ``circuit``, ``edge``, ``own``.
        ``s_t`` is ``s`` with one row per POI column. The candidates are gathered by their
        materiality (:mod:`geo.grid.flowshift`).
        """
        if self._shift_order is None:
            self._shift_order = flowshift.kept_order(self, cutoff)
        return flowshift.flow_shift(self, self._shift_order, r, c, s, s_t, cutoff, host)

    def _with_and_without_queue(self, after) -> tuple[np.ndarray, np.ndarray]:
        """Post-outage flows ``after(f)`` from the base flows with queued loads (``f0``) and
        without (``base_flows``; the same array when there are none)."""
        f_new = after(self.f0)
        return f_new, (f_new if self.base_flows is self.f0 else after(self.base_flows))

    def _ratio(self, s_new, f_new, f_orig, em):
        """Load per MW of ``s_new`` that brings flow ``f_new`` to rating ``em`` (0 when
        already above it); unknown flows assumed at ``assumed_utilisation``.

        ``f_orig`` is the same post-outage flow in the base case *without* queued loads.
        Where that is already at or above the rating (a pre-existing violation of the base
        case) and ``n1_preexisting = "exclude"``, the violation is set aside up to a point:
        the ratio is the load that adds ``n1_preexisting_worsening_share`` of the rating to
        it (:data:`PREEXISTING`, never a limit, when that setting is None); a violation
        that queued loads create stays a limit of 0. Also returns which entries were set
        aside."""
        assumed = (1.0 - self.settings.assumed_utilisation) * em

        def headroom(f: np.ndarray) -> np.ndarray:
            head = np.where(s_new > 0, em - f, em + f)
            return np.where(np.isnan(head), assumed, head)

        head = headroom(f_new)
        ratio = np.maximum(head, 0.0) / np.abs(s_new)
        pre = np.zeros(len(ratio), bool)
        if self.settings.n1_preexisting == "exclude":
            pre = (head if f_orig is f_new else headroom(f_orig)) <= 0.0
            # set aside, but the load may add at most n1_preexisting_worsening_share of
            # the rating to it (0 with queued loads that created it: head ≤ 0 there too)
            share = self.settings.n1_preexisting_worsening_share
            ratio[pre] = (PREEXISTING if share is None
                          else share * em[pre] / np.abs(s_new[pre]))
        return ratio, pre


def empty(n: int) -> dict[str, np.ndarray]:
    """Firm columns for ``n`` substations where nothing is computed."""
    return {"firm_mw": np.full(n, np.nan), "firm_limiting_line_id": np.full(n, None, object),
            "firm_outage_line_id": np.full(n, None, object),
            "firm_kind": np.full(n, None, object),
            "firm_source": np.full(n, NOT_COMPUTED, object),
            "firm_preexisting": np.full(n, None, object)}
