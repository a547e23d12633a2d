"""Rows of a ranked frame in arrow's form for the GeoParquet writer (:mod:`geo.io.export`):
a block's point geometry as WKB written at once, and a few rows taken without joining a
chunked column's chunks."""

from __future__ import annotations

import sys
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["kinds", "plain_points", "rows_at", "wkb"]


def rows_at(sites: gpd.GeoDataFrame, rows: np.ndarray) -> gpd.GeoDataFrame:
    """``sites.iloc[rows]``, a text column that arrow holds in several chunks (the reasons:
    one chunk per block of the ranking) taken as one-row slices: arrow's take joins a
    column's chunks first, so a few rows would copy the reasons of a whole surface (about
    a gigabyte at US H3 res 7)."""
    chunked = [isinstance(sites.iloc[:, i].array, pd.arrays.ArrowExtensionArray)
               and sites.iloc[:, i].array.__arrow_array__().num_chunks > 1
               for i in range(sites.shape[1])]
    if not any(chunked):
        return sites.iloc[rows]
    data = {}
    for i, name in enumerate(sites.columns):  # unique: the writer refuses repeated names
        column = sites.iloc[:, i]
        data[name] = (pd.concat([column.iloc[r:r + 1] for r in rows.tolist()]) if chunked[i]
                      else column.iloc[rows])
    return gpd.GeoDataFrame(data, geometry=sites.geometry.name, crs=sites.crs)


#: The WKB of a 2D point up to its coordinates: byte order 1 (little-endian), type 1.
_POINT_HEAD = np.frombuffer(b"\x01\x01\x00\x00\x00", dtype=np.uint8)


def kinds(geometry: Any) -> np.ndarray:
    """Each geometry's type id (-1 for null), plus 1000 where it is 3D."""
    geoms = np.asarray(geometry)
    return shapely.get_type_id(geoms) + 1000 * shapely.has_z(geoms)


def plain_points(geometry: Any, kind: np.ndarray | None = None) -> bool:
    """True when every geometry is a 2D point, none empty or null (what :func:`wkb` writes
    at once); ``kind``: :func:`kinds` of the geometry, when the caller has it."""
    kind = kinds(geometry) if kind is None else kind
    return bool((kind == shapely.GeometryType.POINT).all()
                and not shapely.is_empty(np.asarray(geometry)).any())


def wkb(geometry: Any, points: bool | None = None) -> Any:
    """The geometry as an arrow ``binary`` array of the WKB ``shapely.to_wkb`` writes.

    Points in 2D (the H3 cells' centres), none empty or null, on a little-endian machine:
    each WKB is 21 bytes, the 5 of :data:`_POINT_HEAD` and the two coordinates as they
    are held, so the array is written from the coordinates at once, without a Python
    bytes object per row. Anything else goes through ``shapely.to_wkb``. ``points``:
    :func:`plain_points` of these geometries when the caller knows it (of a whole table
    written a block at a time)."""
    import pyarrow as pa

    geoms = np.asarray(geometry)
    n = len(geoms)
    if points is None:
        points = bool(n) and plain_points(geoms)
    if sys.byteorder == "little" and n and points:
        data = np.empty((n, 21), dtype=np.uint8)
        data[:, :5] = _POINT_HEAD
        data[:, 5:] = shapely.get_coordinates(geoms).astype("<f8").view(np.uint8)
        offsets = np.arange(0, 21 * (n + 1), 21, dtype=np.int32)
        return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets),
                                                      pa.py_buffer(data)])
    return pa.array(shapely.to_wkb(geoms, hex=False), type=pa.binary())
