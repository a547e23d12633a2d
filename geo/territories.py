"""Who serves a site: its electric utility, balancing authority and ISO/RTO.

From the territories layer (``data/us/territories.parquet``: HIFLD retail service
territories, control areas and ISO/RTO areas with EIA-861 2024 attributes): a site's
utility is the retail service territory that contains it; where several do (territories
overlap, e.g. a co-op inside an investor-owned utility's area), the one that also contains
the site's POI comes first, then the one with more customers, then the territory id, and
``utility_overlap`` names the others. The balancing authority and the ISO/RTO are the
utility's own (EIA-861), else those of the control-area and ISO polygons that contain the
site; a site in a non-ISO area (a vertically integrated utility's) is ``none``. Outside
every territory (or outside the US) the columns are null.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._arrays import NONE

#: ``iso_rto`` of a site whose utility belongs to no ISO/RTO.
NO_ISO = "none"
COLUMNS = ("utility", "utility_eia_id", "balancing_authority", "iso_rto", "utility_overlap")


def _containing(points: np.ndarray, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """(site, area) row positions of every area that contains a point (points may be None)."""
    if len(areas) == 0 or len(points) == 0:
        return pd.DataFrame({"site": np.zeros(0, int), "area": np.zeros(0, int)})
    ok = ~shapely.is_missing(points)
    tree = shapely.STRtree(areas.geometry.to_numpy())
    site, area = tree.query(points[ok], predicate="intersects")
    return pd.DataFrame({"site": np.flatnonzero(ok)[site], "area": area})


def tag(sites: gpd.GeoDataFrame, territories: gpd.GeoDataFrame,
        poi: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The :data:`COLUMNS` for each site (EPSG:4326 points), in the sites' order.

    ``poi``: the POI point of each site (None where it has none), which ranks overlapping
    utilities.
    """
    n = len(sites)
    out = {c: np.full(n, None, dtype=object) for c in COLUMNS}
    if n == 0 or len(territories) == 0:
        return out
    points = sites.geometry.to_numpy()
    kind = territories["kind"].astype(str).to_numpy()

    retail = territories[kind == "retail_service_territory"].reset_index(drop=True)
    pairs = _containing(points, retail)
    if poi is not None and len(pairs):
        at_poi = _containing(np.asarray(poi, dtype=object), retail)
        key = set(zip(at_poi["site"], at_poi["area"], strict=True))
        pairs["at_poi"] = [(s, a) in key for s, a in zip(pairs["site"], pairs["area"],
                                                         strict=True)]
    else:
        pairs["at_poi"] = False
    pairs["customers"] = pd.to_numeric(retail["customers"], errors="coerce").fillna(0) \
        .to_numpy()[pairs["area"].to_numpy()]
    pairs["territory_id"] = retail["territory_id"].astype(str).to_numpy()[pairs["area"]]
    pairs = pairs.sort_values(["site", "at_poi", "customers", "territory_id"],
                              ascending=[True, False, False, True], kind="mergesort")
    first = pairs.drop_duplicates("site")
    rows, at = first["site"].to_numpy(), first["area"].to_numpy()
    names = retail["name"].astype(object).to_numpy()
    out["utility"][rows] = names[at]
    out["utility_eia_id"][rows] = retail["eia_id"].astype(object).to_numpy()[at]
    out["balancing_authority"][rows] = _text(retail["balancing_authority"])[at]
    out["iso_rto"][rows] = _text(retail["iso_rto"])[at]
    others = pairs[pairs.duplicated("site")]
    if len(others):
        joined = others.assign(name=names[others["area"].to_numpy()]) \
            .groupby("site", sort=True)["name"].agg("; ".join)
        out["utility_overlap"][joined.index.to_numpy()] = joined.to_numpy()

    # the polygons where the utility's own EIA-861 record says nothing
    for column, polygon_kind in (("balancing_authority", "balancing_authority"),
                                 ("iso_rto", "iso_rto")):
        areas = territories[kind == polygon_kind].reset_index(drop=True)
        hits = _containing(points, areas).drop_duplicates("site")
        codes = _text(areas["code"]).astype(object)[hits["area"].to_numpy()]
        missing = pd.isna(out[column][hits["site"].to_numpy()])
        target = hits["site"].to_numpy()[missing]
        value = codes[missing]
        if column == "iso_rto":  # a non-ISO area (no code) is an answer: no ISO
            value = np.where(pd.isna(value), NO_ISO, value)
        out[column][target] = value
    known = pd.notna(out["utility"]) & pd.isna(out["iso_rto"])
    out["iso_rto"][known] = NO_ISO
    return out


def _text(series: pd.Series) -> np.ndarray:
    values = series.astype(object).to_numpy()
    out: np.ndarray = np.where(pd.isna(values) | (values == ""), NONE, values)
    return out
