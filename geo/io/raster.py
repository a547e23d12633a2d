"""A surface (H3 cells) as a Cloud-Optimised GeoTIFF, for GIS (``--format tif``).

Three float32 bands, each with its description and unit:

=================== ======= ==================================================================
band                unit    value of the cell
=================== ======= ==================================================================
rank_percentile     percent 100 for the best-ranked cell, 0 for the worst:
                            100 * (N - rank) / (N - 1) over the N cells of the file
time_to_power_months month  ``time_to_power_months``
firm_mw             MW      ``firm_mw`` (N-1 firm hosting at the cell's POI)
=================== ======= ==================================================================

Nodata is :data:`NODATA` where there is no cell, and where a cell has no value.

Grid. An equal-area CRS, so every pixel is the same area on the ground: EPSG:5070 (NAD83 /
Conus Albers, the USGS/NLCD grid) when every cell lies in its area of use (the contiguous
US), else a Lambert azimuthal equal-area projection centred on the cells' extent (centre
rounded to 0.01 degree; :func:`crs_for`). The pixel size is the mean edge length of the H3
resolution (``h3.average_hexagon_edge_length``, rounded to the metre: 1,406 m at res 7), so
a hexagon covers about 2.6 pixels and its inscribed circle always holds a pixel centre; the
grid's origin is a multiple of the pixel size, so surfaces of one resolution align.

Each pixel takes the cell whose centre is nearest to the pixel's centre (H3 cells are the
Voronoi cells of their centres, up to the projection's small distortion), when that centre
is within the cell's circumradius (its nearest-neighbour spacing / sqrt(3), plus 5 %);
farther pixels are nodata. The pixel at each cell's centre always holds that cell. Pixels
are computed one block row at a time (bounded memory), written to a tiled scratch GeoTIFF
and copied by GDAL's COG driver (tiles of 512, DEFLATE, nearest-neighbour overviews); with a
GDAL older than 3.1 (no COG driver), the GeoTIFF driver with ``COPY_SRC_OVERVIEWS``.

Provenance: the dataset tag ``GEO_RANK_PROVENANCE`` holds the provenance as JSON, without
``generated_at`` (the file is byte-identical for identical cells and provenance), with
``bands`` describing the three bands; ``TIFFTAG_SOFTWARE`` names the geo-rank version.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import SettingsError
from geo.io.output import compact_json

log = logging.getLogger(__name__)

NODATA = -9999.0
#: (band name, unit, description), in band order.
BANDS = (
    ("rank_percentile", "percent",
     "100 = best-ranked cell, 0 = worst: 100 * (N - rank) / (N - 1) over the N cells"),
    ("time_to_power_months", "month", "Months to power (time_to_power_months)"),
    ("firm_mw", "MW", "N-1 firm hosting at the cell's point of interconnection (firm_mw)"),
)
#: The dataset tag holding the provenance (JSON).
PROVENANCE_TAG = "GEO_RANK_PROVENANCE"
BLOCK = 512
US_CRS = "EPSG:5070"
_ERROR = ("--format tif writes a raster of an H3 surface, and {why}; rank H3 cells with "
          "--candidates h3:<res> (e.g. h3:6), or write these sites with --format gpkg, "
          "parquet, geojson or csv")


def check_candidates(candidates: str) -> None:
    """Refuse ``--format tif`` for candidates that are not H3 cells (before any work)."""
    if not candidates.strip().lower().startswith("h3:"):
        raise SettingsError(_ERROR.format(why=f"--candidates {candidates} are not H3 cells"))


def h3_resolution(sites: pd.DataFrame) -> int:
    """The one H3 resolution of ``sites`` (H3 candidates); else a SettingsError naming the flag."""
    import h3

    if len(sites) == 0:
        raise SettingsError(_ERROR.format(why="there are no sites"))
    kind = sites.get("candidate_kind")
    if kind is None or not bool((kind == "h3").all()) or "site_id" not in sites.columns:
        kinds = sorted(set(kind.astype(str))) if kind is not None else ["unknown"]
        raise SettingsError(_ERROR.format(why=f"these sites are {'/'.join(kinds)} candidates"))
    ids = sites["site_id"].astype(str)
    res = {h3.get_resolution(c) for c in ids.iloc[[0, -1]]}
    if len(res) != 1 or not all(h3.is_valid_cell(c) for c in ids.iloc[[0, -1]]):
        raise SettingsError(_ERROR.format(why="the site ids are not H3 cells of one resolution"))
    return res.pop()


def crs_for(lon: np.ndarray, lat: np.ndarray) -> str:
    """EPSG:5070 when every point is in its area of use, else a LAEA centred on the extent.

    >>> crs_for(np.array([-100.0]), np.array([40.0]))
    'EPSG:5070'
    >>> crs_for(np.array([5.0, 11.0]), np.array([58.0, 70.0]))
    '+proj=laea +lat_0=64 +lon_0=8 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs'
    """
    from pyproj import CRS

    area = CRS(US_CRS).area_of_use
    assert area is not None  # an EPSG CRS has its area of use
    west, south, east, north = area.bounds
    if (lon.min() >= west and lon.max() <= east and lat.min() >= south
            and lat.max() <= north):
        return US_CRS
    lat0 = round((float(lat.min()) + float(lat.max())) / 2, 2) + 0.0
    lon0 = round((float(lon.min()) + float(lon.max())) / 2, 2) + 0.0
    return (f"+proj=laea +lat_0={lat0:g} +lon_0={lon0:g} +x_0=0 +y_0=0 +datum=WGS84 "
            "+units=m +no_defs")


def _values(sites: pd.DataFrame) -> np.ndarray:
    """The band values per cell, shape (3, n), float32 with NODATA for missing values."""
    n = len(sites)
    rank = pd.to_numeric(sites["rank"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    pct = np.full(n, 100.0) if n == 1 else 100.0 * (n - rank) / (n - 1)

    def column(name: str) -> np.ndarray:
        if name not in sites.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(sites[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    out = np.vstack([pct, column("time_to_power_months"), column("firm_mw")])
    return np.where(np.isfinite(out), out, NODATA).astype(np.float32)


def write(sites: gpd.GeoDataFrame, tmp: Path, prov: dict[str, Any]) -> None:
    """Write the surface ``sites`` (EPSG:4326 points at H3 cell centres) to ``tmp``."""
    import h3
    import rasterio
    from affine import Affine
    from pyproj import Transformer
    from rasterio.shutil import copy as rio_copy
    from rasterio.windows import Window
    from scipy.spatial import cKDTree

    if "rank" not in sites.columns:
        raise SettingsError(_ERROR.format(why="the sites are not ranked (no rank column)"))
    res = h3_resolution(sites)
    lon, lat = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    crs = crs_for(lon, lat)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    centres = np.column_stack([x, y])
    edge = float(h3.average_hexagon_edge_length(res, unit="m"))
    px = float(max(1, round(edge)))
    tree = cKDTree(centres)
    if len(sites) > 1:
        spacing = tree.query(centres, k=2)[0][:, 1]
        radius = np.where(spacing < 3 * edge, spacing / math.sqrt(3), edge) * 1.05
    else:
        radius = np.array([edge * 1.05])
    reach = float(radius.max())
    west = math.floor((x.min() - reach) / px) * px
    east = math.ceil((x.max() + reach) / px) * px
    south = math.floor((y.min() - reach) / px) * px
    north = math.ceil((y.max() + reach) / px) * px
    width, height = round((east - west) / px), round((north - south) / px)
    transform = Affine(px, 0.0, west, 0.0, -px, north)
    values = _values(sites)
    # the pixel at each cell's centre holds that cell
    col_c = np.floor((x - west) / px).astype(np.int64)
    row_c = np.floor((north - y) / px).astype(np.int64)
    tags = {**{k: v for k, v in prov.items() if k != "generated_at"},
            "sites_written": len(sites),  # every cell, whatever --top
            "h3_resolution": res, "cells": len(sites), "pixel_size_m": px, "crs": crs,
            "bands": [{"band": i + 1, "name": b[0], "unit": b[1], "description": b[2]}
                      for i, b in enumerate(BANDS)]}
    profile = {"driver": "GTiff", "width": width, "height": height, "count": len(BANDS),
               "dtype": "float32", "crs": crs, "transform": transform, "nodata": NODATA,
               "tiled": True, "blockxsize": BLOCK, "blockysize": BLOCK, "compress": "deflate"}
    scratch = tmp.with_name(tmp.name + ".scratch.tif")
    try:
        with rasterio.open(scratch, "w", **profile) as dst:
            xs = west + (np.arange(width) + 0.5) * px
            for top in range(0, height, BLOCK):
                rows = min(BLOCK, height - top)
                ys = north - (np.arange(top, top + rows) + 0.5) * px
                gx, gy = np.meshgrid(xs, ys)
                dist, idx = tree.query(np.column_stack([gx.ravel(), gy.ravel()]), k=1,
                                       distance_upper_bound=reach, workers=-1)
                idx = idx.reshape(rows, width)
                inside = np.isfinite(dist.reshape(rows, width))
                safe = np.where(inside, idx, 0)
                inside &= dist.reshape(rows, width) <= radius[safe]
                mine = (row_c >= top) & (row_c < top + rows)
                safe[row_c[mine] - top, col_c[mine]] = np.flatnonzero(mine)
                inside[row_c[mine] - top, col_c[mine]] = True
                block = np.where(inside[None], values[:, safe], np.float32(NODATA))
                dst.write(block.astype(np.float32), window=Window(0, top, width, rows))
            dst.descriptions = tuple(b[0] for b in BANDS)
            dst.units = tuple(b[1] for b in BANDS)
            for i, (_, _, text) in enumerate(BANDS, start=1):
                dst.update_tags(i, description=text)
            dst.update_tags(TIFFTAG_SOFTWARE=f"geo-rank {prov.get('version', '?')}",
                            **{PROVENANCE_TAG: compact_json(tags)})
        options = {"compress": "deflate", "predictor": "yes", "blocksize": BLOCK,
                   "overview_resampling": "nearest"}
        if _has_cog():
            rio_copy(scratch, tmp, driver="COG", **options)
        else:  # GDAL < 3.1: the classic recipe (overviews first, then copied in order)
            with rasterio.open(scratch, "r+") as src:
                src.build_overviews(_factors(width, height),
                                    rasterio.enums.Resampling.nearest)
            rio_copy(scratch, tmp, driver="GTiff", tiled=True, blockxsize=BLOCK,
                     blockysize=BLOCK, compress="deflate", predictor=3,
                     copy_src_overviews=True)
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink()
    log.info("wrote %d H3 res-%d cells as a %d x %d GeoTIFF (%s, %g m pixels)", len(sites),
             res, width, height, crs, px)


def _has_cog() -> bool:
    import rasterio

    with rasterio.Env() as env:
        return "COG" in env.drivers()


def _factors(width: int, height: int) -> list[int]:
    """Overview factors 2, 4, ... until the overview fits one block."""
    out, f = [], 2
    while max(width, height) / f >= BLOCK / 2:
        out.append(f)
        f *= 2
    return out or [2]


def read_provenance(path: Path) -> dict[str, Any] | None:
    """The provenance in a GeoTIFF written by :func:`write` (None if it has none)."""
    import rasterio

    with rasterio.open(path) as src:
        text = src.tags().get(PROVENANCE_TAG)
    if not text:
        return None
    doc = json.loads(text)
    return doc if isinstance(doc, dict) else None
