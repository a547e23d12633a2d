"""Layer schemas as data, and validation that collects every problem before reporting.

Each kind's columns live in a small CSV table (attribute, type, unit, required, minimum, maximum,
description; ``layers/schemas/<kind>.csv``, named by the kind's row of ``layers/kinds.csv``),
in the manner of PyPSA's component attribute tables. :func:`validate` turns
source sentinels into nulls, coerces types, reprojects to EPSG:4326 and raises one
:class:`~layers.errors.LayerValidationError` that lists every problem it found.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from layers import kinds
from layers.errors import LayerValidationError

#: Values that public sources use for "unknown" (HIFLD: -999999 and "NOT AVAILABLE").
SENTINELS_NUMERIC = (-999999, -999999.0, -99999, -9999)
#: Not "NA": that is Namibia's ISO code.
SENTINELS_TEXT = ("", "NOT AVAILABLE", "N/A", "UNKNOWN", "-999999", "None", "nan")

#: Control characters other than tab, newline and carriage return.
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

_GEOMETRY_FAMILIES = {
    "Point": {"Point"},
    "LineString": {"LineString", "MultiLineString"},
    "Polygon": {"Polygon", "MultiPolygon"},
}


@dataclass(frozen=True)
class Attribute:
    """One column of a layer schema."""

    name: str
    type: str
    unit: str
    required: bool
    description: str
    minimum: float | None = None
    maximum: float | None = None


def schema(kind: str) -> tuple[Attribute, ...]:
    """Return the schema of a layer kind, read from its CSV table.

    >>> [a.name for a in schema("plants") if a.required]
    ['plant_id', 'fuel', 'capacity_mw', 'geometry']
    """
    return _read_schema(kinds.get(kind).schema_path)


@cache
def _read_schema(path: Path) -> tuple[Attribute, ...]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return tuple(
        Attribute(r["attribute"], r["type"], r["unit"], r["required"] == "true", r["description"],
                  float(r["minimum"]) if r.get("minimum") else None,
                  float(r["maximum"]) if r.get("maximum") else None)
        for r in rows
    )


def columns(kind: str) -> list[str]:
    """Column names of a kind in schema order (geometry last)."""
    return [a.name for a in schema(kind)]


def empty(kind: str) -> gpd.GeoDataFrame:
    """An empty layer of ``kind`` with its canonical columns, in EPSG:4326."""
    cols = {c: pd.Series([], dtype=object) for c in columns(kind) if c != "geometry"}
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def _examples(index: pd.Index, limit: int = 5) -> str:
    shown = ", ".join(str(i) for i in index[:limit])
    more = f" and {len(index) - limit} more" if len(index) > limit else ""
    return f"rows {shown}{more}"


def _nullify_sentinels(series: pd.Series) -> pd.Series:
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
            stripped = series.str.strip()  # vectorized when every value is text
        else:
            stripped = series.map(lambda v: v.strip() if isinstance(v, str) else v)
        return stripped.mask(stripped.isin(SENTINELS_TEXT))
    if pd.api.types.is_numeric_dtype(series):
        return series.mask(series.isin(SENTINELS_NUMERIC))
    return series


def _as_text(v: object) -> object:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # 12.0 read from a numeric column is the id "12"
    return str(v)


def _coerce(series: pd.Series, typ: str) -> tuple[pd.Series, pd.Index]:
    """Coerce a column; return it and the index of values that could not be read."""
    if typ == "str":
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if kind in ("string", "empty"):
            out = series.astype(object).where(series.notna(), None)
        elif kind == "integer":
            out = series.astype(object).where(series.isna(), series.astype(str))
            out = out.where(series.notna(), None)
        else:
            out = series.map(_as_text)
        return out.astype(object), pd.Index([])
    numeric = pd.to_numeric(series, errors="coerce")
    if pd.api.types.is_bool_dtype(numeric):
        numeric = numeric.astype(float)
    infinite = np.isinf(numeric.to_numpy(dtype=float, na_value=np.nan))
    numeric = numeric.mask(infinite)
    if typ == "int":
        # 2**63 and beyond do not fit a 64-bit integer: unreadable, not a crash
        too_big = np.abs(numeric.to_numpy(dtype=float, na_value=np.nan)) >= 2.0**63
        infinite |= too_big
        numeric = numeric.mask(too_big)
    bad = series.index[(numeric.isna() & series.notna()) | infinite]
    if typ == "int":
        return numeric.round().astype("Int64"), bad
    return numeric.astype(float), bad


def validate(gdf: gpd.GeoDataFrame, kind: str, source: str = "<memory>") -> gpd.GeoDataFrame:
    """Validate and normalise a layer against its schema.

    Parameters
    ----------
    gdf
        The layer as read from its source.
    kind
        One of :func:`layers.kinds.names`.
    source
        File name (or description) used in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical columns first, in EPSG:4326, sentinels turned into nulls, types coerced,
        extra columns kept after the canonical ones.

    Raises
    ------
    LayerValidationError
        Listing every problem found: missing columns, nulls in required columns,
        unreadable values, wrong geometry types, a missing CRS, coordinates out of range,
        duplicate identifiers.
    """
    attrs = schema(kind)
    problems: list[str] = []
    if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf or gdf.geometry is None:
        raise LayerValidationError(
            f"{source}: no geometry column for layer {kind!r}; give a spatial file "
            "(GeoJSON, GeoPackage, shapefile, GeoParquet) or a CSV with lat/lon columns"
        )
    if gdf.crs is None:
        raise LayerValidationError(
            f"{source}: layer {kind!r} has no CRS; set one in your GIS "
            "(e.g. EPSG:4326 for lon/lat degrees) and save again"
        )
    gdf = gdf.copy()
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    if len(gdf) == 0:
        raise LayerValidationError(f"{source}: layer {kind!r} is empty; give a file with features")
    missing = [a.name for a in attrs if a.required and a.name != "geometry" and a.name not in gdf]
    if missing:
        raise LayerValidationError(
            f"{source}: layer {kind!r} lacks required column(s) {', '.join(missing)}; "
            f"columns found: {', '.join(c for c in gdf.columns if c != 'geometry')}; rename "
            "them in the file or map them with --map-column CANONICAL=SOURCE"
        )
    try:
        if not gdf.crs.equals("EPSG:4326"):
            gdf = gdf.to_crs("EPSG:4326")
    except Exception as exc:  # pyproj raises several types for unusable CRSs
        raise LayerValidationError(
            f"{source}: layer {kind!r} has a CRS that cannot be converted to EPSG:4326 ({exc})"
        ) from None

    for a in attrs:
        if a.name == "geometry":
            continue
        if a.name not in gdf:
            gdf[a.name] = pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
        col = _nullify_sentinels(gdf[a.name])
        col, bad = _coerce(col, a.type)
        if len(bad):
            problems.append(
                f"column {a.name!r} ({a.type}) has unreadable values in {_examples(bad)}"
            )
        gdf[a.name] = col
        if a.type == "str":
            text = col.dropna().astype(str)
            ctrl = text.index[text.str.contains(_CONTROL, regex=True)]
            if len(ctrl):  # a NUL or other control character: junk, and pandas mis-hashes NUL
                problems.append(
                    f"column {a.name!r} has control characters in {_examples(ctrl)}; "
                    "clean the text")
        if a.minimum is not None:
            low = gdf.index[gdf[a.name].notna() & (gdf[a.name] < a.minimum)]
            if len(low):
                problems.append(
                    f"column {a.name!r} must be at least {a.minimum:g}"
                    f"{' ' + a.unit if a.unit else ''} but is lower in {_examples(low)} "
                    "(correct or remove those rows)")
        if a.maximum is not None:
            high = gdf.index[gdf[a.name].notna() & (gdf[a.name] > a.maximum)]
            if len(high):
                problems.append(
                    f"column {a.name!r} must be at most {a.maximum:g}"
                    f"{' ' + a.unit if a.unit else ''} but is higher in {_examples(high)} "
                    "(correct or remove those rows)")
        if a.required:
            nulls = gdf.index[gdf[a.name].isna()]
            if len(nulls) == len(gdf):
                problems.append(
                    f"required column {a.name!r} is empty in every row (only nulls or sentinels "
                    "such as -999999 / NOT AVAILABLE); fill it"
                )
            elif len(nulls):
                problems.append(f"required column {a.name!r} is null in {_examples(nulls)}")

    geom_attr = next(a for a in attrs if a.name == "geometry")
    family = _GEOMETRY_FAMILIES[geom_attr.type.split(":", 1)[1]]
    geoms = gdf.geometry
    empty = gdf.index[geoms.isna() | geoms.is_empty]
    if len(empty):
        problems.append(f"geometry is missing or empty in {_examples(empty)}")
    types = geoms.geom_type
    wrong = gdf.index[types.notna() & ~types.isin(family)]
    if len(wrong):
        found = ", ".join(sorted(set(types[wrong])))
        problems.append(
            f"geometry must be {geom_attr.type.split(':')[1]} but {_examples(wrong)} are {found}"
        )
    valid_geoms = geoms[~geoms.isna() & ~geoms.is_empty]
    if len(valid_geoms):
        b = valid_geoms.bounds
        out = b.index[(b.minx < -180) | (b.maxx > 180) | (b.miny < -90) | (b.maxy > 90)]
        if len(out):
            problems.append(
                f"coordinates outside lon -180..180 / lat -90..90 in {_examples(out)}; "
                "projected coordinates labelled as degrees? set the file's real CRS"
            )
        if family == {"Polygon", "MultiPolygon"}:
            invalid = valid_geoms.index[~valid_geoms.is_valid]
            if len(invalid):
                problems.append(
                    f"invalid (e.g. self-intersecting) polygons in {_examples(invalid)}; "
                    "repair them (QGIS: Fix geometries)"
                )

    id_col = attrs[0].name
    dup = gdf.index[gdf[id_col].notna() & gdf[id_col].duplicated(keep=False)]
    if len(dup):
        problems.append(f"identifier column {id_col!r} has duplicates in {_examples(dup)} "
                        "(make them unique)")

    if problems:
        raise LayerValidationError(f"{source}: layer {kind!r}: " + "; ".join(problems))
    ordered = [a.name for a in attrs]
    extra = [c for c in gdf.columns if c not in ordered]
    return gpd.GeoDataFrame(gdf[ordered + extra], geometry="geometry", crs="EPSG:4326")
