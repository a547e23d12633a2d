"""Private helpers shared by the source adapters: voltages, merging, filling.

Distances are great-circle kilometres on 3-D unit-sphere coordinates (:mod:`layers.sphere`:
a KD-tree answers radius queries exactly there); nothing here measures in degrees.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from layers.sphere import km_to_chord, line_end_points, unit_xyz

_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_WITH_UNIT = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)\s*(v|kv|mv|w|kw|mw|gw)$", re.IGNORECASE)


def parse_voltages(value: Any) -> tuple[list[float], list[str]]:
    """kV values of an OSM ``voltage`` tag (volts, ``;``-separated) and its junk tokens.

    A token with an explicit unit (``132 kV``) is read in that unit; a bare number is volts,
    as the OSM wiki defines the tag.

    >>> parse_voltages("300000;132000")
    ([300.0, 132.0], [])
    >>> parse_voltages("110000;medium;20 kV")
    ([110.0, 20.0], ['medium'])
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return [], []
    kv: list[float] = []
    junk: list[str] = []
    for token in str(value).replace(",", ";").split(";"):
        t = token.strip()
        if not t:
            continue
        m = _WITH_UNIT.match(t)
        if _NUMBER.match(t):
            v = float(t.replace(",", ".")) / 1000.0
        elif m and m.group(2).lower() in ("v", "kv"):
            v = float(m.group(1).replace(",", "."))
            v = v / 1000.0 if m.group(2).lower() == "v" else v
        else:
            junk.append(t)
            continue
        if v > 0:
            kv.append(v)
        else:
            junk.append(t)
    return kv, junk


def parse_power_mw(value: Any) -> float:
    """MW of an OSM ``plant:output:electricity`` value (``600 MW``, ``1.5 MW``, ``500 kW``).

    ``yes`` and other text give NaN; a bare number is read as MW.

    >>> parse_power_mw("1.5 MW"), parse_power_mw("500 kW"), parse_power_mw("yes")
    (1.5, 0.5, nan)
    """
    if value is None:
        return float("nan")
    t = str(value).strip()
    if _NUMBER.match(t):
        return float(t.replace(",", "."))
    m = _WITH_UNIT.match(t)
    if not m or m.group(2).lower() in ("v", "kv"):
        return float("nan")
    scale = {"w": 1e-6, "kw": 1e-3, "mw": 1.0, "gw": 1e3}[m.group(2).lower()]
    return float(m.group(1).replace(",", ".")) * scale


def _clusters(lon: np.ndarray, lat: np.ndarray, tolerance_km: float) -> np.ndarray:
    """Cluster label of each point: points within ``tolerance_km`` chain into one cluster."""
    n = len(lon)
    if n == 0:
        return np.zeros(0, np.int64)
    pairs = cKDTree(unit_xyz(lon, lat)).query_pairs(km_to_chord(tolerance_km),
                                                    output_type="ndarray")
    adj = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return csgraph.connected_components(adj, directed=False)[1]


