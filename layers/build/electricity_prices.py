"""Build ``data/us/electricity_prices.csv``: average industrial electricity price by state.

The input is the transcribed table ``layers/build/electricity_prices_table.csv`` next to this
file: EIA Electric Power Annual, "Average revenue per kilowatthour" by state and sector,
data year 2023 (https://www.eia.gov/electricity/annual/secrev-map.php), the industrial
column, in cents per kWh, one row per state and DC with its ``status`` (``published``, or
``estimated`` with the method in ``note``). This step checks every row (a US-XX code, a
price above 0, a known status, an http(s) source, a note on every estimate, each code once)
and writes the table sorted by code with ``price_usd_per_mwh`` (cents/kWh x 10) added. See
data/SOURCES.md, "US industrial electricity prices".

The same step writes ``world/electricity_prices.csv`` from
``layers/build/electricity_prices_world_table.csv``: published prices outside the US, one row
per ``area`` (an ISO 3166-2 subdivision such as ``CA-QC``, or an ISO 3166-1 alpha-3 country
such as ``NOR``), in hundredths of the local ``currency`` per kWh (cents, øre) as published,
with a short ``label`` that the outputs carry as the price's note,
converted with the Federal Reserve's annual average rate of the price's year
(``currency_per_usd``, G.5A, ``fx_source``): ``price_usd_per_mwh = cents_per_kwh x 10 /
currency_per_usd``. Areas without a row keep an unknown price, said in the outputs.

Run it alone with ``python -m layers.build.electricity_prices`` (no network needed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from layers.build._write import write_text
from layers.errors import GeoRankError, LayerValidationError

TABLE = Path(__file__).with_name("electricity_prices_table.csv")
OUT = "us/electricity_prices.csv"
COLUMNS = ("subdivision", "cents_per_kwh", "year", "status", "source", "note")
STATUSES = ("published", "estimated")


def _columns(table: pd.DataFrame, columns: tuple[str, ...], source: str,
             numbers: tuple[str, ...]) -> pd.DataFrame:
    """``table``'s ``columns`` (a copy), ``numbers`` made numeric; a missing one is an error."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise LayerValidationError(f"{source}: missing column(s) {', '.join(missing)}")
    out = table.loc[:, list(columns)].copy()
    for col in numbers:
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def _refuse(out: pd.DataFrame, checks: dict[str, pd.Series], source: str) -> None:
    """One error naming every failed check and its first five table lines (1 = header)."""
    problems = [f"{what} (lines {', '.join(str(i + 2) for i in out.index[mask][:5])})"
                for what, mask in checks.items() if mask.any()]
    if problems:
        raise LayerValidationError(f"{source}: " + "; ".join(problems))


def check(table: pd.DataFrame, source: str = str(TABLE)) -> pd.DataFrame:
    """The table, checked, sorted and with ``price_usd_per_mwh``; every problem at once.

    Raises
    ------
    LayerValidationError
        Naming the lines to fix.
    """
    out = _columns(table, COLUMNS, source, ("cents_per_kwh",))
    checks = {
        "subdivision is not a US-XX code": ~out["subdivision"].astype(str).str.fullmatch(
            r"US-[A-Z]{2}"),
        "cents_per_kwh not a number above 0": ~(out["cents_per_kwh"] > 0),
        f"status not one of {', '.join(STATUSES)}": ~out["status"].isin(STATUSES),
        "source is not an http(s) URL": ~out["source"].astype(str).str.match(r"https?://\S+$"),
        "an estimated row without a note": (out["status"] == "estimated")
        & out["note"].isna(),
        "subdivision repeats another row": out.duplicated("subdivision", keep=False),
    }
    _refuse(out, checks, source)
    out["price_usd_per_mwh"] = (out["cents_per_kwh"] * 10).round(2)
    out["note"] = out["note"].fillna("")
    return out.sort_values("subdivision", kind="mergesort").reset_index(drop=True)[
        ["subdivision", "price_usd_per_mwh", "cents_per_kwh", "year", "status", "source",
         "note"]]


WORLD_TABLE = Path(__file__).with_name("electricity_prices_world_table.csv")
WORLD_OUT = "world/electricity_prices.csv"
WORLD_COLUMNS = ("area", "cents_per_kwh", "currency", "year", "currency_per_usd", "fx_source",
                 "status", "source", "note", "label")


def check_world(table: pd.DataFrame, source: str = str(WORLD_TABLE)) -> pd.DataFrame:
    """The non-US table, checked, sorted and with ``price_usd_per_mwh``; every problem at once.

    >>> row = {"area": "NOR", "cents_per_kwh": 31.8, "currency": "NOK", "year": 2019,
    ...        "currency_per_usd": 8.8001, "fx_source": "https://federalreserve.gov/x",
    ...        "status": "published", "source": "https://www.ssb.no/y", "note": "energy only",
    ...        "label": "SSB 2019"}
    >>> float(check_world(pd.DataFrame([row]))["price_usd_per_mwh"].iloc[0])
    36.14

    Raises
    ------
    LayerValidationError
        Naming the lines to fix.
    """
    out = _columns(table, WORLD_COLUMNS, source, ("cents_per_kwh", "currency_per_usd"))
    area = out["area"].astype(str)
    url = r"https?://\S+$"
    checks = {
        "area is neither XX-YY (ISO 3166-2) nor XXX (ISO 3166-1 alpha-3)":
            ~area.str.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}|[A-Z]{3}") | area.str.startswith("US-"),
        "cents_per_kwh not a number above 0": ~(out["cents_per_kwh"] > 0),
        "currency_per_usd not a number above 0": ~(out["currency_per_usd"] > 0),
        "currency is not an ISO 4217 code": ~out["currency"].astype(str).str.fullmatch(
            "[A-Z]{3}"),
        f"status not one of {', '.join(STATUSES)}": ~out["status"].isin(STATUSES),
        "source or fx_source is not an http(s) URL": ~out["source"].astype(str).str.match(url)
        | ~out["fx_source"].astype(str).str.match(url),
        "a row without a note (what the price covers) or label (its short name)":
            out["note"].isna() | out["label"].isna(),
        "area repeats another row": out.duplicated("area", keep=False),
    }
    _refuse(out, checks, source)
    out["price_usd_per_mwh"] = (out["cents_per_kwh"] * 10 / out["currency_per_usd"]).round(2)
    return out.sort_values("area", kind="mergesort").reset_index(drop=True)[
        ["area", "price_usd_per_mwh", *WORLD_COLUMNS[1:]]]


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``us/electricity_prices.csv`` and ``world/electricity_prices.csv`` under ``out``
    (``cache`` is not used)."""
    written = []
    for table, rel in ((check(pd.read_csv(TABLE, dtype={"note": str})), OUT),
                       (check_world(pd.read_csv(WORLD_TABLE, dtype={"note": str})), WORLD_OUT)):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        written.append(write_text(table.to_csv(index=False, lineterminator="\n"), path))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers.build.electricity_prices",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "data")
    args = parser.parse_args(argv)
    try:
        paths = build(Path(), args.out)
    except GeoRankError as exc:
        print(f"layers.build.electricity_prices: error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
