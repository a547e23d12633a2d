"""The joint screen: N-0 and N-1 of a set of new loads *together* (a portfolio).

Each POI's own screen (:mod:`geo.grid.contingency`) monitors the branches that its load
alone reaches the distribution-factor cut-off on. Loads that each stay below the cut-off on
a branch can overload it together; a cluster study looks at their sum. This screen does:

1. The loads (``sub_id``, ``mw``) are served like queued loads (:func:`geo.grid.hosting.hosting`
   ``queued=``: each from its area's headroom) on top of the base case with the queue
   (``queued``) in; one solve per island gives their combined flow change ``Δf`` (MW) on
   every branch.
2. ``Δf`` divided by the *reference* MW ``M`` (the largest load of the set, unless given)
   is screened as one more POI column ``s = Δf / M`` with the complete N-1 screen of
   :meth:`geo.grid.contingency.Screen.firm`: a branch is monitored, N-0 and after every
   screened outage, when the loads' *combined* MW change on it (``|Δf'| = M·|s'|``, after
   the outage by the LODFs) reaches ``distribution_factor_cutoff × M``, the MW at which the
   largest of the loads alone would be answerable for it (so the joint screen of one load
   is that POI's own screen, and a load no larger than the others never raises the bar).
   The outages screened are those that change that combined flow on some branch by half
   that much or more, those that move material flow onto a branch the loads change by
   half of it, and every circuit that ends at one of the POIs (the same rules as one
   POI's screen).
3. The screen's answer is the largest multiple ``x·M`` of that column that no monitored
   branch exceeds its rating for (normal N-0, emergency after an outage; a violation the
   base case has before any new load is set aside as in a POI's own screen):
   :attr:`Joint.fits` = ``x·M / M``, the share of every load that fits *together*. The set
   is firm together when ``fits ≥ 1``.

4. Both dispatch cases (docs/methods.md, "Dispatch cases"): the loads (and the queue) are
   served by the settings' own participation (``base``) and, with
   ``dispatch_stress_case``, by nameplate over the interconnection (``stressed``); each case
   is screened as above and the lower share binds (:attr:`Joint.case` names it; a tie
   names the base case). A set that fits in one case but not the other is not firm
   together.

Bridges are left to each POI's own screen (a bridge that islands a POI already sets its
firm MW to 0). With ``n1=False`` (flexible loads) the screen is N-0 alone, in the base case
alone (a site's own ``hosting_mw`` is the base case's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from geo.grid import contingency, dispatch, hosting
from geo.grid.model import GridGraph
from geo.settings import Settings

#: Relative slack of "fits" (a set that exactly uses up a limit is firm together).
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Joint:
    """What :func:`screen` finds: ``fits`` (the share of every load that fits together; inf
    when no branch is monitored), the binding element (``kind`` ``"n-0"`` or ``"outage"``,
    ``limiting_line_id``, ``outage_line_id``), the outages screened, the MW threshold of a
    monitored branch (``cutoff_mw``), whether a pre-existing violation was set aside, and
    the dispatch case that binds (``case``: ``"base"`` or ``"stressed"``; None when one case
    alone was screened)."""

    fits: float
    kind: str | None
    limiting_line_id: str | None
    outage_line_id: str | None
    outages: int
    cutoff_mw: float
    preexisting: bool
    case: str | None = None
    #: True when ``fits`` is :func:`bound_each`'s upper bound, not the screen's answer.
    bound: bool = False

    @property
    def firm(self) -> bool:
        return bool(self.fits >= 1.0 - TOLERANCE)

    def describe(self) -> str:
        """One line: the share that fits and what binds."""
        if not np.isfinite(self.fits):
            return "no branch changes by the cut-off"
        where = (f"line {self.limiting_line_id}" + (f" after the outage of line "
                                                   f"{self.outage_line_id}"
                                                   if self.kind == contingency.OUTAGE else
                                                   " (N-0)"))
        case = "" if self.case is None else f"; {self.case} case"
        return (f"the loads fit together to {'at most ' if self.bound else ''}"
                f"{100 * self.fits:,.1f} % of their MW "
                f"({where}{case})")


def screen(grid: GridGraph, plants: gpd.GeoDataFrame | None, settings: Settings,
           loads: pd.DataFrame, *, queued: pd.DataFrame | None = None,
           reuse: dict | None = None, reference_mw: float | None = None,
           n1: bool = True) -> Joint:
    """The joint N-0 and N-1 screen of ``loads`` (``sub_id``, ``mw``) together, with the
    ``queued`` loads in the base case (see the module docstring), in each dispatch case:
    the settings' own participation and, with ``dispatch_stress_case``, the stressed one
    (:data:`geo.grid.dispatch.STRESSED`); the lower share binds and is named
    (:attr:`Joint.case`).

    ``reuse`` is :func:`geo.grid.hosting.hosting`'s: an island's factorisation and LODF
    columns are taken from there (one hosting run fills it where they are missing) and new
    columns are kept there. ``reference_mw`` is ``M`` (default: the largest load).
    ``n1=False`` screens N-0 alone (flexible loads, :mod:`geo.portfolio`), in the base case
    alone, as a site's own ``hosting_mw`` is.
    """
    return screen_each(grid, plants, settings, loads, None, queued=queued, reuse=reuse,
                       reference_mw=reference_mw, n1=n1)[0]


def screen_each(grid: GridGraph, plants: gpd.GeoDataFrame | None, settings: Settings,
                loads: pd.DataFrame, extra: pd.DataFrame | None, *,
                queued: pd.DataFrame | None = None, reuse: dict | None = None,
                reference_mw: float | None = None, n1: bool = True) -> list[Joint]:
    """:func:`screen` of ``loads`` with each row of ``extra`` added in turn: element ``j``
    is the joint screen of ``loads`` plus ``extra``'s row ``j`` (one element, ``loads``
    alone, when ``extra`` is None). The sets are screened in one pass: the base case, the
    factorisation and the screen of each island and case are built once, the sets' flow
    changes are one multi-column solve, and each set is one column of one
    :meth:`geo.grid.contingency.Screen.firm` call (whose columns are screened
    independently), so every element is what :func:`screen` gives for that set.
    :func:`geo.portfolio.choose` screens the candidates of a batch against the kept set so.
    """
    reuse = {} if reuse is None else reuse
    sets, refs, cutoff, runs = _runs(grid, plants, settings, loads, extra, queued, reuse,
                                     reference_mw, n1)
    k = len(sets)
    fits = np.full(k, np.inf)
    found: list[tuple] = [(None, None, None, None)] * k      # kind, limiting, outage, case
    outages, pre = np.zeros(k, np.int64), np.zeros(k, bool)
    # SuperLU's triangular solves call BLAS on small supernodes: one thread (as in
    # geo.grid.hosting; threaded OpenBLAS only spins there)
    with threadpool_limits(limits=1, user_api="blas"):
        for name, several, isl, cols, base_inj, new_inj, p_nodes in runs:
            got = _island_case(grid, plants, settings, reuse, queued, isl, base_inj, new_inj,
                               p_nodes, refs[cols], cutoff, n1)
            if got is None:
                continue
            for i, j in enumerate(cols):
                outages[j] += got[4][i]
                pre[j] |= got[5][i]
                if got[0][i] < fits[j] * (1.0 - TOLERANCE):     # a tie names the base case
                    fits[j] = got[0][i]
                    found[j] = (got[1][i], got[2][i], got[3][i], name if several else None)
    return [Joint(float(fits[j]), found[j][0], found[j][1], found[j][2], int(outages[j]),
                  float(cutoff * refs[j]), bool(pre[j]), found[j][3]) for j in range(k)]


def _runs(grid, plants, settings, loads, extra, queued, reuse, reference_mw, n1):
    """The sets of :func:`screen_each` (``loads`` plus each row of ``extra``), their ``M``,
    the cut-off, and a generator of what is screened: per dispatch case and island (in
    that order, islands ascending, as one set's screen goes), ``(case name, whether
    several cases are screened, island, the sets with a load there, the base case's
    injection, one column of the sets' injections each, their load buses)``."""
    loads = loads[["sub_id", "mw"]]
    sets = ([loads] if extra is None else
            [pd.concat([loads, extra[["sub_id", "mw"]].iloc[[j]]], ignore_index=True)
             for j in range(len(extra))])
    sets = [s[s["mw"].to_numpy(float) > 0] for s in sets]
    refs = np.array([float(reference_mw if reference_mw is not None else s["mw"].max())
                     for s in sets])
    cutoff = max(settings.distribution_factor_cutoff, 1e-12)
    subs = grid.substations
    ids = subs["sub_id"].to_numpy()
    island = subs["island"].to_numpy()
    q_node, q_mw = dispatch.queued_nodes(queued, ids)
    placed = [dispatch.queued_nodes(s, ids) for s in sets]
    where = [np.unique(island[p_node]) for p_node, _ in placed]
    cases = _cases(grid, plants, settings, reuse, n1)

    def runs():
        for name, gen, area in cases:
            # as geo.grid.hosting serves them: the queued loads first, then each set's
            # loads from the headroom they leave (serve_queued takes it from its copy)
            left = np.array(gen, dtype=float, copy=True)
            base_inj = dispatch.serve_queued(left, area, island, q_node, q_mw)
            new_inj = np.column_stack([dispatch.serve_queued(left.copy(), area, island,
                                                             p_node, p_mw)
                                       for p_node, p_mw in placed])
            for isl in np.unique(np.concatenate(where)):
                cols = np.flatnonzero([isl in w for w in where])
                yield (name, len(cases) > 1, int(isl), cols, base_inj, new_inj[:, cols],
                       [placed[j][0] for j in cols])

    return sets, refs, cutoff, runs() if sets else iter(())


def _cases(grid, plants, settings, reuse, n1):
    """``(name, participation MW, area)`` of each dispatch case screened (kept in
    ``reuse``: who serves the loads depends on the plants and settings only)."""
    cases = [(hosting.BASE_CASE, settings)]
    if n1 and settings.dispatch_stress_case:
        cases.append((hosting.STRESSED_CASE, settings.model_copy(update=dispatch.STRESSED)))
    for name, case in cases:
        dispatch_key = ("joint participation", id(plants), name)
        if dispatch_key not in reuse:
            gen = dispatch.participation(grid, plants, case)[0]
            area = (dispatch.areas(grid, case)[0] if name == hosting.BASE_CASE
                    else np.full(len(gen), -1, np.int64))     # stressed: the island
            reuse[dispatch_key] = (gen, area)
    return [(name, *reuse[("joint participation", id(plants), name)]) for name, _ in cases]


def _island_case(grid, plants, settings, reuse, queued, k, base_inj, new_inj, p_nodes, refs,
                 cutoff, n1):
    """One island in one dispatch case for the sets of :func:`screen_each` whose loads are
    there (``new_inj``: one column of injections per set, ``p_nodes`` their load buses,
    ``refs`` their ``M``): per set ``fits``, ``kind``, ``limiting``, ``outage``, outages
    screened and set aside (arrays); None when the island has no branch or no
    generation."""
    isl = _Island.make(grid, plants, settings, reuse, queued, k, base_inj, new_inj, refs,
                       cutoff)
    if isl is None:
        return None
    cols = len(refs)
    host, arg = isl.n0()
    kind = np.full(cols, contingency.N0, dtype=object)
    lim = np.full(cols, None, dtype=object)
    lim[arg >= 0] = isl.line_ids[arg[arg >= 0]]
    out = np.full(cols, None, dtype=object)
    screened, set_aside = np.zeros(cols, np.int64), np.zeros(cols, bool)
    if n1:
        scr = isl.screen()
        here = [isl.loc[p[isl.island[p] == k]] for p in p_nodes]
        b = np.concatenate(here)
        poi_col = np.repeat(np.arange(cols), [len(h) for h in here])
        fm = scr.firm(b, isl.s, host, arg, poi_col=poi_col, islanding=False)
        host = fm["firm_mw"].astype(float)  # min(N-0, every screened outage)
        kind, lim, out = fm["kind"], fm["limiting"], fm["outage"]
        screened = fm["outages"].astype(np.int64)
        set_aside = fm["preexisting"].astype(bool)
    return host / refs, kind, lim, out, screened, set_aside


@dataclass
class _Island:
    """One island in one dispatch case, set up for some sets of loads: the factorisation
    and circuits kept in ``reuse``, the base flows with the queue (``f0``) and without
    (``base``), and ``s``, each set's combined flow change per MW of its ``M`` (one
    column a set)."""

    reuse: dict
    settings: Settings
    key: tuple
    island: np.ndarray
    loc: np.ndarray
    lu: Any
    circ: Any
    table: Any
    line_ids: np.ndarray
    red: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    bl: np.ndarray
    flows: Any
    f0: np.ndarray
    base: np.ndarray
    limit: np.ndarray
    s: np.ndarray
    cutoff: float

    @classmethod
    def make(cls, grid, plants, settings, reuse, queued, k, base_inj, new_inj, refs, cutoff,
             island_rows: bool = False) -> _Island | None:
        """``new_inj``: one column per set, a row per bus of the grid (``island_rows``: per
        bus of island ``k``, in order)."""
        subs, e = grid.substations, grid.edges
        island = subs["island"].to_numpy()
        ids = subs["sub_id"].to_numpy()
        nodes = np.flatnonzero(island == k)
        kept = _factorisation(grid, plants, settings, reuse, nodes, ids, queued)
        if kept is None:                     # no branch, or no generation in the island
            return None
        slack, (lu, circ, table, _, line_ids) = kept
        # what the island's runs share: its edges' ends, admittances, flows and ratings
        shape_key = ("joint island", int(nodes[0]), len(nodes), slack)
        if shape_key not in reuse:
            ek = e[island[e["u"].to_numpy()] == k]
            n, m = len(nodes), len(ek)
            loc = np.full(nodes.max() + 1, -1, np.int64)
            loc[nodes] = np.arange(n)
            eu, ev = loc[ek["u"].to_numpy()], loc[ek["v"].to_numpy()]
            bl = 1.0 / ek["reactance_pu"].to_numpy(float)
            keep = np.arange(n) != slack
            red = np.cumsum(keep) - 1
            red[slack] = n - 1
            rows = np.r_[np.arange(m), np.arange(m)]
            flows = sparse.csr_matrix((np.r_[bl, -bl], (rows, np.r_[red[eu], red[ev]])),
                                      shape=(m, n))
            reuse[shape_key] = (loc, eu, ev, bl, keep, red, flows,
                                ek["flow_mw"].to_numpy(float), ek["limit_mw"].to_numpy(float))
        loc, eu, ev, bl, keep, red, flows, base, limit = reuse[shape_key]
        n = len(nodes)

        def flow(injection: np.ndarray) -> np.ndarray:
            theta = np.zeros((n, *injection.shape[1:]))
            theta[: n - 1] = lu.solve(injection[keep])
            return flows @ theta

        f0 = base + flow(base_inj[nodes]) if np.any(base_inj[nodes]) else base
        return cls(reuse, settings, ("island", int(nodes[0]), n, slack), island, loc, lu,
                   circ, table, line_ids, red, eu, ev, bl, flows, f0, base, limit,
                   flow(new_inj if island_rows else new_inj[nodes]) / refs, cutoff)

    def n0(self) -> tuple[np.ndarray, np.ndarray]:
        """Per set, the N-0 share that fits (normal ratings on the branches the loads
        change by the cut-off; inf when none) and its binding edge (the lowest within
        ``contingency.TIE`` of the minimum, -1 when none)."""
        s, f0, limit = self.s, self.f0, self.limit
        assumed = (1.0 - self.settings.assumed_utilisation) * limit
        r, c = np.nonzero(np.abs(s) >= self.cutoff)
        sv = s[r, c]
        head = np.where(sv > 0, limit[r] - f0[r], limit[r] + f0[r])
        head = np.maximum(np.where(np.isnan(f0[r]), assumed[r], head), 0.0)
        ratio = head / np.abs(sv)
        host = np.full(s.shape[1], np.inf)
        np.minimum.at(host, c, ratio)
        arg = np.full(s.shape[1], -1, np.int64)
        # the lowest edge within contingency.TIE of the minimum: not the solve's last bits
        hit = np.flatnonzero(ratio <= host[c] * (1.0 + contingency.TIE))
        hit = hit[np.lexsort((r[hit], c[hit]))]
        first = np.r_[True, np.diff(c[hit]) > 0] if len(hit) else np.zeros(0, bool)
        arg[c[hit[first]]] = r[hit[first]]
        return host, arg

    def screen(self) -> contingency.Screen:
        """The island's N-1 screen (its LODF store kept in ``reuse`` for later runs)."""
        scr = contingency.Screen(solve=self.lu.solve, red=self.red, eu=self.eu, ev=self.ev,
                                 bl=self.bl, f0=self.f0, limit=self.limit, circ=self.circ,
                                 settings=self.settings, flows=self.flows, lodf=self.table,
                                 base_flows=self.base)
        if self.table is None:               # keep the new LODF columns for later runs
            self.reuse[self.key] = (self.lu, self.circ, scr.table, *self.reuse[self.key][3:])
            self.table = scr.table
        return scr


def _factorisation(grid, plants, settings, reuse, nodes, ids, queued):
    """``(slack, (lu, circ, lodf, edge_index, line_ids))`` of the island of ``nodes`` from
    ``reuse`` (any slack: the loads' injections sum to 0, so the flows do not depend on
    it); when none is there, one hosting run for a bus of the island makes it. None when
    the island has no branch or no generation to serve a load."""
    def find():
        keys = sorted(key for key in reuse if isinstance(key, tuple) and key[0] == "island"
                      and key[1] == int(nodes[0]) and key[2] == len(nodes))
        return (keys[0][3], reuse[keys[0]]) if keys else None

    found = find()
    if found is None:
        if not np.isin(grid.edges["u"].to_numpy(), nodes).any():
            return None
        hosting.hosting(grid, plants, settings, sub_ids=[str(ids[nodes[0]])], queued=queued,
                        reuse=reuse)
        found = find()
    return found

