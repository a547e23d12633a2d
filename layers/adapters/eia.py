"""EIA plant data: the EIA-860 plant and generator workbooks, and "Power Plants in the U.S.".

EIA-860 (``2___Plant_Y2023.xlsx`` sheet ``Plant`` and ``3_1_Generator_Y2023.xlsx`` sheet
``Operable``; both have a title row above the header and the generator sheet ends with a
footnote row): generators are summed per plant and fuel, located at the plant's
``Latitude``/``Longitude``. ``plant_id`` is ``<Plant Code>-<fuel>``, ``name`` the plant
name, ``grid_voltage_kv`` the plant's ``Grid Voltage (kV)``. ``fuel`` comes from
``Energy Source 1`` (:data:`ENERGY_SOURCES`: ``WAT`` hydro, ``NG`` gas, ...); pumped
storage (``Technology`` "Hydroelectric Pumped Storage") is ``pumped_storage``, not hydro,
because it stores energy rather than making it. Give either workbook: the other is found
in the same folder.

"Power Plants in the U.S." (``Plant_Code``, ``Plant_Name``, ``Hydro_MW``, ``NG_MW``, ...,
``Latitude``, ``Longitude``): one row per plant and fuel column with a positive capacity
(:data:`MW_COLUMNS`), ``plant_id`` ``<Plant_Code>-<fuel>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.errors import DataSourceError, LayerValidationError

#: EIA-860 energy source codes to canonical fuels (others: ``other``).
ENERGY_SOURCES = {
    "WAT": "hydro", "NG": "gas", "OG": "gas", "BFG": "gas", "PG": "gas", "SGC": "coal",
    "BIT": "coal", "SUB": "coal", "LIG": "coal", "ANT": "coal", "RC": "coal", "WC": "coal",
    "SGP": "coal", "NUC": "nuclear", "DFO": "oil", "RFO": "oil", "JF": "oil", "KER": "oil",
    "PC": "oil", "WO": "oil", "SUN": "solar", "WND": "wind", "GEO": "geothermal",
    "WDS": "biomass", "WDL": "biomass", "BLQ": "biomass", "AB": "biomass", "MSW": "biomass",
    "OBS": "biomass", "OBL": "biomass", "LFG": "biomass", "OBG": "biomass", "MWH": "battery",
}

#: "Power Plants in the U.S." capacity columns to canonical fuels.
MW_COLUMNS = {
    "Hydro_MW": "hydro", "NG_MW": "gas", "Coal_MW": "coal", "Crude_MW": "oil",
    "Nuclear_MW": "nuclear", "Geo_MW": "geothermal", "Solar_MW": "solar", "Wind_MW": "wind",
    "Bio_MW": "biomass", "PS_MW": "pumped_storage", "HydroPS_MW": "pumped_storage",
    "Bat_MW": "battery", "Other_MW": "other",
}

PLANT_SHEET, GENERATOR_SHEET = "Plant", "Operable"


def _sheets(path: Path) -> list[str]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _sheet(path: Path, sheet: str, required: tuple[str, ...]) -> pd.DataFrame:
    try:
        df = pd.read_excel(path, sheet_name=sheet, header=1, engine="openpyxl")
    except ImportError:
        raise DataSourceError("reading EIA-860 .xlsx needs openpyxl: "
                              "python -m pip install openpyxl") from None
    except (ValueError, OSError) as exc:
        raise DataSourceError(f"{path}: cannot read sheet {sheet!r} ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise LayerValidationError(
            f"{path}: sheet {sheet!r} lacks {', '.join(missing)} (the header must be on the "
            f"second row, as EIA publishes it); columns found: {', '.join(df.columns)}")
    code = pd.to_numeric(df["Plant Code"], errors="coerce")
    return df[code.notna()].assign(**{"Plant Code": code[code.notna()].astype(int)})


def _pair(path: Path) -> tuple[Path, Path]:
    """(plant workbook, generator workbook) given either of them."""
    sheets = _sheets(path)
    if PLANT_SHEET in sheets:
        pattern, plant = "3_1_Generator*.xls*", path
    elif GENERATOR_SHEET in sheets:
        pattern, plant = "2___Plant*.xls*", None
    else:
        raise LayerValidationError(f"{path}: no sheet {PLANT_SHEET!r} or {GENERATOR_SHEET!r}; "
                                   "not an EIA-860 plant or generator workbook")
    found = sorted(path.parent.glob(pattern))
    if not found:
        raise DataSourceError(
            f"{path}: EIA-860 needs both the plant and the generator workbooks in one folder "
            f"(no {pattern} next to it)")
    return (plant, found[0]) if plant is not None else (found[0], path)


def eia860(path: str | Path) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Canonical plants from the EIA-860 plant and generator workbooks."""
    plant_path, gen_path = _pair(Path(path))
    plant = _sheet(plant_path, PLANT_SHEET, ("Plant Code", "Latitude", "Longitude"))
    gen = _sheet(gen_path, GENERATOR_SHEET,
                 ("Plant Code", "Technology", "Nameplate Capacity (MW)", "Energy Source 1"))
    src = gen["Energy Source 1"].astype(str).str.strip().str.upper()
    fuel = src.map(ENERGY_SOURCES).fillna("other")
    fuel = fuel.mask(gen["Technology"].astype(str).str.contains("Pumped Storage", case=False),
                     "pumped_storage")
    gen = gen.assign(fuel=fuel, mw=pd.to_numeric(gen["Nameplate Capacity (MW)"],
                                                 errors="coerce"))
    agg = gen.groupby(["Plant Code", "fuel"], as_index=False).agg(
        capacity_mw=("mw", "sum"), generators=("mw", "size"))
    cols = ["Plant Code", "Latitude", "Longitude"] + [
        c for c in ("Plant Name", "State", "Grid Voltage (kV)") if c in plant.columns]
    merged = agg.merge(plant[cols], on="Plant Code", how="left")
    lat = pd.to_numeric(merged["Latitude"], errors="coerce")
    lon = pd.to_numeric(merged["Longitude"], errors="coerce")
    unplaced = lat.isna() | lon.isna()
    report = {"generators": len(gen), "footnote_rows_dropped": True,
              "plants_without_location": int(unplaced.sum())}
    merged = merged[~unplaced]
    out = gpd.GeoDataFrame({
        "plant_id": merged["Plant Code"].astype(str) + "-" + merged["fuel"],
        "name": merged.get("Plant Name"),
        "fuel": merged["fuel"],
        "capacity_mw": merged["capacity_mw"],
        "generators": merged["generators"],
        "grid_voltage_kv": pd.to_numeric(merged.get("Grid Voltage (kV)"), errors="coerce"),
        "eia_plant_code": merged["Plant Code"].astype(str),
    }, geometry=gpd.points_from_xy(lon[~unplaced], lat[~unplaced]), crs="EPSG:4326")
    return out.reset_index(drop=True), report


