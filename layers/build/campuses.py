"""Build ``data/us/campuses.csv``: real US campuses chosen for power (the known set of
``geo-rank evaluate --known-set us-campuses``).

The input is the curated table ``layers/build/campuses_table.csv`` next to this file: one
row per campus with its operator, coordinates, published MW, type, how precisely the
coordinates are known and the public page they come from (see data/SOURCES.md, "US
campuses"). This step checks every row (columns, types, allowed values, an http(s) source,
unique names, a point inside the contiguous US outline of ``data/us/subdivisions.parquet``)
and writes the table sorted by type and name, with coordinates rounded to 4 decimals.

Run it alone with ``python -m layers.build.campuses`` (no network needed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from layers.build._write import write_text
from layers.errors import GeoRankError, LayerValidationError
from layers.regions import CONTIGUOUS_US

TABLE = Path(__file__).with_name("campuses_table.csv")
OUT = "us/campuses.csv"
COLUMNS = ("name", "operator", "lat", "lon", "mw", "type", "coordinate_precision", "location",
           "source")
TYPES = ("mining", "mining_to_ai", "ai_campus", "hyperscale")
PRECISIONS = ("site", "town")


def check(table: pd.DataFrame, outline: shapely.Geometry | None = None,
          source: str = str(TABLE)) -> pd.DataFrame:
    """The table, checked and normalised; every problem is reported in one message.

    Raises
    ------
    LayerValidationError
        Naming the rows and columns to fix.
    """
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise LayerValidationError(f"{source}: missing column(s) {', '.join(missing)}")
    out = table.loc[:, list(COLUMNS)].copy()
    problems: list[str] = []
    for col in ("lat", "lon", "mw"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    rows = lambda mask: ", ".join(str(i + 2) for i in out.index[mask][:5])  # noqa: E731
    checks = {
        "lat/lon empty or out of range": out["lat"].isna() | out["lon"].isna()
        | (out["lat"].abs() > 90) | (out["lon"].abs() > 180),
        "mw not a positive number": table["mw"].notna() & ~(out["mw"] > 0),
        f"type not one of {', '.join(TYPES)}": ~out["type"].isin(TYPES),
        f"coordinate_precision not one of {', '.join(PRECISIONS)}":
            ~out["coordinate_precision"].isin(PRECISIONS),
        "source is not an http(s) URL": ~out["source"].astype(str).str.match(r"https?://\S+$"),
        "empty name, operator or location": out[["name", "operator", "location"]].isna().any(
            axis=1),
        "name and operator repeat another row": out.duplicated(["name", "operator"], keep=False),
    }
    for what, mask in checks.items():
        if mask.any():
            problems.append(f"{what} (lines {rows(mask)})")
    if outline is not None and not problems:
        inside = shapely.contains_xy(outline, out["lon"].to_numpy(), out["lat"].to_numpy())
        if not inside.all():
            problems.append(f"outside the contiguous US outline (lines {rows(~inside)})")
    if problems:
        raise LayerValidationError(f"{source}: " + "; ".join(problems))
    out["lat"] = out["lat"].round(4)
    out["lon"] = out["lon"].round(4)
    order = out["type"].map({t: i for i, t in enumerate(TYPES)})
    return out.assign(_o=order).sort_values(["_o", "name", "operator"], kind="mergesort").drop(
        columns="_o").reset_index(drop=True)


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``out/us/campuses.csv`` from the curated table (``cache`` is unused)."""
    del cache
    subs = gpd.read_parquet(out / "us" / "subdivisions.parquet")
    outline = shapely.union_all(subs.geometry[subs["code"].isin(CONTIGUOUS_US)].to_numpy())
    table = check(pd.read_csv(TABLE, dtype=str, keep_default_na=False, na_values=[""]), outline)
    table["mw"] = table["mw"].map(lambda v: "" if pd.isna(v) else f"{v:g}")  # 700, not 700.0
    text = table.to_csv(index=False, lineterminator="\n", float_format="%.4f")
    return [write_text(text, out / OUT)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers.build.campuses", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "data",
                        help="data folder to write (default: the repository's data/)")
    args = parser.parse_args(argv)
    try:
        files = build(Path(), args.out)
    except GeoRankError as exc:
        print(f"layers.build.campuses: error: {exc}", file=sys.stderr)
        return 2
    for path in files:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
