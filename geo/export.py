"""Write ranked sites to GeoJSON, GeoPackage, GeoParquet or CSV, with provenance.

Every format carries the provenance dictionary (:func:`geo.provenance.build_provenance`):

=========== ================================================================================
format      where the provenance lives
=========== ================================================================================
GeoJSON     top-level ``metadata`` member (a foreign member, RFC 7946 §6.1)
GeoPackage  non-spatial table ``metadata`` (``key``, ``value`` as JSON), registered in
            ``gpkg_contents`` as an attributes table, so QGIS lists it next to ``sites``
GeoParquet  parquet file metadata, key ``geo_rank`` (JSON)
CSV         sidecar ``<name>.csv.provenance.json``: ``#`` comment lines would break QGIS's
            header detection and pandas (``comment="#"`` also cuts a ``#`` inside a value)
=========== ================================================================================

Writes are atomic (a temporary folder next to the output, then :func:`os.replace`), and an
existing file is only replaced when geo-rank wrote it, unless ``overwrite=True``.

Determinism: GeoJSON and CSV are byte-identical for identical sites and provenance apart from
``generated_at``. GeoPackage and GeoParquet are byte-identical for identical sites and
provenance (``gpkg_contents.last_change`` is set from ``generated_at``; GDAL would write the
current time).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from geo.errors import DataSourceError, LayerValidationError, SettingsError
from geo.provenance import TOOL, is_geo_rank, jsonable

log = logging.getLogger(__name__)

#: Output formats and their file extension.
FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "parquet": ".parquet", "csv": ".csv"}
_EXTENSIONS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg",
               ".parquet": "parquet", ".csv": "csv"}
#: Coordinates are rounded to 7 decimals (about 1 cm).
COORD_DECIMALS = 7
LAYER = "sites"
METADATA_TABLE = "metadata"
PARQUET_KEY = b"geo_rank"
SIDECAR_SUFFIX = ".provenance.json"
#: Ranked-site columns read back as text from CSV (ids such as "123" stay strings).
_TEXT_COLUMNS = ("site_id", "tier", "poi_sub_id", "poi_name", "redundancy", "gas_field",
                 "country_iso3", "subdivision", "sovereignty_bloc", "data_regime",
                 "localization", "reasons", "limiting_line_id",
                 "firm_limiting_line_id", "firm_outage_line_id", "firm_source")


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
        Output file: ``.geojson``/``.json``, ``.gpkg``, ``.parquet`` or ``.csv``.
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
        The extension names no supported format.
    """
    path = Path(path)
    fmt = _format_of(path)
    prov = jsonable(dict(provenance))
    prov.setdefault("tool", TOOL)  # the overwrite guard recognises files by this marker
    _check_overwrite(path, fmt, overwrite=overwrite)
    wgs84 = _to_wgs84(sites)
    if fmt == "geojson":
        atomic_write(path, lambda tmp: _write_geojson(wgs84, tmp, prov))
    elif fmt == "gpkg":
        atomic_write(path, lambda tmp: _write_gpkg(wgs84, tmp, prov))
    elif fmt == "parquet":
        atomic_write(path, lambda tmp: _write_parquet(wgs84, tmp, prov))
    else:
        table = _csv_frame(wgs84)
        sidecar = _sidecar(path)
        atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n",
                                                    encoding="utf-8"),
                     sidecars={sidecar: lambda tmp: _write_json(prov, tmp)})
    log.info("wrote %d sites to %s", len(sites), path)
    return path


