"""Benchmark the grid stage on the embedded US data (not a timed test).

Prints: graph build seconds; hosting seconds and counts for every substation at or above
115 kV and at or above 230 kV; a cold and a cached ``grid.metrics``; a cached end-to-end
``geo-rank grid --json``; one ``networkx.maximum_flow`` (generators → one substation) on
the same graph, for scale; and the peak resident memory.

Run: ``python benchmarks/bench_grid.py`` (about two minutes on 2 cores). BLAS is kept to
one thread: SuperLU's many-right-hand-side solves gain nothing from BLAS threads and lose
a lot when other processes compete for the cores.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

import layers
from geo import dispatch, grid, hosting
from geo.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_gb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    cache_root = Path(tempfile.mkdtemp(prefix="geo-rank-bench-"))
    os.environ["XDG_CACHE_HOME"] = str(cache_root)  # the CLI run below shares this cache
    settings = Settings()

    t = time.perf_counter()
    bundle = layers.load("US")
    rows.append(("load layers", f"{time.perf_counter() - t:.2f} s", ""))

    t = time.perf_counter()
    g = grid.build(bundle.substations, bundle.lines, settings)
    rows.append(("graph build", f"{time.perf_counter() - t:.2f} s",
                 f"{g.report.nodes:,} nodes, {g.report.edges:,} edges, "
                 f"{g.report.islands} islands"))

    t = time.perf_counter()
    h230 = hosting.hosting(g, bundle.plants, settings.replace(hosting_min_kv=230))
    rows.append(("hosting >= 230 kV", f"{time.perf_counter() - t:.1f} s",
                 f"{h230.attrs['report']['computed']:,} substations"))

    t = time.perf_counter()
    m = grid.metrics(g, bundle.plants, settings)
    cold = time.perf_counter() - t
    rep = m.attrs["hosting"]
    rows.append(("hosting >= 115 kV", f"{rep['seconds']:.1f} s",
                 f"{rep['computed']:,} substations, median {rep['median_mw']:.0f} MW"))
    rows.append(("metrics cold (+ backbone, redundancy, cache write)", f"{cold:.1f} s",
                 m.attrs["cache"]))

    t = time.perf_counter()
    hit = grid.metrics(g, bundle.plants, settings)
    rows.append(("metrics cached (in process)", f"{time.perf_counter() - t:.2f} s",
                 hit.attrs["cache"]))

    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "geo", "grid", "--json"], cwd=ROOT,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    ok = proc.returncode == 0 and '"cache": "hit"' in proc.stdout
    rows.append(("geo-rank grid --json, cached rerun", f"{time.perf_counter() - t:.2f} s",
                 "end to end, cache hit" if ok else f"FAILED: {proc.stderr[-200:]}"))

    # networkx.maximum_flow: all participating generation → one 345 kV substation
    gen, _ = dispatch.participation(g, bundle.plants, settings)
    flow_graph = nx.DiGraph()
    for u, v, cap in zip(g.edges["from_sub"], g.edges["to_sub"], g.edges["capacity_mw"],
                         strict=True):
        flow_graph.add_edge(u, v, capacity=cap)
        flow_graph.add_edge(v, u, capacity=cap)
    ids = g.substations["sub_id"].to_numpy()
    for sid, mw in zip(ids[gen > 0], gen[gen > 0], strict=True):
        flow_graph.add_edge("_generation", sid, capacity=mw)
    sink = str(m[(m["voltage_kv"] >= 345) & (m["island"] == 0)].index[0])
    t = time.perf_counter()
    value, _ = nx.maximum_flow(flow_graph, "_generation", sink)
    rows.append(("networkx.maximum_flow, one substation", f"{time.perf_counter() - t:.1f} s",
                 f"sub {sink}: {value:,.0f} MW (transport model, no physics)"))
    rows.append(("peak RSS (this process)", f"{peak_rss_gb():.2f} GB", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'time':>9}  note")
    for name, val, note in rows:
        print(f"{name:<{width}}  {val:>9}  {note}")


if __name__ == "__main__":
    main()
