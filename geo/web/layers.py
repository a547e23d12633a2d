"""Context layers of the map: substations, lines, hydro, gas basins, land price, boundary.

Each layer is one :class:`ScriptLayer`: its data is embedded once as compact JSON and a
few lines of JavaScript build the Leaflet objects, instead of one folium element (and one
block of script) per feature. That keeps the US map small and quick to open.

Size discipline (display only; the ranking never sees these geometries):

* geometries are simplified with :func:`shapely.simplify` (topology kept) at a tolerance in
  degrees of ``span / 3000`` of the region's bounding box (about 0.02 degree, 2 km, for the
  contiguous US, under a pixel at the national zoom), and coordinates are rounded to match;
* lines: every line in the region when there are at most :data:`MAX_LINES`, otherwise only
  the voltage classes from 230 kV up (from 345 kV up if still too many, and so on);
* substations: those at or above :data:`SUBSTATION_MIN_KV` in the region, clustered
  (Leaflet.markercluster), at most :data:`MAX_SUBSTATIONS` (highest voltage first).

Every string from data goes through :func:`geo.web.style.escape` before it reaches a
tooltip.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template
from shapely.errors import GEOSException

from geo.land import UNITS, raster_unit
from geo.web.assets import raw_element
from geo.web.layer_cache import OFF, LayerCache
from geo.web.style import (
    BOUNDARY_COLOUR,
    GAS_COLOUR,
    HYDRO_COLOUR,
    LAND_COLOURS,
    VOLTAGE_CLASSES,
    escape,
    js_json,
)

log = logging.getLogger(__name__)

SUBSTATION_MIN_KV = 230.0
MAX_SUBSTATIONS = 20_000
MAX_LINES = 20_000
_MARKERCLUSTER_JS = [("markerclusterjs", "https://cdnjs.cloudflare.com/ajax/libs/"
                      "leaflet.markercluster/1.1.0/leaflet.markercluster.js")]
_MARKERCLUSTER_CSS = [
    ("markerclustercss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/"
                         "1.1.0/MarkerCluster.css"),
    ("markerclusterdefaultcss", "https://cdnjs.cloudflare.com/ajax/libs/"
                                "leaflet.markercluster/1.1.0/MarkerCluster.Default.css"),
]


class ScriptLayer(JSCSSMixin, Layer):
    """An overlay whose JavaScript is written verbatim (``code(var_name)`` defines the var).

    ``default_js``/``default_css`` name folium assets, inlined by :mod:`geo.web.assets`.
    """

    _template = Template("")

    def __init__(self, name: str, code: Callable[[str], str], *, show: bool = True,
                 overlay: bool = True, js: Sequence[tuple[str, str]] = (),
                 css: Sequence[tuple[str, str]] = (), count: int = 0) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "geo_rank_layer"
        self.default_js = list(js)
        self.default_css = list(css)
        self.code = code(self.get_name())
        self.count = count

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # folium: None
        root: Any = self.get_root()  # a folium Figure (its ``script`` element)
        root.script.add_child(raw_element(self.code), name=self.get_name())
        super().render(**kwargs)


def tolerance_for(bounds: Sequence[float]) -> float:
    """Simplification tolerance in degrees for a region's bounding box (display only)."""
    west, south, east, north = bounds
    span = max(east - west, north - south, 0.01)
    return span / 3000


def decimals_for(tolerance: float) -> int:
    return max(3, min(7, math.ceil(-math.log10(tolerance)) + 1))


def voltage_class(kv: Any) -> int:
    value = _num(kv)
    if value is None:
        return 0
    return max(i for i, (low, _, _) in enumerate(VOLTAGE_CLASSES) if value >= low)


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return escape(value)


def _fmt(value: Any, unit: str = "", digits: int = 0) -> str:
    number = _num(value)
    return "–" if number is None else f"{number:,.{digits}f}{unit}"


def _latlon(coords: Any, nd: int) -> list[list[float]]:
    return [[round(y, nd) + 0.0, round(x, nd) + 0.0] for x, y, *_ in coords]


