"""The figures issue 15 asks for: does power decide the order, and does it find campuses?

Run: ``python benchmarks/bench_power_order.py [--config FILE] [--top 10] [--evaluate]``.

For US and US-TX at 300 MW and 1 GW (``--region``/``--load-mw`` to change): the sites each
tier holds, the top ``--top`` sites with power path, months to power, firm MW and cost of
power, and a check of the top 25: how many distinct scores, and how many scores are shared
by sites whose power facts (tier, months, cost of power, firm MW, path, distance to the
grid) differ (must be 0). ``--evaluate`` adds the backtest AUC on ``us-campuses`` (H3 res 6,
3,000 background points, seed 0) at each load for the US. ``--config`` takes the same TOML
as ``geo-rank --config`` (e.g. ``n1_preexisting = "binding"`` to compare; a setting that
changes the grid recomputes it, several minutes). Prints Markdown; a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import _stack  # benchmarks/ is on sys.path when a benchmark runs as a script
import pandas as pd

import layers
from geo._reasons import SEPARATION_COLUMNS
from geo.configuration import from_toml
from geo.pipeline import rank_sites
from geo.settings import Settings

#: The power facts two sites must share for their scores to be equal (issue 15): the
#: order's keys that the reasons compare, without land.
POWER_FACTS = tuple(c for c in SEPARATION_COLUMNS if c != "land_score")


def shared_scores(top: pd.DataFrame) -> int:
    """Scores shared by sites of ``top`` whose power facts differ."""
    facts = [c for c in POWER_FACTS if c in top.columns]
    dup = top[top["score"].duplicated(keep=False)]
    return sum(len(g[facts].round(6).drop_duplicates()) > 1 for _, g in dup.groupby("score"))


def report(ranked: pd.DataFrame, region: str, load_mw: float, top: int) -> None:
    tiers = ranked["tier"].value_counts().reindex(list("ABCD")).fillna(0).astype(int)
    head = ranked.head(25)
    print(f"\n### {region}, {load_mw:g} MW: {len(ranked):,} sites; tiers "
          + ", ".join(f"{t} {n:,}" for t, n in tiers.items())
          + f"; top 25: {head['score'].nunique()} distinct scores, "
          f"{shared_scores(head)} shared by different power facts\n")
    print("| # | site | tier | path | months | firm MW | cost of power M$ | binding |")
    print("|---:|---|---|---|---:|---:|---:|---|")
    for _, x in ranked.head(top).iterrows():
        print(f"| {x['rank']} | {x['site_name']} ({x['subdivision']}) | {x['tier']} | "
              f"{x['power_path']} | {x['time_to_power_months']:.1f} | {x['firm_mw']:,.0f} | "
              f"{x['cost_of_power_musd']:,.1f} | {x['power_binding']} |")


def main() -> None:
    _stack.announce()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--region", nargs="+", default=["US", "US-TX"])
    parser.add_argument("--load-mw", nargs="+", type=float, default=[300.0, 1000.0])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--evaluate", action="store_true")
    opts = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = from_toml(opts.config) if opts.config else Settings()
    for region in opts.region:
        bundle = layers.load(region)
        for mw in opts.load_mw:
            ranked = rank_sites(region, load_mw=mw, settings=settings, layers=bundle).ranked
            report(ranked, region, mw, opts.top)
    if opts.evaluate:
        from geo.backtest import points as bp
        from geo.backtest.run import backtest

        known = bp.read_known(bp.known_set_path("us-campuses"))
        bundle = layers.load("US")
        print("\n| load | ranking AUC (95 %) | best proxy | its AUC |")
        print("|---:|---|---|---:|")
        for mw in opts.load_mw:
            table = backtest(known, region="US", load_mw=mw, settings=settings,
                             layers=bundle).table.set_index("score")
            first, proxies = table.iloc[0], table.iloc[1:]
            best = proxies["auc"].idxmax()
            print(f"| {mw:g} MW | {first['auc']:.3f} ({first['auc_low']:.3f}-"
                  f"{first['auc_high']:.3f}) | {best} | {proxies.loc[best, 'auc']:.3f} |")


if __name__ == "__main__":
    main()
