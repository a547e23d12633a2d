"""Who serves a site: its electric utility, balancing authority and ISO/RTO.

From the territories layer (``data/us/territories.parquet``: HIFLD retail service
territories, control areas and ISO/RTO areas with EIA-861 2024 attributes): a site's
utility is the retail service territory that contains it; where several do (territories
overlap, e.g. a co-op inside an investor-owned utility's area), the one that also contains
the site's POI comes first, then one whose balancing authority (EIA-861) is that of the
control area containing the site (the smallest, where control areas overlap), then the one
with more customers, then the territory id,
and ``utility_overlap`` names the others. The balancing authority and the ISO/RTO are the
utility's own (EIA-861), else those of the control-area and ISO polygons that contain the
site; a site in a non-ISO area (a vertically integrated utility's) is ``none``. Outside
every territory (or outside the US) the columns are null.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._arrays import NONE
from geo.errors import GeoRankError, SettingsError

#: ``iso_rto`` of a site whose utility belongs to no ISO/RTO.
NO_ISO = "none"
COLUMNS = ("utility", "utility_eia_id", "balancing_authority", "iso_rto", "utility_overlap")
#: Closest names offered for an unknown --iso or --utility (difflib similarity at least this).
NEAREST_CUTOFF = 0.6


def _containing(points: np.ndarray, areas: gpd.GeoDataFrame, tree: shapely.STRtree | None = None,
                ordered: bool = True) -> pd.DataFrame:
    """(site, area) row positions of every area that contains a point (points may be None).

    ``ordered``: ordered by site, then as a tree of the areas lists them for that point
    (the order the first hit of :func:`tag` depends on); otherwise by site, then area.
    ``tree``: a tree of ``points[~shapely.is_missing(points)]`` to reuse.

    Which areas contain which point is asked the other way round: the points form the tree
    and each area is one query, because GEOS prepares the query geometry (a polygon is
    prepared once instead of its every vertex walked per point). The tree order comes from
    a bounding-box query of the areas' tree (no geometry test), filtered to those pairs."""
    if len(areas) == 0 or len(points) == 0:
        return pd.DataFrame({"site": np.zeros(0, np.int64), "area": np.zeros(0, np.int64)})
    where = np.flatnonzero(~shapely.is_missing(points))
    geoms = areas.geometry.to_numpy()
    tree = tree if tree is not None else shapely.STRtree(points[where])
    area, site = tree.query(geoms, predicate="intersects")
    width = np.int64(len(areas))
    hit = where[site].astype(np.int64) * width + area
    if not ordered:
        hit.sort()
        return pd.DataFrame({"site": hit // width, "area": hit % width})
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
    tree = shapely.STRtree(points[~shapely.is_missing(points)])  # one for every kind of area

    retail = territories[kind == "retail_service_territory"].reset_index(drop=True)
    pairs = _containing(points, retail, tree, ordered=False)  # sorted by the keys below
    if poi is not None and len(pairs):
        # many sites share a POI: each distinct POI geometry is placed once
        poi = np.asarray(poi, dtype=object)
        which = pd.factorize(pd.Series(shapely.to_wkb(poi)), use_na_sentinel=True)[0]
        first = np.unique(which[which >= 0], return_index=True)[1]
        at_poi = _containing(poi[np.flatnonzero(which >= 0)[first]], retail, ordered=False)
        width = np.int64(len(retail))
        pairs["at_poi"] = _member(which[pairs["site"].to_numpy()].astype(np.int64) * width
                                  + pairs["area"].to_numpy(np.int64),
                                  at_poi["site"].to_numpy(np.int64) * width
                                  + at_poi["area"].to_numpy(np.int64))
    else:
        pairs["at_poi"] = False
    # a utility of the balancing authority whose control area holds the site before one of
    # another BA: Houston lies in Entergy Texas's territory polygon too, but in ERCOT's
    # control area, and CenterPoint (a wires company) reports no retail customers
    # (control areas overlap too: the smallest one containing the site is its own, e.g.
    # ERCOT's rather than SPP's at Odessa, where SPP's polygon reaches over it)
    bas = territories[kind == "balancing_authority"].reset_index(drop=True)
    in_ba = _containing(points, bas, tree)
    ba_hits = in_ba.copy()
    ba_hits["size"] = shapely.area(bas.geometry.to_numpy())[ba_hits["area"].to_numpy()]
    ba_hits = ba_hits.sort_values(["site", "size", "area"], kind="mergesort") \
        .drop_duplicates("site")
    site_ba = np.full(n, None, dtype=object)
    site_ba[ba_hits["site"].to_numpy()] = _text(bas["code"])[ba_hits["area"].to_numpy()]
    utility_ba = _text(retail["balancing_authority"])[pairs["area"].to_numpy()]
    pairs["ba_agrees"] = pd.notna(utility_ba) & (utility_ba == site_ba[pairs["site"]
                                                                      .to_numpy()])
    pairs["customers"] = pd.to_numeric(retail["customers"], errors="coerce").fillna(0) \
        .to_numpy()[pairs["area"].to_numpy()]
    pairs["territory_id"] = retail["territory_id"].astype(str).to_numpy()[pairs["area"]]
    pairs = pairs.sort_values(["site", "at_poi", "ba_agrees", "customers", "territory_id",
                               "area"], ascending=[True, False, False, False, True, True],
                              kind="mergesort")
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
        hits = (in_ba if polygon_kind == "balancing_authority"
                else _containing(points, areas, tree)).drop_duplicates("site")
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


@dataclass(frozen=True)
class Filter:
    """Who may serve the kept sites (``--iso``, ``--utility``): ISO/RTO codes as the
    territories spell them and EIA utility ids; an empty tuple does not filter."""

    isos: tuple[str, ...] = ()
    eia_ids: tuple[str, ...] = ()
    #: The filter as given, for messages and the provenance.
    asked: str = ""

    def keep(self, sites: pd.DataFrame) -> pd.DataFrame:
        """The sites whose ``iso_rto`` and ``utility_eia_id`` pass (both filters, if given)."""
        mask = np.ones(len(sites), dtype=bool)
        if self.isos:
            mask &= sites["iso_rto"].isin(self.isos).to_numpy()
        if self.eia_ids:
            ids = sites["utility_eia_id"].astype(object).map(
                lambda v: "" if v is None or v != v else str(v)).to_numpy()
            mask &= np.isin(ids, self.eia_ids)
        return sites[mask]


def _many(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _closest(word: str, names: Sequence[str], show: int = 3) -> str:
    """"; closest: A, B" by difflib similarity to the whole name or to its start of the
    same length (so "dominon" finds "DOMINION ENERGY ..."); "" when none is close."""
    key = word.strip().upper()
    scored = []
    for name in names:
        upper = name.upper()
        score = max(difflib.SequenceMatcher(None, key, upper).ratio(),
                    difflib.SequenceMatcher(None, key, upper[:len(key)]).ratio())
        if score >= NEAREST_CUTOFF:
            scored.append((-score, name))
    near = [name for _, name in sorted(scored)[:show]]
    return f"; closest: {', '.join(near)}" if near else ""


def check_filter(territories: gpd.GeoDataFrame, region: str,
                 iso: str | Sequence[str] | None = None,
                 utility: str | Sequence[str] | None = None) -> Filter | None:
    """The :class:`Filter` for ``--iso`` and ``--utility`` (None when neither is given).

    ISO/RTO codes are matched case-insensitively against the territories' (``none``: no
    ISO, a vertically integrated utility); a utility by its name (case-insensitive, every
    territory of that name) or its EIA id.

    Raises
    ------
    SettingsError
        One line naming the flag: an unknown name with the closest ones, or a region with no
        territories.
    """
    isos, names = _many(iso), _many(utility)
    if not isos and not names:
        return None
    flags = " and ".join(f for f, v in (("--iso", isos), ("--utility", names)) if v)
    if len(territories) == 0:
        raise SettingsError(f"{flags}: {region} has no utility territories (the embedded "
                            "ones cover the US); drop the filter or give --territories")
    kind = territories["kind"].astype(str).to_numpy()
    codes = {str(c) for c in territories.loc[kind == "iso_rto", "code"].dropna()}
    codes |= {str(c) for c in territories["iso_rto"].dropna()} | {NO_ISO}
    by_upper = {c.upper(): c for c in codes}
    chosen_isos = []
    for name in isos:
        if name.strip().upper() not in by_upper:
            raise SettingsError(f"--iso {name!r}: unknown ISO/RTO{_closest(name, sorted(codes))}"
                                f" (known: {', '.join(sorted(codes))})")
        chosen_isos.append(by_upper[name.strip().upper()])
    retail = territories[kind == "retail_service_territory"]
    ids = retail["eia_id"].astype(object).map(lambda v: "" if v is None or v != v else str(v))
    upper = retail["name"].astype(str).str.strip().str.upper()
    chosen_ids: list[str] = []
    for name in names:
        key = name.strip()
        hit = ids[(upper == key.upper()) | (ids == key)]
        starts = set(upper[upper.str.startswith(key.upper() + " ")]) if key else set()
        if len(hit) == 0 and len(starts) == 1:  # "Georgia Power": GEORGIA POWER CO, alone
            hit = ids[upper.isin(starts)]
        if len(hit) == 0 or not key:
            raise SettingsError(f"--utility {name!r}: no utility of that name or EIA id"
                                f"{_closest(key, sorted(set(retail['name'].astype(str))))}")
        chosen_ids += [i for i in hit if i and i not in chosen_ids]
    asked = "; ".join([*(f"--iso {i}" for i in isos), *(f"--utility {u}" for u in names)])
    return Filter(tuple(dict.fromkeys(chosen_isos)), tuple(chosen_ids), asked)


def keep(sites: pd.DataFrame, who: Filter | None, region: str) -> pd.DataFrame:
    """``who.keep(sites)``; an empty result is refused in one line naming the filter."""
    if who is None:
        return sites
    kept = who.keep(sites)
    if len(kept) == 0:
        raise GeoRankError(f"no candidate site in {region} passes {who.asked}")
    return kept
