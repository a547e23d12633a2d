"""HIFLD Electric Power Transmission Lines and Electric Substations.

Lines (``ID``, ``TYPE``, ``STATUS``, ``OWNER``, ``VOLTAGE``, ``VOLT_CLASS``, ``SUB_1``,
``SUB_2``, ``SHAPE__Len``):

- ``line_id`` = ``ID``; ``voltage_kv`` = ``VOLTAGE`` (kV). Where it is ``-999999`` the
  voltage is the midpoint of ``VOLT_CLASS`` (:data:`CLASS_KV`), then the most common voltage
  of the lines sharing an end point (within the merge tolerance), and ``voltage_source``
  says ``estimated``. Lines still without a voltage are left out and listed in the report.
- ``VOLT_CLASS == "DC"`` or a ``TYPE`` starting with ``DC``: kept out of the AC layer
  (returned as ``dc_lines`` and counted in the report); the DC power flow has no place
  for them.
- ``STATUS`` other than ``IN SERVICE`` / ``NOT AVAILABLE`` (inactive, proposed, under
  construction): left out and counted.
- ``SUB_1``/``SUB_2`` are names, not keys, and many are placeholders (``UNKNOWN202159``,
  ``TAP140359``): ``from_sub``/``to_sub`` stay null and :func:`geo.grid.build` snaps each end
  to the nearest substation of compatible voltage. The names are kept as ``sub_1``/``sub_2``.
- ``SHAPE__Len`` is in Web-Mercator metres (stretched by 1/cos(lat)); it is not used, the
  grid measures geodesic lengths.

Substations (``ID``, ``NAME``, ``TYPE``, ``STATUS``, ``LATITUDE``, ``LONGITUDE``, ``LINES``,
``MAX_VOLT``, ``MIN_VOLT``, ``MAX_INFER``, ``MIN_INFER``): ``sub_id`` = ``ID``, ``name``,
``voltage_kv`` = ``MAX_VOLT``, ``min_voltage_kv`` = ``MIN_VOLT``, ``n_lines`` = ``LINES``,
``status``, ``sub_type`` = ``TYPE``; ``voltage_source`` is ``estimated`` where HIFLD inferred
the value (``MAX_INFER == "Y"``). Unknown voltages are filled later from the lines (see
:mod:`layers.byo`). Records within the merge tolerance (duplicates) are merged.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.adapters import _common

#: kV for a line whose VOLTAGE is unknown, by VOLT_CLASS (a typical voltage of the class).
CLASS_KV = {
    "UNDER 100": 69.0,
    "100-161": 138.0,
    "220-287": 230.0,
    "345": 345.0,
    "500": 500.0,
    "735 AND ABOVE": 765.0,
}

#: STATUS values of equipment in use (HIFLD leaves many as NOT AVAILABLE).
ACTIVE_STATUS = ("IN SERVICE", "NOT AVAILABLE", "")

LINE_FIELDS = {"VOLT_CLASS", "SUB_1", "SUB_2"}
SUBSTATION_FIELDS = {"MAX_VOLT", "MIN_VOLT"}


def _col(gdf: pd.DataFrame, name: str) -> pd.Series:
    cols = {str(c).upper(): c for c in gdf.columns}
    if name in cols:
        return gdf[cols[name]]
    return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).str.strip().str.upper()


def _number(s: pd.Series) -> pd.Series:
    v = pd.to_numeric(s, errors="coerce")
    return v.mask(v <= -9999)  # -999999 and its cousins


def _active(gdf: pd.DataFrame, report: dict[str, Any]) -> np.ndarray:
    status = _text(_col(gdf, "STATUS"))
    keep = status.isin(ACTIVE_STATUS).to_numpy()
    dropped = status[~keep].value_counts()
    report["left_out_by_status"] = {k: int(v) for k, v in dropped.items()}
    return keep


def lines(gdf: gpd.GeoDataFrame, merge_km: float = 0.5
          ) -> tuple[gpd.GeoDataFrame, dict[str, Any], dict[str, gpd.GeoDataFrame]]:
    """Canonical lines from a HIFLD transmission-lines layer (see the module docstring)."""
    report: dict[str, Any] = {}
    gdf = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf
    keep = _active(gdf, report)
    cls = _text(_col(gdf, "VOLT_CLASS"))
    typ = _text(_col(gdf, "TYPE"))
    dc = ((cls == "DC") | typ.str.startswith("DC")).to_numpy()
    out = gpd.GeoDataFrame({
        "line_id": _col(gdf, "ID").map(_common_id),
        "voltage_kv": _number(_col(gdf, "VOLTAGE")),
        "volt_class": cls.replace("", None),
        "type": typ.replace("", None),
        "status": _text(_col(gdf, "STATUS")).replace({"": None, "NOT AVAILABLE": None}),
        "owner": _col(gdf, "OWNER").replace("NOT AVAILABLE", None),
        "sub_1": _col(gdf, "SUB_1").replace("NOT AVAILABLE", None),
        "sub_2": _col(gdf, "SUB_2").replace("NOT AVAILABLE", None),
    }, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    dc_lines = out[dc & keep].copy()
    out = out[~dc & keep].reset_index(drop=True)
    report["dc_lines"] = len(dc_lines)
    kv = out["voltage_kv"].to_numpy(float).copy()
    observed = ~np.isnan(kv)
    by_class = out["volt_class"].map(CLASS_KV).to_numpy(float)
    use_class = np.isnan(kv) & ~np.isnan(by_class)
    kv[use_class] = by_class[use_class]
    out["voltage_kv"] = kv
    report["voltage_from_class"] = int(use_class.sum())
    kv, from_neighbours = _common.fill_from_neighbours(out, merge_km)
    out["voltage_kv"] = kv
    report["voltage_from_neighbours"] = int(from_neighbours.sum())
    out["voltage_source"] = np.where(observed, "observed", "estimated")
    unknown = np.isnan(kv)
    report["left_out_without_voltage"] = out.loc[unknown, "line_id"].astype(str).tolist()[:50]
    report["lines_without_voltage"] = int(unknown.sum())
    report["estimated_voltages"] = int((use_class | from_neighbours).sum())
    return out[~unknown].reset_index(drop=True), report, {"dc_lines": dc_lines}


def _common_id(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def substations(gdf: gpd.GeoDataFrame, merge_km: float = 0.5
                ) -> tuple[gpd.GeoDataFrame, dict[str, Any], dict[str, gpd.GeoDataFrame]]:
    """Canonical substations from a HIFLD substations layer (see the module docstring)."""
    report: dict[str, Any] = {}
    geom = gdf.geometry if gdf.geometry is not None else None
    lat, lon = _number(_col(gdf, "LATITUDE")), _number(_col(gdf, "LONGITUDE"))
    if geom is None or geom.isna().all():
        geom = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326", index=gdf.index)
    elif gdf.crs is not None:
        geom = geom.to_crs("EPSG:4326")
    keep = _active(gdf, report)
    kv = _number(_col(gdf, "MAX_VOLT"))
    vmin = _number(_col(gdf, "MIN_VOLT"))
    inferred = _text(_col(gdf, "MAX_INFER")) == "Y"
    source = pd.Series("observed", index=gdf.index, dtype=object)
    source[inferred | (kv.isna() & vmin.notna())] = "estimated"
    source[kv.isna() & vmin.isna()] = None
    out = gpd.GeoDataFrame({
        "sub_id": _col(gdf, "ID").map(_common_id),
        "name": _col(gdf, "NAME"),
        "voltage_kv": kv.where(kv.notna(), vmin),
        "min_voltage_kv": vmin,
        "n_lines": _number(_col(gdf, "LINES")),
        "status": _text(_col(gdf, "STATUS")).replace({"": None, "NOT AVAILABLE": None}),
        "sub_type": _text(_col(gdf, "TYPE")).replace("", None),
        "voltage_source": source,
    }, geometry=_common.centroid_points(geom).to_numpy(), crs="EPSG:4326")
    out = out[keep]
    out, merged = _common.merge_substations(out, merge_km)
    report.update(merged)
    return out, report, {}
