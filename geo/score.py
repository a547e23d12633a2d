"""Rank candidate sites: power tier first, power score within the tier, land last.

Tiers (power facts only; ``load`` is the requested load in MW)
-----------------------------------------------------------------
A
    the POI hosts the load (``hosting_mw >= load``), is ``N-1 secure`` (``firm_mw >= load``
    at a voltage that fits the load, :mod:`geo.contingency`) and the tie is at most
    ``tier_a_max_tie_km`` (10 km).
B
    the POI hosts the load.
C
    the POI hosts at least ``partial_hosting_fraction`` (half) of the load, or firm power
    is nearby: hydro within 100 km >= the load, or the site lies inside or within
    ``firm_gas_max_km`` (10 km) of a gas basin (behind-the-meter gas).
D
    the rest, including every site with no point of interconnection (a POI is required
    for tiers A-C: hydro needs the grid, and an off-grid gas plant is outside this model).

``serves_load`` is recomputed from ``hosting_mw >= load`` so the tier and the column always
agree (a warning is logged if the input said otherwise).

Power score (in [0, 1])
-----------------------
A weighted mean of the credits in :data:`CREDITS` (one row each: name, weight setting,
function; weights normalised by their sum), each in [0, 1]:

* margin: ``min(hosting / load, score_margin_cap) / score_margin_cap`` (null hosting: 0);
* cost: ``1 - min(cost per kW / score_cost_cap_usd_per_kw, 1)`` from
  ``interconnection_cost_musd`` (null: 0);
* voltage: ``min(poi_voltage_kv / score_voltage_ref_kv, 1)`` (null: 0);
* redundancy: N-1 secure 1, not N-1 secure ``score_radial_credit``, unknown 0;
* time: 1 at ``score_time_best_months`` falling linearly to 0 at
  ``score_time_worst_months`` (null: 0);
* firm power: the larger of ``min(hydro_mw_within_100km / load, 1)`` and the gas credit
  (1 within ``firm_gas_max_km`` of a basin, linear to 0 at ``score_gas_zero_km``).

Every credit depends only on the row itself, never on the other candidates, so adding or
removing sites does not change a site's score, and each credit is non-decreasing in
``hosting_mw``.

Land score and the final order
------------------------------
``land_score`` is 1 at or below ``land_price_low_usd_per_acre`` and 0 at or above
``land_price_high_usd_per_acre``, linear in log(price) between; a missing price scores a
neutral 0.5 (and the reasons say so). ``score = power_score + land_weight * land_score``
(scores rounded to 6 decimals so that the order is reproducible). Rows are ordered by
``(tier, -score, site_id)``: a land advantage can never lift a site across tiers, and
``site_id`` (unique, compared as text) makes the order independent of the input row order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from geo import _reasons, columns, contingency
from geo._arrays import Columns, add_columns, arrays, as_bool, as_float, present
from geo.costs import check_values
from geo.errors import LayerValidationError, SettingsError
from geo.load import check_load, hosts_load, hosts_share
from geo.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["CREDITS", "RANK_COLUMNS", "TIERS", "Credit", "one_per_poi", "power_tier", "rank"]

#: Tiers, best first.
TIERS = ("A", "B", "C", "D")

#: Columns :func:`rank` writes (the rows of ``geo/schemas/sites.csv`` with stage score).
RANK_COLUMNS = columns.names(stage="score")

#: Decimals kept in the scores (the order must not hang on the last bits of a float).
SCORE_DECIMALS = 6

Frame = TypeVar("Frame", bound=pd.DataFrame)


def rank(sites: Frame, load_mw: float, settings: Settings | None = None) -> Frame:
    """Tier, score and rank candidate sites, best first.

    Parameters
    ----------
    sites : pandas.DataFrame or geopandas.GeoDataFrame
        One row per candidate (unique ``site_id``) with the enriched columns
        (:func:`geo.join.enrich`) and the cost columns (:func:`geo.costs.estimate`).
    load_mw : float
        The data-center load, MW (> 0).
    settings : Settings, optional
        Tier thresholds, score weights and land scoring; defaults to ``Settings()``.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A copy (same type) sorted by rank with a fresh 0..N-1 index and the columns
        ``tier``, ``power_score``, ``land_score``, ``score``, ``rank`` (1..N, unique) and
        ``reasons``; ``serves_load`` is (re)computed.

    Raises
    ------
    LayerValidationError
        If required columns are missing (naming the stage to run first) or ``site_id``
        is null or repeated.
    SettingsError
        If ``load_mw`` or the scoring settings are invalid.
    """
    settings = settings if settings is not None else Settings()
    load = check_load(load_mw)
    check_score_settings(settings)
    _validate(sites)
    data = arrays(sites)
    check_values(data, sites.index)

    hosts = hosts_load(data, load)
    if "serves_load" in data:
        given = as_bool(data, "serves_load")
        if (given != hosts).any():
            logger.warning(
                "serves_load disagreed with hosting_mw >= %.0f MW for %d site(s); recomputed",
                load,
                int((given != hosts).sum()),
            )
    tier = power_tier(data, load, settings)
    power = np.round(power_score(data, load, settings), SCORE_DECIMALS)
    land = np.round(land_score(data, settings), SCORE_DECIMALS)
    total = np.round(power + settings.land_weight * land, SCORE_DECIMALS)

    # Order by (tier, -score, site_id): site_id is unique, so the order is total and does
    # not depend on the input row order.
    _, site_key = np.unique(np.asarray(data["site_id"]).astype(str), return_inverse=True)
    order = np.lexsort((site_key, -total, np.asarray(tier)))  # last key sorts first
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)

    new: dict[str, np.ndarray] = dict(
        serves_load=hosts, tier=tier, power_score=power, land_score=land, score=total, rank=ranks
    )
    new["reasons"] = _reasons.build({**data, **new}, load, settings.score_gas_zero_km)
    out = add_columns(sites, new).iloc[order].reset_index(drop=True)
    logger.info(
        "ranked %d site(s): %s",
        len(out),
        ", ".join(f"{t} {int((tier == t).sum())}" for t in TIERS),
    )
    return out


def one_per_poi(ranked: Frame) -> Frame:
    """Keep the best-ranked site per point of interconnection and renumber ranks 1..N.

    Sites with no POI (null ``poi_sub_id``) share nothing and are all kept.

    Parameters
    ----------
    ranked : pandas.DataFrame or geopandas.GeoDataFrame
        Output of :func:`rank`.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        The kept rows in rank order, index 0..N-1, ``rank`` 1..N.
    """
    ordered = ranked.sort_values("rank", kind="mergesort")
    poi = ordered["poi_sub_id"]
    repeat = poi.notna() & poi.duplicated(keep="first")
    out = ordered.loc[~repeat].reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    logger.debug("one site per POI: kept %d of %d", len(out), len(ranked))
    return out


def power_tier(sites: pd.DataFrame | Columns, load_mw: float, settings: Settings) -> np.ndarray:
    """Tier letter per site from power facts only (rules in the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> sites = pd.DataFrame({
    ...     "poi_sub_id": ["a", "b", "c", None], "hosting_mw": [400.0, 400.0, 160.0, None],
    ...     "redundancy": ["N-1 secure", "not N-1 secure", "N-1 secure", None],
    ...     "tie_distance_km": [3.0, 3.0, 3.0, None], "hydro_mw_within_100km": [0.0] * 4,
    ...     "gas_field": [None] * 4, "gas_field_km": [None] * 4})
    >>> power_tier(sites, 300.0, Settings()).tolist()
    ['A', 'B', 'C', 'D']
    """
    sites = _columns(sites)
    has_poi = present(sites, "poi_sub_id")
    hosts = hosts_load(sites, load_mw)
    partial = hosts_share(sites, load_mw, settings.partial_hosting_fraction)
    tie = as_float(sites, "tie_distance_km")
    with np.errstate(invalid="ignore"):
        short = tie <= settings.tier_a_max_tie_km
        hydro = as_float(sites, "hydro_mw_within_100km") >= load_mw
        gas = present(sites, "gas_field") & (
            as_float(sites, "gas_field_km") <= settings.firm_gas_max_km
        )
    n1 = np.asarray(sites["redundancy"] == contingency.N1_SECURE, dtype=bool)
    firm = has_poi & (hydro | gas)
    return np.select([hosts & n1 & short, hosts, partial | firm], ["A", "B", "C"], default="D")


def power_score(sites: pd.DataFrame | Columns, load_mw: float, settings: Settings) -> np.ndarray:
    """Power score in [0, 1] per site: the weighted mean of :data:`CREDITS`."""
    sites = _columns(sites)
    n = len(next(iter(sites.values())))
    # Element-wise sums (not a matrix product) so a row's score never depends on its
    # position in the array.
    total = np.zeros(n)
    weights = 0.0
    for credit in CREDITS:
        weight = getattr(settings, credit.weight)
        total = total + weight * _credit(credit.function(sites, load_mw, settings))
        weights += weight
    return np.clip(total / weights, 0.0, 1.0)


CreditFunction = Callable[[Columns, float, Settings], np.ndarray]


@dataclass(frozen=True)
class Credit:
    """One part of the power score: its name, the setting holding its weight, its function.

    ``function(sites, load_mw, settings)`` returns one value per site; it is clipped to
    [0, 1] and NaN (unknown) earns nothing. A credit must depend on the row alone and must
    not fall when ``hosting_mw`` rises.
    """

    name: str
    weight: str
    function: CreditFunction


def _margin(sites: Columns, load_mw: float, s: Settings) -> np.ndarray:
    hosting = as_float(sites, "hosting_mw")
    return np.minimum(hosting / load_mw, s.score_margin_cap) / s.score_margin_cap


def _cost(sites: Columns, load_mw: float, s: Settings) -> np.ndarray:
    cost_per_kw = as_float(sites, "interconnection_cost_musd") * 1e6 / (load_mw * 1e3)
    return 1.0 - np.minimum(cost_per_kw / s.score_cost_cap_usd_per_kw, 1.0)


def _voltage(sites: Columns, load_mw: float, s: Settings) -> np.ndarray:
    return np.minimum(as_float(sites, "poi_voltage_kv") / s.score_voltage_ref_kv, 1.0)


def _redundancy(sites: Columns, load_mw: float, s: Settings) -> np.ndarray:
    redundancy = np.asarray(sites["redundancy"], dtype=object)
    return np.select(
        [redundancy == contingency.N1_SECURE, redundancy == contingency.N1_INSECURE],
        [1.0, s.score_radial_credit],
        default=0.0,
    )


def _time(sites: Columns, load_mw: float, s: Settings) -> np.ndarray:
    months = as_float(sites, "time_to_power_months")
    span = s.score_time_worst_months - s.score_time_best_months
    return 1.0 - (months - s.score_time_best_months) / span


def _firm(sites: Columns, load_mw: float, s: Settings) -> np.ndarray:
    hydro = _credit(as_float(sites, "hydro_mw_within_100km") / load_mw)
    gas_km = np.where(present(sites, "gas_field"), as_float(sites, "gas_field_km"), np.nan)
    gas_span = s.score_gas_zero_km - s.firm_gas_max_km
    gas = _credit(1.0 - (gas_km - s.firm_gas_max_km) / gas_span)
    return np.maximum(hydro, gas)


#: The power credits, in one place: a new credit is one row (plus its weight setting).
CREDITS: tuple[Credit, ...] = (
    Credit("margin", "score_weight_margin", _margin),
    Credit("cost", "score_weight_cost", _cost),
    Credit("voltage", "score_weight_voltage", _voltage),
    Credit("redundancy", "score_weight_redundancy", _redundancy),
    Credit("time", "score_weight_time", _time),
    Credit("firm", "score_weight_firm", _firm),
)


def land_score(sites: pd.DataFrame | Columns, settings: Settings) -> np.ndarray:
    """Land score in [0, 1]: cheaper is higher, log-linear in price; null price 0.5."""
    price = as_float(_columns(sites), "land_price_usd_per_acre")
    low = settings.land_price_low_usd_per_acre
    high = settings.land_price_high_usd_per_acre
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (np.log(np.maximum(price, low)) - np.log(low)) / (np.log(high) - np.log(low))
    return np.where(np.isnan(price), 0.5, np.clip(1.0 - frac, 0.0, 1.0))


def check_score_settings(settings: Settings) -> None:
    """Check the ranking settings fit together; raise one :class:`SettingsError` listing all."""
    s = settings
    problems: list[str] = []
    if sum(getattr(s, c.weight) for c in CREDITS) <= 0:
        names = ", ".join(c.weight for c in CREDITS)
        problems.append(f"the score weights ({names}) must not all be 0")
    if s.score_margin_cap <= 0:
        problems.append("score_margin_cap must be > 0")
    if s.score_cost_cap_usd_per_kw <= 0:
        problems.append("score_cost_cap_usd_per_kw must be > 0")
    if s.score_voltage_ref_kv <= 0:
        problems.append("score_voltage_ref_kv must be > 0")
    if s.score_radial_credit > 1:
        problems.append("score_radial_credit must be in [0, 1]")
    if s.score_time_worst_months <= s.score_time_best_months:
        problems.append("score_time_worst_months must exceed score_time_best_months")
    if s.score_gas_zero_km <= s.firm_gas_max_km:
        problems.append("score_gas_zero_km must exceed firm_gas_max_km")
    if not 0 < s.land_price_low_usd_per_acre < s.land_price_high_usd_per_acre:
        problems.append("0 < land_price_low_usd_per_acre < land_price_high_usd_per_acre must hold")
    if not 0 < s.partial_hosting_fraction <= 1:
        problems.append("partial_hosting_fraction must be in (0, 1]")
    if problems:
        raise SettingsError("invalid ranking settings: " + "; ".join(problems))


def _validate(sites: pd.DataFrame) -> None:
    """Collect every problem with the input, then raise once."""
    problems: list[str] = []
    lacking = columns.missing(sites.columns, "score")
    if lacking:
        problems.append(lacking)
    if "site_id" in sites.columns:
        ids = sites["site_id"].to_numpy(dtype=object)
        null = pd.isna(ids)
        if null.any():
            problems.append(f"{int(null.sum())} row(s) without a site_id")
        values, counts = np.unique(ids[~null].astype(str), return_counts=True)
        dup = values[counts > 1]
        if len(dup):
            shown = ", ".join(dup[:10].tolist())
            problems.append(f"repeated site_id(s): {shown}" + (" ..." if len(dup) > 10 else ""))
    if problems:
        raise LayerValidationError("cannot rank the candidate sites: " + "; ".join(problems))


def _columns(sites: pd.DataFrame | Columns) -> Columns:
    return arrays(sites) if isinstance(sites, pd.DataFrame) else sites


def _credit(values: np.ndarray) -> np.ndarray:
    """Clip to [0, 1]; NaN (unknown) earns no credit."""
    return np.nan_to_num(np.clip(values, 0.0, 1.0), nan=0.0)
