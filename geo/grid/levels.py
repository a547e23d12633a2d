"""Voltage levels: one node per substation voltage level, transformers between them.

A private step of :func:`geo.grid.build` (``settings.voltage_levels``; docs/methods.md
"Voltage levels and transformers"):

- a substation's *levels* are the voltages of the in-graph lines and of the transformers
  that end there, merged within ``settings.snap_voltage_tolerance`` (a level is named by its
  highest voltage); a level with no line and a single transformer (a generator step-up's
  terminal, a tertiary winding) carries no flow of a new load and is left out with its
  transformer (``status = "dead_end"``), repeatedly, unless it is the substation's only one;
- its highest level keeps the substation's own node (row and ``sub_id``): the new load of a
  site connects there, as a large campus takes the highest voltage on offer; every other
  level is a new node ``<sub_id>@<kV>kV`` appended to the substations table with
  ``status = "level"`` and ``level_of`` = the substation (never a POI, never a site);
- each line end joins the level of the line's voltage;
- transformers of the lines layer (rows with ``kind = "transformer"``: ``voltage_kv`` at the
  ``from_sub`` end, ``low_voltage_kv`` at the ``to_sub`` end, usually one substation) join
  the levels of their two voltages; one with an unknown substation or voltage is left out
  (``status = "no_level"``);
- two consecutive levels of a substation that no transformer of the data joins (directly or
  through its other levels) get one estimated merged bank: rated by the high-voltage class
  (``settings.transformer_bank_hv_kv`` / ``transformer_bank_mva``), with a reactance of
  ``settings.transformer_reactance_own_pu`` on its own base; ``capacity_source`` and
  ``reactance_source`` say ``estimated`` and its id starts ``xfmr-est-``.

Every transformer is a row of ``GridGraph.lines`` with ``kind = "transformer"``: a monitored
branch and an outage candidate of the N-1 screen like any circuit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import SettingsError
from geo.settings import Settings

#: ``kind`` of a row of ``GridGraph.lines`` and of an edge.
LINE, TRANSFORMER = "line", "transformer"
#: ``status`` of a level node in the substations table.
LEVEL = "level"
#: ``status`` of a transformer of the data left out: an end at no known substation or
#: voltage (``no_level``), or an end at a level with nothing else (``dead_end``).
NO_LEVEL, DEAD_END = "no_level", "dead_end"
#: Prefix of an estimated bank's id.
ESTIMATED_PREFIX = "xfmr-est-"
BASE_MVA = 100.0


@dataclass
class LevelCounts:
    """What :func:`split` did, for the quality report."""

    level_nodes: int = 0
    transformers_observed: int = 0
    transformers_estimated: int = 0
    transformers_no_level: int = 0
    transformers_dead_end: int = 0


def is_transformer(lines: pd.DataFrame) -> np.ndarray:
    """True for the rows of a lines table that are transformers (``kind``)."""
    if "kind" not in lines:
        return np.zeros(len(lines), dtype=bool)
    return (lines["kind"].astype(object) == TRANSFORMER).to_numpy(dtype=bool)


def bank_rating_mw(hv_kv: np.ndarray, settings: Settings) -> np.ndarray:
    """Rating of an estimated bank: the figure of the nearest high-voltage class (in kV; a
    tie goes to the higher class).

    >>> bank_rating_mw(np.array([345.0, 220.0, 400.0, 69.0]), Settings()).tolist()
    [444.8, 224.1, 444.8, 56.5]
    """
    kv = np.asarray(settings.transformer_bank_hv_kv, dtype=float)
    mva = np.asarray(settings.transformer_bank_mva, dtype=float)
    if len(kv) != len(mva):
        raise SettingsError("settings transformer_bank_hv_kv and transformer_bank_mva need "
                            f"the same length ({len(kv)} and {len(mva)} given)")
    order = np.argsort(kv, kind="stable")
    kv, mva = kv[order], mva[order]
    dist = np.abs(np.asarray(hv_kv, dtype=float)[:, None] - kv[None, :])
    # the last minimum along the row: the higher class on a tie
    pick = dist.shape[1] - 1 - np.argmin(dist[:, ::-1], axis=1)
    return mva[pick]


def bank_reactance_pu(rating_mw: np.ndarray, settings: Settings) -> np.ndarray:
    """Reactance of an estimated bank on the 100 MVA system base."""
    return settings.transformer_reactance_own_pu * BASE_MVA / np.asarray(rating_mw, float)


def _levels(node: np.ndarray, kv: np.ndarray, tol: float) -> pd.DataFrame:
    """The distinct levels of each node from its line ends: ``node``, ``kv`` (an end's
    voltage), ``level_kv`` (its level's voltage) and ``rank`` (0 = the node's highest)."""
    ends = pd.DataFrame({"node": node, "kv": kv}).drop_duplicates()
    ends = ends.sort_values(["node", "kv"], ascending=[True, False], kind="stable")
    nd, v = ends["node"].to_numpy(), ends["kv"].to_numpy(float)
    if not len(ends):
        return ends.assign(level_kv=v, rank=nd).reset_index(drop=True)
    first = np.r_[True, nd[1:] != nd[:-1]]
    # a new level where the voltage drops below the previous one by more than the tolerance
    start = first | np.r_[True, v[1:] < v[:-1] * (1.0 - tol)]
    cluster = np.cumsum(start) - 1
    head = np.flatnonzero(start)
    ends["level_kv"] = v[head][cluster]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(nd)), 0))
    ends["rank"] = cluster - cluster[group_start]
    return ends.reset_index(drop=True)


def split(subs: pd.DataFrame, lines: gpd.GeoDataFrame, u: np.ndarray, v: np.ndarray,
          transformers: pd.DataFrame, settings: Settings
          ) -> tuple[pd.DataFrame, gpd.GeoDataFrame, np.ndarray, np.ndarray, LevelCounts]:
    """Split every substation into its voltage levels and add the transformers.

    Parameters
    ----------
    subs : pandas.DataFrame
        The substations (``sub_id``, ``name``, ``voltage_kv``, ``geometry``...), one row each.
    lines : geopandas.GeoDataFrame
        The prepared lines (:func:`geo.grid.lines.prepare`) with ``status``.
    u, v : numpy.ndarray
        Row in ``subs`` of each line's ends (-1 where unsnapped).
    transformers : pandas.DataFrame
        The lines layer's transformer rows (``line_id``, ``from_sub``, ``to_sub``,
        ``voltage_kv`` at the from end, ``low_voltage_kv`` at the to end, optional
        ``capacity_mw``, ``reactance_pu``, ``flow_mw``, ``*_source``).
    settings : Settings

    Returns
    -------
    subs, lines, u, v, counts
        The substations with the level nodes appended (``level_of``, ``level_kv``), the
        lines with their ends moved to their levels and the transformers appended (``kind``),
        the new end positions and what was done.
    """
    tol = settings.snap_voltage_tolerance
    n = len(subs)
    counts = LevelCounts()
    ok = lines["status"].to_numpy() == "in_graph"
    kv = lines["voltage_kv"].to_numpy(float)
    pos = pd.Series(np.arange(n), index=subs["sub_id"].to_numpy())
    fa = pos.reindex(transformers["from_sub"].astype(str).to_numpy()).to_numpy(float)
    fb = pos.reindex(transformers["to_sub"].astype(str).to_numpy()).to_numpy(float)
    hv = _numeric(transformers, "voltage_kv")
    low = _numeric(transformers, "low_voltage_kv")
    known = ~np.isnan(fa) & ~np.isnan(fb) & (hv > 0) & (low > 0)
    fa = np.where(known, fa, 0).astype(np.int64)
    fb = np.where(known, fb, 0).astype(np.int64)
    # levels from every end: lines and transformers
    lv = _levels(np.r_[u[ok], v[ok], fa[known], fb[known]],
                 np.r_[kv[ok], kv[ok], hv[known], low[known]], tol)
    table = lv.drop_duplicates(["node", "level_kv"]).reset_index(drop=True)
    row_of = pd.Series(np.arange(len(table)),
                       index=pd.MultiIndex.from_frame(table[["node", "level_kv"]]))
    lv_key = lv.set_index(["node", "kv"])["level_kv"]

    def level_row(node: np.ndarray, volts: np.ndarray) -> np.ndarray:
        lvl = lv_key.reindex(pd.MultiIndex.from_arrays([node, volts])).to_numpy(float)
        return row_of.reindex(pd.MultiIndex.from_arrays([node, lvl])).to_numpy(np.int64)

    la, lb = level_row(u[ok], kv[ok]), level_row(v[ok], kv[ok])
    ta = np.full(len(transformers), -1, np.int64)
    tb = np.full(len(transformers), -1, np.int64)
    ta[known], tb[known] = level_row(fa[known], hv[known]), level_row(fb[known], low[known])
    xf_alive = known & (ta != tb)
    # a level with no line and one transformer (a generator step-up's terminal, a
    # tertiary) carries no flow of a new load: left out, repeatedly, unless it is the
    # substation's only level
    t_node = table["node"].to_numpy()
    alive = np.ones(len(table), dtype=bool)
    n_line = np.bincount(np.r_[la, lb], minlength=len(table))
    while True:
        deg = (np.bincount(ta[xf_alive], minlength=len(table))
               + np.bincount(tb[xf_alive], minlength=len(table)))
        dead = alive & (n_line == 0) & (deg <= 1)
        left = np.bincount(t_node[alive & ~dead], minlength=n)
        # keep the highest of a substation's levels when all would go
        all_go = np.flatnonzero(dead & (left[t_node] == 0))
        _, first = np.unique(t_node[all_go], return_index=True)
        dead[all_go[first]] = False
        if not dead.any():
            break
        alive &= ~dead
        xf_alive &= alive[np.maximum(ta, 0)] & alive[np.maximum(tb, 0)]
    kept = table[alive].copy()
    kept["rank"] = kept.groupby("node").cumcount()      # highest first (table order)
    extra = kept[kept["rank"] > 0]
    counts.level_nodes = len(extra)
    ids = subs["sub_id"].to_numpy().astype(object)
    # the node of each level: the substation's own row for its highest, new rows after it
    level_pos = np.full(len(table), -1, np.int64)
    level_pos[kept.index.to_numpy()] = kept["node"].to_numpy()
    level_pos[extra.index.to_numpy()] = n + np.arange(len(extra))
    new_ids = [f"{ids[p]}@{k:g}kV" for p, k in zip(extra["node"], extra["level_kv"],
                                                   strict=True)]
    all_ids = np.r_[ids, np.array(new_ids, dtype=object)]
    top_kv = kept.loc[kept["rank"] == 0].set_index("node")["level_kv"]

    u2, v2 = u.copy(), v.copy()
    out = lines.copy()
    for arr, rows, col in ((u2, la, "from_sub"), (v2, lb, "to_sub")):
        arr[ok] = level_pos[rows]
        names = out[col].to_numpy(object).copy()
        names[ok] = all_ids[arr[ok]]
        out[col] = names
    out["kind"] = LINE

    status = np.where(~known, NO_LEVEL, np.where(ta == tb, "self_loop", np.where(
        xf_alive, "in_graph", DEAD_END))).astype(object)
    xu = np.where(xf_alive, level_pos[np.maximum(ta, 0)], -1)
    xv = np.where(xf_alive, level_pos[np.maximum(tb, 0)], -1)
    counts.transformers_observed = int(xf_alive.sum())
    counts.transformers_no_level = int((status == NO_LEVEL).sum())
    counts.transformers_dead_end = int((status == DEAD_END).sum())
    xf = _observed(transformers, status, xu, xv, all_ids, settings)
    est, eu, ev = _estimated(subs, kept, ta[xf_alive], tb[xf_alive], level_pos, all_ids,
                             settings)
    counts.transformers_estimated = len(est)
    level_rows = subs.iloc[extra["node"].to_numpy()].copy()
    level_rows["sub_id"] = new_ids
    level_rows["voltage_kv"] = extra["level_kv"].to_numpy(float)
    level_rows["min_voltage_kv"] = extra["level_kv"].to_numpy(float)
    level_rows["status"] = LEVEL
    level_rows["level_of"] = ids[extra["node"].to_numpy()]
    level_rows["level_kv"] = extra["level_kv"].to_numpy(float)
    subs2 = subs.copy()
    subs2["level_of"] = None
    subs2["level_kv"] = top_kv.reindex(np.arange(n)).to_numpy(float)
    subs2 = pd.concat([subs2, level_rows], ignore_index=True)
    subs2["sub_id"] = subs2["sub_id"].astype(subs["sub_id"].dtype)
    parts = [f for f in (out, xf, est) if len(f)]
    lines2 = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True) if len(parts) > 1 else out,
                              geometry="geometry", crs=lines.crs)
    return subs2, lines2, np.r_[u2, xu, eu], np.r_[v2, xv, ev], counts


def _observed(xf: pd.DataFrame, status: np.ndarray, xu: np.ndarray, xv: np.ndarray,
              all_ids: np.ndarray, settings: Settings) -> pd.DataFrame:
    """The data's transformers as rows of ``GridGraph.lines`` (a missing rating or
    reactance estimated as a bank's)."""
    hv = _numeric(xf, "voltage_kv")
    cap = _numeric(xf, "capacity_mw")
    x = _numeric(xf, "reactance_pu")
    cap_est = ~(cap > 0)
    cap[cap_est] = bank_rating_mw(np.where(np.isnan(hv), 0.0, hv)[cap_est], settings)
    x_est = ~(x > 0)
    x[x_est] = bank_reactance_pu(cap[x_est], settings)
    return pd.DataFrame({
        "line_id": xf["line_id"].astype(str).to_numpy(),
        "from_sub": np.where(xu >= 0, all_ids[np.maximum(xu, 0)], None),
        "to_sub": np.where(xv >= 0, all_ids[np.maximum(xv, 0)], None),
        "voltage_kv": hv, "low_voltage_kv": _numeric(xf, "low_voltage_kv"),
        "circuits": np.ones(len(xf), np.int64), "capacity_mw": cap,
        "capacity_source": _source(xf, "capacity_source", cap_est),
        "reactance_pu": x, "reactance_source": _source(xf, "reactance_source", x_est),
        "flow_mw": _numeric(xf, "flow_mw"), "length_km": np.zeros(len(xf)),
        "status": status, "kind": TRANSFORMER,
        "geometry": xf.geometry.to_numpy() if isinstance(xf, gpd.GeoDataFrame)
        else np.full(len(xf), None)})


