"""OpenStreetMap power data: Overpass JSON and GeoJSON (osmtogeojson and similar).

Elements are read from an Overpass API answer (``{"elements": [...]}``; ways with
``geometry`` when ``out geom`` was used, otherwise their node refs are resolved from the
nodes in the same document; ``out center`` centres are used for areas) or from a GeoJSON
FeatureCollection whose properties hold the tags, flat or nested under ``tags``.

- Substations: ``power=substation`` (and the old ``sub_station``). Areas become points at
  their centroid. ``voltage`` is in volts, several values separated by ``;``: the highest is
  ``voltage_kv``, the lowest ``min_voltage_kv``; junk tokens are reported, not fatal.
  Substations within ``merge_km`` (default 0.5 km, as PyPSA-Eur) merge into one
  (``merged_ids`` lists the others; the report counts them). ``sub_id`` is
  ``osm-<type>-<id>``.
- Lines: ``power=line`` and ``power=cable``. ``voltage_kv`` is the highest voltage of the
  tag (all are kept in ``voltages_kv``); ``circuits`` from the ``circuits`` tag, else
  ``cables``/3. A line with ``frequency=0`` is DC: kept out of the AC layer (``dc_lines``).
- Plants: ``power=plant``; ``fuel`` from the first value of ``plant:source`` (all kept in
  ``fuels``), ``capacity_mw`` from ``plant:output:electricity`` (``600 MW``, ``1.5 MW``,
  ``500 kW``); plants whose output is ``yes`` or missing have no capacity and are left out
  and counted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point, Polygon, shape

from layers import schema
from layers.adapters import _common
from layers.errors import DataSourceError

SUBSTATION_VALUES = ("substation", "sub_station")
LINE_VALUES = ("line", "cable")

#: plant:source values to canonical fuels.
FUELS = {
    "hydro": "hydro", "water": "hydro", "gas": "gas", "natural_gas": "gas", "coal": "coal",
    "lignite": "coal", "nuclear": "nuclear", "oil": "oil", "diesel": "oil", "wind": "wind",
    "solar": "solar", "geothermal": "geothermal", "biomass": "biomass", "biogas": "biomass",
    "biofuel": "biomass", "waste": "biomass", "battery": "battery",
}

_META = {"@id", "id", "@type", "@relations", "@timestamp", "@version", "@changeset",
         "@user", "@uid", "meta", "relations"}


def looks_like(head: str) -> bool:
    """True when the start of a JSON document looks like OSM power data."""
    return ('"elements"' in head and '"type"' in head) or '"power"' in head


def _closed(coords: list[tuple[float, float]]) -> bool:
    return len(coords) >= 4 and coords[0] == coords[-1]


def _overpass(doc: dict[str, Any], report: dict[str, Any]) -> list[dict[str, Any]]:
    elements = doc.get("elements") or []
    nodes = {e["id"]: (e["lon"], e["lat"]) for e in elements
             if e.get("type") == "node" and "lat" in e}
    out = []
    skipped = 0
    for e in elements:
        tags = e.get("tags") or {}
        if "power" not in tags:
            continue
        t = e.get("type")
        geom = None
        if t == "node" and "lat" in e:
            geom = Point(e["lon"], e["lat"])
        elif t == "way":
            if e.get("geometry"):
                coords = [(g["lon"], g["lat"]) for g in e["geometry"] if g]
            else:
                coords = [nodes[n] for n in e.get("nodes", []) if n in nodes]
            if len(coords) >= 2:
                geom = Polygon(coords) if _closed(coords) and tags["power"] != "line" \
                    else LineString(coords)
            elif "center" in e:
                geom = Point(e["center"]["lon"], e["center"]["lat"])
        elif "center" in e:
            geom = Point(e["center"]["lon"], e["center"]["lat"])
        if geom is None:
            skipped += 1
            continue
        out.append({"osm_id": f"osm-{t}-{e.get('id')}", "tags": tags, "geometry": geom})
    report["elements_without_geometry"] = skipped
    return out


def _geojson(doc: dict[str, Any], report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    skipped = 0
    for i, f in enumerate(doc.get("features") or []):
        props = f.get("properties") or {}
        tags = props["tags"] if isinstance(props.get("tags"), dict) else {
            k: v for k, v in props.items() if k not in _META}
        if "power" not in tags:
            continue
        raw = f.get("id") or props.get("@id") or props.get("id") or f"feature{i}"
        raw = str(raw)
        if "/" in raw:
            t, _, n = raw.partition("/")
            raw = f"{t}-{n}"
        if not f.get("geometry"):
            skipped += 1
            continue
        out.append({"osm_id": f"osm-{raw}", "tags": tags, "geometry": shape(f["geometry"])})
    report["elements_without_geometry"] = skipped
    return out


def elements(path: str | Path, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Tagged power elements of an Overpass JSON or GeoJSON file."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError) as exc:
        raise DataSourceError(f"{path}: not a readable OSM JSON/GeoJSON file ({exc})") from None
    if isinstance(doc, dict) and "elements" in doc:
        report["osm_flavour"] = "overpass"
        return _overpass(doc, report)
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        report["osm_flavour"] = "geojson"
        return _geojson(doc, report)
    raise DataSourceError(f"{path}: neither Overpass JSON (elements) nor a GeoJSON "
                          "FeatureCollection")


def _frame(rows: list[dict[str, Any]], values: tuple[str, ...]) -> list[dict[str, Any]]:
    return [r for r in rows if str(r["tags"].get("power", "")).strip().lower() in values]


def _circuits(tags: dict[str, Any]) -> float:
    for key, per in (("circuits", 1.0), ("cables", 3.0)):
        vals = [float(t) for t in str(tags.get(key, "")).split(";")
                if t.strip().replace(".", "", 1).isdigit()]
        if vals:
            return max(1.0, round(sum(vals) / per))
    return float("nan")


def substations(rows: list[dict[str, Any]], report: dict[str, Any], merge_km: float = 0.5
                ) -> gpd.GeoDataFrame:
    """Canonical substations of the OSM elements."""
    rows = _frame(rows, SUBSTATION_VALUES)
    junk: list[str] = []
    recs = []
    for r in rows:
        kv, bad = _common.parse_voltages(r["tags"].get("voltage"))
        junk += bad
        recs.append({"sub_id": r["osm_id"], "name": r["tags"].get("name"),
                     "voltage_kv": max(kv) if kv else np.nan,
                     "min_voltage_kv": min(kv) if kv else np.nan,
                     "operator": r["tags"].get("operator"),
                     "substation": r["tags"].get("substation"),
                     "voltage_source": "observed" if kv else None,
                     "geometry": r["geometry"]})
    gdf = gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326") if recs else \
        schema.empty("substations")
    report["areas_as_centroids"] = int((gdf.geom_type != "Point").sum())
    gdf["geometry"] = _common.centroid_points(gdf.geometry)
    report["junk_voltage_tokens"] = junk
    gdf, merged = _common.merge_substations(gdf, merge_km)
    report.update(merged)
    return gdf


def lines(rows: list[dict[str, Any]], report: dict[str, Any]
          ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Canonical AC lines and the DC lines of the OSM elements."""
    rows = _frame(rows, LINE_VALUES)
    junk: list[str] = []
    recs = []
    for r in rows:
        tags = r["tags"]
        kv, bad = _common.parse_voltages(tags.get("voltage"))
        junk += bad
        recs.append({"line_id": r["osm_id"], "voltage_kv": max(kv) if kv else np.nan,
                     "voltages_kv": ";".join(f"{v:g}" for v in kv) or None,
                     "circuits": _circuits(tags), "name": tags.get("name"),
                     "operator": tags.get("operator"), "power": tags.get("power"),
                     "dc": str(tags.get("frequency", "")).strip() == "0",
                     "voltage_source": "observed" if kv else None,
                     "geometry": r["geometry"]})
    if not recs:
        report.update(junk_voltage_tokens=junk, dc_lines=0, lines_without_voltage=0)
        return schema.empty("lines"), schema.empty("lines")
    gdf = gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326")
    gdf = gdf[gdf.geom_type.isin(["LineString", "MultiLineString"])]
    dc = gdf["dc"].to_numpy(bool)
    unknown = gdf["voltage_kv"].isna().to_numpy() & ~dc
    report["junk_voltage_tokens"] = junk
    report["dc_lines"] = int(dc.sum())
    report["multi_voltage_lines"] = int(gdf["voltages_kv"].fillna("").str.contains(";").sum())
    report["lines_without_voltage"] = int(unknown.sum())
    report["left_out_without_voltage"] = gdf.loc[unknown, "line_id"].tolist()[:50]
    keep = ~dc & ~unknown
    ac = gdf[keep].drop(columns="dc").reset_index(drop=True)
    return ac, gdf[dc].drop(columns="dc").reset_index(drop=True)


