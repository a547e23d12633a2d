"""Grid results shipped with the embedded data, so the first run does not solve the grid.

``data/us/grid_metrics.parquet`` is the table :func:`geo.grid.metrics` returns for the
embedded US layers with the default settings (N-0 and N-1 hosting of every substation of
115 kV or more). It is built by ``python -m geo.grid.shipped_build`` after
``python -m layers.build`` and carries, in its parquet metadata, the key of what it was
computed from: the content of the substations, lines and plants it read, the grid settings
and :data:`MODEL_VERSION`.
:func:`geo.grid.metrics` serves it whenever a run's key is the same (the embedded layers,
default grid settings, the cache on); any other layers or settings, or ``--no-cache``,
compute as before. ``tests/test_shipped.py`` recomputes a sample of substations with
today's code and finds the shipped rows equal, so a change to the model that is not
followed by a rebuild fails the suite.

``data/us/grid_edges.parquet``, from the same build with the same key, holds every edge's
own PTDF ``p_kk`` (:func:`read_self_ptdf`): :func:`geo.portfolio.choose` seeds its hosting
runs with them, so its flow-shift screens solve none (the sample test checks them too).
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layers.paths import data_dir

# numpy, pandas, pyarrow and the grid's own modules are imported inside the functions, so
# that the fast ``geo-rank grid --json`` (:mod:`geo.grid.summary`) can read the constants
# below without loading them.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from geo.grid.model import GridGraph
    from geo.settings import Settings

LOG = logging.getLogger(__name__)

#: Bump whenever a change to the hosting, N-1, dispatch or topology code changes any
#: number or label of the metrics table (then rebuild with ``python -m
#: geo.grid.shipped_build``). 12: of branches whose N-0 limits tie within TIE_RTOL (parallel
#: circuits alike), the first names ``limiting_line_id``, not the last bits of the solve
#: (which differ between CPUs); 11: an island of more than geo.grid.island_runs.RUN_BATCHES
#: batches screened in runs with a paged LODF store (last bits of some firm MW); 10: one
#: node per substation voltage level with transformers between them (geo.grid.levels;
#: TAMU's own transformers, estimated banks on OpenStreetMap), plants at their connection
#: level; 9: participation from the POI's balancing authority (default) and the stressed
#: dispatch case (firm_case, firm_base_mw, firm_stressed_mw); 8: complete N-1 screen
#: (watched branches, MW-material outages) and a tie of branch limit and incident rating
#: is a branch (TIE_RTOL); 6: n1_preexisting keys the shipped results (it was missing)
MODEL_VERSION = 12
#: The parquet metadata field holding the key.
KEY_FIELD = b"geo_rank_shipped_key"
#: The folder of each embedded grid's shipped results, relative to the data folder
#: (:mod:`layers.grids`): the US networks, whole.
FOLDERS: dict[str, Path] = {"tamu-synthetic": Path("us"), "osm-2016": Path("osm") / "us"}
#: The shipped table and every edge's own PTDF ``p_kk`` (:func:`geo.grid.hosting.self_ptdf`),
#: same key, same folder.
METRICS_NAME, EDGES_NAME = "grid_metrics.parquet", "grid_edges.parquet"
#: Every shipped file, relative to the data folder.
RELATIVE_PATHS: tuple[Path, ...] = tuple(folder / name for folder in FOLDERS.values()
                                         for name in (METRICS_NAME, EDGES_NAME))


def key(grid: GridGraph, plants_hash: str, settings: Settings) -> str:
    """The version-free key of a metrics table: inputs, grid settings, model version."""
    from geo.grid import cache as cache_mod

    payload = json.dumps([MODEL_VERSION, grid.content_hash, plants_hash,
                          cache_mod.settings_token(settings)], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def path(grid_source: str = "tamu-synthetic") -> Path:
    """The shipped table's path for an embedded grid (it may be absent)."""
    return data_dir() / FOLDERS[grid_source] / METRICS_NAME


def _find(run_key: str, name: str) -> Path | None:
    """The shipped file ``name`` computed from ``run_key``, in any grid's folder."""
    for folder in FOLDERS.values():
        where = data_dir() / folder / name
        if available(run_key, where):
            return where
    return None


@cache
def _shipped_key(where: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(where).metadata or {}
    except (OSError, ValueError):
        return None
    value = meta.get(KEY_FIELD)
    return value.decode() if value else None


def available(run_key: str, where: Path | None = None) -> bool:
    """True when a shipped table (or the file ``where``) was computed from this key."""
    if where is None:
        return _find(run_key, METRICS_NAME) is not None
    return where.is_file() and _shipped_key(where) == run_key


def read(run_key: str) -> pd.DataFrame | None:
    """The shipped table for ``run_key`` (``attrs["cache"] = "shipped"``), else None."""
    import pandas as pd

    where = _find(run_key, METRICS_NAME)
    if where is None:
        return None
    table = pd.read_parquet(where)
    table.attrs["cache"] = "shipped"
    LOG.info("grid metrics read from the shipped results %s", where)
    return table


def read_self_ptdf(grid: GridGraph, run_key: str) -> np.ndarray | None:
    """Every edge's own PTDF aligned with ``grid.edges`` (NaN where not shipped), when the
    shipped edges were computed from ``run_key``; else None."""
    import numpy as np
    import pandas as pd

    from geo.grid import circuits

    where = _find(run_key, EDGES_NAME)
    if where is None:
        return None
    table = pd.read_parquet(where)
    at = pd.Index(table["line_ids"]).get_indexer(circuits.edge_names(grid.edges))
    values = np.full(len(at), np.nan)
    values[at >= 0] = table["self_ptdf"].to_numpy(float)[at[at >= 0]]
    LOG.info("edges' own PTDFs read from the shipped results %s", where)
    return values


def write_self_ptdf(grid: GridGraph, values: np.ndarray, run_key: str, where: Path) -> None:
    """Write every edge's own PTDF (named by its ``;``-joined line ids) with its key."""
    import pandas as pd

    from geo.grid import circuits

    table = pd.DataFrame({"line_ids": circuits.edge_names(grid.edges), "self_ptdf": values})
    write(table, run_key, where)


def write(table: pd.DataFrame, run_key: str, where: Path) -> None:
    """Write ``table`` with its key to ``where`` atomically (deterministic bytes)."""
    import pyarrow.parquet as pq

    from layers.atomic import atomic_path

    frame = table.copy()
    report: dict[str, Any] = dict(frame.attrs.get("hosting", {}))
    report.pop("seconds", None)             # a timing would make every build differ
    frame.attrs = {"hosting": report}
    with atomic_path(where) as tmp:
        frame.to_parquet(tmp, compression="zstd")
        meta = pq.read_table(tmp)
        schema_meta = dict(meta.schema.metadata or {})
        schema_meta[KEY_FIELD] = run_key.encode()
        pq.write_table(meta.replace_schema_metadata(schema_meta), tmp, compression="zstd")
    _shipped_key.cache_clear()
