"""Write the tiny EIA shale plays fixture as a shapefile (``shale/ShalePlays_US_EIA_Dec2021``).

Three plays in the EIA layout (``Shale_play``, ``Basin``, ``Lithology``, ``Area_sq_mi``) in
NAD83 (EPSG:4269) like the EIA download; rough outlines, not the real extents. The third
outline is a self-intersecting "bow tie" to exercise the repair. Run
``python tests/data/make_shale.py`` to rewrite.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import Polygon

HERE = Path(__file__).resolve().parent / "shale"


def main() -> None:
    HERE.mkdir(exist_ok=True)
    gdf = gpd.GeoDataFrame(
        {"Shale_play": ["Wolfcamp", "Marcellus", "Niobrara"],
         "Basin": ["Permian", "Appalachian", "Denver-Julesburg"],
         "Lithology": ["Shale", "Shale", "Marl"],
         "Area_sq_mi": [26000.0, 95000.0, 11000.0]},
        geometry=[
            Polygon([(-104.0, 31.0), (-101.5, 31.0), (-101.5, 33.0), (-104.0, 33.0)]),
            Polygon([(-81.5, 39.0), (-75.0, 41.0), (-76.0, 42.5), (-80.5, 42.0)]),
            Polygon([(-105.0, 40.0), (-103.0, 41.5), (-103.0, 40.0), (-105.0, 41.5)]),
        ],
        crs="EPSG:4269",
    )
    gdf.to_file(HERE / "ShalePlays_US_EIA_Dec2021.shp", driver="ESRI Shapefile")


if __name__ == "__main__":
    main()
