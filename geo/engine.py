"""The candidate stage on one process or on a Dask cluster.

The candidate stage is everything that is computed site by site: :func:`geo.join.enrich`
(POI, grid metrics, firm power, land, admin areas), :func:`geo.sovereignty.tag` and
:func:`geo.costs.estimate`. Ranking (a global sort) happens afterwards, in the caller.

``engine="local"`` runs it in this process. ``engine="dask"`` cuts the sites into
partitions of a dask-geopandas frame, spatially sorted (Hilbert curve of lon/lat) so that each
partition holds a compact patch of the map, broadcasts the layers, the grid metrics and the
settings to every worker once (``Client.scatter(..., broadcast=True)``) and runs the same
functions on each partition. The grid metrics are computed once, before, by the caller.
An H3 surface ranked into a partitioned dataset is not cut here: its partitions are lists of
coarse parent cells whose cells each worker generates itself (:mod:`geo.partitions`).

Both engines give the same bits. The two quantities of the stage that depend on more than
one site are made partition-independent: the projection centre of the outline distances is
computed from all sites first (:func:`geo.outlines.outside_lonlat`, :func:`geo.outlines.centre_of`)
and passed to every partition, and hydro sums add each site's plants in plant order.

Dask is an optional extra, imported only for ``engine="dask"`` (:mod:`geo.partitions`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import (
    _compact,
    columns,
    costs,
    join,
    outlines,
    prices,
    runs,
    score,
    sovereignty,
    territories,
)
from geo.errors import SettingsError
from geo.io import dataset as _dataset
from geo.partitions import (
    INSTALL_HINT,
    CellPart,
    Surface,
    check_partition_sites,
    cluster,
    import_dask,
    release_worker_memory,
    spatial_order,
    worker_memory_mb,
)
from geo.runs import global_ranks, order_keys
from geo.settings import Settings
from layers import Layers

log = logging.getLogger(__name__)

ENGINES = ("local", "dask")
__all__ = ["ENGINES", "INSTALL_HINT", "PARTITION_SITES", "DatasetSummary", "StageContext",
           "global_ranks", "import_dask", "order_keys", "rank_partition", "rank_to_dataset",
           "run_candidate_stage", "spatial_order", "stage"]
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
          centres: dict[str, tuple[float, float] | None] | None = None, *,
          compact: bool = False) -> gpd.GeoDataFrame:
    """Enrich, tag and cost ``sites`` (one partition, or all of them). With ``compact``,
    the repeated text is held as categories after the tags and after the costs
    (:func:`geo._compact.compact`: the costs' peak is then 0.4 GB lower at US H3 res 7)."""
    out = join.enrich(sites, context.layers, context.metrics, context.load_mw, settings,
                      land_prices=context.land_prices, land_unit=context.land_unit,
                      price_column=context.price_column, centres=centres)
    out = sovereignty.tag(out, context.layers.sovereignty)
    if compact:
        _compact.compact(out)
    out = costs.estimate(out, context.load_mw, settings)
    if compact:
        _compact.compact(out)
    return out


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
        columns; the repeated text as categories (:func:`geo._compact.compact`; pandas 3).

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
        return stage(sites, context, settings, compact=True)
    partition_sites = check_partition_sites(
        PARTITION_SITES if partition_sites is None else partition_sites)
    out = _dask_stage(sites, context, settings, scheduler, partition_sites)
    _compact.compact(out)  # as the local engine holds it
    return out


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


def _draft(sites: gpd.GeoDataFrame | CellPart, context: StageContext, settings: Settings,
           centres: dict[str, tuple[float, float] | None] | None, tmp: Path,
           i: int) -> dict[str, Any]:
    """Pass 1 on a worker: rank a partition (an H3 part generates its cells here), write
    its draft and its order keys (:func:`geo.runs.write_keys`), return only the counts and
    the worker's memory."""
    if isinstance(sites, CellPart):
        sites = sites.sites(context.layers.boundary)
    ranked = rank_partition(sites, context, settings, centres)
    del sites
    if len(ranked) == 0:
        return {"n": 0}
    path = _dataset.write_draft(ranked, tmp, i)
    keys = runs.order_keys(ranked)
    runs.check_local_order(keys, settings.cost_tie_share)
    runs.write_keys(tmp, i, keys)
    del keys
    tiers = ranked["tier"].value_counts()
    out = {"n": len(ranked),
           "schema": _dataset.draft_schema(path),
           "tiers": {str(k): int(v) for k, v in tiers.items()},
           "outside_us": prices.outside_us_counts(ranked),
           # the dtypes the heads had in memory (read back, a bool column with nulls
           # is object, without them bool)
           "dtypes": ranked.dtypes.drop(ranked.geometry.name)}
    del ranked, tiers
    release_worker_memory()
    out["memory_mb"] = (os.getpid(), *worker_memory_mb())
    return out


def _finish(tmp: Path, i: int, schema: Any, provenance: dict[str, Any],
            top: int, name: int | None = None
            ) -> tuple[Any, gpd.GeoDataFrame, tuple[int, float, float]]:
    """Pass 2 on a worker: the part's best ``top`` sites by global rank (one per POI), then
    the part written with its global ranks (:func:`geo.runs.read_ranks`) as part ``name``
    (the parts that hold sites are numbered 0, 1, ...: :func:`geo.io.dataset.finish_part`),
    and the worker's pid and memory after it."""
    ranks = runs.read_ranks(tmp, i)
    draft = gpd.read_parquet(_dataset.draft_path(tmp, i))
    best = score.one_per_poi(pd.DataFrame({"rank": ranks, "poi_sub_id": draft["poi_sub_id"],
                                           "part_row": np.arange(len(draft))}))
    rows = best["part_row"].to_numpy()[:top]
    # taken, not sliced: a slice of the draft would keep all of it alive on the worker
    # until the result is gathered (pass 2 grew a worker by ~40 MB a part on the US)
    heads = draft.take(rows).reset_index(drop=True).assign(rank=ranks[rows], part_row=rows)
    del draft, best
    written = _dataset.finish_part(tmp, i, ranks, schema, provenance, name)
    del ranks
    release_worker_memory()
    return written, heads, (os.getpid(), *worker_memory_mb())


def rank_to_dataset(sites: gpd.GeoDataFrame | Surface, context: StageContext,
                    settings: Settings, target: Path,
                    provenance: Callable[[int, dict[str, int], dict[str, str] | None],
                                         dict[str, Any]],
                    *, scheduler: str | None = None, partition_sites: int | None = None,
                    top: int = 25) -> DatasetSummary:
    """Stage and rank ``sites`` on Dask and write them as a partitioned GeoParquet dataset.

    No process ever holds every ranked site: pass 1 ranks each partition on a worker and
    writes a draft part (partition-local ranks) and its order keys; the global ranks come
    from sorted runs of the keys merged by blocks (:mod:`geo.runs`: neither the client nor
    a worker holds every key) and pass 2 gives every part its global ranks and the
    provenance (:mod:`geo.io.dataset`). Workers must share the file system of
    ``target`` (on a real cluster: a shared mount). An H3 :class:`~geo.partitions.Surface`
    is never generated on the client: each partition generates its cells on its worker.

    Parameters
    ----------
    sites, context, settings
        As :func:`run_candidate_stage`, or a surveyed H3 surface
        (:func:`geo.partitions.survey`, its own partitions); ``context.bloc``, ``regimes``
        and ``rules`` are applied per partition.
    target
        The dataset folder (``<region>_sites.parquet``).
    provenance
        ``provenance(count, tiers, figures)``: the dictionary written into every part,
        built once the counts are known (``figures``: :func:`geo.prices.figures_outside_us`
        over every site, None when all are in the US).
    scheduler, partition_sites
        As :func:`run_candidate_stage`.
    top
        Sites per partition kept in :attr:`DatasetSummary.heads`.
    """
    partition_sites = check_partition_sites(
        PARTITION_SITES if partition_sites is None else partition_sites)
    dask, dask_geopandas, distributed = import_dask()
    tmp = _dataset.temp_dir(target)
    try:
        with cluster(distributed, scheduler) as client:
            ctx = client.scatter(context, broadcast=True)
            conf = client.scatter(settings, broadcast=True)
            if isinstance(sites, Surface):
                parts: list[Any] = list(sites.parts)
                centres = sites.centres
                futures = [client.submit(_draft, p, ctx, conf, centres, tmp, i, pure=False)
                           for i, p in enumerate(parts)]
            else:
                parts, centres = _frame_parts(dask, dask_geopandas,
                                              sites.iloc[spatial_order(sites.geometry)],
                                              ctx, partition_sites)
                futures = client.compute([dask.delayed(_draft)(p, ctx, conf, centres, tmp, i)
                                          for i, p in enumerate(parts)])
            log.info("dask: %d sites in %d partitions on %s, writing %s", len(sites),
                     len(parts), client.scheduler.address, target)
            del parts
            drafts = _collect(distributed, futures)
            used = [(i, d) for i, d in enumerate(drafts) if d["n"]]
            _order(distributed, client, tmp, [i for i, _ in used],
                   [d["n"] for _, d in used], settings.cost_tie_share)
            tiers: dict[str, int] = {}
            for _, d in used:
                for t, n in d["tiers"].items():
                    tiers[t] = tiers.get(t, 0) + n
            count = sum(d["n"] for _, d in used)
            outside = None
            for _, d in used:
                outside = prices.add_counts(outside, d["outside_us"])
            prov = provenance(count, dict(sorted(tiers.items())), prices.figures_of(outside))
            schema = _dataset.common_schema([d["schema"] for _, d in used]) if used else None
            futures = [client.submit(_finish, tmp, i, schema, prov, top, k, pure=False)
                       for k, (i, _) in enumerate(used)]
            done = _gather(distributed, futures)
            for k, (_, _, (pid, now, peak)) in enumerate(done):
                log.info("dask: part %d written; its worker (pid %d) at %.0f MB "
                         "(peak %.0f MB)", k, pid, now, peak)
            written = [w for w, _, _ in done]
            heads = [h.astype({c: t for c, t in d["dtypes"].items() if h[c].dtype != t})
                     for (_, d), (_, h, _) in zip(used, done, strict=True)]
        runs.discard(tmp)
        _dataset.finish(tmp, target, list(written), prov)
    except BaseException:
        _dataset.discard(tmp)
        raise
    top_frame = (pd.concat(heads, ignore_index=True) if heads
                 else rank_partition(_no_sites(sites), context, settings, None)
                 .assign(part_row=0))
    top_frame = top_frame.sort_values("rank", kind="mergesort").reset_index(drop=True)
    return DatasetSummary(count=count, tiers=dict(sorted(tiers.items())),
                          heads=gpd.GeoDataFrame(top_frame.drop(columns="part_row"),
                                                 geometry="geometry", crs="EPSG:4326"),
                          partitions=len(used), path=target)


def _order(distributed: Any, client: Any, tmp: Path, parts: list[int], sizes: list[int],
           share: float) -> None:
    """The global ranks of the partitions ``parts`` (:mod:`geo.runs`, steps 2 to 4): the
    cost groups and the merge on the client, the sorted runs on the workers."""
    log.info("dask: pass 1 done, client at %.0f MB (peak %.0f MB)", *worker_memory_mb())
    groups = runs.write_starts(tmp, parts, share)
    futures = [client.submit(runs.sort_run, tmp, i, share, pure=False) for i in parts]
    counts = client.gather(futures)
    del futures
    if counts != sizes:
        raise AssertionError("the sorted runs' rows differ from the partitions'")
    runs.write_ranks(tmp, parts)
    log.info("dask: %d sites ordered (%d cost groups), client at %.0f MB (peak %.0f MB)",
             sum(sizes), groups, *worker_memory_mb())


def _gather(distributed: Any, futures: list[Any]) -> list[Any]:
    """The futures' results in their order, each taken (and let go on its worker) as it
    arrives, so that a worker holds no finished part's result."""
    index = {f.key: i for i, f in enumerate(futures)}
    out: list[Any] = [None] * len(futures)
    for future, result in distributed.as_completed(futures, with_results=True):
        out[index[future.key]] = result
        future.release()
    futures.clear()
    return out


def _collect(distributed: Any, futures: list[Any]) -> list[dict[str, Any]]:
    """Pass 1's results in partition order, each taken (and let go on its worker) as it
    arrives (every partition checked its own order: :func:`geo.runs.check_local_order`)."""
    index = {f.key: i for i, f in enumerate(futures)}
    drafts: list[dict[str, Any]] = [{}] * len(futures)
    for future, draft in distributed.as_completed(futures, with_results=True):
        i = index[future.key]
        future.release()
        if draft["n"]:
            pid, now, peak = draft.pop("memory_mb")
            log.info("dask: partition %d, %d sites; its worker (pid %d) at %.0f MB "
                     "(peak %.0f MB)", i, draft["n"], pid, now, peak)
        drafts[i] = draft
    futures.clear()
    return drafts


def _no_sites(sites: gpd.GeoDataFrame | Surface) -> gpd.GeoDataFrame:
    """No sites, in the columns of ``sites``."""
    if isinstance(sites, Surface):
        return CellPart(sites.res, np.empty(0, dtype=np.uint64)).sites(shapely.Point())
    return sites.iloc[:0]


def _frame_parts(dask: Any, dask_geopandas: Any, ordered: gpd.GeoDataFrame, ctx: Any,
                 partition_sites: int) -> tuple[list[Any], dict[str, Any]]:
    """Partitions of ``ordered`` (spatially sorted sites, embedded in the task graph) and
    the global outline centres."""
    nparts = max(1, -(-len(ordered) // partition_sites))
    with dask.config.set({"dataframe.convert-string": False}):  # keep object columns as-is
        frame = dask_geopandas.from_geopandas(ordered, npartitions=nparts, sort=False)
    parts = frame.to_delayed()
    outside = dask.compute(*[dask.delayed(_outside)(p, ctx) for p in parts])
    centres = {name: outlines.centre_of(np.concatenate([o[name] for o in outside]))
               for name in outlines.OUTLINE_LAYERS}
    return parts, centres


def _outside(sites: gpd.GeoDataFrame, context: StageContext) -> dict[str, np.ndarray]:
    """:func:`geo.outlines.outside_lonlat` with the broadcast context's layers."""
    return outlines.outside_lonlat(sites, context.layers)


def _dask_stage(sites: gpd.GeoDataFrame, context: StageContext, settings: Settings,
                scheduler: str | None, partition_sites: int) -> gpd.GeoDataFrame:
    dask, dask_geopandas, distributed = import_dask()
    perm = spatial_order(sites.geometry)
    with cluster(distributed, scheduler) as client:
        ctx = client.scatter(context, broadcast=True)
        conf = client.scatter(settings, broadcast=True)
        parts, centres = _frame_parts(dask, dask_geopandas, sites.iloc[perm], ctx,
                                      partition_sites)
        log.info("dask: %d sites in %d partitions on %s", len(sites), len(parts),
                 client.scheduler.address)
        done = dask.compute(*[dask.delayed(stage)(p, ctx, conf, centres) for p in parts])
    return pd.concat(done).iloc[np.argsort(perm)]  # back to the input row order
