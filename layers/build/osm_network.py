"""One country's network from classified GridKit links: per-voltage lines, junctions merged.

- a link is the country's when both its vertices are (point in polygon); links with one
  end outside are dropped and counted (``cross_border_dropped``), DC links too;
- one row per (link, voltage); rows with the same two vertices and voltage are one row
  whose circuits are the sum (parallel OSM ways are parallel circuits), counted;
- a junction vertex (GridKit ``joint``/``merge``) with exactly two rows of one voltage is
  contracted: the two rows become one line between their other ends, length summed,
  circuits the smaller; repeated along chains (``junctions_merged`` counts the vertices
  that lose all their rows this way). Junctions that remain (T-taps, ends, voltage
  changes) stay as nodes with ``status = "junction"``: network nodes, not sites to offer;
- ``line_id`` = ``osm-l<lowest GridKit l_id>-<kV>``, ``osm_link_ids`` all of them;
  ``sub_id`` = ``osm-v<v_id>``;
- ratings and reactances are estimated by voltage class (:mod:`layers.estimates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from layers.build.gridkit import MAX_CIRCUITS, SOURCES, Link
from layers.estimates import rating_mw, reactance_pu

#: Reactance of very short lines is estimated at this length (as ``geo.grid.lines``).
MIN_ESTIMATE_LENGTH_KM = 0.1
RATING_SOURCE = "estimated: voltage class"
REACTANCE_SOURCE = "estimated: voltage class and length"
JUNCTION = "junction"


@dataclass
class Row:
    ids: list[int]
    a: int
    b: int
    kv: float
    circuits: int
    km: float
    source: str


def _worst(*sources: str) -> str:
    return max(sources, key=SOURCES.index)


def _dedupe(rows: list[Row]) -> tuple[list[Row], int]:
    groups: dict[tuple[int, int, float], list[Row]] = {}
    for r in rows:
        groups.setdefault((min(r.a, r.b), max(r.a, r.b), r.kv), []).append(r)
    out, merged = [], 0
    for key in sorted(groups):
        g = sorted(groups[key], key=lambda r: min(r.ids))
        first = g[0]
        if len(g) > 1:
            merged += len(g) - 1
            first = Row(sorted(i for r in g for i in r.ids), first.a, first.b, first.kv,
                        min(sum(r.circuits for r in g), MAX_CIRCUITS), first.km,
                        _worst(*(r.source for r in g)))
        out.append(first)
    return out, merged


def _contract(rows: list[Row], junctions: set[int]) -> list[Row]:
    alive = dict(enumerate(rows))
    at: dict[tuple[int, float], set[int]] = {}
    for i, r in alive.items():
        at.setdefault((r.a, r.kv), set()).add(i)
        at.setdefault((r.b, r.kv), set()).add(i)
    kvs: dict[int, set[float]] = {}
    for v, kv in at:
        kvs.setdefault(v, set()).add(kv)
    nxt = len(rows)
    for j in sorted(junctions & set(kvs)):
        for kv in sorted(kvs[j]):
            idx = at.get((j, kv), set())
            if len(idx) != 2:
                continue
            i1, i2 = sorted(idx, key=lambda i: min(alive[i].ids))
            r1, r2 = alive[i1], alive[i2]
            u = r1.b if r1.a == j else r1.a
            w = r2.b if r2.a == j else r2.a
            if u == w:
                continue  # a loop through the junction: leave it
            new = Row(sorted(r1.ids + r2.ids), u, w, kv, min(r1.circuits, r2.circuits),
                      r1.km + r2.km, _worst(r1.source, r2.source))
            for i, r in ((i1, r1), (i2, r2)):
                at[(r.a, kv)].discard(i)
                at[(r.b, kv)].discard(i)
                del alive[i]
            alive[nxt] = new
            at.setdefault((u, kv), set()).add(nxt)
            at.setdefault((w, kv), set()).add(nxt)
            kvs.setdefault(u, set()).add(kv)
            kvs.setdefault(w, set()).add(kv)
            nxt += 1
    return list(alive.values())


def islands(from_idx: np.ndarray, to_idx: np.ndarray, n: int) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes (lowest node first gets 0)."""
    graph = coo_matrix((np.ones(len(from_idx)), (from_idx, to_idx)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def network(vertices: pd.DataFrame, links: list[Link], iso: str
            ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """Substations and lines of country ``iso`` (vertices carry ``country`` and ``state``)."""
    vx = vertices[vertices["country"] == iso].set_index("v_id", drop=False)
    inside = set(vx.index)
    q: dict[str, Any] = {"country": iso.lower(), "vertices": len(vx)}
    mine = [lk for lk in links if lk.a in inside and lk.b in inside]
    ac = [lk for lk in mine if not lk.dc]
    q["links"] = len(mine)
    q["cross_border_dropped"] = sum((lk.a in inside) != (lk.b in inside) for lk in links)
    q["dc_dropped"] = len(mine) - len(ac)
    q["dc_circuits_dropped"] = sum(lk.dc_circuits for lk in ac)
    for s in SOURCES:
        q[f"voltage_{s}"] = sum(lk.source == s for lk in ac)
    rows = [Row([lk.l_id], lk.a, lk.b, kv, c, lk.length_km, lk.source)
            for lk in ac for kv, c in lk.kv.items()]
    q["line_rows_split"] = len(rows)
    rows, dup1 = _dedupe(rows)
    junctions = set(vx.index[vx["junction"]])
    with_rows = {v for r in rows for v in (r.a, r.b)}
    rows = _contract(rows, junctions)
    rows, dup2 = _dedupe(rows)
    q["duplicates_merged"] = dup1 + dup2
    rows.sort(key=lambda r: (min(r.ids), r.kv))
    ends = {v for r in rows for v in (r.a, r.b)}
    q["junctions_merged"] = len(junctions & with_rows - ends)
    q["junctions_unused"] = len(junctions - with_rows)

    # --- substations (and the junctions still needed as nodes) ---------------------------
    line_kv: dict[int, list[float]] = {}
    n_lines: dict[int, int] = {}
    for r in rows:
        for v in (r.a, r.b):
            line_kv.setdefault(v, []).append(r.kv)
            n_lines[v] = n_lines.get(v, 0) + r.circuits
    keep = vx[~vx["junction"] | vx.index.isin(ends)].copy()
    kvs = [sorted(t | set(line_kv.get(v, ()))) for v, t in zip(keep.index, keep["tag_kv"],
                                                                 strict=True)]
    keep["voltage_kv"] = [k[-1] if k else np.nan for k in kvs]
    keep["min_voltage_kv"] = [k[0] if k else np.nan for k in kvs]
    keep["voltage_source"] = np.where([bool(t) for t in keep["tag_kv"]], "osm",
                                      np.where(keep["voltage_kv"].notna(), "inferred_lines",
                                               "unknown"))
    q["substations_no_voltage_dropped"] = int(keep["voltage_kv"].isna().sum())
    keep = keep[keep["voltage_kv"].notna()]
    ids = keep.index.to_numpy()
    pos = {v: i for i, v in enumerate(ids)}
    fi = np.array([pos[r.a] for r in rows], dtype=np.int64)
    ti = np.array([pos[r.b] for r in rows], dtype=np.int64)
    label = islands(fi, ti, len(ids))
    on_lines = np.zeros(len(ids), bool)
    on_lines[fi] = on_lines[ti] = True
    is_sub = ~keep["junction"].to_numpy()
    subs = gpd.GeoDataFrame(
        {
            "sub_id": [f"osm-v{v}" for v in ids],
            "name": keep["name"].to_numpy(),
            "voltage_kv": keep["voltage_kv"].to_numpy(float),
            "min_voltage_kv": keep["min_voltage_kv"].to_numpy(float),
            "n_lines": np.array([n_lines.get(v, 0) for v in ids], dtype="int64"),
            "status": np.where(is_sub, np.array(None, dtype=object), JUNCTION).astype(object),
            "interconnect": np.full(len(ids), None, dtype=object),
            "state": keep["state"].to_numpy(object),
            "osm_type": keep["typ"].to_numpy(),
            "voltage_source": keep["voltage_source"].to_numpy(),
            "island": np.where(on_lines, label, -1).astype("int64"),
        },
        geometry=gpd.points_from_xy(keep["lon"], keep["lat"]), crs="EPSG:4326",
    )
    q["substations"] = int(is_sub.sum())
    q["junctions_kept"] = int((~is_sub).sum())
    degree = np.bincount(np.r_[fi, ti], minlength=len(ids))
    q["dangling_ends"] = int(((~is_sub) & (degree == 1)).sum())
    sub_islands = label[on_lines]
    q["islands"] = len(set(sub_islands.tolist()))
    if q["islands"]:
        counts = np.bincount(label[is_sub & on_lines], minlength=label.max() + 1)
        q["largest_island_substation_share"] = round(float(counts.max() / max(is_sub.sum(), 1)), 4)
    else:
        q["largest_island_substation_share"] = 0.0

    # --- lines ---------------------------------------------------------------------------
    kv = np.array([r.kv for r in rows], dtype=float)
    circuits = np.array([r.circuits for r in rows], dtype="int64")
    km = np.round(np.array([r.km for r in rows], dtype=float), 4)
    xy = keep[["lon", "lat"]].to_numpy(float)
    coords = np.stack([xy[fi], xy[ti]], axis=1) if len(rows) else np.zeros((0, 2, 2))
    lines = gpd.GeoDataFrame(
        {
            "line_id": [f"osm-l{min(r.ids)}-{r.kv:g}" for r in rows],
            "from_sub": [f"osm-v{r.a}" for r in rows],
            "to_sub": [f"osm-v{r.b}" for r in rows],
            "voltage_kv": kv,
            "circuits": circuits,
            "capacity_mw": np.round(rating_mw(kv, circuits), 3),
            "capacity_source": np.full(len(rows), "estimated", dtype=object),
            "reactance_pu": np.round(reactance_pu(kv, np.maximum(km, MIN_ESTIMATE_LENGTH_KM),
                                                  circuits), 8),
            "reactance_source": np.full(len(rows), "estimated", dtype=object),
            "flow_mw": np.full(len(rows), np.nan),
            "length_km": km,
            "voltage_source": [r.source for r in rows],
            "rating_source": np.full(len(rows), RATING_SOURCE, dtype=object),
            "reactance_detail": np.full(len(rows), REACTANCE_SOURCE, dtype=object),
            "flow_source": np.full(len(rows), "unknown: no embedded plants/loads", dtype=object),
            "osm_link_ids": [";".join(str(i) for i in r.ids) for r in rows],
            "island": label[fi].astype("int64") if len(rows) else np.zeros(0, "int64"),
        },
        geometry=shapely.linestrings(coords) if len(rows) else gpd.GeoSeries([]),
        crs="EPSG:4326",
    )
    q["lines"] = len(lines)
    return subs, lines, q
