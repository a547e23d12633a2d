"""Enrich candidate sites by spatial joins: POI, grid metrics, firm power, land, admin areas.

All distances are great-circle kilometres: points go to 3-D unit-sphere coordinates where a
KD-tree answers nearest-neighbour and radius queries exactly (:mod:`layers.sphere`);
distances to polygons are geodesic from the site to the nearest point of the outline.
Nothing here loops over candidates in Python.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo import costs, secure, territories
from geo._arrays import NONE, codes_of, expand, text_form
from geo._memory import reused_heap
from geo.land import land_price
from geo.load import hosts_load
from geo.outlines import admin_area, gas_nearby, in_country, points_tree
from geo.settings import Settings
from layers import Layers, grids
from layers.sphere import chord_to_km, km_to_chord, point_lonlat, unit_xyz

log = logging.getLogger(__name__)


def _xyz(gs: gpd.GeoSeries) -> np.ndarray:
    ll = point_lonlat(gs.to_numpy())
    return unit_xyz(ll[:, 0], ll[:, 1])


#: ``hosting_source`` on the embedded OpenStreetMap grid: the inputs of the DC solve are
#: partly estimated (layers.grids).
OSM_HOSTING = ("estimated: DC on OSM 2016 topology, voltage-class ratings, lines assumed "
               "loaded to assumed_utilisation")


def hosting_label(layers: Layers) -> str:
    """``hosting_source`` of a computed figure: "computed", or what it was estimated on."""
    return OSM_HOSTING if getattr(layers, "grid", "") == grids.OSM else "computed"


def reachable_pois(sites: gpd.GeoDataFrame, substations: gpd.GeoDataFrame,
                   settings: Settings) -> list[str]:
    """Substations that can be a site's point of interconnection: at or above
    ``candidate_min_kv`` and within ``max_tie_km`` of a site (or the site's own POI)."""
    eligible = substations[(substations["voltage_kv"] >= settings.candidate_min_kv).to_numpy()
                           & grids.connectable(substations)]
    own = set(sites["poi_sub_id"].dropna().astype(str)) if "poi_sub_id" in sites else set()
    free = sites[sites["poi_sub_id"].isna()] if "poi_sub_id" in sites else sites
    near: set[str] = set()
    if len(free) and len(eligible):
        chord, _ = cKDTree(_xyz(free.geometry)).query(
            _xyz(eligible.geometry), k=1, distance_upper_bound=float(km_to_chord(
                settings.max_tie_km)))
        near = set(eligible["sub_id"].astype(str).to_numpy()[np.isfinite(chord)])
    return sorted(own | near)


def assign_poi(sites: gpd.GeoDataFrame, pois: pd.DataFrame, points: gpd.GeoSeries,
               load_mw: float, settings: Settings, *,
               subdivision: np.ndarray | None = None,
               site_xyz: np.ndarray | None = None) -> pd.DataFrame:
    """Best point of interconnection within ``max_tie_km`` of each site.

    Among the ``poi_neighbours`` nearest substations in reach, the best is the one whose
    grid path for the load is fastest, then cheapest (:func:`geo.costs.grid_path`: the
    months of :func:`geo.power.grid_months` and the interconnection capital, i.e. the
    lowest cost of power for the site); then the most firm MW, the shortest tie and sub_id.
    So a slightly farther POI that is firm for the load wins over a nearer one that waits
    for network upgrades whenever its longer tie costs fewer months. Sites that carry a
    ``poi_sub_id`` already (substation candidates) keep it with a tie of 0 km.
    ``grid_distance_km`` is the distance to the nearest of ``pois``, in reach or not.

    Parameters
    ----------
    pois
        Metrics of eligible substations, indexed by sub_id, with ``hosting_mw``,
        ``firm_mw``, ``voltage_kv`` and optionally ``interconnect`` (for the cost region);
        ``points`` their geometries in the same order.
    subdivision
        The sites' subdivision codes (cost region of the Southeast), in the sites' order.
    site_xyz
        The sites' unit vectors (:func:`layers.sphere.unit_xyz`), when the caller has them.
    """
    n = len(sites)
    out = pd.DataFrame({"poi_sub_id": pd.Series([None] * n, dtype=object),
                        "tie_distance_km": np.full(n, np.nan),
                        "grid_distance_km": np.full(n, np.nan)}, index=sites.index)
    fixed = sites["poi_sub_id"].notna().to_numpy() if "poi_sub_id" in sites else np.zeros(n, bool)
    if fixed.any():
        out.loc[fixed, "poi_sub_id"] = sites.loc[fixed, "poi_sub_id"].to_numpy()
        out.loc[fixed, "tie_distance_km"] = 0.0
        out.loc[fixed, "grid_distance_km"] = 0.0
    todo = np.flatnonzero(~fixed)
    if len(todo) == 0 or len(pois) == 0:
        return out
    k = int(min(settings.poi_neighbours, len(pois)))
    tree = cKDTree(_xyz(points))
    hosting_all = pois["hosting_mw"].to_numpy(dtype=float)
    firm_all = pois["firm_mw"].to_numpy(dtype=float)
    kv_all = pois["voltage_kv"].to_numpy(dtype=float)
    inter_all = (pois["interconnect"].to_numpy(dtype=object) if "interconnect" in pois
                 else np.full(len(pois), None, dtype=object))
    area = (np.asarray(subdivision, dtype=object)[todo] if subdivision is not None
            else np.full(len(todo), None, dtype=object))
    site_code, poi_code, regions = costs.region_table(area, inter_all, settings)
    region_at = np.select([regions == r for r in costs.REGIONS], range(len(costs.REGIONS)))
    poi_figures = {"firm_mw": firm_all, "hosting_mw": hosting_all, "poi_voltage_kv": kv_all}
    subs = pois.index.to_numpy(dtype=object)
    rank_id = np.argsort(np.argsort(subs.astype(str))).astype(float)  # sub_id order as a number
    xyz = _xyz(sites.geometry.iloc[todo]) if site_xyz is None else site_xyz[todo]
    chosen_sub = np.full(len(todo), -1, dtype=np.int64)
    chosen_km = np.full(len(todo), np.nan)
    nearest_km = np.full(len(todo), np.nan)     # to the nearest eligible substation
    bound = float(km_to_chord(settings.max_tie_km))
    for lo in range(0, len(todo), _CHUNK):  # chunks of sites bound the n x k temporaries
        chord, idx = tree.query(xyz[lo:lo + _CHUNK], k=k, distance_upper_bound=bound)
        chord, idx = chord.reshape(-1, k), idx.reshape(-1, k)
        valid = np.isfinite(chord)
        safe = np.where(valid, idx, 0)
        dist = chord_to_km(np.where(valid, chord, 0.0))
        nearest_km[lo:lo + len(chord)] = np.where(valid[:, 0], dist[:, 0], np.nan)
        near = np.round(dist, 3)  # 1 m: equal distances must not be decided by rounding noise
        # The path figures of the pairs in reach only (each row's figures are its own);
        # slots out of reach lose on the first key whatever their figures.
        row, slot = np.nonzero(valid)
        at = safe[row, slot]
        path = costs.pair_paths(poi_figures, at, dist[row, slot],
                                region_at[site_code[lo + row], poi_code[at]], load_mw, settings)
        months = np.full(chord.shape, np.inf)
        months[row, slot] = np.nan_to_num(np.round(path["months"], 6), nan=np.inf)
        capital = np.full(chord.shape, np.inf)
        capital[row, slot] = np.nan_to_num(np.round(path["capital"], 6), nan=np.inf)
        firm = np.nan_to_num(firm_all[safe], nan=-1.0)
        # Keys, most important first; invalid slots (out of reach) lose on the first key.
        first = first_by((~valid, months, capital, -firm, near, rank_id[safe]))
        pick = np.arange(len(first))
        ok = valid[pick, first]
        chosen_sub[lo:lo + len(first)] = np.where(ok, safe[pick, first], -1)
        chosen_km[lo:lo + len(first)] = np.where(ok, dist[pick, first], np.nan)
    far = np.flatnonzero(np.isnan(nearest_km))  # nothing in reach: the nearest, unbounded
    if len(far):
        nearest_km[far] = chord_to_km(tree.query(xyz[far], k=1)[0])
    ok = chosen_sub >= 0
    chosen = todo[ok]
    out.iloc[chosen, out.columns.get_loc("poi_sub_id")] = subs[chosen_sub[ok]]
    out.iloc[chosen, out.columns.get_loc("tie_distance_km")] = chosen_km[ok]
    out.iloc[todo, out.columns.get_loc("grid_distance_km")] = nearest_km
    return out


def first_by(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """Column of the first slot per row in the lexicographic order of ``keys`` (n x k each,
    most important first); equal rows go to the lowest slot, as a stable sort would.

    Equivalent to a row-wise ``lexsort`` but O(n k) per key: each key keeps only the slots
    that reach the row's minimum among the slots still in the running. A row down to one
    slot is decided: the later keys read only that slot, where a NaN (whose minimum is
    NaN) clears the row (slot 0), as the test of every slot would.
    """
    alive = np.ones(keys[0].shape, dtype=bool)
    rows = np.arange(len(alive))  # rows with two or more slots in the running
    single = np.zeros(0, dtype=np.intp)  # rows down to one slot, and that slot
    slot = np.zeros(0, dtype=np.intp)
    for key in keys:
        values = key.astype(float, copy=False)
        nan = np.isnan(values[single, slot])
        if nan.any():
            alive[single[nan]] = False
            single, slot = single[~nan], slot[~nan]
        if not len(rows):
            continue
        whole = len(rows) == len(alive)
        part = alive if whole else alive[rows]
        masked = np.where(part, values if whole else values[rows], np.inf)
        part &= masked == masked.min(axis=1, keepdims=True)
        if not whole:
            alive[rows] = part
        count = part.sum(axis=1)
        one = count == 1
        single = np.r_[single, rows[one]]
        slot = np.r_[slot, part[one].argmax(axis=1)]
        rows = rows[count > 1]
    return alive.argmax(axis=1)


#: Sites per block in the n x k neighbour queries and path figures (bounds their memory).
_CHUNK = 65_536


#: Hydro plants per block in :func:`hydro_nearby` (bounds the site-plant pair list).
_HYDRO_BLOCK = 64

#: Radius of "hydro capacity nearby" (firm, dispatchable power). Fixed, not a setting: the
#: column ``hydro_mw_within_100km`` and the reasons line ("hydro within 100 km") name it,
#: so a configurable radius would make them say something false. Our choice.
HYDRO_RADIUS_KM = 100.0


def hydro_nearby(sites: gpd.GeoDataFrame, plants: gpd.GeoDataFrame,
                 site_xyz: np.ndarray | None = None) -> pd.DataFrame:
    """Hydro capacity within :data:`HYDRO_RADIUS_KM` (100 km) and distance to the nearest
    hydro plant. ``site_xyz``: the sites' unit vectors, when the caller has them."""
    hydro = plants[(plants["fuel"] == "hydro") & plants["capacity_mw"].notna()]
    n = len(sites)
    if len(hydro) == 0:
        return pd.DataFrame({"hydro_mw_within_100km": np.zeros(n),
                             "nearest_hydro_km": np.full(n, np.nan)}, index=sites.index)
    site_xyz = _xyz(sites.geometry) if site_xyz is None else site_xyz
    hydro_xyz = _xyz(hydro.geometry)
    chord, _ = cKDTree(hydro_xyz).query(site_xyz, k=1)
    capacity = hydro["capacity_mw"].to_numpy(dtype=float)
    site_tree = cKDTree(site_xyz)
    radius = float(km_to_chord(HYDRO_RADIUS_KM))
    mw = np.zeros(n)
    # Plants in fixed blocks, and each site's plants summed in plant order: the sums do not
    # depend on which other sites are in the frame (a Dask partition gives the same bits),
    # and the pair list never holds more than one block of plants.
    for lo in range(0, len(capacity), _HYDRO_BLOCK):
        block = slice(lo, lo + _HYDRO_BLOCK)
        pairs = cKDTree(hydro_xyz[block]).sparse_distance_matrix(
            site_tree, radius, output_type="ndarray")  # keeps 0-distance pairs
        order = np.argsort(pairs["i"], kind="stable")
        mw += np.bincount(pairs["j"][order], weights=capacity[block][pairs["i"][order]],
                          minlength=n)
    return pd.DataFrame({"hydro_mw_within_100km": mw, "nearest_hydro_km": chord_to_km(chord)},
                        index=sites.index)


def poi_columns(per: pd.DataFrame, subs: gpd.GeoDataFrame, metrics: pd.DataFrame,
                load_mw: float, settings: Settings, layers: Layers) -> dict[str, np.ndarray]:
    """The POI's name, voltage, place, grid figures and labels for each ``poi_sub_id`` of
    ``per`` (null where the POI is not a substation of ``subs``), in :func:`enrich`'s order."""
    known = per["poi_sub_id"].isin(subs.index)
    key = per["poi_sub_id"].where(known)
    m = metrics.reindex(key.to_numpy())
    s = subs.reindex(key.to_numpy())
    names = pd.Series(grids.display_names(subs), index=subs.index, dtype=object)
    out: dict[str, np.ndarray] = {}
    out["poi_name"] = names.reindex(key.to_numpy()).to_numpy(dtype=object)
    out["poi_voltage_kv"] = s["voltage_kv"].to_numpy(dtype=float)
    out["poi_lat"] = s.geometry.y.to_numpy()
    out["poi_lon"] = s.geometry.x.to_numpy()
    out["interconnect"] = s["interconnect"].to_numpy(dtype=object)
    out["hosting_mw"] = m["hosting_mw"].to_numpy(dtype=float)
    out["limiting_line_id"] = m["limiting_line_id"].to_numpy(dtype=object)
    out["serves_load"] = hosts_load({"poi_sub_id": per["poi_sub_id"].to_numpy(dtype=object),
                                     "hosting_mw": out["hosting_mw"]}, load_mw)
    out["firm_mw"] = m["firm_mw"].to_numpy(dtype=float)
    out["firm_limiting_line_id"] = m["firm_limiting_line_id"].to_numpy(dtype=object)
    out["firm_outage_line_id"] = m["firm_outage_line_id"].to_numpy(dtype=object)
    out["firm_source"] = m["firm_source"].to_numpy(dtype=object)
    out["firm_preexisting"] = m["firm_preexisting"].to_numpy(dtype=object)
    out["firm_case"] = m["firm_case"].to_numpy(dtype=object)
    out["firm_base_mw"] = m["firm_base_mw"].to_numpy(dtype=float)
    out["firm_stressed_mw"] = m["firm_stressed_mw"].to_numpy(dtype=float)
    out["redundancy"] = secure.label(out["firm_mw"], out["poi_voltage_kv"], load_mw, settings,
                                     out["firm_preexisting"])
    headroom = m["area_headroom_mw"].to_numpy(dtype=float)
    out["generation_short"] = np.where(np.isnan(headroom), NONE, headroom < load_mw)
    out["backbone_km"] = m["backbone_km"].to_numpy(dtype=float)
    out["hosting_source"] = np.where(np.isnan(out["hosting_mw"]), NONE, hosting_label(layers))
    return out


def enrich(sites: gpd.GeoDataFrame, layers: Layers, metrics: pd.DataFrame, load_mw: float,
           settings: Settings, *, land_prices: str | Path | None = None,
           land_unit: str | None = None, price_column: str | None = None,
           centres: dict[str, tuple[float, float] | None] | None = None
           ) -> gpd.GeoDataFrame:
    """Add the POI, grid, firm-power, land and admin columns to candidate sites.

    Parameters
    ----------
    sites
        Candidates from :func:`geo.candidates.generate`.
    layers
        The region's layers.
    metrics
        Per-substation grid metrics (:func:`geo.grid.metrics`), indexed by sub_id.
    load_mw
        The new load; ``serves_load`` is ``hosting_mw >= load_mw``.
    land_prices
        A user GeoTIFF or price polygons replacing the embedded land layer.
    price_column
        The price column of user polygons (in ``land_unit``).
    centres
        (lat, lon) projection centres for the outline distances, by layer name in
        :data:`OUTLINE_LAYERS`; default: from these sites (a Dask run passes the centres
        of all its sites so that every partition measures alike).
    """
    with reused_heap():  # the joins' large temporaries reuse freed pages, not fresh ones
        return _enrich(sites, layers, metrics, load_mw, settings, land_prices=land_prices,
                       land_unit=land_unit, price_column=price_column, centres=centres)


def _enrich(sites: gpd.GeoDataFrame, layers: Layers, metrics: pd.DataFrame, load_mw: float,
            settings: Settings, *, land_prices: str | Path | None,
            land_unit: str | None, price_column: str | None,
            centres: dict[str, tuple[float, float] | None] | None) -> gpd.GeoDataFrame:
    subs = layers.substations.set_index("sub_id")
    connect = pd.Series(grids.connectable(layers.substations), index=subs.index)
    eligible = metrics.index[(metrics["voltage_kv"] >= settings.candidate_min_kv).to_numpy()
                             & connect.reindex(metrics.index, fill_value=False).to_numpy()]
    eligible = eligible.sort_values()
    centres = centres or {}
    tree = points_tree(sites.geometry)  # the sites by square, for the three outline layers
    country = admin_area(sites, layers.countries, ["iso_a2", "iso_a3"], settings.admin_snap_km,
                         centres.get("countries"), tree)
    subdivision = in_country(admin_area(sites, layers.subdivisions, "code",
                                        settings.admin_snap_km, centres.get("subdivisions"),
                                        tree), country[:, 0])
    candidates = metrics.loc[eligible].assign(
        interconnect=subs["interconnect"].reindex(eligible).to_numpy(dtype=object))
    xyz = _xyz(sites.geometry)  # the sites on the unit sphere, for the POIs and hydro
    poi = assign_poi(sites, candidates, subs.geometry.loc[eligible], load_mw, settings,
                     subdivision=subdivision, site_xyz=xyz)
    out = sites.copy(deep=False)  # new columns only: the candidates are not copied
    out["poi_sub_id"] = poi["poi_sub_id"]
    out["tie_distance_km"] = poi["tie_distance_km"]
    out["grid_distance_km"] = poi["grid_distance_km"]
    # The POI's columns are figures of the POI alone: made once per distinct POI (the rows
    # of ``per``, the last one for the sites without a POI) and spread over the sites.
    at, ids = codes_of(out["poi_sub_id"])
    per = pd.DataFrame({"poi_sub_id": pd.Series(ids, dtype=out["poi_sub_id"].dtype)})
    for name, column in poi_columns(per, subs, metrics, load_mw, settings, layers).items():
        out[name] = expand(column, at)
    s = subs.reindex(per["poi_sub_id"].where(per["poi_sub_id"].isin(subs.index)).to_numpy())

    # Column by column, not ``out.join(...)``: each join copies every column of the frame.
    for part in (hydro_nearby(sites, layers.plants, xyz),
                 gas_nearby(sites, layers.gas_fields, centres.get("gas_fields"), tree),
                 land_price(sites, layers.land_prices, layers.land_raster, land_prices,
                            land_unit, label="state average" if not layers.reports.get(
                                "land_prices") else "area average",
                            price_column=price_column, tree=tree)):
        for name, column in part.items():
            out[name] = column
    del tree  # before the territories, where enrich peaks
    out["subdivision"] = text_form(subdivision)
    who = territories.tag(out, layers.territories, poi=s.geometry.to_numpy(), poi_codes=at)
    for name, column in who.items():
        out[name] = text_form(column)
    out["country_iso3"] = text_form(country[:, 1])
    return out
