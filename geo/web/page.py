"""Folium HTML maps of a ranking: sites, the grid around them, land and gas, provenance.

:func:`render` draws the ranked sites (numbered by rank, coloured by tier, popup table and
tooltip) over the context layers of :mod:`geo.web.layers` (substations, lines by voltage
class, hydro plants, gas basins, land price, the region boundary), with a layer control, a
legend, a scale bar, a fullscreen button and the provenance in a small panel.

A surface (H3 candidates, or more than ``Settings.map_surface_min_sites`` sites) is not one
marker per site: :mod:`geo.web.surface` merges it into coarser H3 display cells coloured by
the best tier inside, and only the best ``top`` sites (one per point of interconnection) are
markers. The national res-6 and res-7 surfaces make maps of about 2 MB.

Assets: Leaflet and its plugins are vendored (``geo/web/_assets``) and inlined into every map
by :mod:`geo.web.assets`, so the only network requests are base tiles; ``offline=True``
also drops the tiles (state outlines serve as the basemap) and the file opens with no
network at all.

Every string taken from data is HTML-escaped, and ``$``, backtick, backslash and braces
are written as character references too: folium places tooltip content inside
JavaScript template literals, where ``${...}`` would run and a stray backtick would end the
string, and it feeds the rendered script of each element through Jinja a second time, where
``{{ ... }}`` in a substation name would be evaluated (in Python, at render time).

The HTML is byte-identical for identical input: folium gives every element a random id,
which :func:`render` replaces by a counter in order of first appearance.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from geo.errors import (
    DataSourceError,
    DependencyError,
    GeoRankError,
    LayerValidationError,
    SettingsError,
)
from geo.io.output import atomic_output
from geo.secure import N1_SECURE_SET_ASIDE
from geo.settings import Settings
from geo.web import assets as _map_assets
from geo.web import layer_cache
from geo.web import legend as _map_legend
from geo.web import markers as _markers
from geo.web import surface as _map_surface
from geo.web.style import (
    SITE_CLASS,
    TIER_COLOURS,
    TIER_LABELS,
    UNKNOWN_COLOUR,
    escape,
)
from layers import read_layer

log = logging.getLogger(__name__)

__all__ = ["SITE_CLASS", "TIER_COLOURS", "TIER_LABELS", "UNKNOWN_COLOUR", "check_target",
           "check_tiles", "escape", "render"]

#: ``<meta name="generator">`` content that marks a map as geo-rank's (overwrite guard).
GENERATOR = "geo-rank"
#: Base tiles of the online map (an xyzservices name; light, so the data stands out).
DEFAULT_TILES = "Esri.WorldGrayCanvas"
_HEX_ID = re.compile(r"[0-9a-f]{32}")


def render(
    sites: gpd.GeoDataFrame, path: str | Path, provenance: Mapping[str, Any], *,
    layers: Any | None = None, title: str | None = None, tiles: str | None = None,
    tiles_attribution: str | None = None, offline: bool = False,
    land_prices: str | Path | None = None, land_unit: str | None = None,
    overwrite: bool = False, surface: gpd.GeoDataFrame | None = None, top: int = 25,
    settings: Settings | None = None, highlight: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write an HTML map of ranked sites coloured by tier, over the region's context layers.

    Parameters
    ----------
    sites
        Ranked sites (any CRS; drawn in WGS84).
    path
        Output HTML file (written atomically; the folder is created).
    provenance
        From :func:`geo.provenance.build_provenance`; shown in the map's panel.
    layers
        The :class:`layers.Layers` of the ranking (``RankResult.layers``); without them
        only the sites are drawn.
    title
        Page title and panel heading; defaults to ``"geo-rank sites: <region>"``.
    tiles, tiles_attribution
        Base tiles: an xyzservices/folium name (default :data:`DEFAULT_TILES`) or a URL
        template with ``{z}/{x}/{y}``, which needs an attribution.
    offline
        No base tiles (state outlines instead) unless ``tiles`` is given (e.g. a tile
        server inside an air-gapped network); the file makes no network request.
    land_prices, land_unit
        The user's land prices the ranking used (a GeoTIFF is drawn as an image overlay,
        polygons as a choropleth); default: the embedded polygons of ``layers``.
    overwrite
        Replace an existing file even if geo-rank did not write it (geo-rank's maps carry
        ``<meta name="generator" content="geo-rank ...">`` and are always replaced).
    surface
        Every candidate of the ranking (``RankResult.ranked``), drawn as a surface
        (:mod:`geo.web.surface`) under the markers of the best ``top`` of ``sites``. Without
        it, ``sites`` themselves are drawn as a surface when they are H3 cells or more than
        ``settings.map_surface_min_sites``; otherwise each site is a marker.
    top
        Markers drawn over a surface: the best sites, one per point of interconnection.
    settings
        ``map_surface_min_sites`` and ``map_surface_max_cells`` (default: the defaults);
        ``use_cache`` and ``cache_dir``: where the context layers' drawing is kept
        (:mod:`geo.web.layer_cache`).
    highlight
        Lines to draw on top in red with their ``label`` as tooltip (the limiting lines a
        portfolio's sites share, :mod:`geo.portfolio`).

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
    SettingsError
        ``tiles`` is neither a known name nor a URL template with an attribution.
    """
    try:  # folium is a core dependency, but `import geo.web` works without it
        import folium
        from branca.element import Element
        from folium.plugins import Fullscreen
    except ImportError as exc:  # pragma: no cover - folium is a core dependency
        raise DependencyError("folium is needed for maps: pip install folium") from exc

    path = check_target(path, overwrite=overwrite)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise SettingsError(f"--top {top!r}: must be a whole number of at least 1")
    settings = settings or Settings()
    wgs84 = _wgs84(sites)
    if surface is None and _map_surface.is_surface(wgs84, settings.map_surface_min_sites):
        surface = wgs84
    if surface is not None:
        surface = _located(_wgs84(surface), _map_surface.COLUMNS)
        wgs84 = _map_surface.top_sites(wgs84, top)
    located = _located(wgs84)
    points = located.geometry.representative_point()
    heading = title or f"geo-rank sites: {provenance.get('region', '')}"

    fmap = folium.Map(location=_centre(points), zoom_start=5, control_scale=True,
                      tiles=None, prefer_canvas=True)
    # folium gives max_zoom to a tile layer only, and markercluster needs it on the map; the
    # camel-case key renders as is in folium 0.17 and in newer releases
    fmap.options["maxZoom"] = 18
    figure: Any = fmap.get_root()
    figure.title = escape(heading)
    figure.header.add_child(
        Element(f'<meta name="generator" content="{GENERATOR} '
                f'{escape(provenance.get("version", "?"))}">'),
        name="generator",
    )
    figure.header.add_child(_map_assets.raw_element(_map_legend.css(offline)), name="geo-rank-css")
    base = _tile_layer(folium, tiles, tiles_attribution, offline)
    if base is not None:
        base.add_to(fmap)
    legend: dict[str, Any] = {}
    hexagons = None
    if surface is not None and len(surface):
        hexagons, res, cells = _map_surface.layer(surface, settings.map_surface_max_cells)
        legend["surface"] = (len(surface), res, cells)
    if layers is not None:
        legend |= _context(fmap, layers, offline=offline and base is None,
                           land_prices=land_prices, land_unit=land_unit, surface=hexagons,
                           sites=located, cache=layer_cache.LayerCache.of(settings))
    elif hexagons is not None:
        hexagons.add_to(fmap)
    if highlight is not None and len(highlight):
        shown = _wgs84(highlight)[["label", "geometry"]]
        group = folium.FeatureGroup(name="Limiting lines (portfolio)", show=True)
        folium.GeoJson(shown.__geo_interface__, tooltip=folium.GeoJsonTooltip(["label"]),
                       style_function=lambda _: {"color": "#d7191c", "weight": 5,
                                                 "opacity": 0.9}).add_to(group)
        group.add_to(fmap)
    if "redundancy" in located and (located["redundancy"] == N1_SECURE_SET_ASIDE).any():
        legend["secure_star"] = True       # the legend says what the star means
    ranks = _markers.ranks(located)
    _markers.sites_layer(located, points, ranks, surface is not None).add_to(fmap)
    # open on the sites (a surface: its cells), else on the region; never on a country's
    # far islands (Norway's bounds reach Svalbard)
    extent = (surface.total_bounds if surface is not None and len(surface) else
              points.total_bounds if len(located) else
              layers.boundary.bounds if layers is not None and not layers.boundary.is_empty
              else None)
    if extent is not None:
        west, south, east, north = (round(float(v), 7) for v in extent)
        fmap.fit_bounds([[south, west], [north, east]], padding=(10, 10), max_zoom=9)
    Fullscreen(position="topleft").add_to(fmap)
    folium.LayerControl(position="topright", collapsed=False).add_to(fmap)
    figure.html.add_child(_map_assets.raw_element(_map_legend.panel(heading, provenance, legend)),
                          name="geo-rank-panel")
    _map_assets.inline(fmap)

    page = stable_ids(fmap, fmap.get_root().render())
    with atomic_output(path) as tmp:
        tmp.write_text(page, encoding="utf-8", newline="\n")
    log.info("wrote a map of %d sites to %s (%.1f MB)", len(located), path,
             len(page.encode("utf-8")) / 1e6)
    return path