def power_plants(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Canonical plants from the EIA "Power Plants in the U.S." layer."""
    cols = {str(c).lower(): c for c in gdf.columns}
    present = {cols[c.lower()]: fuel for c, fuel in MW_COLUMNS.items() if c.lower() in cols}
    if gdf.geometry is None or gdf.geometry.isna().all():
        lat = pd.to_numeric(gdf[cols["latitude"]], errors="coerce")
        lon = pd.to_numeric(gdf[cols["longitude"]], errors="coerce")
        geom = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=gdf.index, crs="EPSG:4326")
    else:
        geom = gdf.geometry.to_crs("EPSG:4326")
    parts = []
    for col, fuel in present.items():
        mw = pd.to_numeric(gdf[col], errors="coerce")
        take = mw > 0
        parts.append(gpd.GeoDataFrame({
            "plant_id": gdf.loc[take, cols["plant_code"]].astype(str).str.replace(
                r"\.0$", "", regex=True) + "-" + fuel,
            "name": gdf.loc[take, cols["plant_name"]] if "plant_name" in cols else None,
            "fuel": fuel, "capacity_mw": mw[take],
        }, geometry=geom[take].to_numpy(), crs="EPSG:4326"))
    if not parts:
        raise LayerValidationError("EIA Power Plants layer has no capacity column "
                                   f"({', '.join(MW_COLUMNS)})")
    out = pd.concat(parts, ignore_index=True)
    report = {"plants_in_file": len(gdf), "plant_fuel_rows": len(out),
              "capacity_columns": sorted(present)}
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326"), report


def is_power_plants(columns: set[str]) -> bool:
    """Whether upper-cased ``columns`` are those of the EIA Power Plants layer."""
    return "PLANT_CODE" in columns and bool({c.upper() for c in MW_COLUMNS} & columns)


__all__ = ["eia860", "is_power_plants", "power_plants"]
