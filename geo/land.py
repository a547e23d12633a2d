"""Land price at each site, from a raster (GeoTIFF, any CRS) or from price polygons."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo._arrays import NONE, text_form
from geo.errors import DataSourceError, LayerValidationError
from geo.grid import serving
from geo.outlines import contained
from layers import adapters

log = logging.getLogger(__name__)

#: Square metres per acre / per hectare; prices per hectare convert with their ratio.
ACRE_M2 = 4046.8564224
HECTARE_M2 = 10_000.0
UNITS = {"usd_per_acre": 1.0, "usd_per_hectare": ACRE_M2 / HECTARE_M2}
#: How rasters name their unit in a ``units`` tag (band or dataset), lower-cased.
_UNIT_TAGS = {
    "usd_per_acre": ("usd_per_acre", "usd/acre", "usd per acre", "$/acre", "usd/ac"),
    "usd_per_hectare": ("usd_per_hectare", "usd/ha", "usd per hectare", "$/ha", "usd/hectare"),
}


def raster_unit(ds: Any, unit: str | None, path: str | Path) -> str:
    """The unit of a land-price raster: ``unit`` when given, else its ``units`` tag.

    Raises
    ------
    LayerValidationError
        When neither says it: a price per acre read as per hectare is 2.5 times off.
    """
    if unit is not None:
        if unit not in UNITS:
            raise LayerValidationError(f"--land-unit {unit!r}: use one of {', '.join(UNITS)}")
        return unit
    tag = (ds.tags(1).get("units") or ds.tags().get("units") or "").strip().lower()
    for name, spellings in _UNIT_TAGS.items():
        if tag in spellings:
            return name
    said = f" (its units tag says {tag!r})" if tag else ""
    raise LayerValidationError(
        f"{path}: the raster does not say its price unit{said}; pass --land-unit "
        "usd_per_acre or --land-unit usd_per_hectare")

#: A raster up to this many cells is read whole; a larger one block by block.
_WHOLE_READ_CELLS = 50_000_000


def sample_raster(path: str | Path, lon: np.ndarray, lat: np.ndarray,
                  unit: str | None = None) -> np.ndarray:
    """Price in USD per acre at each lon/lat; NaN outside the raster or on nodata.

    Only the blocks that hold a point are read, so a national raster never loads whole.
    """
    import rasterio
    from pyproj import Transformer
    from rasterio.windows import Window

    path = Path(path)
    if not path.exists():
        raise DataSourceError(f"--land-prices {path}: no such file; check the path")
    try:
        ds = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError and others
        raise DataSourceError(f"{path}: not a readable raster ({exc}); give a single-band "
                              "GeoTIFF of prices, or price polygons") from None
    with ds:
        if ds.crs is None:
            raise LayerValidationError(f"{path}: raster has no CRS; assign one (gdal_edit -a_srs)")
        if ds.nodata is None:
            raise LayerValidationError(
                f"{path}: raster has no nodata value; set one (gdal_edit -a_nodata -9999) so "
                "cells outside the priced area are not read as prices")
        unit = raster_unit(ds, unit, path)
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


def sample_polygons(prices: gpd.GeoDataFrame, points: gpd.GeoSeries,
                    tree: serving.Squares | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Price and year of the polygon containing each point (NaN where none does).

    The first containing polygon, as ``geopandas.sjoin(predicate="within")`` keeps it
    (:func:`geo.outlines.contained`); ``tree``: :func:`geo.outlines.points_tree` of the
    same points, when the caller has it."""
    which = contained(points, prices, tree)
    # na_value: pandas before 2.2 refuses to turn a nullable Int64 column with NA into floats
    price = np.r_[prices["price_usd_per_acre"].to_numpy(dtype=float, na_value=np.nan), np.nan]
    year = np.r_[pd.to_numeric(prices["year"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan), np.nan]
    return price[which], year[which]  # -1 (no polygon): the NaN at the end


def land_price(sites: gpd.GeoDataFrame, prices: gpd.GeoDataFrame | None,
               raster: Path | None, user: str | Path | None = None,
               unit: str | None = None, label: str = "area average",
               price_column: str | None = None,
               tree: serving.Squares | None = None) -> pd.DataFrame:
    """``land_price_usd_per_acre`` and ``land_price_note`` for each site.

    A user file (``--land-prices``) wins: a GeoTIFF is sampled, anything else is read as
    price polygons (``price_column`` in ``unit``, default ``price_usd_per_acre``).
    Otherwise the layer's polygons are used, or its raster when it has no polygons.
    ``tree``: :func:`geo.outlines.points_tree` of the sites, when the caller has it.
    """
    index = sites.index
    if user is not None:
        user = Path(user)
        if user.suffix.lower() in (".tif", ".tiff", ".vrt"):
            lonlat = np.column_stack([sites.geometry.x, sites.geometry.y])
            price = sample_raster(user, lonlat[:, 0], lonlat[:, 1], unit)
            note = np.where(np.isnan(price), NONE, f"raster {user.name}")
            return pd.DataFrame({"land_price_usd_per_acre": price,
                                 "land_price_note": note}, index=index)
        column_map = None
        if price_column:
            canonical = "price_usd_per_hectare" if unit == "usd_per_hectare" else \
                "price_usd_per_acre"
            column_map = {canonical: price_column}
        prices = adapters.read(user, "land_prices", "generic", column_map)
        label = f"{user.name} average"
    if prices is None or len(prices) == 0:
        if raster is None:
            return pd.DataFrame({"land_price_usd_per_acre": np.nan, "land_price_note": None},
                                index=index)
        return land_price(sites, None, None, raster, unit)
    price, year = sample_polygons(prices, sites.geometry, tree)
    known, inverse = np.unique(year, return_inverse=True)  # a few vintages: format each once
    text = np.array([label + ("" if np.isnan(y) else f", {int(y)}") for y in known.tolist()],
                    dtype=object)
    labels = text[inverse.reshape(-1)] if len(year) else np.array([], dtype=object)
    note = np.where(np.isnan(price), NONE, labels)
    return pd.DataFrame({"land_price_usd_per_acre": price, "land_price_note": text_form(note)},
                        index=index)
