"""Folium HTML maps of ranked sites (first version: sites, tier legend, provenance panel).

Every string taken from data is HTML-escaped, and ``$``, backtick, backslash and braces
are written as character references too: folium places popup and tooltip content inside
JavaScript template literals, where ``${...}`` would run and a stray backtick would end the
string, and it feeds the rendered script of each element through Jinja a second time, where
``{{ ... }}`` in a substation name would be evaluated (in Python, at render time).

The HTML is byte-identical for identical input: folium gives every element a random id,
which :func:`render` replaces by a counter in order of first appearance.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geo.errors import DataSourceError, DependencyError, LayerValidationError
from geo.export import atomic_write

log = logging.getLogger(__name__)

#: Marker colour per power tier (ColorBrewer RdYlBu/RdYlGn, colour-blind safe order).
TIER_COLOURS = {"A": "#1a9850", "B": "#4575b4", "C": "#fdae61", "D": "#d73027"}
UNKNOWN_COLOUR = "#969696"
TIER_LABELS = {"A": "A: hosts the load, N+1, short tie", "B": "B: hosts the load",
               "C": "C: half the load or firm power nearby", "D": "D: the rest"}
#: Popup rows, in order, when the column is present.
POPUP_COLUMNS = (
    "rank", "tier", "score", "poi_name", "poi_voltage_kv", "tie_distance_km", "hosting_mw",
    "limiting_line_id", "serves_load", "redundancy", "backbone_km", "time_to_power_months",
    "interconnection_cost_musd", "land_price_usd_per_acre", "hydro_mw_within_100km",
    "gas_field", "country_iso3", "subdivision", "sovereignty_bloc", "data_regime",
    "localization", "reasons",
)
#: ``<meta name="generator">`` content that marks a map as geo-rank's (overwrite guard).
GENERATOR = "geo-rank"
RADIUS_MAX = 12.0
RADIUS_MIN = 4.0
#: Characters that mean something in a JS template literal or a Jinja template.
_JS_TEMPLATE_ESCAPES = str.maketrans(
    {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}
)
_HEX_ID = re.compile(r"[0-9a-f]{32}")


def render(
    sites: gpd.GeoDataFrame, path: str | Path, provenance: Mapping[str, Any], *,
    title: str | None = None, overwrite: bool = False,
) -> Path:
    """Write an HTML map of ranked sites coloured by tier.

    Parameters
    ----------
    sites
        Ranked sites (any CRS; drawn in WGS84).
    path
        Output HTML file (written atomically; the folder is created).
    provenance
        From :func:`geo.provenance.build_provenance`; version, region and date are shown.
    title
        Page title and panel heading; defaults to ``"geo-rank sites: <region>"``.
    overwrite
        Replace an existing file even if geo-rank did not write it (geo-rank's maps carry
        ``<meta name="generator" content="geo-rank ...">`` and are always replaced).

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    DependencyError
        folium is not installed.
    DataSourceError
        ``path`` exists, was not written by geo-rank and ``overwrite`` is false.
    """
    try:
        import folium
        from branca.element import Element
    except ImportError as exc:  # pragma: no cover - folium is a core dependency
        raise DependencyError("folium is needed for maps: pip install folium") from exc

    path = Path(path)
    if not overwrite and path.is_file() and not _written_by_geo_rank(path):
        raise DataSourceError(
            f"{path} exists and was not written by geo-rank; pass --overwrite to replace it"
        )
    if sites.crs is None:
        raise LayerValidationError("sites have no CRS; set it first, e.g. "
                                   "sites.set_crs('EPSG:4326')")
    wgs84 = sites if sites.crs.to_epsg() == 4326 else sites.to_crs(4326)
    located = wgs84[~(wgs84.geometry.isna() | wgs84.geometry.is_empty)]
    points = located.geometry.representative_point()
    heading = title or f"geo-rank sites: {provenance.get('region', '')}"

    fmap = folium.Map(location=_centre(points), zoom_start=5, control_scale=True)
    figure: Any = fmap.get_root()
    figure.title = escape(heading)
    figure.header.add_child(
        Element(f'<meta name="generator" content="{GENERATOR} '
                f'{escape(provenance.get("version", "?"))}">'),
        name="generator",
    )
    ranks = _ranks(located)
    n = len(located)
    # lowest rank first so the best sites are drawn on top
    order = sorted(range(n), key=lambda i: (-ranks[i] if math.isfinite(ranks[i]) else math.inf))
    for i in order:
        row = located.iloc[i]
        rank = ranks[i]
        colour = TIER_COLOURS.get(str(row.get("tier")), UNKNOWN_COLOUR)
        folium.CircleMarker(
            location=[round(points.iloc[i].y, 7), round(points.iloc[i].x, 7)],
            radius=_radius(rank, n),
            color=colour, weight=1, fill=True, fill_color=colour, fill_opacity=0.8,
            tooltip=folium.Tooltip(_tooltip(row, rank)),
            popup=folium.Popup(_popup(row), max_width=420),
        ).add_to(fmap)
    if n:
        west, south, east, north = (round(float(v), 7) for v in points.total_bounds)
        fmap.fit_bounds([[south, west], [north, east]], padding=(20, 20))
    _panel(heading, provenance).add_to(fmap)

    page = _stable_ids(fmap, fmap.get_root().render())
    atomic_write(path, lambda tmp: tmp.write_text(page, encoding="utf-8", newline="\n"))
    log.info("wrote a map of %d sites to %s", n, path)
    return path


def _written_by_geo_rank(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR} '.encode() in head


def escape(value: Any) -> str:
    """HTML-escape text from data, safe inside folium's JavaScript template literals.

    Examples
    --------
    >>> escape("<b>${x}</b>")
    '&lt;b&gt;&#36;&#123;x&#125;&lt;/b&gt;'
    """
    return html.escape(str(value), quote=True).translate(_JS_TEMPLATE_ESCAPES)


def _format(value: Any) -> str:
    """A cell for the popup table (already escaped)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return escape(value)


