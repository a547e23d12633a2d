"""The one pipeline: :func:`rank_sites`. The CLI and the Python API both end here.

It runs in four steps, each a function of the records before it (:mod:`geo.records`):
:func:`prepare` (check the inputs, load the layers, generate the candidates),
:func:`grid_step` (the grid and its metrics at the reachable POIs), :func:`stage` (join,
filter, price and rank every candidate) and :func:`finish` (the sites shown, the result).
:func:`run` chains them; :func:`rank_sites` is :func:`run` with one keyword per field."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import layers as layers_pkg
from geo import candidates as candidates_mod
from geo import columns, grid, join, portfolio, prices, score, sovereignty, territories
from geo import engine as engine_mod
from geo import partitions as partitions_mod
from geo._memory import release_memory
from geo.errors import GeoRankError, GridError, SettingsError
from geo.grid import queue
from geo.load import check_load
from geo.provenance import build_provenance
from geo.records import (
    DataRules,
    Execution,
    Gridded,
    LandInput,
    Prepared,
    Progress,
    RankResult,
    Request,
    Staged,
)
from geo.settings import Settings
from layers import Layers, grids

log = logging.getLogger(__name__)

__all__ = ["DataRules", "Execution", "LandInput", "RankResult", "Request", "finish",
           "grid_step", "prepare", "rank_portfolio", "rank_sites", "run", "stage"]


def _order(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The exported site columns in the table's order (:func:`geo.columns.order`)."""
    return gpd.GeoDataFrame(sites[columns.order(sites.columns)], geometry="geometry",
                            crs="EPSG:4326")


def _with_shares(shown: gpd.GeoDataFrame, flexible: bool = False) -> gpd.GeoDataFrame:
    """``shown`` (in output order) with ``shares_limit_with``
    (:func:`geo.portfolio.shares_limit_with`) in its place: inserted into a shallow copy
    when the other columns keep their order, so that a million rows are not copied twice."""
    name = "shares_limit_with"
    values = portfolio.shares_limit_with(shown, flexible=flexible)
    if name not in shown.columns:
        target = columns.order([*shown.columns, name])
        if [c for c in target if c != name] == list(shown.columns):
            out = shown.copy(deep=False)
            out.insert(target.index(name), name, values)
            return out
    return _order(shown.assign(**{name: values}))


#: Fewer substations than this in a region's embedded OSM grid is said in one line (Bhutan
#: has 3 in the 2016 extract).
THIN_GRID = 10
#: What the reasons say about grid figures on the embedded grids.
SYNTHETIC_NOTE = "on the embedded synthetic test grid (USA TAMU)"
OSM_NOTE = ("on OpenStreetMap 2016 topology (voltage-class ratings, lines assumed {share:.0%} "
            "loaded, © OpenStreetMap contributors)")


def synthetic_grid(bundle: Layers) -> bool:
    """True when the grid (substations or lines) is the embedded synthetic USA TAMU system."""
    sources = getattr(bundle, "sources", {})
    return any(sources.get(kind, {}).get("status") == "synthetic"
               for kind in ("substations", "lines"))


def _land_source(bundle: Layers) -> str:
    """Where the land prices of a run came from (for provenance)."""
    user = getattr(bundle, "sources", {}).get("land_raster", {}).get("status") == "user"
    if user:
        return bundle.sources["land_raster"]["path"]
    entry = getattr(bundle, "sources", {}).get("land_prices", {})
    if entry.get("status") in ("user", "empty"):
        return entry.get("path") or "none"
    return "embedded state averages"


