"""Private steps of :func:`geo.grid.build`: snap line ends, fill estimates, merge circuits.

Ratings and reactances that a source lacks come from :mod:`layers.estimates` (reVX capacity
classes; typical ohms per km by voltage class), so the data build and the grid agree.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from geo.settings import Settings
from layers import estimates
from layers.sphere import chord_to_km, great_circle_km, km_to_chord, line_end_points, unit_xyz

LOG = logging.getLogger(__name__)

#: Lines shorter than this get this length when a reactance must be estimated from length
#: (co-located substations would otherwise get a zero reactance and a singular B matrix).
MIN_ESTIMATE_LENGTH_KM = 0.1

IN_GRAPH, UNSNAPPED, SELF_LOOP = "in_graph", "unsnapped", "self_loop"

_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass
class LineCounts:
    """What :func:`prepare` found, for the quality report."""

    snapped_ends: int = 0
    unsnapped_ends: int = 0
    unknown_sub_ids: int = 0
    estimated_capacity: int = 0
    estimated_reactance: int = 0
    estimated_length: int = 0


def _ids(lines: pd.DataFrame, col: str) -> pd.Series:
    if col not in lines.columns:
        return pd.Series([None] * len(lines), index=lines.index, dtype=object)
    s = lines[col]
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        return s.astype(object).where(s.notna(), None)  # text already: no per-row work
    return s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))


def prepare(
    subs: pd.DataFrame, tree: cKDTree, tree_rows: np.ndarray, lines: gpd.GeoDataFrame,
    settings: Settings,
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, LineCounts]:
    """Snap, fill and classify every line.

    Parameters
    ----------
    subs : pandas.DataFrame
        Substations with ``sub_id`` (str), ``voltage_kv``, ``min_voltage_kv``, ``lon``,
        ``lat``.
    tree : scipy.spatial.cKDTree
        KD-tree of the located substations' unit-sphere coordinates.
    tree_rows : numpy.ndarray
        Row in ``subs`` of each tree point.
    lines : geopandas.GeoDataFrame
        Canonical lines in EPSG:4326.
    settings : Settings
        ``snap_tolerance_km`` and ``snap_voltage_tolerance`` are used.

    Returns
    -------
    lines : geopandas.GeoDataFrame
        Copy with ``from_sub``/``to_sub`` filled where snapped, ``from_snap_km``,
        ``to_snap_km`` (0 where the id was given), filled ``circuits``, ``capacity_mw``,
        ``reactance_pu``, ``length_km`` with their ``*_source`` columns, and ``status``
        (``in_graph``, ``unsnapped`` or ``self_loop``).
    u, v : numpy.ndarray
        Row positions of the end substations (-1 where unsnapped).
    counts : LineCounts
    """
    out = lines.reset_index(drop=True).copy()
    out["line_id"] = out["line_id"].astype(str)
    counts = LineCounts()
    pos = pd.Series(np.arange(len(subs)), index=subs["sub_id"].to_numpy())
    kv = out["voltage_kv"].to_numpy(float)
    starts, ends = line_end_points(out.geometry.to_numpy())
    sub_max = subs["voltage_kv"].to_numpy(float)[tree_rows]
    sub_min = subs["min_voltage_kv"].to_numpy(float)[tree_rows]
    ends_pos = []
    for col, pts in (("from_sub", starts), ("to_sub", ends)):
        ids = _ids(out, col)
        # copy=True: pandas 3 (copy-on-write) hands out read-only arrays, written below
        p = pos.reindex(ids.to_numpy()).to_numpy(float, copy=True)
        need = np.isnan(p)
        counts.unknown_sub_ids += int((need & ids.notna().to_numpy()).sum())
        snap_km = np.where(need, np.nan, 0.0)
        if need.any():
            j, d = snap(pts[need], kv[need], tree, sub_max, sub_min,
                             settings.snap_tolerance_km, settings.snap_voltage_tolerance)
            p[need] = np.where(j >= 0, tree_rows[np.maximum(j, 0)], np.nan)
            snap_km[need] = d
            counts.snapped_ends += int((j >= 0).sum())
        ok = ~np.isnan(p)
        counts.unsnapped_ends += int((~ok).sum())
        p = np.where(ok, p, -1).astype(np.int64)
        out[col] = np.where(ok, subs["sub_id"].to_numpy()[np.maximum(p, 0)], None)
        out[col.replace("_sub", "_snap_km")] = snap_km
        ends_pos.append(p)
    u, v = ends_pos

    # length: data, else geodesic length of the route, else great circle between the ends
    length = pd.to_numeric(out.get("length_km"), errors="coerce") if "length_km" in out else None
    length = np.full(len(out), np.nan) if length is None else length.to_numpy(float, copy=True)
    miss = np.isnan(length)
    counts.estimated_length = int(miss.sum())
    if miss.any():
        length[miss] = geodesic_length_km(out.geometry.to_numpy()[miss])
        still = np.isnan(length) & (u >= 0) & (v >= 0)
        if still.any():
            xy = subs[["lon", "lat"]].to_numpy(float)
            length[still] = great_circle_km(xy[u[still]], xy[v[still]])
    out["length_km"] = length

    circuits = _numeric(out, "circuits")
    circuits = np.where(np.isnan(circuits) | (circuits < 1), 1.0, circuits)
    out["circuits"] = circuits.astype(np.int64)

    cap = _numeric(out, "capacity_mw")
    est = np.isnan(cap) | (cap <= 0)  # MATPOWER's rateA = 0 means "no limit given"
    counts.estimated_capacity = int(est.sum())
    cap[est] = estimates.rating_mw(kv[est], circuits[est])
    out["capacity_mw"] = cap
    out["capacity_source"] = _source(out, "capacity_source", est)

    x = _numeric(out, "reactance_pu")
    est = np.isnan(x) | (x <= 0)
    counts.estimated_reactance = int(est.sum())
    x_len = np.nan_to_num(np.maximum(length[est], MIN_ESTIMATE_LENGTH_KM),
                          nan=MIN_ESTIMATE_LENGTH_KM)
    x[est] = estimates.reactance_pu(kv[est], x_len, circuits[est])
    out["reactance_pu"] = x
    out["reactance_source"] = _source(out, "reactance_source", est)
    out["flow_mw"] = _numeric(out, "flow_mw")

    status = np.full(len(out), IN_GRAPH, dtype=object)
    status[(u == v) & (u >= 0)] = SELF_LOOP
    status[(u < 0) | (v < 0)] = UNSNAPPED
    out["status"] = status
    return out, u, v, counts


def _numeric(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(float, na_value=np.nan).copy()


def _source(frame: pd.DataFrame, col: str, estimated: np.ndarray) -> np.ndarray:
    given = _ids(frame, col).to_numpy(object) if col in frame.columns else None
    src = np.full(len(frame), "observed", dtype=object)
    if given is not None:
        src = np.where(pd.isna(given), "observed", given)
    src[estimated] = "estimated"
    return src


def merge(lines: pd.DataFrame, u: np.ndarray, v: np.ndarray) -> pd.DataFrame:
    """Merge the in-graph circuits of each substation pair into one edge.

    Capacities and circuits add, reactances combine in parallel, the length is the
    shortest. ``limit_mw`` is the flow on the merged edge at which its first circuit
    reaches its rating when the flow splits in inverse proportion to reactance
    (``min_i rating_i·x_i · Σ_j 1/x_j``; equal to ``capacity_mw`` when ratings are
    proportional to admittances). Edges are oriented from the end that comes first in the
    substations table (``u < v``); ``flow_mw`` is positive in that direction and NaN when
    any circuit's base flow is unknown. A source is ``estimated`` when any circuit's is.
    ``kind`` is ``transformer`` for the circuits of :mod:`geo.grid.levels` (a transformer
    never shares its two nodes with a line), else ``line``.
    """
    keep = lines["status"].to_numpy() == IN_GRAPH
    uu, vv = u[keep], v[keep]
    a, b = np.minimum(uu, vv), np.maximum(uu, vv)
    sign = np.where(uu == a, 1.0, -1.0)
    x = lines["reactance_pu"].to_numpy(float)[keep]
    cap = lines["capacity_mw"].to_numpy(float)[keep]
    flow = lines["flow_mw"].to_numpy(float)[keep] * sign
    df = pd.DataFrame({
        "u": a, "v": b, "line_id": lines["line_id"].to_numpy()[keep],
        "circuits": lines["circuits"].to_numpy()[keep],
        "capacity_mw": cap, "inv_x": 1.0 / x, "rx": cap * x,
        "flow_mw": np.nan_to_num(flow), "flow_na": np.isnan(flow),
        "length_km": lines["length_km"].to_numpy(float)[keep],
        "cap_est": lines["capacity_source"].to_numpy()[keep] == "estimated",
        "x_est": lines["reactance_source"].to_numpy()[keep] == "estimated",
        "xf": (lines["kind"].to_numpy()[keep] == "transformer") if "kind" in lines
        else np.zeros(int(keep.sum()), dtype=bool),
    })
    g = df.groupby(["u", "v"], sort=True)
    e = g.agg(
        circuits=("circuits", "sum"),
        capacity_mw=("capacity_mw", "sum"), inv_x=("inv_x", "sum"), rx=("rx", "min"),
        flow_mw=("flow_mw", "sum"), flow_na=("flow_na", "any"),
        length_km=("length_km", "min"), cap_est=("cap_est", "any"), x_est=("x_est", "any"),
        xf=("xf", "any"),
    ).reset_index()
    # line ids per edge without a Python call per group: sort by group, then slice
    codes = g.ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    ids = df["line_id"].to_numpy()[order].tolist()
    bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=len(e)))].tolist()
    e.insert(2, "line_ids", [tuple(ids[a:b]) for a, b in itertools.pairwise(bounds)])
    e["reactance_pu"] = 1.0 / e["inv_x"]
    e["limit_mw"] = np.minimum(e["rx"] * e["inv_x"], e["capacity_mw"])
    e.loc[e["flow_na"], "flow_mw"] = np.nan
    e["capacity_source"] = np.where(e["cap_est"], "estimated", "observed")
    e["reactance_source"] = np.where(e["x_est"], "estimated", "observed")
    e["kind"] = np.where(e["xf"], "transformer", "line").astype(object)
    return e.drop(columns=["inv_x", "rx", "flow_na", "cap_est", "x_est", "xf"])


def geodesic_length_km(geoms: np.ndarray) -> np.ndarray:
    """Geodesic length in km of each (Multi)LineString in EPSG:4326 (NaN when missing)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), np.nan)
    parts = shapely.get_parts(geoms, return_index=True)
    part_geoms, owner = parts
    coords, pidx = shapely.get_coordinates(part_geoms, return_index=True)
    has = np.zeros(len(geoms), bool)
    has[owner] = True
    out[has] = 0.0
    if len(coords) > 1:
        same = pidx[1:] == pidx[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        _, _, dist_m = _GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        seg_owner = owner[pidx[:-1][same]]
        out += np.bincount(seg_owner, weights=dist_m / 1000.0, minlength=len(geoms))
    return out


def snap(
    points: np.ndarray,
    point_kv: np.ndarray,
    tree: cKDTree,
    sub_max_kv: np.ndarray,
    sub_min_kv: np.ndarray,
    tolerance_km: float,
    kv_tolerance: float,
    k: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Snap lon/lat ``points`` to the nearest substation of compatible voltage.

    A substation is compatible with a line of voltage V when
    ``min_kv·(1−tol) ≤ V ≤ max_kv·(1+tol)`` (a missing bound is no constraint). Among the
    ``k`` nearest substations within ``tolerance_km`` the nearest compatible one wins.

    Returns
    -------
    index : numpy.ndarray
        Substation row position, -1 where nothing compatible lies within the tolerance.
    distance_km : numpy.ndarray
        Great-circle distance to it (NaN where unsnapped).
    """
    n = len(points)
    index = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    ok = np.isfinite(points).all(axis=1)
    if not ok.any() or tree.n == 0:
        return index, dist
    k = min(k, tree.n)
    d, j = tree.query(unit_xyz(points[ok, 0], points[ok, 1]), k=k,
                      distance_upper_bound=float(km_to_chord(tolerance_km)))
    d, j = d.reshape(len(d), k), j.reshape(len(j), k)
    found = j < tree.n
    jj = np.where(found, j, 0)
    v = np.asarray(point_kv, float)[ok][:, None]
    hi, lo = sub_max_kv[jj], sub_min_kv[jj]
    compatible = found & ~(v > hi * (1 + kv_tolerance)) & ~(v < lo * (1 - kv_tolerance))
    has = compatible.any(axis=1)
    first = np.argmax(compatible, axis=1)
    rows = np.flatnonzero(ok)[has]
    index[rows] = jj[has, first[has]]
    dist[rows] = chord_to_km(d[has, first[has]])
    return index, dist
