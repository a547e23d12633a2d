"""Enrich candidate sites by spatial joins: POI, grid metrics, firm power, land, admin areas.

All distances are great-circle kilometres: points go to 3-D unit-sphere coordinates where a
KD-tree answers nearest-neighbour and radius queries exactly (:mod:`geo._topology`);
distances to polygons are geodesic from the site to the nearest point of the outline.
Nothing here loops over candidates in Python.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from scipy.spatial import cKDTree

from geo._topology import chord_to_km, km_to_chord, point_lonlat, unit_xyz
from geo.land import land_price
from geo.settings import Settings
from layers import Layers

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="WGS84")


def _xyz(gs: gpd.GeoSeries) -> np.ndarray:
    ll = point_lonlat(gs.to_numpy())
    return unit_xyz(ll[:, 0], ll[:, 1])


def reachable_pois(sites: gpd.GeoDataFrame, substations: gpd.GeoDataFrame,
                   settings: Settings) -> list[str]:
    """Substations that can be a site's point of interconnection: at or above
    ``candidate_min_kv`` and within ``max_tie_km`` of a site (or the site's own POI)."""
    eligible = substations[substations["voltage_kv"] >= settings.candidate_min_kv]
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
               load_mw: float, settings: Settings) -> pd.DataFrame:
    """Best point of interconnection within ``max_tie_km`` of each site.

    Among the ``poi_neighbours`` nearest substations in reach, the best is the first by:
    hosts the load; N+1; then, for those that host it, the shortest tie, and for those
    that do not, the most headroom; ties by distance, then sub_id. Sites that carry a
    ``poi_sub_id`` already (substation candidates) keep it with a tie of 0 km.

    Parameters
    ----------
    pois
        Metrics of eligible substations, indexed by sub_id, with ``hosting_mw`` and
        ``redundancy``; ``points`` their geometries in the same order.
    """
    n = len(sites)
    out = pd.DataFrame({"poi_sub_id": pd.Series([None] * n, dtype=object),
                        "tie_distance_km": np.full(n, np.nan)}, index=sites.index)
    fixed = sites["poi_sub_id"].notna().to_numpy() if "poi_sub_id" in sites else np.zeros(n, bool)
    if fixed.any():
        out.loc[fixed, "poi_sub_id"] = sites.loc[fixed, "poi_sub_id"].to_numpy()
        out.loc[fixed, "tie_distance_km"] = 0.0
    todo = np.flatnonzero(~fixed)
    if len(todo) == 0 or len(pois) == 0:
        return out
    k = int(min(settings.poi_neighbours, len(pois)))
    tree = cKDTree(_xyz(points))
    chord, idx = tree.query(_xyz(sites.geometry.iloc[todo]), k=k,
                            distance_upper_bound=float(km_to_chord(settings.max_tie_km)))
    chord, idx = chord.reshape(len(todo), k), idx.reshape(len(todo), k)
    valid = np.isfinite(chord)
    safe = np.where(valid, idx, 0)
    hosting = pois["hosting_mw"].to_numpy(dtype=float)[safe]
    hosting = np.where(np.isnan(hosting), -1.0, hosting)
    serves = hosting >= load_mw
    n1 = (pois["redundancy"].to_numpy(dtype=object) == "N+1")[safe]
    dist = chord_to_km(np.where(valid, chord, 0.0))
    near = np.round(dist, 3)  # 1 m: equal distances must not be decided by rounding noise
    subs = pois.index.to_numpy(dtype=object)
    order_id = np.argsort(np.argsort(subs.astype(str)))[safe]  # rank of sub_id as a number
    # lexsort: last key is primary. Invalid slots sort last.
    keys = (order_id, near, np.where(serves, near, -hosting), ~n1, ~serves, ~valid)
    rows = np.repeat(np.arange(len(todo)), k)
    flat = np.lexsort((*(key.ravel() for key in keys), rows))
    first = flat.reshape(len(todo), k)[:, 0] % k
    pick = np.arange(len(todo))
    ok = valid[pick, first]
    chosen = todo[ok]
    out.iloc[chosen, out.columns.get_loc("poi_sub_id")] = subs[safe[pick, first][ok]]
    out.iloc[chosen, out.columns.get_loc("tie_distance_km")] = dist[pick, first][ok]
    return out


def hydro_nearby(sites: gpd.GeoDataFrame, plants: gpd.GeoDataFrame, radius_km: float
                 ) -> pd.DataFrame:
    """Hydro capacity within ``radius_km`` and distance to the nearest hydro plant."""
    hydro = plants[(plants["fuel"] == "hydro") & plants["capacity_mw"].notna()]
    n = len(sites)
    if len(hydro) == 0:
        return pd.DataFrame({"hydro_mw_within_100km": np.zeros(n),
                             "nearest_hydro_km": np.full(n, np.nan)}, index=sites.index)
    site_xyz, hydro_xyz = _xyz(sites.geometry), _xyz(hydro.geometry)
    htree = cKDTree(hydro_xyz)
    chord, _ = htree.query(site_xyz, k=1)
    pairs = cKDTree(site_xyz).sparse_distance_matrix(
        htree, float(km_to_chord(radius_km)), output_type="ndarray")  # keeps 0-distance pairs
    mw = np.bincount(pairs["i"], weights=hydro["capacity_mw"].to_numpy(dtype=float)[pairs["j"]],
                     minlength=n)
    return pd.DataFrame({"hydro_mw_within_100km": mw, "nearest_hydro_km": chord_to_km(chord)},
                        index=sites.index)


