"""The grid graph: substations as nodes, merged transmission circuits as edges.

:func:`build` turns the canonical substations and lines layers into a :class:`GridGraph`:
line ends without a ``from_sub``/``to_sub`` are snapped to the nearest substation of
compatible voltage within ``settings.snap_tolerance_km``; missing ratings, reactances and
lengths are estimated (and marked ``estimated``); parallel circuits are merged; and a
:class:`GridReport` says what was snapped, estimated, left out and how many islands there
are. Nothing is dropped silently: every input line keeps a ``status`` in ``GridGraph.lines``.

:func:`backbone_km` and :func:`redundancy` are per-substation topology metrics;
:func:`metrics` adds load-hosting capacity (:mod:`geo.grid.hosting`) and caches the table on
disk (:mod:`geo.grid.cache`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from geo.errors import GridError, LayerValidationError
from geo.grid import cache, dispatch, hosting, levels, shipped
from geo.grid import lines as _lines
from geo.grid.model import (
    ISOLATED,
    LINE_COLUMNS,
    N_PLUS_1,
    RADIAL,
    SUBSTATION_COLUMNS,
    GridGraph,
    GridReport,
)
from geo.settings import Settings
from layers.sphere import point_lonlat, unit_xyz

LOG = logging.getLogger(__name__)

def plants_hash(plants: gpd.GeoDataFrame | None) -> str:
    """Content hash of the plant columns hosting depends on (``none`` without plants)."""
    return "none" if plants is None else cache.frame_hash(plants, hosting.PLANT_COLUMNS)


def _check(substations: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> None:
    problems = []
    for kind, frame, cols in (("substations", substations, ("sub_id", "voltage_kv")),
                              ("lines", lines, ("line_id", "voltage_kv"))):
        if not isinstance(frame, gpd.GeoDataFrame):
            problems.append(f"{kind}: expected a GeoDataFrame, got {type(frame).__name__}")
            continue
        problems += [f"{kind}: missing column {c!r}" for c in cols if c not in frame.columns]
        if frame.crs is None:
            problems.append(f"{kind}: no CRS; set it, e.g. frame.set_crs('EPSG:4326')")
        for c in cols:
            if c in frame.columns and frame[c].isna().any():
                bad = frame.index[frame[c].isna()][:5].tolist()
                problems.append(f"{kind}: null {c!r} in rows {bad}")
        key = cols[0]
        if key in frame.columns and frame[key].astype(str).duplicated().any():
            dup = frame[key][frame[key].astype(str).duplicated()].astype(str).unique()[:5]
            problems.append(f"{kind}: duplicate {key} {list(dup)}")
    if problems:
        raise LayerValidationError("cannot build the grid: " + "; ".join(problems))


def build(substations: gpd.GeoDataFrame, lines: gpd.GeoDataFrame,
          settings: Settings | None = None,
          territories: gpd.GeoDataFrame | None = None) -> GridGraph:
    """Build the grid graph from canonical substations and lines layers.

    Parameters
    ----------
    substations, lines : geopandas.GeoDataFrame
        Layers with the canonical columns (see ``layers/schemas``); any CRS, reprojected
        to EPSG:4326.
    settings : Settings, optional
        ``snap_tolerance_km`` and ``snap_voltage_tolerance`` are used.
    territories : geopandas.GeoDataFrame, optional
        The territories layer: with ``participation_area = "balancing_authority"`` each
        substation's balancing authority is taken from it
        (:func:`geo.grid.dispatch.balancing_areas`) unless the substations carry their own
        ``balancing_area`` column.

    Returns
    -------
    GridGraph

    Raises
    ------
    LayerValidationError
        Missing columns, null or duplicate ids, no CRS.
    GridError
        No substations.
    """
    settings = settings or Settings()
    _check(substations, lines)
    if len(substations) == 0:
        raise GridError("cannot build the grid: the substations layer is empty")
    subs = substations.to_crs(4326).reset_index(drop=True).copy()
    lines = lines.to_crs(4326)
    subs["sub_id"] = subs["sub_id"].astype(str)
    subs["voltage_kv"] = pd.to_numeric(subs["voltage_kv"], errors="coerce")
    vmin = subs.get("min_voltage_kv", np.nan)
    subs["min_voltage_kv"] = pd.to_numeric(vmin, errors="coerce")
    if "name" not in subs:
        subs["name"] = None
    if (settings.participation_area == "balancing_authority"
            and dispatch.BA_COLUMN not in subs):
        subs[dispatch.BA_COLUMN] = dispatch.balancing_areas(subs, territories)
    lonlat = point_lonlat(subs.geometry.to_numpy())
    subs["lon"], subs["lat"] = lonlat[:, 0], lonlat[:, 1]
    placed = np.isfinite(lonlat).all(axis=1)
    tree_rows = np.flatnonzero(placed)
    tree = cKDTree(unit_xyz(lonlat[placed, 0], lonlat[placed, 1]))
    xf_rows = levels.is_transformer(lines)
    out, u, v, counts = _lines.prepare(subs, tree, tree_rows, lines[~xf_rows], settings)
    lvl = levels.LevelCounts()
    if settings.voltage_levels:
        subs, out, u, v, lvl = levels.split(subs, out, u, v, lines[xf_rows], settings)
    edges = _lines.merge(out, u, v)
    ids = subs["sub_id"].to_numpy()
    edges.insert(2, "from_sub", ids[edges["u"].to_numpy()])
    edges.insert(3, "to_sub", ids[edges["v"].to_numpy()])

    n = len(subs)
    adj = sparse.coo_matrix((np.ones(len(edges)), (edges["u"], edges["v"])), shape=(n, n))
    _, labels = csgraph.connected_components(adj, directed=False)
    sizes = np.bincount(labels)
    rank = np.empty(len(sizes), np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
    subs["island"] = rank[labels]
    degree = np.bincount(np.r_[edges["u"], edges["v"]], minlength=n)

    status = out["status"].to_numpy()
    report = GridReport(
        nodes=n, edges=len(edges), lines_total=len(out),
        lines_in_graph=int((status == _lines.IN_GRAPH).sum()),
        islands=len(sizes), island_sizes=sorted(sizes.tolist(), reverse=True),
        substations_without_lines=int((degree == 0).sum()),
        snapped_line_ends=counts.snapped_ends, unsnapped_line_ends=counts.unsnapped_ends,
        unsnapped_line_ids=out.loc[status == _lines.UNSNAPPED, "line_id"].tolist(),
        unknown_sub_ids=counts.unknown_sub_ids,
        self_loops_removed=int((status == _lines.SELF_LOOP).sum()),
        self_loop_line_ids=out.loc[status == _lines.SELF_LOOP, "line_id"].tolist(),
        parallel_circuits_merged=int((status == _lines.IN_GRAPH).sum()) - len(edges),
        estimated_capacity=counts.estimated_capacity,
        estimated_reactance=counts.estimated_reactance,
        estimated_length=counts.estimated_length,
        **dataclasses.asdict(lvl),
        transformers_left_out=0 if settings.voltage_levels else int(xf_rows.sum()),
    )
    if report.unsnapped_line_ends:
        LOG.warning("%d line ends could not be snapped within %g km; those %d lines are not "
                    "in the graph (see report.unsnapped_line_ids)", report.unsnapped_line_ends,
                    settings.snap_tolerance_km, len(report.unsnapped_line_ids))
    LOG.info("grid: %d nodes, %d edges, %d islands", n, len(edges), len(sizes))
    content = hashlib.sha256(json.dumps(
        [cache.frame_hash(subs, SUBSTATION_COLUMNS), cache.frame_hash(lines, LINE_COLUMNS),
         cache.settings_token(settings)], sort_keys=True, default=str).encode()).hexdigest()
    return GridGraph(substations=subs.drop(columns=["lon", "lat"]), lines=out,
                     edges=edges, report=report, settings=settings,
                     input_hash=cache.make_key(content), content_hash=content)


def backbone_km(grid: GridGraph, backbone_kv: float | None = None) -> pd.Series:
    """Network distance (km over line lengths) to the nearest backbone substation.

    Multi-source Dijkstra from every substation at or above ``backbone_kv`` (default
    ``grid.settings.backbone_kv``). NaN where the island has no backbone substation.
    """
    kv = grid.settings.backbone_kv if backbone_kv is None else backbone_kv
    subs, e = grid.substations, grid.edges
    n = len(subs)
    sources = np.flatnonzero(subs["voltage_kv"].to_numpy(float) >= kv)
    out = np.full(n, np.nan)
    if len(sources):
        # explicit zeros are dropped by csgraph: give zero-length lines a negligible length
        w = np.maximum(np.nan_to_num(e["length_km"].to_numpy(float), nan=0.0), 1e-9)
        mat = sparse.csr_matrix((w, (e["u"], e["v"])), shape=(n, n))
        dist = csgraph.dijkstra(mat, directed=False, indices=sources, min_only=True)
        out = np.where(np.isinf(dist), np.nan, dist)
    return pd.Series(out, index=pd.Index(subs["sub_id"], name="sub_id"), name="backbone_km")


def redundancy(grid: GridGraph, backbone_kv: float | None = None) -> pd.Series:
    """``N+1``, ``radial`` or ``isolated`` for every substation.

    A substation is ``N+1`` when it shares a 2-edge-connected component of two or more
    substations with a backbone substation (it keeps a path to the backbone after losing
    any one line); ``radial`` otherwise when its island has a backbone substation, including
    a backbone substation that hangs on a single line; ``isolated`` when its island has
    none. An edge of two or more circuits is not a single point of
    failure, so only single-circuit bridges separate components. O(V + E).
    """
    import networkx as nx  # about 0.1 s: only when the metrics are computed, not shipped

    kv = grid.settings.backbone_kv if backbone_kv is None else backbone_kv
    subs, e = grid.substations, grid.edges
    n = len(subs)
    ids = subs["sub_id"].to_numpy()
    bridges = {frozenset(b) for b in nx.bridges(grid.graph)}
    single = e["circuits"].to_numpy() <= 1
    is_bridge = np.fromiter((frozenset(p) in bridges for p in zip(e["from_sub"], e["to_sub"],
                                                                     strict=True)),
                            bool, len(e)) & single if bridges else np.zeros(len(e), bool)
    keep = ~is_bridge
    adj = sparse.coo_matrix((np.ones(int(keep.sum())), (e["u"][keep], e["v"][keep])),
                            shape=(n, n))
    _, comp = csgraph.connected_components(adj, directed=False)
    backbone = subs["voltage_kv"].to_numpy(float) >= kv
    comp_has = np.bincount(comp, weights=backbone, minlength=comp.max() + 1) > 0
    comp_has &= np.bincount(comp, minlength=comp.max() + 1) > 1
    island = subs["island"].to_numpy()
    island_has = np.bincount(island, weights=backbone, minlength=island.max() + 1) > 0
    out = np.where(comp_has[comp], N_PLUS_1, RADIAL).astype(object)
    out[~island_has[island]] = ISOLATED
    return pd.Series(out, index=pd.Index(ids, name="sub_id"), name="redundancy")


def metrics(grid: GridGraph, plants: gpd.GeoDataFrame | None, settings: Settings | None = None,
            *, sub_ids: Sequence[str] | None = None,
            progress: Callable[[int, int], None] | None = None,
            queued: pd.DataFrame | None = None, reuse: dict | None = None) -> pd.DataFrame:
    """Per-substation grid metrics, cached on disk.

    Parameters
    ----------
    grid : GridGraph
    plants : geopandas.GeoDataFrame or None
        Canonical plants layer (participation in new load); None means no generation, so
        hosting is not computable anywhere.
    settings : Settings, optional
        Defaults to ``grid.settings``; ``use_cache`` False bypasses the cache.
    sub_ids : sequence of str, optional
        Compute hosting only at these substations (the candidates' points of
        interconnection); default: every substation at or above ``hosting_min_kv``. A
        subset of the default is served by the default's cache entry when it exists (or
        computed as the default when it is at least half of it).
    progress : callable, optional
        ``progress(done, total)`` after each hosting batch (not called on a cache hit).
    queued : pandas.DataFrame, optional
        Loads already queued (``sub_id``, ``mw``; :func:`geo.grid.queue.attach`), added to the
        base case first (:func:`geo.grid.hosting.hosting`); they key the cache.
    reuse : dict, optional
        Passed to :func:`geo.grid.hosting.hosting` when the metrics are computed (it then holds
        each island's factorisation and LODF store, e.g. for :func:`geo.grid.hosting.self_ptdf`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``sub_id``: ``name``, ``voltage_kv``, ``island``, ``backbone_km``,
        ``redundancy``, ``hosting_mw``, ``limiting_line_id``, ``limit_kind``,
        ``hosting_status`` (see :func:`geo.grid.hosting.hosting`). ``attrs["hosting"]`` holds
        the hosting report and ``attrs["cache"]`` is ``hit``, ``miss``, ``off`` or
        ``shipped`` (read from :mod:`geo.grid.shipped`).
    """
    settings = settings or grid.settings
    p_hash = plants_hash(plants)
    if queued is not None and not len(queued):
        queued = None
    q_hash = "none" if queued is None else cache.frame_hash(queued, ("sub_id", "mw"))
    base = (grid.input_hash, p_hash, cache.settings_token(settings), q_hash)
    default_key = cache.make_key(*base, "default")
    # the embedded data with the default grid settings: read the shipped results
    ship_key = (shipped.key(grid, p_hash, settings)
                if settings.use_cache and queued is None else None)
    wanted = None
    if sub_ids is not None:
        # Hosting at a substation does not depend on which others are computed (one
        # right-hand side each), so a subset of the default set is served by the default
        # entry when it is cached, or computed as the default when it is most of it.
        wanted = sorted(set(map(str, sub_ids)))
        subs = grid.substations
        default = set(subs.loc[subs["voltage_kv"] >= settings.hosting_min_kv, "sub_id"]
                      .astype(str))
        cached_default = settings.use_cache and (
            cache.path_for("grid-metrics", default_key, settings).is_file()
            or (ship_key is not None and shipped.available(ship_key)))
        if default.issuperset(wanted) and (cached_default or 2 * len(wanted) >= len(default)):
            wanted = None
    key = default_key if wanted is None else cache.make_key(
        *base, hashlib.sha256("\n".join(wanted).encode()).hexdigest())

    def compute() -> pd.DataFrame:
        subs = grid.substations
        if "level_of" in subs:                  # one row per substation, not per level
            subs = subs[subs["level_of"].isna()]
        subs = subs.set_index("sub_id")
        table = pd.DataFrame({"name": subs["name"], "voltage_kv": subs["voltage_kv"],
                              "island": subs["island"]})
        table["backbone_km"] = backbone_km(grid, settings.backbone_kv)
        table["redundancy"] = redundancy(grid, settings.backbone_kv)
        host = hosting.hosting(grid, plants, settings, sub_ids=wanted, progress=progress,
                               queued=queued, reuse=reuse)
        table = table.join(host)
        table.attrs["hosting"] = host.attrs.get("report", {})
        return table

    if wanted is None and ship_key is not None:
        table = shipped.read(ship_key)
        if table is not None:
            return _flags_as_objects(table)
    return _flags_as_objects(cache.cached("grid-metrics", key, settings, compute))


def _flags_as_objects(table: pd.DataFrame) -> pd.DataFrame:
    """``firm_preexisting`` as True/False/None objects, as computed, whichever way the table
    came (parquet reads a flag without nulls back as bool)."""
    if "firm_preexisting" in table and table["firm_preexisting"].dtype != object:
        table["firm_preexisting"] = table["firm_preexisting"].astype(object)
    return table
