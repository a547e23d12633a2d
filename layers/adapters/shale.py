"""EIA Tight Oil and Shale Gas Plays (``ShalePlays_US_EIA_Dec2021.shp``) as gas fields.

``field_id`` is ``<Basin>/<Shale_play>`` (with a ``#n`` suffix when a play has several
records), ``name`` the play, ``kind`` ``play``, and ``basin``, ``lithology`` and
``area_sq_mi`` are kept. Production is not in this layer (``production_bcf_per_day`` null).
Invalid rings are repaired with ``make_valid`` and counted.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

FIELDS = {"SHALE_PLAY", "BASIN"}


def gas_fields(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Canonical gas fields from the EIA shale plays layer."""
    cols = {str(c).upper(): c for c in gdf.columns}

    def col(name: str) -> pd.Series:
        return gdf[cols[name]] if name in cols else pd.Series([None] * len(gdf), index=gdf.index)

    play = col("SHALE_PLAY").astype(str).str.strip()
    basin = col("BASIN").astype(str).str.strip()
    fid = basin + "/" + play
    n = fid.groupby(fid).cumcount()
    fid = fid.where(n == 0, fid + "#" + (n + 1).astype(str))
    geom = gdf.geometry
    invalid = ~geom.is_valid
    if invalid.any():
        geom = geom.where(~invalid, geom[invalid].make_valid())
    out = gpd.GeoDataFrame({
        "field_id": fid, "name": play, "kind": "play", "basin": basin,
        "lithology": col("LITHOLOGY"), "area_sq_mi": pd.to_numeric(col("AREA_SQ_MI"),
                                                                    errors="coerce"),
        "geometry_source": "EIA shale play outline",
    }, geometry=geom.to_numpy(), crs=gdf.crs)
    return out, {"plays": len(out), "repaired_geometries": int(invalid.sum())}
