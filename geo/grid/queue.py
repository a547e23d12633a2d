"""Loads already queued or under construction (``--queued-loads FILE``).

A queue file is CSV or GeoJSON (any format GeoPandas reads) with one row per load: ``mw``
(> 0) and either ``poi_sub_id`` (the substation it connects at) or ``lat``/``lon`` (WGS84;
a GeoJSON's point geometry counts as lat/lon), optionally ``in_service`` (a date) and
``status`` (kept for the reader, not used). A load given by place is attached to the
nearest substation of ``hosting_min_kv`` or more (great-circle distance). The attached
loads go to :func:`geo.grid.hosting.hosting` (``queued=``), which adds them to the base case
before any hosting is computed, so every ``hosting_mw`` and ``firm_mw`` is what remains
after them. ``tests/data/queued_loads_template.csv`` is a template.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo._arrays import NONE
from geo.errors import LayerValidationError
from geo.settings import Settings
from layers import grids
from layers.sphere import chord_to_km, unit_xyz

#: Columns of an attached queue (what :func:`geo.grid.hosting.hosting` reads).
COLUMNS = ("sub_id", "mw", "attach_km")


def read(path: str | Path) -> pd.DataFrame:
    """Read a queue file into ``poi_sub_id`` / ``lat`` / ``lon`` / ``mw`` columns.

    Raises
    ------
    LayerValidationError
        One line naming the file and what is wrong (missing file, no ``mw``, no place,
        a bad value).
    """
    path = Path(path)
    where = f"--queued-loads {path}"
    if not path.is_file():
        raise LayerValidationError(f"{where}: no such file; check the path")
    try:
        if path.suffix.lower() in {".csv", ".txt"}:
            frame = pd.read_csv(path, dtype={"poi_sub_id": str})
        else:
            geo = gpd.read_file(path)
            frame = pd.DataFrame(geo.drop(columns=geo.geometry.name))
            if geo.crs is not None and not geo.crs.equals("EPSG:4326"):
                geo = geo.to_crs("EPSG:4326")
            points = geo.geometry
            if len(points) and (points.geom_type == "Point").all():
                frame["lon"], frame["lat"] = points.x.to_numpy(), points.y.to_numpy()
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise LayerValidationError(f"{where}: cannot read it ({exc})") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "mw" not in frame.columns:
        raise LayerValidationError(f"{where}: no 'mw' column (the MW of each queued load)")
    mw = pd.to_numeric(frame["mw"], errors="coerce")
    bad = mw.isna() | ~(mw > 0)
    if bad.any():
        raise LayerValidationError(f"{where}: column 'mw' must be a number > 0 "
                                   f"(row {int(np.flatnonzero(bad)[0]) + 2})")
    has_poi = "poi_sub_id" in frame.columns
    has_place = {"lat", "lon"} <= set(frame.columns)
    if not has_poi and not has_place:
        raise LayerValidationError(f"{where}: give each load 'poi_sub_id' or 'lat' and 'lon'")
    out = pd.DataFrame({"mw": mw.to_numpy(float)})
    out["poi_sub_id"] = (frame["poi_sub_id"].astype(object).where(frame["poi_sub_id"].notna(),
                                                                   None)
                         if has_poi else None)
    for col in ("lat", "lon"):
        out[col] = pd.to_numeric(frame[col], errors="coerce") if has_place else np.nan
    placed = out["poi_sub_id"].notna() | (out["lat"].between(-90, 90)
                                          & out["lon"].between(-180, 180))
    if not placed.all():
        row = int(np.flatnonzero(~placed.to_numpy())[0]) + 2
        raise LayerValidationError(f"{where}: row {row} has neither a poi_sub_id nor a valid "
                                   "lat/lon")
    for col in ("in_service", "status"):
        if col in frame.columns:
            out[col] = frame[col].astype(object).where(frame[col].notna(), None).to_numpy()
    return out


def attach(queue: pd.DataFrame, substations: gpd.GeoDataFrame, settings: Settings,
           source: str = "--queued-loads") -> pd.DataFrame:
    """Each load's POI: its ``poi_sub_id``, or the nearest substation of ``hosting_min_kv``
    or more. Returns :data:`COLUMNS` (``attach_km`` 0 for a given POI)."""
    ids = substations["sub_id"].astype(str).to_numpy()
    given = queue["poi_sub_id"].notna().to_numpy()
    sub = np.where(given, queue["poi_sub_id"].astype(str), NONE).astype(object)
    unknown = sorted(set(sub[given]) - set(ids))
    if unknown:
        raise LayerValidationError(f"{source}: poi_sub_id not in the substations layer: "
                                   f"{', '.join(unknown[:5])}; use a sub_id of "
                                   "`geo-rank grid --export`, or give lat/lon instead")
    km = np.zeros(len(queue))
    if (~given).any():
        ok = ((substations["voltage_kv"].to_numpy(float) >= settings.hosting_min_kv)
              & grids.connectable(substations))
        if not ok.any():
            raise LayerValidationError(f"{source}: no substation of {settings.hosting_min_kv:g}"
                                       " kV or more to attach the loads to")
        pts = substations.geometry[ok]
        tree = cKDTree(unit_xyz(pts.x.to_numpy(), pts.y.to_numpy()))
        q = queue.loc[~given]
        chord, idx = tree.query(unit_xyz(q["lon"].to_numpy(float), q["lat"].to_numpy(float)))
        sub[~given] = ids[ok][idx]
        km[~given] = chord_to_km(chord)
    return pd.DataFrame({"sub_id": sub.astype(str), "mw": queue["mw"].to_numpy(float),
                         "attach_km": km})
