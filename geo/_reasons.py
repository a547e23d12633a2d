"""The ``reasons`` sentence of a ranked site: one line a person can read.

Built column-wise on numpy object arrays (element-wise ``+`` of str); only number
formatting (thousands separators) calls ``str.format`` once per distinct value. The sentence
names the power path, its months, the element that binds them, the money, and each input
that is estimated or synthetic:

* firm and hosting figures are DC estimates (and, on the embedded grid, on a synthetic
  test system: the caller's ``grid_note``); a firm figure whose outage screen was cut at
  ``n1_max_outages`` (``firm_source == "estimated"``) is an upper bound;
* a gas path rests on an approximate basin outline, with no pipeline data;
* an estimated electricity price says so ("EIA 2023, estimated");
* a missing land price reads "land price unknown (neutral land score)".

Example (one line)::

    Tier A: grid, 24 months to 300 MW (binding: POI bay); firm 450 MW (N-1) / 1,240 MW
    (N-0) at 345 kV CHILDRESS 2 (3.1 km, 2 circuits), N-1 secure; cost of power 2,160 M USD
    over 10 years: capital 12.3 + delay 249.2 + energy 138.8 M USD/year (66 USD/MWh, EIA
    2023); estimated: grid figures are DC estimates on a synthetic test grid; land 2,970
    USD/acre (state average, 2025); below #3: 24.0 vs 18.0 months
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from geo._arrays import Columns, as_bool, as_float, present

__all__ = ["build", "separation"]


def build(sites: Columns, load_mw: float, grid_note: str = "",
          horizon_years: float = 10.0) -> np.ndarray:
    """The reasons line for every row of ``sites`` (without the separation clause).

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

    Returns
    -------
    numpy.ndarray of str (object)
        One line per row.
    """
    has_poi = present(sites, "poi_sub_id")
    path = _text(sites, "power_path")
    months = _num(sites, "time_to_power_months")

    # The path: "grid, 24 months to 300 MW (binding: POI bay)".
    path_text = _pick(path == "energized", "energized site", _pick(path == "gas",
                      "on-site gas (N+1 units; approximate basin, no pipeline data)", path))
    binding = _text(sites, "power_binding")
    head = _pick(
        path != "",
        path_text + ", " + _fmt(months, "{:,.0f} months") + f" to {load_mw:,.0f} MW"
        + _pick(binding != "", " (binding: " + binding + ")", ""),
        "no power path delivers the load",
    )
    first_mw = _num(sites, "first_power_mw")
    first_months = _num(sites, "first_power_months")
    with np.errstate(invalid="ignore"):
        phased = (first_mw < load_mw) & (first_months < months)
    head = head + _pick(phased, ", first " + _fmt(first_mw, "{:,.0f} MW in ")
                        + _fmt(first_months, "{:,.0f} months"), "")
    existing = _num(sites, "existing_mw")
    head = head + _pick((path == "energized") & ~np.isnan(existing),
                        ", " + _fmt(existing, "{:,.0f} MW energized"), "")
    head = head + _pick(as_bool(sites, "existing_site") & np.isnan(existing),
                        ", existing site without existing_mw (no energized path)", "")

    # The POI: "firm 450 MW (N-1) / 1,240 MW (N-0) at 345 kV NAME (3.1 km, 2 circuits)".
    firm = _num(sites, "firm_mw")
    hosting = _num(sites, "hosting_mw")
    name = _text(sites, "poi_name")
    name = _pick(name != "", name, _text(sites, "poi_sub_id"))
    redundancy = _text(sites, "redundancy")
    circuits = _num(sites, "tie_circuits")
    grid = (
        _pick(~np.isnan(firm), _fmt(firm, "firm {:,.0f} MW (N-1)"),
              "firm not computed (counted as 0)")
        + _pick(~np.isnan(hosting), _fmt(hosting, " / {:,.0f} MW (N-0)"), "")
        + " at " + _fmt(_num(sites, "poi_voltage_kv"), "{:,.0f} kV ") + name
        + _fmt(_num(sites, "tie_distance_km"), " ({:,.1f} km")
        + _pick(~np.isnan(circuits), _fmt(circuits, ", {:,.0f} circuits"), "") + ")"
        + _pick(redundancy != "", ", " + redundancy, "")
        + _pick(as_bool(sites, "network_upgrades") & (path != "gas"),
                ", waits for network upgrades", "")
    )
    grid = _pick(has_poi, "; " + grid, "; no point of interconnection within the tie limit")

    # Other paths that exist.
    others = np.full(len(path), "", dtype=object)
    for name_, col, label in (("grid", "grid_months", "grid"),
                              ("energized", "energized_months", "energized"),
                              ("gas", "gas_months", "gas (approximate basin)")):
        m = _num(sites, col)
        others = others + _pick((path != name_) & ~np.isnan(m),
                                ", " + label + _fmt(m, " {:,.0f} months"), "")
    others = _pick(others != "", "; other paths:" + _strip_comma(others), "")

    # Money.
    cost = _num(sites, "cost_of_power_musd")
    note = _text(sites, "energy_price_note")
    price = _num(sites, "energy_price_usd_per_mwh")
    energy_src = _pick(~np.isnan(price), " (" + _fmt(price, "{:,.0f} USD/MWh, ") + note + ")",
                       _pick(path == "gas", " (gas fuel)", ""))
    money = _pick(
        ~np.isnan(cost),
        "; cost of power " + _fmt(cost, "{:,.0f} M USD") + f" over {horizon_years:g} years: "
        + _fmt(_num(sites, "path_capex_musd"), "capital {:,.1f}")
        + _fmt(_num(sites, "delay_cost_musd"), " + delay {:,.1f}")
        + _fmt(_num(sites, "energy_cost_musd_per_year"), " + energy {:,.1f} M USD/year")
        + energy_src,
        _pick(path != "", "; cost of power unknown (no energy price for the area)", ""),
    )

    # Estimated inputs.
    est = np.full(len(path), "", dtype=object)
    if grid_note:
        est = est + _pick(has_poi, ", grid figures are DC estimates " + grid_note, "")
    else:
        est = est + _pick(has_poi, ", grid figures are DC estimates", "")
    est = est + _pick(has_poi & (_text(sites, "firm_source") == "estimated"),
                      ", firm MW (an upper bound: the outage screen was cut)", "")
    est = est + _pick(note.astype(str) == "", "", _pick(
        np.char.find(note.astype(str), "estimated") >= 0, ", the electricity price", ""))
    est = est + _pick(path == "gas", ", gas cost and lead time (settings)", "")
    est = _pick(est != "", "; estimated:" + _strip_comma(est), "")

    # Land.
    land_price = _num(sites, "land_price_usd_per_acre")
    land_note = _text(sites, "land_price_note")
    land = _pick(
        ~np.isnan(land_price),
        "; land " + _fmt(land_price, "{:,.0f} USD/acre")
        + _pick(land_note != "", " (" + land_note + ")", ""),
        "; land price unknown (neutral land score)",
    )

    # Where data may go (--data-from): "EU data: conditional (SCCs ...)".
    transfer = _text(sites, "transfer_note")
    transfer = _pick(transfer != "", "; " + transfer, "")

    tier = np.asarray(sites["tier"]).astype(str).astype(object)
    return ("Tier " + tier + ": " + head + grid + others + money + est + land
            + transfer).astype(object)


def separation(ranked: Columns) -> np.ndarray:
    """What separated each site from the one ranked just above it (rows in rank order).

    "; below #3: 24.0 vs 18.0 months" (or tier, cost of power, firm MW, land, site id); "" for the
    first row.
    """
    n = len(ranked["tier"])
    if n == 0:
        return np.zeros(0, dtype=object)
    tier = np.asarray(ranked["tier"]).astype(str)
    months = np.round(_num(ranked, "time_to_power_months"), 1)
    cost = np.round(_num(ranked, "cost_of_power_musd"), 2)
    land = np.asarray(ranked["land_score"], dtype=float)
    firm = np.round(np.nan_to_num(_num(ranked, "firm_mw"), nan=-1.0), 0)

    def prev(values: np.ndarray) -> np.ndarray:
        return np.concatenate([values[:1], values[:-1]])

    def differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return ~((a == b) | (np.isnan(a) & np.isnan(b)))

    above = "; below #" + _fmt(np.arange(n, dtype=float), "{:.0f}") + ": "
    t_prev, m_prev, c_prev, l_prev = prev(tier), prev(months), prev(cost), prev(land)
    f_prev = prev(firm)
    text = _pick(
        tier != t_prev, "tier " + tier.astype(object) + " vs " + t_prev.astype(object),
        _pick(differ(months, m_prev),
              _fmt(months, "{:,.1f}") + _fmt(m_prev, " vs {:,.1f}") + " months",
              _pick(differ(cost, c_prev),
                    "same months, cost of power " + _fmt(cost, "{:,.2f}")
                    + _fmt(c_prev, " vs {:,.2f}") + " M USD",
                    _pick(firm != f_prev,
                          "same months and cost, firm " + _fmt(firm, "{:,.0f}")
                          + _fmt(f_prev, " vs {:,.0f}") + " MW",
                          _pick(land != l_prev,
                                "same power facts, land score " + _fmt(land, "{:.3f}")
                                + _fmt(l_prev, " vs {:.3f}"),
                                "same power facts and land, site_id order")))))
    out = (above + text).astype(object)
    out[0] = ""
    return out


def _strip_comma(values: np.ndarray) -> np.ndarray:
    """Drop the leading "," of "," + part + "," + part (keeps the space)."""
    return np.array([v[1:] if v.startswith(",") else v for v in values.tolist()], dtype=object)


def _pick(condition: np.ndarray, yes: object, no: object) -> np.ndarray:
    """``np.where`` that always returns an object array (str + str stays element-wise)."""
    return np.where(condition, yes, no).astype(object)


def _text(sites: Columns, column: str) -> np.ndarray:
    """A column as an object array of str, "" where null or absent."""
    if column not in sites:
        return np.full(len(next(iter(sites.values()))), "", dtype=object)
    values = np.asarray(sites[column], dtype=object)
    return _pick(pd.isna(values), "", values.astype(str))


def _num(sites: Columns, column: str) -> np.ndarray:
    return as_float(sites, column)


def _fmt(values: np.ndarray, spec: str) -> np.ndarray:
    """Format non-NaN numbers with ``spec`` (its text included); NaN becomes ""."""
    fmt: Callable[[float], str] = spec.format
    # Each distinct value is formatted once (many rows share a POI, a voltage, a state's
    # price). Distinct by bit pattern, so -0.0 and 0.0 stay apart as str.format keeps them.
    values = np.ascontiguousarray(values, dtype=float)
    _, first, inverse = np.unique(values.view(np.int64), return_index=True,
                                  return_inverse=True)
    text = np.array([fmt(v) if v == v else "" for v in values[first].tolist()], dtype=object)
    return text[inverse.reshape(-1)]
