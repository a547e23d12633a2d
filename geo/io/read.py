"""Read ranked sites and their provenance back from any file :mod:`geo.io.export` wrote.

Also reads a user's own GeoJSON, GeoPackage, GeoParquet or CSV (lat/lon) of sites, with no
provenance. The ``geo-rank map`` command and the overwrite guard of the writers use it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import columns
from geo.errors import DataSourceError
from geo.io import dataset as _dataset
from geo.io import raster as _raster
from geo.io.output import LAYER, METADATA_TABLE, PARQUET_KEY, format_of, sidecar

__all__ = ["read_provenance", "read_sites"]


def read_sites(path: str | Path) -> tuple[gpd.GeoDataFrame, dict[str, Any] | None]:
    """Read sites written by :func:`geo.io.export.write` (or a user's file) and their provenance.

    Returns
    -------
    (GeoDataFrame, dict or None)
        The sites in EPSG:4326 and the provenance, ``None`` when the file has none.
    """
    path = Path(path)
    fmt = format_of(path)
    if fmt == "parquet" and path.is_dir():  # a partitioned dataset (geo.io.dataset)
        try:
            return gpd.read_parquet(path), _dataset.read_provenance(path)
        except (OSError, ValueError) as exc:
            raise DataSourceError(f"cannot read sites from {path}: {exc}") from exc
    if not path.is_file():
        raise DataSourceError(f"{path} does not exist or is not a file; check the path")
    if fmt == "tif":
        raise DataSourceError(f"{path} is a raster of a surface, not sites; read the sites "
                              "from a GeoJSON, GeoPackage, GeoParquet or CSV export")
    try:
        if fmt == "geojson":
            return _read_geojson(path)
        if fmt == "gpkg":
            layers = _list_layers(path)
            layer = LAYER if LAYER in layers else next(iter(layers), None)
            return gpd.read_file(path, layer=layer), _gpkg_provenance(path)
        if fmt == "parquet":
            return gpd.read_parquet(path), _parquet_provenance(path)
        return _read_csv(path)
    except (OSError, ValueError, sqlite3.Error, RuntimeError) as exc:
        if isinstance(exc, DataSourceError):
            raise
        raise DataSourceError(f"cannot read sites from {path}: {exc}") from exc


def read_provenance(path: str | Path) -> dict[str, Any] | None:
    """Return the provenance stored in an output file, or ``None`` (no file, none stored)."""
    path = Path(path)
    fmt = format_of(path)
    try:
        if fmt == "geojson":
            with path.open("rb") as fh:
                doc = json.load(fh)
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            return meta if isinstance(meta, dict) else None
        if fmt == "gpkg":
            return _gpkg_provenance(path)
        if fmt == "parquet":
            return _parquet_provenance(path)
        if fmt == "tif":
            return _raster.read_provenance(path)
        return json.loads(sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, sqlite3.Error, RuntimeError):
        return None


def _read_geojson(path: Path) -> tuple[gpd.GeoDataFrame, dict[str, Any] | None]:
    with path.open("rb") as fh:
        doc = json.load(fh)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or "crs" in doc:
        return gpd.read_file(path).to_crs(4326), None  # not ours: let GDAL handle it
    meta = doc.get("metadata")
    features = doc.get("features") or []
    if not features:
        return gpd.GeoDataFrame(geometry=[], crs=4326), meta
    gdf = gpd.GeoDataFrame.from_features(features, crs=4326)
    cols = [c for c in gdf.columns if c != "geometry"] + ["geometry"]
    return gdf[cols], meta if isinstance(meta, dict) else None


def _gpkg_provenance(path: Path) -> dict[str, Any] | None:
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute(f"SELECT key, value FROM {METADATA_TABLE} ORDER BY fid").fetchall()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    try:
        return {str(k): json.loads(v) for k, v in rows}
    except (TypeError, ValueError):
        return None


def _list_layers(path: Path) -> list[str]:
    import pyogrio

    return [str(row[0]) for row in pyogrio.list_layers(path) if row[1] is not None]


def _parquet_provenance(path: Path) -> dict[str, Any] | None:
    import pyarrow.parquet as pq

    if path.is_dir():
        return _dataset.read_provenance(path)
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[PARQUET_KEY]) if PARQUET_KEY in meta else None


def _read_csv(path: Path) -> tuple[gpd.GeoDataFrame, dict[str, Any] | None]:
    header = pd.read_csv(path, nrows=0).columns
    # text site columns stay text (ids such as "123" must not become numbers)
    text = {c: str for c in columns.names(type="str") if c in header}
    df = pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""])
    if not {"lat", "lon"} <= set(df.columns):
        raise DataSourceError(f"{path} has no lat and lon columns; add them (WGS84 degrees)")
    lon, lat = df.pop("lon"), df.pop("lat")
    located = lon.notna() & lat.notna()
    geometry = np.where(located, gpd.points_from_xy(lon, lat), None)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geometry, index=df.index), crs=4326)
    side = sidecar(path)
    prov = json.loads(side.read_text(encoding="utf-8")) if side.is_file() else None
    return gdf, prov
