"""Build the shipped grid results: ``python -m geo.grid.shipped_build`` (:mod:`geo.grid.shipped`).

Run after ``python -m layers.build``: for each embedded US grid (``--grid``; default both:
OpenStreetMap to ``data/osm/us/``, the TAMU synthetic system to ``data/us/``) it loads the
layers, computes the grid metrics (N-0 and N-1 hosting of every substation of 115 kV or
more) with the default settings, cache off, and writes ``grid_metrics.parquet`` with its
key, and next to it ``grid_edges.parquet``: every edge's own PTDF, which a portfolio's
flow-shift screen would otherwise solve one by one; then, when it wrote to the data folder,
``grid_summary.json``: the ``geo-rank grid --region US --json`` document of that table
(:mod:`geo.grid.summary`). ``--summary-only`` writes the document alone from the shipped table
already there (seconds, not a rebuild).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

import layers
from geo import grid
from geo.errors import GeoRankError
from geo.grid import hosting, report, shipped, summary
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
    if out is None:
        LOG.info("wrote %s", write_summary(grid_source))
    return target


def write_summary(grid_source: str = "osm-2016") -> Path:
    """Write the ``geo-rank grid --region US --json`` document of an embedded grid's shipped
    table (:mod:`geo.grid.summary`), read exactly as the command reads it."""
    settings = Settings.model_validate({"grid_source": grid_source})   # the cache on
    bundle = layers.load("US", grid=grid_source)
    graph = grid.build(bundle["substations"], bundle["lines"], settings,
                       getattr(bundle, "territories", None))
    run_key = shipped.key(graph, grid.plants_hash(bundle["plants"]), settings)
    if not shipped.available(run_key):
        raise GeoRankError(f"no shipped grid results for {grid_source} match today's layers "
                           "and model: run `python -m geo.grid.shipped_build --grid "
                           f"{grid_source}` first")
    table = grid.metrics(graph, bundle["plants"], settings)
    doc = report.summary(graph, table, settings, bundle.region, 0.0)
    doc.update(report.region_counts(graph, table, bundle.region))
    return summary.write(doc, grid_source, settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geo.grid.shipped_build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="write here (a file, or a folder for grid_metrics.parquet) "
                             "instead of the data folder")
    parser.add_argument("--grid", choices=tuple(shipped.FOLDERS), default=None,
                        help="the embedded grid to ship (default: every one)")
    parser.add_argument("--summary-only", action="store_true",
                        help=f"write only {summary.SUMMARY_NAME} from the shipped table there")
    args = parser.parse_args(argv)
    if args.out is not None and args.out.is_dir():
        args.out = args.out / shipped.METRICS_NAME
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for grid_source in (args.grid,) if args.grid else tuple(shipped.FOLDERS):
        try:
            print(write_summary(grid_source) if args.summary_only
                  else build(args.out, grid_source))
        except GeoRankError as exc:
            print(f"python -m geo.grid.shipped_build: error: {exc}")
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
