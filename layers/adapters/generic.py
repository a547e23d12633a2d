"""Generic files (GeoJSON, GeoPackage, GeoParquet, shapefile, CSV with lat/lon).

Columns named like the canonical ones are used as they are; others are mapped with
``column_map`` (``{"voltage_kv": "KV_MAX"}``, the CLI's ``--map-column voltage_kv=KV_MAX``).
For land prices, a price per hectare can be mapped to ``price_usd_per_hectare``: it is
converted to ``price_usd_per_acre``; a missing ``region_id`` is numbered.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from layers.errors import LayerValidationError

#: Square metres per acre and per hectare.
ACRE_M2, HECTARE_M2 = 4046.8564224, 10_000.0


def apply_map(gdf: gpd.GeoDataFrame, column_map: dict[str, str] | None) -> gpd.GeoDataFrame:
    """Rename source columns to canonical names; an unknown source column is an error."""
    if not column_map:
        return gdf
    missing = [src for src in column_map.values() if src not in gdf.columns]
    if missing:
        raise LayerValidationError(
            f"--map-column: column(s) {', '.join(missing)} not in the file; columns found: "
            f"{', '.join(str(c) for c in gdf.columns if c != 'geometry')}")
    clash = [c for c in column_map if c in gdf.columns and c not in column_map.values()]
    gdf = gdf.drop(columns=clash)
    return gdf.rename(columns={src: canon for canon, src in column_map.items()})


def convert(gdf: gpd.GeoDataFrame, kind: str) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The file as a ``kind`` layer (columns already mapped)."""
    report: dict[str, Any] = {}
    if kind == "land_prices":
        if "price_usd_per_acre" not in gdf and "price_usd_per_hectare" in gdf:
            gdf = gdf.assign(price_usd_per_acre=gdf["price_usd_per_hectare"].astype(float)
                             * ACRE_M2 / HECTARE_M2)
            report["converted_from"] = "usd_per_hectare"
        if "region_id" not in gdf:
            gdf = gdf.assign(region_id=[f"area-{i + 1}" for i in range(len(gdf))])
    if kind == "substations" and "voltage_kv" in gdf and "voltage_source" not in gdf:
        gdf = gdf.assign(voltage_source=gdf["voltage_kv"].notna().map(
            {True: "observed", False: None}))
    return gdf, report
