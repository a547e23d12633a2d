"""Build the US gas-basin layer: approximate extents with EIA production where published.

Production: US Energy Information Administration, *Drilling Productivity Report*, April
2024, natural gas gross withdrawals by region, million cubic feet per day (divided by
1,000 here for bcf/d). Basins outside the report's seven regions have no production
figure (null). The outlines are axis-aligned rectangles drawn around each basin's
producing area: ``geometry_source = "approximate extent"``, good for a "gas nearby"
signal, not for field-level work.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

from layers.build._write import write_geoparquet
from layers.schema import validate

SOURCE = "EIA Drilling Productivity Report, April 2024, gross withdrawals (MMcf/d)"

#: field_id, name, gross withdrawals in MMcf/d (None: not in the report),
#: (south, north) latitude, (west, east) longitude.
BASINS: tuple[tuple[str, str, int | None, tuple[float, float], tuple[float, float]], ...] = (
    ("appalachia", "Appalachia (Marcellus/Utica)", 36199, (37.5, 42.5), (-82.0, -75.0)),
    ("permian", "Permian", 25103, (30.5, 34.0), (-104.5, -100.5)),
    ("haynesville", "Haynesville", 16219, (31.3, 33.0), (-95.0, -92.7)),
    ("eagle-ford", "Eagle Ford", 7366, (28.0, 30.3), (-100.0, -96.5)),
    ("anadarko", "Anadarko", 6534, (34.5, 37.0), (-101.0, -97.0)),
    ("niobrara", "Niobrara (DJ Basin)", 5380, (39.5, 41.5), (-105.2, -103.0)),
    ("bakken", "Bakken", 3401, (46.5, 49.0), (-105.0, -101.0)),
    ("powder-river", "Powder River", None, (42.5, 45.5), (-106.8, -104.5)),
    ("barnett", "Barnett", None, (32.0, 33.8), (-98.5, -96.8)),
    ("fayetteville", "Fayetteville", None, (35.0, 36.0), (-93.0, -91.3)),
    ("san-juan", "San Juan", None, (35.8, 37.5), (-108.7, -106.8)),
    ("piceance", "Piceance", None, (38.8, 40.5), (-108.9, -107.2)),
    ("uinta", "Uinta", None, (39.5, 40.8), (-111.0, -109.0)),
    ("greater-green-river", "Greater Green River", None, (41.5, 43.3), (-110.5, -108.5)),
    ("arkoma", "Arkoma", None, (34.3, 35.8), (-96.5, -92.0)),
)


def gas_fields() -> gpd.GeoDataFrame:
    """Return the validated gas-basin layer, sorted by ``field_id``."""
    rows = [
        {
            "field_id": fid,
            "name": name,
            "kind": "basin",
            "production_bcf_per_day": None if mmcfd is None else round(mmcfd / 1000, 3),
            "geometry_source": "approximate extent",
            "geometry": box(west, south, east, north),
        }
        for fid, name, mmcfd, (south, north), (west, east) in BASINS
    ]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf = gdf.sort_values("field_id").reset_index(drop=True)
    return validate(gdf, "gas_fields", SOURCE)


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``us/gas_fields.parquet`` under ``out``.

    Parameters
    ----------
    cache
        Folder of the fetched package archives (unused: the basins are tabulated here).
    out
        The data folder (the repository's ``data/``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    return [write_geoparquet(gas_fields(), out / "us" / "gas_fields.parquet")]
