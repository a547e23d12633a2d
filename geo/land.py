"""Land price at each site, from a raster (GeoTIFF, any CRS) or from price polygons."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataSourceError, LayerValidationError
from layers import read_layer

log = logging.getLogger(__name__)

#: Square metres per acre / per hectare; prices per hectare convert with their ratio.
ACRE_M2 = 4046.8564224
HECTARE_M2 = 10_000.0
UNITS = {"usd_per_acre": 1.0, "usd_per_hectare": ACRE_M2 / HECTARE_M2}

#: A raster up to this many cells is read whole; a larger one block by block.
_WHOLE_READ_CELLS = 50_000_000


def sample_raster(path: str | Path, lon: np.ndarray, lat: np.ndarray,
                  unit: str = "usd_per_acre") -> np.ndarray:
    """Price in USD per acre at each lon/lat; NaN outside the raster or on nodata.

    Only the blocks that hold a point are read, so a national raster never loads whole.
    """
    import rasterio
    from pyproj import Transformer
    from rasterio.windows import Window

    if unit not in UNITS:
        raise LayerValidationError(f"land price unit {unit!r}: use one of {', '.join(UNITS)}")
    path = Path(path)
    try:
        ds = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError and others
        raise DataSourceError(f"{path}: not a readable raster ({exc})") from None
    with ds:
        if ds.crs is None:
            raise LayerValidationError(f"{path}: raster has no CRS; assign one (gdal_edit -a_srs)")
        if ds.nodata is None:
            raise LayerValidationError(
                f"{path}: raster has no nodata value; set one (gdal_edit -a_nodata -9999) so "
                "cells outside the priced area are not read as prices")
        xs, ys = Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True).transform(
            np.asarray(lon, float), np.asarray(lat, float))
        inv = ~ds.transform
        xs, ys = np.asarray(xs), np.asarray(ys)
        with np.errstate(invalid="ignore"):
            cols = np.floor(inv.a * xs + inv.b * ys + inv.c)
            rows = np.floor(inv.d * xs + inv.e * ys + inv.f)
        finite = np.isfinite(rows) & np.isfinite(cols)
        rows = np.where(finite, rows, -1).astype(np.int64)
        cols = np.where(finite, cols, -1).astype(np.int64)
        inside = (rows >= 0) & (rows < ds.height) & (cols >= 0) & (cols < ds.width)
        out = np.full(len(rows), np.nan)
        if not inside.any():
            return out
        r, c = rows[inside], cols[inside]
        vals = np.full(len(r), np.nan)
        if ds.width * ds.height <= _WHOLE_READ_CELLS:
            band = ds.read(1)
            vals = band[r, c].astype(float)
        else:
            bh, bw = ds.block_shapes[0]
            block = (r // bh) * ((ds.width + bw - 1) // bw) + (c // bw)
            for b in np.unique(block):
                sel = block == b
                r0 = (r[sel][0] // bh) * bh
                c0 = (c[sel][0] // bw) * bw
                win = Window(c0, r0, min(bw, ds.width - c0), min(bh, ds.height - r0))
                data = ds.read(1, window=win)
                vals[sel] = data[r[sel] - r0, c[sel] - c0]
        vals[vals == ds.nodata] = np.nan
        out[inside] = vals
    return out * UNITS[unit]


def sample_polygons(prices: gpd.GeoDataFrame, points: gpd.GeoSeries) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Price and year of the polygon containing each point (NaN where none does)."""
    pts = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=points.crs)
    hit = gpd.sjoin(pts, prices[["price_usd_per_acre", "year", "geometry"]],
                    how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    return (hit["price_usd_per_acre"].to_numpy(dtype=float),
            pd.to_numeric(hit["year"], errors="coerce").to_numpy(dtype=float))


def land_price(sites: gpd.GeoDataFrame, prices: gpd.GeoDataFrame | None,
               raster: Path | None, user: str | Path | None = None,
               unit: str = "usd_per_acre", label: str = "area average") -> pd.DataFrame:
    """``land_price_usd_per_acre`` and ``land_price_note`` for each site.

    A user file (``--land-prices``) wins: a GeoTIFF is sampled, anything else is read as
    price polygons. Otherwise the embedded polygons (state averages) are used.
    """
    index = sites.index
    if user is not None:
        user = Path(user)
        if user.suffix.lower() in (".tif", ".tiff", ".vrt"):
            lonlat = np.column_stack([sites.geometry.x, sites.geometry.y])
            price = sample_raster(user, lonlat[:, 0], lonlat[:, 1], unit)
            note = np.where(np.isnan(price), None, f"raster {user.name}")
            return pd.DataFrame({"land_price_usd_per_acre": price,
                                 "land_price_note": note}, index=index)
        prices = read_layer(user, "land_prices")
        label = f"{user.name} average"
    if prices is None:
        if raster is None:
            return pd.DataFrame({"land_price_usd_per_acre": np.nan, "land_price_note": None},
                                index=index)
        return land_price(sites, None, None, raster, unit)
    price, year = sample_polygons(prices, sites.geometry)
    years = pd.Series(year).map(lambda y: "" if np.isnan(y) else f", {int(y)}")
    note = np.where(np.isnan(price), None, label + years.to_numpy(dtype=object))
    return pd.DataFrame({"land_price_usd_per_acre": price, "land_price_note": note}, index=index)
