"""Power paths: how soon, and at what cost, each site can have its full load.

Three paths per site (docs/methods.md "Time to power and cost of power"); every figure is a
:class:`~geo.settings.Settings` field whose comment names its published source.

Grid
    ``months = max(campus_build_months, study + max(POI works, transformer,
    network upgrades, tie), campus transformers)``: the study comes first, then the works
    run in parallel and the longest binds (the *binding element*, named in the reasons).

    * The campus's own HV/MV transformers (``campus_transformer_lead_months``,
      :func:`campus_transformer_months`): ordered when the project starts, in parallel with
      the study, so their lead time runs from month 0 and the campus is energized when the
      last of the chain (campus build, study then works, transformers) is done. None where
      the site reuses an energized substation: its energized capacity (``existing_mw``)
      covers the whole load, so its transformers are in place.

    * The study (:func:`study_months`) is set by the process that governs the connection:
      the utility's published figure (``study_months_by_utility``, by ``utility_eia_id``),
      else its ISO/RTO's (``study_months_by_iso``, by ``iso_rto``), else the national
      default ``study_months`` ("national default" in ``study_basis``).

    * POI works: a bay at the existing substation (``poi_bay_months``) for loads up to
      ``bay_max_mw``, a new switching station (``switching_station_months``) above.
    * Network upgrades where ``firm_mw`` (N-1, :mod:`geo.grid.contingency`) is short of the load:
      ``upgrade_base_months + upgrade_shortfall_months * (1 - firm / load) +
      upgrade_n0_shortfall_months * max(0, 1 - hosting / load)``; none where firm covers the
      load. The last term is the share the intact network (``hosting_mw``, N-0) cannot
      carry either: new capacity, not only post-contingency relief. A null ``firm_mw``
      counts as 0 (and the reasons say so), a null ``hosting_mw`` as the firm figure.
    * A large transformer (``transformer_lead_months``) where the POI's voltage is below what
      the load needs (``firm_min_poi_kv`` by ``firm_load_bands_mw``).
    * The tie: 0 for 0 km; else ``tie_base_months + tie_months_per_km * km``, plus
      ``tie_certificate_months`` beyond ``tie_certificate_km``.

    First power: where firm is above 0 but short of the load, ``firm_mw`` can be served when
    the works other than the upgrades are done.

    With ``flexible_load`` (a load curtailed after an outage until the upgrades make it
    firm) every firm figure above is ``hosting_mw`` (N-0): no upgrades while the intact
    network carries the load.
Energized site
    A sites file's ``existing_mw`` (energized, contracted capacity): ``min(existing_mw,
    load)`` in ``time_reuse_months``; the rest of the load takes the grid path (no tie or
    POI works are charged for the energized part). Without ``existing_mw`` the path is absent.
On-site gas
    Possible where the site lies inside or within ``gas_path_max_km`` of a gas basin (basins
    are approximate outlines: "approximate basin, no pipeline data"). N+1 units of
    ``gas_unit_mw``; ``months = max(campus_build_months, gas_lead_months +
    gas_install_months, campus_transformer_lead_months)`` (the generators' step-up and the
    campus's transformers wait the same lead as on the grid path); capital = units
    x unit MW x ``gas_capex_usd_per_kw`` + a lateral of ``gas_field_km + gas_lateral_min_km``
    at ``gas_lateral_musd_per_km``; energy = fuel at ``gas_heat_rate_btu_per_kwh`` and
    ``gas_price_usd_per_mmbtu``, plus O&M: ``gas_variable_om_usd_per_mwh`` on the energy and
    ``gas_fixed_om_usd_per_kw_year`` on the installed units. Without a gas layer the path is
    absent.

The chosen path (``power_path``) is the one with the fewest months to the full load; equal
months go to the lower cost of power, then energized, grid, gas in that order.

Money (million USD): ``delay_cost_musd = months * campus_capex_musd_per_mw * load *
discount_rate / 12`` (the carrying cost of the campus capital until power);
``cost_of_power_musd = path capital + delay + energy_cost_musd_per_year * cost_horizon_years``.
"""

from __future__ import annotations

import numpy as np

from geo import secure
from geo._arrays import NONE, Columns, as_float, present
from geo.load import covers
from geo.settings import Settings

__all__ = [
    "HOURS_PER_YEAR",
    "PATHS",
    "campus_transformer_months",
    "choose",
    "energized_path",
    "gas_path",
    "grid_months",
    "monthly_carrying_musd",
    "study_months",
]

#: Path names, in the order that breaks an exact tie of months and cost.
PATHS = ("energized", "grid", "gas")
HOURS_PER_YEAR = 8760.0

