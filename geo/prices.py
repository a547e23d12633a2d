"""Industrial electricity prices by subdivision or country: the embedded tables or the user's.

The embedded table ``data/us/electricity_prices.csv`` (built by
``python -m layers.build.electricity_prices``; origin, vintage and what is estimated in
``data/SOURCES.md``) gives the EIA 2023 average industrial price of every US state and DC;
``data/world/electricity_prices.csv`` (the same build step) the published prices in reach
outside the US, by subdivision (``CA-QC``) or country (ISO 3166-1 alpha-3, ``NOR``), each
with its short label as the note. A site takes its subdivision's price, else its country's.
``electricity_prices_file`` (a setting) replaces both with a CSV of ``subdivision`` (ISO
3166-2, e.g. ``US-TX``, ``NO-03``) and ``price_usd_per_mwh``; sites in no row take
``default_energy_price_usd_per_mwh`` when set, else their energy cost is unknown.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo._arrays import NONE, codes_of
from geo.errors import LayerValidationError
from geo.settings import Settings
from layers.paths import data_dir

__all__ = [
    "EMBEDDED",
    "EMBEDDED_WORLD",
    "figures_line",
    "figures_outside_us",
    "lookup",
    "read_table",
]

#: The embedded tables, relative to the data folder: the US states, the rest of the world.
EMBEDDED = Path("us") / "electricity_prices.csv"
EMBEDDED_WORLD = Path("world") / "electricity_prices.csv"


@cache
def read_table(path: Path | None = None) -> tuple[dict[str, float], dict[str, str]]:
    """Prices (USD/MWh) and notes by subdivision from the embedded table or ``path``.

    Raises
    ------
    LayerValidationError
        One line naming the file and what to fix (missing column, bad price, repeated code).
    """
    source = path if path is not None else data_dir() / EMBEDDED
    try:
        table = pd.read_csv(source, dtype={"subdivision": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LayerValidationError(
            f"electricity_prices_file {source}: cannot read it as CSV ({exc}); check the path"
        ) from None
    missing = [c for c in ("subdivision", "price_usd_per_mwh") if c not in table.columns]
    if missing:
        raise LayerValidationError(
            f"electricity_prices_file {source}: missing column(s) {', '.join(missing)}; give "
            "subdivision (e.g. US-TX) and price_usd_per_mwh")
    price = pd.to_numeric(table["price_usd_per_mwh"], errors="coerce")
    bad = table.index[~(price >= 0) | table["subdivision"].isna()]
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:5])
        raise LayerValidationError(
            f"electricity_prices_file {source}: column price_usd_per_mwh is not a number >= 0 "
            f"or subdivision is empty (lines {rows})")
    dup = table["subdivision"][table["subdivision"].duplicated()]
    if len(dup):
        raise LayerValidationError(
            f"electricity_prices_file {source}: subdivision {dup.iloc[0]} repeats; give one "
            "row per subdivision")
    if path is None:
        notes = [f"EIA {int(y)}" + (", estimated" if st == "estimated" else "")
                 for y, st in zip(table["year"], table["status"], strict=True)]
    else:
        notes = [f"user table {Path(path).name}"] * len(table)
    codes = table["subdivision"].astype(str).tolist()
    prices, labels = (dict(zip(codes, price.tolist(), strict=True)),
                      dict(zip(codes, notes, strict=True)))
    if path is None:
        world = pd.read_csv(data_dir() / EMBEDDED_WORLD, dtype={"area": str, "label": str})
        areas = world["area"].tolist()
        prices.update(zip(areas, world["price_usd_per_mwh"].astype(float).tolist(),
                          strict=True))
        labels.update(zip(areas, world["label"].tolist(), strict=True))
    return prices, labels


def lookup(subdivision: np.ndarray, settings: Settings,
           country: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Price (USD/MWh, NaN where unknown) and its note per site: the subdivision's price,
    else the country's (``country``: ISO 3166-1 alpha-3 codes, e.g. ``NOR``)."""
    sub = np.asarray(subdivision, dtype=object)
    # each distinct (subdivision, country) looked up once and spread over the sites
    sub_code, sub_values = codes_of(sub)
    if country is None:
        price, note = _lookup(sub_values, settings, None)
        return price[sub_code], note[sub_code]
    country_code, country_values = codes_of(np.asarray(country, dtype=object))
    pair, distinct = pd.factorize(sub_code.astype(np.int64) * len(country_values)
                                  + country_code)
    price, note = _lookup(sub_values[distinct // len(country_values)], settings,
                          country_values[distinct % len(country_values)])
    return price[pair], note[pair]


def _lookup(subdivision: np.ndarray, settings: Settings, country: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`lookup` row by row (on the distinct pairs of values)."""
    path = settings.electricity_prices_file
    prices, notes = read_table(Path(path) if path is not None else None)
    codes = pd.Series(np.asarray(subdivision, dtype=object))
    if country is not None:
        fallback = pd.Series(np.asarray(country, dtype=object))
        codes = codes.where(codes.map(prices).notna(), fallback)
    price = codes.map(prices).to_numpy(dtype=float, na_value=np.nan)
    note = codes.map(notes).to_numpy(dtype=object)
    default = settings.default_energy_price_usd_per_mwh
    if default is not None:
        fill = np.isnan(price)
        price = np.where(fill, default, price)
        note = np.where(fill, "default_energy_price_usd_per_mwh setting", note)
    note = np.where(np.isnan(price), NONE, note).astype(object)
    return price, note


#: What stands in for the local capital costs and lead times outside the US.
PROXY_TABLES = ("US tables used as a proxy (NREL reVX 2019 capital, escalated; US lead "
                "times)")


def figures_outside_us(sites: pd.DataFrame) -> dict[str, str] | None:
    """Where the money figures of the sites outside the US come from, or say they are
    unknown: ``electricity_price``, ``land_price`` and ``cost_tables`` (None when every site
    is in the US). Written into the export's provenance and the terminal's header.

    >>> sites = pd.DataFrame({"country_iso3": ["NOR", "NOR", "USA"],
    ...     "energy_price_usd_per_mwh": [36.1, np.nan, 71.1],
    ...     "energy_price_note": ["SSB 2019", None, "EIA 2023"],
    ...     "land_price_usd_per_acre": [np.nan, np.nan, 5000.0]})
    >>> out = figures_outside_us(sites)
    >>> out["electricity_price"]
    'SSB 2019 at 1 of 2 sites, unknown at 1 (no published price in reach for their area)'
    >>> out["land_price"]
    'unknown (no embedded land prices outside the US; give --land-prices)'
    """
    return figures_of(outside_us_counts(sites))


def outside_us_counts(sites: pd.DataFrame) -> dict[str, Any] | None:
    """What :func:`figures_outside_us` says, as counts that add over separate sets of sites
    (:func:`add_counts`: the partitions of a Dask run): the sites outside the US, those
    with a known electricity price and their notes, those with a land price. None when
    every site is in the US."""
    if "country_iso3" not in sites:
        return None
    country = sites["country_iso3"]  # compared as it is held (no Python string per row)
    outside = (country.notna() & (country != "USA")).to_numpy(dtype=bool)
    if not outside.any():
        return None
    # only the columns read: a mask takes every column's rows (arrow joins a chunked
    # column's chunks first: the reasons of a whole surface copied for a few rows)
    rows = sites.loc[outside, [c for c in ("energy_price_usd_per_mwh", "energy_price_note",
                                           "land_price_usd_per_acre") if c in sites.columns]]
    n = len(rows)
    price = pd.to_numeric(rows.get("energy_price_usd_per_mwh"), errors="coerce")
    known = price.notna().to_numpy() if price is not None else np.zeros(n, dtype=bool)
    notes = sorted({str(v) for v in rows.loc[known, "energy_price_note"].dropna()}) \
        if "energy_price_note" in rows else []
    land = pd.to_numeric(rows.get("land_price_usd_per_acre"), errors="coerce")
    has_land = int(land.notna().sum()) if land is not None else 0
    return {"sites": n, "priced": int(known.sum()), "notes": notes, "land": has_land}


def add_counts(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two :func:`outside_us_counts` together (None: no site outside the US)."""
    if a is None or b is None:
        return a if b is None else b
    return {"sites": a["sites"] + b["sites"], "priced": a["priced"] + b["priced"],
            "notes": sorted(set(a["notes"]) | set(b["notes"])), "land": a["land"] + b["land"]}


def figures_of(counts: dict[str, Any] | None) -> dict[str, str] | None:
    """:func:`figures_outside_us` from its counts (:func:`outside_us_counts`)."""
    if counts is None:
        return None
    n, priced, notes, has_land = counts["sites"], counts["priced"], counts["notes"], counts["land"]
    why = "no published price in reach for their area"
    if priced == n:
        electricity = "; ".join(notes) or "given"
    elif priced:
        electricity = (f"{'; '.join(notes)} at {priced:,} of {n:,} sites, unknown at "
                       f"{n - priced:,} ({why})")
    else:
        electricity = f"unknown ({why.replace('their', 'the')})"
    land_text = ("unknown (no embedded land prices outside the US; give --land-prices)"
                 if has_land == 0 else f"given at {has_land:,} of {n:,} sites")
    return {"electricity_price": electricity, "land_price": land_text,
            "cost_tables": PROXY_TABLES}


def figures_line(figures: dict[str, str] | None) -> str:
    """The terminal's header line of :func:`figures_outside_us` ("" when None)."""
    if not figures:
        return ""
    return (f"outside the US: electricity price {figures['electricity_price']}; land price "
            f"{figures['land_price']}; capital and months: {figures['cost_tables']}")