def _paths(geom: Any, nd: int) -> list[list[list[float]]]:
    if geom is None or geom.is_empty:
        return []
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _paths(g, nd)]
    if geom.geom_type == "Polygon":
        return [_latlon(geom.exterior.coords, nd)]
    return [_latlon(geom.coords, nd)]


def _geojson(geom: Any, nd: int) -> Any:
    mapped = shapely.geometry.mapping(_rounded(geom, 10.0 ** -nd))
    return json.loads(json.dumps(mapped))


def _rounded(geom: Any, grid: float) -> Any:
    """``geom`` snapped to ``grid`` degrees; an input that older GEOS (3.11) cannot snap
    with its topology kept ("unable to assign free hole to a shell", seen on simplified
    territories) is made valid first, and snapped point by point as a last resort."""
    try:
        return shapely.set_precision(geom, grid)
    except GEOSException:
        pass
    try:
        return shapely.set_precision(shapely.make_valid(geom), grid)
    except GEOSException:
        return shapely.set_precision(geom, grid, mode="pointwise")


#: The columns each layer reads (and its cache entry is keyed by, :mod:`geo.web.layer_cache`).
SUBSTATION_COLUMNS = ("voltage_kv", "name", "sub_id", "geometry")
LINE_COLUMNS = ("kind", "voltage_kv", "capacity_mw", "line_id", "geometry")
HYDRO_COLUMNS = ("fuel", "capacity_mw", "name", "geometry")


def substations(subs: gpd.GeoDataFrame, nd: int,
                cache: LayerCache = OFF) -> ScriptLayer | None:
    """Substations at or above SUBSTATION_MIN_KV, clustered, coloured by voltage class."""
    drawn = cache.get("substations", [nd], subs, SUBSTATION_COLUMNS,
                      lambda: _substation_rows(subs, nd))
    if drawn is None:
        return None
    rows, count = drawn
    colours = [c for _, _, c in VOLTAGE_CLASSES]

    def code(var: str) -> str:
        return (f"var {var} = L.markerClusterGroup({{chunkedLoading: true, "
                "disableClusteringAtZoom: 10, maxClusterRadius: 45, "
                "showCoverageOnHover: false, iconCreateFunction: function (g) {\n"
                "  return L.divIcon({html: String(g.getChildCount()), "
                "className: 'geo-rank-cluster', iconSize: [26, 18]}); }});\n"
                f"(function () {{ var c = {js_json(colours)}; var rows = {rows};\n"
                "  rows.forEach(function (r) {\n"
                f"    {var}.addLayer(L.circleMarker([r[0], r[1]], {{radius: 4, weight: 1, "
                "color: '#333', fillColor: c[r[2]], fillOpacity: 0.9}).bindTooltip(r[3]));\n"
                "  }); })();\n")

    return ScriptLayer(f"Substations ≥ {SUBSTATION_MIN_KV:g} kV ({count:,})", code,
                       js=_MARKERCLUSTER_JS, css=_MARKERCLUSTER_CSS, count=count)


def _substation_rows(subs: gpd.GeoDataFrame, nd: int) -> tuple[str, int] | None:
    """The substations' rows as JSON text and their count (None: none to draw)."""
    kv = subs["voltage_kv"].astype(float)
    keep = subs[(kv >= SUBSTATION_MIN_KV).to_numpy()]
    if len(keep) > MAX_SUBSTATIONS:
        keep = keep.sort_values("voltage_kv", ascending=False, kind="stable").head(MAX_SUBSTATIONS)
    keep = keep[~(keep.geometry.isna() | keep.geometry.is_empty)]
    if len(keep) == 0:
        return None
    points = keep.geometry.representative_point()
    names = keep["name"] if "name" in keep.columns else keep["sub_id"]
    rows = [
        [round(p.y, nd) + 0.0, round(p.x, nd) + 0.0, voltage_class(v),
         f"<b>{_text(n)}</b><br>{_fmt(v, ' kV')} · id {_text(s)}"]
        for p, v, n, s in zip(points, keep["voltage_kv"], names, keep["sub_id"], strict=True)
    ]
    return js_json(rows), len(rows)