def prepare(request: Request, land: LandInput, data: DataRules, execution: Execution,
            settings: Settings, layers: Layers | None = None) -> Prepared:
    """Check every input that can be checked before the long work, load the layers and
    generate the candidate sites."""
    request = replace(request, load_mw=check_load(request.load_mw))
    top, engine = request.top, execution.engine
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise SettingsError(f"--top {top!r}: must be a whole number of at least 1")
    if engine not in engine_mod.ENGINES:
        raise SettingsError(f"--engine {engine!r}: use one of {', '.join(engine_mod.ENGINES)}")
    if engine == "dask":
        engine_mod.import_dask()  # the install hint before any long work
    if execution.dataset is not None and engine != "dask":
        raise SettingsError("a partitioned dataset needs --engine dask")
    bundle = layers if layers is not None else layers_pkg.load(request.region,
                                                               grid=settings.grid_source)
    if data.bloc is not None:
        sovereignty.check_bloc(data.bloc, bundle.sovereignty)  # before the long work
    who = territories.check_filter(bundle.territories, bundle.region, request.iso,
                                   request.utility)
    if settings.electricity_prices_file is not None:  # refused before the long work
        prices.read_table(Path(settings.electricity_prices_file))
    rules = sovereignty.load_rules() if data.data_from else None
    regimes = sovereignty.check_origins(data.data_from, rules) if rules is not None else []

    candidates_mod.warn_memory(bundle, request.candidates, engine)
    sites: gpd.GeoDataFrame | partitions_mod.Surface
    if (res := partitions_mod.cells_on_workers(request.candidates, engine,
                                                execution.dataset)) is not None:
        # an H3 surface into a dataset on Dask: the workers generate the cells
        sites = partitions_mod.survey(bundle, res, settings, execution.scheduler,
                                      partitions_mod.check_partition_sites(
                                          execution.partition_sites
                                          or engine_mod.PARTITION_SITES))
    else:
        sites = candidates_mod.generate(bundle, request.candidates,
                                        min_kv=settings.candidate_min_kv,
                                        allow_outside=request.allow_outside)
    if len(sites) == 0:
        raise GeoRankError(
            f"no candidate sites in {bundle.region} for --candidates {request.candidates!r}"
            f" at or above {settings.candidate_min_kv:g} kV; lower --min-kv or widen the region")
    return Prepared(request, land, data, execution, settings, bundle, sites, rules, regimes,
                    who)


def grid_step(prep: Prepared) -> Gridded:
    """Build the grid, add the queued loads and compute hosting and firm MW at every POI
    the candidates reach (:func:`geo.grid.metrics`, cached)."""
    bundle, settings, sites = prep.bundle, prep.settings, prep.sites
    graph = grid.build(bundle.substations, bundle.lines, settings,
                       getattr(bundle, "territories", None))
    report = graph.report
    on_osm = getattr(bundle, "grid", "") == grids.OSM
    mapped = int(grids.connectable(bundle.in_region("substations")).sum()) if on_osm else 0
    thin = None
    if on_osm and mapped < THIN_GRID:
        thin = (f"{bundle.region}: the embedded OpenStreetMap grid (2016) has only {mapped} "
                "substations here; it ranks what was mapped, not the whole network")
        log.warning("%s", thin)
    if report.lines_total and not report.lines_in_graph:
        raise GridError(
            f"none of the {report.lines_total:,} lines connects two substations: "
            f"{report.unsnapped_line_ends:,} line ends lie more than "
            f"{settings.snap_tolerance_km:g} km from a substation of their voltage; check the "
            "lines' CRS and voltages, or raise snap_tolerance_km in --config")
    progress = prep.execution.progress
    hosting_progress = (lambda done, total: progress("hosting", done, total)) if progress else None
    pois = (sites.pois if isinstance(sites, partitions_mod.Surface)
            else join.reachable_pois(sites, bundle.substations, settings))
    queued = None
    queued_loads = prep.request.queued_loads
    if queued_loads is not None:
        table = (queue.read(queued_loads) if isinstance(queued_loads, (str, Path))
                 else queued_loads)
        source = (f"--queued-loads {queued_loads}" if isinstance(queued_loads, (str, Path))
                  else "queued_loads")
        queued = queue.attach(table, graph.substations, settings, source)
    metrics = grid.metrics(graph, bundle.plants, settings, sub_ids=pois,
                           progress=hosting_progress, queued=queued)

    reachable = metrics["hosting_status"].reindex(pois)
    if len(pois) and (reachable == "no_generation").all():
        raise GridError(
            f"no generation in the grid islands the {len(sites):,} candidate sites reach: "
            f"the plants layer has no plant of {', '.join(settings.participation_fuels)} "
            "there; give --plants with the generators that serve these substations")
    synthetic = synthetic_grid(bundle)
    grid_note = (SYNTHETIC_NOTE if synthetic
                 else OSM_NOTE.format(share=settings.assumed_utilisation)
                 if on_osm else "")
    return Gridded(graph, metrics, queued, synthetic, grid_note, thin)


