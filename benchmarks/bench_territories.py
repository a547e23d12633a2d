"""Who serves each site (``geo.territories.tag``) on the sites of a ranking already written.

Run: ``python benchmarks/bench_territories.py RANKING.parquet [--region US] [--repeat 3]
[--out TAGS.parquet]``, where RANKING.parquet is a ``geo-rank rank ... --format parquet``
output (e.g. ``--region US --candidates h3:7 --all-candidates``): its site points and POI
points are tagged again with the region's territories, ``--repeat`` times. Prints the CPU
seconds of each run (user + system of this process) and the wall seconds; ``--out`` writes
the five columns, to compare two versions of the code with ``assert_frame_equal``. A
benchmark, not a test.
"""

from __future__ import annotations

import argparse
import time

import _stack  # benchmarks/ is on sys.path when a benchmark runs as a script
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import layers
from geo import territories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ranking")
    parser.add_argument("--region", default="US")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    _stack.announce()
    ranked = gpd.read_parquet(args.ranking, columns=["geometry", "poi_lon", "poi_lat"])
    sites = gpd.GeoDataFrame(geometry=ranked.geometry.to_crs(4326).to_numpy(), crs=4326)
    lon, lat = ranked["poi_lon"].to_numpy(float), ranked["poi_lat"].to_numpy(float)
    poi = np.where(np.isnan(lon), None, shapely.points(lon, lat)).astype(object)
    terr = layers.load(args.region).territories
    out: dict[str, np.ndarray] = {}
    for run in range(args.repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        out = territories.tag(sites, terr, poi=poi)
        print(f"run {run + 1}: {len(sites):,} sites, tag {time.process_time() - cpu:.2f} CPU s, "
              f"{time.perf_counter() - wall:.2f} s wall")
    if args.out:
        pd.DataFrame(out).to_parquet(args.out)


if __name__ == "__main__":
    main()
