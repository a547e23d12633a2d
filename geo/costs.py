"""Interconnection cost, land cost and time to power for candidate sites.

Costs follow NREL reVX's published 2019 defaults (2019 USD, million USD in the columns);
every figure is a :class:`~geo.settings.Settings` field whose comment names its source, and
``--config PATH`` (TOML) overrides any of them.

Model
-----
Tie line
    ``tie_cost_musd = usd_per_mile[region, class] * miles * spur * circuits / 1e6`` with
    ``miles = tie_distance_km / 1.609344``.

    * Capacity class: the smallest of ``tie_capacity_classes_mw`` (102, 205, 400,
      1,500 MW) that is >= ``load_mw``. Above the largest class the largest class is used
      with ``ceil(load_mw / 1500)`` parallel circuits, each priced in full.
    * Region (``cost_region``): a site in one of ``teppc_interconnects`` (the Western
      Interconnection) is priced with the TEPPC table; otherwise a site whose
      ``subdivision`` is in ``southeast_subdivisions`` (US-AL, FL, GA, MS, NC, SC, TN: the
      SERC states outside an RTO; LA, AR, KY and VA are deliberately left out because
      they sit mostly in MISO or PJM) uses the Southeast table; everything else, Texas
      (ERCOT), the rest of the Eastern Interconnection and every non-US site, uses MISO.
      Non-US sites therefore carry US 2019 costs: a proxy, not an estimate.
    * Short-spur multiplier: 1.5 for ties under 3 miles, 1.2 under 10 miles, 1.0 beyond
      (reVX ``SHORT_MULT``/``MEDIUM_MULT``). A tie of 0 km costs 0.
Substation upgrade
    By POI voltage class, the nearest lower of ``substation_classes_kv`` (69, 138, 230,
    345, 500 kV; below 69 kV the 69 kV class, above 500 kV the 500 kV class). reVX
    publishes no 345 kV upgrade cost: the default 3.52 million USD interpolates linearly
    in kV between 230 kV (2.2) and 500 kV (5.3). The MISO figures are used in every
    region, and one upgrade is counted however many circuits the tie has.
Transformer
    USD per MW of load at the same voltage class (reVX, MISO) times ``load_mw``.
Interconnection
    ``interconnection_cost_musd`` = tie + substation + transformer. It is null when any
    part is unknown (no POI, no tie distance, no POI voltage).
Land
    ``acres_needed = acres_per_mw * load_mw`` (an assumption, 0.75 acre/MW by default) and
    ``land_cost_musd = acres_needed * land_price_usd_per_acre / 1e6``. Land does not need
    a POI, so land cost is filled wherever a price is known.
Time to power (months)
    From the DESIGN.md model, all figures settings and all assumptions:

    * an energized existing site (``existing_site``) whose POI hosts the load reuses its
      connection: ``time_reuse_months`` (12), no tie build time;
    * hosting >= load: a new interconnection, ``time_new_months`` (18);
    * hosting >= ``partial_hosting_fraction`` of the load: network upgrades,
      ``time_upgrade_months`` (36);
    * less, or hosting not computed: major upgrades, ``time_major_upgrade_months`` (48);

    plus ``time_tie_months_per_km * tie_distance_km`` for every case but reuse. The base
    times must not decrease in that order (checked), so more hosting never means a longer
    time to power. Rows with no POI get null costs and a null time.

Everything is vectorised over rows; the only per-call work is validating settings.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import TypeVar

import numpy as np
import pandas as pd

from geo.errors import LayerValidationError, SettingsError
from geo.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["COST_COLUMNS", "KM_PER_MILE", "REGIONS", "estimate"]

#: Statute mile in km (reVX tables are per mile).
KM_PER_MILE = 1.609344

#: Cost regions, in the order of reVX's tables.
REGIONS = ("MISO", "Southeast", "TEPPC")

#: Columns :func:`estimate` adds.
COST_COLUMNS = (
    "cost_region",
    "tie_cost_musd",
    "substation_cost_musd",
    "transformer_cost_musd",
    "interconnection_cost_musd",
    "acres_needed",
    "land_cost_musd",
    "time_to_power_months",
)

#: Input columns :func:`estimate` needs (``existing_site`` is optional, default False).
REQUIRED_COLUMNS = (
    "poi_sub_id",
    "poi_voltage_kv",
    "tie_distance_km",
    "interconnect",
    "subdivision",
    "hosting_mw",
    "land_price_usd_per_acre",
)

Frame = TypeVar("Frame", bound=pd.DataFrame)
#: Columns taken out of a frame as arrays (see :func:`arrays`).
Columns = Mapping[str, np.ndarray]


def estimate(sites: Frame, load_mw: float, settings: Settings | None = None) -> Frame:
    """Add interconnection cost, land cost and time-to-power columns.

    Parameters
    ----------
    sites : pandas.DataFrame or geopandas.GeoDataFrame
        One row per candidate with the enriched columns (``poi_sub_id``,
        ``poi_voltage_kv``, ``tie_distance_km``, ``interconnect``, ``subdivision``,
        ``hosting_mw``, ``land_price_usd_per_acre`` and optionally ``existing_site``).
    load_mw : float
        The data-center load to connect, MW (> 0).
    settings : Settings, optional
        Cost tables and time-to-power figures; defaults to ``Settings()``.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A copy of ``sites`` (same type, same row order) with the columns in
        :data:`COST_COLUMNS`; costs in million 2019 USD, time in months.

    Raises
    ------
    SettingsError
        If ``load_mw`` is not a positive number or the cost tables are inconsistent.
    LayerValidationError
        If required columns are missing.

    Examples
    --------
    >>> import pandas as pd
    >>> sites = pd.DataFrame({
    ...     "poi_sub_id": ["s1"], "poi_voltage_kv": [230.0], "tie_distance_km": [20.0],
    ...     "interconnect": ["Eastern"], "subdivision": ["US-IA"], "hosting_mw": [500.0],
    ...     "land_price_usd_per_acre": [10_000.0]})
    >>> out = estimate(sites, 300.0)
    >>> round(float(out.loc[0, "interconnection_cost_musd"]), 2)
    25.39
    >>> float(out.loc[0, "time_to_power_months"])
    20.0
    """
    settings = settings if settings is not None else Settings()
    load = check_load(load_mw)
    check_cost_settings(settings)
    _require(sites, REQUIRED_COLUMNS)
    data = arrays(sites)
    check_values(data, sites.index)
    return add_columns(sites, compute(data, load, settings))


#: Input quantities that cannot be negative or infinite (a distance, a voltage, MW, a price).
NON_NEGATIVE = ("poi_voltage_kv", "tie_distance_km", "hosting_mw", "backbone_km",
                "hydro_mw_within_100km", "nearest_hydro_km", "gas_field_km",
                "land_price_usd_per_acre")


def check_values(data: Columns, index: pd.Index) -> None:
    """Refuse negative or infinite distances, voltages, capacities and prices.

    Raises
    ------
    LayerValidationError
        Naming each bad column and example rows.
    """
    problems = []
    for name in NON_NEGATIVE:
        if name not in data:
            continue
        values = np.asarray(data[name], dtype=float)
        bad = index[(values < 0) | np.isinf(values)]
        if len(bad):
            rows = ", ".join(str(i) for i in bad[:5])
            problems.append(f"{name} is negative or infinite in rows {rows}")
    if problems:
        raise LayerValidationError("candidate sites: " + "; ".join(problems))


def compute(data: Columns, load_mw: float, settings: Settings) -> dict[str, np.ndarray]:
    """The cost columns as arrays, from input columns already taken out as arrays.

    The array-level core of :func:`estimate` (which validates and builds the frame);
    :func:`geo.score.rank` calls it directly to avoid building the frame twice.

    Parameters
    ----------
    data : mapping of str to numpy.ndarray
        Input columns (see :func:`arrays`).
    load_mw : float
        The load, MW (already checked).
    settings : Settings
        Cost tables (already checked).

    Returns
    -------
    dict of str to numpy.ndarray
        One array per name in :data:`COST_COLUMNS`.
    """
    load = load_mw
    n = len(data["poi_sub_id"])
    has_poi = present(data, "poi_sub_id")
    tie_km = as_float(data, "tie_distance_km")
    volt = as_float(data, "poi_voltage_kv")
    hosting = as_float(data, "hosting_mw")
    price = as_float(data, "land_price_usd_per_acre")
    existing = as_bool(data, "existing_site")

    # Region: TEPPC by interconnection, Southeast by state, MISO for everything else.
    region = np.full(n, "MISO", dtype=object)
    region[is_in(data, "subdivision", settings.southeast_subdivisions)] = "Southeast"
    region[is_in(data, "interconnect", settings.teppc_interconnects)] = "TEPPC"

    region_idx = np.select([region == r for r in REGIONS], range(len(REGIONS)))

    # Tie line.
    class_idx, circuits = capacity_class(load, settings.tie_capacity_classes_mw)
    per_mile = np.array(
        [
            settings.tie_cost_usd_per_mile_miso[class_idx],
            settings.tie_cost_usd_per_mile_southeast[class_idx],
            settings.tie_cost_usd_per_mile_teppc[class_idx],
        ]
    )[region_idx]
    miles = tie_km / KM_PER_MILE
    spur_idx = np.searchsorted(np.asarray(settings.spur_cutoffs_miles), miles, side="right")
    spur = np.asarray(settings.spur_multipliers)[spur_idx]  # len(multipliers) = len(cutoffs) + 1
    tie_cost = per_mile * miles * spur * circuits / 1e6

    # Substation upgrade and transformer by the POI's voltage class (nearest lower).
    kv_classes = np.asarray(settings.substation_classes_kv)
    kv_idx = np.clip(np.searchsorted(kv_classes, volt, side="right") - 1, 0, len(kv_classes) - 1)
    known_kv = np.isfinite(volt)
    sub_cost = np.where(known_kv, np.asarray(settings.substation_upgrade_cost_musd)[kv_idx], np.nan)
    xfmr_cost = np.where(
        known_kv, np.asarray(settings.transformer_cost_usd_per_mw)[kv_idx] * load / 1e6, np.nan
    )

    no_poi = ~has_poi
    tie_cost[no_poi] = np.nan
    sub_cost[no_poi] = np.nan
    xfmr_cost[no_poi] = np.nan
    total = tie_cost + sub_cost + xfmr_cost  # NaN if any part is unknown

    unknown = has_poi & ~np.isfinite(total)
    if unknown.any():
        logger.warning(
            "%d site(s) with a POI but no tie distance or POI voltage: interconnection cost "
            "left null",
            int(unknown.sum()),
        )

    # Land.
    acres = settings.acres_per_mw * load
    land_cost = acres * price / 1e6

    months = time_to_power(hosting, tie_km, existing, has_poi, load, settings)

    logger.debug(
        "costs for %d site(s) at %.0f MW: tie class %.0f MW x %d circuit(s)",
        n,
        load,
        settings.tie_capacity_classes_mw[class_idx],
        circuits,
    )
    return {
        "cost_region": region,
        "tie_cost_musd": tie_cost,
        "substation_cost_musd": sub_cost,
        "transformer_cost_musd": xfmr_cost,
        "interconnection_cost_musd": total,
        "acres_needed": np.full(n, acres),
        "land_cost_musd": land_cost,
        "time_to_power_months": months,
    }


def time_to_power(
    hosting_mw: np.ndarray,
    tie_km: np.ndarray,
    existing: np.ndarray,
    has_poi: np.ndarray,
    load_mw: float,
    settings: Settings,
) -> np.ndarray:
    """Months to power per site (see the module docstring for the model).

    Parameters
    ----------
    hosting_mw, tie_km : numpy.ndarray
        Hosting capacity (MW, NaN when not computed) and tie length (km) per site.
    existing, has_poi : numpy.ndarray of bool
        Energized existing site; site has a point of interconnection.
    load_mw : float
        The load, MW.
    settings : Settings
        Time-to-power figures.

    Returns
    -------
    numpy.ndarray
        Months, NaN where there is no POI (or no tie length for a new connection).
    """
    with np.errstate(invalid="ignore"):
        hosts = hosting_mw >= load_mw
        partial = hosting_mw >= settings.partial_hosting_fraction * load_mw
    base = np.select(
        [hosts, partial],
        [settings.time_new_months, settings.time_upgrade_months],
        default=settings.time_major_upgrade_months,
    )
    months = base + settings.time_tie_months_per_km * tie_km
    months = np.where(hosts & existing, settings.time_reuse_months, months)
    return np.where(has_poi, months, np.nan)


def capacity_class(load_mw: float, classes_mw: tuple[float, ...]) -> tuple[int, int]:
    """Tie-line capacity class for a load: (index into the class tables, circuits).

    The smallest class >= the load; above the largest class, the largest class with
    ``ceil(load / largest)`` circuits.

    Examples
    --------
    >>> capacity_class(300.0, (102.0, 205.0, 400.0, 1500.0))
    (2, 1)
    >>> capacity_class(3200.0, (102.0, 205.0, 400.0, 1500.0))
    (3, 3)
    """
    idx = int(np.searchsorted(np.asarray(classes_mw), load_mw, side="left"))
    if idx < len(classes_mw):
        return idx, 1
    top = len(classes_mw) - 1
    return top, math.ceil(load_mw / classes_mw[top])


#: Loads above this are refused as a typo (the largest announced campuses are ~5 GW).
MAX_LOAD_MW = 20_000.0


def check_load(load_mw: float) -> float:
    """Return ``load_mw`` (``--load-mw``) as a float: finite, above 0, at most 20 GW."""
    try:
        load = float(load_mw)
    except (TypeError, ValueError):
        raise SettingsError(
            f"--load-mw {load_mw!r}: give a number of megawatts, e.g. 300") from None
    if not math.isfinite(load) or load <= 0 or load > MAX_LOAD_MW:
        raise SettingsError(
            f"--load-mw {load_mw!r}: must be a number above 0 and at most {MAX_LOAD_MW:,.0f} MW")
    return load


def check_cost_settings(settings: Settings) -> None:
    """Check that the cost tables fit together; raise one :class:`SettingsError` listing all."""
    problems: list[str] = []
    classes = settings.tie_capacity_classes_mw
    if not classes or any(c <= 0 for c in classes) or list(classes) != sorted(set(classes)):
        problems.append("tie_capacity_classes_mw must be increasing numbers > 0")
    for name in (
        "tie_cost_usd_per_mile_miso",
        "tie_cost_usd_per_mile_southeast",
        "tie_cost_usd_per_mile_teppc",
    ):
        if len(getattr(settings, name)) != len(classes):
            problems.append(f"{name} needs one value per tie_capacity_classes_mw ({len(classes)})")
    cutoffs = settings.spur_cutoffs_miles
    if list(cutoffs) != sorted(cutoffs):
        problems.append("spur_cutoffs_miles must be increasing")
    if len(settings.spur_multipliers) != len(cutoffs) + 1:
        problems.append(
            f"spur_multipliers needs len(spur_cutoffs_miles) + 1 = {len(cutoffs) + 1} values"
        )
    kv = settings.substation_classes_kv
    if not kv or list(kv) != sorted(set(kv)):
        problems.append("substation_classes_kv must be increasing")
    for name in ("substation_upgrade_cost_musd", "transformer_cost_usd_per_mw"):
        if len(getattr(settings, name)) != len(kv):
            problems.append(f"{name} needs one value per substation_classes_kv ({len(kv)})")
    times = (
        settings.time_reuse_months,
        settings.time_new_months,
        settings.time_upgrade_months,
        settings.time_major_upgrade_months,
    )
    if list(times) != sorted(times):
        problems.append(
            "time_reuse_months <= time_new_months <= time_upgrade_months <= "
            "time_major_upgrade_months must hold (more headroom never takes longer)"
        )
    if not 0 < settings.partial_hosting_fraction <= 1:
        problems.append("partial_hosting_fraction must be in (0, 1]")
    if problems:
        raise SettingsError("invalid cost settings: " + "; ".join(problems))


def add_columns(frame: Frame, columns: dict[str, np.ndarray]) -> Frame:
    """A new frame (same type, CRS and geometry) with ``columns`` added or replaced.

    One concat instead of a column insert per name: much cheaper on wide frames.
    """
    kept = frame.drop(columns=[c for c in columns if c in frame.columns])
    if kept.index.is_unique:
        return pd.concat([kept, pd.DataFrame(columns, index=kept.index)], axis=1)
    index = kept.index  # repeated labels cannot be aligned: join by position
    out = pd.concat([kept.reset_index(drop=True), pd.DataFrame(columns)], axis=1)
    out.index = index
    return out


def _require(sites: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in sites.columns]
    if missing:
        raise LayerValidationError(
            f"candidate sites lack column(s) {', '.join(missing)}; run geo.join.enrich first "
            "or add them (null where unknown)"
        )


#: Columns read as numbers (converted to float arrays once by :func:`arrays`).
NUMERIC_COLUMNS = frozenset(
    {
        "poi_voltage_kv",
        "tie_distance_km",
        "hosting_mw",
        "backbone_km",
        "hydro_mw_within_100km",
        "nearest_hydro_km",
        "gas_field_km",
        "land_price_usd_per_acre",
        *COST_COLUMNS[1:],
    }
)


def arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every column as a numpy array, converted once; numeric columns as floats with NaN."""
    out = {str(c): frame[c].to_numpy() for c in frame.columns}
    for name in NUMERIC_COLUMNS.intersection(out):
        out[name] = as_float(out, name)
    return out