def _provenance(prep: Prepared, gridded: Gridded, count: int, written: int,
                tiers: dict[str, int], figures: dict[str, str] | None) -> dict[str, Any]:
    """The run's provenance (:func:`geo.provenance.build_provenance`) with its facts
    (``figures``: :func:`geo.prices.figures_outside_us` of every ranked site)."""
    request, bundle, queued = prep.request, prep.bundle, gridded.queued
    thin = gridded.thin_grid
    queued_loads = request.queued_loads
    return build_provenance(
        prep.settings, bundle.sources, bundle.region, request.load_mw,
        extra={
            "candidates": (request.candidates if isinstance(request.candidates, str)
                           else "GeoDataFrame"),
            "candidate_count": count,
            "sites_written": written,
            "all_candidates": request.all_candidates,
            "top": request.top,
            "land_prices": str(prep.land.prices) if prep.land.prices else _land_source(bundle),
            "sovereignty_filter": prep.data.bloc,
            "who_filter": None if prep.who is None else {
                "iso_rto": list(prep.who.isos), "utility_eia_id": list(prep.who.eia_ids)},
            "data_from": prep.regimes,
            "engine": prep.execution.engine,
            "tiers": tiers,
            "synthetic_grid": gridded.synthetic,
            "grid_source": getattr(bundle, "grid", "user"),
            "attribution": grids.attribution(bundle.sources),
            "grid": gridded.graph.report.as_dict(),
            "queued_loads": None if queued is None else {
                "source": str(queued_loads) if isinstance(queued_loads, (str, Path))
                else "frame", "loads": len(queued), "mw": float(queued["mw"].sum())},
            # outside the US only (a US run's provenance is unchanged)
            **({"figures_outside_us": figures} if figures else {}),
            **({"thin_grid": thin} if thin else {}),
        },
    )


def stage(prep: Prepared, gridded: Gridded) -> Staged:
    """Join, filter, price and rank every candidate (:mod:`geo.engine`, in this process or
    on Dask; with ``Execution.dataset`` straight into a partitioned dataset)."""
    request, data, execution = prep.request, prep.data, prep.execution
    bundle, settings = prep.bundle, prep.settings
    context = engine_mod.StageContext(bundle, gridded.metrics, request.load_mw,
                                      land_prices=prep.land.prices, land_unit=prep.land.unit,
                                      price_column=prep.land.price_column)
    context.grid_note = gridded.grid_note
    top = request.top
    if execution.dataset is not None:
        context.bloc, context.regimes, context.rules = data.bloc, prep.regimes, prep.rules
        context.who = prep.who
        written: dict[str, Any] = {}

        def dataset_provenance(count: int, tiers: dict[str, int],
                               figures: dict[str, str] | None) -> dict[str, Any]:
            written["provenance"] = _provenance(prep, gridded, count, count, tiers, figures)
            return written["provenance"]

        summary = engine_mod.rank_to_dataset(prep.sites, context, settings,
                                             Path(execution.dataset), dataset_provenance,
                                             scheduler=execution.scheduler,
                                             partition_sites=execution.partition_sites,
                                             top=top)
        if summary.count == 0:
            bloc = f"bloc {data.bloc!r}" if data.bloc else ""
            raise GeoRankError(f"no candidate site in {bundle.region} " + (
                f"lies in {bloc}" if prep.who is None else
                f"passes {prep.who.asked}" + (f" in {bloc}" if bloc else "")))
        ranked = _order(summary.heads)
        return Staged(ranked, _order(score.one_per_poi(ranked).head(top)),
                      written["provenance"], summary)
    assert isinstance(prep.sites, gpd.GeoDataFrame)  # a Surface only goes to a dataset
    enriched = engine_mod.run_candidate_stage(prep.sites, context, settings,
                                              engine=execution.engine,
                                              scheduler=execution.scheduler,
                                              partition_sites=execution.partition_sites)
    release_memory()  # the joins' working arrays
    if data.bloc is not None:
        enriched = sovereignty.keep_bloc(enriched, data.bloc, bundle.sovereignty)
        if len(enriched) == 0:
            raise GeoRankError(f"no candidate site in {bundle.region} lies in bloc "
                               f"{data.bloc!r}")
    enriched = territories.keep(enriched, prep.who, bundle.region)
    if prep.regimes:
        enriched = sovereignty.tag_transfers(enriched, prep.regimes, prep.rules)
    # the ranked frame is a copy in rank order: the columns move into it one at a time
    ranked = _order(score.rank(enriched, request.load_mw, settings,
                               grid_note=gridded.grid_note, consume=True))
    del enriched
    release_memory()
    shown = (ranked if request.all_candidates
             else _order(score.one_per_poi(ranked).head(top)))
    tiers = ranked["tier"].value_counts().sort_index()
    provenance = _provenance(prep, gridded, len(ranked), len(shown),
                             {str(k): int(v) for k, v in tiers.items()},
                             prices.figures_outside_us(ranked))
    return Staged(ranked, shown, provenance)


