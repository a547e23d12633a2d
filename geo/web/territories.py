"""The ISO/RTO and balancing-authority outlines of the map (issue 29): who serves a site.

Two overlays, off by default (in the layer control): the ISO/RTO areas and the balancing
authorities of the territories layer. Each tooltip names the area, its kind and code, and
the utilities of the shown sites inside it with their ranks. Display only, small on purpose:
the outlines are cut to the region's bounding box widened by a quarter of its span, parts
smaller than a few tolerances (islands, slivers) are left out, and what remains is
simplified at :data:`TERRITORY_TOLERANCE_FACTOR` times the map's tolerance. Every string
from data goes through :func:`geo.web.style.escape`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.web.layer_cache import OFF, LayerCache
from geo.web.layers import ScriptLayer, _fmt, _text, decimals_for, polygon_shapes, polygons

#: The ISO/RTO and balancing-authority outlines are context (off by default): simplified at
#: this multiple of the map's tolerance (about 0.06 degree for the contiguous US).
TERRITORY_TOLERANCE_FACTOR = 3.0
#: Parts of an outline (islands, slivers) smaller than (this x the tolerance) squared are
#: left out of the drawing (an area's largest part is always kept): 2,208 parts of the
#: ISO/RTO outlines become 56, the drawn vertices about a third.
TERRITORY_SPECK_FACTOR = 5.0
#: Utilities of the shown sites named in one territory's tooltip, at most.
TERRITORY_UTILITIES = 5
_TERRITORY_LAYERS = (("iso_rto", "ISO/RTO areas", "ISO/RTO", "#6a3d9a"),
                     ("balancing_authority", "Balancing authorities", "balancing authority",
                      "#b15928"))


def overlays(areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, tolerance: float,
                nd: int, bounds: Sequence[float] | None = None,
                cache: LayerCache = OFF) -> list[ScriptLayer]:
    """ISO/RTO and balancing-authority outlines, each an overlay off by default.

    ``bounds`` (the region's): the outlines are cut to it, widened by a quarter of its span
    on each side (a state's map does not carry all of SPP or the West).

    The tooltip names the area, its kind and code, and the utilities of the shown sites that
    lie in it, with their ranks ("ONCOR ELECTRIC DELIVERY (#1, #4)"), so a site's territory
    says who serves it. The outlines' drawing is kept in ``cache``; the tooltips are
    written for each map.
    """
    out: list[ScriptLayer] = []
    if len(areas) == 0:
        return out
    tolerance *= TERRITORY_TOLERANCE_FACTOR
    nd = min(nd, decimals_for(tolerance))
    points = sites.geometry.representative_point().to_numpy() if len(sites) else None
    for kind, title, words, colour in _TERRITORY_LAYERS:
        part = areas[areas["kind"].astype(str) == kind].reset_index(drop=True)
        if len(part) == 0:
            continue
        served = _served(part, sites, points)
        shapes = cache.get("territories", [tolerance, nd, None if bounds is None else
                                           list(bounds)], part, ["geometry"],
                           functools.partial(_shapes, part, tolerance, nd, bounds))
        style = {"color": colour, "weight": 1.5, "fill": True, "fillOpacity": 0.03,
                 "dashArray": "4 3"}
        layer = polygons(part, f"{title} ({len(part):,})",
                         functools.partial(_tooltip, words=words, served=served),
                         functools.partial(_style, style=style), tolerance, nd, show=False,
                         shapes=shapes)
        if layer is not None:
            out.append(layer)
    return out


def _shapes(part: gpd.GeoDataFrame, tolerance: float, nd: int,
            bounds: Sequence[float] | None) -> list[str | None]:
    """The areas' outlines as drawn: cut to the widened ``bounds``, specks left out,
    simplified (:func:`geo.web.layers.polygon_shapes`)."""
    speck = (TERRITORY_SPECK_FACTOR * tolerance) ** 2
    geoms = part.geometry.to_numpy()
    if bounds is not None:
        west, south, east, north = bounds
        pad = max(east - west, north - south) / 4
        geoms = shapely.clip_by_rect(geoms, west - pad, south - pad, east + pad,
                                     north + pad)
    return polygon_shapes(part.set_geometry([_without_specks(g, speck) for g in geoms]),
                          tolerance, nd)


def _without_specks(geom: Any, min_area: float) -> Any:
    """``geom`` without the parts smaller than ``min_area`` (its largest part always kept)."""
    if geom is None or geom.is_empty:
        return geom
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons (a clip may leave slivers)
    if len(parts) < 2:
        return parts[0] if len(parts) else None
    area = shapely.area(parts)
    keep = (area >= min_area) | (np.arange(len(parts)) == int(np.argmax(area)))
    kept = parts[keep]
    return kept[0] if len(kept) == 1 else shapely.multipolygons(kept)


def _served(areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, points: Any) -> dict[Any, str]:
    """Per area row: "UTILITY (#1, #4); ..." for the shown sites inside it (escaped)."""
    if points is None or "utility" not in sites or "rank" not in sites:
        return {}
    tree = shapely.STRtree(areas.geometry.to_numpy())
    site, area = tree.query(points, predicate="intersects")
    utilities = sites["utility"].to_numpy(dtype=object)
    ranks = sites["rank"].to_numpy()
    named: dict[Any, dict[str, list[str]]] = {}
    for i, a in sorted(zip(site.tolist(), area.tolist(), strict=True),
                       key=lambda p: (p[1], float(ranks[p[0]]))):
        name = _text(utilities[i]) if _present(utilities[i]) else "no utility territory"
        named.setdefault(a, {}).setdefault(name, []).append(f"#{_fmt(ranks[i])}")
    return {a: "; ".join(f"{u} ({', '.join(r[:5])}{', ...' if len(r) > 5 else ''})"
                         for u, r in list(by.items())[:TERRITORY_UTILITIES])
            + ("; ..." if len(by) > TERRITORY_UTILITIES else "")
            for a, by in named.items()}


def _tooltip(row: Any, *, words: str, served: dict[Any, str]) -> str:
    """"<b>NAME</b><br>ISO/RTO · CODE<br>sites here: UTILITY (#1, #4)" (escaped)."""
    code = row.get("code")
    return (f"<b>{_text(row.get('name'))}</b><br>{words}"
            + (f" · {_text(code)}" if _present(code) else "")
            + (f"<br>sites here: {served[row.name]}" if served.get(row.name) else ""))


def _style(_: Any, *, style: dict[str, Any]) -> dict[str, Any]:
    return style


def _present(value: Any) -> bool:
    return not (value is None or (isinstance(value, float) and math.isnan(value))
                or value == "")
