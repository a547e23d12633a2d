"""Rank candidate sites: time to power is the ranking; land follows.

Tiers (power facts only)
------------------------
From the chosen power path (:mod:`geo.power`, priced in :mod:`geo.costs`): its months to the
full load (``time_to_power_months``) and whether it waits for network upgrades
(``network_upgrades``: the POI's N-1 ``firm_mw`` is short of what it connects).

A
    the full load in at most ``tier_months[0]`` (24) months without network upgrades;
B
    at most ``tier_months[1]`` (36) months;
C
    at most ``tier_months[2]`` (60) months;
D
    longer, or no path delivers the load (no POI within the tie limit and no gas path).

Hydro and gas enter only through the paths and prices, never as a tier lift by proximity.

The order
---------
``(tier, months to power, cost group, -firm MW, cost of power, power path, distance to the
grid, -land_score, site_id)``: months rounded to 0.1, the cost of power
(``cost_of_power_musd``, which includes the delay cost) to 0.01 million USD (an unknown
cost after every known one), firm MW to 1 MW (more firm headroom first: room to grow; null
last), the distance to the nearest substation of ``candidate_min_kv`` or more
(``grid_distance_km``) to 1 m, so that sites no path reaches (tier D) are ordered by how
far the grid is, not by land.

The cost of power is compared with the precision its estimates have
(``cost_tie_share``, 2 %: :func:`cost_groups`): among sites of the same tier and months,
the cheapest opens a group, every site whose cost is within 2 % of it joins, and the first
cost beyond opens the next. In a group the costs count as equal and firm MW decides, then
the cost itself (only between equal firm MW). Land (``land_score``: 1 at or below
``land_price_low_usd_per_acre``, 0 at or above ``land_price_high_usd_per_acre``,
log-linear between, a missing price a neutral 0.5) only orders sites whose power facts
(tier, months, cost of power, firm MW, path, distance to the grid) are equal, and
``site_id`` (unique, compared as text) only sites equal in land too, so the order never
depends on the input row order. No capped credit turns different power facts into a tie.

``power_score = 0.98 / (1 + cost_of_power_musd / campus capital) + 0.01 / (1 + months /
12) + 0.01 * firm / (firm + load)`` (campus capital = ``campus_capex_musd_per_mw`` x load;
each part 0 where unknown) and ``score = power_score + land_weight * land_score`` (9
decimals) are summaries for maps and filters, uncapped so that different costs, months or
firm MW never share a power score; the order is the keys above (sort by ``rank``), and the
``reasons`` of each site say what separated it from the site ranked just above.

``serves_load`` is recomputed from ``hosting_mw >= load`` (a warning is logged if the input
said otherwise).
"""

from __future__ import annotations

import itertools
import logging
from typing import TypeVar

import numpy as np
import pandas as pd

from geo import _reasons, columns, tiers
from geo._arrays import (
    Columns,
    arrays,
    as_bool,
    as_float,
    forget,
    merged,
    pandas_text,
    take_with,
    text_order,
)
from geo._memory import release_memory
from geo.costs import check_values
from geo.errors import LayerValidationError, SettingsError
from geo.load import check_load, hosts_load
from geo.power import PATHS
from geo.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["COST_KEY", "RANK_COLUMNS", "TIERS", "cost_groups", "land_score", "one_per_poi",
           "order_keys", "power_score", "power_tier", "rank", "raw_order_keys"]

#: Tiers, best first (their words: :mod:`geo.tiers`).
TIERS = tiers.TIERS

#: Columns :func:`rank` writes (the rows of ``geo/schemas/sites.csv`` with stage score).
RANK_COLUMNS = columns.names(stage="score")

#: Decimals kept in the scores (the order must not hang on the last bits of a float).
SCORE_DECIMALS = 9
#: Shares of the power score that fall with the months and rise with firm MW (the rest
#: falls with the cost of power).
SMALL_SHARE = 0.01
#: What the power path adds to the power score (energized +, gas -): small, to separate
#: paths whose other power facts are equal, yet above the score's 9 decimals.
PATH_SHARE = 1e-7
#: Resolution of the order keys: 0.1 month, 0.01 million USD, 1 m to the grid.
MONTHS_DECIMALS, COST_DECIMALS, GRID_KM_DECIMALS = 1, 2, 3
#: Position of the cost group in the order keys (:func:`raw_order_keys` holds the cost
#: there, :func:`cost_groups` the group).
COST_KEY = 2

Frame = TypeVar("Frame", bound=pd.DataFrame)