def lines(lines_gdf: gpd.GeoDataFrame, tolerance: float, nd: int,
          cache: LayerCache = OFF) -> ScriptLayer | None:
    """Transmission lines coloured by voltage class, capped at MAX_LINES (lowest classes go).
    A substation's transformers (``kind = "transformer"``, a point twice) are not drawn."""
    drawn = cache.get("lines", [tolerance, nd], lines_gdf, LINE_COLUMNS,
                      lambda: _line_rows(lines_gdf, tolerance, nd))
    if drawn is None:
        return None
    rows, count, floor = drawn
    weights = [1.2, 1.8, 2.4, 3.0]
    colours = [c for _, _, c in VOLTAGE_CLASSES]
    label = "Transmission lines" + (f" ≥ {floor:g} kV" if floor else "")

    def code(var: str) -> str:
        return (f"var {var} = L.featureGroup();\n"
                f"(function () {{ var c = {js_json(colours)}, w = {js_json(weights)};\n"
                f"  var rows = {rows};\n"
                "  rows.forEach(function (r) {\n"
                f"    {var}.addLayer(L.polyline(r[2], {{color: c[r[0]], weight: w[r[0]], "
                "opacity: 0.85}).bindTooltip(r[1], {sticky: true}));\n"
                "  }); })();\n")

    return ScriptLayer(f"{label} ({count:,})", code, count=count)


def _line_rows(lines_gdf: gpd.GeoDataFrame, tolerance: float, nd: int
               ) -> tuple[str, int, float] | None:
    """The lines' rows as JSON text, the count of lines drawn and the voltage floor."""
    if "kind" in lines_gdf:
        lines_gdf = lines_gdf[lines_gdf["kind"].astype(object) != "transformer"]
    kv = lines_gdf["voltage_kv"].astype(float).to_numpy()
    floor = 0.0
    for low, _, _ in VOLTAGE_CLASSES:
        floor = low
        if int((kv >= low).sum()) <= MAX_LINES:
            break
    keep = lines_gdf[kv >= floor]
    keep = keep[~(keep.geometry.isna() | keep.geometry.is_empty)]
    if len(keep) == 0:
        return None
    geoms = shapely.simplify(keep.geometry.to_numpy(), tolerance, preserve_topology=True)
    cap = keep["capacity_mw"] if "capacity_mw" in keep.columns else [None] * len(keep)
    rows: list[Any] = []
    for geom, line_id, volts, mw in zip(geoms, keep["line_id"], keep["voltage_kv"], cap,
                                        strict=True):
        rows.extend([voltage_class(volts), f"<b>line {_text(line_id)}</b><br>"
                     f"{_fmt(volts, ' kV')} · {_fmt(mw, ' MW')}", path]
                    for path in _paths(geom, nd))
    return js_json(rows), len(keep), floor


def hydro(plants: gpd.GeoDataFrame, nd: int, cache: LayerCache = OFF) -> ScriptLayer | None:
    """Hydro plants as circles whose area grows with capacity."""
    drawn = cache.get("hydro", [nd], plants, HYDRO_COLUMNS, lambda: _hydro_rows(plants, nd))
    if drawn is None:
        return None
    rows, count = drawn

    def code(var: str) -> str:
        return (f"var {var} = L.featureGroup();\n"
                f"(function () {{ var rows = {rows};\n"
                "  rows.forEach(function (r) {\n"
                f"    {var}.addLayer(L.circleMarker([r[0], r[1]], {{radius: r[2], weight: 1, "
                f"color: '{HYDRO_COLOUR}', fillColor: '{HYDRO_COLOUR}', fillOpacity: 0.35}})"
                ".bindTooltip(r[3]));\n"
                "  }); })();\n")

    return ScriptLayer(f"Hydro plants ({count:,})", code, count=count)


