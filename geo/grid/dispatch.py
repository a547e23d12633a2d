"""Who picks up a new load: generators with headroom, within a balancing area.

``settings.participation_method``:

* ``"headroom"`` (default): each dispatchable plant (``settings.participation_fuels``)
  offers ``online_capacity_mw − base_output_mw`` (its headroom in the base case: TAMU's
  ``Pmax − Pg`` of the units that are on), never below 0. A unit at full output offers
  nothing, and so does a unit that is off in the snapshot (not committed). Where
  ``online_capacity_mw`` is missing the plant's ``capacity_mw`` stands for it; where
  ``base_output_mw`` is missing the plant is taken as idle (headroom = capacity) and
  counted in the report.
* ``"nameplate"``: the plant's capacity, as before issue 13.

``settings.participation_area``:

* ``"eia930_region"`` (default): the new load is served from the POI's region: the 13
  regions of EIA's Hourly Electric Grid Monitor (EIA-930), each state taken whole into the
  region that serves most of it (:data:`EIA930_REGION_BY_STATE`, our mapping; states split
  between regions such as KY, MO or MS go to one). A POI without a ``state`` or whose
  region has no headroom in its island falls back to the island (interconnection).
* ``"balancing_authority"``: the POI's balancing authority (BA): the plants at the
  substations of the same BA (column ``balancing_area`` of the substations, from the
  territories layer by :func:`balancing_areas`, or the user's own). A POI without a BA or
  whose BA has no headroom in its island falls back to the island.
* ``"interconnection"``: the whole island.

The participation of an area sums to the load (one per MW); ``area_headroom_mw`` (the
area's total headroom) lets the ranking flag ``generation_short`` when it is below the load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.errors import GridError, SettingsError
from geo.grid import levels, serving
from geo.settings import Settings
from layers.sphere import nearest, point_lonlat, unit_xyz

if TYPE_CHECKING:
    from geo.grid.model import GridGraph

METHODS = ("headroom", "nameplate")
#: The stressed dispatch case (``settings.dispatch_stress_case``): the new load drawn from
#: every dispatchable plant of the interconnection by nameplate, so far plants carry their
#: share as when the near units are already at full output or out (docs/methods.md,
#: "Dispatch cases").
STRESSED = {"participation_method": "nameplate", "participation_area": "interconnection"}
AREAS = ("eia930_region", "balancing_authority", "interconnection")

#: State (ISO 3166-2) → EIA-930 region (EIA Hourly Electric Grid Monitor: CAL, CAR, CENT,
#: FLA, MIDA, MIDW, NE, NY, NW, SE, SW, TEN, TEX), by the region serving most of the state.
EIA930_REGION_BY_STATE = {
    "US-CA": "CAL",
    "US-NC": "CAR", "US-SC": "CAR",
    "US-KS": "CENT", "US-OK": "CENT", "US-NE": "CENT",
    "US-FL": "FLA",
    "US-PA": "MIDA", "US-NJ": "MIDA", "US-MD": "MIDA", "US-DE": "MIDA", "US-DC": "MIDA",
    "US-VA": "MIDA", "US-WV": "MIDA", "US-OH": "MIDA", "US-KY": "MIDA",
    "US-MN": "MIDW", "US-IA": "MIDW", "US-WI": "MIDW", "US-MI": "MIDW", "US-IL": "MIDW",
    "US-IN": "MIDW", "US-MO": "MIDW", "US-AR": "MIDW", "US-LA": "MIDW", "US-ND": "MIDW",
    "US-SD": "MIDW", "US-MS": "MIDW",
    "US-ME": "NE", "US-NH": "NE", "US-VT": "NE", "US-MA": "NE", "US-RI": "NE", "US-CT": "NE",
    "US-NY": "NY",
    "US-WA": "NW", "US-OR": "NW", "US-ID": "NW", "US-MT": "NW", "US-WY": "NW", "US-UT": "NW",
    "US-NV": "NW", "US-CO": "NW",
    "US-AL": "SE", "US-GA": "SE",
    "US-AZ": "SW", "US-NM": "SW",
    "US-TN": "TEN",
    "US-TX": "TEX",
}


#: The substations' column holding their balancing authority (:func:`balancing_areas`).
BA_COLUMN = "balancing_area"


def _check(settings: Settings) -> None:
    if settings.participation_method not in METHODS:
        raise SettingsError(f"setting participation_method must be one of {', '.join(METHODS)}, "
                            f"not {settings.participation_method!r}")
    if settings.participation_area not in AREAS:
        raise SettingsError(f"setting participation_area must be one of {', '.join(AREAS)}, "
                            f"not {settings.participation_area!r}")


def participation(grid: GridGraph, plants: gpd.GeoDataFrame | None,
                  settings: Settings | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Generation (MW) at each substation, in node order, that can pick up a new load.

    Plants of ``settings.participation_fuels`` count at their ``sub_id``; a plant whose
    ``sub_id`` is null or not in the grid counts at the nearest substation (geodesic, no
    distance limit; the number is reported). Each counts with its headroom or its capacity
    (``settings.participation_method``, see the module notes).

    Returns
    -------
    mw : numpy.ndarray
    info : dict
        ``participation_method``, ``participating_plants``, ``participating_mw``,
        ``plants_located_by_nearest``, ``plants_unlocated``,
        ``plants_without_base_output``.
    """
    settings = settings or grid.settings
    _check(settings)
    subs = grid.substations
    mw = np.zeros(len(subs))
    info = {"participation_method": settings.participation_method,
            "participating_plants": 0, "participating_mw": 0.0,
            "plants_located_by_nearest": 0, "plants_unlocated": 0,
            "plants_without_base_output": 0}
    if plants is None or len(plants) == 0:
        return mw, info
    fuels = {f.lower() for f in settings.participation_fuels}
    cap = pd.to_numeric(plants["capacity_mw"], errors="coerce").to_numpy(float)
    if settings.participation_method == "headroom":
        base = _column(plants, "base_output_mw")
        online = _column(plants, "online_capacity_mw")
        info["plants_without_base_output"] = int(np.isnan(base).sum())
        online = np.where(np.isnan(online), cap, np.minimum(online, cap))
        cap = np.maximum(online - np.clip(np.nan_to_num(base), 0.0, None), 0.0)
    fuel = plants["fuel"].astype(str).str.lower().to_numpy()
    take = np.isin(fuel, list(fuels)) & (cap > 0)
    if not take.any():
        return mw, info
    pl = plants[take]
    pos = pd.Series(np.arange(len(subs)), index=subs["sub_id"].to_numpy())
    sid = pl["sub_id"] if "sub_id" in pl else pd.Series([None] * len(pl), index=pl.index)
    sid = sid.astype(object).where(sid.notna(), None)
    p = pos.reindex([None if s is None else str(s) for s in sid]).to_numpy(float, copy=True)
    miss = np.isnan(p)
    if miss.any():
        lonlat = point_lonlat(subs.geometry.to_numpy())
        ok = np.isfinite(lonlat).all(axis=1)
        if "level_of" in subs:                  # a substation's own node, not its levels
            ok &= subs["level_of"].isna().to_numpy()
        tree = cKDTree(unit_xyz(lonlat[ok, 0], lonlat[ok, 1]))
        pts = point_lonlat(pl.to_crs(4326).geometry.to_numpy()[miss])
        j, _ = nearest(pts, tree)
        p[miss] = np.where(j >= 0, np.flatnonzero(ok)[np.maximum(j, 0)], np.nan)
        info["plants_located_by_nearest"] = int((j >= 0).sum())
    found = ~np.isnan(p)
    if "voltage_kv" in pl and found.any():
        # a plant with a connection voltage joins that level of its substation
        # (geo.grid.levels), else the substation's highest
        p[found] = levels.level_nodes(subs, p[found].astype(np.int64),
                                      _column(pl, "voltage_kv")[found],
                                      settings.snap_voltage_tolerance)
    info["plants_unlocated"] = int((~found).sum())
    mw += np.bincount(p[found].astype(np.int64), weights=cap[take][found], minlength=len(subs))
    info["participating_plants"] = int(found.sum())
    info["participating_mw"] = float(mw.sum())
    return mw, info


