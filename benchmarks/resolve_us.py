"""An independent DC N-1 re-solve of the shipped firm MW on sampled US POIs (issue 28, Checks).

It shares no screen code with :mod:`geo.grid` (no hosting, contingency, LODF or circuits
module). What it **takes from the tool** (inputs, not results):

* the grid graph of :func:`geo.grid.build` on the embedded layers: the substations (their
  ``island`` and place) and the in-graph branches of ``grid.lines`` (any kind: lines,
  transformers; each row is one outage unit, with its ``reactance_pu`` and
  ``capacity_mw`` as the build filled them) and the merged edges' base flows
  (``grid.edges.flow_mw``, split over a node pair's branches by admittance, the DC split the
  model assumes; NaN where unknown);
* who serves a new load, both dispatch cases: :func:`geo.grid.dispatch.participation` (the
  settings' own; the stressed case's, :data:`geo.grid.dispatch.STRESSED`) and
  :func:`geo.grid.dispatch.areas` (the POI's area, else its island, when the area has none);
* the shipped ``grid_metrics.parquet`` (the figures under test) and, for the joint check,
  the portfolio :func:`geo.pipeline.rank_portfolio` chooses.

What it **recomputes**, on its own: the bus susceptance matrix ``B`` per island from the
branches (scipy.sparse), factorised with SuperLU; each POI's flow per MW N-0; a broad
outage list per POI (every branch within ``--hops`` hops or ``--radius-km`` of the POI, every
branch carrying ``--min-df`` of the POI's load in either case, and every branch whose loss
moves at least ``--min-moved`` of a rating onto a branch the POI loads by ``--min-df``,
found from PTDF rows solved here); for **every** outage of that list ``B`` is built again
without the branch and **refactorised** (no LODF, no screen), and the POI's post-outage flow
per MW and the post-outage base flows (the lost branch's flow injected at its ends into the
post-outage network) are solved from it. Firm MW follows the definition of
docs/methods.md, nothing of the screen's selection: a node pair's branches are monitored
N-0 when the POI's flow per MW on the pair reaches the cut-off (normal ratings, capped by the
summed rating at the POI) and after an outage when its post-outage flow per MW does
(emergency ratings); unknown flows leave ``1 − assumed_utilisation`` of a rating; a branch
already over its emergency rating after the outage without the load may take
``n1_preexisting_worsening_share`` of the rating more; a bridge whose far side holds more
than half the participation islands the POI (0 MW), a smaller one is skipped.

It reports how many POIs the tool **overstates** (exported ``firm_mw`` above the re-solved
firm MW by more than ``--tolerance``, 2 %), the worst, and agreement statistics; and with
``--portfolio N`` the **joint check**: the portfolio's loads all in at once (each served by
its area in turn, both cases), every branch monitored, N-0 and after every outage of the
union of the POIs' lists: the new post-contingency overloads above 100 % and 102 %.

Run: ``python benchmarks/resolve_us.py [--grid osm-2016] [--per-interconnection 30]
[--seed 0] [--portfolio 10]``. BLAS is kept to one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

CASES = ("base", "stressed")
#: A bridge whose far side holds more than this share of the participation islands the
#: POI (docs/methods.md, "Islanding").
ISLANDING_SHARE = 0.5
EARTH_RADIUS_M = 6_371_008.8


@dataclass
class Options:
    """The re-solve's thresholds (what widens the outage list beyond the tool's)."""

    hops: int = 3
    radius_km: float = 60.0
    min_df: float = 0.01
    min_moved: float = 0.01


@dataclass
class Island:
    """One island's branches in local node numbers and its factorised intact ``B``."""

    nodes: np.ndarray            # global node rows
    u: np.ndarray                # branch ends (local), u < v
    v: np.ndarray
    b: np.ndarray                # admittance 1 / x
    rating: np.ndarray           # normal rating, MW
    flow: np.ndarray             # base flow u -> v, MW (NaN unknown)
    ids: np.ndarray              # branch ids
    pair: np.ndarray             # node-pair group of each branch
    xy: np.ndarray               # lon, lat of the local nodes
    lu: object = None
    ref: int = 0
    adj: list = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.nodes)

    def bmatrix(self, out: int | None = None) -> sparse.csc_matrix:
        keep = np.ones(len(self.b), bool)
        if out is not None:
            keep[out] = False
        u, v, b = self.u[keep], self.v[keep], self.b[keep]
        rows = np.r_[u, v, u, v]
        cols = np.r_[u, v, v, u]
        vals = np.r_[b, b, -b, -b]
        return sparse.csc_matrix((vals, (rows, cols)), shape=(self.n, self.n))

    def factor(self, out: int | None = None):
        """A solver of ``B θ = p`` (θ at the reference node 0) with branch ``out`` removed;
        None when its removal splits the island."""
        bm = self.bmatrix(out)
        if out is not None:
            ncomp, _ = connected_components(bm, directed=False)
            if ncomp > 1:
                return None
        keep = np.arange(self.n) != self.ref
        lu = splu(bm[keep][:, keep].tocsc(), permc_spec="COLAMD")

        def solve(p: np.ndarray) -> np.ndarray:
            p = np.asarray(p, float)
            theta = np.zeros(p.shape)
            theta[keep] = lu.solve(np.ascontiguousarray(p[keep]))
            return theta
        return solve

    def branch_flows(self, theta: np.ndarray, out: int | None = None) -> np.ndarray:
        """Flow u -> v on every branch (rows) per column of ``theta`` (0 on ``out``)."""
        f = self.b[:, None] * (theta[self.u] - theta[self.v]) if theta.ndim == 2 else \
            self.b * (theta[self.u] - theta[self.v])
        if out is not None:
            f[out] = 0.0
        return f

    def flows_after(self, c: int, solve_c) -> np.ndarray:
        """Base flows after the outage of branch ``c`` (its flow injected at its ends and
        solved on the network without it; 0 on ``c``; all NaN when its flow is unknown)."""
        f_c = self.flow[c]
        if np.isnan(f_c):
            return np.full(len(self.b), np.nan)
        inj = np.zeros(self.n)
        inj[self.u[c]], inj[self.v[c]] = f_c, -f_c
        f_after = self.flow + self.branch_flows(solve_c(inj), out=c)
        f_after[c] = 0.0
        return f_after

    def pair_sum(self, f: np.ndarray) -> np.ndarray:
        """Per branch, the summed flow of its node pair (what the cut-off is judged on)."""
        npair = int(self.pair.max()) + 1
        if f.ndim == 1:
            return np.bincount(self.pair, weights=f, minlength=npair)[self.pair]
        out = np.zeros((npair, f.shape[1]))
        np.add.at(out, self.pair, f)
        return out[self.pair]


