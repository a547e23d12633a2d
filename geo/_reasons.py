"""The ``reasons`` sentence of a ranked site: one line a person can read.

Built column-wise on numpy object arrays (element-wise ``+`` of str); only number
formatting (thousands separators) calls ``str.format`` once per value. The sentence names
which inputs are estimates and which are observations where the data says so:

* hosting ``hosting_source == "computed"`` reads "DC estimate" (a DC power-flow estimate);
* land carries its ``land_price_note`` ("state average, 2025", "raster cell");
* a gas basin is an "approximate extent";
* a missing land price reads "land price unknown (neutral land score)".

Example::

    Tier A: 1,240 MW headroom (DC estimate) at 345 kV CHILDRESS 2 (3.1 km), N+1,
    2.1 GW hydro within 100 km; 11.0 M USD to connect (reVX 2019), ~18 months to power;
    land 2,970 USD/acre (state average, 2025)

(on one line).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from geo._arrays import Columns, as_bool, as_float, present

__all__ = ["build"]


def build(sites: Columns, load_mw: float, gas_display_km: float) -> np.ndarray:
    """The reasons line for every row of ``sites``.

    Parameters
    ----------
    sites : mapping of str to numpy.ndarray
        Columns (see :func:`geo._arrays.arrays`): ``tier``, the enriched power columns, the
        cost columns of :func:`geo.costs.estimate` and the land price.
    load_mw : float
        The load, MW (named when the headroom falls short of it).
    gas_display_km : float
        Gas basins farther than this are not mentioned.

    Returns
    -------
    numpy.ndarray of str (object)
        One line per row.
    """
    # Object arrays of str: ``+`` and np.where work element-wise without a row loop.
    has_poi = present(sites, "poi_sub_id")
    hosting = _num(sites, "hosting_mw")

    # Headroom and where it comes from.
    source = _text(sites, "hosting_source")
    source_text = _pick(
        source == "computed", "DC estimate", _pick(source != "", source, "source not stated")
    )
    with np.errstate(invalid="ignore"):
        short = _pick(hosting < load_mw, f"; short of the {load_mw:,.0f} MW load", "")
    headroom = _pick(
        ~np.isnan(hosting),
        _fmt(hosting, "{:,.0f} MW headroom (") + source_text + short + ")",
        "hosting not computed",
    ).astype(object)

    # Point of interconnection: "345 kV CHILDRESS 2 (3.1 km), N+1".
    name = _text(sites, "poi_name")
    name = _pick(name != "", name, _text(sites, "poi_sub_id"))
    redundancy = _text(sites, "redundancy")
    poi = (
        headroom
        + " at "
        + _fmt(_num(sites, "poi_voltage_kv"), "{:,.0f} kV ")
        + name
        + _fmt(_num(sites, "tie_distance_km"), " ({:,.1f} km)")
        + _pick(redundancy != "", ", " + redundancy, "")
    )
    power = _pick(has_poi, poi, "no point of interconnection within the tie limit").astype(object)

    # Firm power nearby.
    hydro = _num(sites, "hydro_mw_within_100km")
    with np.errstate(invalid="ignore"):
        big = hydro >= 1000
        some = hydro > 0
    hydro_text = _pick(big, _fmt(hydro / 1000, "{:,.1f} GW"), _fmt(hydro, "{:,.0f} MW"))
    power = power + _pick(some, ", " + hydro_text + " hydro within 100 km", "")
    gas = _text(sites, "gas_field")
    gas_km = _num(sites, "gas_field_km")
    with np.errstate(invalid="ignore"):
        inside = (gas != "") & (gas_km <= 0)
        near = (gas != "") & (gas_km > 0) & (gas_km <= gas_display_km)
    power = power + _pick(
        inside,
        ", inside the " + gas + " gas basin (approximate extent)",
        _pick(
            near,
            ", " + gas + " gas basin " + _fmt(gas_km, "{:,.0f} km away (approximate extent)"),
            "",
        ),
    )
    power = power + _pick(as_bool(sites, "existing_site"), ", existing energized site", "")

    # Cost and time.
    cost = _fmt(_num(sites, "interconnection_cost_musd"), "{:,.1f} M USD to connect (reVX 2019)")
    months = _fmt(_num(sites, "time_to_power_months"), "~{:,.0f} months to power")
    money = cost + _pick((cost != "") & (months != ""), ", ", "") + months
    money = _pick(money != "", "; " + money, "")

    # Land.
    price = _num(sites, "land_price_usd_per_acre")
    note = _text(sites, "land_price_note")
    land = _pick(
        ~np.isnan(price),
        "; land " + _fmt(price, "{:,.0f} USD/acre") + _pick(note != "", " (" + note + ")", ""),
        "; land price unknown (neutral land score)",
    )

    # Where data may go (--data-from): "EU data: conditional (SCCs ...)".
    transfer = _text(sites, "transfer_note")
    transfer = _pick(transfer != "", "; " + transfer, "")

    tier = np.asarray(sites["tier"]).astype(str).astype(object)
    return "Tier " + tier + ": " + power + money + land + transfer


def _pick(condition: np.ndarray, yes: object, no: object) -> np.ndarray:
    """``np.where`` that always returns an object array (str + str stays element-wise)."""
    return np.where(condition, yes, no).astype(object)


def _text(sites: Columns, column: str) -> np.ndarray:
    """A column as an object array of str, "" where null or absent."""
    if column not in sites:
        return np.full(len(sites["tier"]), "", dtype=object)
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