#: Labels of the grid path's elements (binding element in the reasons).
CAMPUS, STUDY, BAY, STATION = "campus build", "study", "POI bay", "new switching station"
TRANSFORMER, UPGRADES, TIE = "large transformer", "network upgrades", "tie line"
CAMPUS_TRANSFORMER = "campus transformers"


def monthly_carrying_musd(load_mw: float, s: Settings) -> float:
    """Carrying cost of the campus capital per month of delay, million USD."""
    return s.campus_capex_musd_per_mw * load_mw * s.discount_rate / 12.0


#: ``study_basis`` of a site whose study length is the national default.
NATIONAL_DEFAULT = "national default"


def study_months(data: Columns, n: int, s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Months of the large-load study for each of ``n`` rows and where the figure comes from.

    The utility's own figure (``study_months_by_utility`` keyed by ``utility_eia_id``)
    first: the utility runs the load study, inside an ISO too. Else the ISO/RTO's
    (``study_months_by_iso`` keyed by ``iso_rto``), else ``study_months`` with the basis
    :data:`NATIONAL_DEFAULT`. Rows without these columns take the default.
    """
    months = np.full(n, float(s.study_months))
    basis = np.full(n, NATIONAL_DEFAULT, dtype=object)
    for column, table, label in (("iso_rto", s.study_months_by_iso, "{} process"),
                                 ("utility_eia_id", s.study_months_by_utility, "utility {}")):
        if not table or column not in data:
            continue
        keys = np.array([_key(v) for v in np.asarray(data[column], dtype=object)],
                        dtype=object)
        for key, value in table.items():
            hit = keys == key
            months[hit] = value
            basis[hit] = label.format(key)
    return months, basis


def _key(value: object) -> str:
    """A table key from a cell: the text, an id read as a number without its ".0", or ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        return f"{value:.0f}" if float(value).is_integer() else str(value)
    return "" if value is None else str(value)


def grid_months(data: Columns, need_mw: np.ndarray, load_mw: float,
                s: Settings) -> dict[str, np.ndarray]:
    """Months of the grid path for ``need_mw`` per row (0: nothing to connect).

    Returns ``months`` (to ``need_mw``), ``first_months``/``first_mw`` (the phase that can
    start sooner), ``binding`` (label of the element that sets ``months``) and
    ``upgrades`` (True where network upgrades are on the path). NaN months where there is
    no POI or no tie length.
    """
    n = len(need_mw)
    study = study_months(data, n, s)[0]
    has_poi = present(data, "poi_sub_id")
    need = np.asarray(need_mw, dtype=float)
    firm, upgrades, up_months, station, poi_months, xfmr_months = _works(data, need, load_mw, s)
    tie = as_float(data, "tie_distance_km")
    tie_months = _tie_months(tie, s)
    # Binding element: the longest of the parallel works (first in this order on a tie).
    works = np.vstack([up_months, xfmr_months, tie_months, poi_months])
    labels = np.array([UPGRADES, TRANSFORMER, TIE, BAY], dtype=object)
    worst = np.nan_to_num(works, nan=-1.0).argmax(axis=0)
    binding = labels[worst]
    binding = np.where((worst == 3) & station, STATION, binding)
    inter = study + np.nanmax(np.vstack([works, np.zeros(n)]), axis=0)
    campus = campus_transformer_months(data, need, load_mw, s)   # from month 0
    months = np.maximum(np.maximum(s.campus_build_months, inter), campus)
    binding = np.where(s.campus_build_months >= inter, CAMPUS, binding).astype(object)
    binding = np.where(campus > np.maximum(s.campus_build_months, inter), CAMPUS_TRANSFORMER,
                       binding).astype(object)
    # The phase before the upgrades: firm MW once the other works are done.
    other = study + np.nanmax(np.vstack([xfmr_months, tie_months, poi_months]), axis=0)
    early = upgrades & (firm > 0)
    first_months = np.where(early, np.maximum(np.maximum(s.campus_build_months, other), campus),
                            months)
    first_mw = np.where(early, np.minimum(firm, need), need)
    nothing = need <= 0
    months = np.where(nothing, 0.0, months)
    first_months = np.where(nothing, 0.0, first_months)
    bad = ~has_poi | np.isnan(tie)
    return {
        "months": np.where(bad & ~nothing, np.nan, months),
        "first_months": np.where(bad & ~nothing, np.nan, first_months),
        "first_mw": np.where(bad & ~nothing, np.nan, first_mw),
        "binding": np.where(bad & ~nothing, NONE, binding).astype(object),
        "upgrades": upgrades & ~nothing,
    }


def _works(data: Columns, need: np.ndarray, load_mw: float, s: Settings
           ) -> tuple[np.ndarray, ...]:
    """The works of :func:`grid_months` other than the tie, per row: the firm MW, whether
    upgrades are needed and their months, whether a switching station is, the POI works'
    and the large transformer's months."""
    firm = np.nan_to_num(as_float(data, "firm_mw"), nan=0.0)
    # N-0 hosting is never below firm (a null counts as the firm figure)
    hosting = np.maximum(np.nan_to_num(as_float(data, "hosting_mw"), nan=0.0), firm)
    if s.flexible_load:  # curtailed after an outage until the upgrades: N-0 is what binds
        firm = hosting
    kv = as_float(data, "poi_voltage_kv")
    with np.errstate(invalid="ignore", divide="ignore"):
        short = np.where((need > 0) & ~covers(firm, need),
                         np.clip(1.0 - firm / need, 0.0, 1.0), 0.0)
        short_n0 = np.where((need > 0) & ~covers(hosting, need),
                            np.clip(1.0 - hosting / need, 0.0, 1.0), 0.0)
    upgrades = short > 0
    up_months = np.where(upgrades, s.upgrade_base_months + s.upgrade_shortfall_months * short
                         + s.upgrade_n0_shortfall_months * short_n0, 0.0)
    station = need > s.bay_max_mw
    poi_months = np.where(station, s.switching_station_months, s.poi_bay_months)
    xfmr = ~secure.voltage_fits(kv, load_mw, s) & np.isfinite(kv)
    xfmr_months = np.where(xfmr, s.transformer_lead_months, 0.0)
    return firm, upgrades, up_months, station, poi_months, xfmr_months


def _tie_months(tie: np.ndarray, s: Settings) -> np.ndarray:
    """Months of the tie line: 0 for 0 km, NaN for an unknown length."""
    tie_months = np.where(
        tie > 0,
        s.tie_base_months + s.tie_months_per_km * tie
        + np.where(tie > s.tie_certificate_km, s.tie_certificate_months, 0.0),
        0.0,
    )
    return np.where(np.isnan(tie), np.nan, tie_months)


def pair_months(pois: Columns, at: np.ndarray, tie_km: np.ndarray, load_mw: float,
                s: Settings) -> np.ndarray:
    """``grid_months(...)["months"]`` of site-POI pairs for the full load, the same bits:
    the POI at position ``at`` of ``pois`` (``firm_mw``, ``hosting_mw``,
    ``poi_voltage_kv``), the tie ``tie_km`` long, no study or energized columns.

    The works other than the tie are the POI's own, made once per POI; per pair only the
    tie and the maxima are left (a maximum of the same numbers, in any grouping, is the
    same number)."""
    need = np.full(len(pois["firm_mw"]), float(load_mw))
    _, _, up_months, _, poi_months, xfmr_months = _works(pois, need, load_mw, s)
    fixed = np.maximum(np.maximum(np.maximum(up_months, xfmr_months), poi_months), 0.0)
    study = float(s.study_months)
    campus = campus_transformer_months({"existing_mw": np.full(1, np.nan)},
                                       np.full(1, float(load_mw)), load_mw, s)[0]
    tie = np.asarray(tie_km, dtype=float)
    inter = study + np.maximum(fixed[at], _tie_months(tie, s))
    months = np.maximum(np.maximum(s.campus_build_months, inter), campus)
    return np.where(np.isnan(tie), np.nan, months)


def campus_transformer_months(data: Columns, need_mw: np.ndarray, load_mw: float,
                              s: Settings) -> np.ndarray:
    """Lead time of the campus's own HV/MV transformers on the grid path, per row.

    ``campus_transformer_lead_months`` wherever the grid path brings new MW (``need_mw >
    0``), counted from month 0 (ordered in parallel with the study); 0 where the site
    reuses an energized substation: its ``existing_mw`` (energized, contracted capacity)
    covers the whole load, so the transformers that carry it are in place. An energized
    site's remainder (``load − existing_mw``) needs new transformer capacity and gets the
    lead time.

    >>> s = Settings(campus_transformer_lead_months=34.6)
    >>> campus_transformer_months({"existing_mw": np.array([np.nan, 100.0, 300.0])},
    ...                           np.array([300.0, 300.0, 300.0]), 300.0, s).tolist()
    [34.6, 34.6, 0.0]
    """
    existing = np.nan_to_num(as_float(data, "existing_mw"), nan=0.0)
    reuses = existing >= load_mw
    return np.where((np.asarray(need_mw, dtype=float) > 0) & ~reuses,
                    s.campus_transformer_lead_months, 0.0)


def energized_path(data: Columns, load_mw: float, remainder: dict[str, np.ndarray],
                   s: Settings) -> dict[str, np.ndarray]:
    """The energized-site path; ``remainder`` is :func:`grid_months` for the rest of the load.

    Absent (NaN months) where ``existing_mw`` is null or 0.
    """
    existing = np.nan_to_num(as_float(data, "existing_mw"), nan=0.0)
    ok = existing > 0
    reuse = np.minimum(existing, load_mw)
    rest = load_mw - reuse
    full = np.where(rest > 0, np.maximum(s.time_reuse_months, remainder["months"]),
                    s.time_reuse_months)
    binding = np.where(rest > 0, remainder["binding"], "energized reuse").astype(object)
    binding = np.where((rest > 0) & (s.time_reuse_months >= np.nan_to_num(remainder["months"])),
                       "energized reuse", binding).astype(object)
    return {
        "months": np.where(ok, full, np.nan),
        "first_months": np.where(ok, s.time_reuse_months, np.nan),
        "first_mw": np.where(ok, reuse, np.nan),
        "binding": np.where(ok, binding, NONE).astype(object),
        "upgrades": ok & (rest > 0) & remainder["upgrades"],
        "rest_mw": np.where(ok, rest, np.nan),
    }


def gas_path(data: Columns, load_mw: float, s: Settings) -> dict[str, np.ndarray]:
    """The on-site gas path (absent where no gas basin is within ``gas_path_max_km``)."""
    km = as_float(data, "gas_field_km")
    with np.errstate(invalid="ignore"):
        ok = present(data, "gas_field") & (km <= s.gas_path_max_km)
    units = np.ceil(load_mw / s.gas_unit_mw) + 1
    plant = units * s.gas_unit_mw * 1e3 * s.gas_capex_usd_per_kw / 1e6
    lateral = (km + s.gas_lateral_min_km) * s.gas_lateral_musd_per_km
    equipment = s.gas_lead_months + s.gas_install_months
    # the plant's step-up and the campus's transformers take the same lead as on the grid
    # path (campus_transformer_lead_months, from month 0): no path skips the transformers
    months = max(s.campus_build_months, equipment, s.campus_transformer_lead_months)
    binding = (CAMPUS_TRANSFORMER if s.campus_transformer_lead_months > max(
        s.campus_build_months, equipment)
        else CAMPUS if s.campus_build_months >= equipment else "gas equipment lead time")
    mwh = load_mw * s.load_factor * HOURS_PER_YEAR
    fuel = mwh * s.gas_heat_rate_btu_per_kwh / 1e3 * s.gas_price_usd_per_mmbtu / 1e6
    om = (mwh * s.gas_variable_om_usd_per_mwh
          + units * s.gas_unit_mw * 1e3 * s.gas_fixed_om_usd_per_kw_year) / 1e6
    n = len(km)
    return {
        "months": np.where(ok, months, np.nan),
        "first_months": np.where(ok, months, np.nan),
        "first_mw": np.where(ok, load_mw, np.nan),
        "binding": np.where(ok, binding, NONE).astype(object),
        "upgrades": np.zeros(n, dtype=bool),
        "capex": np.where(ok, plant + lateral, np.nan),
        "units": np.where(ok, units, np.nan),
        "energy": np.where(ok, fuel + om, np.nan),
    }


def choose(options: dict[str, dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Index into :data:`PATHS` of the chosen path per row, and a mask of rows with a path.

    ``options[path]`` holds ``months`` and ``cost`` (cost of power, NaN where unknown).
    Fewest months first, then the lower cost (unknown cost last), then the order of PATHS.
    """
    months = np.vstack([options[p]["months"] for p in PATHS])
    cost = np.vstack([options[p]["cost"] for p in PATHS])
    big = np.finfo(float).max
    m = np.where(np.isnan(months), np.inf, np.round(months, 6))
    c = np.where(np.isnan(cost), big, cost)
    n = months.shape[1]
    best = np.zeros(n, dtype=np.int64)
    for i in range(1, len(PATHS)):  # three paths: a loop over paths, not rows
        better = (m[i] < m[best, np.arange(n)]) | (
            (m[i] == m[best, np.arange(n)]) & (c[i] < c[best, np.arange(n)]))
        best = np.where(better, i, best)
    return best, np.isfinite(m[best, np.arange(n)])
