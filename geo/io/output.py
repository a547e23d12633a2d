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