def islands(graph, settings) -> dict[int, Island]:
    """Every island with branches, built from the graph's in-graph branches."""
    subs = graph.substations
    pos = pd.Series(np.arange(len(subs)), index=subs["sub_id"].astype(str).to_numpy())
    ln = graph.lines[graph.lines["status"].astype(str).to_numpy() == "in_graph"]
    gu = pos.reindex(ln["from_sub"].astype(str).to_numpy()).to_numpy(np.int64)
    gv = pos.reindex(ln["to_sub"].astype(str).to_numpy()).to_numpy(np.int64)
    lo, hi = np.minimum(gu, gv), np.maximum(gu, gv)
    b = 1.0 / ln["reactance_pu"].to_numpy(float)
    # base flows: each merged edge's flow split over its branches by admittance (DC)
    e = graph.edges
    ekey = pd.Series(e["flow_mw"].to_numpy(float),
                     index=pd.MultiIndex.from_arrays([np.minimum(e["u"], e["v"]).to_numpy(),
                                                      np.maximum(e["u"], e["v"]).to_numpy()]))
    # the edge's flow is oriented from its u to its v
    sign = pd.Series(np.where(e["u"].to_numpy() <= e["v"].to_numpy(), 1.0, -1.0),
                     index=ekey.index)
    key = pd.MultiIndex.from_arrays([lo, hi])
    edge_flow = ekey.reindex(key).to_numpy(float) * sign.reindex(key).to_numpy(float)
    pair_b = pd.Series(b).groupby([lo, hi]).transform("sum").to_numpy()
    flow = edge_flow * b / pair_b
    island = subs["island"].to_numpy()
    lonlat = np.c_[subs.geometry.x.to_numpy(), subs.geometry.y.to_numpy()]
    out: dict[int, Island] = {}
    b_isl = island[lo]
    for k in np.unique(b_isl):
        nodes = np.flatnonzero(island == k)
        loc = np.full(len(subs), -1, np.int64)
        loc[nodes] = np.arange(len(nodes))
        sel = b_isl == k
        u, v = loc[lo[sel]], loc[hi[sel]]
        _, pair = np.unique(np.c_[u, v], axis=0, return_inverse=True)
        isl = Island(nodes=nodes, u=u, v=v, b=b[sel],
                     rating=ln["capacity_mw"].to_numpy(float)[sel], flow=flow[sel],
                     ids=ln["line_id"].astype(str).to_numpy()[sel], pair=pair.ravel(),
                     xy=lonlat[nodes])
        out[int(k)] = isl
    return out


