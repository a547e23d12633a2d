"""Interconnection capital, land cost, the power paths and the money of each site.

Costs follow NREL reVX's published 2019 defaults (2019 USD) escalated by
``capex_escalation_from_2019``; money columns are million USD. Every figure is a
:class:`~geo.settings.Settings` field whose comment names its source, and ``--config PATH``
(TOML) overrides any of them. The three power paths and their months are in
:mod:`geo.power`; this module prices them and picks the fastest.

Interconnection capital (the grid path, for the MW it has to connect)
    * Region (``cost_region``): a site in one of ``teppc_interconnects`` (the Western
      Interconnection) takes the TEPPC tables; otherwise a site whose ``subdivision`` is in
      ``southeast_subdivisions`` takes the Southeast tables; everything else (Texas, the
      rest of the East, every non-US site: a proxy) the MISO tables.
    * Tie line at the POI's voltage: one circuit carries at most ``tie_circuit_mw`` at that
      voltage (reVX power_to_voltage); ``circuits = ceil(MW / per circuit)``, plus one spare
      where ``tie_n1_supply`` (N-1 supply to the campus). Each circuit is priced at the
      smallest reVX capacity class (102 ... 3,000 MW) holding its share of the MW, USD per
      mile by region, times the short-spur multiplier (1.5 under 3 miles, 1.2 under 10).
      A tie of 0 km costs 0.
    * POI works: a bay (reVX upgrade-substation cost) up to ``bay_max_mw``, a new switching
      station (reVX new-substation cost) above, by region and the POI's voltage class.
    * Transformer: reVX USD per MW at the POI's voltage class times the MW.
    * ``interconnection_cost_musd`` = (tie + POI works + transformer) x escalation; null
      where a part is unknown (no POI, tie distance or POI voltage).
Land
    ``acres_needed = acres_per_mw * load_mw`` and ``land_cost_musd = acres_needed *
    land_price_usd_per_acre / 1e6``.
Money
    ``delay_cost_musd`` = the months each MW waits x the monthly carrying cost of the campus
    capital per MW (``campus_capex_musd_per_mw`` x ``discount_rate`` / 12): a path that
    powers ``first_power_mw`` at ``first_power_months`` charges those MW that long and only
    the rest the full months (:func:`delay_cost`); energy at the
    subdivision's industrial price (:mod:`geo.prices`) x load x ``load_factor`` x 8,760 h
    (grid and energized paths) or gas fuel and O&M (gas path); ``cost_of_power_musd`` = the chosen
    path's capital + delay + ``cost_horizon_years`` of energy.

Everything is vectorised over rows; the only per-call work is validating settings.
"""

from __future__ import annotations

import logging
from typing import TypeVar

import numpy as np
import pandas as pd

from geo import _arrays, columns, power, prices
from geo._arrays import NONE, Columns, add_columns, arrays, as_float, is_in, present
from geo._memory import reused_heap
from geo.errors import LayerValidationError, SettingsError
from geo.load import check_load
from geo.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["COST_COLUMNS", "KM_PER_MILE", "REGIONS", "estimate", "grid_path"]

#: Statute mile in km (reVX tables are per mile).
KM_PER_MILE = 1.609344

#: Cost regions, in the order of reVX's tables.
REGIONS = ("MISO", "Southeast", "TEPPC")

#: Columns :func:`estimate` adds (the rows of ``geo/schemas/sites.csv`` with stage costs).
COST_COLUMNS = columns.names(stage="costs")

Frame = TypeVar("Frame", bound=pd.DataFrame)


