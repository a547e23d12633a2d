"""Which part of the time-to-power model costs the backtest its AUC (issue 15)?

Run: ``python benchmarks/bench_backtest_ablation.py [--load-mw 300] [--bootstrap 1000]
[--grid osm-2016|tamu-synthetic]``.

Backtests the US ranking on ``us-campuses`` (H3 res 6, 3,000 background points, seed 0,
as ``geo-rank evaluate --known-set us-campuses``) with the default settings and with one
part of the model switched off at a time through settings, each a full re-rank:

* no network-upgrade months: the synthetic grid's N-1 and N-0 capacity no longer adds
  months (``upgrade_*_months = 0``);
* ``--flexible``: months judged on N-0 hosting;
* no gas path: gas equipment that never arrives (``gas_lead_months = 1200``), so the grid
  path is always chosen;
* no large-transformer months (``transformer_lead_months = 0``);
* no campus-transformer months (``campus_transformer_lead_months = 0``: the lead of the
  campus's own transformers, on the grid and the gas path);
* no gas path and no upgrade months: the grid path's tie, POI and transformer alone.

Prints a Markdown table of the ranking's AUC (95 % interval) and top-5/10 % shares beside
the best naive proxy. These are measurements of the model's parts, not settings to use: a
switched-off part is a fact the product stops telling.
"""

from __future__ import annotations

import argparse
import logging

import _stack  # benchmarks/ is on sys.path when a benchmark runs as a script

import layers
from geo.backtest import points as bp
from geo.backtest.run import RANKING_LABEL, backtest
from geo.settings import Settings
from layers import grids

NO_UPGRADES = {"upgrade_base_months": 0.0, "upgrade_shortfall_months": 0.0,
               "upgrade_n0_shortfall_months": 0.0}
NO_GAS = {"gas_lead_months": 1200.0}
CASES = {
    "default": {},
    "no network-upgrade months": NO_UPGRADES,
    "`--flexible` (months on N-0 hosting)": {"flexible_load": True},
    "no gas path": NO_GAS,
    "no large-transformer months": {"transformer_lead_months": 0.0},
    "no campus-transformer months": {"campus_transformer_lead_months": 0.0},
    "no gas path, no upgrade months": {**NO_GAS, **NO_UPGRADES},
}


def main() -> None:
    _stack.announce()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-mw", type=float, default=300.0)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--grid", choices=grids.GRIDS, default=grids.DEFAULT)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bundle = layers.load("US", grid=args.grid)
    known = bp.read_known(bp.known_set_path("us-campuses"))
    print(f"US, {args.load_mw:,.0f} MW, us-campuses ({len(known)} sites), --grid {args.grid}, "
          "H3 res 6, 3,000 background points, seed 0\n")
    print("| model | ranking AUC | 95 % interval | top 5 % | top 10 % (known / background) |")
    print("|---|---:|---|---|---|")
    for label, overrides in CASES.items():
        result = backtest(known, region="US", load_mw=args.load_mw, layers=bundle,
                          settings=Settings(grid_source=args.grid, **overrides),
                          n_boot=args.bootstrap,
                          known_source="us-campuses")
        table = result.table.set_index("score")
        row = table.loc[RANKING_LABEL]
        print(f"| {label} | {row['auc']:.3f} | {row['auc_low']:.3f}-{row['auc_high']:.3f} | "
              f"{100 * row['known_top_5pct']:.1f} / {100 * row['background_top_5pct']:.1f} | "
              f"{100 * row['known_top_10pct']:.1f} / {100 * row['background_top_10pct']:.1f} |")
    # the proxies do not depend on the settings: read them from the last run
    best = table.drop(index=RANKING_LABEL)["auc"].idxmax()
    print(f"\nBest naive proxy: {best}, AUC {table.loc[best, 'auc']:.3f}")


if __name__ == "__main__":
    main()
