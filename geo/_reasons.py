"""The ``reasons`` sentence of a ranked site: one line a person can read.

Built column-wise: each part of the sentence is codes into its distinct texts ("" where
the part is not said), and arrow joins the parts at the end; a text column is read as
codes once per run (:class:`geo._phrases.Text`), tests against a text are made once per
distinct text, and number formatting (thousands separators) calls ``str.format`` once per
distinct shown value (the pieces: :mod:`geo._phrases`). The sentence
names the power path, its months, the element that binds them, the money, and each input
that is estimated or synthetic:

* firm and hosting figures are DC estimates (and, on the embedded grid, on a synthetic
  test system: the caller's ``grid_note``); a firm figure whose outage screen was cut at
  ``n1_max_outages`` (``firm_source == "estimated"``) is an upper bound;
* a gas path rests on an approximate basin outline, with no pipeline data;
* an estimated electricity price says so ("EIA 2023, estimated");
* a missing land price reads "land price unknown (neutral land score)".

Example (one line)::

    Tier A (≤ 24 months, no network upgrades): grid, 24 months to 300 MW (binding: POI
    bay); firm 450 MW (N-1) / 1,240 MW (N-0) at 345 kV CHILDRESS 2 (3.1 km, 2 circuits),
    N-1 secure; cost of power 2,160 M USD over 10 years: capital 12.3 + delay 249.2 +
    energy 138.8 M USD/year (66 USD/MWh, EIA 2023); estimated: grid figures are DC
    estimates on a synthetic test grid; land 2,970 USD/acre (state average, 2025); below
    #3: 24.0 vs 18.0 months
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from geo import tiers
from geo._arrays import Columns, as_bool, rows_at, take
from geo._phrases import Line as _Line
from geo._phrases import Part as _Part
from geo._phrases import Text as _Text
from geo._phrases import as_text as _as_text
from geo._phrases import float_column as _num
from geo._phrases import fmt as _fmt
from geo._phrases import fmt_at as _fmt_at
from geo._phrases import fmt_vs as _fmt_vs
from geo._phrases import present as _present
from geo._phrases import text_column as _text
from geo.load import covers

__all__ = ["COST_GROUP", "SEPARATION_COLUMNS", "build", "ranked_blocks", "separation"]

#: The key under which :func:`geo.score.rank` hands over each row's cost group
#: (:func:`geo.score.cost_groups`; not an output column). Without it every distinct cost
#: (to 0.01 M USD) is its own group.
COST_GROUP = "_cost_group"
#: The columns :func:`separation` reads.
SEPARATION_COLUMNS = ("tier", "time_to_power_months", "cost_of_power_musd", "firm_mw",
                      "power_path", "grid_distance_km", "land_score", COST_GROUP)


def build(sites: Columns, load_mw: float, grid_note: str = "",
          horizon_years: float = 10.0, order: np.ndarray | None = None, *,
          flexible: bool = False, cost_tie_share: float = 0.0,
          tier_months: Sequence[float] = tiers.DEFAULT_MONTHS) -> np.ndarray:
    """The reasons line for every row of ``sites``.

    Parameters
    ----------
    sites : mapping of str to numpy.ndarray
        Columns (see :func:`geo._arrays.arrays`): ``tier``, the enriched power columns, the
        cost and power-path columns of :func:`geo.costs.estimate` and the land price.
    load_mw : float
        The load, MW.
    grid_note : str
        What to say about the grid data (e.g. "on a synthetic test grid"); "" for none.
    horizon_years : float
        The horizon of ``cost_of_power_musd`` (``cost_horizon_years``).
    order : numpy.ndarray of int, optional
        The rows in rank order: each line then closes with the :func:`separation` clause
        (what separated the site from the one ranked just above it); without it, no clause.
    flexible : bool
        The load is flexible (``flexible_load``): the grid months were judged on N-0 hosting;
        sites whose firm MW is short of the load say they are curtailed after an outage.
    cost_tie_share : float
        The share within which costs of power count as equal (``cost_tie_share``), said in
        the separation clause.
    tier_months : sequence of float
        ``tier_months``: each line names its tier's rule (:func:`geo.tiers.short`).

    Returns
    -------
    numpy.ndarray of str (object)
        One line per row.
    """
    n = len(sites["tier"])
    out = np.empty(n, dtype=object)
    at = order if order is not None else np.arange(n)
    blocks = ranked_blocks(sites, load_mw, at, grid_note=grid_note,
                           horizon_years=horizon_years, separation=order is not None,
                           flexible=flexible, cost_tie_share=cost_tie_share,
                           tier_months=tier_months)
    for lo, hi, text in blocks:
        out[at[lo:hi]] = text.to_numpy(zero_copy_only=False)
    return out


def ranked_blocks(sites: Columns, load_mw: float, order: np.ndarray, *, grid_note: str = "",
                  horizon_years: float = 10.0, separation: bool = True,
                  flexible: bool = False, cost_tie_share: float = 0.0,
                  tier_months: Sequence[float] = tiers.DEFAULT_MONTHS,
                  ) -> Iterator[tuple[int, int, Any]]:
    """The reasons of the rows ``order[lo:hi]``, block after block in rank order:
    ``(lo, hi, lines)``, the lines of :func:`build` as an arrow ``large_string`` array
    (with ``separation``, the clause on what separated each site from the one at the
    position above it in ``order``).

    Only one block's parts are held at a time, each part as codes into its distinct texts
    (:class:`geo._phrases.Line`), and each block's lines come as one arrow text array:
    no Python string is made per row, and the site columns of a frame
    (:func:`geo._arrays.arrays`) are converted a block of rows at a time
    (:func:`geo._arrays.take`)."""
    n = len(order)
    cheapest = None
    if separation and n:
        cheapest = _cheapest({k: take(sites, k, order)
                              for k in _CHEAPEST_COLUMNS if k in sites})
    for lo in range(0, n, _BLOCK_ROWS):
        hi = min(lo + _BLOCK_ROWS, n)
        line = _site_line(rows_at(sites, order[lo:hi]), load_mw,
                          grid_note, horizon_years, flexible, tier_months)
        if cheapest is not None:
            start = max(lo - 1, 0)  # the row ranked just above the block's first
            above = order[start:hi]
            clause = _separation_line(rows_at(sites, above), cost_tie_share,
                                      cheapest[start:hi], offset=start)
            line.extend_tail(clause, lo - start)
        yield lo, hi, line.join_arrow()


#: Rows per block in :func:`build`.
_BLOCK_ROWS = 131_072


def _site_line(sites: Columns, load_mw: float, grid_note: str, horizon_years: float,
               flexible: bool = False,
               tier_months: Sequence[float] = tiers.DEFAULT_MONTHS) -> _Line:
    """The parts of the reasons of each row of ``sites``, without the separation clause."""
    tier = _text(sites, "tier")
    n = len(tier.codes)
    line = _Line(n)

    def text(column: str) -> _Text:
        return _text(sites, column, n)

    path = text("power_path")
    has_poi = _present(sites, "poi_sub_id", n)
    months = _num(sites, "time_to_power_months")
    no_path = path.eq("")

    # a site of the user's file is named as they named it: "New Albany OH: Tier A ..."
    own = text("candidate_kind").eq("file")
    if own.any():  # the names are read only where some row says them
        line.add_if(own, text("site_name"), ": ")
    # "Tier A (≤ 24 months, no network upgrades): " (the rule: geo.tiers)
    line.add("Tier ", tier, " (", tier.map(tiers.short(tier_months)), "): ")
    # The path: "grid, 24 months to 300 MW (binding: POI bay)".
    energized, gas = path.eq("energized"), path.eq("gas")
    line.add_if(energized, "energized site")
    line.add_if(gas, "on-site gas (N+1 units; approximate basin, no pipeline data)")
    line.add_if(~(energized | gas | no_path), path)
    binding = text("power_binding")
    line.add_if(~no_path, ", ", _fmt(months, "{:,.0f} months"), f" to {load_mw:,.0f} MW")
    line.add_if(~no_path & binding.ne(""), " (binding: ", binding, ")")
    line.add_if(no_path, "no power path delivers the load")
    first_mw = _num(sites, "first_power_mw")
    first_months = _num(sites, "first_power_months")
    with np.errstate(invalid="ignore"):
        phased = (first_mw < load_mw) & (first_months < months)
    line.add_if(phased, ", first ", _fmt(first_mw, "{:,.0f} MW in "),
                _fmt(first_months, "{:,.0f} months"))
    existing = _num(sites, "existing_mw")
    line.add_if(energized & ~np.isnan(existing), ", ", _fmt(existing, "{:,.0f} MW energized"))
    line.add_if(as_bool(sites, "existing_site") & np.isnan(existing),
                ", existing site without existing_mw (no energized path)")

    # The POI: "firm 450 MW (N-1) / 1,240 MW (N-0) at 345 kV NAME (3.1 km, 2 circuits)".
    firm = _num(sites, "firm_mw")
    name = text("poi_name").or_else(text("poi_sub_id"))
    redundancy = text("redundancy")
    line.add_if(has_poi, "; ", _fmt(firm, "firm {:,.0f} MW (N-1)"))
    line.add_if(has_poi & np.isnan(firm), "firm not computed (counted as 0)")
    line.add_if(has_poi, _fmt(_num(sites, "hosting_mw"), " / {:,.0f} MW (N-0)"), " at ",
                _fmt(_num(sites, "poi_voltage_kv"), "{:,.0f} kV "), name,
                _fmt(_num(sites, "tie_distance_km"), " ({:,.1f} km"),
                _fmt(_num(sites, "tie_circuits"), ", {:,.0f} circuits"), ")")
    line.add_if(has_poi & redundancy.ne(""), ", ", redundancy)
    line.add_if(has_poi & as_bool(sites, "network_upgrades") & ~gas,
                ", waits for network upgrades")
    not_firm = has_poi & ~gas & ~covers(firm, load_mw)
    line.add_if(flexible & not_firm, ", flexible load: months on N-0 hosting, curtailed after "
                                     "an outage until upgrades make it firm")
    line.add_if(~has_poi, "; no point of interconnection within the tie limit",
                _fmt(_num(sites, "grid_distance_km"), " (the grid is {:,.1f} km away)"))

    # Other paths that exist: "; other paths: grid 36 months, gas (approximate basin) 30 months".
    line.add_list("; other paths:", [
        (path.ne(name_) & ~np.isnan(m), label, _fmt(m, " {:,.0f} months"))
        for name_, label, m in (
            ("grid", "grid", _num(sites, "grid_months")),
            ("energized", "energized", _num(sites, "energized_months")),
            ("gas", "gas (approximate basin)", _num(sites, "gas_months")))])

    # Who serves the site: "; utility NAME, BA ERCO, ISO ERCOT" ("no ISO" where the utility
    # runs the process itself), and the study that process sets: "; study 9 months (ERCOT
    # process)", or "; study months: national default (12)".
    utility = text("utility")
    served = utility.ne("")
    ba, iso = text("balancing_authority"), text("iso_rto")
    line.add_if(served, "; utility ", utility)
    line.add_if(served & ba.ne(""), ", BA ", ba)
    line.add_if(served & iso.ne("") & iso.ne("none"), ", ISO ", iso)
    line.add_if(served & iso.eq("none"), ", no ISO (vertically integrated)")
    basis = text("grid_study_basis")
    study = _num(sites, "grid_study_months")
    default = basis.eq("national default")
    line.add_if(has_poi & default, "; study months: national default (",
                _fmt(study, "{:,.0f}"), ")")
    line.add_if(has_poi & basis.ne("") & ~default, "; study ", _fmt(study, "{:,.0f} months"),
                " (", basis, ")")

    # Money.
    cost = _num(sites, "cost_of_power_musd")
    known = ~np.isnan(cost)
    note = text("energy_price_note")
    price = _num(sites, "energy_price_usd_per_mwh")
    line.add_if(known, "; cost of power ", _fmt(cost, "{:,.0f} M USD"),
                f" over {horizon_years:g} years: ",
                _fmt(_num(sites, "path_capex_musd"), "capital {:,.1f}"),
                _fmt(_num(sites, "delay_cost_musd"), " + delay {:,.1f}"))
    # the delay of a phased path: "(200 MW wait 12 months, 100 MW 40)" (geo.costs.delay_cost)
    line.add_if(known & phased, " (", _fmt(first_mw, "{:,.0f} MW wait "),
                _fmt(first_months, "{:,.0f} months, "), _fmt(load_mw - first_mw, "{:,.0f} MW "),
                _fmt(months, "{:,.0f} months)"))
    line.add_if(known, _fmt(_num(sites, "energy_cost_musd_per_year"),
                            " + energy {:,.1f} M USD/year"))
    priced = ~np.isnan(price)
    line.add_if(known & priced, " (", _fmt(price, "{:,.0f} USD/MWh, "), note, ")")
    line.add_if(known & ~priced & gas, " (gas fuel and O&M)")
    line.add_if(~known & ~no_path, "; cost of power unknown (no energy price for the area)")

    # Estimated inputs.
    line.add_list("; estimated:", [
        (has_poi, "grid figures are DC estimates" + (" " + grid_note if grid_note else "")),
        (has_poi & text("firm_source").eq("estimated"),
         "firm MW (an upper bound: the outage screen was cut)"),
        (has_poi & as_bool(sites, "firm_preexisting"),
         "firm MW sets aside an overload the base case already has after an outage"),
        (note.contains("estimated"), "the electricity price"),
        (gas, "gas cost and lead time (settings)"),
        (~no_path & _outside_us(text("country_iso3")),
         "capital and months from US tables (a proxy outside the US)")])

    # Land.
    land_price = _num(sites, "land_price_usd_per_acre")
    land_note = text("land_price_note")
    priced = ~np.isnan(land_price)
    line.add_if(priced, "; land ", _fmt(land_price, "{:,.0f} USD/acre"))
    line.add_if(priced & land_note.ne(""), " (", land_note, ")")
    line.add_if(~priced, "; land price unknown (neutral land score)")

    # Where data may go (--data-from): "EU data: conditional (SCCs ...)".
    transfer = text("transfer_note")
    line.add_if(transfer.ne(""), "; ", transfer)
    return line


def _outside_us(country: _Text) -> np.ndarray:
    """True for a site in a known country other than the US (its costs use US tables)."""
    return country.ne("") & country.ne("USA")


def separation(ranked: Columns, cost_tie_share: float = 0.0) -> np.ndarray:
    """What separated each site from the one ranked just above it (rows in rank order).

    "; below #3: 24.0 vs 18.0 months" (or tier, cost of power, firm MW, power path, distance
    to the grid, land, site id); "" for the first row.
    """
    if len(ranked["tier"]) == 0:
        return np.zeros(0, dtype=object)
    return _separation_line(ranked, cost_tie_share).join()


#: The columns :func:`_cheapest` reads.
_CHEAPEST_COLUMNS = ("tier", "time_to_power_months", "cost_of_power_musd", COST_GROUP)


def _cost_group(ranked: Columns, cost: np.ndarray) -> np.ndarray:
    """Each row's cost group (:func:`geo.score.cost_groups`; without it, each distinct cost
    to 0.01 M USD is its own group)."""
    if COST_GROUP in ranked:
        return np.asarray(ranked[COST_GROUP])
    return np.unique(np.nan_to_num(cost, nan=np.inf), return_inverse=True)[1].reshape(-1)


def _cheapest(ranked: Columns) -> np.ndarray:
    """The cheapest cost of power (to 0.01 M USD) of each row's tier, months and cost
    group (rows in rank order)."""
    # the tiers as integers (one per distinct text): the same groups, no string per row
    tier = np.unique(np.asarray(ranked["tier"]).astype(str), return_inverse=True)[1]
    months = np.round(_num(ranked, "time_to_power_months"), 1)
    cost = np.round(_num(ranked, "cost_of_power_musd"), 2)
    keys = pd.DataFrame({"t": tier.reshape(-1), "m": np.nan_to_num(months, nan=np.inf),
                         "g": _cost_group(ranked, cost)})
    return pd.Series(cost).groupby([keys["t"], keys["m"], keys["g"]],
                                   sort=False).transform("min").to_numpy(float)


def _separation_line(ranked: Columns, cost_tie_share: float = 0.0,
                     cheapest: np.ndarray | None = None, offset: int = 0) -> _Line:
    """The parts of :func:`separation` (the first row's are all ""). ``ranked`` may be rows
    ``offset:`` of the ranking, with ``cheapest`` (:func:`_cheapest` of the whole ranking)
    for the same rows; the row at ``offset`` 0 says nothing."""
    tier = _as_text(np.asarray(ranked["tier"]).astype(str))
    n = len(tier.codes)
    months = np.round(_num(ranked, "time_to_power_months"), 1)
    cost = np.round(_num(ranked, "cost_of_power_musd"), 2)
    land = np.asarray(ranked["land_score"], dtype=float)
    firm = np.round(np.nan_to_num(_num(ranked, "firm_mw"), nan=-1.0), 0)
    path = _text(ranked, "power_path", n)
    grid = np.round(_num(ranked, "grid_distance_km"), 3)

    def prev(values: np.ndarray) -> np.ndarray:
        return np.concatenate([values[:1], values[:-1]])

    def differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return ~((a == b) | (np.isnan(a) & np.isnan(b)))

    # the cost group (geo.score.cost_groups) and its cheapest cost, per row
    group = _cost_group(ranked, cost)
    if cheapest is None:
        cheapest = _cheapest(ranked)
    t_prev, m_prev, c_prev, l_prev = tier.previous(), prev(months), prev(cost), prev(land)
    f_prev, p_prev, g_prev = prev(firm), path.previous(), prev(grid)
    line = _Line(n)
    # the rank of the row above: "#1" .. "#n-1" (the first row says nothing)
    line.add("; below #", _Part(np.arange(n, dtype=np.int32),
                                list(map(str, range(offset, offset + n)))), ": ")
    by_tier = tier.codes != t_prev.codes
    by_months = ~by_tier & differ(months, m_prev)
    same_time = ~(by_tier | by_months)
    by_cost = same_time & (group != prev(group))
    near = same_time & ~by_cost                        # costs equal for the order
    by_firm = near & (firm != f_prev)
    by_exact = near & ~by_firm & differ(cost, c_prev)  # equal firm: the cost itself
    by_path = near & ~(by_firm | by_exact) & (path.codes != p_prev.codes)
    power = by_tier | by_months | by_cost | by_firm | by_exact | by_path
    by_grid = ~power & differ(grid, g_prev)
    by_land = ~(power | by_grid) & (land != l_prev)
    share = f"{cost_tie_share * 100:g} %"
    line.add_if(by_tier, "tier ", tier, " vs ", t_prev)
    line.add_if(by_months, *_fmt_vs(months, "{:,.1f}", by_months), " months")
    if cost_tie_share > 0:
        unknown = by_cost & np.isnan(cost)
        by_cost &= ~unknown
        line.add_if(unknown, "same months, cost of power unknown")
        line.add_if(by_cost, "same months, cost of power ", _fmt_at(cost, "{:,.2f}", by_cost),
                    f" M USD, more than {share} above the ",
                    _fmt_at(prev(cheapest), "{:,.2f}", by_cost), " M USD of the sites above")
    else:
        line.add_if(by_cost, "same months, cost of power ", *_fmt_vs(cost, "{:,.2f}", by_cost),
                    " M USD")
    same_cost = ~differ(cost, c_prev)
    line.add_if(by_firm & same_cost, "same months and cost, ")
    line.add_if(by_firm & ~same_cost, f"same months, cost of power within {share}, ")
    line.add_if(by_firm, "firm ", *_fmt_vs(firm, "{:,.0f}", by_firm), " MW")
    line.add_if(by_exact, "same months and firm, cost of power ",
                *_fmt_vs(cost, "{:,.2f}", by_exact),
                f" M USD (within {share})")
    line.add_if(by_path, "same months, cost and firm, power path ", path, " vs ", p_prev)
    line.add_if(by_grid, "same power facts, grid ", *_fmt_vs(grid, "{:,.3f}", by_grid),
                " km away")
    line.add_if(by_land, "same power facts, land score ", *_fmt_vs(land, "{:.3f}", by_land))
    line.add_if(~(power | by_grid | by_land), "same power facts and land, site_id order")
    first = np.arange(offset, offset + n) == 0
    line.blank(first)
    return line
