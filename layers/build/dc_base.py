"""An estimated DC base case on the US OSM lines: TAMU loads and EIA plants moved to OSM.

- plants (``us/plants.parquet``, EIA-860 sites and capacities from the TAMU package) are
  attached to the nearest OSM substation (not a junction) on the line network of at least
  :data:`PLANT_MIN_KV`, when one lies within :data:`PREFER_KM`; otherwise to the nearest
  one of any voltage; none within :data:`MAX_ATTACH_KM`: not attached (counted);
- loads: TAMU bus ``Pd`` summed per TAMU substation, moved to the nearest OSM substation
  on the line network whose lowest voltage is at most :data:`LOAD_MAX_MIN_KV` (a place
  where sub-transmission leaves, not a pure EHV switching station) within
  :data:`PREFER_KM`, else to the nearest one of any voltage, within :data:`MAX_ATTACH_KM`;
- per island (connected component of the lines): generation (TAMU base output) scaled to
  the island's load; an island without generation or without load is not solved: its
  flows stay NaN (the engine then uses its assumed headroom), counted;
- B θ = P with the slack at the island's largest generator bus, flows (θu − θv) / x ·
  100 MVA on each line row (parallel rows share the angle difference).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve
from scipy.spatial import cKDTree

from layers.estimates import BASE_MVA
from layers.sphere import nearest, point_lonlat, unit_xyz

log = logging.getLogger(__name__)

PLANT_MIN_KV = 69.0
LOAD_MAX_MIN_KV = 230.0
PREFER_KM = 20.0
MAX_ATTACH_KM = 50.0
FLOW_SOURCE = "estimated: DC base case (TAMU loads, EIA plants moved to OSM substations)"


def dc_flows(n: int, from_idx: np.ndarray, to_idx: np.ndarray, x_pu: np.ndarray,
             injection_mw: np.ndarray, island: np.ndarray, solve: np.ndarray,
             slack: np.ndarray) -> np.ndarray:
    """DC line flows (MW, from → to) for the nodes of islands with ``solve[island]``.

    ``injection_mw`` must balance within each solved island; ``slack[k]`` is island k's
    reference node. Lines of other islands get NaN.

    >>> dc_flows(2, np.array([0]), np.array([1]), np.array([0.1]), np.array([50.0, -50.0]),
    ...          np.array([0, 0]), np.array([True]), np.array([0])).tolist()
    [50.0]
    """
    b = 1.0 / x_pu
    rows = np.r_[from_idx, to_idx, from_idx, to_idx]
    cols = np.r_[from_idx, to_idx, to_idx, from_idx]
    vals = np.r_[b, b, -b, -b]
    bmat = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    free = solve[island].copy()
    free[slack[solve]] = False
    theta = np.zeros(n)
    idx = np.flatnonzero(free)
    if len(idx):
        sub = bmat[idx][:, idx].tocsc()
        theta[idx] = spsolve(sub, injection_mw[idx] / BASE_MVA)
    flows = (theta[from_idx] - theta[to_idx]) * b * BASE_MVA
    flows[~solve[island[from_idx]]] = np.nan
    return flows


def _attach(points: np.ndarray, xy: np.ndarray, preferred: np.ndarray) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Row of the chosen substation per point (-1 when none within MAX_ATTACH_KM), km."""
    any_i, any_d = nearest(points, cKDTree(unit_xyz(xy[:, 0], xy[:, 1])))
    pref = np.flatnonzero(preferred)
    p_i, p_d = nearest(points, cKDTree(unit_xyz(xy[pref, 0], xy[pref, 1])))
    p_i = np.where(p_i >= 0, pref[np.maximum(p_i, 0)], -1)
    use = (p_i >= 0) & (p_d <= PREFER_KM)
    out = np.where(use, p_i, any_i)
    dist = np.where(use, p_d, any_d)
    out[~(dist <= MAX_ATTACH_KM)] = -1
    return out, dist


