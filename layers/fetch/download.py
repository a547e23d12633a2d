"""What :mod:`layers.fetch` does (its names are imported from here on first use, so that
reading :class:`layers.fetch.FetchSettings` does not load requests and the source modules):
:func:`fetch` and its helpers."""

from __future__ import annotations

import logging
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import DataSourceError, RegionError
from layers.fetch import eia860, hifld, overpass
from layers.fetch._common import BBox, bbox_label, check_bbox, write_json
from layers.fetch.http import HttpClient
from layers.fetch.settings import FetchSettings

log = logging.getLogger(__name__)

#: What ``geo-rank fetch`` can download.
SOURCES = ("osm", "hifld-lines", "hifld-substations", "eia860")

#: Its own names (the package, ``layers.fetch``, exports these and the rest, lazily).
__all__ = ["SOURCES", "fetch", "output_paths", "region_bbox", "region_outline"]


def region_bbox(region: str) -> BBox:
    """The bounding box of a region's embedded boundary (min lon, min lat, max lon, max lat).

    >>> [round(v, 1) for v in region_bbox("US-TX")]
    [-106.6, 25.8, -93.5, 36.5]
    """
    return check_bbox(tuple(float(v) for v in region_outline(region).bounds))


def region_outline(region: str) -> BaseGeometry:
    """A region's embedded outline, EPSG:4326: the states of ``"US"``/``"US-XX"``, or the
    country of an ISO 3166-1 alpha-2 code such as ``"NO"``.

    Read from the boundary layers alone, not :func:`layers.load`, so a country works before
    the user has any grid data for it (which is why they fetch).
    """
    from layers import catalog, regions
    from layers.paths import data_dir
    from layers.read import read_layer

    code, subdivision_codes = regions.parse(region)
    if code == "US" or code.startswith("US-"):
        table = read_layer(data_dir() / catalog.entry("subdivisions").path, "subdivisions")
        parts = table[table["code"].isin(subdivision_codes)]
    else:
        table = read_layer(data_dir() / catalog.entry("countries").path, "countries")
        parts = table[table["iso_a2"].astype(str).str.upper() == code]
    if parts.empty:
        raise RegionError(f"region {code!r} has no boundary to take a bounding box from")
    return shapely.union_all(parts.geometry.to_numpy())


def output_paths(source: str, out_dir: Path, label: str, year: int | None = None) -> list[Path]:
    """The files :func:`fetch` writes for ``source`` (``label``: region code or bbox label).

    >>> [p.name for p in output_paths("osm", Path("out"), "US-TX")]
    ['osm_US-TX.json']
    >>> [p.name for p in output_paths("eia860", Path("out"), "US", 2023)]
    ['eia8602023.zip', '2___Plant_Y2023.xlsx', '3_1_Generator_Y2023.xlsx']
    """
    _check_source(source)
    if source == "osm":
        return [out_dir / f"osm_{label}.json"]
    if source in hifld.LAYERS:
        return [out_dir / f"{source}_{label}.geojson"]
    year = year if year is not None else FetchSettings().eia860_year
    return [out_dir / eia860.zip_name(year), *(out_dir / n for n in eia860.member_names(year))]


def fetch(source: str, out_dir: str | Path, *, region: str | None = None,
          bbox: BBox | None = None, year: int | None = None,
          settings: FetchSettings | None = None, client: HttpClient | None = None,
          overwrite: bool = False) -> list[Path]:
    """Download one public source into ``out_dir``; every entry point ends here.

    Parameters
    ----------
    source
        One of :data:`SOURCES`.
    out_dir
        Folder of the outputs (created if needed).
    region, bbox
        Where: a region code (its boundary's bounding box) or an explicit bounding box
        (min lon, min lat, max lon, max lat). One of them for every source but ``eia860``.
    year
        EIA-860 year; default :attr:`FetchSettings.eia860_year`.
    settings
        Endpoints, politeness, paging and cache; default :class:`FetchSettings`.
    client
        The HTTP client; default one built from ``settings`` (requests with urllib3 retries).
    overwrite
        Replace existing outputs; without it an existing output is an error (before any
        request is made).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    DataSourceError
        A network failure (the message names the URL and the status), an unexpected answer,
        or an output that exists without ``overwrite``.
    RegionError
        An unknown region or a malformed bounding box.
    """
    _check_source(source)
    settings = settings or (client.settings if client is not None else FetchSettings())
    client = client or HttpClient(settings)
    out = Path(out_dir)
    if source == "eia860":
        year = eia860.check_year(year if year is not None else settings.eia860_year)
        if region or bbox:
            log.info("EIA-860 is national; the region/bbox is not used")
        targets = output_paths(source, out, "", year)
        _guard(targets, overwrite)
        return eia860.fetch_eia860(year, out, client, settings)
    box, label, outline = _where(region, bbox)
    targets = output_paths(source, out, label)
    _guard(targets, overwrite)
    if source == "osm":
        doc = overpass.fetch_osm(box, client, settings, within=outline)
    else:
        doc = hifld.fetch_layer(source, box, client, settings)
    doc["geo_rank"]["region"] = label
    write_json(targets[0], doc)
    log.info("wrote %s (%d network request(s))", targets[0], client.network_requests)
    return targets


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise DataSourceError(f"unknown source {source!r}; valid sources: {', '.join(SOURCES)}")


def _where(region: str | None,
           bbox: BBox | None) -> tuple[BBox, str, BaseGeometry | None]:
    """Bounding box, output label and (for a region) outline of the place to fetch."""
    if bbox is not None and region:
        raise RegionError("give a region or a bounding box, not both")
    if bbox is not None:
        box = check_bbox(bbox)
        return box, bbox_label(box), None
    if not region:
        raise RegionError("this source needs a region (--region) or a bounding box (--bbox)")
    outline = region_outline(region)
    return check_bbox(tuple(float(v) for v in outline.bounds)), region.strip().upper(), outline


def _guard(targets: list[Path], overwrite: bool) -> None:
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise DataSourceError(f"{', '.join(existing)} already exist(s); pass --overwrite "
                              "to replace")
