"""Scale: cells, seconds and peak memory of ``geo-rank --candidates h3:<res>``.

Run: ``python benchmarks/bench_scale.py [--cache-dir DIR] [--res 5 6 7] [--dask-res 5 6]
[--state US-RI --state-res 8] [--sample 2000]``.

Every configuration is a fresh ``python -m geo`` process (peak RSS from ``os.wait4``) with
a warm grid cache: one untimed run per configuration fills the cache first (hosting for
every reachable substation can take minutes; it is computed once per POI set). Then:

* single process for each ``--res`` over the US, and the exponent of a log-log fit of
  seconds against cells (1.0 is linear);
* ``--engine dask`` (local cluster, two workers) for each ``--dask-res``;
* ``--state-res`` on ``--state``;
* the naive notebook way on a sample of ``--sample`` cells (geopandas ``sjoin_nearest`` on
  all eligible substations, then a Python loop over candidates for hydro, gas basin, land
  and state) against the vectorized joins on the same sample, in this process, so that the
  speed-up is a ratio measured in one run.

Prints a table; this is a benchmark, not a test. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def run(args: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one ``geo-rank`` process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "geo", "-q", *args])
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"geo-rank {' '.join(args)} failed with exit code {code}")
    return seconds, usage.ru_maxrss / 1024


def cells(region: str, res: int) -> int:
    import layers
    from geo import candidates

    return len(candidates.from_h3(layers.load(region), res))


def naive_vs_vectorized(region: str, res: int, sample: int, cache_toml: Path) -> tuple[float,
                                                                                       float]:
    """Seconds of the notebook way and of geo.join on the same sample of cells."""
    import geopandas as gpd
    from pyproj import Geod

    import layers
    from geo import candidates, grid, join
    from geo.settings import from_toml

    settings = from_toml(cache_toml)
    bundle = layers.load(region)
    sites = candidates.generate(bundle, f"h3:{res}")
    pois = join.reachable_pois(sites, bundle.substations, settings)  # the cached POI set
    sites = sites.sample(min(sample, len(sites)), random_state=0).reset_index(drop=True)
    graph = grid.build(bundle.substations, bundle.lines, settings)
    metrics = grid.metrics(graph, bundle.plants, settings, sub_ids=pois)

    start = time.perf_counter()
    join.enrich(sites, bundle, metrics, 300.0, settings)
    vectorized = time.perf_counter() - start

    start = time.perf_counter()
    geod = Geod(ellps="WGS84")
    subs = bundle.substations[bundle.substations["voltage_kv"] >= settings.candidate_min_kv]
    albers = "EPSG:5070"
    near = gpd.sjoin_nearest(sites.to_crs(albers), subs.to_crs(albers), how="left",
                             distance_col="tie_m")
    near = near[~near.index.duplicated()]
    hydro = bundle.plants[bundle.plants["fuel"] == "hydro"]
    rows = []
    warnings.simplefilter("ignore", UserWarning)  # distance in degrees: the naive way's own
    for pt in sites.geometry:  # the loop a notebook writes
        _, _, d = geod.inv(np.full(len(hydro), pt.x), np.full(len(hydro), pt.y),
                           hydro.geometry.x.to_numpy(), hydro.geometry.y.to_numpy())
        within = hydro["capacity_mw"].to_numpy()[d <= 100_000].sum()
        gas = bundle.gas_fields.distance(pt).idxmin()
        state = bundle.subdivisions[bundle.subdivisions.contains(pt)]["code"].tolist()
        price = bundle.land_prices[bundle.land_prices.contains(pt)]["price_usd_per_acre"]
        rows.append((within, d.min() / 1000, gas, state[:1], price.head(1).tolist()))
    del rows, near
    naive = time.perf_counter() - start
    return naive, vectorized


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", default=None, help="grid cache to use (kept warm)")
    parser.add_argument("--res", type=int, nargs="*", default=[5, 6, 7])
    parser.add_argument("--dask-res", type=int, nargs="*", default=[5, 6])
    parser.add_argument("--state", default="US-RI")
    parser.add_argument("--state-res", type=int, default=8)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--no-warm", action="store_true",
                        help="skip the untimed cache-filling runs (cache already warm)")
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="geo-rank-bench-"))
    cache = Path(opts.cache_dir) if opts.cache_dir else tmp / "cache"
    cfg = tmp / "bench.toml"
    cfg.write_text(f'cache_dir = "{cache}"\n')
    common = ["--config", str(cfg), "--out", str(tmp / "exports"), "--no-map",
              "--format", "parquet", "--overwrite"]

    configs: list[tuple[str, str, int, list[str]]] = []
    configs += [("single", "US", r, []) for r in opts.res]
    configs += [("dask", "US", r, ["--engine", "dask"]) for r in opts.dask_res]
    if opts.state:
        configs.append(("single", opts.state, opts.state_res, []))
        configs.append(("dask", opts.state, opts.state_res, ["--engine", "dask"]))
    rows = []
    for engine, region, res, extra in configs:
        args = ["--region", region, "--candidates", f"h3:{res}", *common, *extra]
        if not opts.no_warm and engine == "single":
            run(args)  # fills the grid cache for this POI set; not timed
        seconds, mb = run(args)
        rows.append((engine, region, res, cells(region, res), seconds, mb))
        print(f"  {engine} {region} h3:{res}: {seconds:.1f} s, {mb:,.0f} MB", flush=True)

    print()
    print(f"{'engine':<8} {'region':<7} {'res':>3} {'cells':>10} {'seconds':>8} "
          f"{'peak RSS MB':>12}")
    for engine, region, res, n, sec, mb in rows:
        print(f"{engine:<8} {region:<7} {res:>3} {n:>10,} {sec:>8.1f} {mb:>12,.0f}")
    single = [(n, sec) for e, g, _, n, sec, _ in rows if e == "single" and g == "US"]
    if len(single) >= 2:
        x = np.log([n for n, _ in single])
        y = np.log([s for _, s in single])
        slope = float(np.polyfit(x, y, 1)[0])
        print(f"log-log exponent of seconds in cells (US, single process): {slope:.2f}")
    if opts.sample:
        naive, fast = naive_vs_vectorized("US", max(opts.res), opts.sample, cfg)
        ratio = naive / fast if fast > 0 else math.inf
        print(f"naive notebook joins on {opts.sample:,} cells: {naive:.1f} s; geo.join.enrich: "
              f"{fast:.2f} s; speed-up x{ratio:,.0f}")


if __name__ == "__main__":
    main()
