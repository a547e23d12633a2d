"""The bundle of layers for a region: :func:`load` and :class:`Layers`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers import byo, catalog, regions
from layers._paths import data_dir
from layers.adapters import _common
from layers.errors import DataSourceError, RegionError
from layers.read import read_file, read_layer

log = logging.getLogger(__name__)

VECTOR_KINDS = ("substations", "lines", "plants", "gas_fields", "land_prices", "countries",
                "subdivisions")


@dataclass
class Layers:
    """Every layer the pipeline joins, for one region.

    The grid layers (substations, lines, plants) cover the whole dataset, because power
    flows ignore state lines; :meth:`in_region` clips a layer to the region's boundary.
    """

    region: str
    subdivision_codes: tuple[str, ...]
    substations: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    plants: gpd.GeoDataFrame
    gas_fields: gpd.GeoDataFrame
    land_prices: gpd.GeoDataFrame
    countries: gpd.GeoDataFrame
    subdivisions: gpd.GeoDataFrame
    sovereignty: pd.DataFrame
    land_raster: Path | None = None
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The region's outline when it is a country or a --boundary file (else: subdivisions).
    outline: BaseGeometry | None = None
    #: Quality reports of the user files' adapters, by kind (estimates, merges, left out).
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: DC lines of the user's lines file, kept out of the AC grid.
    dc_lines: gpd.GeoDataFrame | None = None

    @cached_property
    def boundary(self) -> BaseGeometry:
        """The region's outline (union of its subdivisions, or the country), EPSG:4326."""
        if self.outline is not None:
            return self.outline
        parts = self.subdivisions[self.subdivisions["code"].isin(self.subdivision_codes)]
        return shapely.union_all(parts.geometry.to_numpy())

    def in_region(self, kind: str) -> gpd.GeoDataFrame:
        """Rows of a vector layer that intersect the region's boundary."""
        gdf: gpd.GeoDataFrame = getattr(self, kind)
        return gdf[gdf.intersects(self.boundary)]


def _sources() -> dict[str, dict[str, str]]:
    return {e.kind: e.as_dict() for e in catalog.US}


def _boundary_outline(path: str | Path) -> BaseGeometry:
    gdf = read_file(path)
    if gdf.crs is None:
        raise DataSourceError(f"--boundary {path}: no CRS; set one (e.g. EPSG:4326)")
    gdf = gdf.to_crs("EPSG:4326")
    polys = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys) == 0:
        raise DataSourceError(f"--boundary {path}: no polygon in the file; give a polygon "
                              "layer of the area (GeoJSON, GeoPackage or shapefile)")
    return shapely.union_all(polys.geometry.make_valid().to_numpy())


#: Embedded layers that cover the US only (empty for a region outside it).
US_ONLY = ("gas_fields", "land_prices")


def _embedded(root: Path, kind: str, trusted: bool) -> gpd.GeoDataFrame:
    """An embedded layer. The shipped files were validated when ``layers.build`` wrote them
    (and ``tests/test_layers.py`` checks they still validate unchanged), so they are read
    as they are; a data folder of the user's goes through validation."""
    path = root / catalog.entry(kind).path
    return gpd.read_parquet(path) if trusted else read_layer(path, kind)


