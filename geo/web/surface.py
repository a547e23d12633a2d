"""A surface on the map: many candidates (H3 cells) drawn as coarser display cells.

A national H3 surface has hundreds of thousands to millions of cells; one marker each makes
a page no browser opens (841 MB for the US at resolution 6). Instead the cells are merged
into display cells of a coarser H3 resolution, chosen from the extent: the finest
resolution at which the region has at most ``Settings.map_surface_max_cells`` display
cells. Each display cell carries the best of the cells inside it (best tier, fewest months
to power, best score, best rank, and how many cells) and is coloured by its best tier. The
display cells are one GeoJSON layer whose data is embedded once as compact rows (rounded
coordinates, properties as a short array); one tooltip serves them all. The export is
untouched: every cell stays there.

H3 candidates are merged with their exact H3 parent (bit arithmetic on the 64-bit index,
the same as ``h3.cell_to_parent``); other sites (a large file of the user's) are first
indexed at :data:`POINT_RES` and then merged the same way.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.web.style import TIER_COLOURS, UNKNOWN_COLOUR, js_json

log = logging.getLogger(__name__)

#: Sites that are not H3 cells are indexed at this resolution (about 0.1 km2) first.
POINT_RES = 9
#: Tier letters in order of merit; index len(TIERS) is "no tier".
TIERS = tuple(TIER_COLOURS)
#: The columns a surface needs (the rest of a national frame is not copied).
COLUMNS = ("site_id", "candidate_kind", "tier", "rank", "score", "time_to_power_months")
_RES_SHIFT = np.uint64(52)
_RES_MASK = np.uint64(0xF) << _RES_SHIFT


def is_surface(sites: pd.DataFrame, min_sites: int) -> bool:
    """Whether ``sites`` are drawn as a surface: H3 cells, or more than ``min_sites``."""
    if len(sites) > min_sites:
        return True
    kind = sites.get("candidate_kind")
    return kind is not None and len(sites) > 0 and bool((kind == "h3").all())


def top_sites(sites: gpd.GeoDataFrame, top: int) -> gpd.GeoDataFrame:
    """The best ``top`` sites, one per point of interconnection, keeping their ranks.

    Only the ``top`` rows are copied (a national frame has millions)."""
    order = np.arange(len(sites))
    if "rank" in sites.columns:
        rank = pd.to_numeric(sites["rank"], errors="coerce").to_numpy(dtype=float,
                                                                       na_value=np.nan)
        order = np.argsort(np.where(np.isnan(rank), np.inf, rank), kind="stable")
    if "poi_sub_id" in sites.columns:
        poi = pd.Series(sites["poi_sub_id"].to_numpy()[order])
        order = order[~(poi.notna() & poi.duplicated(keep="first")).to_numpy()]
    return sites.iloc[order[:top]]


def cell_ints(sites: gpd.GeoDataFrame) -> np.ndarray:
    """One H3 index (uint64) per site: the cell itself for H3 sites, else a POINT_RES cell."""
    import h3

    if "candidate_kind" in sites.columns and bool((sites["candidate_kind"] == "h3").all()):
        ints = np.array([h3.str_to_int(s) for s in sites["site_id"].astype(str)],
                        dtype=np.uint64)
        return ints
    pts = sites.geometry.representative_point()
    return np.array([h3.str_to_int(h3.latlng_to_cell(y, x, POINT_RES))
                     for x, y in zip(pts.x.to_numpy(), pts.y.to_numpy(), strict=True)],
                    dtype=np.uint64)


def parents(cells: np.ndarray, res: int) -> np.ndarray:
    """The parent at ``res`` of every H3 index in ``cells`` (all of one finer resolution).

    The index holds its resolution in bits 52-55 and one 3-bit digit per resolution 1-15
    below bit 45; a parent has its own resolution there and every finer digit set to 7.

    >>> import h3
    >>> cell = h3.latlng_to_cell(41.8, -71.4, 8)
    >>> int(parents(np.array([h3.str_to_int(cell)], dtype=np.uint64), 5)[0]) == \\
    ...     h3.str_to_int(h3.cell_to_parent(cell, 5))
    True
    """
    unused = np.uint64((1 << (3 * (15 - res))) - 1)
    return ((cells & ~_RES_MASK) | (np.uint64(res) << _RES_SHIFT)) | unused


def display_res(cells: np.ndarray, max_cells: int) -> tuple[int, np.ndarray]:
    """The finest resolution with at most ``max_cells`` distinct parents, and those parents."""
    if len(cells) == 0:
        return 0, cells
    res = int((int(cells[0]) >> 52) & 0xF)
    for r in range(res, -1, -1):
        up = cells if r == res else parents(cells, r)
        if r == 0 or len(np.unique(up)) <= max_cells:
            return r, up
    raise AssertionError("unreachable")  # pragma: no cover


def aggregate(sites: gpd.GeoDataFrame, max_cells: int) -> tuple[int, pd.DataFrame]:
    """Display cells of a surface: (resolution, one row per display cell).

    Rows are sorted by the display cell's index and hold ``cell`` (uint64), ``tier``
    (index into :data:`TIERS`, ``len(TIERS)`` for none), ``months``, ``score``, ``rank``
    (the best of the cells inside; NaN when none has one) and ``n`` (cells inside).
    """
    res, up = display_res(cell_ints(sites), max_cells)
    n = len(sites)

    def column(name: str) -> np.ndarray:
        if name not in sites.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(sites[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    tier = sites["tier"].astype(object) if "tier" in sites.columns else pd.Series([None] * n)
    tier_code = pd.Series(tier.to_numpy()).map({t: i for i, t in enumerate(TIERS)})
    frame = pd.DataFrame({
        "cell": up,
        "tier": tier_code.fillna(len(TIERS)).to_numpy(dtype=np.int64),
        "months": column("time_to_power_months"),
        "score": column("score"),
        "rank": column("rank"),
    })
    grouped = frame.groupby("cell", sort=True)
    out = grouped.agg(tier=("tier", "min"), months=("months", "min"), score=("score", "max"),
                      rank=("rank", "min"), n=("tier", "size")).reset_index()
    return res, out


def _number(value: float, digits: int) -> float | None:
    return None if not np.isfinite(value) else round(float(value), digits) + 0.0


def layer(sites: gpd.GeoDataFrame, max_cells: int, nd: int = 3) -> tuple[Any, int, int]:
    """The display cells as one GeoJSON layer: (layer, display resolution, display cells).

    ``nd``: decimals of the coordinates (3: about 100 m, well under a pixel at the zooms a
    display cell is seen at).
    """
    import h3

    from geo.web.layers import ScriptLayer  # built on folium: imported after render checked it

    res, cells = aggregate(sites, max_cells)
    rows = []
    for cell, tier, months, score, rank, count in zip(
            cells["cell"].to_numpy(), cells["tier"].to_numpy(), cells["months"].to_numpy(),
            cells["score"].to_numpy(), cells["rank"].to_numpy(), cells["n"].to_numpy(),
            strict=True):
        ring = h3.cell_to_boundary(h3.int_to_str(int(cell)))
        flat = [round(v, nd) + 0.0 for lat, lng in ring for v in (lng, lat)]
        rows.append([int(tier), _number(months, 1), _number(score, 3),
                     None if not np.isfinite(rank) else int(rank), int(count), flat])
    colours = [*TIER_COLOURS.values(), UNKNOWN_COLOUR]
    labels = [*TIERS, "none"]

    def code(var: str) -> str:
        return (
            f"var {var} = (function () {{ var c = {js_json(colours)}, t = {js_json(labels)};\n"
            # a stroke of the fill's colour: no pale anti-aliasing seams between hexagons
            "  var g = L.geoJson(null, {style: function (f) { var k = c[f.properties[0]];\n"
            "    return {weight: 1, color: k, opacity: 0.6, fillColor: k, fillOpacity: 0.6}; "
            "}});\n"
            f"  var rows = {js_json(rows)};\n"
            "  g.addData({type: 'FeatureCollection', features: rows.map(function (r) {\n"
            "    var ring = [], p = r[5], k;\n"
            "    for (k = 0; k < p.length; k += 2) { ring.push([p[k], p[k + 1]]); }\n"
            "    ring.push(ring[0]);\n"
            "    return {type: 'Feature', properties: r,\n"
            "            geometry: {type: 'Polygon', coordinates: [ring]}}; })});\n"
            "  g.bindTooltip(function (l) { var r = l.feature.properties;\n"
            "    return '<b>tier ' + t[r[0]] + '</b> (best of ' + r[4].toLocaleString() +\n"
            f"      ' site' + (r[4] === 1 ? '' : 's') + ' in this H3 res-{res} cell)' +\n"
            "      '<br>' + (r[1] === null ? '–' : r[1]) + ' months to power · score ' +\n"
            "      (r[2] === null ? '–' : r[2]) + ' · best cell rank #' +\n"
            "      (r[3] === null ? '?' : r[3].toLocaleString()); }, {sticky: true});\n"
            "  return g; })();\n")

    name = (f"Surface: best tier of {len(sites):,} sites in {len(cells):,} "
            f"H3 res-{res} cells")
    log.info("map surface: %d sites drawn as %d H3 res-%d display cells", len(sites),
             len(cells), res)
    return ScriptLayer(name, code, count=len(cells)), res, len(cells)