def participation_kept(grid: GridGraph, plants: gpd.GeoDataFrame | None,
                       settings: Settings, reuse: dict | None
                       ) -> tuple[np.ndarray, dict[str, Any]]:
    """:func:`participation`, kept in ``reuse`` (:func:`geo.grid.hosting.hosting`'s: one
    grid, one plants layer) by the settings it reads, so a portfolio's many hosting runs
    compute each case's once. Returns a copy (callers take queued loads' headroom from it)."""
    if reuse is None:
        return participation(grid, plants, settings)
    key = ("participation", id(plants), settings.participation_method,
           settings.participation_area, tuple(settings.participation_fuels))
    if key not in reuse:
        reuse[key] = participation(grid, plants, settings)
    gen, info = reuse[key]
    return gen.copy(), dict(info)


def _column(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(float, na_value=np.nan)


def areas(grid: GridGraph, settings: Settings | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Balancing area of each substation: integer codes (−1: none) and their labels."""
    settings = settings or grid.settings
    _check(settings)
    subs = grid.substations
    column = {"eia930_region": "state", "balancing_authority": BA_COLUMN}.get(
        settings.participation_area)
    if column is None or column not in subs:
        return np.full(len(subs), -1, np.int64), np.array([], dtype=object)
    if column == "state":
        region = subs["state"].map(EIA930_REGION_BY_STATE)
    else:
        region = subs[column].astype(object).where(subs[column].notna(), None)
    codes, labels = pd.factorize(region, sort=True)
    return codes.astype(np.int64), np.asarray(labels, dtype=object)


def balancing_areas(substations: gpd.GeoDataFrame, territories: gpd.GeoDataFrame | None
                    ) -> np.ndarray:
    """The balancing authority (EIA code, e.g. ``ERCO``, ``SWPP``, ``MISO``) of each
    substation, None where none is known: :func:`geo.grid.serving.serve`, the rule of the
    sites' ``balancing_authority`` column, so a site at its POI shows the BA it is served
    from (the BA of the retail territory containing the substation, else of the smallest
    control area: BA polygons and ISO/RTO polygons as their BA's).
    """
    if territories is None or len(territories) == 0 or len(substations) == 0:
        return np.full(len(substations), None, dtype=object)
    return serving.serve(substations.to_crs(4326).geometry.to_numpy(),
                         territories).balancing_authority


def queued_nodes(queued: pd.DataFrame | None, ids: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Bus positions and MW of the queued loads (summed per bus)."""
    if queued is None or not len(queued):
        return np.zeros(0, np.int64), np.zeros(0)
    pos = pd.Series(np.arange(len(ids)), index=ids)
    sub = queued["sub_id"].astype(str)
    unknown = sorted(set(sub) - set(ids))
    if unknown:
        raise GridError(f"queued loads at unknown sub_id(s): {unknown[:10]}")
    mw = queued["mw"].to_numpy(float)
    table = pd.DataFrame({"node": pos.reindex(sub.to_numpy()).to_numpy(), "mw": mw})
    table = table.groupby("node", sort=True)["mw"].sum()
    return table.index.to_numpy(np.int64), table.to_numpy(float)


def serve_queued(gen: np.ndarray, area: np.ndarray, island: np.ndarray, q_node: np.ndarray,
                 q_mw: np.ndarray) -> np.ndarray:
    """MW each bus injects once the queued loads ``q_mw`` at buses ``q_node`` are in (the
    loads drawn, their areas' plants picking them up; sums to 0 per island). Each is
    served like a new load (:func:`island_columns`); the headroom it takes is removed
    from ``gen`` in place, so later loads see what is left."""
    injection = np.zeros(len(gen))
    for k in np.unique(island[q_node]):
        nodes = np.flatnonzero(island == k)
        here = island[q_node] == k
        qcols, qcol = island_columns(gen[nodes], area[nodes], area[q_node[here]])
        share = qcols / np.where(qcols.sum(axis=0) > 0, qcols.sum(axis=0), 1.0)
        served = share[:, qcol] @ q_mw[here]          # MW each bus's plants pick up
        injection[nodes] += served
        np.add.at(injection, q_node[here], -q_mw[here])
        gen[nodes] = np.maximum(gen[nodes] - served, 0.0)   # headroom left
    return injection


def island_columns(gen: np.ndarray, area: np.ndarray, targets_area: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Participation columns of one island and the column each target uses.

    ``gen`` and ``area`` are the island's nodes' MW and area codes; column 0 is the whole
    island, then one column per area present. A target uses its area's column when that
    area has generation in the island, else column 0.
    """
    present = np.unique(area[area >= 0])
    cols = np.zeros((len(gen), 1 + len(present)))
    cols[:, 0] = gen
    for i, a in enumerate(present):
        cols[:, 1 + i] = np.where(area == a, gen, 0.0)
    pos = np.searchsorted(present, targets_area)
    pos = np.minimum(pos, max(len(present) - 1, 0))
    found = (len(present) > 0) & (present[pos] == targets_area) if len(present) else \
        np.zeros(len(targets_area), bool)
    col = np.where(found, 1 + pos, 0)
    col = np.where(cols.sum(axis=0)[col] > 0, col, 0)
    return cols, col
