"""OpenStreetMap power features through the Overpass API, tile by tile.

The bounding box is cut into tiles of :attr:`FetchSettings.tile_deg` degrees (rows south to
north, west to east within a row); each tile is one POSTed query. A tile the server cannot
finish (a ``remark`` with "runtime error" or "timeout") is split into four and asked again,
up to :attr:`FetchSettings.max_split_depth` times. The tiles' ``elements`` are merged into one
Overpass JSON document, deduplicated by type and id (a line crossing tiles comes back from
each) and sorted, which is what the OSM adapter reads.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import DataSourceError, SettingsError
from layers.fetch._common import BBox, check_bbox, fmt_deg, provenance
from layers.fetch.http import HttpClient, Request
from layers.fetch.settings import FetchSettings

log = logging.getLogger(__name__)

#: Power features geo-rank reads: substations (and the old ``sub_station`` spelling), lines,
#: cables and plants, as nodes, ways and relations with their full geometry.
QUERY = (
    '[out:json][timeout:{timeout}];'
    '(nwr["power"~"^(substation|sub_station|line|cable|plant)$"]({s},{w},{n},{e}););'
    'out geom;'
)

#: Tiles within this distance of a region's outline are fetched (the embedded outlines are
#: 1:10m-1:50m cartography; coastal substations can sit just outside them).
OUTLINE_MARGIN_DEG = 0.1

_TYPE_ORDER = {"node": 0, "way": 1, "relation": 2}


def query(bbox: BBox, timeout_s: int = 180) -> str:
    """The Overpass QL for one tile (Overpass orders a bbox south, west, north, east).

    >>> query((10.0, 59.5, 11.0, 60.0))  # doctest: +ELLIPSIS
    '[out:json][timeout:180];(nwr["power"~...](59.5,10,60,11););out geom;'
    """
    w, s, e, n = bbox
    return QUERY.format(timeout=timeout_s, s=fmt_deg(s), w=fmt_deg(w), n=fmt_deg(n),
                        e=fmt_deg(e))


def tiles(bbox: BBox, tile_deg: float) -> list[BBox]:
    """Tiles of ``tile_deg`` covering ``bbox``: rows south to north, west to east in a row.

    The last row and column are cut at the box's edge.

    >>> tiles((10.0, 59.0, 11.5, 60.0), 1.0)
    [(10.0, 59.0, 11.0, 60.0), (11.0, 59.0, 11.5, 60.0)]
    """
    w, s, e, n = check_bbox(bbox)
    if not tile_deg > 0:
        raise SettingsError(f"tile size must be > 0 degrees, not {tile_deg}")
    xs = _edges(w, e, tile_deg)
    ys = _edges(s, n, tile_deg)
    return [(xs[i], ys[j], xs[i + 1], ys[j + 1])
            for j in range(len(ys) - 1) for i in range(len(xs) - 1)]


def split(bbox: BBox) -> list[BBox]:
    """The four quarters of a tile: south-west, south-east, north-west, north-east.

    >>> split((10.0, 59.0, 11.0, 60.0))  # doctest: +NORMALIZE_WHITESPACE
    [(10.0, 59.0, 10.5, 59.5), (10.5, 59.0, 11.0, 59.5),
     (10.0, 59.5, 10.5, 60.0), (10.5, 59.5, 11.0, 60.0)]
    """
    w, s, e, n = bbox
    mx, my = round((w + e) / 2, 7), round((s + n) / 2, 7)
    return [(w, s, mx, my), (mx, s, e, my), (w, my, mx, n), (mx, my, e, n)]


def merge(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Elements deduplicated by (type, id), the first copy kept, sorted node-way-relation, id."""
    unique: dict[tuple[str, int], dict[str, Any]] = {}
    for el in elements:
        unique.setdefault((el["type"], el["id"]), el)
    return [unique[k] for k in sorted(unique, key=lambda k: (_TYPE_ORDER.get(k[0], 9), k[0], k[1]))]