def _hydro_rows(plants: gpd.GeoDataFrame, nd: int) -> tuple[str, int] | None:
    """The hydro plants' rows as JSON text and their count (None: none to draw)."""
    keep = plants[(plants["fuel"].astype(str).str.lower() == "hydro").to_numpy()]
    keep = keep[~(keep.geometry.isna() | keep.geometry.is_empty)]
    if len(keep) == 0:
        return None
    keep = keep.sort_values("capacity_mw", ascending=False, kind="stable")  # small on top
    points = keep.geometry.representative_point()
    rows = [
        [round(p.y, nd) + 0.0, round(p.x, nd) + 0.0, hydro_radius(mw),
         f"<b>{_text(n)}</b><br>hydro · {_fmt(mw, ' MW')}"]
        for p, mw, n in zip(points, keep["capacity_mw"], keep["name"], strict=True)
    ]
    return js_json(rows), len(rows)


def hydro_radius(mw: Any) -> float:
    """Circle radius in pixels: area proportional to MW, 3 px to 22 px."""
    value = _num(mw) or 0.0
    return round(min(22.0, 3.0 + math.sqrt(max(value, 0.0)) / 2.5), 1)


def polygons(gdf: gpd.GeoDataFrame, name: str, tooltip: Callable[[Any], str],
             style: Callable[[Any], dict[str, Any]], tolerance: float, nd: int, *,
             show: bool = True, shapes: Sequence[str | None] | None = None,
             cache: LayerCache = OFF) -> ScriptLayer | None:
    """A polygon layer (gas basins, land price) with one style and tooltip per feature.

    ``shapes``: each row's drawn geometry (:func:`polygon_shapes`), if already drawn."""
    if shapes is None:
        shapes = cache.get("polygons", [tolerance, nd], gdf, ["geometry"],
                           lambda: polygon_shapes(gdf, tolerance, nd))
    # the collection's JSON is the features' JSON joined: js_json(collection) byte for byte
    features = [
        '{"type":"Feature","geometry":' + shape + ',"properties":'
        + js_json({"t": tooltip(row), "s": style(row)}) + "}"
        for shape, (_, row) in zip(shapes, gdf.iterrows(), strict=True) if shape is not None
    ]
    if not features:
        return None
    collection = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"

    def code(var: str) -> str:
        return (f"var {var} = L.geoJson({collection}, "
                "{style: function (f) { return f.properties.s; }, "
                "onEachFeature: function (f, l) { l.bindTooltip(f.properties.t, "
                "{sticky: true}); }});\n")

    return ScriptLayer(name, code, show=show, count=len(features))


def polygon_shapes(gdf: gpd.GeoDataFrame, tolerance: float, nd: int) -> list[str | None]:
    """Each row's geometry simplified and rounded, as GeoJSON text (None: no geometry)."""
    present = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    geoms = shapely.simplify(gdf.geometry.to_numpy()[present], tolerance,
                             preserve_topology=True)
    drawn = iter(geoms)
    return [js_json(_geojson(next(drawn), nd)) if p else None for p in present]


def gas_basins(gas: gpd.GeoDataFrame, tolerance: float, nd: int,
               cache: LayerCache = OFF) -> ScriptLayer | None:
    style = {"color": GAS_COLOUR, "weight": 1, "fillColor": GAS_COLOUR, "fillOpacity": 0.15}
    return polygons(
        gas, f"Gas basins ({len(gas):,})",
        lambda r: (f"<b>{_text(r.get('name'))}</b><br>{_text(r.get('kind'))} · "
                   f"{_fmt(r.get('production_bcf_per_day'), ' bcf/d', 1)}"),
        lambda r: style, tolerance, nd, cache=cache)


def land_breaks(prices: np.ndarray) -> list[float]:
    """Upper bounds of the five land-price classes (quantiles of the finite prices)."""
    finite = prices[np.isfinite(prices)]
    if finite.size == 0:
        return []
    return sorted({float(round(v, -1)) for v in np.quantile(finite, [0.2, 0.4, 0.6, 0.8])})


def land_colour(price: Any, breaks: list[float]) -> str | None:
    value = _num(price)
    if value is None:
        return None
    return LAND_COLOURS[min(sum(value > b for b in breaks), len(LAND_COLOURS) - 1)]


