"""Scale (issue 17 part 3): seconds and peak memory of surfaces, each a fresh process.

Run: ``python benchmarks/bench_scale.py [--cache-dir DIR] [--us-res 5 6 7] [--state US-RI]
[--state-res 5 6 7 8] [--dask-res] [--profile REGION:RES] [--sample 2000] [--no-warm]
[--skip-us]``.

Every timed configuration is a fresh ``python -m geo`` process (wall seconds from outside,
peak RSS from ``os.wait4``: the largest single process among it and the children it waited
for, e.g. local Dask workers; not their sum) with a warm grid cache: one untimed run per
configuration fills the cache first unless ``--no-warm`` (hosting for every reachable
substation of the whole US takes tens of minutes cold; a state's POIs a few minutes). The
cache is the user's own (``Settings().cache_dir``) unless ``--cache-dir``.

Figures printed, against the issue's targets:

* ``--region US --candidates h3:7 --all-candidates --format parquet --no-map``
  (target <= 30 s and <= 3 GB);
* the warm default run ``--region US`` (substations, the map and the GeoJSON export)
  (target <= 3 s);
* the scaling table: h3 res 5 -> 8 for ``--state`` and 5 -> 7 for the US (``--all-candidates
  --format parquet --no-map``), with the exponent of a log-log fit of seconds against cells
  (1.0 is linear; target <= 1.1);
* ``--dask-res``: the same with ``--engine dask`` (local cluster), which writes the
  partitioned GeoParquet dataset (:func:`geo.engine.rank_to_dataset`); the peak RSS is then
  the largest single process (the client or one worker), not their sum;
* ``--profile REGION:RES``: where the time goes, the top of a cProfile of that run;
* ``--sample``: the naive notebook joins on a sample of cells against ``geo.join.enrich``.

``--skip-us`` leaves out every US-wide figure (for a machine without a warm US grid cache).
Every figure comes with the CPU seconds (user + system, the process and the children it
waited for) and the 1-minute load average when the run started: on a shared machine wall
seconds grow with the load, CPU seconds much less, so compare those when the load is above
the number of cores. Prints tables; this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import math
import os
import pstats
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import _stack  # benchmarks/ is on sys.path when a benchmark runs as a script
import numpy as np

SURFACE = ["--all-candidates", "--format", "parquet", "--no-map"]


#: CPU seconds (user + system) of every run, in order, and the 1-minute load average before
#: it (the machine may be shared: CPU seconds compare better than wall seconds when busy).
CPU: list[tuple[float, float]] = []


def load_average() -> float:
    """The 1-minute load average (0.0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def run(args: list[str], prefix: list[str] | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one ``geo-rank`` process (CPU seconds in :data:`CPU`)."""
    load = load_average()
    start = time.perf_counter()
    cmd = [sys.executable, *(prefix or []), "-m", "geo", "-q", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"geo-rank {' '.join(args)} failed with exit code {code}")
    CPU.append((usage.ru_utime + usage.ru_stime, load))
    return seconds, usage.ru_maxrss / 1024


def cells(region: str, res: int) -> int:
    import layers
    from geo import candidates

    return len(candidates.from_h3(layers.load(region), res))


def exponent(rows: list[tuple[int, float]]) -> float | None:
    """Slope of log(seconds) against log(cells)."""
    if len(rows) < 2:
        return None
    x = np.log([n for n, _ in rows])
    y = np.log([s for _, s in rows])
    return float(np.polyfit(x, y, 1)[0])


def profile(args: list[str], out: Path, top: int = 25) -> None:
    """Run once under cProfile and print the functions with the most cumulative time."""
    stats = out / "profile.pstats"
    run(args, prefix=["-m", "cProfile", "-o", str(stats)])
    print("-- geo-rank's own functions by cumulative time")
    pstats.Stats(str(stats)).sort_stats("cumulative").print_stats(r"(geo|layers)/", top)
    print("-- every function by its own time")
    pstats.Stats(str(stats)).sort_stats("tottime").print_stats(top)


def naive_vs_vectorized(region: str, res: int, sample: int, cache_toml: Path) -> tuple[float,
                                                                                       float]:
    """Seconds of the notebook way and of geo.join on the same sample of cells."""
    import geopandas as gpd
    from pyproj import Geod

    import layers
    from geo import candidates, grid, join
    from geo.configuration import from_toml

    settings = from_toml(cache_toml)
    bundle = layers.load(region)
    sites = candidates.generate(bundle, f"h3:{res}")
    pois = join.reachable_pois(sites, bundle.substations, settings)  # the cached POI set
    sites = sites.sample(min(sample, len(sites)), random_state=0).reset_index(drop=True)
    graph = grid.build(bundle.substations, bundle.lines, settings,
                       getattr(bundle, "territories", None))
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
    _stack.announce()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", default=None,
                        help="grid cache to use [default: the user's geo-rank cache]")
    parser.add_argument("--us-res", type=int, nargs="*", default=[5, 6, 7])
    parser.add_argument("--state", default="US-RI")
    parser.add_argument("--state-res", type=int, nargs="*", default=[5, 6, 7, 8])
    parser.add_argument("--dask-res", type=int, nargs="*", default=[],
                        help="US resolutions (state ones with --skip-us) also run with "
                             "--engine dask")
    parser.add_argument("--profile", default=None, metavar="REGION:RES",
                        help="print the top of a cProfile of this surface run, e.g. US:7")
    parser.add_argument("--sample", type=int, default=0,
                        help="cells for the naive-versus-vectorized joins (0: skip)")
    parser.add_argument("--no-warm", action="store_true",
                        help="skip the untimed cache-filling runs (cache already warm)")
    parser.add_argument("--skip-us", action="store_true",
                        help="no US-wide figure (the US grid cache is cold here)")
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="geo-rank-bench-"))
    from geo.settings import Settings

    cache = Path(opts.cache_dir) if opts.cache_dir else Settings().cache_dir
    cfg = tmp / "bench.toml"
    cfg.write_text(f'cache_dir = "{cache}"\n')
    common = ["--config", str(cfg), "--out", str(tmp / "exports"), "--overwrite"]
    print(f"grid cache: {cache}; outputs in {tmp}", flush=True)

    configs: list[tuple[str, str, int, list[str]]] = []
    if not opts.skip_us:
        configs += [("single", "US", r, []) for r in opts.us_res]
        configs += [("dask", "US", r, ["--engine", "dask"]) for r in opts.dask_res]
    if opts.state:
        configs += [("single", opts.state, r, []) for r in opts.state_res]
        if opts.skip_us:
            configs += [("dask", opts.state, r, ["--engine", "dask"]) for r in opts.dask_res]
    rows = []
    for engine, region, res, extra in configs:
        args = ["--region", region, "--candidates", f"h3:{res}", *SURFACE, *common, *extra]
        if not opts.no_warm and engine == "single":
            run(args)  # fills the grid cache for this POI set; not timed
        seconds, mb = run(args)
        rows.append((engine, region, res, cells(region, res), seconds, mb, *CPU[-1]))
        print(f"  {engine} {region} h3:{res}: {seconds:.1f} s, {mb:,.0f} MB, "
              f"{CPU[-1][0]:.1f} CPU s, load {CPU[-1][1]:.2f}", flush=True)

    default = None
    if not opts.skip_us:
        args = ["--region", "US", *common, "--map", str(tmp / "us.html")]
        if not opts.no_warm:
            run(args)
        default = (*run(args), *CPU[-1])

    print()
    print(f"{'engine':<8} {'region':<7} {'res':>3} {'cells':>10} {'seconds':>8} "
          f"{'peak RSS MB':>12} {'CPU s':>7} {'load':>5}")
    for engine, region, res, n, sec, mb, cpu, load in rows:
        print(f"{engine:<8} {region:<7} {res:>3} {n:>10,} {sec:>8.1f} {mb:>12,.0f} "
              f"{cpu:>7.1f} {load:>5.2f}")
    for region in dict.fromkeys(r for _, r, *_ in rows):
        single = [(n, s) for e, g, _, n, s, *_ in rows if e == "single" and g == region]
        slope = exponent(single)
        if slope is not None:
            print(f"log-log exponent of seconds in cells ({region}, single process): "
                  f"{slope:.2f} (target <= 1.1)")
            cpu = [(n, c) for e, g, _, n, _, _, c, _ in rows if e == "single" and g == region]
            print(f"  the same in CPU seconds (steadier on a busy machine): "
                  f"{exponent(cpu) or float('nan'):.2f}")
            # a small region is all fixed cost (start-up, imports, grid graph): the time the
            # cells add over the smallest run says more
            base_n, base_s = min(single)
            extra = [(n - base_n, s - base_s) for n, s in single if n > base_n and s > base_s]
            if extra:
                per = max(extra)
                print(f"  {region}: {per[1]:.1f} s over the smallest run for {per[0]:,} more "
                      f"cells ({1e6 * per[1] / per[0]:,.0f} us a cell); exponent of that "
                      f"increment: {exponent(extra) or float('nan'):.2f}")
    us7 = [row[4:] for row in rows if row[:3] == ("single", "US", 7)]
    if us7:
        sec, mb, cpu, load = us7[0]
        print(f"US h3:7 --all-candidates --format parquet: {sec:.1f} s, {mb / 1024:.2f} GB "
              f"peak, {cpu:.1f} CPU s, load {load:.2f} (targets 30 s, 3 GB)")
    if default is not None:
        print(f"warm geo-rank --region US: {default[0]:.1f} s, {default[1]:,.0f} MB peak, "
              f"{default[2]:.1f} CPU s, load {default[3]:.2f} (target 3 s)")
    if opts.profile:
        region, _, res = opts.profile.partition(":")
        print(f"\nprofile of --region {region} --candidates h3:{res} (cumulative seconds):")
        profile(["--region", region, "--candidates", f"h3:{res}", *SURFACE, *common], tmp)
    if opts.sample:
        region = opts.state if opts.skip_us else "US"
        res = max(opts.state_res if opts.skip_us else opts.us_res)
        naive, fast = naive_vs_vectorized(region, res, opts.sample, cfg)
        ratio = naive / fast if fast > 0 else math.inf
        print(f"naive notebook joins on {opts.sample:,} cells: {naive:.1f} s; geo.join.enrich: "
              f"{fast:.2f} s; speed-up x{ratio:,.0f}")


if __name__ == "__main__":
    main()