def finish(prep: Prepared, gridded: Gridded, staged: Staged) -> RankResult:
    """The shown sites with ``shares_limit_with``, and the :class:`RankResult`."""
    shown = _with_shares(staged.shown, prep.settings.flexible_load)
    summary = staged.dataset
    log.info("ranked %d candidates in %s (grid metrics cache: %s)",
             len(staged.ranked) if summary is None else summary.count,
             prep.bundle.region, gridded.metrics.attrs.get("cache"))
    return RankResult(sites=shown, ranked=staged.ranked, layers=prep.bundle,
                      grid=gridded.graph, metrics=gridded.metrics,
                      provenance=staged.provenance, queued=gridded.queued, dataset=summary)


def run(request: Request, land: LandInput | None = None, data: DataRules | None = None,
        execution: Execution | None = None, settings: Settings | None = None,
        layers: Layers | None = None) -> RankResult:
    """The pipeline in its four steps: :func:`prepare`, :func:`grid_step`, :func:`stage`,
    :func:`finish` (:func:`rank_sites` is the same with one keyword per field)."""
    prep = prepare(request, land or LandInput(), data or DataRules(), execution or Execution(),
                   settings or Settings(), layers)
    gridded = grid_step(prep)
    return finish(prep, gridded, stage(prep, gridded))