def estimate(sites: Frame, load_mw: float, settings: Settings | None = None) -> Frame:
    """Add interconnection capital, land cost, the power paths and the money columns.

    Parameters
    ----------
    sites : pandas.DataFrame or geopandas.GeoDataFrame
        One row per candidate with the enriched columns (``poi_sub_id``,
        ``poi_voltage_kv``, ``tie_distance_km``, ``interconnect``, ``subdivision``,
        ``hosting_mw``, ``firm_mw``, ``gas_field``, ``gas_field_km``,
        ``land_price_usd_per_acre`` and optionally ``existing_mw``).
    load_mw : float
        The data-center load to connect, MW (> 0).
    settings : Settings, optional
        Cost tables and time-to-power figures; defaults to ``Settings()``.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A copy of ``sites`` (same type, same row order) with the columns in
        :data:`COST_COLUMNS`; money in million USD (reVX 2019 figures escalated), time in
        months.

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
    ...     "firm_mw": [450.0], "land_price_usd_per_acre": [10_000.0],
    ...     "gas_field": [None], "gas_field_km": [None]})
    >>> out = estimate(sites, 300.0)
    >>> round(float(out.loc[0, "interconnection_cost_musd"]), 2)
    78.97
    >>> float(out.loc[0, "time_to_power_months"]), out.loc[0, "power_binding"]
    (43.4, 'tie line')
    """
    settings = settings if settings is not None else Settings()
    load = check_load(load_mw)
    check_cost_settings(settings)
    lacking = columns.missing(sites.columns, "costs")
    if lacking:
        raise LayerValidationError(f"cannot estimate costs: {lacking}, or add the columns "
                                   "(null where unknown)")
    data = arrays(sites)
    check_values(data, sites.index)
    with reused_heap():  # dozens of row-long temporaries: freed pages reused, not faulted
        new = compute(data, load, settings)
        # the text columns (a few labels each) in their frame form among the distinct values
        return add_columns(sites, {name: _arrays.text_form(values)
                                   for name, values in new.items()})


def check_values(data: Columns, index: pd.Index) -> None:
    """Refuse infinite values, and values below the table's ``minimum`` (distances, MW, ...).

    Raises
    ------
    LayerValidationError
        Naming each bad column and example rows.
    """
    problems = []
    for name, low in columns.minimums().items():
        if name not in data:
            continue
        values = np.asarray(data[name], dtype=float)
        bad = index[(values < low) | np.isinf(values)]
        if len(bad):
            rows = ", ".join(str(i) for i in bad[:5])
            below = "negative" if low == 0 else f"below {low:g}"
            problems.append(f"{name} is {below} or infinite in rows {rows}")
    if problems:
        raise LayerValidationError("candidate sites: " + "; ".join(problems))


