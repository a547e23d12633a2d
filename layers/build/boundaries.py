"""Build the boundary layers: world countries and US states and territories.

Sources (see ``data/SOURCES.md``):

* ``world-atlas@2.0.2`` (npm, ISC, Mike Bostock), ``countries-50m.json``: Natural Earth
  1:50m admin-0 countries (public domain) as TopoJSON, ``id`` = ISO 3166-1 numeric.
* ``us-atlas@3.0.1`` (npm, ISC, Mike Bostock), ``states-10m.json``: US Census Bureau
  cartographic boundary files 2017, 1:10m, ``id`` = state FIPS code.

Both TopoJSON files are in WGS84 lon/lat but carry no CRS, so EPSG:4326 is set here.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pycountry
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from layers.build._write import write_geoparquet
from layers.build.fetch import US_ATLAS, WORLD_ATLAS, fetch
from layers.build.fetch import member as fetch_member
from layers.errors import DataSourceError
from layers.schema import columns, validate

log = logging.getLogger(__name__)

COUNTRIES_MEMBER = "package/countries-50m.json"
STATES_MEMBER = "package/states-10m.json"

#: Natural Earth features without an ISO 3166-1 numeric code, and what the build does
#: with them. Kosovo takes the user-assigned code used by the European Commission and the
#: World Bank; "Indian Ocean Ter." is split into its two ISO-coded Australian territories
#: (Christmas Island east of 100 E, Cocos (Keeling) Islands west of it); the disputed or
#: unrecognised areas are dropped (listed in data/SOURCES.md). A new unnamed feature in a
#: future world-atlas stops the build instead of vanishing.
NO_ISO_ASSIGNED = {"Kosovo": ("XKX", "XK", "Kosovo")}
NO_ISO_SPLIT = {"Indian Ocean Ter."}
NO_ISO_DROPPED = ("N. Cyprus", "Siachen Glacier", "Somaliland")

#: State FIPS code -> USPS code (the ISO 3166-2 code is "US-" + the USPS code).
FIPS_TO_USPS = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY",
    "60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI",
}


def read_topojson(archive: Path, member: str, layer: str) -> gpd.GeoDataFrame:
    """Read one TopoJSON layer from an npm package archive, in EPSG:4326."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(member).name
        path.write_bytes(fetch_member(archive, member))
        gdf = gpd.read_file(path, layer=layer)
    return gdf.set_crs("EPSG:4326", allow_override=True)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Repair a geometry and keep only its polygonal parts."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
    polys = [p for g in parts for p in getattr(g, "geoms", [g])]
    if not polys:
        return Polygon()
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _country_rows(world: gpd.GeoDataFrame) -> list[dict]:
    rows: list[dict] = []
    unexpected = []
    for code, name, geom in zip(world["id"], world["name"], world.geometry, strict=True):
        if code is None or isinstance(code, float):
            if name in NO_ISO_ASSIGNED:
                a3, a2, label = NO_ISO_ASSIGNED[name]
                rows.append({"iso_a3": a3, "iso_a2": a2, "name": label, "geometry": geom})
            elif name in NO_ISO_SPLIT:
                for a3, east in (("CXR", True), ("CCK", False)):
                    parts = [p for p in geom.geoms if (p.centroid.x > 100) == east]
                    c = pycountry.countries.get(alpha_3=a3)
                    assert c is not None, a3
                    rows.append({"iso_a3": a3, "iso_a2": c.alpha_2,
                                 "name": getattr(c, "common_name", None) or c.name,
                                 "geometry": MultiPolygon(parts)})
            elif name in NO_ISO_DROPPED:
                log.info("countries: dropped %s (no ISO 3166-1 code)", name)
            else:
                unexpected.append(name)
            continue
        c = pycountry.countries.get(numeric=str(code).zfill(3))
        if c is None:
            unexpected.append(f"{name} ({code})")
            continue
        rows.append({"iso_a3": c.alpha_3, "iso_a2": c.alpha_2,
                     "name": getattr(c, "common_name", None) or c.name, "geometry": geom})
    if unexpected:
        raise DataSourceError(
            f"{WORLD_ATLAS.spec}: features without a known ISO 3166-1 code: "
            f"{', '.join(map(str, unexpected))}; decide their code in layers/build/boundaries.py"
        )
    return rows


def build_countries(archive: Path) -> gpd.GeoDataFrame:
    """Return the validated countries layer from the world-atlas archive."""
    world = read_topojson(archive, COUNTRIES_MEMBER, "countries")
    gdf = gpd.GeoDataFrame(_country_rows(world), geometry="geometry", crs="EPSG:4326")
    gdf["geometry"] = gdf.geometry.map(_polygonal)
    # Natural Earth keeps "Ashmore and Cartier Is." as its own feature under Australia's
    # numeric code 036: merge features that share a code into one (multi)polygon.
    dup = gdf["iso_a3"].duplicated(keep=False)
    if dup.any():
        merged = gdf[dup].dissolve(by="iso_a3", as_index=False, aggfunc="first")
        merged["geometry"] = merged.geometry.map(_polygonal)
        gdf = gpd.GeoDataFrame(pd.concat([gdf[~dup], merged], ignore_index=True),
                               geometry="geometry", crs="EPSG:4326")
    gdf = gdf.sort_values("iso_a3").reset_index(drop=True)
    return validate(gdf[columns("countries")], "countries", WORLD_ATLAS.spec)


def build_subdivisions(archive: Path) -> gpd.GeoDataFrame:
    """Return the validated US subdivisions layer (states, DC, territories)."""
    states = read_topojson(archive, STATES_MEMBER, "states")
    unknown = sorted(set(states["id"]) - set(FIPS_TO_USPS))
    if unknown:
        raise DataSourceError(f"{US_ATLAS.spec}: unknown state FIPS codes {', '.join(unknown)}")
    gdf = gpd.GeoDataFrame(
        {
            "code": ["US-" + FIPS_TO_USPS[f] for f in states["id"]],
            "name": states["name"],
            "geometry": states.geometry.map(_polygonal),
        },
        geometry="geometry", crs="EPSG:4326",
    )
    gdf = gdf.sort_values("code").reset_index(drop=True)
    return validate(gdf, "subdivisions", US_ATLAS.spec)


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``world/countries.parquet`` and ``us/subdivisions.parquet`` under ``out``.

    Parameters
    ----------
    cache
        Folder of the fetched package archives.
    out
        The data folder (the repository's ``data/``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    countries = build_countries(fetch(WORLD_ATLAS, cache))
    subdivisions = build_subdivisions(fetch(US_ATLAS, cache))
    return [
        write_geoparquet(countries, out / "world" / "countries.parquet"),
        write_geoparquet(subdivisions, out / "us" / "subdivisions.parquet"),
    ]