def present(data: Columns, column: str) -> np.ndarray:
    """True where the column holds a value (absent column: all False)."""
    if column not in data:
        return np.zeros(len(next(iter(data.values()))), dtype=bool)
    return ~pd.isna(np.asarray(data[column]))


def as_float(data: Columns, column: str) -> np.ndarray:
    """A column as floats, nulls and non-numbers as NaN (absent column: all NaN)."""
    if column not in data:
        return np.full(len(next(iter(data.values()))), np.nan)
    values = np.asarray(data[column])
    if values.dtype.kind == "f":
        # a copy: the caller may write into it, and pandas 3 hands out read-only arrays
        return values.astype(float, copy=True)
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def is_in(data: Columns, column: str, options: tuple[str, ...]) -> np.ndarray:
    """True where the column's value is one of ``options`` (nulls: False)."""
    # object dtype on both sides: numpy compares element-wise (no sort, None is fine)
    values = np.asarray(data[column], dtype=object)
    return np.isin(values, np.asarray(options, dtype=object))


def as_bool(data: Columns, column: str) -> np.ndarray:
    """A boolean column, nulls and an absent column as False."""
    if column not in data:
        return np.zeros(len(next(iter(data.values()))), dtype=bool)
    values = np.asarray(data[column])
    if values.dtype.kind == "b":
        return values
    return np.asarray(values == True, dtype=bool)  # noqa: E712  (element-wise; None -> False)
