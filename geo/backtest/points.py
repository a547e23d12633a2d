"""The points of a backtest: known sites, background points, and naive proxies at each.

* :func:`read_known` reads a sites file (lat/lon, name, optional MW) or a named known set
  (:data:`KNOWN_SETS`, e.g. ``us-campuses``: ``data/us/campuses.csv``).
* :func:`check_in_region` refuses points outside the region (a named set is clipped to it).
* :func:`sample_background` draws points uniformly over the region's land: rejection
  sampling in a Lambert azimuthal *equal-area* projection centred on the region, so every
  square kilometre has the same chance whatever its latitude; seeded.
* :func:`proxies` computes the naive proxies of :data:`PROXIES` at each point from the same
  layers the ranking used: distance to the nearest substation at or above 115/230/345 kV
  (great-circle metres on the mean Earth sphere, as in :mod:`layers.sphere`), plant MW and
  substation count within 50 km, and a seeded random score. Each proxy is turned into a
  "higher is better" score by :func:`proxy_scores` (distances negated).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.candidates import site_points
from geo.errors import LayerValidationError, SettingsError
from layers import read_file
from layers.paths import data_dir
from layers.sphere import chord_to_km, km_to_chord, unit_xyz

log = logging.getLogger(__name__)

#: Named known sets: name -> file in the embedded data folder (see data/SOURCES.md).
KNOWN_SETS = {"us-campuses": "us/campuses.csv"}
#: Fewest known sites an AUC is computed on.
MIN_KNOWN = 5
#: Radius of the "within" proxies, metres (issue 14).
PROXY_RADIUS_M = 50_000.0


@dataclass(frozen=True)
class Proxy:
    """A naive proxy: its column (units in the name), what it measures, and its sign."""

    column: str
    label: str
    higher_is_better: bool


#: The naive proxies, in report order (issue 14).
PROXIES = (
    Proxy("substation_115kv_distance_m", "distance to substation >=115 kV", False),
    Proxy("substation_230kv_distance_m", "distance to substation >=230 kV", False),
    Proxy("substation_345kv_distance_m", "distance to substation >=345 kV", False),
    Proxy("plant_mw_within_50km", "plant MW within 50 km", True),
    Proxy("substations_within_50km", "substations within 50 km", True),
    Proxy("random", "random", True),
)
_KV = {"substation_115kv_distance_m": 115.0, "substation_230kv_distance_m": 230.0,
       "substation_345kv_distance_m": 345.0}


def known_set_path(name: str) -> Path:
    """The file of a named known set.

    Raises
    ------
    SettingsError
        For an unknown name (the message lists the known ones).
    """
    rel = KNOWN_SETS.get(name.strip().lower())
    if rel is None:
        raise SettingsError(f"--known-set {name!r}: unknown; use one of "
                            f"{', '.join(sorted(KNOWN_SETS))} or give a sites file")
    return data_dir() / rel


def read_known(path: str | Path) -> gpd.GeoDataFrame:
    """Known sites from a file: points (polygons become a representative point), EPSG:4326,
    with ``name`` (from ``name``/``site_name``/``id``, else ``site-<n>``) and ``mw``
    (from ``mw``/``capacity_mw``/``load_mw`` when present, else empty).

    Raises
    ------
    LayerValidationError
        No lat/lon columns, no CRS, empty or out-of-range coordinates, fewer than
        :data:`MIN_KNOWN` sites.
    """
    gdf, points = site_points(read_file(path), str(path), what="known sites")
    cols = {str(c).lower(): c for c in gdf.columns}
    name_col = next((cols[c] for c in ("name", "site_name", "id", "site_id") if c in cols), None)
    names = (gdf[name_col].astype(str).to_numpy() if name_col is not None
             else np.array([f"site-{i + 1}" for i in range(len(gdf))], dtype=object))
    mw_col = next((cols[c] for c in ("mw", "capacity_mw", "load_mw") if c in cols), None)
    mw = (pd.to_numeric(gdf[mw_col], errors="coerce").to_numpy(dtype=float)
          if mw_col is not None else np.full(len(gdf), np.nan))
    columns: dict[str, np.ndarray] = {"name": names, "mw": mw}
    for c in ("operator", "type", "coordinate_precision"):
        if c in cols:
            columns[c] = gdf[cols[c]].astype(str).to_numpy()
    out = gpd.GeoDataFrame(columns,
                           geometry=points.to_numpy(), crs="EPSG:4326")
    check_count(out, str(path))
    return out


def check_count(known: gpd.GeoDataFrame, source: str) -> None:
    """Refuse fewer than :data:`MIN_KNOWN` known sites."""
    if len(known) < MIN_KNOWN:
        raise LayerValidationError(
            f"{source}: {len(known)} known site(s); evaluate needs at least {MIN_KNOWN} for "
            "an AUC worth reading; add sites or widen --region")


def check_in_region(points: gpd.GeoDataFrame, boundary: BaseGeometry, region: str,
                    source: str, *, clip: bool = False) -> gpd.GeoDataFrame:
    """The points inside the region; with ``clip`` the rest are dropped, else refused.

    Raises
    ------
    LayerValidationError
        Points outside the region (the first five named) when not clipping.
    """
    inside = shapely.contains_xy(boundary, points.geometry.x.to_numpy(),
                                 points.geometry.y.to_numpy())
    if inside.all():
        return points
    if clip:
        log.info("%s: %d of %d sites lie outside %s and are left out", source,
                 int((~inside).sum()), len(points), region)
        return points[inside]
    names = points.loc[~inside, "name"].astype(str).tolist() if "name" in points.columns \
        else [str(i) for i in points.index[~inside]]
    raise LayerValidationError(
        f"{source}: {int((~inside).sum())} point(s) outside region {region} "
        f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}); remove them or "
        "choose the --region that holds them")


def _equal_area(boundary: BaseGeometry) -> CRS:
    centre = boundary.centroid
    return CRS.from_proj4(f"+proj=laea +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} "
                          "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs")


def sample_background(boundary: BaseGeometry, n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` points uniform over ``boundary`` by area, seeded (same seed, same points).

    Raises
    ------
    SettingsError
        For ``n`` below 1 or an empty boundary.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SettingsError(f"--background {n!r}: must be a whole number of at least 1")
    if boundary.is_empty or boundary.area == 0:
        raise SettingsError("the region has no area to draw background points from")
    crs = _equal_area(boundary)
    forward = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    shape = shapely.transform(boundary, lambda xy: np.column_stack(
        forward.transform(xy[:, 0], xy[:, 1])))
    shapely.prepare(shape)
    xmin, ymin, xmax, ymax = shape.bounds
    fill = max(shape.area / ((xmax - xmin) * (ymax - ymin)), 1e-3)
    rng = np.random.default_rng(seed)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    got = 0
    while got < n:
        m = int((n - got) / fill * 1.2) + 16
        x = rng.uniform(xmin, xmax, m)
        y = rng.uniform(ymin, ymax, m)
        keep = shapely.contains_xy(shape, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        got += int(keep.sum())
    x = np.concatenate(xs)[:n]
    y = np.concatenate(ys)[:n]
    lon, lat = back.transform(x, y)
    return gpd.GeoDataFrame({"name": [f"background-{i + 1}" for i in range(n)]},
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _xyz(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return unit_xyz(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())


def proxies(points: gpd.GeoDataFrame, substations: gpd.GeoDataFrame,
            plants: gpd.GeoDataFrame, seed: int) -> pd.DataFrame:
    """The raw proxy values at each point (columns of :data:`PROXIES`, units in names).

    A distance is NaN when no substation of that class exists (scored as the worst).
    """
    here = _xyz(points)
    out: dict[str, np.ndarray] = {}
    kv = pd.to_numeric(substations["voltage_kv"], errors="coerce").to_numpy(dtype=float)
    sub_xyz = _xyz(substations)
    for column, floor in _KV.items():
        sel = sub_xyz[kv >= floor]
        if len(sel) == 0:
            out[column] = np.full(len(points), np.nan)
            continue
        chord, _ = cKDTree(sel).query(here)
        out[column] = chord_to_km(chord) * 1000.0
    radius = float(km_to_chord(PROXY_RADIUS_M / 1000.0))
    mw = pd.to_numeric(plants["capacity_mw"], errors="coerce").fillna(0.0).to_numpy(float)
    if len(plants):
        near = cKDTree(_xyz(plants)).query_ball_point(here, radius)
        out["plant_mw_within_50km"] = np.array([mw[i].sum() for i in near], dtype=float)
    else:
        out["plant_mw_within_50km"] = np.zeros(len(points))
    out["substations_within_50km"] = (
        cKDTree(sub_xyz).query_ball_point(here, radius, return_length=True).astype(float)
        if len(sub_xyz) else np.zeros(len(points)))
    out["random"] = np.random.default_rng([seed, 1]).random(len(points))
    return pd.DataFrame(out, index=points.index)


def proxy_scores(values: pd.DataFrame) -> dict[str, np.ndarray]:
    """Proxy values as "higher is better" scores (distances negated, NaN the worst)."""
    scores = {}
    for p in PROXIES:
        v = values[p.column].to_numpy(dtype=float)
        s = v if p.higher_is_better else -v
        scores[p.label] = np.where(np.isnan(s), -np.inf, s)
    return scores
