"""Build the shipped grid results: ``python -m geo.grid.shipped_build`` (:mod:`geo.grid.shipped`).

Run after ``python -m layers.build``: for each embedded US grid (``--grid``; default both:
OpenStreetMap to ``data/osm/us/``, the TAMU synthetic system to ``data/us/``) it loads the
layers, computes the grid metrics (N-0 and N-1 hosting of every substation of 115 kV or
more) with the default settings, cache off, and writes ``grid_metrics.parquet`` with its
key, and next to it ``grid_edges.parquet``: every edge's own PTDF, which a portfolio's
flow-shift screen would otherwise solve one by one.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

import layers
from geo import grid
from geo.grid import hosting, shipped
from geo.settings import Settings

LOG = logging.getLogger(__name__)


def build(out: Path | None = None, grid_source: str = "osm-2016") -> Path:
    """Compute an embedded US grid's metrics with the default settings and ship them."""
    settings = Settings.model_validate({"use_cache": False, "grid_source": grid_source})
    bundle = layers.load("US", grid=grid_source)
    graph = grid.build(bundle["substations"], bundle["lines"], settings,
                       bundle.territories)
    reuse: dict = {}
    table = grid.metrics(graph, bundle["plants"], settings, reuse=reuse)
    run_key = shipped.key(graph, grid.plants_hash(bundle["plants"]), settings)
    target = out or shipped.path(grid_source)
    shipped.write(table, run_key, target)
    LOG.info("wrote %s (%d substations)", target, len(table))
    self_ptdf = hosting.self_ptdf(graph, reuse)
    edges = target.with_name(shipped.EDGES_NAME)
    shipped.write_self_ptdf(graph, self_ptdf, run_key, edges)
    LOG.info("wrote %s (%d of %d edges' own PTDFs)", edges, np.isfinite(self_ptdf).sum(),
             len(self_ptdf))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geo.grid.shipped_build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="write here instead of the data folder")
    parser.add_argument("--grid", choices=tuple(shipped.FOLDERS), default=None,
                        help="the embedded grid to ship (default: every one)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for grid_source in (args.grid,) if args.grid else tuple(shipped.FOLDERS):
        print(build(args.out, grid_source))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