def rank_sites(
    region: str = "US",
    *,
    candidates: str | gpd.GeoDataFrame = "substations",
    load_mw: float = 300.0,
    settings: Settings | None = None,
    layers: Layers | None = None,
    land_prices: str | Path | None = None,
    land_unit: str | None = None,
    price_column: str | None = None,
    sovereignty_bloc: str | None = None,
    data_from: str | Sequence[str] | None = None,
    top: int = 25,
    all_candidates: bool = False,
    progress: Progress | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    partition_sites: int | None = None,
    queued_loads: str | Path | pd.DataFrame | None = None,
    dataset: str | Path | None = None,
    allow_outside: bool = False,
    iso: str | Sequence[str] | None = None,
    utility: str | Sequence[str] | None = None,
) -> RankResult:
    """Rank candidate sites for a new load: power first, land follows.

    One keyword per field of the records :func:`run` takes (:class:`Request`,
    :class:`LandInput`, :class:`DataRules`, :class:`Execution`).

    Parameters
    ----------
    region
        ``"US"`` or a state such as ``"US-TX"`` (ignored when ``layers`` is given).
    candidates
        ``"substations"``, ``"h3:<res>"``, a sites file path, or a GeoDataFrame of sites.
    load_mw
        The new load in MW.
    settings
        Every tunable (:class:`geo.settings.Settings`); defaults documented there.
    layers
        Pre-loaded layers (for example your own, read with :func:`layers.read_layer`).
    land_prices, land_unit
        A GeoTIFF or price polygons replacing the embedded land layer, and its unit.
    price_column
        The price column of ``land_prices`` polygons (in ``land_unit``); default
        ``price_usd_per_acre``.
    sovereignty_bloc
        Keep only sites whose data would stay inside this bloc (e.g. ``"EU/EEA"``).
    data_from
        Regime(s) whose personal data is to be processed (``"EU"``, ``"UK"``, ``"CN"``,
        ``"IN"``, ``"US"``): each site gets ``transfer_from_<regime>`` (allowed /
        conditional / not allowed) and the ``transfer_note`` in its reasons.
    top
        How many sites ``RankResult.sites`` keeps (one per point of interconnection).
    all_candidates
        Keep every candidate in ``RankResult.sites``.
    progress
        ``progress(step, done, total)`` for long steps (the CLI draws a bar).
    engine, scheduler
        Where the candidate stage (joins, sovereignty, costs) runs: ``"local"`` or
        ``"dask"`` (:mod:`geo.engine`; a local two-worker cluster, or the Dask scheduler at
        ``scheduler``). Both give the same result.
    partition_sites
        Sites per Dask partition (default :data:`geo.engine.PARTITION_SITES`, read when
        the function runs).
    queued_loads
        Loads already queued or under construction: a file (:func:`geo.grid.queue.read`) or a
        frame with ``mw`` and ``poi_sub_id`` or ``lat``/``lon``. They are added to the base
        case first, so hosting and firm MW are what remains after them.
    dataset
        With ``engine="dask"``: write every ranked candidate to this folder as a partitioned
        GeoParquet dataset (:func:`geo.engine.rank_to_dataset`: one file per partition,
        global ranks, provenance in each) instead of holding them in memory; for surfaces
        of millions of cells (``--engine dask --format parquet --all-candidates``).
    allow_outside
        Keep the user's sites that lie outside the region (with a warning) instead of
        refusing them (:func:`geo.candidates.check_in_region`).
    iso, utility
        Keep only sites whose ISO/RTO (``iso_rto``; ``"none"``: no ISO) or utility (name,
        case-insensitive, or EIA id) is one of these (:func:`geo.territories.check_filter`),
        before the ranking: the top ``top`` is the top within the filter.

    Returns
    -------
    RankResult

    Examples
    --------
    On the embedded US layers (the first run computes the grid and caches it):

    >>> result = rank_sites("US-RI", load_mw=100)
    >>> result.sites["poi_name"].head(3).tolist()
    ['Sherman Road Substation', 'West Farnum Substation', 'Ocean State Substation']
    >>> result.sites["tier"].head(3).tolist()
    ['B', 'B', 'B']
    """
    return run(
        Request(region=region, candidates=candidates, load_mw=load_mw, top=top,
                all_candidates=all_candidates, allow_outside=allow_outside,
                iso=iso, utility=utility,
                queued_loads=queued_loads),
        LandInput(prices=land_prices, unit=land_unit, price_column=price_column),
        DataRules(bloc=sovereignty_bloc, data_from=data_from),
        Execution(engine=engine, scheduler=scheduler, partition_sites=partition_sites,
                  dataset=dataset, progress=progress),
        settings=settings, layers=layers)


def rank_portfolio(region: str = "US", n: int = 25, *, load_mw: float = 300.0,
                   **kwargs: Any) -> tuple[RankResult, portfolio.Portfolio]:
    """Rank as :func:`rank_sites` (same keywords), then choose ``n`` sites that are firm
    together (:func:`geo.portfolio.choose`).

    Returns the ranking and the :class:`geo.portfolio.Portfolio`: its sites in the export's
    column order, its ``provenance`` the ranking's with a ``portfolio`` entry (asked, chosen,
    verified, the first 100 sites passed over and why, the hosting runs).
    """
    result = rank_sites(region, load_mw=load_mw, **kwargs)
    settings = kwargs.get("settings") or Settings()
    chosen = portfolio.choose(result.ranked, n, load_mw, result.grid, result.layers.plants,
                              settings, queued=result.queued)
    chosen.sites = _order(chosen.sites)
    chosen.provenance = {**result.provenance, "portfolio": {
        "asked": n, "chosen": len(chosen.sites), "verified": chosen.verified,
        "passed_over": chosen.passed_over[["site_id", "rank", "portfolio_reason"]]
        .head(100).to_dict("records"), "hosting_runs": chosen.checks,
        "joint_screen": None if chosen.joint is None else {
            "fits_share": chosen.joint.fits if np.isfinite(chosen.joint.fits) else None,
            "kind": chosen.joint.kind, "limiting_line_id": chosen.joint.limiting_line_id,
            "outage_line_id": chosen.joint.outage_line_id,
            "outages_screened": chosen.joint.outages, "cutoff_mw": chosen.joint.cutoff_mw,
            "passed_over": portfolio.passed_by_joint(chosen)}}}
    return result, chosen