def compute(data: Columns, load_mw: float, settings: Settings) -> dict[str, np.ndarray]:
    """The cost columns as arrays, from input columns already taken out as arrays.

    The array-level core of :func:`estimate` (which validates and builds the frame).

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
    s = settings
    load = load_mw
    n = len(data["poi_sub_id"])
    region = cost_region(data, s)
    full = interconnection(data, np.full(n, load), region, s)
    grid = power.grid_months(data, np.full(n, load), load, s)
    study, study_basis = power.study_months(data, n, s)

    existing = np.nan_to_num(as_float(data, "existing_mw"), nan=0.0)
    if (existing > 0).any():
        rest_mw = np.where(existing > 0, load - np.minimum(existing, load), load)
        rest_cost = interconnection(data, rest_mw, region, s)["total"]
        remainder = power.grid_months(data, rest_mw, load, s)
    else:  # no energized site: the rest of every load is all of it, priced above already
        rest_cost, remainder = full["total"], grid
    energized = power.energized_path(data, load, remainder, s)
    gas = power.gas_path(data, load, s)

    price, price_note = prices.lookup(data.get("subdivision", np.full(n, None, object)), s,
                                      data.get("country_iso3"))
    mwh = load * s.load_factor * power.HOURS_PER_YEAR
    grid_energy = price * mwh / 1e6
    carry = power.monthly_carrying_musd(load, s)
    horizon = s.cost_horizon_years
    capex = {"grid": full["total"], "energized": rest_cost, "gas": gas["capex"]}
    energy = {"grid": grid_energy, "energized": grid_energy, "gas": gas["energy"]}
    paths = {"grid": grid, "energized": energized, "gas": gas}
    options = {}
    delay = {name: delay_cost(path, load, carry) for name, path in paths.items()}
    for name, path in paths.items():
        cost = capex[name] + delay[name] + energy[name] * horizon
        options[name] = {"months": path["months"], "cost": cost}
    best, has_path = power.choose(options)
    rows = np.arange(n)

    def pick(values: dict[str, np.ndarray]) -> np.ndarray:
        stacked = np.vstack([np.asarray(values[p], dtype=object) for p in power.PATHS])
        return stacked[best, rows]

    def pick_float(values: dict[str, np.ndarray]) -> np.ndarray:
        # stacked as floats (the same numbers as through objects, without boxing each)
        stacked = np.vstack([np.asarray(values[p], dtype=float) for p in power.PATHS])
        return np.where(has_path, stacked[best, rows], np.nan)

    months = pick_float({p: paths[p]["months"] for p in paths})
    path_name = np.where(has_path, np.asarray(power.PATHS, dtype=object)[best], NONE)
    chosen_energy = pick_float(energy)
    upgrades = pick({p: paths[p]["upgrades"] for p in paths}).astype(bool) & has_path

    unknown = present(data, "poi_sub_id") & ~np.isfinite(full["total"])
    if unknown.any():
        logger.warning(
            "%d site(s) with a POI but no tie distance or POI voltage: interconnection cost "
            "left null",
            int(unknown.sum()),
        )
    acres = s.acres_per_mw * load
    logger.debug("costs and power paths for %d site(s) at %.0f MW", n, load)
    return {
        "cost_region": region,
        "tie_cost_musd": full["tie"],
        "tie_circuits": full["circuits"],
        "substation_cost_musd": full["poi"],
        "poi_works": full["works"],
        "transformer_cost_musd": full["transformer"],
        "interconnection_cost_musd": full["total"],
        "acres_needed": np.full(n, acres),
        "land_cost_musd": acres * as_float(data, "land_price_usd_per_acre") / 1e6,
        "grid_months": grid["months"],
        "grid_study_months": study,
        "grid_study_basis": study_basis,
        "energized_months": energized["months"],
        "gas_months": gas["months"],
        "gas_capex_musd": gas["capex"],
        "time_to_power_months": months,
        "power_path": path_name.astype(object),
        "power_binding": np.where(has_path, pick({p: paths[p]["binding"] for p in paths}),
                                  NONE).astype(object),
        "network_upgrades": upgrades,
        "first_power_mw": pick_float({p: paths[p]["first_mw"] for p in paths}),
        "first_power_months": pick_float({p: paths[p]["first_months"] for p in paths}),
        "path_capex_musd": pick_float(capex),
        "delay_cost_musd": pick_float(delay),
        "energy_price_usd_per_mwh": np.where(path_name == "gas", np.nan, price),
        "energy_price_note": np.where(path_name == "gas", NONE, price_note).astype(object),
        "energy_cost_musd_per_year": chosen_energy,
        "cost_of_power_musd": pick_float({p: options[p]["cost"] for p in options}),
    }


def delay_cost(path: dict[str, np.ndarray], load_mw: float, carry: float) -> np.ndarray:
    """The delay cost of a power path, million USD: each MW waits until it is powered, at
    the campus capital's carrying cost (``carry`` per month for the whole load). The
    ``first_mw`` that a path powers at ``first_months`` wait that long, the rest the path's
    ``months``; a path without an earlier phase waits ``months`` for the whole load.

    >>> path = {"months": np.array([40.0, 24.0]), "first_mw": np.array([200.0, 300.0]),
    ...         "first_months": np.array([12.0, 24.0])}
    >>> (delay_cost(path, 300.0, 3.0) / 3.0).round(2).tolist()  # month-loads
    [21.33, 24.0]
    """
    months = np.asarray(path["months"], dtype=float)
    first_mw = np.asarray(path.get("first_mw", np.full(len(months), np.nan)), dtype=float)
    first_months = np.asarray(path.get("first_months", np.full(len(months), np.nan)),
                              dtype=float)
    with np.errstate(invalid="ignore"):
        phased = (first_mw > 0) & (first_mw < load_mw) & (first_months < months)
    share = np.where(phased, np.clip(first_mw, 0.0, load_mw) / load_mw, 0.0)
    waited = np.where(phased, share * first_months + (1.0 - share) * months, months)
    return waited * carry


def grid_path(data: Columns, load_mw: float, settings: Settings, *,
              region: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Months and interconnection capital of the grid path for the full load, per row.

    What :func:`geo.join.assign_poi` compares among a site's candidate POIs (one row per
    site-POI pair: ``poi_sub_id``, ``firm_mw``, ``hosting_mw``, ``poi_voltage_kv``,
    ``tie_distance_km`` and optionally ``interconnect`` and ``subdivision`` for the cost
    region). For one site the energy price is the same at every POI and the delay cost is
    months x a constant, so the fastest, then cheapest, of these is the POI with the lowest
    cost of power among those with the fewest months. NaN where unknown. ``region``: the
    rows' :func:`cost_region`, when the caller has it (then ``interconnect`` and
    ``subdivision`` are not read).
    """
    check_cost_settings(settings)
    n = len(data["poi_sub_id"])
    need = np.full(n, float(load_mw))
    months = power.grid_months(data, need, load_mw, settings)["months"]
    if region is None:
        region = cost_region(data, settings)
    capital = interconnection(data, need, region, settings)["total"]
    return {"months": months, "capital": capital}


