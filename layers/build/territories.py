"""Build the US electricity-territory layer: who serves a place, its balancing authority and
ISO/RTO.

Sources (see ``data/SOURCES.md``): HIFLD Electric Retail Service Territories, HIFLD Control
Areas and HIFLD Independent System Operators (US government, public domain), EIA Form 861
2024 (public domain) and the California Energy Commission's load-serving entities (the
community-choice areas), as compiled by the CommonGrid repository (github.com/TextureHQ/
commongrid, March 2026, ODbL 1.0). The build reads a local copy of that compilation's data
folder: ``regions.json`` (one entry per area), ``territories/<id>.json`` (one GeoJSON
polygon per area), ``utilities.json`` (EIA-861 2024 attributes per utility),
``balancing-authorities.json`` and ``isos.json``.

The folder is given by ``--territories-dir`` (``python -m layers.build``), else by the
environment variable :data:`ENV`, else :data:`DEFAULT_DIR` (``commongrid/`` in the source
cache: a copy of the compilation's ``data/`` folder, taken by hand). When it is absent the step logs
one line and writes nothing (the other steps still run).

One row per polygon: ``kind`` is ``retail_service_territory``, ``balancing_authority``,
``iso_rto`` (the seven ISO/RTOs and HIFLD's four non-ISO remainder areas, whose ``code`` is
null) or ``community_choice``. Invalid polygons are repaired part by part
(:func:`repair`); a polygon with no area left is dropped. Both counts are logged.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from layers.build._write import write_geoparquet
from layers.build.fetch import DEFAULT_CACHE
from layers.errors import DataSourceError
from layers.schema import columns, validate

log = logging.getLogger(__name__)

#: Environment variable naming the CommonGrid data folder.
ENV = "GEO_RANK_TERRITORIES_DIR"
#: Where the folder is when neither the flag nor :data:`ENV` names one.
DEFAULT_DIR = DEFAULT_CACHE / "commongrid"
#: The file written, relative to the data folder.
RELATIVE_PATH = Path("us") / "territories.parquet"
#: The utilities' other names (:func:`aliases`), relative to the data folder.
ALIASES_PATH = Path("us") / "utility_aliases.csv"

#: CommonGrid region type -> layer ``kind``.
KINDS = {
    "SERVICE_TERRITORY": "retail_service_territory",
    "BALANCING_AUTHORITY": "balancing_authority",
    "ISO": "iso_rto",
    "CUSTOM": "iso_rto",  # HIFLD's "non-ISO" remainder areas (West, Southeast, Alaska, Hawaii)
    "CCA_TERRITORY": "community_choice",
}
#: Kinds whose rows are one utility (or community-choice aggregator) each.
UTILITY_KINDS = ("retail_service_territory", "community_choice")
#: CommonGrid's source labels -> the original source, as cited in ``data/SOURCES.md``.
SOURCES = {
    "ArcGIS HIFLD Electric Retail Service Territories":
        "HIFLD Electric Retail Service Territories",
    "HIFLD Control Areas": "HIFLD Control Areas",
    "ArcGIS HIFLD Independent System Operators": "HIFLD Independent System Operators",
    "CEC Electric Load Serving Entities (Other)":
        "California Energy Commission, Electric Load Serving Entities",
}
#: Appended to every ``source``.
COMPILED_BY = "compiled by TextureHQ/commongrid (ODbL 1.0)"
#: EIA-861's balancing-authority code for "not available".
NO_BA = "NA"

#: Simplify only when the file would be larger than this (bytes).
MAX_BYTES = 8_000_000
#: Simplification tolerance (metres, in a Lambert azimuthal equal-area projection centred on
#: each polygon), used only when the unsimplified file exceeds :data:`MAX_BYTES`.
SIMPLIFY_M = 50.0


@dataclass
class Report:
    """What the build did, for the log and the tests."""

    polygons: int = 0
    repaired: int = 0
    dropped: list[str] = field(default_factory=list)
    without_polygon: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    simplified_m: float | None = None


def source_dir(given: str | Path | None = None) -> Path:
    """The CommonGrid folder: ``given``, else ``$GEO_RANK_TERRITORIES_DIR``, else the default."""
    if given is not None:
        return Path(given)
    env = os.environ.get(ENV)
    return Path(env) if env else DEFAULT_DIR.resolve()


def _load_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise DataSourceError(f"{path}: no such file; is this a CommonGrid data folder?") \
            from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataSourceError(f"{path}: not readable JSON ({exc})") from None


def _records(path: Path, keys: Iterable[str]) -> list[dict[str, Any]]:
    """A JSON list of objects that each have ``keys``; anything else is an error naming it."""
    data = _load_json(path)
    keys = tuple(keys)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataSourceError(f"{path}: expected a JSON list of objects")
    for i, r in enumerate(data):
        missing = [k for k in keys if k not in r]
        if missing:
            raise DataSourceError(f"{path}: entry {i} lacks {', '.join(missing)}")
    return data


def _polygonal(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons of a geometry (of a collection's members too)."""
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return [p for p in geom.geoms if not p.is_empty]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygonal(g)]
    return []  # points and lines: no area


