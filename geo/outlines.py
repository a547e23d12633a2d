"""Distances to outlines and the admin areas of sites: gas basins, subdivisions, countries.

A site inside a polygon is 0 km from it; outside, the distance is geodesic from the site to
the nearest point of the outline, found in an azimuthal equidistant projection centred on
the sites outside (:func:`centre_of`) and measured on the WGS84 ellipsoid. Split from
:mod:`geo.join`, which calls these for every candidate.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer

from geo import distance_field
from geo._arrays import NONE, codes_of, text_form
from geo.grid import serving
from layers import Layers

_GEOD = Geod(ellps="WGS84")


#: Layers whose outline distances use an azimuthal projection centred on the sites outside
#: them (:func:`outline_centres`); the keys of ``enrich(..., centres=...)``.
OUTLINE_LAYERS = ("gas_fields", "subdivisions", "countries")


def points_tree(points: gpd.GeoSeries) -> serving.Squares:
    """The points by square (:func:`geo.grid.serving.squares`), to share between the layers
    measured for the same points."""
    return serving.squares(np.asarray(points.to_numpy(), dtype=object))


def contained(points: gpd.GeoSeries, polygons: gpd.GeoDataFrame,
               tree: serving.Squares | None = None) -> np.ndarray:
    """Index of the (first) polygon containing each point, -1 where none does (lon/lat).

    The pairs of ``geopandas.sjoin(predicate="within")``, found square by square
    (:func:`geo.grid.serving.hits`: most points are never tested alone), without building
    the joined frame. ``tree``: :func:`points_tree` of the same points, when the caller has
    it.
    """
    pts = np.asarray(points.to_numpy(), dtype=object)
    tree = tree if tree is not None else serving.squares(pts)
    key = serving.hits(pts, polygons.geometry.to_numpy(), tree, predicate="contains",
                       ordered=False)
    pt, poly = key // max(len(polygons), 1), key % max(len(polygons), 1)
    # the first of each point is its lowest polygon: a minimum per point, no sort
    none = np.iinfo(np.int64).max
    which = np.full(len(pts), none, dtype=np.int64)
    np.minimum.at(which, pt, poly)
    which[which == none] = -1
    return which


def centre_of(lonlat: np.ndarray) -> tuple[float, float] | None:
    """(lat, lon) centre of the projection for points outside every polygon, or None.

    The mean is an exactly rounded sum (:func:`math.fsum`), so it does not depend on the
    order of the points: a Dask run that gathers them from partitions gets the same bits.
    """
    if len(lonlat) == 0:
        return None
    n = len(lonlat)
    return math.fsum(lonlat[:, 1]) / n, math.fsum(lonlat[:, 0]) / n


def outside_lonlat(sites: gpd.GeoDataFrame, layers: Layers) -> dict[str, np.ndarray]:
    """Lon/lat of the sites outside every polygon of each layer in :data:`OUTLINE_LAYERS`."""
    out = {}
    for name in OUTLINE_LAYERS:
        polys = getattr(layers, name)
        if len(polys) == 0:
            out[name] = np.empty((0, 2))
            continue
        miss = contained(sites.geometry, polys) < 0
        out[name] = np.column_stack([sites.geometry.x.to_numpy()[miss],
                                     sites.geometry.y.to_numpy()[miss]])
    return out


def _nearest_polygon(points: gpd.GeoSeries, polygons: gpd.GeoDataFrame,
                     centre: tuple[float, float] | None = None,
                     within_km: float | None = None, tree: shapely.STRtree | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Index of the polygon containing each point, or of the nearest, and geodesic km to it.

    Containment is tested in lon/lat (a topological test, no distance). For the points
    outside every polygon, the nearest outline point is found in an azimuthal equidistant
    projection centred on those points (or on ``centre``, (lat, lon)), and the distance is
    measured on the ellipsoid. The nearest outline point comes from an STRtree of the
    outlines' segments (cheap per point); points where two polygons tie, or that lie inside
    a polygon once projected, take the polygon-level answer, so the result is the same as
    ``STRtree(polygons).query_nearest`` + ``shortest_line``.

    With ``within_km``, the answer is only needed where the distance is at most
    ``within_km``: polygons far from every point outside (:func:`_near_polygons`) are left
    out of the outline search, and a point with no polygon left gets -1 and NaN km.
    """
    pts = gpd.GeoSeries(points.to_numpy(), crs="EPSG:4326")
    polys = polygons[["geometry"]].reset_index(drop=True)
    which = contained(pts, polys, tree)
    km = np.where(which >= 0, 0.0, np.nan)
    miss = np.flatnonzero(which < 0)
    if len(miss) == 0:
        return which, km
    lon, lat = shapely.get_x(pts.to_numpy()[miss]), shapely.get_y(pts.to_numpy()[miss])
    # ``miss`` is not empty, so centre_of has a centre to return
    lat0, lon0 = centre or centre_of(np.column_stack([lon, lat])) or (np.nan, np.nan)
    crs = f"+proj=aeqd +lat_0={lat0:.4f} +lon_0={lon0:.4f} +datum=WGS84"
    # the points' coordinates through the transformer GeoSeries.to_crs uses, without
    # building a GeoSeries each way
    px, py = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    kept = np.arange(len(polys))
    if within_km is not None:
        kept = _near_polygons(polys.geometry.to_numpy(), lon, lat, (lat0, lon0), within_km)
        if len(kept) == 0:
            return which, km
    # densify first: an outline's edges are straight in lon/lat, as the data means them
    p_polys = polys.geometry.iloc[kept].segmentize(0.05).to_crs(crs).to_numpy()
    near, ends = _nearest_outline(px, py, p_polys)
    near = kept[near]
    # far sites share their nearest point (an outline's vertex): each distinct one once
    code, rows = distinct_rows(ends)
    end_lon, end_lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        ends[rows, 0], ends[rows, 1])
    end_lon, end_lat = np.asarray(end_lon)[code], np.asarray(end_lat)[code]
    _, _, d = _GEOD.inv(lon, lat, end_lon, end_lat)
    which[miss] = near
    km[miss] = d / 1000.0
    return which, km


