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

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

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
        return (f"the loads fit together to {100 * self.fits:,.1f} % of their MW "
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
    reuse = {} if reuse is None else reuse
    loads = loads[loads["mw"].to_numpy(float) > 0]
    ref = float(reference_mw if reference_mw is not None else loads["mw"].max())
    cutoff = max(settings.distribution_factor_cutoff, 1e-12)
    subs = grid.substations
    ids = subs["sub_id"].to_numpy()
    island = subs["island"].to_numpy()
    q_node, q_mw = dispatch.queued_nodes(queued, ids)
    p_node, p_mw = dispatch.queued_nodes(loads, ids)
    cases = [(hosting.BASE_CASE, settings)]
    if n1 and settings.dispatch_stress_case:
        cases.append((hosting.STRESSED_CASE, settings.model_copy(update=dispatch.STRESSED)))
    best = Joint(np.inf, None, None, None, 0, cutoff * ref, False)
    outages, pre = 0, False
    for name, case in cases:
        # who serves the loads depends on the plants and settings only: kept for later
        dispatch_key = ("joint participation", id(plants), name)
        if dispatch_key not in reuse:
            gen = dispatch.participation(grid, plants, case)[0]
            area = (dispatch.areas(grid, case)[0] if name == hosting.BASE_CASE
                    else np.full(len(gen), -1, np.int64))     # stressed: the island
            reuse[dispatch_key] = (gen, area)
        gen, area = reuse[dispatch_key]
        # as geo.grid.hosting serves them: the queued loads first, then the portfolio's
        # loads from the headroom they leave (serve_queued takes it from its copy of gen)
        left = np.array(gen, dtype=float, copy=True)
        base_inj = dispatch.serve_queued(left, area, island, q_node, q_mw)
        new_inj = dispatch.serve_queued(left, area, island, p_node, p_mw)
        for k in np.unique(island[p_node]):
            found = _island_case(grid, plants, settings, reuse, queued, int(k), base_inj,
                                 new_inj, p_node, ref, cutoff, n1)
            if found is None:
                continue
            fits, kind, lim, out, screened, set_aside = found
            outages += screened
            pre = pre or set_aside
            if fits < best.fits * (1.0 - TOLERANCE):     # a tie names the base case
                best = Joint(fits, kind, lim, out, 0, cutoff * ref, False,
                             name if len(cases) > 1 else None)
    return Joint(best.fits, best.kind, best.limiting_line_id, best.outage_line_id, outages,
                 cutoff * ref, pre, best.case)


def _island_case(grid, plants, settings, reuse, queued, k, base_inj, new_inj, p_node, ref,
                 cutoff, n1):
    """One island in one dispatch case: ``(fits, kind, limiting, outage, outages screened,
    set aside)``; None when the island has no branch or no generation."""
    subs, e = grid.substations, grid.edges
    ids = subs["sub_id"].to_numpy()
    island = subs["island"].to_numpy()
    e_island = island[e["u"].to_numpy()]
    nodes = np.flatnonzero(island == k)
    if not (e_island == k).any():
        return None
    kept = _factorisation(grid, plants, settings, reuse, nodes, ids, queued)
    if kept is None:                     # no generation in the island
        return None
    slack, (lu, circ, table, _, line_ids) = kept
    ek = e[e_island == k]
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

    def flow(injection: np.ndarray) -> np.ndarray:
        theta = np.zeros(n)
        theta[: n - 1] = lu.solve(injection[keep])
        return flows @ theta

    base = ek["flow_mw"].to_numpy(float)
    f0 = base + flow(base_inj[nodes]) if np.any(base_inj[nodes]) else base
    s = (flow(new_inj[nodes]) / ref)[:, None]
    limit = ek["limit_mw"].to_numpy(float)
    # N-0: normal ratings on the branches the loads change by the cut-off
    assumed = (1.0 - settings.assumed_utilisation) * limit
    head = np.where(s[:, 0] > 0, limit - f0, limit + f0)
    head = np.maximum(np.where(np.isnan(f0), assumed, head), 0.0)
    mon = np.flatnonzero(np.abs(s[:, 0]) >= cutoff)
    ratio = head[mon] / np.abs(s[mon, 0])
    host = float(ratio.min()) if len(mon) else np.inf
    arg = int(mon[np.argmin(ratio)]) if len(mon) else -1
    kind, lim, out = contingency.N0, (line_ids[arg] if arg >= 0 else None), None
    screened, set_aside = 0, False
    if n1:
        scr = contingency.Screen(solve=lu.solve, red=red, eu=eu, ev=ev, bl=bl, f0=f0,
                                 limit=limit, circ=circ, settings=settings, flows=flows,
                                 lodf=table, base_flows=base)
        if table is None:                # keep the new LODF columns for later runs
            key = ("island", int(nodes[0]), n, slack)
            reuse[key] = (lu, circ, scr.table, *reuse[key][3:])
        b = loc[p_node[island[p_node] == k]]
        fm = scr.firm(b, s, np.array([host]), np.array([arg]),
                      poi_col=np.zeros(len(b), np.int64), islanding=False)
        host = float(fm["firm_mw"][0])  # min(N-0, every screened outage)
        kind, lim, out = fm["kind"][0], fm["limiting"][0], fm["outage"][0]
        screened = int(fm["outages"][0])
        set_aside = bool(fm["preexisting"][0])
    return host / ref, kind, lim, out, screened, set_aside


def _factorisation(grid, plants, settings, reuse, nodes, ids, queued):
    """``(slack, (lu, circ, lodf, edge_index, line_ids))`` of the island of ``nodes`` from
    ``reuse`` (any slack: the loads' injections sum to 0, so the flows do not depend on
    it); when none is there, one hosting run for a bus of the island makes it. None when
    the island has no generation to serve a load."""
    def find():
        keys = sorted(key for key in reuse if isinstance(key, tuple) and key[0] == "island"
                      and key[1] == int(nodes[0]) and key[2] == len(nodes))
        return (keys[0][3], reuse[keys[0]]) if keys else None

    found = find()
    if found is None:
        hosting.hosting(grid, plants, settings, sub_ids=[str(ids[nodes[0]])], queued=queued,
                        reuse=reuse)
        found = find()
    return found

