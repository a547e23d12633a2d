"""Output files: the formats geo-rank writes, where each keeps its provenance, and one
atomic way to write them (:func:`layers.atomic.atomic_path`) with one-line errors."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from geo.errors import DataSourceError, SettingsError
from layers.atomic import atomic_path

#: Output formats and their file extension ("tif": a raster of an H3 surface, geo.io.raster).
FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "parquet": ".parquet", "csv": ".csv",
           "tif": ".tif"}
EXTENSIONS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg",
              ".parquet": "parquet", ".csv": "csv", ".tif": "tif", ".tiff": "tif"}
#: The sites layer of a GeoPackage, and its provenance table.
LAYER = "sites"
METADATA_TABLE = "metadata"
#: GeoParquet file-metadata key of the provenance.
PARQUET_KEY = b"geo_rank"
#: A CSV's provenance lives in ``<name>.csv.provenance.json``.
SIDECAR_SUFFIX = ".provenance.json"


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV
#: Injection": =, +, -, @, tab, carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert by a leading single
    quote (the OWASP rule); anything else, numbers included, unchanged.

    >>> print(neutralise('=HYPERLINK("http://x","y")'), neutralise("-5"), neutralise(-5.0))
    '=HYPERLINK("http://x","y") '-5 -5.0
    >>> neutralise("SANTA FE 6")
    'SANTA FE 6'
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_text_columns(table: Any) -> Any:
    """A copy of a pandas DataFrame for a CSV: its text cells pass through
    :func:`neutralise`, and a carriage return inside one becomes a line feed (CSV writers
    quote a cell with a line feed, not one with a bare CR, which would split the row).
    Columns of numbers, booleans and dates are left as they are."""
    import pandas as pd

    out = table.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(
                series.dtype):
            risky = series.map(lambda v: isinstance(v, str)
                               and (v.startswith(FORMULA_STARTS) or "\r" in v))
            if risky.any():
                fixed = series[risky].map(
                    lambda v: neutralise(v).replace("\r\n", "\n").replace("\r", "\n"))
                values = series.astype(object).copy()
                values[risky] = fixed
                out[col] = values
    return out


def format_of(path: Path) -> str:
    """The output format named by a file's extension (SettingsError for any other)."""
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise SettingsError(
            f"cannot tell the format of {path} from its extension; "
            f"use one of {', '.join(sorted(EXTENSIONS))}"
        )
    return fmt


def sidecar(path: Path) -> Path:
    """The provenance sidecar of a CSV output."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """:func:`layers.atomic.atomic_path` for an output the user named.

    The temporary file keeps the output's extension (GDAL picks drivers by it). An
    :class:`OSError` (no such folder, no permission, disk full) becomes one
    :class:`~geo.errors.DataSourceError` line naming the path and the fix; the previous
    output is untouched and no temporary file is left behind.
    """
    path = Path(path)
    if path.is_dir():
        raise DataSourceError(f"{path} is a folder; choose a file name for the output")
    try:
        with atomic_path(path, suffix=path.suffix or ".tmp") as tmp:
            yield tmp
    except DataSourceError:
        raise
    except OSError as exc:
        raise DataSourceError(
            f"cannot write {path}: {exc.strerror or exc}; check the folder's permissions and "
            "free space, or choose another output path"
        ) from exc


def compact_json(obj: Any) -> str:
    """JSON text as written into outputs: UTF-8 characters, no NaN, no spaces."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