def repair(geom: BaseGeometry) -> MultiPolygon:
    """A valid MultiPolygon covering what ``geom`` covers; empty when nothing has area.

    Each polygon part is made valid on its own (:func:`shapely.make_valid`; its points and
    lines, such as a ring collapsed to one point, are left out), then the parts are unioned,
    so parts that overlap or nest add up instead of cancelling out (``make_valid`` of the
    whole MultiPolygon would cut a nested part out as a hole).

    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> fixed = repair(bowtie)
    >>> fixed.is_valid, fixed.geom_type, len(fixed.geoms), round(fixed.area, 3)
    (True, 'MultiPolygon', 2, 2.0)
    """
    if geom.is_valid:
        parts = _polygonal(geom)
    else:
        pieces: list[Polygon] = []
        for part in _polygonal(geom):
            if part.is_valid:
                pieces.append(part)
                continue
            pieces.extend(_polygonal(shapely.make_valid(part)))
        parts = _polygonal(shapely.union_all(pieces)) if pieces else []
    return MultiPolygon(parts)


def _simplify(geom: MultiPolygon, tolerance_m: float) -> MultiPolygon:
    """Simplify in metres: in a Lambert azimuthal equal-area projection (WGS84 ellipsoid)
    centred on the polygon's bounding box, topology preserved, then back to lon/lat."""
    minx, miny, maxx, maxy = geom.bounds
    laea = Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=laea +lat_0={(miny + maxy) / 2:.6f} +lon_0={(minx + maxx) / 2:.6f} "
        "+ellps=WGS84")

    def forward(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(laea.transform(xy[:, 0], xy[:, 1]))

    def inverse(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(laea.transform(xy[:, 0], xy[:, 1], direction="INVERSE"))

    simple = shapely.simplify(shapely.transform(geom, forward), tolerance_m,
                              preserve_topology=True)
    return repair(shapely.transform(simple, inverse))


def _utility_attributes(folder: Path) -> tuple[dict[str, dict[str, str | None]],
                                                dict[str, dict[str, str | None]],
                                                dict[str, str]]:
    """Balancing authority and ISO/RTO per region id and per EIA id (from ``utilities.json``),
    and the ISO/RTO short name per balancing-authority code."""
    isos = {r["id"]: r["shortName"] for r in
            _records(folder / "isos.json", ("id", "shortName"))}
    bas = _records(folder / "balancing-authorities.json", ("id", "eiaCode", "isoId"))
    ba_iso = {str(b["eiaCode"]): str(isos[b["isoId"]]) for b in bas
              if b["isoId"] and b["isoId"] in isos}
    ba_code = {b["id"]: b["eiaCode"] for b in bas}
    by_region: dict[str, dict[str, str | None]] = {}
    by_eia: dict[str, dict[str, str | None]] = {}
    utilities = _records(folder / "utilities.json",
                         ("eiaId", "baCode", "balancingAuthorityId", "serviceTerritoryId"))
    # ACTIVE records first, then by name: when two records of one utility disagree, the
    # first non-null value wins, the same on every run
    utilities = sorted(utilities, key=lambda u: (u.get("status") != "ACTIVE",
                                                 str(u.get("name")), str(u.get("id"))))
    for u in utilities:
        code = u["baCode"] if u["baCode"] and u["baCode"] != NO_BA else \
            ba_code.get(u["balancingAuthorityId"])
        attrs = {"balancing_authority": code, "iso_rto": ba_iso.get(code) if code else None}
        for key, table in ((u["serviceTerritoryId"], by_region), (u["eiaId"], by_eia)):
            if key:
                old = table.setdefault(key, dict.fromkeys(attrs))
                for k, v in attrs.items():
                    old[k] = old[k] or v
    return by_region, by_eia, ba_iso


def aliases(folder: Path) -> pd.DataFrame:
    """Other names of utilities for ``--utility``: each holding company of ``utilities.json``
    (a record without an EIA id that other records name as their ``parentId``, e.g.
    "Dominion Energy") with the EIA id of each of its utilities (Virginia Electric & Power,
    19876). Columns ``alias``, ``eia_id``; sorted, one row per pair."""
    utilities = _records(folder / "utilities.json", ("id", "name", "eiaId"))
    holding = {u["id"]: str(u["name"]).strip() for u in utilities
               if not u["eiaId"] and u["name"]}
    pairs = sorted({(holding[u["parentId"]], str(u["eiaId"])) for u in utilities
                    if u["eiaId"] and u.get("parentId") in holding})
    return pd.DataFrame(pairs, columns=["alias", "eia_id"])


def _read_feature(path: Path) -> tuple[dict[str, Any], BaseGeometry]:
    """The one feature of a territory file: its properties and geometry."""
    data = _load_json(path)
    try:
        features = data["features"] if data.get("type") == "FeatureCollection" else [data]
        if len(features) != 1:
            raise ValueError(f"{len(features)} features, expected 1")
        props = features[0].get("properties") or {}
        geom = shape(features[0]["geometry"])
    except Exception as exc:  # shapely and dict access raise several types on junk
        raise DataSourceError(f"{path}: not a GeoJSON polygon feature ({exc})") from None
    if geom.geom_type not in ("Polygon", "MultiPolygon") or not props.get("id"):
        raise DataSourceError(f"{path}: not a GeoJSON polygon feature with an id "
                              f"(found {geom.geom_type}, id {props.get('id')!r})")
    return props, geom


def territories(folder: Path, report: Report | None = None, *,
                max_bytes: int = MAX_BYTES) -> gpd.GeoDataFrame:
    """Return the validated territory layer, sorted by ``kind`` and ``territory_id``.

    Parameters
    ----------
    folder
        A CommonGrid data folder (``regions.json``, ``territories/``, ...).
    report
        Filled with the counts (polygons, repaired, dropped, ...).
    max_bytes
        Simplify by :data:`SIMPLIFY_M` metres when the written file would exceed this.

    Raises
    ------
    DataSourceError
        A missing or malformed file, named in the one-line message.
    """
    report = report if report is not None else Report()
    regions = {r["id"]: r for r in _records(
        folder / "regions.json", ("id", "name", "type", "eiaId", "state", "source",
                                  "sourceDate"))}
    unknown = sorted({r["type"] for r in regions.values()} - set(KINDS))
    if unknown:
        raise DataSourceError(f"{folder / 'regions.json'}: unknown region type(s) "
                              f"{', '.join(unknown)}")
    by_region, by_eia, ba_iso = _utility_attributes(folder)
    poly_dir = folder / "territories"
    if not poly_dir.is_dir():
        raise DataSourceError(f"{poly_dir}: no such folder; is this a CommonGrid data folder?")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in sorted(poly_dir.glob("*.json")):
        props, geom = _read_feature(path)
        region = regions.get(props["id"])
        if region is None:
            report.unlisted.append(path.name)
            continue
        seen.add(region["id"])
        report.polygons += 1
        if not geom.is_valid:
            report.repaired += 1
        try:
            fixed = repair(geom)
        except shapely.errors.GEOSException as exc:
            raise DataSourceError(f"{path}: polygon cannot be repaired ({exc})") from None
        tid = region["id"].removeprefix("region-")
        if fixed.is_empty:
            report.dropped.append(tid)
            continue
        kind = KINDS[region["type"]]
        eia_id = str(region["eiaId"]) if region["eiaId"] else None
        if kind == "balancing_authority":
            code = props.get("code")
            attrs = {"balancing_authority": code,
                     "iso_rto": ba_iso.get(code) if code else None}
        elif kind == "iso_rto":
            code = props.get("shortName") if region["type"] == "ISO" else None
            attrs = {"balancing_authority": None, "iso_rto": code}
        else:
            code = None
            attrs = by_region.get(region["id"]) or by_eia.get(eia_id or "") or {}
        rows.append({
            "territory_id": tid, "kind": kind, "name": region["name"], "eia_id": eia_id,
            # the state of an ISO or BA entry is its seat (PJM: PA), not its footprint
            "code": code, "state": region["state"] if kind in UTILITY_KINDS else None,
            "balancing_authority": attrs.get("balancing_authority"),
            "iso_rto": attrs.get("iso_rto"),
            "customers": region.get("customers"),
            "source": f"{SOURCES.get(region['source'], region['source'])}; {COMPILED_BY}",
            "source_date": region["sourceDate"],
            "geometry": fixed,
        })
    report.without_polygon = sorted(r.removeprefix("region-") for r in set(regions) - seen)
    if not rows:
        raise DataSourceError(f"{poly_dir}: no territory polygon listed in regions.json")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf["customers"] = pd.array(gdf["customers"], dtype="Int64")
    gdf = gdf.sort_values(["kind", "territory_id"]).reset_index(drop=True)
    gdf = gpd.GeoDataFrame(gdf[columns("territories")], geometry="geometry", crs="EPSG:4326")
    if _size(gdf) > max_bytes:
        gdf["geometry"] = [_simplify(g, SIMPLIFY_M) for g in gdf.geometry]
        report.simplified_m = SIMPLIFY_M
    return validate(gdf, "territories", "CommonGrid territories")


def _size(gdf: gpd.GeoDataFrame) -> int:
    """Bytes of ``gdf`` written as the build writes it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return write_geoparquet(gdf, Path(tmp) / "t.parquet").stat().st_size


def build(cache: Path, out: Path, source: str | Path | None = None) -> list[Path]:
    """Write ``us/territories.parquet`` under ``out``; nothing when the source is absent.

    Parameters
    ----------
    cache
        Folder of the fetched package archives (unused: the source is a local folder).
    out
        The data folder (the repository's ``data/``).
    source
        The CommonGrid data folder (default: :func:`source_dir`).

    Returns
    -------
    list of pathlib.Path
        The files written (the layer and :data:`ALIASES_PATH`), or nothing when the source
        folder is absent.
    """
    folder = source_dir(source)
    if not folder.is_dir():
        log.info("territories: skipped, no CommonGrid folder at %s (--territories-dir or $%s)",
                 folder, ENV)
        return []
    report = Report()
    gdf = territories(folder, report)
    path = write_geoparquet(gdf, out / RELATIVE_PATH)
    names = aliases(folder)
    names.to_csv(out / ALIASES_PATH, index=False, lineterminator="\n")
    counts = ", ".join(f"{k} {n}" for k, n in gdf["kind"].value_counts().sort_index().items())
    log.info("territories: %d polygons (%s); %d repaired, %d dropped (%s); %d listed without "
             "a polygon (%s); %s; %s B",
             len(gdf), counts, report.repaired, len(report.dropped),
             ", ".join(report.dropped) or "none", len(report.without_polygon),
             ", ".join(report.without_polygon) or "none",
             f"simplified at {report.simplified_m:g} m" if report.simplified_m
             else "not simplified", f"{path.stat().st_size:,}")
    log.info("territories: %d other names of utilities (%d holding companies)", len(names),
             names["alias"].nunique())
    return [path, out / ALIASES_PATH]