def rank(sites: Frame, load_mw: float, settings: Settings | None = None, *,
         grid_note: str = "", separation: bool = True, consume: bool = False) -> Frame:
    """Tier, order and explain candidate sites, best first.

    Parameters
    ----------
    sites : pandas.DataFrame or geopandas.GeoDataFrame
        One row per candidate (unique ``site_id``) with the enriched columns
        (:func:`geo.join.enrich`) and the cost columns (:func:`geo.costs.estimate`).
    load_mw : float
        The data-center load, MW (> 0).
    settings : Settings, optional
        Tier thresholds and land scoring; defaults to ``Settings()``.
    grid_note : str, optional
        Said in every reason about the grid (e.g. that it is a synthetic test system).
    separation : bool, optional
        Close each reason with what separated the site from the one ranked just above it
        ("; below #3: ..."). ``False`` leaves the clause out (a partition of a Dask run,
        where the site above is only a local neighbour).
    consume : bool, optional
        Move the columns out of ``sites`` into the ranked copy, one at a time (``sites`` is
        left with its geometry only): for a caller that drops ``sites`` afterwards, so that
        a surface is not held twice.

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
        If ``load_mw`` or the ranking settings are invalid.
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

    keys = order_keys(data, tier, land, settings.cost_tie_share)
    order = np.lexsort(tuple(reversed(keys)))  # lexsort: the last key sorts first
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)

    new: dict[str, np.ndarray] = dict(
        serves_load=hosts, tier=tier, power_score=power, land_score=land, score=total, rank=ranks
    )
    # a view, not a dict: the reasons convert the site columns a block of rows at a time
    # (the columns converted whole for the order go first)
    forget(data)
    release_memory()
    said = merged({_reasons.COST_GROUP: keys[COST_KEY]}, new, data)
    # Each line closes with what separated the site from the one ranked just above it.
    # The lines are made in rank order, a block at a time, each block joined by arrow
    # (geo._phrases.Line): a surface's lines are never held as a Python string per row,
    # they become the column's own form as they are (pandas 3: arrow-backed text), and the
    # ranked copy takes no reordering of them.
    blocks = [text for _, _, text in _reasons.ranked_blocks(
        said, load, order, grid_note=grid_note, horizon_years=settings.cost_horizon_years,
        separation=separation, flexible=settings.flexible_load,
        cost_tie_share=settings.cost_tie_share, tier_months=settings.tier_months)]
    reasons = pandas_text(blocks)
    # the order keys go before the ranked copy is made
    del blocks, said, data, keys
    release_memory()
    out = take_with(sites, new, order, consume=consume, ordered={"reasons": reasons})
    logger.info(
        "ranked %d site(s): %s",
        len(out),
        ", ".join(f"{t} {int((tier == t).sum())}" for t in TIERS),
    )
    return out


def order_keys(data: Columns, tier: np.ndarray, land: np.ndarray,
               cost_tie_share: float = 0.0) -> list[np.ndarray]:
    """The sort keys, most significant first (the module docstring): tier, months, cost
    group (:func:`cost_groups`), -firm MW, cost of power, the power path (in
    :data:`geo.power.PATHS` order, none last), the distance to the grid
    (``grid_distance_km``, to 1 m), -land, site_id. The path keeps land from ordering sites
    whose power facts differ only in their path (e.g. both costs unknown), and the grid
    distance orders the sites that no path reaches (tier D: the nearer grid first)."""
    return cost_groups(raw_order_keys(data, tier, land), cost_tie_share)


def raw_order_keys(data: Columns, tier: np.ndarray, land: np.ndarray) -> list[np.ndarray]:
    """:func:`order_keys` with the cost itself in the group's place (:data:`COST_KEY`):
    keys of separate sets of sites (the partitions of :mod:`geo.engine`) that
    :func:`cost_groups` groups once they are together."""
    months = as_float(data, "time_to_power_months")
    cost = as_float(data, "cost_of_power_musd")
    firm = np.nan_to_num(as_float(data, "firm_mw"), nan=-1.0)
    site_key = text_order(data, "site_id")
    n = len(site_key)
    path = (pd.Series(np.asarray(data["power_path"], dtype=object)) if "power_path" in data
            else pd.Series([None] * n, dtype=object))
    path_key = path.map({p: i for i, p in enumerate(PATHS)}).fillna(len(PATHS))
    grid_km = as_float(data, "grid_distance_km")        # NaN (last) where absent
    cost_key = np.where(np.isnan(cost), np.inf, np.round(cost, COST_DECIMALS))
    return [
        np.searchsorted(np.asarray(TIERS), np.asarray(tier, dtype=str)),
        np.where(np.isnan(months), np.inf, np.round(months, MONTHS_DECIMALS)),
        cost_key,
        -np.round(firm, 0),
        cost_key,
        path_key.to_numpy(dtype=np.int64),
        np.where(np.isnan(grid_km), np.inf, np.round(grid_km, GRID_KM_DECIMALS)),
        -land,
        site_key,
    ]


def cost_groups(keys: list[np.ndarray], share: float) -> list[np.ndarray]:
    """``keys`` (:func:`raw_order_keys`) with the cost replaced by its group: among the
    rows of the same tier and months, the cheapest opens group 0, every cost at most
    ``share`` above it joins, the first cost beyond opens group 1, and so on (unknown
    costs: one group, last). Every cost of a group is within ``share`` of the group's
    cheapest, and every cost of a later group is more than ``share`` above it.

    Examples
    --------
    >>> keys = [np.zeros(5), np.full(5, 24.0), np.array([100.0, 101.9, 102.1, 104.0, np.inf])]
    >>> cost_groups(keys, 0.02)[2].tolist()
    [0, 0, 1, 1, 2]
    >>> cost_groups(keys, 0.0)[2].tolist()
    [0, 1, 2, 3, 4]
    """
    tier, months, cost = keys[0], keys[1], keys[COST_KEY]
    n = len(cost)
    group = np.zeros(n, dtype=np.int64)
    if n:
        order = np.lexsort((cost, months, tier))
        c = cost[order]
        starts = np.flatnonzero(np.r_[True, (tier[order][1:] != tier[order][:-1])
                                      | (months[order][1:] != months[order][:-1]), True])
        out = np.empty(n, dtype=np.int64)
        for lo, hi in itertools.pairwise(starts):
            segment = c[lo:hi]
            i, g = 0, 0
            while i < hi - lo:
                # searchsorted: the first cost beyond the group's reach (no per-row loop)
                reach = segment[i] + share * abs(segment[i])
                j = max(int(np.searchsorted(segment, reach, side="right")), i + 1)
                out[lo + i:lo + j] = g
                i, g = j, g + 1
        group[order] = out
    return [*keys[:COST_KEY], group, *keys[COST_KEY + 1:]]


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
    ...     "time_to_power_months": [24.0, 24.0, 40.0, None],
    ...     "network_upgrades": [False, True, True, False]})
    >>> power_tier(sites, 300.0, Settings()).tolist()
    ['A', 'B', 'C', 'D']
    """
    sites = _columns(sites)
    months = as_float(sites, "time_to_power_months")
    upgrades = as_bool(sites, "network_upgrades")
    a, b, c = (bound + tiers.MONTHS_ATOL for bound in settings.tier_months)
    with np.errstate(invalid="ignore"):
        return np.select([(months <= a) & ~upgrades, months <= b, months <= c],
                         ["A", "B", "C"], default="D")


