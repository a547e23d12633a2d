"""One settings object: every default documented next to its source, every limit declared.

:class:`Settings` is a :class:`layers.settings.SettingsBase` (pydantic): typed fields with
their limits, validated strictly; a bad value or an unknown key raises one
:class:`~geo.errors.SettingsError` line naming the key, the value and the allowed range.
Flags and TOML files override it (``Settings().replace(**overrides)``,
:func:`geo.configuration.from_toml`).

A ``--config`` TOML file holds the engine settings as top-level keys and, optionally, the
downloaders' settings (:class:`layers.fetch.FetchSettings`) in a ``[fetch]`` table, so one
file serves every command; each command checks the whole file.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import platformdirs
from pydantic import Field
from pydantic.config import JsonDict

from layers.settings import Amount, Name, Positive, SettingsBase

#: Fuels whose plants can ramp to serve a new firm load; the participation of a new load's
#: supply is in proportion to the capacity of these plants in the island (wind and solar
#: are left out because their output does not follow load).
DISPATCHABLE_FUELS = ("gas", "coal", "nuclear", "hydro", "oil", "geothermal", "biomass", "other")

#: The table of a ``--config`` file that holds :class:`~layers.fetch.FetchSettings`.
FETCH_TABLE = "fetch"


#: What a setting keys (``json_schema_extra={"keys": ...}``), read by
#: :func:`geo.configuration.keyed`: "grid" settings change the grid metrics, so they key
#: the grid cache and the shipped results (:mod:`geo.grid.cache`); "runtime" ones change
#: speed or memory, never a result; "machine" ones are where this machine keeps things
#: (left out of the provenance too).
GRID: JsonDict = {"keys": "grid"}
RUNTIME: JsonDict = {"keys": "runtime"}
MACHINE: JsonDict = {"keys": "machine"}


class Settings(SettingsBase):
    """Every tunable of geo-rank, with its default, its limits and where the default comes from.

    The field order is the order of the settings in every export's provenance.
    """

    retired: ClassVar[dict[str, str]] = {
        "hydro_radius_km": "the radius is fixed at 100 km (geo.join.HYDRO_RADIUS_KM), as the "
                           "column hydro_mw_within_100km says",
        **{k: "the ranking is by time to power and cost of power (issue 15); no weighted "
              "score" for k in ("score_weight_margin", "score_weight_cost",
                                "score_weight_voltage", "score_weight_redundancy",
                                "score_weight_time", "score_weight_firm", "score_margin_cap",
                                "score_cost_cap_usd_per_kw", "score_voltage_ref_kv",
                                "score_radial_credit", "score_time_best_months",
                                "score_time_worst_months", "score_gas_zero_km")},
        **{k: "time to power is the grid path's critical path (geo.power; issue 15)"
           for k in ("time_new_months", "time_upgrade_months", "time_major_upgrade_months",
                     "time_tie_months_per_km")},
        "tier_a_max_tie_km": "tiers are by months to power (tier_months); the tie enters the "
                             "months",
        "firm_gas_max_km": "gas is a power path (gas_path_max_km), never a tier lift",
    }

    # --- grid topology -------------------------------------------------------------------
    #: The embedded network a region ranks on when the user gives no grid files
    #: (:mod:`layers.grids`): "osm-2016" (real OpenStreetMap topology of 2016, GridKit and
    #: SciGRID extracts; voltages partly inferred, ratings estimated, no base case) or
    #: "tamu-synthetic" (the USA TAMU synthetic test system, US only). Not a grid key: the
    #: layers' content keys the cache and the shipped results.
    grid_source: Literal["osm-2016", "tamu-synthetic"] = "osm-2016"
    #: Line ends farther than this from any substation of compatible voltage stay unsnapped.
    #: 5 km as in PyPSA-Earth (``base_network``) and Breakthrough Energy's PreREISE.
    snap_tolerance_km: float = Field(default=5.0, ge=0, json_schema_extra=GRID)
    #: Substations at or above this voltage form the backbone (EHV grid), as in reV's
    #: transmission-feature tables where 345 kV marks the bulk system.
    backbone_kv: float = Field(default=345.0, gt=0, json_schema_extra=GRID)
    #: Relative tolerance when matching a line's voltage to a substation's voltage range
    #: while snapping (0.1: 220/230 kV, 330/345 kV and 500/525 kV count as one class, but
    #: 115 kV does not match 138 kV). Our choice; PyPSA-Earth matches on voltage too.
    snap_voltage_tolerance: float = Field(default=0.1, ge=0, lt=1, json_schema_extra=GRID)
    #: One node per substation voltage level (the voltages of the lines that end there,
    #: merged within snap_voltage_tolerance), with the substation's transformers between
    #: them as monitored branches and outage candidates (geo.grid.levels; NERC TPL-001-5.1
    #: Table 1, P1 includes a single transformer). False: one node per substation (model
    #: version 9 and before).
    voltage_levels: bool = Field(default=True, json_schema_extra=GRID)
    #: Where the data has no transformer between two consecutive levels of a substation
    #: (OpenStreetMap has none), one merged bank is estimated between them, rated by its
    #: high-voltage class: the nearest class of this list (kV) gives the rating of the next
    #: (MVA, taken as MW in the DC model). The figures are the medians of the USA TAMU
    #: system's transformer banks between two line levels of a substation (parallel units
    #: of one substation and voltage pair summed; 13,495 two-winding and 2,400 three-winding
    #: units in the powersimdata 0.5.5 wheel): Y. Xu et al., "U.S. Test System with High
    #: Spatial and Temporal Resolution for Renewable Integration Studies", IEEE PES General
    #: Meeting 2020 (https://arxiv.org/abs/2002.06155), whose transformer sizes follow
    #: Birchfield et al.'s statistics of real grids (IEEE Trans. Power Syst. 32(4), 2017).
    transformer_bank_hv_kv: tuple[Positive, ...] = Field(
        default=(115.0, 138.0, 161.0, 230.0, 345.0, 500.0, 765.0), strict=False,
        min_length=1, json_schema_extra=GRID)
    transformer_bank_mva: tuple[Positive, ...] = Field(
        default=(56.5, 244.8, 101.3, 224.1, 444.8, 834.2, 1466.4), strict=False,
        min_length=1, json_schema_extra=GRID)
    #: Series reactance of an estimated bank on its own MVA base (per unit; on the 100 MVA
    #: system base it is this x 100 / rating). 0.12: the median over the same TAMU banks
    #: (0.10-0.13 in every high-voltage class from 69 to 765 kV; Xu et al. 2020, above),
    #: inside the 0.08-0.15 pu that power-system texts give for large power transformers.
    transformer_reactance_own_pu: float = Field(default=0.12, gt=0, le=1,
                                                json_schema_extra=GRID)

    # --- load-hosting capacity ----------------------------------------------------------
    #: Hosting is computed at substations at or above this voltage (115 kV: the lowest
    #: transmission class a 100+ MW load connects to, the first US class above the 100 kV
    #: bright line of NERC's Bulk Electric System definition, FERC Order No. 743, 2010).
    hosting_min_kv: float = Field(default=115.0, ge=0, json_schema_extra=GRID)
    #: Branches are monitored when the new load's distribution factor on them is at least
    #: this fraction. 0.05 is the 5 % cut-off MISO and PJM use for thermal impacts in
    #: interconnection studies.
    distribution_factor_cutoff: float = Field(default=0.05, ge=0, le=1, json_schema_extra=GRID)
    #: Where a line's base-case flow is unknown, it is assumed loaded to this fraction of
    #: its rating in the direction of the change (an assumption, not an observation).
    assumed_utilisation: float = Field(default=0.5, ge=0, le=1, json_schema_extra=GRID)
    #: Fuels that pick up a new load (see DISPATCHABLE_FUELS).
    participation_fuels: tuple[Name, ...] = Field(default=DISPATCHABLE_FUELS, strict=False,
                                                  min_length=1, json_schema_extra=GRID)
    #: How a new load is shared among those plants: "headroom" (capacity minus base-case
    #: output, TAMU Pg; docs/methods.md "Load-hosting capacity") or "nameplate" (capacity).
    participation_method: Literal["headroom", "nameplate"] = Field(
        default="headroom", json_schema_extra=GRID)
    #: Where it is served from: "eia930_region" (the POI's EIA-930 region, EIA Hourly
    #: Electric Grid Monitor, states mapped whole), "balancing_authority" (the POI's BA
    #: from the territories layer: HIFLD control areas and EIA-861 2024; geo.grid.dispatch)
    #: or "interconnection". A POI whose area has no headroom is served by its island.
    participation_area: Literal["eia930_region", "balancing_authority", "interconnection"] = \
        Field(default="balancing_authority", json_schema_extra=GRID)
    #: Also screen a stressed dispatch case and keep the lower firm MW (firm_case names the
    #: binding one): the new load drawn by nameplate from every dispatchable plant of the
    #: interconnection (geo.grid.dispatch.STRESSED). NERC TPL-001-5.1 R2.1.4 requires
    #: planning studies to vary "generation additions, retirements, or other dispatch
    #: scenarios" to stress the system within a range of credible conditions
    #: (https://www.nerc.com/pa/Stand/Reliability%20Standards/TPL-001-5.1.pdf); this case
    #: is ours, the far-dispatch extreme of the model's own participation choices.
    dispatch_stress_case: bool = Field(default=True, json_schema_extra=GRID)
    #: Right-hand sides solved together per sparse LU solve (memory ~ n_bus * batch * 8 B).
    #: Our choice; it changes speed and memory, never a result.
    hosting_batch: int = Field(default=256, ge=1, json_schema_extra=RUNTIME)
    #: Processes that screen an island's runs of POIs (geo.grid.island_runs) when the grid metrics
    #: are computed, not read: None (default) one per core this process may use; 1 none (all
    #: in this process). The results are the same bits whatever the number; each process
    #: holds an island's factorisation and LODF store (TAMU's Eastern: about 2 GB).
    grid_workers: int | None = Field(default=None, ge=1, json_schema_extra=MACHINE)

    # --- N-1 firm hosting (geo.grid.contingency) ---------------------------------------------
    #: Emergency rating as a multiple of the normal rating, used after an outage. 1.0 (the
    #: normal rating stands for the emergency rating): FERC Order No. 881 (2021, 18 CFR
    #: 35.28) requires transmission providers to use "uniquely determined emergency
    #: ratings", set per facility from its own conductor and equipment, not a blanket
    #: multiple of the normal rating (https://govinfo.gov/content/pkg/FR-2022-01-13/html/
    #: 2021-27735.htm). Neither embedded grid carries them (TAMU has rateA only, OSM none),
    #: so the one uniform figure that never overstates a facility is 1.0; set the owner's
    #: ratio where it is known (NERC TPL-001-5.1 Table 1 judges P1 events against the
    #: applicable Facility Ratings, often short-term emergency ratings above normal).
    emergency_rating_factor: float = Field(default=1.0, gt=0, le=3, json_schema_extra=GRID)
    #: Optional cap on the screened outages per POI (those changing the POI's flow per MW
    #: the most are kept; circuits ending at the POI are always added). None (default):
    #: every outage that changes some branch's flow per MW by at least the cut-off is
    #: screened. A POI whose list was cut gets firm_source "estimated" (an upper bound).
    n1_max_outages: int | None = Field(default=None, ge=0, json_schema_extra=GRID)
    #: A branch already above its rating after an outage *without* the new load is a
    #: pre-existing violation of the base case: NERC TPL-001-5.1 R2.7 requires the planner's
    #: corrective action plan to fix it whatever the load, so "exclude" (default) does not
    #: let it set firm_mw (firm_preexisting marks the POIs that load such a branch; the TAMU
    #: synthetic case has many, see docs/methods.md); "binding" makes it a limit of 0 MW.
    n1_preexisting: Literal["exclude", "binding"] = Field(default="exclude",
                                                          json_schema_extra=GRID)
    #: With n1_preexisting = "exclude", a load may still worsen a set-aside post-outage
    #: overload by at most this share of the branch's emergency rating; beyond it the
    #: overload binds. 0.05: MISO BPM-015 (Generator Interconnection), "Criteria Used to
    #: Determine Constraints" (6.1.1.1.6 in the revision shown to MISO's Planning Advisory
    #: Committee in 2015, https://studylib.net/doc/18375376/2015111-pac-item-03ci-gi-bpm-015-constraint-criteria;
    #: later revisions renumber it): (iii) an impact of 20 % of the rating makes a generator
    #: answerable alone; (iv) where the group's cumulative impact passes 20 %, each one whose
    #: own impact exceeds 5 % of the rating shares it. None: no limit (before model version 7).
    n1_preexisting_worsening_share: float | None = Field(default=0.05, ge=0,
                                                         json_schema_extra=GRID)
    #: An outage is checked on a branch the POI loads (flow per MW of at least half the
    #: cut-off, and at least the cut-off after the outage) when it moves at least the
    #: cut-off of its own flow onto it, *or* when the MW it moves there (|LODF| x the lost
    #: circuit's base flow, plus the load's share of it at the POI's N-0 hosting) reaches
    #: this share of the branch's emergency rating, whatever the LODF. 0.05: the 5 % that
    #: the distribution-factor cut-off already uses, applied to MW (an outage-branch pair
    #: moving less changes the branch's post-outage flow by under 5 % of its rating; the
    #: same 5 % of a rating that MISO BPM-015's constraint criteria (iv) treat as a share;
    #: docs/methods.md "The contingency set").
    n1_outage_impact_share: float = Field(default=0.05, ge=0, le=1, json_schema_extra=GRID)
    #: LODF columns keep entries with |PTDF for the outaged circuit's own transfer| at least
    #: this fraction of (1 - the circuit's own PTDF); smaller effects are left at their N-0
    #: values (at most 1 % of the outaged circuit's flow). Our choice (numerical, not policy).
    n1_lodf_tolerance: float = Field(default=1e-2, ge=0, lt=1, json_schema_extra=GRID)
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
    use_cache: bool = Field(default=True, json_schema_extra=MACHINE)
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir("geo-rank")),
                           strict=False, json_schema_extra=MACHINE)

    # --- interconnection capital ------------------------------------------------------------
    # Cost figures are NREL reVX's published 2019 defaults (2019 USD), reVX
    # least_cost_xmission/config (base_line_costs.json, power_classes.json,
    # power_to_voltage.json, upgrade_substation_costs.json, new_substation_costs,
    # transformer_costs; https://github.com/NREL/reVX), escalated by capex_escalation_from_2019;
    # see geo.costs for how they are applied.
    #: Tie-line capacity classes (MW), reVX power classes 100/200/400/1000/3000 MW.
    tie_capacity_classes_mw: tuple[Positive, ...] = Field(
        default=(102.0, 205.0, 400.0, 1500.0, 3000.0), strict=False, min_length=1
    )
    #: Tie-line USD per mile per circuit by capacity class, MISO table (also used for Texas,
    #: the East outside the Southeast states, and every non-US site). reVX 2019 defaults,
    #: base_line_costs.json, MISO.
    tie_cost_usd_per_mile_miso: tuple[Amount, ...] = Field(
        default=(1_254_921.0, 1_446_469.0, 1_694_747.0, 2_787_303.0, 2_306_137.0), strict=False
    )
    #: Same, Southeast table. reVX 2019 defaults, base_line_costs.json, Southeast.
    tie_cost_usd_per_mile_southeast: tuple[Amount, ...] = Field(
        default=(818_852.0, 984_325.0, 1_567_655.0, 4_056_410.0, 3_356_161.0), strict=False
    )
    #: Same, Western Interconnection. reVX 2019 defaults, base_line_costs.json, TEPPC
    #: (excludes right of way).
    tie_cost_usd_per_mile_teppc: tuple[Amount, ...] = Field(
        default=(983_701.0, 1_180_083.0, 1_579_572.0, 3_052_857.0, 2_525_849.0), strict=False
    )
    #: A tie runs at the POI's voltage; one circuit carries at most tie_circuit_mw[i] at a
    #: POI of tie_circuit_kv[i] kV or more (the highest row at or below the POI voltage).
    #: reVX power_to_voltage.json (102 MW: 69 kV, 171: 115, 205: 138, 240: 161, 400: 230,
    #: 750: 345, 3000: 500).
    tie_circuit_kv: tuple[Positive, ...] = Field(
        default=(69.0, 115.0, 138.0, 161.0, 230.0, 345.0, 500.0), strict=False, min_length=1)
    tie_circuit_mw: tuple[Positive, ...] = Field(
        default=(102.0, 171.0, 205.0, 240.0, 400.0, 750.0, 3000.0), strict=False, min_length=1)
    #: One spare circuit beyond those the load needs, so the campus is supplied after the
    #: loss of any one (NERC TPL-001-5 category P1; Dominion serves a 900 MW campus from two
    #: 230 kV double circuits, Data Center Dynamics 2025). Our reading.
    tie_n1_supply: bool = True
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
    #: 69 kV class, above 500 kV the 500 kV class). reVX voltage classes plus 345 kV.
    substation_classes_kv: tuple[Positive, ...] = Field(
        default=(69.0, 138.0, 230.0, 345.0, 500.0), strict=False, min_length=1
    )
    #: A new bay at the existing POI substation (million USD, 2019) per class, by region.
    #: reVX 2019 defaults, upgrade_substation_costs.json; reVX has no 345 kV class: the 345
    #: kV value is linear in kV between 230 and 500 kV (our interpolation).
    substation_upgrade_cost_musd: tuple[Amount, ...] = Field(
        default=(1.1, 1.6, 2.2, 3.52, 5.3), strict=False
    )
    substation_upgrade_cost_musd_southeast: tuple[Amount, ...] = Field(
        default=(0.917, 1.179, 2.21, 4.82, 8.34), strict=False
    )
    substation_upgrade_cost_musd_teppc: tuple[Amount, ...] = Field(
        default=(1.352, 2.198, 5.5, 7.52, 10.236), strict=False
    )
    #: A new switching station at the POI (million USD, 2019) per class, by region. reVX 2019
    #: defaults, new_substation_costs (config.json); 345 kV interpolated as above.
    new_substation_cost_musd: tuple[Amount, ...] = Field(
        default=(5.7, 7.8, 9.7, 14.21, 20.3), strict=False
    )
    new_substation_cost_musd_southeast: tuple[Amount, ...] = Field(
        default=(3.064, 4.692, 5.732, 11.96, 20.364), strict=False
    )
    new_substation_cost_musd_teppc: tuple[Amount, ...] = Field(
        default=(3.498, 5.541, 9.171, 11.86, 15.489), strict=False
    )
    #: Transformer cost (USD per MW of load) per class, same voltage on both sides. reVX
    #: 2019 defaults, transformer_costs, MISO.
    transformer_cost_usd_per_mw: tuple[Amount, ...] = Field(
        default=(4_720.0, 5_790.0, 7_110.0, 8_670.0, 11_610.0), strict=False
    )
    #: reVX's 2019 USD to today's: transformer prices rose 60-80 % from January 2020 to 2024
    #: (Wood Mackenzie via POWER Magazine, 26 June 2024, read at its mirror
    #: http://dongfanglantian.com/index-891.html);
    #: 1.7, the middle, is applied to all interconnection capital (no line or substation
    #: index was reachable: Handy-Whitman is not public). An estimate.
    capex_escalation_from_2019: float = Field(default=1.7, gt=0)
    #: Land needed per MW of load, including substation, cooling yard and setbacks.
    #: Assumption: the middle of the 0.5-1 acre/MW range of hyperscale campuses.
    acres_per_mw: float = Field(default=0.75, ge=0)

    # --- time to power: the grid path (geo.power) ------------------------------------------
    #: Campus construction to live load (months). The seed's fast builder: 18 against an
    #: industry 24; datacentres.com FAQ (2026): 18-36 months to live load,
    #: https://www.datacentres.com/faq/how-long-to-build-a-data-centre
    campus_build_months: float = Field(default=18.0, ge=0)
    #: Large-load interconnection study (months), before any works start. Our split of the
    #: seed's 2-4 year grid wait; ERCOT's study-to-service is 4-6 years
    #: (https://ces-ltd.com/?p=8830) and Texas SB 6 adds a screening study for loads >= 75 MW.
    study_months: float = Field(default=12.0, ge=0)
    #: Study months by the site's ISO/RTO (``iso_rto``), in place of study_months there
    #: (geo.power.study_months); an ISO not listed keeps the national default. Empty by
    #: default: the two published large-load study lengths found do not apply to a new
    #: grid-served request made now (docs/methods.md "Study months by process"):
    #: ERCOT's Batch Zero (PGRR145, https://ercot.com/mktrules/issues/PGRR145) allocates MW
    #: about 9 months after its submissions (due 10 July 2026, allocations expected 9 April
    #: 2027), but it is one-time; a later request waits for a batch not yet scheduled.
    #: SPP's High Impact Large Load process gives "a 90-day study-and-approval" (FERC
    #: ER26-247, https://rtowww.com/123602-ferc-approves-spp-large-load-process) to loads
    #: paired with new or existing generation, a provisional approval with upgrades assigned
    #: until firm service is acquired; the grid path asks for firm service. A user who
    #: qualifies sets e.g. {ERCOT = 9, SPP = 3} in --config. PJM, MISO, CAISO, NYISO,
    #: ISO-NE: no published length of a large-load study found.
    study_months_by_iso: dict[Name, Amount] = Field(default_factory=dict)
    #: Study months by the utility's EIA id (``utility_eia_id``), before the ISO's figure: the
    #: utility runs the load study. Empty: no utility's published study length was found
    #: (Dominion publishes only the whole wait, "three to four years" stretched by one to
    #: three, https://www.axios.com/pro/energy-policy/2024/09/04/virginia-data-center-dominion-grid,
    #: which upgrade_n0_shortfall_months already carries). Example: {"19876" = 24.0}.
    study_months_by_utility: dict[Name, Amount] = Field(default_factory=dict)
    #: A new bay (breaker position) at the existing POI substation (months after the study).
    #: Assumption; HV breakers quoted 4.5 years at the Dec 2023 peak (WAPA,
    #: https://www.wapa.gov/supply-chains/) are a risk this figure does not carry.
    poi_bay_months: float = Field(default=12.0, ge=0)
    #: A new switching station looped in at the POI (months after the study). Assumption;
    #: Oncor's 23-mile 345 kV double circuit with substations, approved 2025, energizes Dec
    #: 2027 (https://rtowww.com/116426-texas-puc-approves-ercot-tx-project).
    switching_station_months: float = Field(default=24.0, ge=0)
    #: Loads above this take a new switching station; at or below, a bay. Our choice: Dominion
    #: serves a 900 MW campus in 300 MW phases from existing 230 kV circuits (DCD 2025).
    bay_max_mw: float = Field(default=500.0, gt=0)
    #: Network upgrades when firm_mw falls short of the load: upgrade_base_months plus
    #: upgrade_shortfall_months times the share of the load that is short (1 - firm / load).
    #: Where the intact network carries the load, the shortfall is post-contingency relief
    #: of the limiting branches: reconductoring "can take just 18 to 36 months to implement"
    #: (Sightline Institute, 11 Sep 2024, citing GridLab, Energy Innovation and UC Berkeley's
    #: "2035 and Beyond" reconductoring report,
    #: https://www.sightline.org/2024/09/11/the-northwests-electric-grid-deserves-an-upgrade/):
    #: 18 for a sliver of a shortfall, 36 at firm 0, i.e. 48 months with the study, the top
    #: of the seed's 2-4 year grid wait and the bottom of ERCOT's 4-6 years (ces-ltd.com).
    #: (Was 24 + 24, our split of that wait: any shortfall, however small, cost 24 months.)
    upgrade_base_months: float = Field(default=18.0, ge=0)
    upgrade_shortfall_months: float = Field(default=18.0, ge=0)
    #: Further months times the share of the load that even the intact network cannot carry
    #: (1 - hosting_mw / load, N-0): new lines rather than post-contingency relief. With
    #: hosting 0 too, 12 + 18 + 18 + 36 = 84 months: Dominion's "up to seven years", a
    #: one-to-three-year extension of the typical three to four for large loads (Axios, 4 Sep
    #: 2024, https://www.axios.com/pro/energy-policy/2024/09/04/virginia-data-center-dominion-grid;
    #: https://bnnbloomberg.ca/business/technology/2024/08/29/data-centers-face-seven-year-wait-for-power-hookups-in-virginia).
    #: (Was 24, with 24 + 24 above: the same 84 months at firm 0 and hosting 0.)
    upgrade_n0_shortfall_months: float = Field(default=36.0, ge=0)
    #: A flexible load accepts curtailment after an outage until network upgrades make its
    #: supply firm (ERCOT's new loads of 75 MW or more must accept remote disconnection in an
    #: emergency from 2026, Texas SB 6, https://capitol.texas.gov/tlodocs/89R/billtext/html/SB00006F.htm;
    #: "curtailment-enabled headroom", Norris et al., Duke University 2025,
    #: https://hdl.handle.net/10161/32077): its grid path is then judged on N-0 hosting_mw
    #: instead of N-1 firm_mw. Off by default: the months are to firm power (--flexible).
    flexible_load: bool = False
    #: A large power transformer (a new EHV/HV step at the POI) where the POI's voltage is
    #: below what the load needs (firm_min_poi_kv): 150 weeks = 34.6 months, Wood Mackenzie
    #: 2024 (https://www.woodmac.com/news/opinion/4-years-into-a-difficult-transformers-market-in-the-us-is-there-a-potential-end-in-sight/).
    transformer_lead_months: float = Field(default=34.6, ge=0)
    #: The campus's own HV/MV substation transformers (e.g. 230/34.5 kV), on every grid path
    #: unless the site's energized capacity (existing_mw) covers the load: ordered when the
    #: project starts, in parallel with the study, so the lead runs from month 0. 150 weeks
    #: = 34.6 months, the same Wood Mackenzie 2024 lead time for power and generator step-up
    #: (GSU) transformers (https://www.woodmac.com/news/opinion/4-years-into-a-difficult-transformers-market-in-the-us-is-there-a-potential-end-in-sight/).
    #: The on-site gas path waits for it too (its generators' step-up transformers).
    campus_transformer_lead_months: float = Field(default=34.6, ge=0)
    #: Tie line, from the certificate (or from the study where none is needed) to energized:
    #: tie_base_months + tie_months_per_km x km for any tie longer than 0 km. Fitted through
    #: two published schedules: Dominion's two 230 kV double-circuit lines of 7 miles
    #: (11.3 km) for a 900 MW Chesterfield campus, construction Feb 2027 to June 2028 = 16
    #: months (Data Center Dynamics 2025,
    #: https://www.datacenterdynamics.com/en/news/dominion-to-build-new-high-voltage-lines-to-supply-proposed-900mw-data-center-in-chesterfield-county-virginia/),
    #: and Oncor's 23-mile (37.0 km) 345 kV double circuit, approved 2 Oct 2025, energized
    #: by Dec 2027 = 26 months (https://rtowww.com/116426-texas-puc-approves-ercot-tx-project):
    #: 0.39 month per km, 11.6 months at 0 km. (Was an assumption: 6 + 0.25 / km.)
    tie_base_months: float = Field(default=11.6, ge=0)
    tie_months_per_km: float = Field(default=0.39, ge=0)
    #: Ties longer than tie_certificate_km need a certificate proceeding first: Texas exempts
    #: load-serving lines of up to 5 miles (8.05 km) from a CCN (HB 3092, 2025, was 3 miles,
    #: https://jdkey.com/texas-89th-legislature/hb3092-89th-regular, a summary of the bill;
    #: applied everywhere, a simplification); the PUC must decide a
    #: CCN within 180 days (SB 1076, 2023,
    #: https://capitol.texas.gov/tlodocs/88R/analysis/html/SB01076F.htm, which puts a
    #: transmission project "start to finish" at more than 3 years); 12 months with the
    #: routing study, notice and hearing, our reading. (Was 16.1 km, reVX's medium-spur
    #: cut-off, a cost figure, not a permitting one.)
    tie_certificate_km: float = Field(default=8.05, ge=0)
    tie_certificate_months: float = Field(default=12.0, ge=0)

    # --- time to power: energized site and on-site gas -------------------------------------
    #: Reusing an energized site's contracted capacity (existing_mw): about 12 months
    #: (the seed: converting an energized mining site takes ~12 months).
    time_reuse_months: float = Field(default=12.0, ge=0)
    #: On-site gas: a site inside or within this distance of a gas basin may build gas
    #: generation (basin outlines are approximate extents, not pipelines). Our choice.
    gas_path_max_km: float = Field(default=10.0, ge=0)
    #: Gas lateral length assumed even inside a basin (km): no pipeline data. Assumption.
    gas_lateral_min_km: float = Field(default=10.0, ge=0)
    #: Gas lateral cost, million USD per km. Assumption (about 4 M USD per mile for a
    #: 12-16 inch lateral).
    gas_lateral_musd_per_km: float = Field(default=2.5, ge=0)
    #: Gas units: aeroderivative turbines or reciprocating engines, N+1: ceil(load / unit) + 1
    #: units. Unit size: EIA AEO2026's 211 MW aeroderivative plant is four ~53 MW units
    #: (https://www.eia.gov/outlooks/aeo/assumptions/pdf/EMM_Assumptions.pdf, Table 3).
    gas_unit_mw: float = Field(default=53.0, gt=0)
    #: Equipment lead time (months): EIA AEO2026 Table 3, aeroderivative CT 2 years (large
    #: frames 5-7 years now, https://sourcerockep.com/blog/gas-engine-backlog-power-fast/;
    #: reciprocating engines 12-18 months, same source).
    gas_lead_months: float = Field(default=24.0, ge=0)
    #: Installation and commissioning after delivery (months), on the critical path with the
    #: lead time. Assumption: 6, so lead + install = 30 months, inside the "2 to 3 years" a
    #: consultancy gives for behind-the-meter engines in ERCOT (https://ces-ltd.com/?p=8830).
    gas_install_months: float = Field(default=6.0, ge=0)
    #: Installed cost, USD per kW (2025 USD): EIA AEO2026 Table 3, aeroderivative CT $2,275/kW.
    gas_capex_usd_per_kw: float = Field(default=2_275.0, ge=0)
    #: Fuel: heat rate (Btu/kWh) times gas price (USD/MMBtu). Heat rate: EIA AEO2026 Table 3,
    #: aeroderivative CT 9,447 Btu/kWh (was an assumption, 9,000). Gas price: an assumption,
    #: 3.5 USD/MMBtu delivered to an industrial site.
    gas_heat_rate_btu_per_kwh: float = Field(default=9_447.0, gt=0)
    gas_price_usd_per_mmbtu: float = Field(default=3.5, ge=0)
    #: Operations and maintenance (2025 USD), EIA AEO2026 Table 3, aeroderivative CT: variable
    #: 5.97 USD/MWh, fixed 9.99 USD/kW-year on the installed (N+1) units. (Was left out.)
    gas_variable_om_usd_per_mwh: float = Field(default=5.97, ge=0)
    gas_fixed_om_usd_per_kw_year: float = Field(default=9.99, ge=0)

    # --- money --------------------------------------------------------------------------------
    #: Campus capital per MW of critical load (million USD): Cushman & Wakefield Data Center
    #: Development Cost Guide 2025, US average $11.7M (19 markets, $9.3-15.0M),
    #: https://cushwake.cld.bz/Data-Center-Development-Cost-Guide-2025/8-9
    campus_capex_musd_per_mw: float = Field(default=11.7, ge=0)
    #: Carrying cost of that capital per year: EIA AEO2026 after-tax WACC 7.1 %,
    #: https://www.eia.gov/outlooks/aeo/assumptions/pdf/EMM_Assumptions.pdf
    discount_rate: float = Field(default=0.071, ge=0, le=1)
    #: Average draw over the year as a share of the load. Assumption (AI training campuses
    #: run near full load).
    load_factor: float = Field(default=0.8, gt=0, le=1)
    #: Industrial electricity price (USD/MWh) where the state table has no row (non-US
    #: sites); null: energy cost unknown. A user table: electricity_prices_file.
    default_energy_price_usd_per_mwh: float | None = Field(default=None, ge=0)
    #: A CSV (subdivision, price_usd_per_mwh) replacing the embedded EIA state table.
    electricity_prices_file: Path | None = Field(default=None, strict=False)
    #: cost_of_power_musd = path capital + delay cost + energy cost over this many years.
    #: Our choice: a typical power contract term.
    cost_horizon_years: float = Field(default=10.0, ge=0)

    # --- ranking ---------------------------------------------------------------------------
    #: Tiers by months to full, firm power: A at most tier_months[0], B at most
    #: tier_months[1], C at most tier_months[2] (24 / 36 / 60: the seed's 2-4 year grid wait
    #: and its 5-year end). Our choice.
    tier_months: tuple[Positive, ...] = Field(default=(24.0, 36.0, 60.0), strict=False,
                                              min_length=3, max_length=3)
    #: Tier C (partial hosting) threshold used by "hosts part of the load": half
    #: (docs/methods.md "Tiers and the order").
    partial_hosting_fraction: float = Field(default=0.5, gt=0, le=1)
    #: Costs of power closer than this share (of the cheaper) are equal for the order, and
    #: firm MW (room to grow) decides next. Our choice, below the spread of the estimates
    #: behind the cost: the state-average industrial price (EIA Electric Power Annual
    #: 2023, Table 2.10) moves by several % from one year to the next, and the campus
    #: capital per MW spans 9.3-15.0 M USD over 19 markets (Cushman & Wakefield 2025, above).
    #: 0 orders by the cost to 0.01 M USD.
    cost_tie_share: float = Field(default=0.02, ge=0, lt=1)
    #: land_score in the summary score = power_score + land_weight * land_score. Our choice.
    land_weight: float = Field(default=0.1, ge=0)
    #: Land credit is 1 at or below the first price and 0 at or above the second, linear in
    #: log(price) between (USD per acre; US farm real estate averages span roughly this
    #: range). A missing price scores a neutral 0.5. Our choice.
    land_price_low_usd_per_acre: float = Field(default=1_000.0, gt=0)
    land_price_high_usd_per_acre: float = Field(default=50_000.0, gt=0)

    # --- maps of surfaces (geo.web, geo.web.surface) -----------------------------------
    #: A map draws its sites as a surface (hexagons coloured by the best tier inside, with
    #: markers for the best --top sites) when they are H3 cells or more than this many; one
    #: marker per site stays readable and quick up to a few thousand. Our choice. Display
    #: only: never changes a ranking or an export.
    map_surface_min_sites: int = Field(default=5_000, ge=1)
    #: A surface is merged into the finest H3 resolution at which it has at most this many
    #: display cells (the contiguous US: resolution 4, about 4,700 cells of 1,770 km2). Our
    #: choice: keeps the national map a few MB and quick to draw. Display only.
    map_surface_max_cells: int = Field(default=20_000, ge=1)


def keyed(tag: str) -> tuple[str, ...]:
    """Names of the settings declared with ``json_schema_extra={"keys": tag}``, in field order.

    >>> "n1_preexisting" in keyed("grid"), "land_weight" in keyed("grid")
    (True, False)
    >>> keyed("machine")
    ('grid_workers', 'use_cache', 'cache_dir')
    """
    return tuple(name for name, field in Settings.model_fields.items()
                 if isinstance(field.json_schema_extra, dict)
                 and field.json_schema_extra.get("keys") == tag)