def distinct_rows(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's code and one row of each code, ``xy[rows][code]`` equal to ``xy`` bit for
    bit (an (n, 2) float array; rows are alike when their bits are: 0.0 and -0.0 differ,
    NaNs of one pattern agree)."""
    bits = np.ascontiguousarray(xy, dtype=float).view(np.uint64)
    x_code, x_values = pd.factorize(bits[:, 0])
    y_code = pd.factorize(bits[:, 1])[0]
    code, pairs = pd.factorize(y_code.astype(np.int64) * max(len(x_values), 1) + x_code)
    rows = np.empty(len(pairs), dtype=np.int64)
    rows[code] = np.arange(len(code))  # any row of a code: they are the same bits
    return code, rows


def _near_polygons(polys: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                   centre: tuple[float, float], within_km: float) -> np.ndarray:
    """Indexes of the polygons that can be the nearest of a point (lon/lat) within
    ``within_km`` in :func:`_nearest_polygon`'s projection; all of them when unsure.

    A polygon is left out when its lon/lat bounding box, widened by a margin, holds no
    point. The margin is four times ``within_km`` times the largest scale of the azimuthal
    equidistant projection at the points (c / sin c at c radians from the centre: a
    projected distance is at most that many times the true one, and never less), so a
    polygon left out is farther, projected, than any polygon within ``within_km``.
    Points more than 150 degrees from the centre keep every polygon.
    """
    lat0, lon0 = np.radians(centre[0]), np.radians(centre[1])
    phi, lam = np.radians(lat), np.radians(lon)
    cos_c = (np.sin(lat0) * np.sin(phi) + np.cos(lat0) * np.cos(phi) * np.cos(lam - lon0))
    c = float(np.arccos(np.clip(cos_c, -1.0, 1.0)).max())
    everything = np.arange(len(polys))
    if c > np.radians(150.0):
        return everything
    margin_km = 4.0 * within_km * (c / np.sin(c) if c > 1e-9 else 1.0) + 5.0
    dlat = margin_km / 110.0  # a degree of latitude is at least 110.57 km
    top = float(np.abs(lat).max()) + dlat
    if top >= 89.0:
        return everything
    dlon = 2.0 * margin_km / (111.0 * np.cos(np.radians(top)))
    bounds = shapely.bounds(polys)  # minx, miny, maxx, maxy; NaN for empty
    has = np.flatnonzero(~np.isnan(bounds).any(axis=1))
    boxes = shapely.box(bounds[has, 0] - dlon, bounds[has, 1] - dlat,
                        bounds[has, 2] + dlon, bounds[has, 3] + dlat)
    hit, _ = shapely.STRtree(shapely.points(lon, lat)).query(boxes, predicate="intersects")
    return has[np.unique(hit)]


def _nearest_outline(px: np.ndarray, py: np.ndarray, p_polys: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest polygon and the nearest point on it (x, y), for projected points (x, y)."""
    lines, line_poly = shapely.get_parts(shapely.boundary(p_polys), return_index=True)
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    same = line_of[:-1] == line_of[1:]
    ends_xy = np.stack([coords[:-1][same], coords[1:][same]], axis=1)
    seg_poly = line_poly[line_of[:-1][same]]
    near = np.full(len(px), -1)
    ends = np.full((len(px), 2), np.nan)
    if len(ends_xy) == 0:
        return near, ends
    # the lowest of the nearest segments (GEOS keeps the first strictly nearer one), exact
    first, _, tied, ends = distance_field.nearest(px, py, ends_xy, seg_poly)
    near = seg_poly[first]
    hard = tied | _inside(px, py, p_polys)
    if hard.any():  # ties between polygons and projected-inside points: polygon level
        idx = np.flatnonzero(hard)
        h_pts = shapely.points(px[idx], py[idx])
        h_at, h_polys = shapely.STRtree(p_polys).query_nearest(h_pts, all_matches=False)
        near[idx[h_at]] = h_polys
        ends[idx] = _line_ends(shapely.shortest_line(h_pts, p_polys[near[idx]]))
    return near, ends


def _inside(px: np.ndarray, py: np.ndarray, p_polys: np.ndarray) -> np.ndarray:
    """Whether each point (x, y) intersects one of the polygons (projected: a point outside
    in lon/lat can fall inside once its edges are projected). Each polygon tests the points
    in its bounding box, found in the points sorted by x."""
    hit = np.zeros(len(px), dtype=bool)
    by_x = np.argsort(px, kind="stable")
    xs = px[by_x]
    for poly, (x0, y0, x1, y1) in zip(p_polys, shapely.bounds(p_polys), strict=True):
        if np.isnan(x0):
            continue
        cand = by_x[np.searchsorted(xs, x0, "left"):np.searchsorted(xs, x1, "right")]
        cand = cand[(py[cand] >= y0) & (py[cand] <= y1)]
        if len(cand):
            hit[cand[shapely.intersects_xy(poly, px[cand], py[cand])]] = True
    return hit


def _line_ends(lines: np.ndarray) -> np.ndarray:
    """x, y of the last vertex of each line (NaN for a missing line), without making points."""
    xy = np.full((len(lines), 2), np.nan)
    coords, line = shapely.get_coordinates(lines, return_index=True)
    last = np.r_[line[1:] != line[:-1], True] if len(line) else np.zeros(0, dtype=bool)
    xy[line[last]] = coords[last]
    return xy


def gas_nearby(sites: gpd.GeoDataFrame, fields: gpd.GeoDataFrame,
               centre: tuple[float, float] | None = None,
               tree: shapely.STRtree | None = None) -> pd.DataFrame:
    """Gas field containing each site, or the nearest one, and the distance (0 inside)."""
    if len(fields) == 0:
        return pd.DataFrame({"gas_field": None, "gas_field_km": np.nan}, index=sites.index)
    which, km = _nearest_polygon(sites.geometry, fields, centre, tree=tree)
    names = fields["name"].to_numpy(dtype=object)[which]
    return pd.DataFrame({"gas_field": text_form(names), "gas_field_km": km}, index=sites.index)


def admin_area(sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, code: str | list[str],
               snap_km: float, centre: tuple[float, float] | None = None,
               tree: shapely.STRtree | None = None) -> np.ndarray:
    """Code of the area containing each site; within ``snap_km`` the nearest; else None.

    With a list of code columns, one column of codes per name (shape ``(n, len(code))``).
    """
    which, km = _nearest_polygon(sites.geometry, areas, centre, within_km=snap_km, tree=tree)
    codes = areas[code].to_numpy(dtype=object)[which]
    near = km <= snap_km
    return np.where(near[:, None] if codes.ndim == 2 else near, codes, NONE)


def in_country(subdivision: np.ndarray, iso_a2: np.ndarray) -> np.ndarray:
    """The subdivision codes (ISO 3166-2, ``US-WA``) of the site's own country, else None: a
    site near a border never takes the neighbour's state (its prices and cost tables)."""
    sub = np.asarray(subdivision, dtype=object)
    codes, distinct = codes_of(sub)  # each distinct code split once
    prefix = np.array([s.split("-")[0] if isinstance(s, str) else None for s in distinct],
                      object)[codes]
    return np.where(prefix == np.asarray(iso_a2, dtype=object), sub, NONE)
