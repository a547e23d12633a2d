"""``backtest``: measure a ranked H3 surface against known sites, beside naive proxies.

One function, :func:`backtest`, behind ``geo-rank evaluate``: it takes the surface the
pipeline produces (:func:`geo.rank_sites` with ``candidates="h3:<res>"``) or a ranking
exported with ``--all-candidates``, the known sites and background points
(:mod:`geo.backtest.points`), and returns the statistics of :mod:`geo.backtest.evaluate` for the
ranking and every proxy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import layers as layers_pkg
from geo.backtest import evaluate as ev
from geo.backtest import points as bp
from geo.errors import SettingsError
from geo.io import export
from geo.pipeline import rank_sites
from geo.provenance import build_provenance, provenance_fingerprint
from geo.settings import Settings
from layers import grids

log = logging.getLogger(__name__)

#: The label of the ranking's own score in the tables.
RANKING_LABEL = "geo-rank ranking (rank percentile)"
#: Background points drawn when none are given (issue 14).
DEFAULT_BACKGROUND = 3000
#: Bootstrap resamples of the AUC interval.
DEFAULT_BOOTSTRAP = 1000
#: H3 resolution of the surface when neither the flag nor a ranking file says.
DEFAULT_RESOLUTION = 6


@dataclass
class BacktestResult:
    """What :func:`backtest` returns.

    Attributes
    ----------
    table
        One row per score (the ranking first, then :data:`geo.backtest.points.PROXIES`):
        ``auc``, ``auc_low``, ``auc_high`` and the top-1/5/10 % shares of the known sites
        and of the background.
    points
        Every known and background point: ``kind``, ``name``, ``lat``, ``lon``,
        ``rank_percentile`` and the raw proxy values.
    scores
        ``label -> (known, background)`` "higher is better" arrays (for the ROC curves).
    layers
        The region's layers.
    provenance
        Version, settings, sources and the backtest's own inputs.
    by_type
        The table again for each group of known sites by ``type`` (:data:`TYPE_GROUPS`),
        with ``group`` and ``known_sites`` columns; None when the set has no type.
    """

    table: pd.DataFrame
    points: gpd.GeoDataFrame
    scores: dict[str, tuple[np.ndarray, np.ndarray]]
    layers: Any
    provenance: dict[str, Any] = field(default_factory=dict)
    by_type: pd.DataFrame | None = None


def _ranking_from_file(path: str | Path, region: str,
                       load_mw: float) -> tuple[pd.DataFrame, dict[str, Any]]:
    sites, prov = export.read_sites(path)
    prov = prov or {}
    if prov.get("region") and str(prov["region"]).upper() != region.upper():
        raise SettingsError(f"--ranking {path}: ranks region {prov['region']}, not {region}; "
                            f"pass --region {prov['region']}")
    if prov.get("all_candidates") is False:
        log.warning("--ranking %s holds the top %s sites only; points outside them score 0 "
                    "(export with --all-candidates)", path, prov.get("sites_written"))
    if isinstance(prov.get("load_mw"), int | float) and prov["load_mw"] != load_mw:
        log.warning("--ranking %s was ranked for %g MW, not --load-mw %g", path,
                    prov["load_mw"], load_mw)
    return pd.DataFrame(sites.drop(columns=sites.geometry.name)), prov


def backtest(
    known: gpd.GeoDataFrame,
    *,
    region: str = "US",
    load_mw: float = 300.0,
    resolution: int | None = None,
    background: int | gpd.GeoDataFrame = DEFAULT_BACKGROUND,
    seed: int = 0,
    ranking: str | Path | pd.DataFrame | None = None,
    settings: Settings | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    known_source: str = "known sites",
    clip_known: bool = False,
    layers: Any | None = None,
) -> BacktestResult:
    """Backtest the ranked H3 surface of ``region`` against ``known`` sites.

    Parameters
    ----------
    known
        Known sites (:func:`geo.backtest.points.read_known`), EPSG:4326 points with ``name``.
    region, load_mw, settings
        The ranking's region, load and settings (when it is computed here).
    resolution
        H3 resolution of the surface (default 6, or the ranking file's).
    background
        How many background points to draw uniformly over the region's land, or the
        points themselves (a GeoDataFrame, e.g. from ``--background-file``).
    seed
        Seeds the background, the random proxy and the bootstrap.
    ranking
        A ranking exported with ``--candidates h3:<res> --all-candidates`` (path or
        frame); default: rank the region now with :func:`geo.rank_sites`.
    n_boot
        Bootstrap resamples of the AUC interval.
    known_source
        How the known sites are named in messages and provenance.
    clip_known
        Leave out known sites outside the region (a national set on a state) instead of
        refusing them.
    layers
        The region's layers, if already loaded.

    Raises
    ------
    LayerValidationError
        Fewer than 5 known sites (after clipping), points outside the region, a ranking
        that is not an H3 surface.
    """
    settings = settings or Settings()
    bundle = layers if layers is not None else layers_pkg.load(region,
                                                               grid=settings.grid_source)
    region_code = bundle.region
    boundary = bundle.boundary
    known = bp.check_in_region(known, boundary, region_code, known_source, clip=clip_known)
    bp.check_count(known, known_source)
    if isinstance(background, gpd.GeoDataFrame):
        back = bp.check_in_region(background, boundary, region_code, "--background-file")
        background_source = "file"
    else:
        back = bp.sample_background(boundary, background, seed)
        background_source = f"uniform over the region's land (equal-area), seed {seed}"

    ranking_prov: dict[str, Any] = {}
    if ranking is None:
        res = DEFAULT_RESOLUTION if resolution is None else resolution
        result = rank_sites(region_code, candidates=f"h3:{res}", load_mw=load_mw,
                            settings=settings, layers=bundle, all_candidates=True)
        ranked: pd.DataFrame = result.ranked
        ranking_prov = result.provenance
        ranking_source = f"computed: rank_sites(candidates='h3:{res}')"
    elif isinstance(ranking, pd.DataFrame):
        ranked, ranking_source = ranking, "DataFrame"
    else:
        ranked, ranking_prov = _ranking_from_file(ranking, region_code, load_mw)
        ranking_source = str(ranking)
    surface = ev.surface_percentiles(ranked)
    res = ev.surface_resolution(surface)
    if resolution is not None and resolution != res:
        raise SettingsError(f"--resolution {resolution}: the ranking's cells are at "
                            f"resolution {res}; drop --resolution or re-rank")

    both = pd.concat([known.assign(kind="known"), back.assign(kind="background")],
                     ignore_index=True)
    both = gpd.GeoDataFrame(both, geometry="geometry", crs="EPSG:4326")
    lat, lon = both.geometry.y.to_numpy(), both.geometry.x.to_numpy()
    pct = ev.point_percentiles(lat, lon, surface, res)
    values = bp.proxies(both, bundle.substations, bundle.plants, seed)
    is_known = (both["kind"] == "known").to_numpy()

    surface_values = surface.to_numpy(dtype=float)
    named: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
        RANKING_LABEL: (pct[is_known], pct[~is_known], surface_values)}
    for label, s in bp.proxy_scores(values).items():
        named[label] = (s[is_known], s[~is_known], s[~is_known])
    other = _other_grid(bundle)
    if other is not None:  # the same naive proxies on the other embedded US network
        for label, s in bp.proxy_scores(bp.proxies(both, other.substations, other.plants,
                                                   seed)).items():
            named[f"{label} [{other.grid}]"] = (s[is_known], s[~is_known], s[~is_known])
    table = ev.score_table(named, n_boot=n_boot, seed=seed)
    by_type = _by_type(named, both.loc[is_known, "type"] if "type" in both else None,
                       n_boot, seed)
    points = gpd.GeoDataFrame(
        {"kind": both["kind"].to_numpy(), "name": both["name"].astype(str).to_numpy(),
         "lat": lat.round(6), "lon": lon.round(6), "rank_percentile": pct.round(6),
         **{c: both[c].to_numpy() for c in ("operator", "type", "mw",
                                             "coordinate_precision") if c in both.columns},
         **{c: values[c].to_numpy() for c in values.columns}},
        geometry=both.geometry.to_numpy(), crs="EPSG:4326")

    sources = dict(bundle.sources)
    provenance = build_provenance(settings, sources, region_code, load_mw, extra={
        "command": "evaluate",
        "known_sites": {"source": known_source, "count": int(is_known.sum())},
        "background": {"source": background_source, "count": int((~is_known).sum())},
        "seed": seed,
        "bootstrap_resamples": n_boot,
        "h3_resolution": res,
        "surface_cells": len(surface),
        "ranking": {"source": ranking_source,
                    "provenance_fingerprint": (provenance_fingerprint(ranking_prov)
                                               if ranking_prov else None),
                    "candidate_count": ranking_prov.get("candidate_count", len(surface)),
                    "grid": ranking_prov.get("grid")},
        "proxy_radius_m": bp.PROXY_RADIUS_M,
        "distance": "great-circle metres on the mean Earth sphere (6,371.0088 km)",
        "note": "AUC: Mann-Whitney, ties counted half; interval: percentile bootstrap of "
                "known and background resampled separately. Rank percentile 0 where the "
                "surface has no cell. Proxies marked [grid] use the other embedded network.",
    })
    scores = {k: (v[0], v[1]) for k, v in named.items()}
    provenance["grid_source"] = getattr(bundle, "grid", "user")
    provenance["attribution"] = grids.attribution(bundle.sources)
    log.info("backtest of %s: %d known sites, %d background points, %d cells",
             region_code, int(is_known.sum()), int((~is_known).sum()), len(surface))
    return BacktestResult(table=table, points=points, scores=scores, layers=bundle,
                          provenance=provenance, by_type=by_type)


#: Known-site groups of the per-type AUC (the ``type`` column of a known set).
TYPE_GROUPS: dict[str, tuple[str, ...]] = {
    "mining": ("mining", "mining_to_ai"),
    "AI and hyperscale": ("ai_campus", "hyperscale"),
}


def _by_type(named: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
             types: pd.Series | None, n_boot: int, seed: int) -> pd.DataFrame | None:
    """The score table for each group of :data:`TYPE_GROUPS` (its known sites against the
    same background), stacked with a ``group`` column; None without a ``type`` column."""
    if types is None:
        return None
    kinds = types.astype(str).to_numpy()
    parts = []
    for group, members in TYPE_GROUPS.items():
        keep = np.isin(kinds, members)
        if keep.sum() < 5:
            continue
        subset = {label: (k[keep], b, s) for label, (k, b, s) in named.items()}
        table = ev.score_table(subset, n_boot=n_boot, seed=seed)
        parts.append(table.assign(group=group, known_sites=int(keep.sum())))
    return pd.concat(parts, ignore_index=True) if parts else None


def _other_grid(bundle: Any) -> Any:
    """The other embedded US network's layers (None outside the US or with the user's grid)."""
    grid = getattr(bundle, "grid", "user")
    region = str(bundle.region)
    if grid not in grids.GRIDS or not (region == "US" or region.startswith("US-")):
        return None
    other = next(g for g in grids.GRIDS if g != grid)
    return layers_pkg.load(region, grid=other)
