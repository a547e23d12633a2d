"""The one pipeline: :func:`rank_sites`. The CLI and the Python API both end here."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

import layers as layers_pkg
from geo import candidates as candidates_mod
from geo import columns, grid, join, portfolio, prices, score, sovereignty
from geo import engine as engine_mod
from geo.errors import GeoRankError, GridError, SettingsError
from geo.grid import queue
from geo.load import check_load
from geo.provenance import build_provenance
from geo.settings import Settings
from layers import Layers, grids

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass
class RankResult:
    """What :func:`rank_sites` returns.

    Attributes
    ----------
    sites
        The ranked sites to report: the top ``top`` with one site per point of
        interconnection, or every candidate when ``all_candidates`` was asked.
    ranked
        Every candidate, ranked (before the one-per-POI rule and the top cut).
    layers, grid, metrics
        The inputs and the per-substation grid metrics the ranking used.
    queued
        The queued loads added to the base case (``sub_id``, ``mw``, ``attach_km``), if any.
    provenance
        Version, settings, data sources and run facts; written into every export.
    dataset
        With ``rank_sites(dataset=...)``: the partitioned GeoParquet dataset written (every
        candidate); ``ranked`` then holds only the candidates that can be on top (the best
        sites of each partition, one per POI, with their global ranks).
    """

    sites: gpd.GeoDataFrame
    ranked: gpd.GeoDataFrame
    layers: Layers
    grid: grid.GridGraph
    metrics: pd.DataFrame
    provenance: dict[str, Any]
    queued: pd.DataFrame | None = None
    dataset: engine_mod.DatasetSummary | None = None


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


def machine_memory() -> float:
    """This machine's physical memory, bytes (NaN where the system does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("nan")


def _warn_memory(bundle: Layers, candidates: Any, engine: str) -> None:
    """Say before the long work when an H3 surface ranked in one process would need more
    than 80 % of this machine's memory (candidates.BYTES_PER_CELL per cell)."""
    if engine != "local" or not isinstance(candidates, str):
        return
    kind, res = candidates_mod.parse_kind(candidates)
    if kind != "h3" or not isinstance(res, int):
        return
    cells, need = candidates_mod.h3_estimate(bundle.boundary, res)
    have = machine_memory()
    if need > 0.8 * have:
        log.warning("--candidates %s over %s: about %s cells, about %.0f GB in one process "
                    "(%s KB a cell); this machine has %.0f GB: use --engine dask with a "
                    "partitioned dataset, a smaller region or a coarser resolution",
                    candidates, bundle.region, f"{cells:,.0f}", need / 1e9,
                    f"{candidates_mod.BYTES_PER_CELL / 1e3:.1f}", have / 1e9)


