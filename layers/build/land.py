"""Build the US land-price layer: state polygons and a 0.05 degree raster, USD per acre.

Values: USDA National Agricultural Statistics Service, *Land Values 2025 Summary*
(August 2025), average farm real estate value (land and buildings) per acre, by state.
The District of Columbia is not in the report; it is estimated as the mean of its
neighbours Maryland and Virginia and flagged ``price_source="estimated"``.

The polygons are those of ``us/subdivisions.parquet`` (written by
:mod:`layers.build.boundaries`, so run that first).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.transform import from_origin

from layers.atomic import atomic_path
from layers.build._write import write_geoparquet
from layers.errors import DataSourceError
from layers.schema import validate

SOURCE = (
    "USDA NASS, Land Values 2025 Summary (August 2025), "
    "average farm real estate value, USD per acre"
)
YEAR = 2025

#: USPS code -> USD per acre, USDA NASS Land Values 2025 Summary (US average 4,350).
PRICES_USD_PER_ACRE = {
    "AL": 4150, "AZ": 4180, "AR": 4250, "CA": 13700, "CO": 2290, "CT": 14400,
    "DE": 9550, "FL": 8700, "GA": 4720, "ID": 4580, "IL": 8930, "IN": 8850,
    "IA": 9790, "KS": 3100, "KY": 5480, "LA": 3850, "ME": 3350, "MD": 9750,
    "MA": 14900, "MI": 6800, "MN": 6790, "MS": 3580, "MO": 5000, "MT": 1230,
    "NE": 4250, "NV": 1200, "NH": 6500, "NJ": 16600, "NM": 725, "NY": 4300,
    "NC": 5470, "ND": 2360, "OH": 9350, "OK": 2540, "OR": 3780, "PA": 8490,
    "RI": 22500, "SC": 4740, "SD": 2970, "TN": 6150, "TX": 2970, "UT": 3500,
    "VT": 4400, "VA": 6100, "WA": 3710, "WV": 3520, "WI": 6420, "WY": 1000,
}
#: Not in the report: USPS code -> (value, how it was estimated).
ESTIMATED_USD_PER_ACRE = {
    "DC": ((PRICES_USD_PER_ACRE["MD"] + PRICES_USD_PER_ACRE["VA"]) / 2,
           "mean of neighbours MD and VA"),
}

#: Raster grid: 0.05 degree cells over the contiguous US, EPSG:4326.
CELL_DEG = 0.05
WEST, EAST, SOUTH, NORTH = -125.0, -66.5, 24.0, 49.5
NODATA = -9999.0


def land_prices(subdivisions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the validated land-price layer for the 48 contiguous states and DC."""
    table = {f"US-{k}": (float(v), "observed") for k, v in PRICES_USD_PER_ACRE.items()}
    table |= {f"US-{k}": (float(v), "estimated") for k, (v, _) in ESTIMATED_USD_PER_ACRE.items()}
    missing = sorted(set(table) - set(subdivisions["code"]))
    if missing:
        raise DataSourceError(f"subdivisions.parquet lacks {', '.join(missing)}")
    gdf = subdivisions[subdivisions["code"].isin(table)].copy()
    gdf = gdf.rename(columns={"code": "region_id"})
    gdf["price_usd_per_acre"] = [table[c][0] for c in gdf["region_id"]]
    gdf["year"] = YEAR
    gdf["price_source"] = [table[c][1] for c in gdf["region_id"]]
    gdf = gdf.sort_values("region_id").reset_index(drop=True)
    cols = ["region_id", "name", "price_usd_per_acre", "year", "price_source", "geometry"]
    return validate(gdf[cols], "land_prices", "land_prices")


def write_raster(prices: gpd.GeoDataFrame, path: Path) -> Path:
    """Rasterize the state prices onto the 0.05 degree grid and write a GeoTIFF atomically."""
    minx, miny, maxx, maxy = prices.total_bounds
    if minx < WEST or maxx > EAST or miny < SOUTH or maxy > NORTH:
        raise DataSourceError(
            f"land prices extend beyond the raster grid ({prices.total_bounds}); widen it"
        )
    width = round((EAST - WEST) / CELL_DEG)
    height = round((NORTH - SOUTH) / CELL_DEG)
    transform = from_origin(WEST, NORTH, CELL_DEG, CELL_DEG)
    shapes = zip(prices.geometry, prices["price_usd_per_acre"], strict=True)
    band = rasterize(shapes, out_shape=(height, width), transform=transform, fill=NODATA,
                     all_touched=False, dtype="float32")
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32",
        "crs": "EPSG:4326", "transform": transform, "nodata": NODATA,
        "compress": "deflate", "tiled": True, "blockxsize": 256, "blockysize": 256,
    }
    # No TIFFTAG_DATETIME and no .aux.xml: the same prices give the same bytes.
    with atomic_path(path) as tmp, rasterio.Env(GDAL_PAM_ENABLED="NO"), \
            rasterio.open(tmp, "w", **profile) as dst:
        dst.write(band.astype(np.float32), 1)
        dst.update_tags(1, units="USD/acre", year=str(YEAR), source=SOURCE)
    return path


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``us/land_prices.parquet`` and ``us/land_prices.tif`` under ``out``.

    Parameters
    ----------
    cache
        Folder of the fetched package archives (unused: the values are tabulated here and
        the polygons come from ``out/us/subdivisions.parquet``).
    out
        The data folder (the repository's ``data/``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    source = out / "us" / "subdivisions.parquet"
    if not source.is_file():
        raise DataSourceError(f"{source} is missing; build layers.build.boundaries first")
    prices = land_prices(gpd.read_parquet(source))
    return [
        write_geoparquet(prices, out / "us" / "land_prices.parquet"),
        write_raster(prices, out / "us" / "land_prices.tif"),
    ]