def pair_paths(pois: Columns, at: np.ndarray, tie_km: np.ndarray, region: np.ndarray,
               load_mw: float, settings: Settings) -> dict[str, np.ndarray]:
    """:func:`grid_path` of site-POI pairs to the bit (:func:`geo.join.assign_poi`): the POI
    at position ``at`` of ``pois`` (``firm_mw``, ``hosting_mw``, ``poi_voltage_kv``), a tie
    ``tie_km`` long, the cost region at position ``region`` of :data:`REGIONS`. What the POI
    alone sets is made once per POI; per pair only the tie and the sums, in
    :func:`interconnection`'s order of operations."""
    s, load = settings, float(load_mw)
    check_cost_settings(s)
    n = len(pois["firm_mw"])
    volt = np.asarray(pois["poi_voltage_kv"], dtype=float)
    per_poi = [interconnection({"poi_sub_id": np.ones(n, dtype=bool), "poi_voltage_kv": volt,
                                "tie_distance_km": np.zeros(n)}, np.full(n, load),
                               np.full(n, r, dtype=object), s) for r in REGIONS]
    poi = np.vstack([p["poi"] for p in per_poi])[region, at]
    xfmr = per_poi[0]["transformer"][at]  # the same in every region
    circuits, class_idx = _tie_circuits(volt, np.full(n, load), s)  # per POI
    tie = _tie_musd(region, class_idx[at], np.asarray(tie_km, dtype=float) / KM_PER_MILE,
                    circuits[at], s)
    return {"months": power.pair_months(pois, at, tie_km, load, s), "capital": tie + poi + xfmr}


def cost_region(data: Columns, settings: Settings) -> np.ndarray:
    """TEPPC by interconnection, Southeast by state, MISO for everything else."""
    n = len(data["poi_sub_id"])
    region = np.full(n, "MISO", dtype=object)
    if "subdivision" in data:
        region[is_in(data, "subdivision", settings.southeast_subdivisions)] = "Southeast"
    if "interconnect" in data:
        region[is_in(data, "interconnect", settings.teppc_interconnects)] = "TEPPC"
    return region