def check_tiles(tiles: str | None, attribution: str | None, offline: bool) -> str | None:
    """The base-tile name or URL a map will use (None: no tiles), or a SettingsError.

    Called before any output is written, so a bad ``--tiles`` leaves no file behind.
    """
    if tiles is None and offline:
        return None
    import xyzservices  # installed with folium

    name = tiles or DEFAULT_TILES
    try:
        xyzservices.providers.query_name(name)
        known = True
    except ValueError:
        known = name.lower() == "openstreetmap"
    if not known and not ("{z}" in name and "{x}" in name and "{y}" in name):
        raise SettingsError(f"--tiles {name!r}: not a known tile provider; use a name such as "
                            f"{DEFAULT_TILES!r} or 'OpenStreetMap', or a URL template with "
                            "{z}/{x}/{y} and --tiles-attribution")
    if not known and not attribution:
        raise SettingsError(f"--tiles {name!r}: a custom tile URL needs --tiles-attribution "
                            "(the data owner's credit line)")
    return name


def check_target(path: str | Path, *, overwrite: bool) -> Path:
    """Refuse to replace a file that geo-rank did not write, unless ``overwrite``."""
    path = Path(path)
    if not overwrite and path.is_file() and not _written_by_geo_rank(path):
        raise DataSourceError(
            f"{path} exists and was not written by geo-rank; pass --overwrite to replace it"
        )
    return path


