"""Write ranked sites to GeoJSON, GeoPackage, GeoParquet or CSV, with provenance.

Every format carries the provenance dictionary (:func:`geo.provenance.build_provenance`):

=========== ================================================================================
format      where the provenance lives
=========== ================================================================================
GeoJSON     top-level ``metadata`` member (a foreign member, RFC 7946 §6.1)
GeoPackage  non-spatial table ``metadata`` (``key``, ``value`` as JSON), registered in
            ``gpkg_contents`` as an attributes table, so QGIS lists it next to ``sites``;
            each column's description also in ``gpkg_data_columns`` (:mod:`geo.io.gpkg`)
GeoParquet  parquet file metadata, key ``geo_rank`` (JSON); a table of more than
            :data:`PARQUET_ROW_GROUP_ROWS` rows is converted and written one row group of
            that many rows at a time
CSV         sidecar ``<name>.csv.provenance.json``: ``#`` comment lines would break QGIS's
            header detection and pandas (``comment="#"`` also cuts a ``#`` inside a value).
            A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
            return gets a leading ``'`` (OWASP "CSV injection": a spreadsheet would run
            it as a formula); numbers are written as they are
GeoTIFF     dataset tag ``GEO_RANK_PROVENANCE`` (JSON, without ``generated_at``)
=========== ================================================================================

``.tif`` writes an H3 surface (every cell of ``--candidates h3:<res>``) as a Cloud-Optimised
GeoTIFF of rank percentile, months to power and firm MW (:mod:`geo.io.raster`: equal-area
grid, pixel matched to the H3 resolution, nodata where there is no cell); other sites are
refused with a one-line error.

The provenance carries the data dictionary of the file under ``columns``: one entry per
written column (name, type, unit, nullable, the stage that wrote it, a description), from
the site table :mod:`geo.columns`; ``docs/columns.md`` is the same table for people.

Writes are atomic (:func:`geo.io.output.atomic_output`: a temporary file next to the output,
then :func:`os.replace`), and an existing file is only replaced when geo-rank wrote it,
unless ``overwrite=True``. Reading back is :mod:`geo.io.read` (re-exported here).

Determinism: GeoJSON and CSV are byte-identical for identical sites and provenance apart from
``generated_at``. GeoPackage, GeoParquet and GeoTIFF are byte-identical for identical sites and
provenance (``gpkg_contents.last_change`` is set from ``generated_at``; GDAL would write the
current time).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from geo import columns
from geo._compact import restored
from geo._memory import release_memory
from geo.errors import DataSourceError, LayerValidationError, SettingsError
from geo.io import raster as _raster
from geo.io.arrow_rows import kinds, plain_points, rows_at, wkb
from geo.io.gpkg import write_gpkg
from geo.io.output import (
    FORMATS,
    PARQUET_KEY,
    atomic_output,
    compact_json,
    format_of,
    neutralise_text_columns,
    sidecar,
)
from geo.io.read import read_provenance, read_sites
from geo.provenance import TOOL, is_geo_rank, jsonable

log = logging.getLogger(__name__)

_dumps = compact_json  # GeoJSON text (a module name, so tests can make it fail)

__all__ = ["FORMATS", "check_surface", "check_target", "path_for", "read_provenance",
           "read_sites", "write"]

#: Coordinates are rounded to 7 decimals (about 1 cm).
COORD_DECIMALS = 7
#: The data-dictionary entries of a CSV's coordinate columns.
CSV_COORDINATES = {
    "lat": {"name": "lat", "type": "float", "unit": "degree", "nullable": True,
            "description": "Latitude of the site (WGS84)"},
    "lon": {"name": "lon", "type": "float", "unit": "degree", "nullable": True,
            "description": "Longitude of the site (WGS84)"},
}


def path_for(out_dir: str | Path, region: str, fmt: str) -> Path:
    """Return the default output path ``<out_dir>/<region lower-cased>_sites.<ext>``.

    A region given as a boundary file uses the file's stem; characters other than letters,
    digits, ``.``, ``_`` and ``-`` become ``_``.

    Examples
    --------
    >>> path_for("exports", "US-TX", "geojson").as_posix()
    'exports/us-tx_sites.geojson'
    """
    if fmt not in FORMATS:
        raise SettingsError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    name = region.strip()
    if "/" in name or "\\" in name or Path(name).suffix.lower() in {".geojson", ".gpkg", ".shp"}:
        name = Path(name).stem
    name = re.sub(r"[^a-z0-9._-]", "_", name.lower()) or "region"
    return Path(out_dir) / f"{name}_sites{FORMATS[fmt]}"


def write(
    sites: gpd.GeoDataFrame, path: str | Path, provenance: Mapping[str, Any], *,
    overwrite: bool = False,
) -> Path:
    """Write ranked sites with their provenance; the format follows the extension.

    Parameters
    ----------
    sites
        Ranked sites (any CRS; written as WGS84 longitude/latitude).
    path
        Output file: ``.geojson``/``.json``, ``.gpkg``, ``.parquet`` or ``.csv``; or
        ``.tif``/``.tiff`` for a GeoTIFF of H3 sites (a surface).
    provenance
        From :func:`geo.provenance.build_provenance`.
    overwrite
        Replace an existing file even if geo-rank did not write it.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    DataSourceError
        The folder cannot be created or written, or ``path`` exists and was not written by
        geo-rank (and ``overwrite`` is false).
    LayerValidationError
        ``sites`` has no CRS, or (CSV) geometries that are not points.
    SettingsError
        The extension names no supported format, or ``.tif`` for sites that are not H3
        cells of one resolution.
    """
    path = Path(path)
    fmt = format_of(path)
    prov = jsonable(dict(provenance))
    prov.setdefault("tool", TOOL)  # the overwrite guard recognises files by this marker
    _check_overwrite(path, fmt, overwrite=overwrite)
    # the text held as categories is written as the text it is (the same bytes as ever)
    wgs84 = _to_wgs84(sites if fmt == "parquet" else restored(sites))
    if fmt == "csv":
        table = _csv_frame(wgs84)
        prov["columns"] = _dictionary(table.columns)
        # the sidecar is moved into place first, the CSV last
        with atomic_output(path) as tmp, atomic_output(sidecar(path)) as tmp_sidecar:
            _write_json(prov, tmp_sidecar)
            table.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    elif fmt == "tif":
        _raster.h3_resolution(wgs84)  # refused before any file is touched
        with atomic_output(path) as tmp:
            _raster.write(wgs84, tmp, prov)
    else:
        prov["columns"] = _dictionary(c for c in wgs84.columns if c != wgs84.geometry.name)
        writer = {"geojson": _write_geojson, "gpkg": write_gpkg, "parquet": _write_parquet}
        with atomic_output(path) as tmp:
            writer[fmt](wgs84, tmp, prov)
    log.info("wrote %d sites to %s", len(sites), path)
    return path


def _dictionary(names: Any) -> list[dict[str, Any]]:
    """The data dictionary of the written columns (see :func:`geo.columns.dictionary`)."""
    names = [str(n) for n in names]
    entries = columns.dictionary(names)
    return [CSV_COORDINATES.get(n, e) for n, e in zip(names, entries, strict=True)]


# --- checks -------------------------------------------------------------------------------

def check_surface(candidates: str) -> None:
    """Refuse ``--format tif`` unless ``candidates`` are H3 cells (before the long work)."""
    _raster.check_candidates(candidates)


def check_target(path: str | Path, *, overwrite: bool) -> Path:
    """Refuse an unknown format, or a file geo-rank did not write unless ``overwrite``.

    Called before the long work, so a refused target leaves no file behind.
    """
    path = Path(path)
    _check_overwrite(path, format_of(path), overwrite=overwrite)
    return path


def _check_overwrite(path: Path, fmt: str, *, overwrite: bool) -> None:
    existing = [p for p in (path, sidecar(path) if fmt == "csv" else None) if p and p.exists()]
    if overwrite or not existing:
        return
    if not is_geo_rank(read_provenance(path)):
        raise DataSourceError(
            f"{existing[0]} exists and was not written by geo-rank; "
            "pass --overwrite to replace it"
        )


def _to_wgs84(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(sites, gpd.GeoDataFrame):
        raise LayerValidationError(f"sites must be a GeoDataFrame, not {type(sites).__name__}")
    if sites.crs is None:
        raise LayerValidationError(
            "sites have no CRS; set it first, e.g. sites.set_crs('EPSG:4326')"
        )
    if sites.columns.duplicated().any():
        dupes = sorted({str(c) for c in sites.columns[sites.columns.duplicated()]})
        raise LayerValidationError(f"sites have duplicate columns: {', '.join(dupes)}")
    return sites if sites.crs.to_epsg() == 4326 else sites.to_crs(4326)


# --- GeoJSON ------------------------------------------------------------------------------

def _write_geojson(sites: gpd.GeoDataFrame, tmp: Path, prov: dict[str, Any]) -> None:
    geom_name = sites.geometry.name
    columns = [c for c in sites.columns if c != geom_name]
    values = [_json_column(sites[c]) for c in columns]
    names = [str(c) for c in columns]
    has_id = "site_id" in names
    id_index = names.index("site_id") if has_id else -1
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        head = _dumps({"type": "FeatureCollection", "metadata": prov})
        fh.write(head[:-1] + ',"features":[')
        for i, geom in enumerate(sites.geometry.array):
            feature: dict[str, Any] = {"type": "Feature"}
            if has_id and values[id_index][i] is not None:
                feature["id"] = values[id_index][i]
            feature["geometry"] = _geometry(geom)
            feature["properties"] = {n: v[i] for n, v in zip(names, values, strict=True)}
            fh.write(("\n" if i == 0 else ",\n") + _dumps(feature))
        fh.write("\n]}\n")


def _json_column(series: pd.Series) -> list[Any]:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.isoformat() for v in series]
    return [_json_value(v) for v in series.tolist()]


def _json_value(v: Any) -> Any:
    """One property value as plain JSON (NaN, None, NA, NaT -> None)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, bool | str):
        return v
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).isoformat()
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, pd.Timedelta | dt.timedelta):
        return pd.Timedelta(v).isoformat()
    if isinstance(v, Decimal):
        return _json_value(float(v))
    if isinstance(v, BaseGeometry):
        return v.wkt
    if isinstance(v, Mapping):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray):
        return [_json_value(x) for x in v]
    try:
        return jsonable(v)
    except TypeError:
        return str(v)