def power_score(sites: pd.DataFrame | Columns, load_mw: float, settings: Settings) -> np.ndarray:
    """Power score in [0, 1], a summary that never ties different power facts.

    ``(1 - 2 * SMALL_SHARE) / (1 + cost_of_power_musd / campus capital) + SMALL_SHARE /
    (1 + months / 12) + SMALL_SHARE * firm / (firm + load)``; each part is 0 where unknown
    (no path, no cost, no firm). Strictly falling in the cost of power and the months,
    strictly rising in ``firm_mw`` (no cap). Plus :data:`PATH_SHARE` for the energized path
    and minus it for gas (0 for the grid and for no path), the order's preference among
    paths whose months, cost and firm MW are equal (e.g. both costs unknown), so that
    different paths never share a score either.
    """
    sites = _columns(sites)
    path = (np.asarray(sites["power_path"], dtype=object) if "power_path" in sites
            else np.full(len(next(iter(sites.values()))), None, dtype=object))
    preference = (np.where(path == "energized", 1.0, 0.0)
                  - np.where(path == "gas", 1.0, 0.0))
    cost = as_float(sites, "cost_of_power_musd")
    months = as_float(sites, "time_to_power_months")
    capital = max(settings.campus_capex_musd_per_mw * load_mw, 1e-9)
    money = np.nan_to_num(1.0 / (1.0 + np.maximum(cost, 0.0) / capital), nan=0.0)
    soon = np.nan_to_num(1.0 / (1.0 + np.maximum(months, 0.0) / 12.0), nan=0.0)
    firm = np.maximum(np.nan_to_num(as_float(sites, "firm_mw"), nan=0.0), 0.0)
    return ((1.0 - 2 * SMALL_SHARE) * money + SMALL_SHARE * soon
            + SMALL_SHARE * firm / (firm + load_mw) + PATH_SHARE * preference)


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
    if list(s.tier_months) != sorted(s.tier_months):
        problems.append("tier_months must not decrease (A <= B <= C)")
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
    if "site_id" in sites.columns and not _unique_text(sites["site_id"]):
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


def _unique_text(column: object) -> bool:
    """True for a text column of pandas (``str``, ``string``) without a null or a repeat,
    hashed as it is held (no Python string per row); other columns are checked as text."""
    return (isinstance(column, pd.Series) and isinstance(column.dtype, pd.StringDtype)
            and not column.isna().any() and not column.duplicated().any())


def _columns(sites: pd.DataFrame | Columns) -> Columns:
    return arrays(sites) if isinstance(sites, pd.DataFrame) else sites
