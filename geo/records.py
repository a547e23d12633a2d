"""The typed records of the pipeline (:mod:`geo.pipeline`): what a run takes
(:class:`Request`, :class:`LandInput`, :class:`DataRules`, :class:`Execution`), what each
step hands to the next (:class:`Prepared`, :class:`Gridded`, :class:`Staged`) and what it
returns (:class:`RankResult`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.engine import DatasetSummary
from geo.grid import GridGraph
from geo.partitions import Surface
from geo.settings import Settings
from layers import Layers

#: ``progress(step, done, total)``: how long steps report (the CLI draws a bar).
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
    grid: GridGraph
    metrics: pd.DataFrame
    provenance: dict[str, Any]
    queued: pd.DataFrame | None = None
    dataset: DatasetSummary | None = None


@dataclass(frozen=True)
class Request:
    """What to rank: the region, the candidate sites, the new load and what to keep
    (:func:`rank_sites` documents each field under the same name)."""

    region: str = "US"
    candidates: str | gpd.GeoDataFrame = "substations"
    load_mw: float = 300.0
    top: int = 25
    all_candidates: bool = False
    allow_outside: bool = False
    queued_loads: str | Path | pd.DataFrame | None = None
    iso: str | Sequence[str] | None = None
    utility: str | Sequence[str] | None = None


@dataclass(frozen=True)
class LandInput:
    """The user's land prices (``land_prices``, ``land_unit``, ``price_column``)."""

    prices: str | Path | None = None
    unit: str | None = None
    price_column: str | None = None


@dataclass(frozen=True)
class DataRules:
    """Where data may stay (``sovereignty_bloc``) and whose data it is (``data_from``)."""

    bloc: str | None = None
    data_from: str | Sequence[str] | None = None


@dataclass(frozen=True)
class Execution:
    """Where and how the candidate stage runs (``engine``, ``scheduler``,
    ``partition_sites``, ``dataset``) and who hears of its progress."""

    engine: str = "local"
    scheduler: str | None = None
    partition_sites: int | None = None
    dataset: str | Path | None = None
    progress: Progress | None = None


@dataclass(frozen=True)
class Prepared:
    """Step 1 (:func:`prepare`): the inputs checked, the layers and the candidate sites."""

    request: Request
    land: LandInput
    data: DataRules
    execution: Execution
    settings: Settings
    bundle: Layers
    #: the candidates, or an H3 surface whose cells the Dask workers generate
    #: (:mod:`geo.partitions`)
    sites: gpd.GeoDataFrame | Surface
    rules: Any
    regimes: list[str]
    #: the checked ``iso``/``utility`` filter (:func:`geo.territories.check_filter`), or None
    who: Any = None


@dataclass(frozen=True)
class Gridded:
    """Step 2 (:func:`grid_step`): the grid, its metrics at the reachable POIs, the queued
    loads and what the reasons say about the grid."""

    graph: GridGraph
    metrics: pd.DataFrame
    queued: pd.DataFrame | None
    synthetic: bool
    grid_note: str
    #: the one-line warning of a region with too few mapped substations, else None
    thin_grid: str | None = None


@dataclass(frozen=True)
class Staged:
    """Step 3 (:func:`stage`): every candidate ranked, the sites to show, the provenance."""

    ranked: gpd.GeoDataFrame
    shown: gpd.GeoDataFrame
    provenance: dict[str, Any]
    dataset: DatasetSummary | None = None