def _estimated(subs: pd.DataFrame, kept: pd.DataFrame, ta: np.ndarray, tb: np.ndarray,
               level_pos: np.ndarray, all_ids: np.ndarray, settings: Settings
               ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One bank between consecutive levels of a substation that the data's transformers
    (level rows ``ta``-``tb``) leave apart, directly or through its other levels."""
    multi = kept[kept.groupby("node")["rank"].transform("max") > 0]
    node_of = np.full(max(len(level_pos), 1), -1, np.int64)
    node_of[kept.index.to_numpy()] = kept["node"].to_numpy()
    joined: dict[int, list[tuple[int, int]]] = {}
    for a, b in zip(ta.tolist(), tb.tolist(), strict=True):
        if node_of[a] == node_of[b]:
            joined.setdefault(int(node_of[a]), []).append((a, b))
    rows = []
    for node, grp in multi.groupby("node", sort=True):
        members = grp.index.to_numpy()          # rows of the level table, highest first
        parent = {int(r): int(r) for r in members}
        for a, b in joined.get(int(node), []):
            parent[_find(parent, a)] = _find(parent, b)
        for hi, lo in itertools.pairwise(members.tolist()):
            if _find(parent, hi) != _find(parent, lo):
                parent[_find(parent, hi)] = _find(parent, lo)
                rows.append((int(node), hi, lo))
    if not rows:
        return pd.DataFrame(), np.zeros(0, np.int64), np.zeros(0, np.int64)
    node_a = np.array([r[0] for r in rows], np.int64)
    hi_r = np.array([r[1] for r in rows], np.int64)
    lo_r = np.array([r[2] for r in rows], np.int64)
    hi_kv = kept.loc[hi_r, "level_kv"].to_numpy(float)
    lo_kv = kept.loc[lo_r, "level_kv"].to_numpy(float)
    rating = bank_rating_mw(hi_kv, settings)
    point = shapely.get_coordinates(subs.geometry.to_numpy()[node_a])
    sid = subs["sub_id"].to_numpy()[node_a]
    est = pd.DataFrame({
        "line_id": [f"{ESTIMATED_PREFIX}{s}-{h:g}-{lo:g}"
                    for s, h, lo in zip(sid, hi_kv, lo_kv, strict=True)],
        "from_sub": all_ids[level_pos[hi_r]], "to_sub": all_ids[level_pos[lo_r]],
        "voltage_kv": hi_kv, "low_voltage_kv": lo_kv, "circuits": np.ones(len(rows), np.int64),
        "capacity_mw": rating, "capacity_source": "estimated",
        "reactance_pu": bank_reactance_pu(rating, settings), "reactance_source": "estimated",
        "flow_mw": np.full(len(rows), np.nan), "length_km": np.zeros(len(rows)),
        "status": "in_graph", "kind": TRANSFORMER,
        "geometry": shapely.linestrings(np.stack([point, point], axis=1))})
    return est, level_pos[hi_r], level_pos[lo_r]


def level_nodes(subs: pd.DataFrame, node: np.ndarray, kv: np.ndarray, tol: float
                ) -> np.ndarray:
    """The node of the level of substation row ``node`` that voltage ``kv`` matches within
    ``tol`` (the nearest; a plant's connection voltage), else ``node`` itself (its highest
    level). ``subs`` is a built grid's substations table."""
    node = np.asarray(node, np.int64)
    out = node.copy()
    kv = np.asarray(kv, float)
    if "level_of" not in subs or not len(node):
        return out
    level = subs["level_of"].notna().to_numpy()
    if not level.any():
        return out
    pos = pd.Series(np.arange(len(subs)), index=subs["sub_id"].astype(str).to_numpy())
    rows = np.flatnonzero(level)
    cand = pd.DataFrame({
        "parent": np.r_[np.arange(len(subs))[~level],
                        pos.reindex(subs["level_of"].to_numpy()[rows].astype(str)).to_numpy()],
        "kv": np.r_[subs["level_kv"].to_numpy(float)[~level],
                    subs["level_kv"].to_numpy(float)[rows]],
        "row": np.r_[np.arange(len(subs))[~level], rows]})
    q = pd.DataFrame({"q": np.arange(len(node)), "parent": node, "want": kv})
    q = q[np.isfinite(q["want"])].merge(cand, on="parent")
    q["rel"] = np.abs(q["kv"] - q["want"]) / q["kv"]
    q = q[q["rel"] <= tol].sort_values(["q", "rel", "row"], kind="stable").drop_duplicates("q")
    out[q["q"].to_numpy()] = q["row"].to_numpy()
    return out


def _find(parent: dict[int, int], r: int) -> int:
    """Union-find root of ``r`` (path halving)."""
    while parent[r] != r:
        parent[r] = parent[parent[r]]
        r = parent[r]
    return r


def _numeric(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(float, na_value=np.nan).copy()


def _source(frame: pd.DataFrame, col: str, estimated: np.ndarray) -> np.ndarray:
    src = np.full(len(frame), "observed", dtype=object)
    if col in frame.columns:
        given = frame[col].astype(object).to_numpy()
        src = np.where(pd.isna(given), "observed", given).astype(object)
    src[estimated] = "estimated"
    return src
