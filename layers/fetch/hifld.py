"""HIFLD transmission lines and substations through an ArcGIS FeatureServer ``/query``.

Pages of :attr:`FetchSettings.page_size` features are requested with ``resultOffset`` as
GeoJSON in EPSG:4326 (``outSR=4326``) for the features that intersect the bounding box, until
a page is short and the server no longer says ``exceededTransferLimit``. The pages are merged
into one FeatureCollection (a feature repeated across pages, by ``id``, is kept once).

The layer URLs are settings (:attr:`FetchSettings.hifld_lines_url`,
:attr:`FetchSettings.hifld_substations_url`) because HIFLD moved its services in 2025; any
ArcGIS FeatureServer layer with the same fields answers the same query.
"""

from __future__ import annotations

import logging
from typing import Any

from layers.errors import DataSourceError
from layers.fetch._common import BBox, check_bbox, fmt_deg, provenance
from layers.fetch.http import HttpClient, Request
from layers.fetch.settings import FetchSettings

log = logging.getLogger(__name__)

#: geo-rank source name -> (setting holding the layer URL, dataset title).
LAYERS = {
    "hifld-lines": ("hifld_lines_url", "HIFLD Electric Power Transmission Lines"),
    "hifld-substations": ("hifld_substations_url", "HIFLD Electric Substations"),
}


def query_params(bbox: BBox, offset: int, page_size: int) -> dict[str, str | int]:
    """Parameters of one page of an ArcGIS ``/query`` over a bounding box (EPSG:4326)."""
    return {
        "where": "1=1",
        "outFields": "*",
        "outSR": 4326,
        "f": "geojson",
        "resultOffset": offset,
        "resultRecordCount": page_size,
        "geometry": ",".join(fmt_deg(v) for v in bbox),
        "geometryType": "esriGeometryEnvelope",
        "inSR": 4326,
        "spatialRel": "esriSpatialRelIntersects",
    }


def fetch_layer(source: str, bbox: BBox, client: HttpClient,
                settings: FetchSettings | None = None) -> dict[str, Any]:
    """Fetch a HIFLD layer (``"hifld-lines"`` or ``"hifld-substations"``) inside ``bbox``.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection (RFC 7946, lon/lat) of every page, with a ``geo_rank``
        member holding the provenance (layer URL, bbox, pages, time of fetch).
    """
    settings = settings or client.settings
    setting, title = LAYERS[source]
    url = getattr(settings, setting)
    doc = fetch_arcgis(url, bbox, client, settings)
    doc["geo_rank"] = provenance(title, layer_url=url, url_setting=setting, **doc["geo_rank"])
    return doc


def fetch_arcgis(url: str, bbox: BBox, client: HttpClient,
                 settings: FetchSettings | None = None) -> dict[str, Any]:
    """Page through an ArcGIS FeatureServer layer's ``/query`` URL; see :func:`fetch_layer`."""
    settings = settings or client.settings
    bbox = check_bbox(bbox)
    size = settings.page_size
    features: list[dict[str, Any]] = []
    seen: set[Any] = set()
    offset, pages = 0, 0
    while True:
        request = Request.get(url, query_params(bbox, offset, size))
        page, exceeded = _page(client, request, url)
        pages += 1
        for feature in page:
            fid = feature.get("id")
            if fid is not None:
                if fid in seen:
                    continue
                seen.add(fid)
            features.append(feature)
        log.info("ArcGIS page %d (offset %d): %d feature(s)%s", pages, offset, len(page),
                 ", more to come" if exceeded else "")
        if len(page) < size and not exceeded:
            break
        if not page:
            log.warning("%s said exceededTransferLimit on an empty page at offset %d; stopping",
                        url, offset)
            break
        if pages >= settings.max_pages:
            raise DataSourceError(
                f"{url} still had more features after {pages} pages of {size}; "
                "raise the max_pages setting or fetch a smaller --bbox"
            )
        offset += len(page)  # the server may cap a page below resultRecordCount
    return {"type": "FeatureCollection", "features": features,
            "geo_rank": {"bbox": list(bbox), "pages": pages, "page_size": size}}


def _page(client: HttpClient, request: Request, url: str) -> tuple[list[dict[str, Any]], bool]:
    doc = client.fetch_json(request, f"GET {url}", "check the layer URL setting")
    if isinstance(doc, dict) and "error" in doc:  # ArcGIS reports errors with HTTP 200
        client.forget(request)
        err = doc["error"] if isinstance(doc["error"], dict) else {"message": doc["error"]}
        details = "; ".join(str(d) for d in err.get("details") or [])
        raise DataSourceError(
            f"GET {url} answered ArcGIS error {err.get('code', '?')}: "
            f"{' '.join(str(err.get('message', '')).split())}"
            f"{' (' + ' '.join(details.split()) + ')' if details else ''}; "
            "check the layer URL setting (HIFLD moved its services in 2025)"
        )
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        client.forget(request)
        raise DataSourceError(
            f"GET {url} did not answer a GeoJSON FeatureCollection; "
            "is it an ArcGIS FeatureServer layer's /query URL?"
        )
    props = doc.get("properties") or {}
    exceeded = bool(props.get("exceededTransferLimit") or doc.get("exceededTransferLimit"))
    return list(doc.get("features") or []), exceeded