def fetch_osm(bbox: BBox, client: HttpClient, settings: FetchSettings | None = None,
              within: BaseGeometry | None = None) -> dict[str, Any]:
    """Fetch the power features in ``bbox`` as one merged Overpass JSON document.

    Parameters
    ----------
    bbox
        (min lon, min lat, max lon, max lat), EPSG:4326.
    client
        The HTTP client (its settings give the delay, retries and cache).
    settings
        Endpoint, tile size, query timeout and split depth; default ``client.settings``.
    within
        A region's outline: tiles farther than :data:`OUTLINE_MARGIN_DEG` from it (open sea,
        the space between a country's mainland and its islands) are not asked for.

    Returns
    -------
    dict
        ``version``, ``generator``, ``osm3s`` of the first tile, the merged ``elements`` and a
        ``geo_rank`` member with the provenance (endpoint, bbox, tiles, time of fetch).
    """
    settings = settings or client.settings
    grid = tiles(bbox, settings.tile_deg)
    if within is not None:
        near = within.buffer(OUTLINE_MARGIN_DEG)
        kept = [t for t in grid if near.intersects(shapely.box(*t))]
        log.info("Overpass: %d of %d tile(s) touch the region", len(kept), len(grid))
        grid = kept
    log.info("Overpass: %d tile(s) of %g degrees", len(grid), settings.tile_deg)
    elements: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    answered: list[BBox] = []
    for i, tile in enumerate(grid, 1):
        log.info("Overpass tile %d/%d: %s", i, len(grid), tile)
        _fetch_tile(client, settings, tile, 0, elements, heads, answered)
    merged = merge(elements)
    head = heads[0] if heads else {}
    stamps = sorted(h.get("osm3s", {}).get("timestamp_osm_base", "") for h in heads) or [""]
    return {
        "version": head.get("version", 0.6),
        "generator": head.get("generator", "Overpass API"),
        "osm3s": head.get("osm3s", {}),
        "elements": merged,
        "geo_rank": provenance(
            "OpenStreetMap through the Overpass API",
            licence="ODbL 1.0, (c) OpenStreetMap contributors",
            endpoint=settings.overpass_url,
            bbox=list(bbox),
            tile_deg=settings.tile_deg,
            tiles_outside_region_skipped=len(tiles(bbox, settings.tile_deg)) - len(grid),
            tiles_queried=len(answered),
            timestamp_osm_base_oldest=stamps[0],
            timestamp_osm_base_newest=stamps[-1],
            query=QUERY,
        ),
    }


def _fetch_tile(client: HttpClient, settings: FetchSettings, tile: BBox, depth: int,
                elements: list[dict[str, Any]], heads: list[dict[str, Any]],
                answered: list[BBox]) -> None:
    request = Request.post_form(settings.overpass_url,
                                {"data": query(tile, settings.overpass_timeout_s)})
    doc = client.fetch_json(request, f"POST {settings.overpass_url} for tile {_fmt_tile(tile)}",
                            "check the overpass_url setting")
    remark = str(doc.get("remark") or "")
    if _is_runtime_error(remark):
        client.forget(request)  # a timeout is not an answer worth keeping
        if depth >= settings.max_split_depth:
            raise DataSourceError(
                f"Overpass could not finish tile {_fmt_tile(tile)} even after splitting it "
                f"{depth} time(s): {' '.join(remark.split())}; use a smaller --tile-deg, "
                "a longer wait (--delay-s) or another Overpass instance"
            )
        log.warning("Overpass tile %s: %s; splitting it in four", _fmt_tile(tile), remark)
        for quarter in split(tile):
            _fetch_tile(client, settings, quarter, depth + 1, elements, heads, answered)
        return
    if remark:
        log.warning("Overpass tile %s remarks: %s", _fmt_tile(tile), remark)
    elements.extend(doc.get("elements") or [])
    heads.append({k: doc[k] for k in ("version", "generator", "osm3s") if k in doc})
    answered.append(tile)


def _is_runtime_error(remark: str) -> bool:
    low = remark.lower()
    return "runtime error" in low or "timeout" in low or "timed out" in low


def _edges(lo: float, hi: float, step: float) -> list[float]:
    count = max(1, math.ceil((hi - lo) / step - 1e-9))
    return [round(lo + k * step, 7) for k in range(count)] + [hi]


def _fmt_tile(tile: BBox) -> str:
    return ",".join(fmt_deg(v) for v in tile)
