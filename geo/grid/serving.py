"""Who serves a place: the one rule for a site's utility and balancing authority and for a
POI's balancing authority (the participation area of the dispatch).

From the territories layer (``data/us/territories.parquet``: retail service territories,
balancing-authority (BA) control areas and ISO/RTO areas, EIA-861 2024 attributes):

* the **control area** of a place is the smallest (equal-area, :data:`EQUAL_AREA_CRS`) of
  the areas that contain it, among the BA polygons and the ISO/RTO polygons as their BA's
  (:data:`ISO_BA`: MISO, PJM and CAISO have no BA polygon of their own; WAPA's coarse
  Desert Southwest polygon reaches over much of CAISO's, SPP's over ERCOT's at Odessa);
* its **utility** is the retail service territory that contains it; where several do, the
  one that also contains the place's POI comes first (a substation is its own POI), then
  one whose BA (EIA-861) is the control area's (Houston lies in Entergy Texas's polygon
  too, but in ERCOT's control area, and CenterPoint, a wires company, reports no retail
  customers), then the one with more customers, then the territory id;
* its **balancing authority** is its utility's (EIA-861), else its control area's.

:func:`serve` applies it to any points; ``geo.territories.tag`` (the sites' columns) and
:func:`geo.grid.dispatch.balancing_areas` (the substations' participation areas) both call
it, so a site at its POI shows the BA its load is served from.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._arrays import NONE

#: The BA code (EIA-930) of an ISO/RTO polygon's area, counted as a control area.
ISO_BA = {"CAISO": "CISO", "ERCOT": "ERCO", "ISO-NE": "ISNE", "MISO": "MISO",
          "NYISO": "NYIS", "PJM": "PJM", "SPP": "SWPP"}
#: Equal-area CRS for the sizes of control areas (CONUS Albers, EPSG:5070).
EQUAL_AREA_CRS = 5070
RETAIL = "retail_service_territory"


@dataclass(frozen=True)
class Served:
    """What :func:`serve` finds for each point.

    ``retail``: the retail service territories (row positions used by ``pairs``);
    ``pairs``: (site, area) of every retail territory containing each point, sorted by site,
    the serving utility first; ``balancing_authority``: per point, None where unknown;
    ``isos`` and ``iso_pairs``: the ISO/RTO polygons and (site, area) of those containing
    each point, in the order a tree of the polygons lists them.
    """

    retail: gpd.GeoDataFrame
    pairs: pd.DataFrame
    balancing_authority: np.ndarray
    isos: gpd.GeoDataFrame
    iso_pairs: pd.DataFrame


#: Side of the lon/lat squares in which :func:`containing` places points together,
#: degrees: an area that contains a square contains each of its points, so only the points
#: of the squares an outline crosses are tested one by one. A speed setting, not a figure
#: of the answer (exact at any size): 0.25 was fastest on the US retail territories.
SQUARE_DEG = 0.25
#: How far each square reaches past its cell, degrees: a point whose ``x / SQUARE_DEG``
#: rounds up to the next whole number still lies in its square.
_SQUARE_MARGIN_DEG = 1e-7


@dataclass(frozen=True)
class Squares:
    """Points (those not missing, at positions ``where``) by :data:`SQUARE_DEG` square:
    ``members`` the positions (into ``where``) of each square's points in runs that start
    at ``start``, and a tree of the squares."""

    where: np.ndarray
    start: np.ndarray
    members: np.ndarray
    tree: shapely.STRtree


def squares(points: np.ndarray) -> Squares:
    """:class:`Squares` of the points (EPSG:4326, None where missing), to reuse between
    the kinds of area asked of the same points."""
    where = np.flatnonzero(~shapely.is_missing(points))
    cell = np.floor(shapely.get_coordinates(points[where]) / SQUARE_DEG).astype(np.int64)
    key = cell[:, 0] * np.int64(1 << 32) + cell[:, 1]  # |cell| < 2**31: one key a square
    _, first, code = np.unique(key, return_index=True, return_inverse=True)
    occupied, code = cell[first], code.reshape(-1)
    lo = occupied * SQUARE_DEG - _SQUARE_MARGIN_DEG
    hi = (occupied + 1) * SQUARE_DEG + _SQUARE_MARGIN_DEG
    boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
    return Squares(where, np.r_[0, np.cumsum(np.bincount(code, minlength=len(occupied)))],
                   np.argsort(code, kind="stable"), shapely.STRtree(boxes))


def hits(points: np.ndarray, geoms: np.ndarray, grid: Squares,
         predicate: str = "intersects", ordered: bool = True) -> np.ndarray:
    """Sorted keys ``site * len(geoms) + area`` of every area that intersects (or, with
    ``predicate="contains"``, contains) a point: the pairs of
    ``STRtree(points).query(geoms, predicate=predicate)``. A square that an area contains
    (contains properly, for ``contains``: no point on the outline) gives all its points;
    the points of a square it only meets are tested one by one (prepared areas).
    ``ordered=False``: the same keys in no particular order (not sorted)."""
    if len(grid.where) == 0:
        return np.zeros(0, np.int64)
    whole = {"intersects": "contains", "contains": "contains_properly"}[predicate]
    inside_area, inside = grid.tree.query(geoms, predicate=whole)
    meet_area, meet = grid.tree.query(geoms, predicate="intersects")
    count = np.int64(len(grid.start))
    edge = ~member(meet_area.astype(np.int64) * count + meet,
                   inside_area.astype(np.int64) * count + inside)
    width, keys = np.int64(len(geoms)), []
    for tested, area, which in ((False, inside_area, inside), (True, meet_area[edge],
                                                              meet[edge])):
        size = grid.start[which + 1] - grid.start[which]
        pair = np.repeat(np.arange(len(which)), size)
        offset = np.arange(len(pair)) - np.repeat(np.cumsum(size) - size, size)
        site = grid.where[grid.members[grid.start[which][pair] + offset]].astype(np.int64)
        at = area[pair]
        if tested:
            shapely.prepare(geoms)
            ok = getattr(shapely, predicate)(geoms[at], points[site])
            site, at = site[ok], at[ok]
        keys.append(site * width + at)
    out = np.concatenate(keys)
    if ordered:
        out.sort()
    return out


def containing(points: np.ndarray, areas: gpd.GeoDataFrame, tree: Squares | None = None,
               ordered: bool | None = True) -> pd.DataFrame:
    """(site, area) row positions of every area that contains a point (points may be None).

    ``ordered``: ordered by site, then as a tree of the areas lists them for that point
    (where a first hit is taken); ``False``: by site, then area; ``None``: in no particular
    order (the caller sorts them itself). ``tree``: :func:`squares` of the same points, to
    reuse.

    Which areas contain which point is asked square by square (:func:`hits`): most
    points lie in a square wholly inside or outside an area and are never tested alone. The
    tree order comes from a bounding-box query of the areas' tree (no geometry test),
    filtered to those pairs."""
    if len(areas) == 0 or len(points) == 0:
        return pd.DataFrame({"site": np.zeros(0, np.int64), "area": np.zeros(0, np.int64)})
    geoms = areas.geometry.to_numpy()
    grid = tree if tree is not None else squares(points)
    hit = hits(points, geoms, grid, ordered=ordered is not None)
    width = np.int64(len(areas))
    site, area = hit // width, hit % width
    if ordered is None:
        return pd.DataFrame({"site": site, "area": area})
    several = np.flatnonzero(np.r_[False, site[1:] == site[:-1]])
    if not ordered or len(several) == 0:
        return pd.DataFrame({"site": site, "area": area})
    # the tree order matters only where a point has several areas: those points alone
    multi = np.unique(site[several])
    box_site, box_area = shapely.STRtree(geoms).query(points[multi])
    box_site = multi[box_site]
    keep = member(box_site.astype(np.int64) * width + box_area, hit)
    single = ~member(site, multi)
    site = np.r_[site[single], box_site[keep]]
    area = np.r_[area[single], box_area[keep]]
    order = np.argsort(site, kind="stable")
    return pd.DataFrame({"site": site[order], "area": area[order]})


def member(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(keys, table)`` for integers, by a sorted search (numpy 2's hashed ``isin``
    takes seconds on millions of keys)."""
    table = np.sort(table)
    if len(table) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    out: np.ndarray = table[at] == keys
    return out


