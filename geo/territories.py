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
    """(site, area) row positions of every area that contains a point (points may be None),
    ordered by site, then as a tree of the areas lists them for that point (the order the
    first hit of :func:`tag` depends on).

    Which areas contain which point is asked the other way round: the points form the tree
    and each area is one query, because GEOS prepares the query geometry (a polygon is
    prepared once instead of its every vertex walked per point). The order comes from a
    bounding-box query of the areas' tree (no geometry test), filtered to those pairs."""
    if len(areas) == 0 or len(points) == 0:
        return pd.DataFrame({"site": np.zeros(0, int), "area": np.zeros(0, int)})
    where = np.flatnonzero(~shapely.is_missing(points))
    geoms = areas.geometry.to_numpy()
    area, site = shapely.STRtree(points[where]).query(geoms, predicate="intersects")
    width = np.int64(len(areas))
    hit = where[site].astype(np.int64) * width + area
    box_site, box_area = shapely.STRtree(geoms).query(points[where])
    box_site = where[box_site]
    keep = _member(box_site.astype(np.int64) * width + box_area, hit)
    return pd.DataFrame({"site": box_site[keep], "area": box_area[keep]})


def _member(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(keys, table)`` for integers, by a sorted search (numpy 2's hashed ``isin``
    takes seconds on millions of keys)."""
    table = np.sort(table)
    if len(table) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    out: np.ndarray = table[at] == keys
    return out


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
        # many sites share a POI: each distinct POI geometry is placed once
        poi = np.asarray(poi, dtype=object)
        which = pd.factorize(pd.Series(shapely.to_wkb(poi)), use_na_sentinel=True)[0]
        first = np.unique(which[which >= 0], return_index=True)[1]
        at_poi = _containing(poi[np.flatnonzero(which >= 0)[first]], retail)
        width = np.int64(len(retail))
        pairs["at_poi"] = _member(which[pairs["site"].to_numpy()].astype(np.int64) * width
                                  + pairs["area"].to_numpy(np.int64),
                                  at_poi["site"].to_numpy(np.int64) * width
                                  + at_poi["area"].to_numpy(np.int64))
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
    if len(others):  # sorted by site: one "; "-joined run of names per site
        site = others["site"].to_numpy()
        other = names[others["area"].to_numpy()].tolist()
        starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
        ends = np.r_[starts[1:], len(site)]
        out["utility_overlap"][site[starts]] = np.array(
            ["; ".join(other[a:b]) for a, b in zip(starts, ends, strict=True)] + [None],
            dtype=object)[:-1]

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