def _land_source(bundle: Layers) -> str:
    """Where the land prices of a run came from (for provenance)."""
    user = getattr(bundle, "sources", {}).get("land_raster", {}).get("status") == "user"
    if user:
        return bundle.sources["land_raster"]["path"]
    entry = getattr(bundle, "sources", {}).get("land_prices", {})
    if entry.get("status") in ("user", "empty"):
        return entry.get("path") or "none"
    return "embedded state averages"


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
) -> RankResult:
    """Rank candidate sites for a new load: power first, land follows.

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
    ['A', 'A', 'A']
    """
    settings = settings or Settings()
    load_mw = check_load(load_mw)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise SettingsError(f"--top {top!r}: must be a whole number of at least 1")
    if engine not in engine_mod.ENGINES:
        raise SettingsError(f"--engine {engine!r}: use one of {', '.join(engine_mod.ENGINES)}")
    if engine == "dask":
        engine_mod.import_dask()  # the install hint before any long work
    if dataset is not None and engine != "dask":
        raise SettingsError("a partitioned dataset needs --engine dask")
    bundle = layers if layers is not None else layers_pkg.load(region,
                                                               grid=settings.grid_source)
    if sovereignty_bloc is not None:
        sovereignty.check_bloc(sovereignty_bloc, bundle.sovereignty)  # before the long work
    if settings.electricity_prices_file is not None:  # refused before the long work
        prices.read_table(Path(settings.electricity_prices_file))
    rules = sovereignty.load_rules() if data_from else None
    regimes = sovereignty.check_origins(data_from, rules) if rules is not None else []

    _warn_memory(bundle, candidates, engine)
    sites = candidates_mod.generate(bundle, candidates, min_kv=settings.candidate_min_kv,
                                    allow_outside=allow_outside)
    if len(sites) == 0:
        raise GeoRankError(
            f"no candidate sites in {bundle.region} for --candidates {candidates!r}"
            f" at or above {settings.candidate_min_kv:g} kV; lower --min-kv or widen the region")

    graph = grid.build(bundle.substations, bundle.lines, settings,
                       getattr(bundle, "territories", None))
    report = graph.report
    on_osm = getattr(bundle, "grid", "") == grids.OSM
    mapped = int(grids.connectable(bundle.in_region("substations")).sum()) if on_osm else 0
    if on_osm and mapped < THIN_GRID:
        log.warning("%s: the embedded OpenStreetMap grid (2016) has only %d substations "
                    "here; it ranks what was mapped, not the whole network", bundle.region,
                    mapped)
    if report.lines_total and not report.lines_in_graph:
        raise GridError(
            f"none of the {report.lines_total:,} lines connects two substations: "
            f"{report.unsnapped_line_ends:,} line ends lie more than "
            f"{settings.snap_tolerance_km:g} km from a substation of their voltage; check the "
            "lines' CRS and voltages, or raise snap_tolerance_km in --config")
    hosting_progress = (lambda done, total: progress("hosting", done, total)) if progress else None
    pois = join.reachable_pois(sites, bundle.substations, settings)
    queued = None
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
    context = engine_mod.StageContext(bundle, metrics, load_mw, land_prices=land_prices,
                                      land_unit=land_unit, price_column=price_column)

    synthetic = synthetic_grid(bundle)
    grid_note = (SYNTHETIC_NOTE if synthetic
                 else OSM_NOTE.format(share=settings.assumed_utilisation)
                 if on_osm else "")
    context.grid_note = grid_note

    def provenance_of(count: int, written: int, tiers: dict[str, int]) -> dict[str, Any]:
        return build_provenance(
            settings, bundle.sources, bundle.region, load_mw,
            extra={
                "candidates": candidates if isinstance(candidates, str) else "GeoDataFrame",
                "candidate_count": count,
                "sites_written": written,
                "all_candidates": all_candidates,
                "top": top,
                "land_prices": str(land_prices) if land_prices else _land_source(bundle),
                "sovereignty_filter": sovereignty_bloc,
                "data_from": regimes,
                "engine": engine,
                "tiers": tiers,
                "synthetic_grid": synthetic,
                "grid_source": getattr(bundle, "grid", "user"),
                "attribution": grids.attribution(bundle.sources),
                "grid": graph.report.as_dict(),
                "queued_loads": None if queued is None else {
                    "source": str(queued_loads) if isinstance(queued_loads, (str, Path))
                    else "frame", "loads": len(queued), "mw": float(queued["mw"].sum())},
            },
        )

    summary = None
    if dataset is not None:
        context.bloc, context.regimes, context.rules = sovereignty_bloc, regimes, rules
        written: dict[str, Any] = {}

        def dataset_provenance(count: int, tiers: dict[str, int]) -> dict[str, Any]:
            written["provenance"] = provenance_of(count, count, tiers)
            return written["provenance"]

        summary = engine_mod.rank_to_dataset(sites, context, settings, Path(dataset),
                                             dataset_provenance, scheduler=scheduler,
                                             partition_sites=partition_sites, top=top)
        if summary.count == 0:
            raise GeoRankError(f"no candidate site in {bundle.region} lies in bloc "
                               f"{sovereignty_bloc!r}")
        ranked = _order(summary.heads)
        shown = _order(score.one_per_poi(ranked).head(top))
        provenance = written["provenance"]
    else:
        enriched = engine_mod.run_candidate_stage(sites, context, settings, engine=engine,
                                                  scheduler=scheduler,
                                                  partition_sites=partition_sites)
        if sovereignty_bloc is not None:
            enriched = sovereignty.keep_bloc(enriched, sovereignty_bloc, bundle.sovereignty)
            if len(enriched) == 0:
                raise GeoRankError(f"no candidate site in {bundle.region} lies in bloc "
                                   f"{sovereignty_bloc!r}")
        if regimes:
            enriched = sovereignty.tag_transfers(enriched, regimes, rules)
        ranked = _order(score.rank(enriched, load_mw, settings, grid_note=grid_note))
        shown = ranked if all_candidates else _order(score.one_per_poi(ranked).head(top))
        tiers = ranked["tier"].value_counts().sort_index()
        provenance = provenance_of(len(ranked), len(shown),
                                   {str(k): int(v) for k, v in tiers.items()})
    shown = _with_shares(shown, settings.flexible_load)
    log.info("ranked %d candidates in %s (grid metrics cache: %s)",
             len(ranked) if summary is None else summary.count,
             bundle.region, metrics.attrs.get("cache"))
    return RankResult(sites=shown, ranked=ranked, layers=bundle, grid=graph, metrics=metrics,
                      provenance=provenance, queued=queued, dataset=summary)


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
        .head(100).to_dict("records"), "hosting_runs": chosen.checks}}
    return result, chosen