def text(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as objects, None where missing or empty (or where there is no column)."""
    if column not in frame:
        return np.full(len(frame), None, dtype=object)
    values = frame[column].astype(object).to_numpy()
    out: np.ndarray = np.where(pd.isna(values) | (values == ""), NONE, values)
    return out


def control_areas(points: np.ndarray, territories: gpd.GeoDataFrame,
                  tree: Squares | None = None,
                  iso_hits: pd.DataFrame | None = None) -> np.ndarray:
    """The BA code of the smallest control area containing each point (None: none).

    ``iso_hits``: :func:`containing` of the points and the layer's ``iso_rto`` rows (in the
    layer's order), when already known."""
    out = np.full(len(points), None, dtype=object)
    kind = territories["kind"].astype(str).to_numpy()
    code = text(territories, "code")
    as_ba = np.array([ISO_BA.get(c) if c is not None else None for c in code], dtype=object)
    code = np.where(kind == "iso_rto", as_ba, code)
    ba_rows = np.flatnonzero((kind == "balancing_authority") & pd.notna(code))
    iso_rows = np.flatnonzero(kind == "iso_rto")
    polygons = np.flatnonzero(((kind == "balancing_authority") | (kind == "iso_rto"))
                              & pd.notna(code))
    if not len(polygons):
        return out
    if iso_hits is None:
        iso_hits = containing(points, territories.iloc[iso_rows], tree, ordered=False)
    ba_hits = containing(points, territories.iloc[ba_rows], tree, ordered=None)  # sorted below
    site = np.r_[ba_hits["site"].to_numpy(np.int64), iso_hits["site"].to_numpy(np.int64)]
    row = np.r_[ba_rows[ba_hits["area"].to_numpy()], iso_rows[iso_hits["area"].to_numpy()]]
    keep = pd.notna(code)[row]
    site, row = site[keep], row[keep]
    size = np.full(len(territories), np.nan)
    size[polygons] = shapely.area(territories.geometry.iloc[polygons].to_crs(EQUAL_AREA_CRS)
                                  .to_numpy())
    # the smallest, then the first in the layer's order
    order = np.lexsort((row, size[row], site))
    site, row = site[order], row[order]
    first = np.r_[True, site[1:] != site[:-1]] if len(site) else np.zeros(0, bool)
    out[site[first]] = code[row[first]]
    return out


def serve(points: np.ndarray, territories: gpd.GeoDataFrame,
          poi: np.ndarray | None = None, poi_codes: np.ndarray | None = None) -> Served:
    """The utility, balancing authority and ISO/RTO polygons of each point (EPSG:4326 points,
    None where a point is missing) by the module's rule.

    ``poi``: the POI point of each point (None where it has none), which ranks overlapping
    utilities; without it (a substation) every territory containing the point contains its
    POI. ``poi_codes``: each point's position in ``poi``, which then holds the distinct
    POIs (many points share one: each is placed once).
    """
    points = np.asarray(points, dtype=object)
    if territories.crs is not None and not territories.crs.equals("EPSG:4326"):
        territories = territories.to_crs(4326)
    kind = territories["kind"].astype(str).to_numpy()
    retail = territories[kind == RETAIL].reset_index(drop=True)
    isos = territories[kind == "iso_rto"].reset_index(drop=True)
    tree = squares(points)  # one for every kind of area

    # sorted by the keys below (an area's id rank is its own: no two pairs of a site tie)
    pairs = containing(points, retail, tree, ordered=None)
    if poi is not None and len(pairs):
        # many sites share a POI: each distinct POI geometry is placed once
        poi = np.asarray(poi, dtype=object)
        if poi_codes is None:
            which = pd.factorize(pd.Series(shapely.to_wkb(poi)), use_na_sentinel=True)[0]
            first = np.unique(which[which >= 0], return_index=True)[1]
            poi = poi[np.flatnonzero(which >= 0)[first]]
        else:  # a missing POI has no area: its code finds no pair below
            which = np.asarray(poi_codes)
        at_poi = containing(poi, retail, ordered=False)
        width = np.int64(len(retail))
        pairs["at_poi"] = member(which[pairs["site"].to_numpy()].astype(np.int64) * width
                                 + pairs["area"].to_numpy(np.int64),
                                 at_poi["site"].to_numpy(np.int64) * width
                                 + at_poi["area"].to_numpy(np.int64))
    else:
        pairs["at_poi"] = True
    iso_pairs = containing(points, isos, tree)
    control = control_areas(points, territories, tree, iso_pairs)
    site, area = pairs["site"].to_numpy(), pairs["area"].to_numpy()
    utility_ba = text(retail, "balancing_authority")
    # the utility's BA is the control area's: compared as codes of the BAs' texts (a
    # missing one never agrees)
    ba_code = pd.factorize(np.r_[utility_ba, control], use_na_sentinel=True)[0]
    agrees = (ba_code[:len(retail)][area] >= 0) & (ba_code[:len(retail)][area]
                                                   == ba_code[len(retail):][site])
    customers = pd.to_numeric(retail["customers"], errors="coerce").fillna(0).to_numpy(float) \
        if "customers" in retail else np.zeros(len(retail))
    tid = retail["territory_id"].astype(str).to_numpy() if "territory_id" in retail \
        else np.zeros(len(retail), dtype=str)
    tid_rank = np.empty(len(retail), np.int64)  # by id, then row: one rank per territory
    tid_rank[np.argsort(tid, kind="stable")] = np.arange(len(retail))
    order = np.lexsort((tid_rank[area], -customers[area], ~agrees,
                        ~pairs["at_poi"].to_numpy(bool), site))
    pairs = pd.DataFrame({"site": site[order], "area": area[order]})
    first_row = pairs.drop_duplicates("site")
    ba = control.copy()  # the utility's own BA where EIA-861 names one
    own, has_own = utility_ba[first_row["area"].to_numpy()], pd.notna(utility_ba)[
        first_row["area"].to_numpy()]
    rows = first_row["site"].to_numpy()
    ba[rows[has_own]] = own[has_own]
    return Served(retail, pairs, ba, isos, iso_pairs)