def plants(rows: list[dict[str, Any]], report: dict[str, Any]) -> gpd.GeoDataFrame:
    """Canonical plants of the OSM elements (with a known electrical output)."""
    rows = _frame(rows, ("plant",))
    recs = []
    for r in rows:
        tags = r["tags"]
        sources = [s.strip().lower() for s in str(tags.get("plant:source", "")).split(";")
                   if s.strip()]
        fuels = [FUELS.get(s, "other") for s in sources]
        recs.append({"plant_id": r["osm_id"], "name": tags.get("name"),
                     "fuel": fuels[0] if fuels else "other",
                     "fuels": ";".join(dict.fromkeys(fuels)) or None,
                     "capacity_mw": _common.parse_power_mw(tags.get("plant:output:electricity")),
                     "geometry": r["geometry"]})
    if not recs:
        return schema.empty("plants")
    gdf = gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326")
    gdf["geometry"] = _common.centroid_points(gdf.geometry)
    unknown = gdf["capacity_mw"].isna()
    report["plants_without_capacity"] = int(unknown.sum())
    report["left_out_without_capacity"] = gdf.loc[unknown, "plant_id"].tolist()[:50]
    return gdf[~unknown].reset_index(drop=True)


def read(path: str | Path, kind: str, merge_km: float = 0.5
         ) -> tuple[gpd.GeoDataFrame, dict[str, Any], dict[str, gpd.GeoDataFrame]]:
    """Canonical ``kind`` layer (substations, lines, plants) of an OSM file."""
    report: dict[str, Any] = {}
    rows = elements(path, report)
    extras: dict[str, gpd.GeoDataFrame] = {}
    if kind == "substations":
        gdf = substations(rows, report, merge_km)
    elif kind == "lines":
        gdf, extras["dc_lines"] = lines(rows, report)
    elif kind == "plants":
        gdf = plants(rows, report)
    else:
        raise DataSourceError(f"{path}: OSM power data gives substations, lines or plants, "
                              f"not {kind}")
    report["features"] = len(gdf)
    return gdf, report, extras