def _ranks(sites: gpd.GeoDataFrame) -> list[float]:
    if "rank" not in sites.columns:
        return [float(i + 1) for i in range(len(sites))]
    return [float(r) if _is_number(r) else math.nan for r in sites["rank"].tolist()]


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _radius(rank: float, n: int) -> float:
    """Rank 1 gets RADIUS_MAX, rank n RADIUS_MIN, linear in between; no rank: RADIUS_MIN."""
    if not math.isfinite(rank) or n <= 1:
        return RADIUS_MAX if n == 1 and math.isfinite(rank) else RADIUS_MIN
    frac = min(max((rank - 1) / (n - 1), 0.0), 1.0)
    return round(RADIUS_MAX - frac * (RADIUS_MAX - RADIUS_MIN), 2)


def _tooltip(row: Any, rank: float) -> str:
    name = row.get("poi_name")
    if name is None or (isinstance(name, float) and math.isnan(name)):
        name = row.get("site_id", "")
    label = f"#{int(rank)}" if math.isfinite(rank) else "#?"
    return f"{label} {escape(name)}"


def _popup(row: Any) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{escape(col)}</th>"
        f"<td>{_format(row[col])}</td></tr>"
        for col in POPUP_COLUMNS if col in row.index
    )
    return f"<table style='font-size:12px'>{cells}</table>"


def _centre(points: gpd.GeoSeries) -> list[float]:
    if len(points) == 0:
        return [0.0, 0.0]
    west, south, east, north = points.total_bounds
    return [round(float(south + north) / 2, 7), round(float(west + east) / 2, 7)]


def _panel(heading: str, provenance: Mapping[str, Any]) -> Any:
    """A fixed-position legend of tiers with the provenance line underneath."""
    from branca.element import MacroElement, Template

    swatches = "".join(
        f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
        f"background:{colour};margin-right:4px'></span>{escape(TIER_LABELS[tier])}</div>"
        for tier, colour in TIER_COLOURS.items()
    )
    swatches += (f"<div><span style='display:inline-block;width:10px;height:10px;"
                 f"border-radius:5px;background:{UNKNOWN_COLOUR};margin-right:4px'></span>"
                 "no tier</div>")
    line = (f"geo-rank {escape(provenance.get('version', '?'))} · "
            f"{escape(provenance.get('region', '?'))} · "
            f"{escape(provenance.get('generated_at', '?'))}")
    body = (
        "<div class='geo-rank-legend' style='position:fixed;bottom:24px;left:12px;"
        "z-index:9999;background:rgba(255,255,255,0.92);padding:6px 8px;border-radius:4px;"
        "font:12px sans-serif;box-shadow:0 0 4px rgba(0,0,0,0.3)'>"
        f"<div style='font-weight:bold'>{escape(heading)}</div>{swatches}"
        f"<div style='color:#555;margin-top:4px'>{line}</div></div>"
    )
    panel: Any = MacroElement()
    panel._name = "Legend"
    panel._template = Template("{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}")
    panel.body = body  # rendered as is: every piece of data in it is escaped above
    return panel


def _stable_ids(fmap: Any, page: str) -> str:
    """Replace folium's random element ids by counters in order of first appearance."""
    ids: set[str] = set()
    stack = [fmap.get_root()]
    while stack:
        element = stack.pop()
        ids.add(element._id)
        stack.extend(element._children.values())
        stack.extend(getattr(element, name) for name in ("header", "html", "script")
                     if hasattr(getattr(element, name, None), "_children"))
    mapping: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token not in ids:
            return token
        return mapping.setdefault(token, f"{len(mapping) + 1:032x}")

    return _HEX_ID.sub(replace, page)
