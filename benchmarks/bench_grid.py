"""Benchmark N-0 and N-1 hosting on the embedded US data (not a timed test).

Prints: graph build; N-0 + N-1 grid metrics for every substation at or above 115 kV, cold
(wall and CPU seconds, LODF solves, screened (POI, outage) pairs); the counts hosting
300 MW at N-0 and N-1; the first run's ``grid.metrics`` in process and end to end
(``geo-rank grid --region US --json``), both reading the shipped results (geo.grid.shipped);
the naive alternative (re-factorise B without the circuit and re-solve, once per
(POI, outage) pair) timed on a sample of POIs and
extrapolated to every screened pair; peak resident memory; the machine's load average at
start and end (the machine may be shared: compare CPU seconds when it is busy).

Run: ``python benchmarks/bench_grid.py [--sample 3] [--cache-home DIR] [--grids
osm-2016,tamu-synthetic]`` (both grids cold in one run; the rest on the first). The cold
lines always compute (cache off). BLAS is kept to one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _stack  # benchmarks/ is on sys.path when a benchmark runs as a script
import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

import layers
from geo import grid
from geo.grid import dispatch
from geo.settings import Settings
from layers import grids

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_gb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def naive_seconds_per_pair(g: grid.GridGraph, plants, settings: Settings, sample: int,
                           outages: int) -> tuple[float, int]:
    """Seconds per (POI, outage) pair of the naive method on ``sample`` POIs of island 0.

    Per pair: remove one circuit's admittance from B, factorise with SuperLU, solve the
    POI's right-hand side, and evaluate every branch (as a full re-solve would).
    """
    subs, e = g.substations, g.edges
    island = subs["island"].to_numpy()
    nodes = np.flatnonzero(island == 0)
    n = len(nodes)
    loc = np.full(len(subs), -1)
    loc[nodes] = np.arange(n)
    ee = e[island[e["u"].to_numpy()] == 0]
    eu, ev = loc[ee["u"].to_numpy()], loc[ee["v"].to_numpy()]
    bl = 1.0 / ee["reactance_pu"].to_numpy(float)
    m = len(ee)
    inc = sparse.csr_matrix((np.r_[np.ones(m), -np.ones(m)],
                             (np.r_[np.arange(m), np.arange(m)], np.r_[eu, ev])), shape=(m, n))
    gen, _ = dispatch.participation(g, plants, settings)
    w = gen[nodes] / gen[nodes].sum()
    keep = np.arange(n) != int(np.argmax(w))
    pois = np.flatnonzero(subs["voltage_kv"].to_numpy(float)[nodes] >= settings.hosting_min_kv)
    rng = np.random.default_rng(0)
    pairs, t0 = 0, time.process_time()
    for b in rng.choice(pois, sample, replace=False):
        rhs = w.copy()
        rhs[b] -= 1.0
        bmat = (inc.T @ sparse.diags(bl) @ inc).tocsc()
        theta = np.zeros(n)
        theta[keep] = splu(bmat[keep][:, keep].tocsc()).solve(rhs[keep])
        s = bl * (theta[eu] - theta[ev])
        for k in np.argsort(-np.abs(s))[:outages]:
            bk = bl.copy()
            bk[k] *= 0.5  # one of two circuits out (or the circuit, for the solve's cost)
            bmat = (inc.T @ sparse.diags(bk) @ inc).tocsc()
            theta[keep] = splu(bmat[keep][:, keep].tocsc()).solve(rhs[keep])
            s_k = bk * (theta[eu] - theta[ev])
            np.min(np.abs(s_k))
            pairs += 1
    return (time.process_time() - t0) / pairs, pairs


def main() -> None:
    _stack.announce()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=3, help="POIs for the naive method")
    parser.add_argument("--cache-home", type=Path,
                        help="reuse this XDG cache home (its geo-rank/ folder)")
    parser.add_argument("--grids", default=",".join(grids.GRIDS),
                        help="embedded grids to time cold, comma-separated; the rest of the "
                             "benchmark runs on the first [default: %(default)s]")
    args = parser.parse_args()
    names = [grids.check(g) for g in args.grids.split(",")]
    load_start = os.getloadavg()
    rows: list[tuple[str, str, str]] = []
    cache_home = args.cache_home or Path(tempfile.mkdtemp(prefix="geo-rank-bench-"))
    settings = Settings(cache_dir=cache_home / "geo-rank")  # what the CLI uses there

    for name in reversed(names):  # the first grid last: the rest of the run uses it
        t = time.perf_counter()
        bundle = layers.load("US", grid=name)
        rows.append((f"[{name}] load layers", f"{time.perf_counter() - t:.2f} s", ""))
        t = time.perf_counter()
        g = grid.build(bundle.substations, bundle.lines, settings,
                       getattr(bundle, "territories", None))
        rows.append((f"[{name}] graph build", f"{time.perf_counter() - t:.2f} s",
                     f"{g.report.nodes:,} nodes, {g.report.edges:,} edges"))

        t, c = time.perf_counter(), time.process_time()
        m = grid.metrics(g, bundle.plants, Settings(cache_dir=settings.cache_dir,
                                                    use_cache=False))
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        rep = m.attrs["hosting"]
        rows.append((f"[{name}] N-0 + N-1 metrics >= 115 kV", f"{wall:.1f} s",
                     f"CPU {cpu:.1f} s, {rep['computed']:,} POIs, {rep['n1_lodf_solves']:,} "
                     f"LODF solves, {rep['n1_outages_screened']:,} (POI, outage) pairs; "
                     f"cache {m.attrs['cache']}"))
        rows.append((f"[{name}] hosting 300 MW", "",
                     f"N-0 {(m['hosting_mw'] >= 300).sum():,}, "
                     f"N-1 {(m['firm_mw'] >= 300).sum():,}; medians {rep['median_mw']:.0f} / "
                     f"{rep['firm_median_mw']:.0f} MW"))

    t = time.perf_counter()
    hit = grid.metrics(g, bundle.plants, settings)
    rows.append(("metrics, first run (in process)", f"{time.perf_counter() - t:.2f} s",
                 f"read: {hit.attrs['cache']}"))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache_home)}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "geo", "grid", "--region", "US", "--json",
                           "--grid", names[0]], cwd=ROOT, capture_output=True, text=True,
                          check=False, env=env)
    ok = proc.returncode == 0 and '"cache": "shipped"' in proc.stdout
    rows.append(("geo-rank grid --region US --json", f"{time.perf_counter() - t:.2f} s",
                 "end to end, shipped results" if ok else f"FAILED: {proc.stderr[-300:]}"))

    per_poi = max(1, round(rep["n1_outages_screened"] / max(rep["computed"], 1)))
    per_pair, done = naive_seconds_per_pair(g, bundle.plants, settings, args.sample, per_poi)
    naive = per_pair * rep["n1_outages_screened"]
    # ours: this run's CPU when it computed, else the cached entry's recorded compute time
    ours, what = cpu, "CPU"
    rows.append(("naive: re-factorise and re-solve per pair", f"{naive:,.0f} s",
                 f"CPU, extrapolated from {done} pairs at {per_pair * 1e3:.0f} ms each; "
                 f"ratio to ours ({what} {ours:,.0f} s) {naive / max(ours, 1e-9):,.0f}x"))
    rows.append(("peak RSS (this process)", f"{peak_rss_gb():.2f} GB", ""))
    rows.append(("load average start / end", "", f"{load_start[0]:.1f} / "
                 f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"))

    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'time':>9}  note")
    for name, val, note in rows:
        print(f"{name:<{width}}  {val:>9}  {note}")


if __name__ == "__main__":
    main()
