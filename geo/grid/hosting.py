"""DC load-hosting capacity (withdrawal headroom) at substations.

For each island of the grid (docs/methods.md, "Load-hosting capacity"):

1. The reduced B matrix (slack row and column removed) is built from the merged edges'
   reactances and factorised once with a sparse LU (:func:`scipy.sparse.linalg.splu`).
2. One MW of new load at bus b is served by the island's generators of
   ``settings.participation_fuels`` in proportion to their capacity (vector w, sum 1). The
   injection change is ``w − e_b``; solving ``B θ = w − e_b`` and taking
   ``s_lb = (θ_i − θ_j) / x_l`` gives the flow change on every edge (oriented from its
   ``from_sub`` to its ``to_sub``), which is ``PTDF·w − PTDF[:, b]`` without ever forming
   the PTDF: targets are solved in batches of ``settings.hosting_batch`` right-hand sides.
3. Headroom of an edge in the direction of the change: ``limit − f0`` when ``s > 0``,
   ``limit + f0`` when ``s < 0`` (``f0`` the base-case flow; where unknown,
   ``(1 − assumed_utilisation)·limit``), never below 0. ``limit`` is the merged edge's
   ``limit_mw`` (its first circuit at its rating).
4. Edges are monitored when ``|s| ≥ settings.distribution_factor_cutoff`` (default 5 %, the
   distribution-factor cut-off MISO and PJM use for thermal constraints in
   interconnection studies: smaller factors are left to the transmission owner's own
   studies, and in a model this coarse they mostly reflect modelling noise).
5. ``hosting_mw = min(headroom / |s|)`` over monitored edges, never negative, and at most
   the summed rating of the edges that touch b. ``limiting_line_id`` names the line(s) of
   the arg-min edge (``limit_kind = "branch"``; of edges within :data:`TIE_RTOL` of the
   minimum, the first in the island's edge order); when the incident-rating cap binds it
   lists every line touching b (``limit_kind = "incident_rating"``). Only a cap lower than
   the branch limit by more than :data:`TIE_RTOL` binds: a tie (a radial POI whose one line
   is both) is ``branch``, so the last bits of a solve never flip the label.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.linalg import splu
from threadpoolctl import threadpool_limits

from geo._arrays import NONE, as_bool
from geo._memory import reused_heap
from geo.errors import GridError
from geo.grid import circuits, contingency, dispatch, island_runs
from geo.grid.lodf import Lodf
from geo.grid.order import hilbert_index
from geo.settings import Settings

if TYPE_CHECKING:
    from geo.grid.model import GridGraph

LOG = logging.getLogger(__name__)

#: Plant columns that hosting depends on (and that the cache key hashes).
PLANT_COLUMNS = ("plant_id", "fuel", "capacity_mw", "base_output_mw", "online_capacity_mw",
                 "sub_id", "geometry", "voltage_kv")

COMPUTED, BELOW_MIN_KV, NO_GENERATION, NO_LINES, NOT_REQUESTED = (
    "computed", "below_min_kv", "no_generation", "no_lines", "not_requested")
BRANCH, INCIDENT = "branch", "incident_rating"
#: ``firm_case`` values: the dispatch case that binds ``firm_mw`` (docs/methods.md,
#: "Dispatch cases"): the settings' own participation, or :data:`dispatch.STRESSED`.
BASE_CASE, STRESSED_CASE = "base", "stressed"
#: Relative tolerance within which two limits (branches, or a branch and the incident-rating
#: cap) tie: far above a solve's rounding (1e-13 of the MW), below the 1e-7 results keep.
TIE_RTOL = 1e-9


#: The ``reuse`` key of the edges' own PTDFs (:func:`self_ptdf`), seeded into new LODF stores.
SELF_PTDF = "self_ptdf"


def hosting(grid: GridGraph, plants: gpd.GeoDataFrame | None, settings: Settings | None = None,
            *, sub_ids: list[str] | None = None,
            progress: Callable[[int, int], None] | None = None,
            queued: pd.DataFrame | None = None, reuse: dict | None = None) -> pd.DataFrame:
    """Load-hosting capacity of every substation at or above ``settings.hosting_min_kv``.

    Parameters
    ----------
    grid : GridGraph
    plants : geopandas.GeoDataFrame or None
        Canonical plants layer (who picks up the new load).
    settings : Settings, optional
        Defaults to ``grid.settings``.
    sub_ids : list of str, optional
        Compute only these substations (any voltage); others get ``not_requested``.
    progress : callable, optional
        ``progress(done, total)`` after each batch of solves.
    queued : pandas.DataFrame, optional
        Loads already queued or under construction (``sub_id`` of their POI, ``mw``). They
        are added to the base case first: each is served like a new load (headroom of its
        area, :mod:`geo.grid.dispatch`), its flows are added to the base flows, and the headroom
        it uses is taken from the plants, so every figure is what remains after them.
    reuse : dict, optional
        An empty dict, then passed again to later calls *with the same grid and settings*
        (e.g. :func:`geo.portfolio.choose`, which re-runs with more queued loads): it keeps
        each island's factorisation, circuits and solved LODF columns, which do not depend
        on loads or dispatch, so later calls do not solve them again. A first call may find
        ``reuse["self_ptdf"]`` there: every edge's own PTDF (:func:`self_ptdf`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``sub_id`` (all substations): ``hosting_mw`` (NaN where not computed),
        ``limiting_line_id`` (``;``-joined line ids), ``limit_kind`` (``branch`` or
        ``incident_rating``), ``hosting_status`` (``computed``, ``below_min_kv``,
        ``no_generation``, ``no_lines``, ``not_requested``). ``attrs["report"]`` counts
        them and gives ``median_mw`` and ``seconds``.
    """
    settings = settings or grid.settings
    t0 = time.perf_counter()
    subs, e = grid.substations, grid.edges
    n = len(subs)
    ids = subs["sub_id"].to_numpy()
    # a substation's other voltage levels (geo.grid.levels) are nodes, never POIs
    level = (subs["level_of"].notna().to_numpy() if "level_of" in subs
             else np.zeros(n, dtype=bool))
    if sub_ids is None:
        status = np.where(subs["voltage_kv"].to_numpy(float) >= settings.hosting_min_kv,
                          COMPUTED, BELOW_MIN_KV).astype(object)
        status[level] = NOT_REQUESTED
    else:
        unknown = set(map(str, sub_ids)) - set(ids[~level])
        if unknown:
            raise GridError(f"unknown sub_id(s) for hosting: {sorted(unknown)[:10]}")
        status = np.where(pd.Index(ids).isin(set(map(str, sub_ids))), COMPUTED,
                          NOT_REQUESTED).astype(object)
    gen, info = dispatch.participation_kept(grid, plants, settings, reuse)
    area, area_labels = dispatch.areas(grid, settings)
    island = subs["island"].to_numpy()
    q_node, q_mw = dispatch.queued_nodes(queued, ids)
    injection = dispatch.serve_queued(gen, area, island, q_node, q_mw)
    if len(q_node):
        info["queued_loads"] = len(q_node)
        info["queued_mw"] = float(q_mw.sum())
    # the stressed case (dispatch.STRESSED): its own participation and queued flows
    gen2 = injection2 = None
    if settings.dispatch_stress_case:
        stressed = settings.model_copy(update=dispatch.STRESSED)
        gen2, _ = dispatch.participation_kept(grid, plants, stressed, reuse)
        injection2 = dispatch.serve_queued(gen2, np.full(n, -1, np.int64), island, q_node,
                                           q_mw)
    n_isl = island.max() + 1
    isl_gen = np.bincount(island, weights=gen, minlength=n_isl)
    isl_edges = np.bincount(island[e["u"].to_numpy()], minlength=n_isl)
    wanted = status == COMPUTED
    status[wanted & (isl_edges[island] == 0)] = NO_LINES
    status[(status == COMPUTED) & (isl_gen[island] <= 0)] = NO_GENERATION
    host = np.full(n, np.nan)
    area_mw = np.full(n, np.nan)
    area_name = np.full(n, None, dtype=object)
    limiting = np.full(n, None, dtype=object)
    kind = np.full(n, None, dtype=object)
    firm = contingency.empty(n)
    firm.update({"firm_case": np.full(n, None, dtype=object),
                 "firm_base_mw": np.full(n, np.nan), "firm_stressed_mw": np.full(n, np.nan)})
    todo = np.flatnonzero(status == COMPUTED)
    total, done = len(todo), 0
    e_island = island[e["u"].to_numpy()]
    ln = reuse.get("lines") if reuse is not None else None
    if ln is None:
        ln = circuits.in_graph_lines(grid.lines, pd.Series(np.arange(n), index=ids))
        if reuse is not None:
            reuse["lines"] = ln
    ln_island = island[ln["u"].to_numpy()] if len(ln) else np.zeros(0, np.int64)
    n1 = {"solves": 0, "shared": 0, "skipped_bridges": 0, "outages_screened": 0,
          "shift_checks": 0}
    xy = np.c_[shapely.get_x(subs.geometry.array), shapely.get_y(subs.geometry.array)]
    # an island of many POIs is screened in runs with a paged LODF store, which go to
    # worker processes (geo.grid.island_runs); the runs are the same whoever computes them
    jobs: list[island_runs.Job] = []
    for k in np.unique(island[todo]):
        nodes = np.flatnonzero(island == k)
        targets = todo[island[todo] == k]
        cols, tcol = dispatch.island_columns(gen[nodes], area[nodes], area[targets])
        area_mw[targets] = cols.sum(axis=0)[tcol]
        area_name[targets] = np.where(tcol > 0, area_labels[np.maximum(area[targets], 0)]
                                      if len(area_labels) else NONE, "interconnection")
        case2 = (None if gen2 is None or injection2 is None
                 else (gen2[nodes], injection2[nodes]))
        args = {"nodes": nodes, "e": e[e_island == k], "gen": cols, "tcol": tcol,
                "targets": targets, "xy": xy, "settings": settings,
                "circuit_lines": ln[ln_island == k], "injection": injection[nodes],
                "case2": case2}
        island_parts = island_runs.parts(len(targets), settings.hosting_batch)
        jobs += [island_runs.Job(_island, args, part, len(island_parts) > 1)
                 for part in island_parts]
    kept = reuse if reuse is not None else {}
    n_workers = island_runs.workers(settings.grid_workers, sum(job.paged for job in jobs))
    pages = island_runs.share_pages(jobs) if n_workers > 1 else None
    found: dict[int, list[np.ndarray]] = {}
    paged_solves = 0
    # SuperLU's triangular solves call BLAS on small supernodes: threaded OpenBLAS only
    # spins there (10x the CPU time on a busy 2-core machine), so one thread; the batches'
    # large arrays reuse the heap instead of fresh pages (geo._memory.reused_heap)
    with threadpool_limits(limits=1, user_api="blas"), reused_heap(), \
            pages or contextlib.nullcontext():
        for job, result in zip(jobs, island_runs.results(jobs, n_workers, kept), strict=True):
            for name, count in result.counts.items():
                if name != "solves" or result.pkk is None:   # a paged store's: by pages
                    n1[name] += count
            if result.pkk is not None:
                paged_solves += result.counts["solves"]
                found.setdefault(job.island, []).append(result.pkk)
            for rows, h, lim, knd, fm, fm2 in result.batches:
                host[rows], limiting[rows], kind[rows] = h, lim, knd
                firm["firm_base_mw"][rows] = fm["firm_mw"]
                if fm2 is not None:
                    firm["firm_stressed_mw"][rows] = fm2["firm_mw"]
                    use2 = fm2["firm_mw"] < fm["firm_mw"] * (1.0 - contingency.TIE)
                    firm["firm_case"][rows] = np.where(use2, STRESSED_CASE, BASE_CASE)
                    fm = {key: np.where(use2, fm2[key], fm[key]) if key != "outages"
                          else fm[key] for key in fm}      # outages: the base case's
                else:
                    firm["firm_case"][rows] = BASE_CASE
                for col, key in (("firm_mw", "firm_mw"), ("firm_limiting_line_id", "limiting"),
                                 ("firm_outage_line_id", "outage"), ("firm_kind", "kind"),
                                 ("firm_source", "source"),
                                 ("firm_preexisting", "preexisting")):
                    firm[col][rows] = fm[key]
                n1["outages_screened"] += int(fm["outages"].sum())
                done += len(rows)
                if progress is not None:
                    progress(done, total)
    if found:
        n1["solves"] += island_runs.settle(jobs, found, reuse, n_workers, paged_solves)
    out = pd.DataFrame({"hosting_mw": host, "limiting_line_id": limiting, "limit_kind": kind,
                        "hosting_status": status, **firm, "participation_area": area_name,
                        "area_headroom_mw": area_mw}, index=pd.Index(ids, name="sub_id"))
    out = out[~level] if level.any() else out
    counts = pd.Series(status).value_counts()
    seconds = time.perf_counter() - t0
    computed = host[status == COMPUTED]
    out.attrs["report"] = {
        "computed": len(computed),
        "median_mw": float(np.median(computed)) if len(computed) else None,
        "seconds": round(seconds, 3),
        "no_generation": int(counts.get(NO_GENERATION, 0)),
        "no_lines": int(counts.get(NO_LINES, 0)),
        "islands_without_generation": int(((isl_gen <= 0) & (isl_edges > 0)).sum()),
        "limited_by_incident_rating": int((kind == INCIDENT).sum()),
        "distribution_factor_cutoff": settings.distribution_factor_cutoff,
        "firm_median_mw": float(np.median(firm["firm_mw"][status == COMPUTED]))
        if len(computed) else None,
        "firm_estimated": int((firm["firm_source"] == contingency.ESTIMATED).sum()),
        "firm_islanded": int((firm["firm_kind"] == contingency.ISLANDED).sum()),
        "firm_preexisting": int(as_bool(firm, "firm_preexisting").sum()),
        "firm_stressed_binding": int((firm["firm_case"] == STRESSED_CASE).sum()),
        "n1_preexisting": settings.n1_preexisting,
        "n1_lodf_solves": n1["solves"],
        "n1_lodf_from_poi_pairs": n1["shared"],
        "n1_outages_screened": n1["outages_screened"],
        "n1_bridges_not_modelled": n1["skipped_bridges"],
        "n1_flow_shift_checks": n1["shift_checks"],
        **info,
    }
    LOG.info("hosting: %d substations in %.1f s", len(computed), seconds)
    return out


def _island(nodes: np.ndarray, e: pd.DataFrame, gen: np.ndarray, tcol: np.ndarray,
            targets: np.ndarray, xy: np.ndarray,
            settings: Settings, circuit_lines: pd.DataFrame, n1: dict[str, int],
            injection: np.ndarray | None = None, reuse: dict | None = None,
            case2: tuple[np.ndarray, np.ndarray] | None = None, part: slice | None = None,
            paged: bool = False, page_dir: str | None = None, tables: list | None = None):
    """Yield ``(rows, hosting_mw, limiting_line_id, limit_kind, firm, firm2)`` per batch for
    one island (``firm``: :meth:`geo.grid.contingency.Screen.firm`); N-1 counters go to
    ``n1``. ``injection`` (MW per bus, summing to 0: queued loads and who serves them) is
    added to the base case before anything is computed. ``reuse`` (see :func:`hosting`)
    keeps the factorisation, the circuits and the LODF store of the island across calls.

    ``case2``: the stressed case's participation MW and queued injection per bus; then
    ``firm2`` is its firm hosting (else None). It needs no solve per POI: the flow change
    per MW is linear in the participation, ``s2 = s − G[:, col] + g2`` with ``G`` and
    ``g2`` the flows of the participation vectors alone (one solve each), and its N-1
    screen shares the island's LODF store.

    ``part``: only these POIs of the island's screen order (a run, :mod:`geo.grid.island_runs`);
    ``paged``: the LODF store solves whole pages (:attr:`geo.grid.lodf.Lodf.paged`; a store
    kept in ``reuse`` is used only when it pages alike, and no own PTDF is seeded into it),
    sharing pages through ``page_dir`` when given;
    ``tables``: the store used is appended to it."""
    n, m = len(nodes), len(e)
    loc = np.full(nodes.max() + 1, -1, dtype=np.int64)
    loc[nodes] = np.arange(n)
    eu, ev = loc[e["u"].to_numpy()], loc[e["v"].to_numpy()]
    bl = 1.0 / e["reactance_pu"].to_numpy(float)
    rows = np.r_[np.arange(m), np.arange(m)]
    a_x = sparse.csr_matrix((np.r_[bl, -bl], (rows, np.r_[eu, ev])), shape=(m, n))
    inc = sparse.csr_matrix((np.r_[np.ones(m), -np.ones(m)], (rows, np.r_[eu, ev])),
                            shape=(m, n))
    bmat = (inc.T @ a_x).tocsc()
    # participation columns (whole island, then areas), each summing to 1 per MW of load
    w = gen / np.where(gen.sum(axis=0) > 0, gen.sum(axis=0), 1.0)
    slack = int(np.argmax(gen[:, 0]))
    keep = np.arange(n) != slack
    red = np.cumsum(keep) - 1
    # the factorisation and the LODF store depend on the topology and the slack only
    key = ("island", int(nodes[0]), n, slack)
    kept = reuse.get(key) if reuse is not None else None
    if kept is None:
        try:
            lu = splu(bmat[keep][:, keep].tocsc(), permc_spec="COLAMD")
        except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
            raise GridError(f"singular B matrix in an island of {n} substations: "
                            f"{exc}") from exc
        circ = circuits.circuits(circuit_lines, e["u"].to_numpy(), e["v"].to_numpy())
        line_ids = circuits.edge_names(e)
        kept = (lu, circ, None, e.index.to_numpy(), line_ids)
    lu, circ, lodf, edge_index, line_ids = kept
    if lodf is not None and lodf.paged != paged:
        lodf = None
    fresh = lodf is None
    w_red = w[keep]
    # POIs in Hilbert-curve order of their places: a batch is a compact patch of the map,
    # so most edges near its POIs join two of them and their LODF columns are differences
    # of the batch's own solutions (Screen.offer) instead of solves
    order = np.argsort(hilbert_index(xy[targets]), kind="stable")
    targets, tcol = targets[order], tcol[order]
    if part is not None:
        targets, tcol = targets[part], tcol[part]
    # row of each bus in the solution buffer; the slack's angle is 0 in an extra last row
    red[slack] = n - 1
    iu, iv = red[eu], red[ev]
    limit = e["limit_mw"].to_numpy(float)
    # flow on every edge of a solution θ (rows ordered as the solution buffer): b (θ_u − θ_v)
    flows = sparse.csr_matrix((np.r_[bl, -bl], (rows, np.r_[iu, iv])), shape=(m, n))
    f0 = base_flows = e["flow_mw"].to_numpy(float)
    if injection is not None and np.any(injection):
        theta_q = np.zeros(n)
        theta_q[: n - 1] = lu.solve(injection[keep])  # the slack's angle (last row) is 0
        f0 = f0 + flows @ theta_q
    heads = _headroom(f0, limit, settings)
    cap_inc = (np.bincount(eu, weights=e["capacity_mw"].to_numpy(float), minlength=n)
               + np.bincount(ev, weights=e["capacity_mw"].to_numpy(float), minlength=n))
    if lodf is None and paged:
        lodf = Lodf(solve=lu.solve, red=red, eu=eu, ev=ev, bl=bl, flows=flows, circ=circ,
                    settings=settings, paged=True, page_dir=page_dir)
    screen = contingency.Screen(solve=lu.solve, red=red, eu=eu, ev=ev, bl=bl, f0=f0,
                                limit=limit, circ=circ, settings=settings, flows=flows,
                                lodf=lodf, base_flows=base_flows)
    if reuse is not None:
        if fresh and not paged and reuse.get(SELF_PTDF) is not None:
            screen.table.seed_pkk(reuse[SELF_PTDF][edge_index])
        reuse[key] = (lu, circ, screen.table, edge_index, line_ids)
    if tables is not None:
        tables.append(screen.table)
    screen2 = g_cols = g2 = None
    if case2 is not None:
        gen2, inj2 = case2
        w2 = gen2 / max(gen2.sum(), 1e-300)
        theta_w = np.zeros((n, w.shape[1] + 1))
        theta_w[: n - 1] = lu.solve(np.c_[w, w2][keep])
        part_flows = flows @ theta_w
        g_cols, g2 = part_flows[:, :-1], part_flows[:, -1]
        f2 = base_flows
        if np.any(inj2):
            theta_q = np.zeros(n)
            theta_q[: n - 1] = lu.solve(inj2[keep])
            f2 = base_flows + flows @ theta_q
        heads2 = _headroom(f2, limit, settings)
        screen2 = contingency.Screen(solve=lu.solve, red=red, eu=eu, ev=ev, bl=bl, f0=f2,
                                     limit=limit, circ=circ, settings=settings, flows=flows,
                                     lodf=screen.table, base_flows=base_flows)
    solves0, shared0 = screen.solves, screen.shared
    cutoff = max(settings.distribution_factor_cutoff, 1e-12)  # a zero factor never limits
    batch = max(int(settings.hosting_batch), 1)
    tloc = loc[targets]
    # buffers reused across batches: fresh large arrays each batch cost page faults
    rhs = np.empty((n - 1, batch), order="F")
    theta = np.zeros((n, batch))
    t_buf = np.empty((m, batch))
    mask = np.empty((m, batch), dtype=bool)
    for start in range(0, len(targets), batch):
        b = tloc[start:start + batch]
        k = len(b)
        rhs_k = rhs[:, :k]
        rhs_k[:] = w_red[:, tcol[start:start + k]]   # injection w − e_b per MW at b
        cols = np.flatnonzero(b != slack)
        rhs_k[red[b[cols]], cols] -= 1.0
        th = theta[:, :k] if k == batch else np.zeros((n, k))
        th[: n - 1] = lu.solve(rhs_k)                # last row (slack) stays 0
        s = flows @ th                               # m × k flow change per MW at b
        t = t_buf[:, :k] if k == batch else np.empty((m, k))
        mk = mask[:, :k] if k == batch else np.empty((m, k), dtype=bool)
        cap = cap_inc[b]
        h, arg, by_cap, rc = _n0(s, heads, cutoff, cap, t, mk)
        lim = line_ids[np.maximum(arg, 0)].copy()
        for j in np.flatnonzero(by_cap):
            lim[j] = ";".join(line_ids[(eu == b[j]) | (ev == b[j])])
        screen.offer(b, s, tcol[start:start + k])
        fm = screen.firm(b, s, h, np.where(by_cap, -1, arg), monitored=rc)
        fm2 = None
        if screen2 is not None and g_cols is not None and g2 is not None:
            s -= g_cols[:, tcol[start:start + k]]   # the same POIs, stressed participation
            s += g2[:, None]
            h2, arg2, by_cap2, rc2 = _n0(s, heads2, cutoff, cap, t, mk)
            fm2 = screen2.firm(b, s, h2, np.where(by_cap2, -1, arg2), monitored=rc2)
        yield targets[start:start + batch], h, lim, np.where(by_cap, INCIDENT, BRANCH), fm, fm2
    n1["solves"] += screen.solves - solves0
    n1["shared"] += screen.shared - shared0
    n1["skipped_bridges"] += screen.skipped_bridges     # the counts are the base case's
    n1["shift_checks"] += screen.shift_checks


def _headroom(f0: np.ndarray, limit: np.ndarray, settings: Settings
              ) -> tuple[np.ndarray, np.ndarray]:
    """Headroom of every edge for a flow change in its direction and against it (step 3 of
    the module notes)."""
    unknown = np.isnan(f0)
    assumed = (1.0 - settings.assumed_utilisation) * limit
    return (np.maximum(np.where(unknown, assumed, limit - f0), 0.0),
            np.maximum(np.where(unknown, assumed, limit + f0), 0.0))


def _n0(s: np.ndarray, heads: tuple[np.ndarray, np.ndarray], cutoff: float, cap: np.ndarray,
        t: np.ndarray, mk: np.ndarray):
    """N-0 hosting of a batch from its flow changes ``s`` (steps 4 and 5 of the module
    notes): ``hosting_mw``, the binding edge, whether the incident-rating cap binds and the
    monitored ``(edge, column)`` pairs. ``t`` and ``mk`` are scratch buffers shaped as ``s``."""
    head_pos, head_neg = heads
    k = s.shape[1]
    # only the monitored entries matter: compress them, then reduce per column
    np.abs(s, out=t)
    np.greater_equal(t, cutoff, out=mk)
    r, c = np.nonzero(mk)
    sv = s[r, c]
    ratio = np.where(sv > 0, head_pos[r], head_neg[r]) / np.abs(sv)
    best = np.full(k, np.inf)
    np.minimum.at(best, c, ratio)
    # the lowest edge within TIE_RTOL of the minimum (hits come by edge): ties of circuits
    # alike are not left to the solve's last bits, which differ between CPUs
    arg = np.full(k, -1, dtype=np.int64)
    hit = ratio <= best[c] * (1.0 + TIE_RTOL)
    cols, first = np.unique(c[hit], return_index=True)
    arg[cols] = r[hit][first]
    by_cap = incident_binds(best, cap)
    return np.maximum(np.where(by_cap, cap, best), 0.0), arg, by_cap, (r, c)


def incident_binds(branch_mw: np.ndarray, cap_mw: np.ndarray) -> np.ndarray:
    """True where the incident-rating cap, not a branch, limits the hosting: the cap is
    lower than the branch limit by more than :data:`TIE_RTOL` (a tie is a branch limit).

    >>> incident_binds(np.array([100.0 + 1e-12, 120.0, 90.0]), np.array([100.0] * 3)).tolist()
    [False, True, False]
    """
    return branch_mw > cap_mw * (1.0 + TIE_RTOL)


def self_ptdf(grid: GridGraph, reuse: dict, edges: np.ndarray | None = None) -> np.ndarray:
    """Each edge's own PTDF ``p_kk`` (MW on the edge per MW moved between its ends), from
    the LODF stores that hosting runs kept in ``reuse``; NaN where the edge's island was
    not solved. Those of ``edges`` (indices into ``grid.edges``; default: all) in a solved
    island that are not yet known are solved first.

    They depend on the topology and reactances only. Passed back as ``reuse["self_ptdf"]``
    (aligned with ``grid.edges``), a later run's flow-shift screen needs no solve for them
    (what the shipped results do for a portfolio, :mod:`geo.grid.shipped`)."""
    out = np.full(len(grid.edges), np.nan)
    with threadpool_limits(limits=1, user_api="blas"), reused_heap():
        for key in sorted(k for k in reuse if isinstance(k, tuple) and k[0] == "island"):
            _, _, lodf, edge_index, _ = reuse[key]
            if lodf is None:
                continue
            mine = (np.arange(len(edge_index)) if edges is None
                    else np.flatnonzero(np.isin(edge_index, edges)))
            lodf.ensure(mine, pkk_only=True)
            ok = lodf.pkk_known
            out[edge_index[ok]] = lodf.pkk[ok]
    return out