def participation(graph, plants, settings) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per case, the MW that can pick up a load at each substation and its area code
    (-1: the whole island), from the model's own dispatch inputs."""
    from geo.grid import dispatch
    gen, _ = dispatch.participation(graph, plants, settings)
    area, _ = dispatch.areas(graph, settings)
    out = {"base": (gen, area)}
    if settings.dispatch_stress_case:
        stressed = settings.model_copy(update=dispatch.STRESSED)
        gen2, _ = dispatch.participation(graph, plants, stressed)
        out["stressed"] = (gen2, np.full(len(gen2), -1, np.int64))
    return out


def serve(isl: Island, gen: np.ndarray, area: np.ndarray, node: int, mw: float = 1.0
          ) -> np.ndarray:
    """Local injections of ``mw`` drawn at global node ``node``: the plants of its area
    (the whole island when the area has none in it) pick it up by their MW. ``gen`` is
    the global MW array; the MW taken is removed from it (later loads see the rest)."""
    g = gen[isl.nodes]
    a = area[isl.nodes]
    mine = (a == area[node]) & (area[node] >= 0)
    if not (mine.any() and g[mine].sum() > 0):
        mine = np.ones(isl.n, bool)
    w = np.where(mine, g, 0.0)
    w = w / w.sum()
    p = w * mw
    gen[isl.nodes] = np.maximum(g - p, 0.0)
    p[np.flatnonzero(isl.nodes == node)[0]] -= mw
    return p


