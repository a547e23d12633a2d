"""Download public grid data for users who have the internet (``geo-rank fetch``).

This is the only part of geo-rank that touches the network; everything else reads files.

Sources
-------
``osm``
    OpenStreetMap power features (substations, lines, cables, plants) through the Overpass
    API, tile by tile → ``<out>/osm_<region>.json`` (one merged Overpass JSON document).
``hifld-lines``, ``hifld-substations``
    HIFLD layers through their ArcGIS FeatureServer ``/query`` →
    ``<out>/hifld-lines_<region>.geojson`` (one FeatureCollection of every page).
``eia860``
    The EIA-860 annual zip → ``<out>/eia860<year>.zip`` plus ``2___Plant_Y<year>.xlsx`` and
    ``3_1_Generator_Y<year>.xlsx`` (national; the region is not used).

Every file is written atomically (a temporary file, then a rename), so an interrupted fetch
leaves no half-written output; responses are cached, so rerunning it resumes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.fetch.settings import FetchSettings
from layers.lazy import getattr_of

if TYPE_CHECKING:
    from layers.fetch._common import BBox, parse_bbox
    from layers.fetch.download import (
        SOURCES,
        fetch,
        output_paths,
        region_bbox,
        region_outline,
    )
    from layers.fetch.http import HttpClient, Request, Transport

__all__ = [
    "SOURCES",
    "BBox",
    "FetchSettings",
    "HttpClient",
    "Request",
    "Transport",
    "fetch",
    "output_paths",
    "parse_bbox",
    "region_bbox",
    "region_outline",
]

#: Public name -> the module that defines it (PEP 562: imported on first use; the settings
#: are read by every geo-rank command, the downloads only by ``geo-rank fetch``).
_LAZY = {"BBox": "layers.fetch._common", "parse_bbox": "layers.fetch._common",
         "HttpClient": "layers.fetch.http", "Request": "layers.fetch.http",
         "Transport": "layers.fetch.http",
         **{name: "layers.fetch.download" for name in ("SOURCES", "fetch", "output_paths",
                                                       "region_bbox", "region_outline")}}

__getattr__ = getattr_of(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
