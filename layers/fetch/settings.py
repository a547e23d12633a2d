"""Settings of ``geo-rank fetch``: endpoints, politeness and paging, each with its source.

``layers`` never imports ``geo``, so the fetch settings live here rather than in
:class:`geo.settings.Settings`; both derive from :class:`layers.settings.SettingsBase` (typed
fields with limits, one error line). The CLI overrides them with
``FetchSettings().replace(...)`` and from the ``[fetch]`` table of a ``--config`` file.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import platformdirs
from pydantic import Field

from layers.settings import SettingsBase

#: The first EIA-860 year published as a zip of workbooks (eia860 archive page).
EIA860_FIRST_YEAR = 2001

#: Endpoints are web addresses.
_URL = r"^https?://"


class FetchSettings(SettingsBase):
    """Every tunable of the downloaders, with its default, its limits and its source."""

    kind: ClassVar[str] = "fetch settings"

    # --- endpoints (settings because public services move) ----------------------------------
    #: Overpass API interpreter: the main public instance (see the OSM wiki, "Overpass API").
    #: Mirrors such as ``https://overpass.kumi.systems/api/interpreter`` answer the same query.
    overpass_url: str = Field(default="https://overpass-api.de/api/interpreter", pattern=_URL)
    #: HIFLD Open "Electric Power Transmission Lines", ArcGIS FeatureServer layer 0, ``/query``.
    #: HIFLD moved and retired HIFLD Open services in 2025: if this URL answers 400/404, point
    #: the setting at the layer's current FeatureServer (any ArcGIS mirror of the layer works).
    hifld_lines_url: str = Field(
        default="https://services1.arcgis.com/Hp6G80Pky0om7QvQ/arcgis/rest/services/"
        "Electric_Power_Transmission_Lines/FeatureServer/0/query",
        pattern=_URL,
    )
    #: HIFLD Open "Electric Substations", layer 0, ``/query`` (same caveat as the lines).
    hifld_substations_url: str = Field(
        default="https://services1.arcgis.com/Hp6G80Pky0om7QvQ/arcgis/rest/services/"
        "Electric_Substations/FeatureServer/0/query",
        pattern=_URL,
    )
    #: EIA-860 annual zip (www.eia.gov/electricity/data/eia860/); ``{year}`` is filled in.
    eia860_url: str = Field(
        default="https://www.eia.gov/electricity/data/eia860/xls/eia860{year}.zip", pattern=_URL
    )
    #: Where EIA moves older years' zips; tried when the first URL is missing or not a zip.
    eia860_archive_url: str = Field(
        default="https://www.eia.gov/electricity/data/eia860/archive/xls/eia860{year}.zip",
        pattern=_URL,
    )

    # --- politeness and robustness -----------------------------------------------------
    #: Minimum seconds between two network requests (cache hits do not count). Overpass asks
    #: clients to share its two slots per IP fairly; 1 s between tiles is our choice.
    delay_s: float = Field(default=1.0, ge=0)
    #: Socket timeout per request; above the 180 s the Overpass query itself may run. Our
    #: choice.
    timeout_s: float = Field(default=240.0, gt=0)
    #: Retries after a 429, a 5xx or a connection failure (so up to max_retries + 1 attempts).
    #: Our choice.
    max_retries: int = Field(default=4, ge=0)
    #: First backoff; doubles each retry (5, 10, 20, 40 s), unless ``Retry-After`` asks longer.
    #: Our choice.
    backoff_s: float = Field(default=5.0, ge=0)
    #: Longest single wait, even when ``Retry-After`` asks for more. Our choice.
    max_backoff_s: float = Field(default=300.0, ge=0)
    #: Keep successful responses on disk keyed by URL and body hash (a rerun refetches nothing).
    use_cache: bool = True
    cache_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("geo-rank")) / "fetch",
        strict=False,
    )

    # --- Overpass ---------------------------------------------------------------------
    #: Tile edge in degrees; 1 degree of power features fits the public instance's limits in
    #: most places (dense grids in Europe may need 0.5). Our choice.
    tile_deg: float = Field(default=1.0, gt=0, le=360)
    #: ``[timeout:...]`` of each Overpass query, seconds (the public instance allows 180 by
    #: default before it asks for more memory/time budget).
    overpass_timeout_s: int = Field(default=180, ge=1)
    #: A tile that times out is split into four, at most this many times. Our choice.
    max_split_depth: int = Field(default=3, ge=0)

    # --- ArcGIS (HIFLD) ----------------------------------------------------------------
    #: ``resultRecordCount`` per page; 2000 is ArcGIS Online's default ``maxRecordCount``.
    page_size: int = Field(default=2000, ge=1)
    #: Safety stop for a server that keeps saying ``exceededTransferLimit``. Our choice.
    max_pages: int = Field(default=10_000, ge=1)

    # --- EIA-860 ----------------------------------------------------------------------
    #: Default EIA-860 year (the final 2023 release, published 2024).
    eia860_year: int = Field(default=2023, ge=EIA860_FIRST_YEAR)