def _geometry(geom: BaseGeometry | None) -> dict[str, Any] | None:
    """RFC 7946 geometry: rounded lon/lat, exterior rings counter-clockwise."""
    if geom is None or geom.is_empty:
        return None
    kind = geom.geom_type
    if kind == "GeometryCollection":
        return {"type": kind, "geometries": [_geometry(g) for g in geom.geoms]}
    if kind.startswith("Multi"):
        parts = [_geometry(g) for g in geom.geoms]
        return {"type": kind, "coordinates": [p["coordinates"] for p in parts if p]}
    if kind == "Point":
        return {"type": kind, "coordinates": _coords(geom.coords)[0]}
    if kind == "Polygon":
        geom = orient(geom, sign=1.0)
        rings = [geom.exterior, *geom.interiors]
        return {"type": kind, "coordinates": [_coords(r.coords) for r in rings]}
    return {"type": "LineString", "coordinates": _coords(geom.coords)}


def _coords(coords: Any) -> list[list[float]]:
    # + 0.0 turns -0.0 into 0.0 so that equal points are written alike
    return [[round(c, COORD_DECIMALS) + 0.0 for c in xyz] for xyz in coords]


# --- GeoParquet ---------------------------------------------------------------------------

#: Rows converted to arrow and written at a time, one row group each, when a table has more:
#: only these rows' arrow form is held beside the frame (2^16 rows: about 110 MB of a ranked
#: US surface; through geopandas' writer, which a block of 3D geometry still takes, about
#: four copies, 0.45 GB). Smaller tables are one row group, written as before.
PARQUET_ROW_GROUP_ROWS = 65_536


