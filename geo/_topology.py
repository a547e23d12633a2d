"""Private geometry plumbing for :mod:`geo.grid`: unit-sphere KD-trees, line ends, lengths.

Distances are never measured in degrees: points go to 3-D unit-sphere coordinates, where
the Euclidean (chord) distance is a monotone function of the great-circle distance, so a
:class:`scipy.spatial.cKDTree` answers nearest-neighbour and radius questions exactly.
Line lengths are geodesic on the WGS84 ellipsoid (:class:`pyproj.Geod`).
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from scipy.spatial import cKDTree

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088

_GEOD = pyproj.Geod(ellps="WGS84")


def unit_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """3-D unit-sphere coordinates of lon/lat degrees, shape ``(n, 3)``."""
    lon_r, lat_r = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    c = np.cos(lat_r)
    return np.column_stack([c * np.cos(lon_r), c * np.sin(lon_r), np.sin(lat_r)])


def km_to_chord(km: float | np.ndarray) -> float | np.ndarray:
    """Chord length on the unit sphere of a great-circle distance in km."""
    return 2.0 * np.sin(np.asarray(km, float) / (2.0 * EARTH_RADIUS_KM))


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle km of a unit-sphere chord length (inverse of :func:`km_to_chord`)."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord, float) / 2.0, 0.0, 1.0))


def point_lonlat(geoms: np.ndarray) -> np.ndarray:
    """lon/lat of point geometries, ``(n, 2)``, NaN for missing or empty ones."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full((len(geoms), 2), np.nan)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if ok.any():
        out[ok, 0] = shapely.get_x(geoms[ok])
        out[ok, 1] = shapely.get_y(geoms[ok])
    return out


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


def great_circle_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle km between lon/lat rows of ``a`` and ``b`` (NaN where either is NaN)."""
    return chord_to_km(np.linalg.norm(unit_xyz(a[:, 0], a[:, 1]) - unit_xyz(b[:, 0], b[:, 1]),
                                      axis=1))


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


def nearest(points: np.ndarray, tree: cKDTree) -> tuple[np.ndarray, np.ndarray]:
    """Nearest tree point (row position, km) of each lon/lat row; -1/NaN where missing."""
    index = np.full(len(points), -1, dtype=np.int64)
    dist = np.full(len(points), np.nan)
    ok = np.isfinite(points).all(axis=1)
    if ok.any() and tree.n:
        d, j = tree.query(unit_xyz(points[ok, 0], points[ok, 1]))
        index[ok], dist[ok] = j, chord_to_km(d)
    return index, dist
