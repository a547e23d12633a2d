"""The candidate stage on one process or on a Dask cluster.

The candidate stage is everything that is computed site by site: :func:`geo.join.enrich`
(POI, grid metrics, firm power, land, admin areas), :func:`geo.sovereignty.tag` and
:func:`geo.costs.estimate`. Ranking (a global sort) happens afterwards, in the caller.

``engine="local"`` runs it in this process. ``engine="dask"`` cuts the sites into
partitions of a dask-geopandas frame, spatially sorted (Hilbert curve of lon/lat) so that each
partition holds a compact patch of the map, broadcasts the layers, the grid metrics and the
settings to every worker once (``Client.scatter(..., broadcast=True)``) and runs the same
functions on each partition. The grid metrics are computed once, before, by the caller.

Both engines give the same bits. The two quantities of the stage that depend on more than
one site are made partition-independent: the projection centre of the outline distances is
computed from all sites first (:func:`geo.outlines.outside_lonlat`, :func:`geo.outlines.centre_of`)
and passed to every partition, and hydro sums add each site's plants in plant order.

Dask is an optional extra, imported only here and only for ``engine="dask"``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import columns, costs, join, outlines, score, sovereignty, territories
from geo._arrays import arrays
from geo.errors import DependencyError, SettingsError
from geo.io import dataset as _dataset
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
    #: Row-wise steps between the stage and the ranking (partitioned runs only; the
    #: in-memory path applies them in :func:`geo.pipeline.rank_sites`).
    bloc: str | None = None
    regimes: list[str] = field(default_factory=list)
    rules: Any = None
    who: territories.Filter | None = None
    #: The synthetic-grid clause of the reasons (:data:`geo.pipeline.SYNTHETIC_NOTE`).
    grid_note: str = ""


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


@dataclass
class DatasetSummary:
    """What a partitioned run keeps in memory: counts and the candidates that can be on top.

    ``heads``: the best ``top`` sites of every partition after keeping one per point of
    interconnection, with their global ranks, sorted by rank; the best ``top`` sites one per
    POI over all candidates are among them (a site beaten locally by sites of ``k`` other
    POIs is beaten globally by at least ``k`` POIs' best sites).
    """

    count: int
    tiers: dict[str, int]
    heads: gpd.GeoDataFrame
    partitions: int
    path: Path


def rank_partition(sites: gpd.GeoDataFrame, context: StageContext, settings: Settings,
                   centres: dict[str, tuple[float, float] | None] | None) -> gpd.GeoDataFrame:
    """The stage, the bloc filter, the transfer tags and the ranking of one partition.

    Every score is a function of its row alone (:mod:`geo.score`), so only ``rank`` is
    partition-local here; :func:`rank_to_dataset` replaces it with the global rank. The
    reasons' clause on what separated a site from the one ranked above it is left out.
    """
    out = stage(sites, context, settings, centres)
    if context.bloc is not None:
        out = sovereignty.keep_bloc(out, context.bloc, context.layers.sovereignty)
    if context.who is not None:
        out = context.who.keep(out)
    if context.regimes:
        out = sovereignty.tag_transfers(out, context.regimes, context.rules)
    # the "; below #k: ..." clause compares a site with the one ranked just above it; in a
    # partition that is a local neighbour, so partitioned runs leave the clause out
    ranked = score.rank(out, context.load_mw, settings, grid_note=context.grid_note,
                        separation=False)
    return gpd.GeoDataFrame(ranked[columns.order(ranked.columns)], geometry="geometry",
                            crs="EPSG:4326")


def order_keys(ranked: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """The keys of :func:`geo.score.rank`'s order before the costs are grouped
    (:func:`geo.score.raw_order_keys`: :func:`global_ranks` groups them over every
    partition), with the site id as text in place of its partition-local code, so keys of
    different partitions compare.

    Site ids are kept as bytes when they are ASCII (H3 cells are: a third of the memory of
    text), which sorts the same.
    """
    ids = ranked["site_id"].astype(str).to_numpy()
    try:
        ids = ids.astype("S")
    except UnicodeEncodeError:
        ids = ids.astype("U")
    keys = score.raw_order_keys(arrays(ranked), ranked["tier"].astype(str).to_numpy(),
                                ranked["land_score"].to_numpy(dtype=float))
    return (*keys[:-1], ids)


def _draft(sites: gpd.GeoDataFrame, context: StageContext, settings: Settings,
           centres: dict[str, tuple[float, float] | None] | None, tmp: Path,
           i: int) -> dict[str, Any]:
    """Pass 1 on a worker: rank a partition, write its draft, return only the keys."""
    ranked = rank_partition(sites, context, settings, centres)
    if len(ranked) == 0:
        return {"n": 0}
    path = _dataset.write_draft(ranked, tmp, i)
    tiers = ranked["tier"].value_counts()
    return {"n": len(ranked), "keys": order_keys(ranked), "schema": _dataset.draft_schema(path),
            "tiers": {str(k): int(v) for k, v in tiers.items()},
            # the dtypes the heads had in memory (read back, a bool column with nulls
            # is object, without them bool)
            "dtypes": ranked.dtypes.drop(ranked.geometry.name)}


def _finish(tmp: Path, i: int, ranks: np.ndarray, schema: Any, provenance: dict[str, Any],
            top: int) -> tuple[Any, gpd.GeoDataFrame]:
    """Pass 2 on a worker: the part's best ``top`` sites by global rank (one per POI), then
    the part written with its global ranks (:func:`geo.io.dataset.finish_part`)."""
    draft = gpd.read_parquet(_dataset.draft_path(tmp, i))
    heads = score.one_per_poi(draft.assign(rank=ranks, part_row=np.arange(len(draft))))
    heads = heads.head(top)
    heads = heads.assign(rank=np.asarray(ranks)[heads["part_row"].to_numpy()])
    return _dataset.finish_part(tmp, i, ranks, schema, provenance), heads


def global_ranks(keys: list[tuple[np.ndarray, ...]],
                 cost_tie_share: float = 0.0) -> list[np.ndarray]:
    """The global rank (1..N) of every row of every partition, from the raw order keys
    (:func:`order_keys`): the costs are grouped over all partitions together
    (:func:`geo.score.cost_groups`), as :func:`geo.score.rank` groups them over all sites.

    A partition's own order (its draft's rows, in local rank order) may differ from the
    global one only inside a cost group (its groups were made without the other
    partitions); :func:`geo.io.dataset.finish_part` writes each part in global order.

    Raises :class:`AssertionError` when a partition's own order is not its keys' order
    grouped alone (:func:`geo.score.rank` then orders by something else and
    :func:`order_keys` must follow it).
    """
    if not keys:
        return []
    for part in keys:
        local = np.lexsort(tuple(reversed(score.cost_groups(list(part), cost_tie_share))))
        if len(local) > 1 and not (local == np.arange(len(local))).all():
            raise AssertionError("a partition's ranking disagrees with geo.engine.order_keys")
    together = score.cost_groups([np.concatenate([k[i] for k in keys])
                                  for i in range(len(keys[0]))], cost_tie_share)
    order = np.lexsort(tuple(reversed(together)))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return np.split(ranks, np.cumsum([len(k[0]) for k in keys])[:-1])


def rank_to_dataset(sites: gpd.GeoDataFrame, context: StageContext, settings: Settings,
                    target: Path, provenance: Callable[[int, dict[str, int]], dict[str, Any]],
                    *, scheduler: str | None = None, partition_sites: int | None = None,
                    top: int = 25) -> DatasetSummary:
    """Stage and rank ``sites`` on Dask and write them as a partitioned GeoParquet dataset.

    No process ever holds every ranked site: pass 1 ranks each partition on a worker and
    writes a draft part (partition-local ranks), returning only the order keys (tier,
    score, site id: about 30 bytes a site) and the partition's best sites; the client
    orders the keys (:func:`global_ranks`) and pass 2 gives every part its global ranks
    and the provenance (:mod:`geo.io.dataset`). Workers must share the file system of
    ``target`` (on a real cluster: a shared mount).

    Parameters
    ----------
    sites, context, settings
        As :func:`run_candidate_stage`; ``context.bloc``, ``regimes`` and ``rules`` are
        applied per partition.
    target
        The dataset folder (``<region>_sites.parquet``).
    provenance
        ``provenance(count, tiers)``: the dictionary written into every part, built once
        the counts are known.
    scheduler, partition_sites
        As :func:`run_candidate_stage`.
    top
        Sites per partition kept in :attr:`DatasetSummary.heads`.
    """
    if partition_sites is None:
        partition_sites = PARTITION_SITES
    if isinstance(partition_sites, bool) or not isinstance(partition_sites, int) \
            or partition_sites < 1:
        raise SettingsError(f"partition_sites must be a whole number >= 1, not {partition_sites!r}")
    dask, dask_geopandas, distributed = import_dask()
    tmp = _dataset.temp_dir(target)
    try:
        with _cluster(distributed, scheduler) as client:
            ordered = sites.iloc[spatial_order(sites.geometry)]
            parts, centres, ctx, conf = _scatter(client, dask, dask_geopandas, ordered,
                                                 context, settings, partition_sites)
            del ordered
            log.info("dask: %d sites in %d partitions on %s, writing %s", len(sites),
                     len(parts), client.scheduler.address, target)
            drafts = dask.compute(*[dask.delayed(_draft)(p, ctx, conf, centres, tmp, i)
                                    for i, p in enumerate(parts)])
            used = [(i, d) for i, d in enumerate(drafts) if d["n"]]
            ranks = global_ranks([d.pop("keys") for _, d in used], settings.cost_tie_share)
            tiers: dict[str, int] = {}
            for _, d in used:
                for t, n in d["tiers"].items():
                    tiers[t] = tiers.get(t, 0) + n
            count = sum(d["n"] for _, d in used)
            prov = provenance(count, dict(sorted(tiers.items())))
            schema = _dataset.common_schema([d["schema"] for _, d in used]) if used else None
            futures = [client.submit(_finish, tmp, i, r, schema, prov, top, pure=False)
                       for (i, _), r in zip(used, ranks, strict=True)]
            del ranks
            done = client.gather(futures)
            written = [w for w, _ in done]
            heads = [h.astype({c: t for c, t in d["dtypes"].items() if h[c].dtype != t})
                     for (_, d), (_, h) in zip(used, done, strict=True)]
        _dataset.finish(tmp, target, list(written), prov)
    except BaseException:
        _dataset.discard(tmp)
        raise
    top_frame = (pd.concat(heads, ignore_index=True) if heads
                 else rank_partition(sites.iloc[:0], context, settings, None)
                 .assign(part_row=0))
    top_frame = top_frame.sort_values("rank", kind="mergesort").reset_index(drop=True)
    return DatasetSummary(count=count, tiers=dict(sorted(tiers.items())),
                          heads=gpd.GeoDataFrame(top_frame.drop(columns="part_row"),
                                                 geometry="geometry", crs="EPSG:4326"),
                          partitions=len(used), path=target)


@contextlib.contextmanager
def _cluster(distributed: Any, scheduler: str | None) -> Iterator[Any]:
    """A client of ``scheduler``, or of a local two-worker cluster closed afterwards."""
    cluster = None
    if scheduler is None:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    else:
        client = distributed.Client(scheduler)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _scatter(client: Any, dask: Any, dask_geopandas: Any, ordered: gpd.GeoDataFrame,
             context: StageContext, settings: Settings, partition_sites: int
             ) -> tuple[list[Any], dict[str, Any], Any, Any]:
    """Partitions of ``ordered`` (spatially sorted sites), the global outline centres and the
    broadcast context."""
    nparts = max(1, -(-len(ordered) // partition_sites))
    with dask.config.set({"dataframe.convert-string": False}):  # keep object columns as-is
        frame = dask_geopandas.from_geopandas(ordered, npartitions=nparts, sort=False)
    ctx = client.scatter(context, broadcast=True)
    conf = client.scatter(settings, broadcast=True)
    lays = client.scatter(context.layers, broadcast=True)
    parts = frame.to_delayed()
    outside = dask.compute(*[dask.delayed(outlines.outside_lonlat)(p, lays) for p in parts])
    centres = {name: outlines.centre_of(np.concatenate([o[name] for o in outside]))
               for name in outlines.OUTLINE_LAYERS}
    return parts, centres, ctx, conf


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
    """Positions that sort points along a Hilbert curve of lon/lat
    (:meth:`geopandas.GeoSeries.hilbert_distance` over the whole globe, 16 bits an axis)."""
    key = points.hilbert_distance(total_bounds=(-180.0, -90.0, 180.0, 90.0), level=16)
    return np.argsort(key.to_numpy(), kind="stable")


def _dask_stage(sites: gpd.GeoDataFrame, context: StageContext, settings: Settings,
                scheduler: str | None, partition_sites: int) -> gpd.GeoDataFrame:
    dask, dask_geopandas, distributed = import_dask()
    perm = spatial_order(sites.geometry)
    with _cluster(distributed, scheduler) as client:
        parts, centres, ctx, conf = _scatter(client, dask, dask_geopandas, sites.iloc[perm],
                                             context, settings, partition_sites)
        log.info("dask: %d sites in %d partitions on %s", len(sites), len(parts),
                 client.scheduler.address)
        done = dask.compute(*[dask.delayed(stage)(p, ctx, conf, centres) for p in parts])
    return pd.concat(done).iloc[np.argsort(perm)]  # back to the input row order