def base_case(subs: pd.DataFrame, lines: pd.DataFrame, plants: pd.DataFrame,
              loads: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, dict[str, object]]:
    """Flows on ``lines``, the plants attached to ``subs``, and the report.

    ``subs``/``lines`` as written by :mod:`layers.build.osm_network`; ``plants`` the TAMU
    plants layer; ``loads`` columns ``lon, lat, load_mw``.
    """
    pos = pd.Series(np.arange(len(subs)), index=subs["sub_id"].to_numpy())
    fi = pos[lines["from_sub"]].to_numpy()
    ti = pos[lines["to_sub"]].to_numpy()
    xy = point_lonlat(subs.geometry.to_numpy())
    on_net = np.zeros(len(subs), bool)
    on_net[fi] = on_net[ti] = True
    cand = on_net & (subs["status"].to_numpy(object) != "junction")
    cidx = np.flatnonzero(cand)
    kv = subs["voltage_kv"].to_numpy(float)[cidx]
    min_kv = subs["min_voltage_kv"].to_numpy(float)[cidx]

    pxy = point_lonlat(plants.geometry.to_numpy())
    p_at, p_km = _attach(pxy, xy[cidx], kv >= PLANT_MIN_KV)
    p_at = np.where(p_at >= 0, cidx[np.maximum(p_at, 0)], -1)
    lxy = loads[["lon", "lat"]].to_numpy(float)
    l_at, _ = _attach(lxy, xy[cidx], min_kv <= LOAD_MAX_MIN_KV)
    l_at = np.where(l_at >= 0, cidx[np.maximum(l_at, 0)], -1)

    n = len(subs)
    island = subs["island"].to_numpy(np.int64)
    n_isl = int(island.max()) + 1 if len(island) and island.max() >= 0 else 0
    isl = np.where(island >= 0, island, n_isl)  # isolated substations: one extra bucket
    base = plants["base_output_mw"].to_numpy(float)
    gen = np.bincount(p_at[p_at >= 0], weights=base[p_at >= 0], minlength=n)
    load_mw = loads["load_mw"].to_numpy(float)
    load = np.bincount(l_at[l_at >= 0], weights=load_mw[l_at >= 0], minlength=n)
    g_isl = np.bincount(isl, weights=gen, minlength=n_isl + 1)[:n_isl]
    l_isl = np.bincount(isl, weights=load, minlength=n_isl + 1)[:n_isl]
    solve = (g_isl > 0) & (l_isl > 0)
    scale = np.where(solve, l_isl / np.where(g_isl > 0, g_isl, 1.0), np.nan)
    slack = np.zeros(n_isl, dtype=np.int64)
    order = np.lexsort((np.arange(n), -gen, isl))  # per island, largest generation first
    first = np.r_[True, isl[order][1:] != isl[order][:-1]]
    for node in order[first]:
        if isl[node] < n_isl:
            slack[isl[node]] = node
    sisl = np.r_[scale, np.nan]
    injection = np.nan_to_num(gen * sisl[isl]) - load
    flows = dc_flows(n, fi, ti, lines["reactance_pu"].to_numpy(float), injection,
                     isl, np.r_[solve, False], np.r_[slack, 0])

    out = plants.copy()
    out["tamu_sub_id"] = out["sub_id"]
    out["sub_id"] = np.where(p_at >= 0, subs["sub_id"].to_numpy(object)[np.maximum(p_at, 0)],
                             None)
    out["attach_km"] = np.round(p_km, 3)
    pscale = np.where(p_at >= 0, sisl[isl[np.maximum(p_at, 0)]], np.nan)
    out["tamu_base_output_mw"] = out["base_output_mw"]
    out["base_output_mw"] = np.round(np.where(np.isfinite(pscale), base * pscale, base), 3)
    out["dispatch_source"] = np.where(np.isfinite(pscale), "estimated: scaled to island load",
                                      "TAMU base case (island not solved)")

    cap = lines["capacity_mw"].to_numpy(float)
    ok = np.isfinite(flows)
    no_gen = int(((g_isl <= 0) & (l_isl > 0)).sum())
    no_load = int(((g_isl > 0) & (l_isl <= 0)).sum())
    rep: dict[str, object] = {
        "load_mw": round(float(load_mw.sum()), 1),
        "load_attached_mw": round(float(load.sum()), 1),
        "generation_base_mw": round(float(base.sum()), 1),
        "generation_attached_mw": round(float(gen.sum()), 1),
        "plants_unattached": int((p_at < 0).sum()),
        "load_points_unattached": int((l_at < 0).sum()),
        "islands": n_isl,
        "islands_solved": int(solve.sum()),
        "islands_load_without_generation": no_gen,
        "islands_generation_without_load": no_load,
        "load_in_solved_islands_mw": round(float(l_isl[solve].sum()), 1),
        "lines_with_flow": int(ok.sum()),
        "lines_over_rating": int((np.abs(flows[ok]) > cap[ok]).sum()),
        "plants_above_online_capacity": int(
            (out["base_output_mw"] > out["online_capacity_mw"] + 1e-6).sum()),
    }
    return flows, out, rep