def haversine_m(lon0, lat0, lon, lat) -> np.ndarray:
    lon0, lat0, lon, lat = map(np.radians, (lon0, lat0, lon, lat))
    h = (np.sin((lat - lat0) / 2) ** 2
         + np.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def outage_list(isl: Island, solve, j: int, s_cases: list[np.ndarray], host_mw: float,
                opt: Options, settings) -> set[int]:
    """The broad outage list of the POI at local node ``j`` (see the module docstring)."""
    # within hops
    adj = sparse.csr_matrix((np.ones(2 * len(isl.u)), (np.r_[isl.u, isl.v],
                                                        np.r_[isl.v, isl.u])),
                            shape=(isl.n, isl.n))
    reach = np.zeros(isl.n, bool)
    reach[j] = True
    for _ in range(opt.hops):
        reach |= (adj @ reach.astype(float)) > 0
    near = reach[isl.u] | reach[isl.v]
    # within the radius
    dist = haversine_m(isl.xy[j, 0], isl.xy[j, 1], isl.xy[:, 0], isl.xy[:, 1])
    near |= (dist[isl.u] <= opt.radius_km * 1000) | (dist[isl.v] <= opt.radius_km * 1000)
    chosen = set(np.flatnonzero(near).tolist())
    utilisation = settings.assumed_utilisation
    f_k = np.where(np.isnan(isl.flow), utilisation * isl.rating, np.abs(isl.flow))
    for s in s_cases:
        chosen |= set(np.flatnonzero(np.abs(s) >= opt.min_df).tolist())
        # branches the POI loads (pair flow per MW >= min_df): their PTDF rows
        pair_s = isl.pair_sum(s)
        loaded = np.unique(isl.pair[np.abs(pair_s) >= opt.min_df])
        first = np.array([np.flatnonzero(isl.pair == p)[0] for p in loaded], np.int64)
        if not len(first):
            continue
        for start in range(0, len(first), 256):
            rows = first[start:start + 256]
            rhs = np.zeros((isl.n, len(rows)))
            rhs[isl.u[rows], np.arange(len(rows))] = 1.0
            rhs[isl.v[rows], np.arange(len(rows))] -= 1.0
            y = solve(rhs)                          # B⁻¹ (e_u − e_v) of each loaded pair
            x = y[isl.u] - y[isl.v]                 # X_lk for every branch k (rows)
            pair_b = np.bincount(isl.pair, weights=isl.b)[isl.pair[rows]]
            p_lk = x * pair_b[None, :]              # MW on pair l per MW moved across k
            moved = np.abs(p_lk) * (f_k + np.abs(s) * host_mw)[:, None]
            rating = np.bincount(isl.pair, weights=isl.rating)[isl.pair[rows]] * \
                settings.emergency_rating_factor
            hit = (moved >= opt.min_moved * rating[None, :]) | (np.abs(p_lk) >= opt.min_df)
            chosen |= set(np.flatnonzero(hit.any(axis=1)).tolist())
    return chosen


def limit_mw(isl: Island, s: np.ndarray, f: np.ndarray, rating: np.ndarray,
             f_orig: np.ndarray | None, settings, out: int | None = None
             ) -> tuple[float, int]:
    """The load (MW) at which the first monitored branch reaches ``rating``, and which;
    ``s`` flow per MW, ``f`` base flow (NaN unknown), ``f_orig`` the same without queued
    loads (pre-existing violations are judged on it; None: N-0, none set aside)."""
    cutoff = max(settings.distribution_factor_cutoff, 1e-12)
    pair_s = isl.pair_sum(s)
    mon = np.abs(pair_s) >= cutoff
    if out is not None:
        mon[out] = False
    mon &= np.abs(s) > 0
    if not mon.any():
        return np.inf, -1
    sv, fv, rv = s[mon], f[mon], rating[mon]
    head = np.where(sv > 0, rv - fv, rv + fv)
    head = np.where(np.isnan(head), (1.0 - settings.assumed_utilisation) * rv, head)
    ratio = np.maximum(head, 0.0) / np.abs(sv)
    if f_orig is not None and settings.n1_preexisting == "exclude":
        share = settings.n1_preexisting_worsening_share
        pre = head <= 0.0
        ratio[pre] = np.inf if share is None else share * rv[pre] / np.abs(sv[pre])
    i = int(np.argmin(ratio))
    return float(ratio[i]), int(np.flatnonzero(mon)[i])


def resolve_island(isl: Island, pois: list[int], cases: dict, settings, opt: Options,
                   tool_hosting: dict[int, float] | None = None) -> pd.DataFrame:
    """Re-solved N-0 and firm MW of the POIs (global node rows) of one island, both cases."""
    solve = isl.factor()
    em = isl.rating * settings.emergency_rating_factor
    cap_at = np.bincount(np.r_[isl.u, isl.v], weights=np.r_[isl.rating, isl.rating],
                         minlength=isl.n)
    rows = []
    per_poi = {}
    wanted: dict[int, list[int]] = {}
    for g in pois:
        j = int(np.flatnonzero(isl.nodes == g)[0])
        s_cases, w_cases = [], []
        for case in cases:
            gen, area = cases[case]
            p = serve(isl, gen.copy(), area, g)
            w_cases.append(p)
            s_cases.append(isl.branch_flows(solve(p)))
        host = []
        for s in s_cases:
            h, arg = limit_mw(isl, s, isl.flow, isl.rating, None, settings)
            host.append((min(h, cap_at[j]), arg if h <= cap_at[j] else -1))
        guess = (tool_hosting or {}).get(g, max(h for h, _ in host))
        guess = guess if np.isfinite(guess) else 1e4
        lst = outage_list(isl, solve, j, s_cases, guess, opt, settings)
        per_poi[g] = {"j": j, "w": w_cases, "s": s_cases, "host": host,
                      "best": [(h, arg, None) for h, arg in host], "outages": len(lst),
                      "bridges_skipped": 0}
        for c in lst:
            wanted.setdefault(c, []).append(g)
    for c in sorted(wanted):
        solve_c = isl.factor(c)
        if solve_c is None:                                  # a bridge
            bm = isl.bmatrix(c)
            _, labels = connected_components(bm, directed=False)
            for g in wanted[c]:
                d = per_poi[g]
                own = labels == labels[d["j"]]
                for i, w in enumerate(d["w"]):
                    # the share of the participation beyond the bridge
                    if w[~own].sum() > ISLANDING_SHARE:
                        d["best"][i] = (0.0, c, c)
                    else:
                        d["bridges_skipped"] += 1
            continue
        f_after = isl.flows_after(c, solve_c)
        cols, owners = [], []
        for g in wanted[c]:
            for i, w in enumerate(per_poi[g]["w"]):
                cols.append(w)
                owners.append((g, i))
        s_after = isl.branch_flows(solve_c(np.column_stack(cols)), out=c)
        for col, (g, i) in enumerate(owners):
            mw, arg = limit_mw(isl, s_after[:, col], f_after, em, f_after, settings, out=c)
            if mw < per_poi[g]["best"][i][0] * (1 - 1e-9):
                per_poi[g]["best"][i] = (mw, arg, c)
    for g, d in per_poi.items():
        row = {"node": g, "outages_resolved": d["outages"],
               "bridges_skipped": d["bridges_skipped"]}
        for i, case in enumerate(cases):
            mw, arg, c = d["best"][i]
            row[f"host_{case}_mw"] = d["host"][i][0]
            row[f"firm_{case}_mw"] = max(mw, 0.0)
            row[f"limiting_{case}"] = isl.ids[arg] if arg is not None and arg >= 0 else None
            row[f"outage_{case}"] = isl.ids[c] if c is not None else None
        rows.append(row)
    return pd.DataFrame(rows)


def joint_check(isl: Island, loads: list[tuple[int, float]], cases: dict, settings,
                opt: Options, tool_hosting: dict[int, float]) -> dict:
    """All ``loads`` (global node, MW) of one island in at once, each served by its area in
    turn; every branch monitored N-0 (normal rating) and after each outage of the union of
    the loads' outage lists (emergency rating). Counts the new overloads (a branch within its
    rating without the loads, above it with them) and the set-aside ones worsened by more
    than ``n1_preexisting_worsening_share`` of the rating, per case."""
    solve = isl.factor()
    em = isl.rating * settings.emergency_rating_factor
    u = settings.assumed_utilisation
    ref = max(mw for _, mw in loads)
    cutoff_mw = settings.distribution_factor_cutoff * ref
    share = settings.n1_preexisting_worsening_share
    injections = {}
    outages: set[int] = set()
    for case, (gen, area) in cases.items():
        left = gen.copy()
        injections[case] = sum(serve(isl, left, area, g, mw) for g, mw in loads)
    for g, _ in loads:
        j = int(np.flatnonzero(isl.nodes == g)[0])
        s_cases = [isl.branch_flows(solve(serve(isl, gen.copy(), area, g)))
                   for gen, area in cases.values()]
        outages |= outage_list(isl, solve, j, s_cases, tool_hosting.get(g, ref), opt, settings)
    found = []
    for inj in injections.values():
        d0 = isl.branch_flows(solve(inj))
        outages |= set(np.flatnonzero(np.abs(d0) >= opt.min_df * ref).tolist())

    def loading(f, d, rating):
        before = np.where(np.isnan(f), u, np.abs(f) / rating)
        after = np.where(np.isnan(f), u + np.abs(d) / rating, np.abs(f + d) / rating)
        return before, after

    def record(case, c, f, d, rating):
        before, after = loading(f, d, rating)
        pair_d = np.abs(isl.pair_sum(d))
        new = (before <= 1.0) & (after > 1.0 + 1e-9)
        worse = (before > 1.0) & (after - before > (np.inf if share is None else share)
                                  + 1e-9)
        for i in np.flatnonzero(new | worse):
            if c is not None and i == c:
                continue
            found.append({"case": case, "outage": None if c is None else isl.ids[c],
                          "branch": isl.ids[i], "before_pct": 100 * before[i],
                          "after_pct": 100 * after[i], "change_mw": float(d[i]),
                          "pair_change_mw": float(pair_d[i]),
                          "kind": "new" if new[i] else "set-aside worsened",
                          "screen_monitors": bool(pair_d[i] >= cutoff_mw)})

    for case, inj in injections.items():
        record(case, None, isl.flow, isl.branch_flows(solve(inj)), isl.rating)
    bridges = 0
    for c in sorted(outages):
        solve_c = isl.factor(c)
        if solve_c is None:
            bridges += 1
            continue
        f_after = isl.flows_after(c, solve_c)   # record() skips branch c itself
        cols = np.column_stack(list(injections.values()))
        d = isl.branch_flows(solve_c(cols), out=c)
        for i, case in enumerate(injections):
            record(case, c, f_after, d[:, i], em)
    return {"outages": len(outages), "bridges": bridges, "violations": found}


def interconnections(graph, reference=None) -> pd.Series:
    """Each substation's interconnection: its ``interconnect`` column where it has one, else
    that of the nearest substation of ``reference`` that does (the TAMU grid's, placed on the
    real footprints: the OSM substations carry none), else its island."""
    subs = graph.substations
    ids = subs["sub_id"].astype(str).to_numpy()
    own = (subs["interconnect"].astype(object) if "interconnect" in subs
           else pd.Series(None, index=subs.index, dtype=object))
    out = pd.Series(own.to_numpy(), index=ids, dtype=object)
    if out.notna().all() or reference is None:
        return out.fillna("island " + subs["island"].astype(str).set_axis(ids))
    from scipy.spatial import cKDTree
    ref = reference[reference["interconnect"].notna()]
    tree = cKDTree(np.c_[ref.geometry.x.to_numpy(), ref.geometry.y.to_numpy()])
    _, j = tree.query(np.c_[subs.geometry.x.to_numpy(), subs.geometry.y.to_numpy()])
    near = ref["interconnect"].astype(str).to_numpy()[j]
    return out.where(out.notna(), pd.Series(near, index=ids))


def sample(metrics: pd.DataFrame, group: pd.Series, per_group: int, seed: int,
           min_kv: float) -> pd.DataFrame:
    """``per_group`` computed POIs of ``min_kv`` or more per interconnection, seeded."""
    m = metrics[(metrics["hosting_status"] == "computed")
                & (metrics["voltage_kv"].to_numpy(float) >= min_kv)].copy()
    m["group"] = group.reindex(m.index.astype(str)).fillna("unknown").to_numpy()
    rng = np.random.default_rng(seed)
    picks = []
    for _, rows in m.groupby("group", sort=True):
        take = min(per_group, len(rows))
        picks.append(rows.iloc[np.sort(rng.choice(len(rows), take, replace=False))])
    return pd.concat(picks)


def load_grid(grid_source: str):
    import layers
    from geo import grid
    from geo.settings import Settings
    settings = Settings.model_validate({"grid_source": grid_source})
    bundle = layers.load("US", grid=grid_source)
    graph = grid.build(bundle["substations"], bundle["lines"], settings,
                       getattr(bundle, "territories", None))
    return settings, bundle, graph


def main() -> None:
    import _stack
    _stack.announce()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", default="osm-2016", choices=("osm-2016", "tamu-synthetic"))
    parser.add_argument("--per-interconnection", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-kv", type=float, default=115.0)
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--hops", type=int, default=Options.hops)
    parser.add_argument("--radius-km", type=float, default=Options.radius_km)
    parser.add_argument("--min-df", type=float, default=Options.min_df)
    parser.add_argument("--min-moved", type=float, default=Options.min_moved)
    parser.add_argument("--portfolio", type=int, default=0,
                        help="also the joint check of the portfolio of N (0: none)")
    parser.add_argument("--load-mw", type=float, default=300.0)
    parser.add_argument("--no-pois", action="store_true", help="the joint check alone")
    args = parser.parse_args()
    opt = Options(args.hops, args.radius_km, args.min_df, args.min_moved)
    from geo.grid import shipped
    t0 = time.perf_counter()
    settings, bundle, graph = load_grid(args.grid)
    cases = participation(graph, bundle["plants"], settings)
    isls = islands(graph, settings)
    metrics = pd.read_parquet(shipped.path(args.grid))
    node = pd.Series(np.arange(len(graph.substations)),
                     index=graph.substations["sub_id"].astype(str).to_numpy())
    island_of = graph.substations["island"].to_numpy()
    tool_host = {int(node[s]): float(h) for s, h in metrics["hosting_mw"].dropna().items()}
    print(f"{args.grid}: {len(graph.substations):,} substations, "
          f"{sum(len(i.b) for i in isls.values()):,} branches in {len(isls)} islands; "
          f"loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    if not args.no_pois:
        reference = None
        if "interconnect" not in graph.substations or \
                graph.substations["interconnect"].isna().any():
            import layers
            reference = layers.load("US", grid="tamu-synthetic")["substations"]
        picked = sample(metrics, interconnections(graph, reference),
                        args.per_interconnection, args.seed, args.min_kv)
        frames = []
        t1 = time.process_time()
        for k, grp in pd.Series(picked.index.astype(str)).groupby(
                island_of[node.reindex(picked.index.astype(str)).to_numpy()]):
            frames.append(resolve_island(isls[int(k)], [int(node[s]) for s in grp],
                                         cases, settings, opt, tool_host))
        res = pd.concat(frames)
        res.index = node.index[res["node"].to_numpy()]
        report_pois(picked, res, args.tolerance)
        print(f"re-solve: {res['outages_resolved'].sum():,} POI-outage pairs "
              f"({res['bridges_skipped'].sum():,} bridges not modelled), "
              f"{time.process_time() - t1:.0f} CPU s", flush=True)
    if args.portfolio:
        report_joint(args, graph, isls, cases, settings, opt, tool_host, node, island_of)


def report_pois(picked: pd.DataFrame, res: pd.DataFrame, tol: float) -> pd.DataFrame:
    """Print the agreement of the shipped figures with the re-solve; return the table."""
    both = picked.join(res.drop(columns=["node"]).add_suffix("_re"), how="inner")
    cases = [c for c in CASES if f"firm_{c}_mw_re" in both]
    both["resolved_mw"] = both[[f"firm_{c}_mw_re" for c in cases]].min(axis=1)

    def compare(tool: np.ndarray, mine: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        over = tool > mine * (1 + tol) + 1e-6
        under = mine > tool * (1 + tol) + 1e-6
        rel = np.abs(tool - mine) / np.maximum(np.maximum(tool, mine), 1e-9)
        return over, rel, (f"within {100 * tol:g} %: {(~over & ~under).sum()}, tool above: "
                           f"{over.sum()}, below: {under.sum()}; median |difference| "
                           f"{100 * np.median(rel):.2f} %, max {100 * rel.max():.2f} %")

    groups = ", ".join(f"{g} {n}" for g, n in both["group"].value_counts().sort_index().items())
    print(f"\n{len(both)} POIs ({groups}):")
    print("  N-0 hosting (base case): " + compare(both["hosting_mw"].to_numpy(float),
                                                 both["host_base_mw_re"].to_numpy(float))[2])
    for case in cases:
        print(f"  firm MW, {case} case: " + compare(both[f"firm_{case}_mw"].to_numpy(float),
                                                    both[f"firm_{case}_mw_re"].to_numpy(
                                                        float))[2])
    over, rel, line = compare(both["firm_mw"].to_numpy(float),
                              both["resolved_mw"].to_numpy(float))
    print(f"  firm MW (the lower case): {line}")
    print(f"  overstated (exported firm_mw > re-solved by more than {100 * tol:g} %): "
          f"{over.sum()}")
    cols = ["name", "group", "voltage_kv", "firm_mw", "resolved_mw", "firm_case",
            "firm_limiting_line_id", "firm_outage_line_id"]
    for case in cases:
        cols += [f"firm_{case}_mw_re", f"limiting_{case}_re", f"outage_{case}_re"]
    show = both[over] if over.any() else both
    print("  " + ("overstated:" if over.any() else "largest differences:"))
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(show.assign(diff=rel[over] if over.any() else rel).sort_values(
            "diff", ascending=False)[[*cols, "outages_resolved_re", "diff"]].head(10).to_string())
    both["overstated"] = over
    return both


def report_joint(args, graph, isls, cases, settings, opt, tool_host, node, island_of) -> None:
    """The joint check of ``geo-rank --region US --portfolio N --load-mw L`` (the tool's
    own choice of sites, default settings on this grid)."""
    from geo.pipeline import rank_portfolio
    t = time.perf_counter()
    _, chosen = rank_portfolio("US", args.portfolio, load_mw=args.load_mw,
                               settings=settings)
    pois = chosen.sites["poi_sub_id"].astype(str).tolist()
    verdict = "firm" if chosen.verified else "NOT firm"
    print(f"\nportfolio of {args.portfolio} at {args.load_mw:g} MW: {len(pois)} chosen, "
          f"{len(chosen.passed_over)} passed over, tool's joint screen: {verdict} "
          f"({'' if chosen.joint is None else chosen.joint.describe()}); "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    t1 = time.process_time()
    loads = [(int(node[p]), args.load_mw) for p in pois]
    rows, outages, bridges = [], 0, 0
    for k in sorted({int(island_of[g]) for g, _ in loads}):
        mine = [(g, mw) for g, mw in loads if island_of[g] == k]
        found = joint_check(isls[k], mine, cases, settings, opt, tool_host)
        rows += found["violations"]
        outages += found["outages"]
        bridges += found["bridges"]
    v = pd.DataFrame(rows, columns=["case", "outage", "branch", "before_pct", "after_pct",
                                    "change_mw", "pair_change_mw", "kind",
                                    "screen_monitors"])
    print(f"joint check: {outages:,} outages re-solved ({bridges} bridges skipped), every "
          f"branch monitored, both cases; {time.process_time() - t1:.0f} CPU s")
    for case in CASES:
        c = v[v["case"] == case]
        new = c[c["kind"] == "new"]
        print(f"  {case}: new overloads above 100 %: {len(new)}, above 102 %: "
              f"{(new['after_pct'] > 102).sum()} (of them on a branch the loads together "
              f"change by the screen's {settings.distribution_factor_cutoff * args.load_mw:g}"
              f" MW or more: {new['screen_monitors'].sum()}, "
              f"{(new['screen_monitors'] & (new['after_pct'] > 102)).sum()}); set-aside "
              f"overloads worsened past the limit: {(c['kind'] != 'new').sum()}")
    if len(v):
        with pd.option_context("display.width", 250):
            print(v.sort_values("after_pct", ascending=False).head(12).to_string(index=False))


if __name__ == "__main__":
    main()
