"""Deterministic writers for the data build (same input, same bytes)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd


def write_geoparquet(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a GeoParquet file atomically with a stable row order and no pandas index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        gdf.reset_index(drop=True).to_parquet(
            tmp, index=False, compression="zstd", schema_version="1.0.0",
            write_covering_bbox=False,
        )
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_text(text: str, path: Path) -> Path:
    """Write UTF-8 text atomically with Unix newlines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path
