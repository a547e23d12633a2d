"""The ranked sites on the map (:func:`geo.web.page.render`): numbered, tier-coloured
markers sized by rank (:func:`sites_layer`), with a tooltip (the site's name) and a popup
table of the columns with a ``popup`` position in ``geo/schemas/sites.csv``; every string
from data HTML-escaped (:func:`geo.web.style.escape`)."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np

from geo import columns
from geo.web.style import SITE_CLASS, TIER_COLOURS, escape, js_json

#: Marker radius (px) of rank 1 and of the last rank.
RADIUS_MAX = 12.0
RADIUS_MIN = 4.0


def sites_layer(located: gpd.GeoDataFrame, points: gpd.GeoSeries, ranks: list[float],
                 over_surface: bool = False) -> Any:
    """Ranked sites: numbered, tier-coloured DivIcon markers (best drawn on top)."""
    from geo.web.layers import ScriptLayer  # built on folium: imported after render checked it

    n = len(located)
    order = sorted(range(n), key=lambda i: (-ranks[i] if math.isfinite(ranks[i]) else math.inf))
    rows = []
    for z, i in enumerate(order):
        row = located.iloc[i]
        rank = ranks[i]
        tier = str(row.get("tier"))
        size = round(2 * radius(rank, n) + 8)
        rows.append([round(points.iloc[i].y, 7) + 0.0, round(points.iloc[i].x, 7) + 0.0,
                     f"{int(rank)}" if math.isfinite(rank) else "?",
                     tier if tier in TIER_COLOURS else "none", size, z,
                     tooltip(row, rank), popup(row)])

    def code(var: str) -> str:
        return (f"var {var} = L.featureGroup();\n"
                f"(function () {{ var sites = {js_json(rows)};\n"
                "  sites.forEach(function (r) {\n"
                "    var icon = L.divIcon({className: "
                f"'{SITE_CLASS} geo-rank-tier-' + r[3], iconSize: [r[4], r[4]], html: "
                "'<div style=\"line-height:' + (r[4] - 4) + 'px\">' + r[2] + '</div>'});\n"
                f"    {var}.addLayer(L.marker([r[0], r[1]], {{icon: icon, zIndexOffset: "
                "1000 + r[5], riseOnHover: true}).bindTooltip(r[6])"
                f".bindPopup(r[7], {{maxWidth: 440, maxHeight: {POPUP_MAX_HEIGHT_PX}}}));\n"
                "  }); })();\n")

    name = f"Ranked sites ({n:,}" + (", the best one per POI)" if over_surface else ")")
    return ScriptLayer(name, code, count=n)


def format_value(value: Any) -> str:
    """A cell for the popup table (already escaped)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return escape(value)


def ranks(sites: gpd.GeoDataFrame) -> list[float]:
    if "rank" not in sites.columns:
        return [float(i + 1) for i in range(len(sites))]
    return [float(r) if _is_number(r) else math.nan for r in sites["rank"].tolist()]


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def radius(rank: float, n: int) -> float:
    """Rank 1 gets RADIUS_MAX, rank n RADIUS_MIN, linear in between; no rank: RADIUS_MIN."""
    if not math.isfinite(rank) or n <= 1:
        return RADIUS_MAX if n == 1 and math.isfinite(rank) else RADIUS_MIN
    frac = min(max((rank - 1) / (n - 1), 0.0), 1.0)
    return round(RADIUS_MAX - frac * (RADIUS_MAX - RADIUS_MIN), 2)


def tooltip(row: Any, rank: float) -> str:
    """"#3 NAME": the user's own name for a site of their file, else the POI's name, else
    the site id."""
    name = row.get("site_name") if row.get("candidate_kind") == "file" else None
    if not isinstance(name, str) or not name.strip():
        name = row.get("poi_name")
    if name is None or (isinstance(name, float) and math.isnan(name)):
        name = row.get("site_id", "")
    label = f"#{int(rank)}" if math.isfinite(rank) else "#?"
    return f"{label} {escape(name)}"


#: The popup's height limit: Leaflet scrolls a taller popup, so the reasons at its foot are
#: reachable in a 900 px window (a popup opens above its marker).
POPUP_MAX_HEIGHT_PX = 380


def popup(row: Any) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px' title='{escape(col)}'>"
        f"{escape(columns.label(col))}</th>"
        f"<td>{format_value(row[col])}</td></tr>"
        for col in columns.popup() if col in row.index
    )
    return f"<table style='font-size:12px'>{cells}</table>"
