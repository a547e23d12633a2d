"""The candidate stage on one process or on a Dask cluster.

The candidate stage is everything that is computed site by site: :func:`geo.join.enrich`
(POI, grid metrics, firm power, land, admin areas), :func:`geo.sovereignty.tag` and
:func:`geo.costs.estimate`. Ranking (a global sort) happens afterwards, in the caller.

``engine="local"`` runs it in this process. ``engine="dask"`` cuts the sites into
partitions of a dask-geopandas frame, spatially sorted (Z-order of lon/lat) so that each
partition holds a compact patch of the map, broadcasts the layers, the grid metrics and the
settings to every worker once (``Client.scatter(..., broadcast=True)``) and runs the same
functions on each partition. The grid metrics are computed once, before, by the caller.

Both engines give the same bits. The two quantities of the stage that depend on more than
one site are made partition-independent: the projection centre of the outline distances is
computed from all sites first (:func:`geo.join.outside_lonlat`, :func:`geo.join.centre_of`)
and passed to every partition, and hydro sums add each site's plants in plant order.

Dask is an optional extra, imported only here and only for ``engine="dask"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import costs, join, sovereignty
from geo.errors import DependencyError, SettingsError
from geo.settings import Settings
from layers import Layers

log = logging.getLogger(__name__)

ENGINES = ("local", "dask")
#: One line for the CLI when the extra is missing.
INSTALL_HINT = "--engine dask needs the dask extra: pip install 'geo-rank[dask]'"
#: Sites per Dask partition (a partition's joins then take a few seconds).
PARTITION_SITES = 100_000


@dataclass
class StageContext:
    """What every partition needs besides its sites (broadcast once to each worker)."""

    layers: Layers
    metrics: pd.DataFrame
    load_mw: float
    land_prices: str | Path | None = None
    land_unit: str | None = None
    price_column: str | None = None


def stage(sites: gpd.GeoDataFrame, context: StageContext, settings: Settings,
          centres: dict[str, tuple[float, float] | None] | None = None) -> gpd.GeoDataFrame:
    """Enrich, tag and cost ``sites`` (one partition, or all of them)."""
    out = join.enrich(sites, context.layers, context.metrics, context.load_mw, settings,
                      land_prices=context.land_prices, land_unit=context.land_unit,
                      price_column=context.price_column, centres=centres)
    out = sovereignty.tag(out, context.layers.sovereignty)
    return costs.estimate(out, context.load_mw, settings)


def run_candidate_stage(sites: gpd.GeoDataFrame, context: StageContext, settings: Settings,
                        engine: str = "local", scheduler: str | None = None,
                        partition_sites: int | None = None) -> gpd.GeoDataFrame:
    """Run the candidate stage on ``engine``; the result is the same for both engines.

    Parameters
    ----------
    sites
        Candidates (:func:`geo.candidates.generate`).
    context
        Layers, grid metrics, load and land options.
    settings
        Every tunable.
    engine
        ``"local"`` (this process) or ``"dask"``.
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); default: a local
        cluster of two single-threaded worker processes, closed afterwards.
    partition_sites
        Sites per partition (Dask only); default :data:`PARTITION_SITES`, read at call time
        so that a test or a caller can change it.

    Returns
    -------
    geopandas.GeoDataFrame
        ``sites`` in the same row order and index, with the enriched, sovereignty and cost
        columns.

    Raises
    ------
    DependencyError
        ``engine="dask"`` without the ``dask`` extra installed.
    SettingsError
        An unknown engine, or a scheduler address with the local engine.
    """
    if engine not in ENGINES:
        raise SettingsError(f"--engine {engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "local":
        if scheduler is not None:
            raise SettingsError("--scheduler needs --engine dask")
        return stage(sites, context, settings)
    if partition_sites is None:
        partition_sites = PARTITION_SITES
    if isinstance(partition_sites, bool) or not isinstance(partition_sites, int) \
            or partition_sites < 1:
        raise SettingsError(f"partition_sites must be a whole number >= 1, not {partition_sites!r}")
    return _dask_stage(sites, context, settings, scheduler, partition_sites)


def import_dask() -> tuple[Any, Any, Any]:
    """(dask, dask_geopandas, distributed), or a :class:`DependencyError` with the hint."""
    try:
        import dask
        import dask_geopandas
        import distributed
    except ImportError:
        raise DependencyError(INSTALL_HINT) from None
    return dask, dask_geopandas, distributed


def spatial_order(points: gpd.GeoSeries) -> np.ndarray:
    """Positions that sort points along a Z-order (Morton) curve of lon/lat (16 bits each)."""
    q = []
    for values, lo, span in ((points.x.to_numpy(), -180.0, 360.0),
                             (points.y.to_numpy(), -90.0, 180.0)):
        q.append(np.clip((values - lo) / span * 65535, 0, 65535).astype(np.uint64))
    key = np.zeros(len(points), dtype=np.uint64)
    for bit in range(16):
        for axis, vals in enumerate(q):
            key |= ((vals >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + axis)
    return np.argsort(key, kind="stable")


def _dask_stage(sites: gpd.GeoDataFrame, context: StageContext, settings: Settings,
                scheduler: str | None, partition_sites: int) -> gpd.GeoDataFrame:
    dask, dask_geopandas, distributed = import_dask()
    perm = spatial_order(sites.geometry)
    ordered = sites.iloc[perm]
    nparts = max(1, -(-len(ordered) // partition_sites))
    with dask.config.set({"dataframe.convert-string": False}):  # keep object columns as-is
        frame = dask_geopandas.from_geopandas(ordered, npartitions=nparts, sort=False)
    cluster = None
    if scheduler is None:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    else:
        client = distributed.Client(scheduler)
    try:
        log.info("dask: %d sites in %d partitions on %s", len(sites), frame.npartitions,
                 client.scheduler.address)
        ctx = client.scatter(context, broadcast=True)
        conf = client.scatter(settings, broadcast=True)
        lays = client.scatter(context.layers, broadcast=True)
        parts = frame.to_delayed()
        # 1: the sites outside each outline layer, from every partition -> global centres
        outside = dask.compute(*[dask.delayed(join.outside_lonlat)(p, lays) for p in parts])
        centres = {name: join.centre_of(np.concatenate([o[name] for o in outside]))
                   for name in join.OUTLINE_LAYERS}
        # 2: the stage itself, per partition
        done = dask.compute(*[dask.delayed(stage)(p, ctx, conf, centres) for p in parts])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return pd.concat(done).iloc[np.argsort(perm)]  # back to the input row order