def _nearest_polygon(points: gpd.GeoSeries, polygons: gpd.GeoDataFrame
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Index of the polygon containing each point, or of the nearest, and geodesic km to it.

    Containment is tested in lon/lat (a topological test, no distance). For the points
    outside every polygon, the nearest outline point is found in an azimuthal equidistant
    projection centred on those points, and the distance is measured on the ellipsoid.
    """
    pts = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs="EPSG:4326")
    polys = polygons[["geometry"]].reset_index(drop=True)
    hit = gpd.sjoin(pts, polys, how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    which = hit["index_right"].fillna(-1).to_numpy(dtype=np.int64)
    km = np.where(which >= 0, 0.0, np.nan)
    miss = np.flatnonzero(which < 0)
    if len(miss) == 0:
        return which, km
    lon, lat = pts.geometry.x.to_numpy()[miss], pts.geometry.y.to_numpy()[miss]
    crs = f"+proj=aeqd +lat_0={np.mean(lat):.4f} +lon_0={np.mean(lon):.4f} +datum=WGS84"
    p_pts = pts.geometry.iloc[miss].to_crs(crs).to_numpy()
    # densify first: an outline's edges are straight in lon/lat, as the data means them
    p_polys = polys.geometry.segmentize(0.05).to_crs(crs).to_numpy()
    tree = shapely.STRtree(p_polys)
    q_pts, q_polys = tree.query_nearest(p_pts, all_matches=False)
    near = np.full(len(miss), -1)
    near[q_pts] = q_polys
    ends = shapely.get_point(shapely.shortest_line(p_pts, p_polys[near]), 1)
    ends_ll = gpd.GeoSeries(ends, crs=crs).to_crs("EPSG:4326")
    _, _, d = _GEOD.inv(lon, lat, ends_ll.x.to_numpy(), ends_ll.y.to_numpy())
    which[miss] = near
    km[miss] = d / 1000.0
    return which, km


def gas_nearby(sites: gpd.GeoDataFrame, fields: gpd.GeoDataFrame) -> pd.DataFrame:
    """Gas field containing each site, or the nearest one, and the distance (0 inside)."""
    if len(fields) == 0:
        return pd.DataFrame({"gas_field": None, "gas_field_km": np.nan}, index=sites.index)
    which, km = _nearest_polygon(sites.geometry, fields)
    names = fields["name"].to_numpy(dtype=object)[which]
    return pd.DataFrame({"gas_field": names, "gas_field_km": km}, index=sites.index)


def admin_area(sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, code: str, snap_km: float
               ) -> np.ndarray:
    """Code of the area containing each site; within ``snap_km`` the nearest; else None."""
    which, km = _nearest_polygon(sites.geometry, areas)
    codes = areas[code].to_numpy(dtype=object)[which]
    return np.where(km <= snap_km, codes, None)


def enrich(sites: gpd.GeoDataFrame, layers: Layers, metrics: pd.DataFrame, load_mw: float,
           settings: Settings, *, land_prices: str | Path | None = None,
           land_unit: str = "usd_per_acre") -> gpd.GeoDataFrame:
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
    """
    subs = layers.substations.set_index("sub_id")
    eligible = metrics.index[metrics["voltage_kv"] >= settings.candidate_min_kv]
    eligible = eligible.sort_values()
    poi = assign_poi(sites, metrics.loc[eligible], subs.geometry.loc[eligible], load_mw, settings)
    out = sites.copy()
    out["poi_sub_id"] = poi["poi_sub_id"]
    out["tie_distance_km"] = poi["tie_distance_km"]
    known = out["poi_sub_id"].isin(subs.index)
    key = out["poi_sub_id"].where(known)
    m = metrics.reindex(key.to_numpy())
    s = subs.reindex(key.to_numpy())
    out["poi_name"] = s["name"].to_numpy(dtype=object)
    out["poi_voltage_kv"] = s["voltage_kv"].to_numpy(dtype=float)
    out["poi_lat"] = s.geometry.y.to_numpy()
    out["poi_lon"] = s.geometry.x.to_numpy()
    out["interconnect"] = s["interconnect"].to_numpy(dtype=object)
    out["hosting_mw"] = m["hosting_mw"].to_numpy(dtype=float)
    out["limiting_line_id"] = m["limiting_line_id"].to_numpy(dtype=object)
    out["serves_load"] = np.nan_to_num(out["hosting_mw"].to_numpy(), nan=-1.0) >= load_mw
    out["redundancy"] = m["redundancy"].to_numpy(dtype=object)
    out["backbone_km"] = m["backbone_km"].to_numpy(dtype=float)
    out["hosting_source"] = np.where(out["hosting_mw"].notna(), "computed", None)

    out = out.join(hydro_nearby(out, layers.plants, settings.hydro_radius_km))
    out = out.join(gas_nearby(out, layers.gas_fields))
    out = out.join(land_price(out, layers.land_prices, layers.land_raster, land_prices,
                              land_unit, label="state average"))
    out["subdivision"] = admin_area(out, layers.subdivisions, "code", settings.admin_snap_km)
    out["country_iso3"] = admin_area(out, layers.countries, "iso_a3", settings.admin_snap_km)
    return out
