"""Read one layer file of any common GIS format and validate it against its schema."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.errors import DataSourceError, LayerValidationError
from layers.schema import validate

log = logging.getLogger(__name__)

#: Vector files larger than this are refused before they are read: they are loaded whole.
#: Clip a national file to the region first, or raise this for a machine with the memory.
MAX_INPUT_MB = 512.0

#: The CRS of each GeoParquet geometry metadata read by :func:`read_geoparquet` in this
#: process, by the metadata's JSON text.
_CRS: dict[str, Any] = {}

_LAT_NAMES = ("lat", "latitude", "y")
_LON_NAMES = ("lon", "lng", "long", "longitude", "x")


def _find(columns: pd.Index, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


#: Files read as a table of rows (a header row, then one row per site or feature).
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")


def rows_as_shown(path: str | Path, positions: Iterable[int], limit: int = 5) -> str:
    """Rows of a file named as its user sees them: in a CSV or a spreadsheet the header is
    row 1, so the first data row (position 0) is row 2; in any other file feature 1 is the
    first. "rows 2, 5" / "features 1, 4" (at most ``limit``, then "...").

    >>> rows_as_shown("sites.csv", [0, 3]), rows_as_shown("sites.geojson", [0])
    ('rows 2, 5', 'feature 1')
    """
    positions = [int(p) for p in positions]
    table = Path(path).suffix.lower() in TABLE_SUFFIXES
    shown = [str(p + 2 if table else p + 1) for p in positions[:limit]]
    more = " ..." if len(positions) > limit else ""
    word = ("row" if table else "feature") + ("s" if len(positions) > 1 else "")
    return f"{word} {', '.join(shown)}{more}"


def read_csv_points(path: Path) -> gpd.GeoDataFrame:
    """Read a CSV with latitude/longitude columns (comma, semicolon or tab; BOM allowed)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(64 * 1024)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return _points(pd.read_csv(path, sep=delimiter, encoding="utf-8-sig"), path, "CSV")


def read_excel_points(path: Path) -> gpd.GeoDataFrame:
    """Read the first sheet of a spreadsheet (.xlsx, .xls) with latitude/longitude columns,
    by the rules of :func:`read_csv_points`."""
    try:
        df = pd.read_excel(path, sheet_name=0)
    except ImportError as exc:  # .xls needs xlrd, which geo-rank does not install
        raise DataSourceError(f"{path}: cannot read this spreadsheet ({exc}); save it as "
                              ".xlsx or CSV") from None
    return _points(df, path, "the spreadsheet")


def _points(df: pd.DataFrame, path: Path, what: str) -> gpd.GeoDataFrame:
    """Points from a table's latitude and longitude columns (refusing empty or text cells)."""
    lat, lon = _find(df.columns, _LAT_NAMES), _find(df.columns, _LON_NAMES)
    if lat is None or lon is None:
        raise LayerValidationError(
            f"{path}: {what} needs latitude and longitude columns (named lat/latitude and "
            f"lon/lng/longitude); columns found: {', '.join(map(str, df.columns))}"
        )
    y = pd.to_numeric(df[lat], errors="coerce")
    x = pd.to_numeric(df[lon], errors="coerce")
    bad = np.flatnonzero((y.isna() | x.isna()).to_numpy())
    if len(bad):
        raise LayerValidationError(
            f"{path}: columns {lat!r}/{lon!r} are empty or not numbers in "
            f"{rows_as_shown(path, bad)}; fill them with decimal degrees"
        )
    return gpd.GeoDataFrame(df.drop(columns=[lat, lon]).reset_index(drop=True),
                            geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")


def check_file(path: str | Path) -> Path:
    """The path of a readable input file: it exists, is not empty, is not too large.

    Raises
    ------
    DataSourceError
        Naming the file and what to do.
    """
    path = Path(path)
    if not path.exists():
        raise DataSourceError(f"{path}: no such file; check the path")
    if path.is_file():
        size = path.stat().st_size
        if size == 0:
            raise DataSourceError(f"{path}: the file is empty; give a file with features")
        if size > MAX_INPUT_MB * 1024**2:
            raise DataSourceError(
                f"{path}: {size / 1024**2:,.0f} MB is more than the {MAX_INPUT_MB:,.0f} MB "
                "geo-rank reads whole; clip it to your region first (ogr2ogr -spat ...) or "
                "raise layers.read.MAX_INPUT_MB")
    return path


def read_geoparquet(path: str | Path) -> gpd.GeoDataFrame:
    """A GeoParquet file as :func:`geopandas.read_parquet` reads it, its CRS built once per
    process: pyproj takes about 20 ms to build WGS 84 from the PROJJSON in a file's
    metadata, and a run reads eight embedded layers that declare the same one.

    Only a file with one WKB geometry column and no covering or frame attributes (the
    embedded layers) takes the short way; the first file of each CRS, and any other file,
    is read by geopandas itself.
    """
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    geo = json.loads(meta.get(b"geo", b"{}"))
    name, columns = geo.get("primary_column"), geo.get("columns", {})
    column = columns.get(name, {})
    crs_key = json.dumps(column.get("crs", "OGC:CRS84"), sort_keys=True)
    if (list(columns) != [name] or column.get("encoding") != "WKB" or "covering" in column
            or b"PANDAS_ATTRS" in meta or crs_key not in _CRS):
        frame = gpd.read_parquet(path)
        if list(columns) == [name]:
            _CRS.setdefault(crs_key, frame.crs)
        return frame
    table = pq.read_table(path)
    order = list(table.slice(0, 0).to_pandas().columns)
    frame = table.drop([name]).to_pandas()
    frame.insert(order.index(name), name, gpd.GeoSeries.from_wkb(
        np.asarray(table[name]), index=frame.index, crs=_CRS[crs_key]))
    return gpd.GeoDataFrame(frame, geometry=name)


def read_file(path: str | Path) -> gpd.GeoDataFrame:
    """Read a vector file (GeoParquet, GeoPackage, GeoJSON, shapefile, or a CSV or .xlsx
    spreadsheet with lat/lon)."""
    path = check_file(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            return gpd.read_parquet(path)
        if suffix in (".csv", ".txt", ".tsv"):
            return read_csv_points(path)
        if suffix in (".xlsx", ".xls"):
            return read_excel_points(path)
        return gpd.read_file(path)
    except (LayerValidationError, DataSourceError):
        raise
    except Exception as exc:  # GDAL, pyarrow and pandas raise many types for bad files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataSourceError(
            f"{path}: not a readable spatial file ({first}); give GeoParquet, GeoPackage, "
            "GeoJSON, a shapefile, or a CSV or .xlsx with lat/lon columns"
        ) from None


def read_layer(path: str | Path, kind: str) -> gpd.GeoDataFrame:
    """Read a file and validate it as a layer of ``kind`` (see :mod:`layers.schema`)."""
    gdf = read_file(path)
    log.debug("read %s rows from %s", len(gdf), path)
    return validate(gdf, kind, source=str(path))