def read_sites(path: str | Path) -> tuple[gpd.GeoDataFrame, dict[str, Any] | None]:
    """Read sites written by :func:`write` (or a user's file) and their provenance.

    Returns
    -------
    (GeoDataFrame, dict or None)
        The sites in EPSG:4326 and the provenance, ``None`` when the file has none.
    """
    path = Path(path)
    fmt = _format_of(path)
    if not path.is_file():
        raise DataSourceError(f"{path} does not exist or is not a file; check the path")
    try:
        if fmt == "geojson":
            return _read_geojson(path)
        if fmt == "gpkg":
            layers = _list_layers(path)
            layer = LAYER if LAYER in layers else next(iter(layers), None)
            return gpd.read_file(path, layer=layer), _gpkg_provenance(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            meta = pq.read_schema(path).metadata or {}
            prov = json.loads(meta[PARQUET_KEY]) if PARQUET_KEY in meta else None
            return gpd.read_parquet(path), prov
        return _read_csv(path)
    except (OSError, ValueError, sqlite3.Error, RuntimeError) as exc:
        if isinstance(exc, DataSourceError):
            raise
        raise DataSourceError(f"cannot read sites from {path}: {exc}") from exc


def read_provenance(path: str | Path) -> dict[str, Any] | None:
    """Return the provenance stored in an output file, or ``None`` (no file, none stored)."""
    path = Path(path)
    fmt = _format_of(path)
    try:
        if fmt == "geojson":
            with path.open("rb") as fh:
                doc = json.load(fh)
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            return meta if isinstance(meta, dict) else None
        if fmt == "gpkg":
            return _gpkg_provenance(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            meta = pq.read_schema(path).metadata or {}
            return json.loads(meta[PARQUET_KEY]) if PARQUET_KEY in meta else None
        return json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, sqlite3.Error, RuntimeError):
        return None


def atomic_write(
    path: Path, write_fn: Callable[[Path], Any], *,
    sidecars: Mapping[Path, Callable[[Path], Any]] | None = None,
) -> Path:
    """Write ``path`` (and sidecar files next to it) atomically.

    Each writer receives a temporary path in a hidden folder created next to ``path`` (same
    file system, so :func:`os.replace` is atomic; a folder rather than ``mkstemp`` because
    GDAL refuses an existing empty file and ``mkstemp`` files are private, mode 0600).
    Sidecars are moved into place first, ``path`` last. On any error the temporary folder
    is removed and a previous output is untouched.

    Raises
    ------
    DataSourceError
        The folder cannot be created or written (names the path and the fix).
    """
    path = Path(path)
    targets = {**(sidecars or {}), path: write_fn}
    if path.is_dir():
        raise DataSourceError(f"{path} is a folder; choose a file name for the output")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = Path(tempfile.mkdtemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as exc:
        raise DataSourceError(
            f"cannot create or write the folder {parent} for {path}: {exc.strerror or exc}; "
            "check its permissions or choose another output path"
        ) from exc
    try:
        tmp_files = {}
        for target, fn in targets.items():
            tmp_files[target] = tmp_dir / target.name
            fn(tmp_files[target])
        for target, tmp in tmp_files.items():
            os.replace(tmp, target)
    except OSError as exc:
        raise DataSourceError(
            f"cannot write {path}: {exc.strerror or exc}; check the folder's permissions and "
            "free space, or choose another output path"
        ) from exc
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return path


# --- checks -------------------------------------------------------------------------------

def _format_of(path: Path) -> str:
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise SettingsError(
            f"cannot tell the format of {path} from its extension; "
            f"use one of {', '.join(sorted(_EXTENSIONS))}"
        )
    return fmt


def check_target(path: str | Path, *, overwrite: bool) -> Path:
    """Refuse an unknown format, or a file geo-rank did not write unless ``overwrite``.

    Called before the long work, so a refused target leaves no file behind.
    """
    path = Path(path)
    _check_overwrite(path, _format_of(path), overwrite=overwrite)
    return path


def _check_overwrite(path: Path, fmt: str, *, overwrite: bool) -> None:
    existing = [p for p in (path, _sidecar(path) if fmt == "csv" else None) if p and p.exists()]
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


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


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


# --- GeoPackage ---------------------------------------------------------------------------

def _write_gpkg(sites: gpd.GeoDataFrame, tmp: Path, prov: dict[str, Any]) -> None:
    import pyogrio

    pyogrio.write_dataframe(sites, tmp, layer=LAYER, driver="GPKG")
    stamp = _gpkg_timestamp(prov.get("generated_at"))
    con = sqlite3.connect(tmp)
    try:
        with con:
            con.execute(
                f"CREATE TABLE {METADATA_TABLE} (fid INTEGER PRIMARY KEY AUTOINCREMENT "
                "NOT NULL, key TEXT NOT NULL UNIQUE, value TEXT NOT NULL)"
            )
            con.executemany(
                f"INSERT INTO {METADATA_TABLE} (key, value) VALUES (?, ?)",
                [(k, _dumps(v)) for k, v in prov.items()],
            )
            con.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                "last_change) VALUES (?, 'attributes', ?, ?, ?)",
                (METADATA_TABLE, METADATA_TABLE, "geo-rank provenance (values are JSON)", stamp),
            )
            con.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
    finally:
        con.close()


def _gpkg_timestamp(generated_at: Any) -> str:
    """``gpkg_contents.last_change`` from ``generated_at`` (fixed, so output is repeatable)."""
    try:
        when = dt.datetime.fromisoformat(str(generated_at)).astimezone(dt.UTC)
    except ValueError:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


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


# --- GeoParquet ---------------------------------------------------------------------------

def _write_parquet(sites: gpd.GeoDataFrame, tmp: Path, prov: dict[str, Any]) -> None:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    sites.to_parquet(buffer, index=False)  # GeoParquet metadata ("geo") from geopandas
    buffer.seek(0)
    table = pq.read_table(buffer)
    meta = {**(table.schema.metadata or {}), PARQUET_KEY: _dumps(prov).encode("utf-8")}
    pq.write_table(table.replace_schema_metadata(meta), tmp)


# --- CSV ----------------------------------------------------------------------------------

def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


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
    return table


def _read_csv(path: Path) -> tuple[gpd.GeoDataFrame, dict[str, Any] | None]:
    header = pd.read_csv(path, nrows=0).columns
    text = {c: str for c in _TEXT_COLUMNS if c in header}
    df = pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""])
    if not {"lat", "lon"} <= set(df.columns):
        raise DataSourceError(f"{path} has no lat and lon columns; add them (WGS84 degrees)")
    lon, lat = df.pop("lon"), df.pop("lat")
    located = lon.notna() & lat.notna()
    geometry = np.where(located, gpd.points_from_xy(lon, lat), None)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geometry, index=df.index), crs=4326)
    sidecar = _sidecar(path)
    prov = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else None
    return gdf, prov
