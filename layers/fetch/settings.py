"""Settings of ``geo-rank fetch``: endpoints, politeness and paging, each with its source.

``layers`` never imports ``geo``, so the fetch settings live here rather than in
:class:`geo.settings.Settings`; the CLI overrides them with ``FetchSettings().replace(...)``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from layers.errors import SettingsError


@dataclass(frozen=True)
class FetchSettings:
    """Every tunable of the downloaders, with its default and where the default comes from."""

    # --- endpoints (settings because public services move) ----------------------------------
    #: Overpass API interpreter: the main public instance (see the OSM wiki, "Overpass API").
    #: Mirrors such as ``https://overpass.kumi.systems/api/interpreter`` answer the same query.
    overpass_url: str = "https://overpass-api.de/api/interpreter"
    #: HIFLD Open "Electric Power Transmission Lines", ArcGIS FeatureServer layer 0, ``/query``.
    #: HIFLD moved and retired HIFLD Open services in 2025: if this URL answers 400/404, point
    #: the setting at the layer's current FeatureServer (any ArcGIS mirror of the layer works).
    hifld_lines_url: str = (
        "https://services1.arcgis.com/Hp6G80Pky0om7QvQ/arcgis/rest/services/"
        "Electric_Power_Transmission_Lines/FeatureServer/0/query"
    )
    #: HIFLD Open "Electric Substations", layer 0, ``/query`` (same caveat as the lines).
    hifld_substations_url: str = (
        "https://services1.arcgis.com/Hp6G80Pky0om7QvQ/arcgis/rest/services/"
        "Electric_Substations/FeatureServer/0/query"
    )
    #: EIA-860 annual zip (www.eia.gov/electricity/data/eia860/); ``{year}`` is filled in.
    eia860_url: str = "https://www.eia.gov/electricity/data/eia860/xls/eia860{year}.zip"
    #: Where EIA moves older years' zips; tried when the first URL is missing or not a zip.
    eia860_archive_url: str = (
        "https://www.eia.gov/electricity/data/eia860/archive/xls/eia860{year}.zip"
    )

    # --- politeness and robustness -----------------------------------------------------
    #: Minimum seconds between two network requests (cache hits do not count). Overpass asks
    #: clients to share its two slots per IP fairly; 1 s between tiles is our choice.
    delay_s: float = 1.0
    #: Socket timeout per request; above the 180 s the Overpass query itself may run.
    timeout_s: float = 240.0
    #: Retries after a 429, a 5xx or a connection failure (so up to max_retries + 1 attempts).
    max_retries: int = 4
    #: First backoff; doubles each retry (5, 10, 20, 40 s), unless ``Retry-After`` asks longer.
    backoff_s: float = 5.0
    #: Longest single wait, even when ``Retry-After`` asks for more.
    max_backoff_s: float = 300.0
    #: Keep successful responses on disk keyed by URL and body hash (a rerun refetches nothing).
    use_cache: bool = True
    cache_dir: Path = field(
        default_factory=lambda: Path(platformdirs.user_cache_dir("geo-rank")) / "fetch"
    )

    # --- Overpass ---------------------------------------------------------------------
    #: Tile edge in degrees; 1 degree of power features fits the public instance's limits in
    #: most places (dense grids in Europe may need 0.5).
    tile_deg: float = 1.0
    #: ``[timeout:...]`` of each Overpass query, seconds (the public instance allows 180 by
    #: default before it asks for more memory/time budget).
    overpass_timeout_s: int = 180
    #: A tile that times out is split into four, at most this many times.
    max_split_depth: int = 3

    # --- ArcGIS (HIFLD) ----------------------------------------------------------------
    #: ``resultRecordCount`` per page; 2000 is ArcGIS Online's default ``maxRecordCount``.
    page_size: int = 2000
    #: Safety stop for a server that keeps saying ``exceededTransferLimit``.
    max_pages: int = 10_000

    # --- EIA-860 ----------------------------------------------------------------------
    #: Default EIA-860 year (the final 2023 release, published 2024).
    eia860_year: int = 2023

    def replace(self, **overrides: Any) -> FetchSettings:
        """Return a copy with ``overrides`` applied, checking names, types and ranges."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise SettingsError(
                f"unknown fetch setting(s) {', '.join(unknown)}; "
                f"valid settings: {', '.join(sorted(known))}"
            )
        clean = {k: _check(k, v, getattr(self, k)) for k, v in overrides.items()}
        return dataclasses.replace(self, **clean)


def _check(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"fetch setting {name} must be true or false, not {value!r}")
        return value
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"fetch setting {name} must be a number, not {value!r}")
        if not math.isfinite(value) or value < 0:
            raise SettingsError(f"fetch setting {name} must be a finite number >= 0, not {value!r}")
        if name in ("tile_deg", "page_size", "max_pages", "timeout_s") and value <= 0:
            raise SettingsError(f"fetch setting {name} must be > 0, not {value!r}")
        return float(value) if isinstance(default, float) else int(value)
    if isinstance(default, Path):
        return Path(value)
    if isinstance(default, str):
        if not isinstance(value, str) or not value:
            raise SettingsError(f"fetch setting {name} must be a non-empty string, not {value!r}")
        return value
    return value