def _tile_layer(folium: Any, tiles: str | None, attribution: str | None,
                offline: bool) -> Any | None:
    name = check_tiles(tiles, attribution, offline)
    if name is None:
        return None
    return folium.TileLayer(name, attr=escape(attribution) if attribution else None,
                            name="Base map")


def _context(fmap: Any, bundle: Any, *, offline: bool, land_prices: str | Path | None,
             land_unit: str | None, surface: Any | None = None,
             sites: gpd.GeoDataFrame | None = None,
             cache: layer_cache.LayerCache = layer_cache.OFF) -> dict[str, Any]:
    """Add the context layers (bottom to top) and return what the legend should explain.

    ``surface`` (hexagons of a surface) goes above the land prices, under the grid; the
    ISO/RTO and balancing-authority outlines (off by default) name the utilities of
    ``sites`` (the shown sites) in their tooltips. ``cache`` keeps the layers' drawing
    (:mod:`geo.web.layer_cache`)."""
    from geo.web import layers as ml  # built on folium: imported after render checked it
    from geo.web import territories as who

    boundary = bundle.boundary
    tol = ml.tolerance_for(boundary.bounds)
    nd = ml.decimals_for(tol)
    legend: dict[str, Any] = {}
    added: list[Any] = []
    if offline:
        added.append(ml.outline(
            union_all(bundle.subdivisions.geometry), "States (offline basemap)", tol, nd,
            fill="#f4f3ef", overlay=False))
    user_raster = land_prices is not None and Path(land_prices).suffix.lower() in (
        ".tif", ".tiff", ".vrt")
    if user_raster:
        land, breaks = ml.land_raster(land_prices, boundary.bounds, land_unit)  # type: ignore[arg-type]
    else:
        prices = bundle.land_prices
        if land_prices is not None:
            try:
                prices = read_layer(Path(land_prices), "land_prices")
            except GeoRankError as exc:  # e.g. a --price-column the map does not know
                log.warning("map: drawing the embedded land prices, not %s (%s)",
                            land_prices, exc)
        land, breaks = ml.land_vector(prices[prices.intersects(boundary)], tol, nd, cache)
    if land is not None:
        added.append(land)
        legend["land"] = breaks
    added.append(surface)
    if "territories" in bundle:
        added.extend(who.overlays(bundle.in_region("territories"),
                                  sites if sites is not None else gpd.GeoDataFrame(),
                                  tol, nd, boundary.bounds, cache))
    gas = ml.gas_basins(bundle.in_region("gas_fields"), tol, nd, cache)
    added.append(gas)
    legend["gas"] = gas is not None
    line_layer = ml.lines(bundle.in_region("lines"), tol, nd, cache)
    added.append(line_layer)
    legend["lines"] = line_layer is not None
    hydro = ml.hydro(bundle.in_region("plants"), nd, cache)
    added.append(hydro)
    legend["hydro"] = hydro is not None
    added.append(ml.substations(bundle.in_region("substations"), nd, cache))
    added.append(ml.outline(boundary, f"Region boundary ({bundle.region})", tol, nd))
    for layer in added:
        if layer is not None:
            layer.add_to(fmap)
    return legend


def union_all(geoms: gpd.GeoSeries) -> Any:
    return shapely.union_all(geoms.to_numpy()) if len(geoms) else None


def _wgs84(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if sites.crs is None:
        raise LayerValidationError("sites have no CRS; set it first, e.g. "
                                   "sites.set_crs('EPSG:4326')")
    return sites if sites.crs.to_epsg() == 4326 else sites.to_crs(4326)


def _located(sites: gpd.GeoDataFrame, keep: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """The rows with a geometry (only the ``keep`` columns and the geometry, if given)."""
    geoms = sites.geometry
    if keep is not None:
        sites = sites[[c for c in sites.columns if c in keep or c == geoms.name]]
    missing = (geoms.isna() | geoms.is_empty).to_numpy()
    return sites[~missing] if missing.any() else sites


def _written_by_geo_rank(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR} '.encode() in head


def _centre(points: gpd.GeoSeries) -> list[float]:
    if len(points) == 0:
        return [0.0, 0.0]
    west, south, east, north = points.total_bounds
    return [round(float(south + north) / 2, 7), round(float(west + east) / 2, 7)]


def stable_ids(fmap: Any, page: str) -> str:
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
