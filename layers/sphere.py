"""Points on the Earth as 3-D unit-sphere vectors, for exact KD-tree distance queries.

Distances are never measured in degrees: lon/lat points go to unit-sphere coordinates,
where the Euclidean (chord) distance is a monotone function of the great-circle distance,
so a :class:`scipy.spatial.cKDTree` answers nearest-neighbour and radius questions exactly.
The adapters (merging substations, filling voltages) and the grid (snapping line ends,
nearest substations, joins) share these helpers; ``geo`` imports them, never the reverse.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088


def unit_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """3-D unit-sphere coordinates of lon/lat degrees, shape ``(n, 3)``."""
    lon_r, lat_r = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    c = np.cos(lat_r)
    return np.column_stack([c * np.cos(lon_r), c * np.sin(lon_r), np.sin(lat_r)])


def km_to_chord(km: float | np.ndarray) -> float | np.ndarray:
    """Chord length on the unit sphere of a great-circle distance in km.

    >>> round(float(km_to_chord(EARTH_RADIUS_KM * np.pi)), 12)  # half way round: a diameter
    2.0
    """
    return 2.0 * np.sin(np.asarray(km, float) / (2.0 * EARTH_RADIUS_KM))


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle km of a unit-sphere chord length (inverse of :func:`km_to_chord`)."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord, float) / 2.0, 0.0, 1.0))


def great_circle_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle km between lon/lat rows of ``a`` and ``b`` (NaN where either is NaN).

    >>> great_circle_km(np.array([[0.0, 0.0]]), np.array([[0.0, 1.0]])).round(3)
    array([111.195])
    """
    return chord_to_km(np.linalg.norm(unit_xyz(a[:, 0], a[:, 1]) - unit_xyz(b[:, 0], b[:, 1]),
                                      axis=1))


def point_lonlat(geoms: np.ndarray) -> np.ndarray:
    """lon/lat of point geometries, ``(n, 2)``, NaN for missing or empty ones."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full((len(geoms), 2), np.nan)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if ok.any():
        out[ok, 0] = shapely.get_x(geoms[ok])
        out[ok, 1] = shapely.get_y(geoms[ok])
    return out


def line_end_points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last vertex (lon/lat rows) of each (Multi)LineString (NaN when missing)."""
    geoms = np.asarray(geoms, dtype=object)
    start = np.full((len(geoms), 2), np.nan)
    end = np.full((len(geoms), 2), np.nan)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(idx):
        first = np.r_[True, idx[1:] != idx[:-1]]
        last = np.r_[idx[1:] != idx[:-1], True]
        start[idx[first]] = coords[first]
        end[idx[last]] = coords[last]
    return start, end


def nearest(points: np.ndarray, tree: cKDTree) -> tuple[np.ndarray, np.ndarray]:
    """Nearest tree point (row position, km) of each lon/lat row; -1/NaN where missing.

    ``tree`` holds :func:`unit_xyz` vectors.
    """
    index = np.full(len(points), -1, dtype=np.int64)
    dist = np.full(len(points), np.nan)
    ok = np.isfinite(points).all(axis=1)
    if ok.any() and tree.n:
        d, j = tree.query(unit_xyz(points[ok, 0], points[ok, 1]))
        index[ok], dist[ok] = j, chord_to_km(d)
    return index, dist
