"""Benchmark ``--portfolio N`` on the embedded US data (not a timed test).

Prints: the ranking (shipped grid results, so warm); choosing N sites that are firm
together (geo.portfolio.choose: one hosting run per kept site over a batch of candidates,
then the joint screen; candidates the joint screen's bound fails skip both, and the count
of those is printed); the naive alternative (recompute the hosting of every N-1 secure
candidate POI after each pick) timed once and multiplied by the picks; how many of today's
top N (one per POI) would exclude each other (walked in rank order with the same check);
peak resident memory.

Run: ``python benchmarks/bench_portfolio.py [--region US] [--n 25] [--load-mw 300]
[--queued-loads FILE]``. BLAS is kept to one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import resource
import time

import _stack  # benchmarks/ is on sys.path when a benchmark runs as a script
import pandas as pd

from geo import portfolio
from geo.grid import hosting
from geo.pipeline import rank_sites
from geo.secure import N1_SECURE
from geo.settings import Settings


def main() -> None:
    _stack.announce()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="US")
    parser.add_argument("--n", type=int, default=25)
    parser.add_argument("--load-mw", type=float, default=300.0)
    parser.add_argument("--queued-loads", default=None)
    args = parser.parse_args()
    load_start = os.getloadavg()
    settings = Settings()
    rows: list[tuple[str, str, str]] = []

    t = time.perf_counter()
    result = rank_sites(args.region, load_mw=args.load_mw, settings=settings,
                        queued_loads=args.queued_loads)
    cache = result.metrics.attrs.get("cache")
    rows.append(("rank (warm)", f"{time.perf_counter() - t:.1f} s",
                 f"{len(result.ranked):,} candidates, grid metrics {cache}"))

    t = time.perf_counter()
    chosen = portfolio.choose(result.ranked, args.n, args.load_mw, result.grid,
                              result.layers.plants, settings, queued=result.queued)
    ours = time.perf_counter() - t
    rows.append((f"portfolio of {args.n}", f"{ours:.1f} s",
                 f"{len(chosen.sites)} kept, {len(chosen.passed_over)} passed over, "
                 f"{chosen.checks} hosting runs and joint screens ({chosen.bounded} on the "
                 f"bound), joint screen "
                 f"{'firm' if chosen.verified else 'NOT firm'}"))

    secure = result.ranked[result.ranked["poi_sub_id"].notna()
                           & (result.ranked["redundancy"] == N1_SECURE)]
    pois = sorted(set(secure["poi_sub_id"].astype(str)))
    t = time.perf_counter()
    hosting.hosting(result.grid, result.layers.plants, settings, sub_ids=pois,
                    queued=pd.DataFrame({"sub_id": pois[:1], "mw": [args.load_mw]}))
    once = time.perf_counter() - t
    naive = once * max(len(chosen.sites), 1)
    rows.append(("naive: all candidates recomputed per pick", f"{naive:.0f} s",
                 f"{once:.1f} s per recompute of {len(pois):,} POIs x {len(chosen.sites)} picks;"
                 f" ratio {naive / max(ours, 1e-9):.1f}x"))

    top = result.sites.head(args.n)
    today = portfolio.choose(top, args.n, args.load_mw, result.grid, result.layers.plants,
                             settings, queued=result.queued)
    rows.append((f"today's top {args.n}", "",
                 f"{len(top[top['redundancy'] == N1_SECURE])} N-1 secure; "
                 f"{len(today.passed_over)} would be passed over with the better-ranked in"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    rows.append(("peak RSS", f"{peak:.2f} GB", ""))
    rows.append(("load average start / end", "",
                 f"{load_start[0]:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"))
    width = max(len(r[0]) for r in rows)
    for name, val, note in rows:
        print(f"{name:<{width}}  {val:>8}  {note}")
    print()
    cols = ["portfolio_rank", "rank", "site_id", "poi_name", "portfolio_remaining_mw",
            "portfolio_shares"]
    print(chosen.sites[[c for c in cols if c in chosen.sites]].to_string(index=False))
    if len(chosen.passed_over):
        print(chosen.passed_over.head(15).to_string(index=False))


if __name__ == "__main__":
    main()