def merge_substations(subs: gpd.GeoDataFrame, tolerance_km: float
                      ) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Merge substations that lie within ``tolerance_km`` of each other (PyPSA-Eur: 500 m).

    The row with the highest voltage (then the first) stands for its group; it takes the
    group's highest ``voltage_kv``, lowest ``min_voltage_kv``, first non-null name, and
    lists the others in ``merged_ids``. Returns the merged frame and a report.
    """
    report: dict[str, Any] = {"substations_merged": 0, "merged_groups": []}
    if len(subs) < 2 or tolerance_km <= 0:
        subs = subs.copy()
        subs["merged_ids"] = None
        return subs, report
    subs = subs.reset_index(drop=True)
    labels = _clusters(subs.geometry.x.to_numpy(), subs.geometry.y.to_numpy(), tolerance_km)
    kv = pd.to_numeric(subs["voltage_kv"], errors="coerce")
    vmin = pd.to_numeric(subs.get("min_voltage_kv"), errors="coerce")
    frame = pd.DataFrame({"label": labels, "kv": kv.fillna(-1.0), "pos": np.arange(len(subs))})
    keep = frame.sort_values(["label", "kv", "pos"], ascending=[True, False, True]
                             ).drop_duplicates("label")["pos"].to_numpy()
    g = pd.DataFrame({"label": labels, "kv": kv, "vmin": vmin.fillna(kv),
                      "name": subs["name"], "sub_id": subs["sub_id"].astype(str)}).groupby("label")
    out = subs.iloc[np.sort(keep)].copy()
    lab = labels[out.index.to_numpy()]
    out["voltage_kv"] = g["kv"].max().reindex(lab).to_numpy()
    out["min_voltage_kv"] = g["vmin"].min().reindex(lab).to_numpy()
    out["name"] = g["name"].first().reindex(lab).to_numpy()
    members = g["sub_id"].agg(list).reindex(lab)
    out["merged_ids"] = [";".join(m for m in ms if m != own) or None
                         for ms, own in zip(members, out["sub_id"].astype(str), strict=True)]
    groups = [ms for ms in members if len(ms) > 1]
    report["substations_merged"] = int(len(subs) - len(out))
    report["merged_groups"] = groups[:20]
    return out.reset_index(drop=True), report


def fill_from_neighbours(lines: gpd.GeoDataFrame, tolerance_km: float, passes: int = 5
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Voltage of lines with none, from lines sharing an end point (within ``tolerance_km``).

    The most common voltage among the neighbours wins (the higher on a tie); a few passes
    let a value travel along a chain of unknown lines. Returns the voltages and a mask of
    the rows filled.
    """
    kv = pd.to_numeric(lines["voltage_kv"], errors="coerce").to_numpy(float).copy()
    filled = np.zeros(len(kv), bool)
    if len(kv) == 0 or not np.isnan(kv).any():
        return kv, filled
    start, end = line_end_points(lines.geometry.to_numpy())
    pts = np.vstack([start, end])
    owner = np.r_[np.arange(len(kv)), np.arange(len(kv))]
    ok = np.isfinite(pts).all(axis=1)
    tree = cKDTree(unit_xyz(pts[ok, 0], pts[ok, 1]))
    owner_ok = owner[ok]
    near = tree.query_ball_point(unit_xyz(pts[ok, 0], pts[ok, 1]), km_to_chord(tolerance_km))
    for _ in range(passes):
        todo = np.flatnonzero(np.isnan(kv))
        if len(todo) == 0:
            break
        votes: dict[int, Counter[float]] = {}
        for i, hits in enumerate(near):
            line = owner_ok[i]
            if not np.isnan(kv[line]):
                continue
            c = votes.setdefault(line, Counter())
            c.update(kv[owner_ok[h]] for h in hits if not np.isnan(kv[owner_ok[h]]))
        new = {line: max(c.items(), key=lambda item: (item[1], item[0]))[0]
               for line, c in votes.items() if c}
        if not new:
            break
        for line, value in new.items():
            kv[line] = value
            filled[line] = True
    return kv, filled


def fill_substation_voltages(subs: gpd.GeoDataFrame, lines: gpd.GeoDataFrame,
                             tolerance_km: float) -> tuple[gpd.GeoDataFrame, int]:
    """Fill unknown substation voltages from line ends within ``tolerance_km``.

    ``voltage_kv`` becomes the highest and ``min_voltage_kv`` the lowest voltage of those
    lines, and ``voltage_source`` is set to ``estimated``. Returns the frame and the count.
    """
    subs = subs.copy()
    # copy=True: written below, and pandas 3 (copy-on-write) hands out read-only arrays
    kv = pd.to_numeric(subs["voltage_kv"], errors="coerce").to_numpy(float, copy=True)
    if "voltage_source" not in subs:
        subs["voltage_source"] = [None if np.isnan(v) else "observed" for v in kv]
    todo = np.flatnonzero(np.isnan(kv))
    if len(todo) == 0 or len(lines) == 0:
        return subs, 0
    lkv = pd.to_numeric(lines["voltage_kv"], errors="coerce").to_numpy(float)
    start, end = line_end_points(lines.geometry.to_numpy())
    pts = np.vstack([start, end])
    v = np.r_[lkv, lkv]
    ok = np.isfinite(pts).all(axis=1) & ~np.isnan(v)
    if not ok.any():
        return subs, 0
    tree = cKDTree(unit_xyz(pts[ok, 0], pts[ok, 1]))
    geo = subs.geometry.iloc[todo]
    hits = tree.query_ball_point(unit_xyz(geo.x.to_numpy(), geo.y.to_numpy()),
                                 km_to_chord(tolerance_km))
    vmin = pd.to_numeric(subs.get("min_voltage_kv"), errors="coerce").to_numpy(float).copy()
    count = 0
    vs = v[ok]
    for row, h in zip(todo, hits, strict=True):
        if h:
            kv[row], vmin[row] = vs[h].max(), vs[h].min()
            subs.iloc[row, subs.columns.get_loc("voltage_source")] = "estimated"
            count += 1
    subs["voltage_kv"], subs["min_voltage_kv"] = kv, vmin
    return subs, count


def centroid_points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points as they are; areas and lines at their centroid (computed in a local
    equal-area projection, so the centroid is a true area centroid)."""
    if len(geoms) == 0 or geoms.geom_type.isin(["Point"]).all():
        return geoms
    is_point = geoms.geom_type == "Point"
    out = geoms.copy()
    other = geoms[~is_point]
    c = other.union_all().centroid if len(other) else None
    if c is not None and not c.is_empty:
        laea = f"+proj=laea +lat_0={c.y:.5f} +lon_0={c.x:.5f} +datum=WGS84"
        out[~is_point] = other.to_crs(laea).centroid.to_crs(geoms.crs)
    return out
