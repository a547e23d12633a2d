"""One settings object: every default documented next to its source, every limit declared.

:class:`Settings` is a :class:`layers.settings.SettingsBase` (pydantic): typed fields with
their limits, validated strictly; a bad value or an unknown key raises one
:class:`~geo.errors.SettingsError` line naming the key, the value and the allowed range.
Flags and TOML files override it (``Settings().replace(**overrides)``, :func:`from_toml`).

A ``--config`` TOML file holds the engine settings as top-level keys and, optionally, the
downloaders' settings (:class:`layers.fetch.FetchSettings`) in a ``[fetch]`` table, so one
file serves every command; each command checks the whole file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import platformdirs
from pydantic import Field

from geo.errors import SettingsError
from layers.fetch.settings import FetchSettings
from layers.settings import Amount, Name, Positive, SettingsBase, read_toml, show_value

#: Fuels whose plants can ramp to serve a new firm load; the participation of a new load's
#: supply is in proportion to the capacity of these plants in the island (wind and solar
#: are left out because their output does not follow load).
DISPATCHABLE_FUELS = ("gas", "coal", "nuclear", "hydro", "oil", "geothermal", "biomass", "other")

#: The table of a ``--config`` file that holds :class:`~layers.fetch.FetchSettings`.
FETCH_TABLE = "fetch"


class Settings(SettingsBase):
    """Every tunable of geo-rank, with its default, its limits and where the default comes from.

    The field order is the order of the settings in every export's provenance.
    """

    retired: ClassVar[dict[str, str]] = {
        "hydro_radius_km": "the radius is fixed at 100 km (geo.join.HYDRO_RADIUS_KM), as the "
                           "column hydro_mw_within_100km says",
    }

    # --- grid topology -------------------------------------------------------------------
    #: Line ends farther than this from any substation of compatible voltage stay unsnapped.
    #: 5 km as in PyPSA-Earth (``base_network``) and Breakthrough Energy's PreREISE.
    snap_tolerance_km: float = Field(default=5.0, ge=0)
    #: Substations at or above this voltage form the backbone (EHV grid), as in reV's
    #: transmission-feature tables where 345 kV marks the bulk system.
    backbone_kv: float = Field(default=345.0, gt=0)
    #: Relative tolerance when matching a line's voltage to a substation's voltage range
    #: while snapping (0.1: 220/230 kV, 330/345 kV and 500/525 kV count as one class, but
    #: 115 kV does not match 138 kV). Our choice; PyPSA-Earth matches on voltage too.
    snap_voltage_tolerance: float = Field(default=0.1, ge=0, lt=1)

    # --- load-hosting capacity ----------------------------------------------------------
    #: Hosting is computed at substations at or above this voltage (115 kV: the lowest
    #: transmission class a 100+ MW load connects to, the first US class above the 100 kV
    #: bright line of NERC's Bulk Electric System definition, FERC Order No. 743, 2010).
    hosting_min_kv: float = Field(default=115.0, ge=0)
    #: Branches are monitored when the new load's distribution factor on them is at least
    #: this fraction. 0.05 is the 5 % cut-off MISO and PJM use for thermal impacts in
    #: interconnection studies.
    distribution_factor_cutoff: float = Field(default=0.05, ge=0, le=1)
    #: Where a line's base-case flow is unknown, it is assumed loaded to this fraction of
    #: its rating in the direction of the change (an assumption, not an observation).
    assumed_utilisation: float = Field(default=0.5, ge=0, le=1)
    #: Fuels that pick up a new load (see DISPATCHABLE_FUELS).
    participation_fuels: tuple[Name, ...] = Field(default=DISPATCHABLE_FUELS, strict=False,
                                                  min_length=1)
    #: How a new load is shared among those plants: "headroom" (capacity minus base-case
    #: output, TAMU Pg; DESIGN.md "Load-hosting capacity" step 2) or "nameplate" (capacity).
    participation_method: Literal["headroom", "nameplate"] = "headroom"
    #: Where it is served from: "eia930_region" (the POI's EIA-930 region, EIA Hourly
    #: Electric Grid Monitor, states mapped whole; geo.dispatch) or "interconnection".
    participation_area: Literal["eia930_region", "interconnection"] = "eia930_region"
    #: Right-hand sides solved together per sparse LU solve (memory ~ n_bus * batch * 8 B).
    #: Our choice; it changes speed and memory, never a result.
    hosting_batch: int = Field(default=256, ge=1)

    # --- N-1 firm hosting (geo.contingency) ---------------------------------------------
    #: Emergency rating as a multiple of the normal rating, used after an outage. 1.0 (the
    #: normal rating): TAMU's synthetic cases carry rateA only; NERC TPL-001-5 Table 1
    #: requires P1 contingencies to stay within "applicable Facility Ratings", which for
    #: many owners are short-term emergency ratings ~10-25 % above normal.
    emergency_rating_factor: float = Field(default=1.0, gt=0, le=3)
    #: Optional cap on the screened outages per POI (those changing the POI's flow per MW
    #: the most are kept; circuits ending at the POI are always added). None (default):
    #: every outage that changes some branch's flow per MW by at least the cut-off is
    #: screened. A POI whose list was cut gets firm_source "estimated" (an upper bound).
    n1_max_outages: int | None = Field(default=None, ge=0)
    #: LODF columns keep entries with |PTDF for the outaged circuit's own transfer| at least
    #: this fraction of (1 - the circuit's own PTDF); smaller effects are left at their N-0
    #: values (at most 1 % of the outaged circuit's flow). Our choice (numerical, not policy).
    n1_lodf_tolerance: float = Field(default=1e-2, ge=0, lt=1)
    #: Voltage fit to load size: a POI below firm_min_poi_kv[i] is not firm for a load of
    #: at least firm_load_bands_mw[i] (138 kV from 100 MW, 230 kV from 300 MW, 345 kV from
    #: 1,000 MW). Our table, informed by utility practice (docs/methods.md: RMI 2025 on
    #: transmission-level large loads; Dominion's 900 MW Chesterfield campus on 230 kV
    #: double circuits; Zahedi et al., arXiv:2601.12686, review of utility handbooks).
    firm_load_bands_mw: tuple[Positive, ...] = Field(default=(100.0, 300.0, 1000.0),
                                                     strict=False, min_length=1)
    firm_min_poi_kv: tuple[Positive, ...] = Field(default=(138.0, 230.0, 345.0), strict=False,
                                                  min_length=1)

    # --- candidates and joins ---------------------------------------------------------
    #: Substation candidates and points of interconnection at or above this voltage (the
    #: same 115 kV class as hosting_min_kv, same source).
    candidate_min_kv: float = Field(default=115.0, ge=0)
    #: A site connects to its best substation within this straight-line distance
    #: (50 km: reVX's transmission-feature search radius for spur lines is of this order).
    max_tie_km: float = Field(default=50.0, gt=0)
    #: Nearest substations examined per site when choosing its point of interconnection.
    #: Our choice (16: more than the substations within a few km of any site in the data).
    poi_neighbours: int = Field(default=16, ge=1)
    #: Points within this distance of a state or country outline (coastal sites that fall
    #: just outside a 1:10m cartographic boundary) take the nearest one. Our choice.
    admin_snap_km: float = Field(default=10.0, ge=0)

    # --- caching -------------------------------------------------------------------------
    #: Grid metrics are cached on disk keyed by a hash of the inputs and these settings.
    use_cache: bool = True
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir("geo-rank")),
                           strict=False)

    # --- costs and time to power ----------------------------------------------------------
    # Cost figures are NREL reVX's published 2019 defaults (2019 USD), reVX
    # least_cost_xmission/config (base_line_costs.json, upgrade_substation_costs.json,
    # transformer_costs); see geo.costs for how they are applied.
    #: Tie-line capacity classes (MW); a load uses the smallest class >= the load, above the
    #: largest class that class times ceil(load / largest) circuits. reVX power classes.
    tie_capacity_classes_mw: tuple[Positive, ...] = Field(
        default=(102.0, 205.0, 400.0, 1500.0), strict=False, min_length=1
    )
    #: Tie-line USD per mile by capacity class, MISO table (also used for Texas, the East
    #: outside the Southeast states, and every non-US site). reVX 2019 defaults, MISO.
    tie_cost_usd_per_mile_miso: tuple[Amount, ...] = Field(
        default=(1_254_921.0, 1_446_469.0, 1_694_747.0, 2_787_303.0), strict=False
    )
    #: Tie-line USD per mile by capacity class, Southeast table. reVX 2019 defaults, Southeast.
    tie_cost_usd_per_mile_southeast: tuple[Amount, ...] = Field(
        default=(818_852.0, 984_325.0, 1_567_655.0, 4_056_410.0), strict=False
    )
    #: Tie-line USD per mile by capacity class, Western Interconnection. reVX 2019 defaults,
    #: TEPPC (excludes right of way).
    tie_cost_usd_per_mile_teppc: tuple[Amount, ...] = Field(
        default=(983_701.0, 1_180_083.0, 1_579_572.0, 3_052_857.0), strict=False
    )
    #: Short-spur multiplier breakpoints (miles): ties shorter than the first cost
    #: spur_multipliers[0] per mile, shorter than the second spur_multipliers[1], else [2].
    #: reVX SHORT_CUTOFF / MEDIUM_CUTOFF (3 and 10 miles).
    spur_cutoffs_miles: tuple[Amount, ...] = Field(default=(3.0, 10.0), strict=False)
    #: reVX SHORT_MULT 1.5 / MEDIUM_MULT 1.2, and 1.0 beyond 10 miles.
    spur_multipliers: tuple[Amount, ...] = Field(default=(1.5, 1.2, 1.0), strict=False,
                                                 min_length=1)
    #: Interconnections priced with the TEPPC table (our mapping: the Western Interconnection).
    teppc_interconnects: tuple[Name, ...] = Field(default=("Western",), strict=False)
    #: Subdivisions priced with the Southeast table (our mapping: the SERC states outside an
    #: RTO; LA, AR, KY and VA stay on the MISO table because they sit mostly in MISO or PJM).
    southeast_subdivisions: tuple[Name, ...] = Field(
        default=("US-AL", "US-FL", "US-GA", "US-MS", "US-NC", "US-SC", "US-TN"), strict=False
    )
    #: Substation voltage classes (kV); a POI takes the nearest lower class (below 69 kV the
    #: 69 kV class, above 500 kV the 500 kV class). reVX voltage classes.
    substation_classes_kv: tuple[Positive, ...] = Field(
        default=(69.0, 138.0, 230.0, 345.0, 500.0), strict=False, min_length=1
    )
    #: Substation upgrade cost (million USD) per class. reVX 2019 defaults, MISO (used for
    #: every region); 345 kV is not in reVX's table: 3.52 is linear interpolation in kV
    #: between 230 kV (2.2) and 500 kV (5.3), our choice.
    substation_upgrade_cost_musd: tuple[Amount, ...] = Field(
        default=(1.1, 1.6, 2.2, 3.52, 5.3), strict=False
    )
    #: Transformer cost (USD per MW of load) per class, same voltage on both sides. reVX
    #: 2019 defaults, MISO.
    transformer_cost_usd_per_mw: tuple[Amount, ...] = Field(
        default=(4_720.0, 5_790.0, 7_110.0, 8_670.0, 11_610.0), strict=False
    )
    #: Land needed per MW of load, including substation, cooling yard and setbacks.
    #: Assumption: the middle of the 0.5-1 acre/MW range of hyperscale campuses.
    acres_per_mw: float = Field(default=0.75, ge=0)
    #: Time to power (months) when an energized existing site already hosts the load.
    #: geo-rank time-to-power model (DESIGN.md): reuse about 12 months; an assumption.
    time_reuse_months: float = Field(default=12.0, ge=0)
    #: A new interconnection at a POI with headroom for the load: 18-24 months in the
    #: DESIGN.md model; 18 months plus the tie build time below. Assumption.
    time_new_months: float = Field(default=18.0, ge=0)
    #: Hosting >= partial_hosting_fraction of the load but short of it: network upgrades,
    #: 36 months plus the tie build time (DESIGN.md: 36-48 months). Assumption.
    time_upgrade_months: float = Field(default=36.0, ge=0)
    #: Hosting below partial_hosting_fraction of the load, or not computed: major upgrades,
    #: 48 months plus the tie build time (DESIGN.md: 36-48 months). Assumption.
    time_major_upgrade_months: float = Field(default=48.0, ge=0)
    #: Tie-line build time added per km (0.1: a 50 km tie adds 5 months, keeping new
    #: interconnections with headroom in the 18-24 month range). Assumption.
    time_tie_months_per_km: float = Field(default=0.1, ge=0)

    # --- ranking ---------------------------------------------------------------------------
    #: Tier A needs a tie no longer than this (10 km: about the reVX medium-spur cutoff of
    #: 10 miles, rounded down). Our choice.
    tier_a_max_tie_km: float = Field(default=10.0, ge=0)
    #: Tier C (and the 36-month upgrade time) needs hosting >= this fraction of the load
    #: (DESIGN.md: "half the load").
    partial_hosting_fraction: float = Field(default=0.5, gt=0, le=1)
    #: A site inside or within this distance of a gas basin counts as having firm on-site
    #: (behind-the-meter) gas; basin outlines are approximate extents. Our choice.
    firm_gas_max_km: float = Field(default=10.0, ge=0)
    #: Power-score weights (normalised by their sum); our choice, hosting margin first.
    score_weight_margin: float = Field(default=0.30, ge=0)
    score_weight_cost: float = Field(default=0.20, ge=0)
    score_weight_voltage: float = Field(default=0.10, ge=0)
    score_weight_redundancy: float = Field(default=0.15, ge=0)
    score_weight_time: float = Field(default=0.15, ge=0)
    score_weight_firm: float = Field(default=0.10, ge=0)
    #: Hosting margin credit = min(hosting / load, cap) / cap (2.0: full credit at twice the
    #: load). Our choice.
    score_margin_cap: float = Field(default=2.0, gt=0)
    #: Interconnection cost credit falls linearly to 0 at this cost per kW of load (250
    #: USD/kW: a 300 MW load on a ~50 km MISO tie). Our choice.
    score_cost_cap_usd_per_kw: float = Field(default=250.0, gt=0)
    #: Voltage credit = min(poi_voltage_kv / this, 1) (500 kV: top reVX class). Our choice.
    score_voltage_ref_kv: float = Field(default=500.0, gt=0)
    #: Redundancy credit of a radial POI (N+1 = 1, isolated = 0). Our choice.
    score_radial_credit: float = Field(default=0.5, ge=0, le=1)
    #: Time credit is 1 at or below the first value and 0 at or beyond the second (months).
    #: Our choice (12: reuse of an energized site; 60: beyond a typical planning horizon).
    score_time_best_months: float = Field(default=12.0, ge=0)
    score_time_worst_months: float = Field(default=60.0, gt=0)
    #: Gas credit is 1 within firm_gas_max_km of a basin, falling linearly to 0 here. Our choice.
    score_gas_zero_km: float = Field(default=100.0, gt=0)
    #: score = power_score + land_weight * land_score; ordering is by tier first, so land
    #: never lifts a site across tiers (DESIGN.md: land enters after power). Our choice.
    land_weight: float = Field(default=0.1, ge=0)
    #: Land credit is 1 at or below the first price and 0 at or above the second, linear in
    #: log(price) between (USD per acre; US farm real estate averages span roughly this
    #: range). A missing price scores a neutral 0.5. Our choice.
    land_price_low_usd_per_acre: float = Field(default=1_000.0, gt=0)
    land_price_high_usd_per_acre: float = Field(default=50_000.0, gt=0)

    # --- maps of surfaces (geo.maps, geo._map_surface) -----------------------------------
    #: A map draws its sites as a surface (hexagons coloured by the best tier inside, with
    #: markers for the best --top sites) when they are H3 cells or more than this many; one
    #: marker per site stays readable and quick up to a few thousand. Our choice. Display
    #: only: never changes a ranking or an export.
    map_surface_min_sites: int = Field(default=5_000, ge=1)
    #: A surface is merged into the finest H3 resolution at which it has at most this many
    #: display cells (the contiguous US: resolution 4, about 4,700 cells of 1,770 km2). Our
    #: choice: keeps the national map a few MB and quick to draw. Display only.
    map_surface_max_cells: int = Field(default=20_000, ge=1)


def load_config(path: str | Path, base: Settings | None = None,
                fetch_base: FetchSettings | None = None) -> tuple[Settings, FetchSettings]:
    """Engine and fetch settings from a ``--config`` TOML file, checking the whole file.

    Top-level keys are :class:`Settings` names; a ``[fetch]`` table holds
    :class:`~layers.fetch.FetchSettings` names. ``base`` and ``fetch_base`` (default: the
    defaults) are what the file overrides.

    Raises
    ------
    SettingsError
        One line naming the file and every bad or unknown key with its value and the
        allowed range.
    """
    doc = read_toml(path)
    fetch_doc = doc.pop(FETCH_TABLE, {})
    bad: list[str] = []
    if not isinstance(fetch_doc, dict):
        bad.append(f"{FETCH_TABLE} = {fetch_doc!r} (must be a [{FETCH_TABLE}] table of fetch "
                   "settings)")
        fetch_doc = {}
    bad += _misplaced(doc, Settings, FetchSettings,
                      f"a fetch setting: put it in the [{FETCH_TABLE}] table")
    bad += _misplaced(fetch_doc, FetchSettings, Settings,
                      f"an engine setting: put it above the [{FETCH_TABLE}] table",
                      prefix=f"{FETCH_TABLE}.")
    settings, engine_bad = Settings.collect({**dict(base or Settings()), **doc})
    fetch, fetch_bad = FetchSettings.collect({**dict(fetch_base or FetchSettings()),
                                              **fetch_doc}, prefix=f"{FETCH_TABLE}.")
    bad += engine_bad + fetch_bad
    if bad or settings is None or fetch is None:
        raise SettingsError(f"--config {path}: invalid settings: " + "; ".join(bad))
    return settings, fetch


def from_toml(path: str | Path, base: Settings | None = None) -> Settings:
    """The engine settings of a ``--config`` TOML file (see :func:`load_config`)."""
    return load_config(path, base)[0]


def _misplaced(doc: dict[str, Any], own: type[SettingsBase], other: type[SettingsBase],
               where: str, prefix: str = "") -> list[str]:
    """Keys of ``doc`` that belong to the ``other`` settings only (removed from ``doc``)."""
    keys = [k for k in doc if k in other.model_fields and k not in own.model_fields]
    return [f"{prefix}{k} = {show_value(doc.pop(k))} is {where}" for k in keys]