def load(region: str = "US", data: str | Path | None = None, *,
         substations: str | Path | None = None, lines: str | Path | None = None,
         plants: str | Path | None = None, gas_fields: str | Path | None = None,
         land_prices: str | Path | None = None, layers_dir: str | Path | None = None,
         boundary: str | Path | None = None,
         source_format: str | dict[str, str] | None = None,
         column_map: dict[str, str] | None = None) -> Layers:
    """Load the layers for a region: the embedded ones, replaced by the user's own files.

    Parameters
    ----------
    region
        ``"US"`` (the 48 contiguous states and DC), a state code such as ``"US-TX"``, or an
        ISO 3166-1 alpha-2 country code such as ``"NO"`` (then the user's own substations
        and lines are needed: the embedded grid covers the US only).
    data
        A data folder laid out like the embedded one; default: the embedded data.
    substations, lines, plants, gas_fields, land_prices
        The user's files (any format of :mod:`layers.adapters`; land prices may be a
        GeoTIFF). Each replaces the embedded layer of its kind.
    layers_dir
        A folder holding any of them, recognised by file name (:func:`layers.byo.scan_dir`).
    boundary
        A polygon file that replaces the region's outline; the region is named after it.
    source_format, column_map
        Override format detection (one format, or ``{kind: format}``) and map source
        columns to canonical names (``{"voltage_kv": "KV_MAX"}``).

    Returns
    -------
    Layers
        Validated GeoDataFrames in EPSG:4326, the land-price raster path and provenance.

    Raises
    ------
    RegionError
        For an unknown region; the message lists the valid ones.
    """
    code, subdivision_codes = regions.parse(region)
    root = Path(data) if data is not None else data_dir()
    user = byo.user_layers(substations=substations, lines=lines, plants=plants,
                           gas_fields=gas_fields, land_prices=land_prices, layers_dir=layers_dir,
                           source_format=source_format, column_map=column_map)
    in_us = code == "US" or code.startswith("US-")
    if not in_us and not {"substations", "lines"} <= set(user.frames):
        raise RegionError(
            f"region {code!r} has no embedded grid (valid regions: {', '.join(REGIONS_HINT)} "
            "with the embedded data, which covers the contiguous US); pass your grid with "
            "--substations and --lines (or --layers-dir), e.g. OpenStreetMap or HIFLD files")
    outline = None
    frames = {}
    for kind in ("countries", "subdivisions"):
        frames[kind] = _embedded(root, kind, trusted=data is None)
    if not in_us:
        iso2 = frames["countries"]["iso_a2"].astype(str).str.upper()
        outline = shapely.union_all(frames["countries"].geometry[iso2 == code].to_numpy())
    if boundary is not None:
        outline = _boundary_outline(boundary)
        code = Path(boundary).stem
        in_us = bool(outline.intersects(shapely.union_all(
            frames["countries"].geometry[frames["countries"]["iso_a3"] == "USA"].to_numpy())))
    sources = _sources()
    user_grid = bool({"substations", "lines"} & set(user.frames))
    for kind in ("substations", "lines", "plants", "gas_fields", "land_prices"):
        if kind in user.frames:
            frames[kind] = user.frames[kind]
        elif (kind == "plants" and user_grid) or (kind in US_ONLY and not in_us):
            # embedded plants sit at the embedded (test-system) substations: not with a user grid
            why = "belongs to the embedded grid" if kind == "plants" else "covers the US only"
            frames[kind] = _common.empty(kind)
            sources[kind] = {**sources[kind], "source": f"none (the embedded layer {why})",
                             "status": "empty", "vintage": "", "path": ""}
        else:
            frames[kind] = _embedded(root, kind, trusted=data is None)
    sources.update(user.sources)
    sov_path = root / catalog.entry("sovereignty").path
    if not sov_path.is_file():
        raise DataSourceError(f"{sov_path}: no such file; rebuild with `python -m layers.build`")
    sovereignty = pd.read_csv(sov_path, dtype=str, keep_default_na=False)
    raster = root / catalog.entry("land_raster").path
    if user.land_raster is not None:
        raster = user.land_raster
        frames["land_prices"] = _common.empty("land_prices")  # the raster replaces polygons
        sources["land_prices"] = {**sources["land_prices"], **user.sources["land_raster"],
                                  "kind": "land_prices"}
    elif "land_prices" in user.frames or not in_us:
        raster = Path()  # the user's polygons (or nothing) replace the embedded raster
    log.info("loaded layers for %s from %s", code, root)
    return Layers(
        region=code,
        subdivision_codes=subdivision_codes,
        sovereignty=sovereignty,
        land_raster=raster if raster.is_file() else None,
        sources=sources,
        outline=outline,
        reports=user.reports,
        dc_lines=user.dc_lines,
        **{k: frames[k] for k in VECTOR_KINDS},
    )


#: Shown when a region outside the US has no grid layers.
REGIONS_HINT = ("US", *regions.CONTIGUOUS_US[:3], "...")
