"""Build ``data/us/electricity_prices.csv``: average industrial electricity price by state.

The input is the transcribed table ``layers/build/electricity_prices_table.csv`` next to this
file: EIA Electric Power Annual, "Average revenue per kilowatthour" by state and sector,
data year 2023 (https://www.eia.gov/electricity/annual/secrev-map.php), the industrial
column, in cents per kWh, one row per state and DC with its ``status`` (``published``, or
``estimated`` with the method in ``note``). This step checks every row (a US-XX code, a
price above 0, a known status, an http(s) source, a note on every estimate, each code once)
and writes the table sorted by code with ``price_usd_per_mwh`` (cents/kWh x 10) added. See
data/SOURCES.md, "US industrial electricity prices".

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


def check(table: pd.DataFrame, source: str = str(TABLE)) -> pd.DataFrame:
    """The table, checked, sorted and with ``price_usd_per_mwh``; every problem at once.

    Raises
    ------
    LayerValidationError
        Naming the lines to fix.
    """
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise LayerValidationError(f"{source}: missing column(s) {', '.join(missing)}")
    out = table.loc[:, list(COLUMNS)].copy()
    out["cents_per_kwh"] = pd.to_numeric(out["cents_per_kwh"], errors="coerce")
    rows = lambda mask: ", ".join(str(i + 2) for i in out.index[mask][:5])  # noqa: E731
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
    problems = [f"{what} (lines {rows(mask)})" for what, mask in checks.items() if mask.any()]
    if problems:
        raise LayerValidationError(f"{source}: " + "; ".join(problems))
    out["price_usd_per_mwh"] = (out["cents_per_kwh"] * 10).round(2)
    out["note"] = out["note"].fillna("")
    return out.sort_values("subdivision", kind="mergesort").reset_index(drop=True)[
        ["subdivision", "price_usd_per_mwh", "cents_per_kwh", "year", "status", "source",
         "note"]]


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``us/electricity_prices.csv`` under ``out`` (``cache`` is not used)."""
    table = check(pd.read_csv(TABLE, dtype={"note": str}))
    path = out / OUT
    path.parent.mkdir(parents=True, exist_ok=True)
    return [write_text(table.to_csv(index=False, lineterminator="\n"), path)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers.build.electricity_prices",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "data")
    args = parser.parse_args(argv)
    try:
        (path,) = build(Path(), args.out)
    except GeoRankError as exc:
        print(f"layers.build.electricity_prices: error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