def region_table(area: np.ndarray, interconnect: np.ndarray, settings: Settings
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the sites' subdivisions and of the POIs' interconnections, and the
    :func:`cost_region` of every pair of codes, ``table[site_code, poi_code]``: what it gives
    per site-POI pair (:func:`geo.join.assign_poi`), computed once per distinct pair of
    values instead of on millions of pairs."""
    site_code, site_values = pd.factorize(pd.Series(area, dtype=object))
    poi_code, poi_values = pd.factorize(pd.Series(interconnect, dtype=object))
    # code -1 (a null) is the last row and column of the table
    sub = np.array([*site_values, None], dtype=object)
    inter = np.array([*poi_values, None], dtype=object)
    grid_sub, grid_inter = np.meshgrid(sub, inter, indexing="ij")
    table = cost_region({"poi_sub_id": grid_sub.ravel(), "subdivision": grid_sub.ravel(),
                         "interconnect": grid_inter.ravel()}, settings)
    return site_code, poi_code, table.reshape(grid_sub.shape).astype(str)


#: ``works`` of :func:`interconnection`, as 0-d object arrays (``np.where`` keeps them shared).
_STATION_WORKS = np.array("switching station", dtype=object)
_BAY_WORKS = np.array("bay", dtype=object)


def interconnection(data: Columns, need_mw: np.ndarray, region: np.ndarray,
                    settings: Settings) -> dict[str, np.ndarray]:
    """Interconnection capital (million USD, escalated) to connect ``need_mw`` per row.

    Returns ``tie``, ``poi``, ``transformer``, ``total``, ``circuits`` and ``works``
    ("bay" or "switching station"); 0 where ``need_mw`` is 0, NaN where there is no POI,
    no tie distance or no POI voltage.
    """
    s = settings
    need = np.asarray(need_mw, dtype=float)
    has_poi = present(data, "poi_sub_id")
    tie_km = as_float(data, "tie_distance_km")
    volt = as_float(data, "poi_voltage_kv")
    region_idx = np.select([region == r for r in REGIONS], range(len(REGIONS)))
    esc = s.capex_escalation_from_2019

    circuits, class_idx = _tie_circuits(volt, need, s)
    tie = _tie_musd(region_idx, class_idx, tie_km / KM_PER_MILE, circuits, s)

    # POI works and transformer by the POI's voltage class (nearest lower).
    kv_classes = np.asarray(s.substation_classes_kv)
    kv_idx = np.clip(np.searchsorted(kv_classes, volt, side="right") - 1, 0, len(kv_classes) - 1)
    known_kv = np.isfinite(volt)
    station = need > s.bay_max_mw
    bay_cost = np.array([s.substation_upgrade_cost_musd, s.substation_upgrade_cost_musd_southeast,
                         s.substation_upgrade_cost_musd_teppc])[region_idx, kv_idx]
    new_cost = np.array([s.new_substation_cost_musd, s.new_substation_cost_musd_southeast,
                         s.new_substation_cost_musd_teppc])[region_idx, kv_idx]
    poi = np.where(known_kv, np.where(station, new_cost, bay_cost) * esc, np.nan)
    xfmr = np.where(known_kv,
                    np.asarray(s.transformer_cost_usd_per_mw)[kv_idx] * need / 1e6 * esc, np.nan)
    # two shared strings, not a new Python string per row (assign_poi prices millions of pairs)
    works = np.where(station, _STATION_WORKS, _BAY_WORKS)

    nothing = need <= 0
    out = {"tie": tie, "poi": poi, "transformer": xfmr}
    for name, values in out.items():
        values = np.where(nothing, 0.0, values)
        out[name] = np.where(has_poi | nothing, values, np.nan)
    out["total"] = out["tie"] + out["poi"] + out["transformer"]
    out["circuits"] = np.where(has_poi & ~nothing & np.isfinite(volt), circuits, np.nan)
    out["works"] = np.where(has_poi & ~nothing, works, NONE).astype(object)
    return out


def _tie_circuits(volt: np.ndarray, need: np.ndarray, s: Settings
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The tie's circuits at the POI's voltage (one spare for N-1 supply) and the capacity
    class of each circuit's share of ``need``."""
    circuit_kv = np.asarray(s.tie_circuit_kv)
    kv_row = np.clip(np.searchsorted(circuit_kv, np.nan_to_num(volt, nan=0.0), side="right") - 1,
                     0, len(circuit_kv) - 1)
    needed = np.maximum(np.ceil(need / np.asarray(s.tie_circuit_mw)[kv_row]), 1.0)
    classes = np.asarray(s.tie_capacity_classes_mw)
    class_idx = np.clip(np.searchsorted(classes, need / needed, side="left"), 0,
                        len(classes) - 1)
    return needed + (1.0 if s.tie_n1_supply else 0.0), class_idx


def _tie_musd(region_idx: np.ndarray, class_idx: np.ndarray, miles: np.ndarray,
              circuits: np.ndarray, s: Settings) -> np.ndarray:
    """The tie's capital (million USD, escalated): cost per mile by region and capacity
    class, times the spur multiplier of its length, times its circuits."""
    per_mile = np.array([s.tie_cost_usd_per_mile_miso, s.tie_cost_usd_per_mile_southeast,
                         s.tie_cost_usd_per_mile_teppc])[region_idx, class_idx]
    spur_idx = np.searchsorted(np.asarray(s.spur_cutoffs_miles), miles, side="right")
    spur = np.asarray(s.spur_multipliers)[np.clip(spur_idx, 0, len(s.spur_multipliers) - 1)]
    return per_mile * miles * spur * circuits / 1e6 * s.capex_escalation_from_2019


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
    kv_rows = settings.tie_circuit_kv
    if list(kv_rows) != sorted(set(kv_rows)):
        problems.append("tie_circuit_kv must be increasing")
    if len(settings.tie_circuit_mw) != len(kv_rows):
        problems.append(f"tie_circuit_mw needs one value per tie_circuit_kv ({len(kv_rows)})")
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
    for name in ("substation_upgrade_cost_musd", "substation_upgrade_cost_musd_southeast",
                 "substation_upgrade_cost_musd_teppc", "new_substation_cost_musd",
                 "new_substation_cost_musd_southeast", "new_substation_cost_musd_teppc",
                 "transformer_cost_usd_per_mw"):
        if len(getattr(settings, name)) != len(kv):
            problems.append(f"{name} needs one value per substation_classes_kv ({len(kv)})")
    if not 0 < settings.partial_hosting_fraction <= 1:
        problems.append("partial_hosting_fraction must be in (0, 1]")
    if problems:
        raise SettingsError("invalid cost settings: " + "; ".join(problems))