def _write_parquet(sites: gpd.GeoDataFrame, tmp: Path, prov: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    step = PARQUET_ROW_GROUP_ROWS
    if len(sites) <= step:
        table = _arrow_table(restored(sites))
        meta = {**(table.schema.metadata or {}), PARQUET_KEY: _dumps(prov).encode("utf-8")}
        pq.write_table(table.replace_schema_metadata(meta), tmp)
        return
    # The schema and its ``geo`` key (bounding box, geometry types) of the whole table come
    # from the few rows that decide them; each block is then cast to that schema (a text
    # column null in every row of a block would otherwise be of arrow's null type).
    # (the text held as categories is given back as text a block at a time)
    kind = kinds(sites.geometry.array)  # read once: the schema's rows, the writer, the WKB
    schema = _arrow_table(restored(rows_at(sites, _deciding_rows(sites, kind)))).schema
    schema = schema.with_metadata({**(schema.metadata or {}),
                                   PARQUET_KEY: _dumps(prov).encode("utf-8")})
    pool = pa.default_memory_pool()
    # a block's data straight from the frame (the ``geo`` key is the schema's): without
    # the writer's in-memory file and its reading back, two of its four copies
    direct = _wkb_as_written(sites, kind)
    points = direct and plain_points(sites.geometry.array, kind)

    def convert(block: gpd.GeoDataFrame) -> Any:
        return _block_table(block, points) if direct else _arrow_table(block)

    with pq.ParquetWriter(tmp, schema) as writer:
        for start in range(0, len(sites), step):
            block = convert(restored(sites.iloc[start:start + step]))
            writer.write_table(block.cast(schema), row_group_size=step)
            del block  # a block's copies (about four) go back before the next is made
            pool.release_unused()
            release_memory()


def _deciding_rows(sites: gpd.GeoDataFrame, kind: np.ndarray) -> np.ndarray:
    """The rows whose arrow conversion gives the whole table's schema and ``geo`` key: those
    with the extreme bounds, the first of each geometry type (2D or 3D: ``kind``, the type
    id plus 1000 where 3D) and, in each object column, the first value of each Python
    type."""
    geoms = sites.geometry.array
    rows = [0]
    bounds = geoms.bounds
    for i in range(4):
        column = bounds[:, i]
        if not np.isnan(column).all():
            rows.append(int(np.nanargmin(column) if i < 2 else np.nanargmax(column)))
    rows.extend(np.unique(kind, return_index=True)[1].tolist())
    for name in sites.columns:
        values = sites[name]
        if name != sites.geometry.name and values.dtype == object:
            # the first row of each type: types hashed as they are (their names made once)
            codes, _ = pd.factorize(np.fromiter(map(type, values.to_numpy()), dtype=object,
                                                count=len(values)))
            rows.extend(np.unique(codes, return_index=True)[1].tolist())
    return np.unique(np.asarray(rows, dtype=np.int64))


def _wkb_as_written(sites: gpd.GeoDataFrame, kind: np.ndarray | None = None) -> bool:
    """True when :func:`_block_table` gives the geometry the bytes geopandas' writer gives
    it: one geometry column, all 2D (ISO and extended WKB, the writers of geopandas 1.0 and
    1.2, differ only in 3D; ``kind`` as :func:`_deciding_rows`'s, read here if not given)."""
    geometry = [c for c in sites.columns if isinstance(sites[c].dtype, gpd.array.GeometryDtype)]
    if geometry != [sites.geometry.name]:
        return False
    kind = kinds(sites.geometry.array) if kind is None else kind
    return not (kind >= 1000).any()


def _block_table(sites: gpd.GeoDataFrame, points: bool | None = None) -> Any:
    """The data of :func:`_arrow_table` (its schema's metadata aside): the columns as
    ``pyarrow.Table.from_pandas`` converts them, and the geometry as WKB, in its place
    (``points``: :func:`geo.io.arrow_rows.plain_points` of the whole table, when known)."""
    import pyarrow as pa

    name = sites.geometry.name
    attributes = pd.DataFrame(sites.copy(deep=False))
    attributes[name] = None  # arrow's null type: no memory, replaced below
    table = pa.Table.from_pandas(attributes, preserve_index=False)
    at = table.schema.get_field_index(name)
    return table.set_column(at, pa.field(name, pa.binary()), wkb(sites.geometry.array, points))


def _arrow_table(sites: gpd.GeoDataFrame) -> Any:
    """The arrow table ``GeoDataFrame.to_parquet`` writes, GeoParquet ``geo`` key included.

    Built by the public writer into an uncompressed in-memory file and read back (geopandas
    has no public call that returns the table with its ``geo`` key, and ``to_parquet`` none
    that adds a key of ours): the written file is the same bytes as from the table
    geopandas builds internally, for one more in-memory write and read.
    """
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    sites.to_parquet(buffer, index=False, compression=None)
    buffer.seek(0)
    return pq.read_table(buffer)


# --- CSV ----------------------------------------------------------------------------------

def _write_json(obj: Any, tmp: Path) -> None:
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=2)
    tmp.write_text(text + "\n", encoding="utf-8", newline="\n")


def _csv_frame(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Sites as a table with ``lat`` and ``lon`` where the geometry column was."""
    geoms = sites.geometry
    kinds = set(geoms[~(geoms.isna() | geoms.is_empty)].geom_type)
    if kinds - {"Point"}:
        raise LayerValidationError(
            f"CSV output holds points only, the sites have {', '.join(sorted(kinds))}; "
            "write GeoJSON, GeoPackage or GeoParquet instead"
        )
    located = ~(geoms.isna() | geoms.is_empty)
    lat = pd.Series(np.nan, index=sites.index)
    lon = pd.Series(np.nan, index=sites.index)
    lat[located] = geoms[located].y.round(COORD_DECIMALS) + 0.0
    lon[located] = geoms[located].x.round(COORD_DECIMALS) + 0.0
    table = pd.DataFrame(sites.drop(columns=geoms.name))
    at = list(sites.columns).index(geoms.name)
    table.insert(at, "lat", lat.to_numpy())
    table.insert(at + 1, "lon", lon.to_numpy())
    # a spreadsheet would run a text cell that starts like a formula (OWASP CSV injection)
    return neutralise_text_columns(table)