def land_vector(prices: gpd.GeoDataFrame, tolerance: float, nd: int,
                cache: LayerCache = OFF) -> tuple[ScriptLayer | None, list[float]]:
    """Land price polygons as a choropleth (hidden at first; the layer control shows it)."""
    breaks = land_breaks(prices["price_usd_per_acre"].astype(float).to_numpy())

    def style(row: Any) -> dict[str, Any]:
        colour = land_colour(row.get("price_usd_per_acre"), breaks)
        return {"color": "#666", "weight": 0.5, "fillColor": colour or "#ffffff",
                "fillOpacity": 0.55 if colour else 0.0}

    layer = polygons(
        prices, "Land price (USD per acre)",
        lambda r: (f"<b>{_text(r.get('name'))}</b><br>"
                   f"{_fmt(r.get('price_usd_per_acre'), ' USD/acre')} ({_text(r.get('year'))})"),
        style, tolerance, nd, show=False, cache=cache)
    return layer, breaks


def land_raster(path: str | Path, bounds: Sequence[float], unit: str | None,
                max_pixels: int = 1200) -> tuple[Any | None, list[float]]:
    """A land-price GeoTIFF as an image overlay (PNG data URI, Web-Mercator-projected)."""
    import rasterio
    from folium.raster_layers import ImageOverlay
    from rasterio.windows import from_bounds

    with rasterio.open(path) as src:
        factor = UNITS[raster_unit(src, unit, path)]
        if src.crs is not None and src.crs.to_epsg() != 4326:
            log.warning("land raster %s is not in EPSG:4326; not drawn on the map", path)
            return None, []
        west, south, east, north = bounds
        window = from_bounds(max(west, src.bounds.left), max(south, src.bounds.bottom),
                             min(east, src.bounds.right), min(north, src.bounds.top),
                             src.transform).round_offsets().round_lengths()
        if window.width < 1 or window.height < 1:
            return None, []
        scale = max(1.0, max(window.width, window.height) / max_pixels)
        shape = (max(1, int(window.height / scale)), max(1, int(window.width / scale)))
        data = src.read(1, window=window, out_shape=shape, masked=True).astype(float)
        w, s, e, n = rasterio.windows.bounds(window, src.transform)
    values = data.filled(np.nan) * factor
    breaks = land_breaks(values)
    rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
    index = np.digitize(np.nan_to_num(values, nan=-np.inf), breaks, right=True)
    palette = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in LAND_COLOURS])
    finite = np.isfinite(values)
    rgba[..., :3] = palette[np.clip(index, 0, len(LAND_COLOURS) - 1)]
    rgba[..., 3] = np.where(finite, 170, 0)
    overlay = ImageOverlay(rgba, bounds=[[s, w], [n, e]], mercator_project=True,
                           name="Land price (USD per acre, raster)", show=False)
    return overlay, breaks


def outline(geom: Any, name: str, tolerance: float, nd: int, *, fill: str | None = None,
            overlay: bool = True) -> ScriptLayer | None:
    """A boundary drawn as outlines (optionally filled: the offline basemap)."""
    if geom is None or geom.is_empty:
        return None
    simple = shapely.simplify(geom, tolerance, preserve_topology=True)
    paths: list[Any] = _paths(shapely.boundary(simple) if fill is None else simple, nd)
    if fill is not None:
        paths = [[p] for p in paths]  # one polygon per ring: no ring becomes a hole
    style = ({"color": BOUNDARY_COLOUR, "weight": 2, "fill": False, "dashArray": "6 4"}
             if fill is None else
             {"color": "#9a9a9a", "weight": 0.8, "fillColor": fill, "fillOpacity": 1.0})
    shape = "polyline" if fill is None else "polygon"

    def code(var: str) -> str:
        return (f"var {var} = L.{shape}({js_json(paths)}, "
                f"{js_json({**style, 'interactive': False})});\n")

    return ScriptLayer(name, code, overlay=overlay, count=len(paths))
