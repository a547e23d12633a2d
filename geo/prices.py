"""Industrial electricity prices by subdivision: the embedded EIA table or the user's own.

The embedded table ``data/us/electricity_prices.csv`` (built by
``python -m layers.build.electricity_prices``; origin, vintage and what is estimated in
``data/SOURCES.md``) gives the EIA 2023 average industrial price of every US state and DC.
``electricity_prices_file`` (a setting) replaces it with a CSV of ``subdivision`` (ISO
3166-2, e.g. ``US-TX``, ``NO-03``) and ``price_usd_per_mwh``; sites in no row take
``default_energy_price_usd_per_mwh`` when set, else their energy cost is unknown.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo._arrays import NONE
from geo.errors import LayerValidationError
from geo.settings import Settings
from layers.paths import data_dir

__all__ = ["EMBEDDED", "lookup", "read_table"]

#: The embedded table, relative to the data folder.
EMBEDDED = Path("us") / "electricity_prices.csv"


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
    return dict(zip(codes, price.tolist(), strict=True)), dict(zip(codes, notes, strict=True))


def lookup(subdivision: np.ndarray, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Price (USD/MWh, NaN where unknown) and its note per site."""
    path = settings.electricity_prices_file
    prices, notes = read_table(Path(path) if path is not None else None)
    codes = pd.Series(np.asarray(subdivision, dtype=object))
    price = codes.map(prices).to_numpy(dtype=float, na_value=np.nan)
    note = codes.map(notes).to_numpy(dtype=object)
    default = settings.default_energy_price_usd_per_mwh
    if default is not None:
        fill = np.isnan(price)
        price = np.where(fill, default, price)
        note = np.where(fill, "default_energy_price_usd_per_mwh setting", note)
    note = np.where(np.isnan(price), NONE, note).astype(object)
    return price, note
