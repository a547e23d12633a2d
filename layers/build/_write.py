"""Deterministic writers for the data build (same input, same bytes)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from layers.atomic import atomic_path


def write_geoparquet(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a GeoParquet file atomically with a stable row order and no pandas index."""
    with atomic_path(path) as tmp:
        gdf.reset_index(drop=True).to_parquet(
            tmp, index=False, compression="zstd", schema_version="1.0.0",
            write_covering_bbox=False,
        )
    return path


def write_text(text: str, path: Path) -> Path:
    """Write UTF-8 text atomically with Unix newlines."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path
