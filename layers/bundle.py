"""The bundle of layers for a region: :func:`load` and :class:`Layers`.

Which layers there are, where their embedded files cover and which a user may replace is
the table of layer kinds (``layers/kinds.csv``, :mod:`layers.kinds`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers import byo, catalog, grids, kinds, regions, schema
from layers.errors import DataSourceError, LayerValidationError, RegionError
from layers.paths import data_dir
from layers.read import read_file, read_geoparquet, read_layer

log = logging.getLogger(__name__)


#: Attributes of :class:`Layers` that a layer kind may not be named after.
_ATTRIBUTES = frozenset({"region", "subdivision_codes", "sovereignty", "land_raster", "sources",
                         "outline", "reports", "grid"})


class Layers(Mapping[str, gpd.GeoDataFrame]):
    """Every layer the pipeline joins, for one region: a mapping kind -> GeoDataFrame.

    The kinds are the rows of ``layers/kinds.csv``, in table order; each is also an
    attribute (``bundle.substations``). The grid layers (substations, lines, plants) cover
    the whole dataset, because power flows ignore state lines; :meth:`in_region` clips a
    layer to the region's boundary.

    Parameters
    ----------
    region, subdivision_codes
        The region's code and the subdivision codes it covers (:func:`layers.regions.parse`).
    frames
        A layer for every kind of the table (:func:`layers.schema.empty` gives an empty one).
    sovereignty
        The sovereignty table (``data/world/sovereignty.csv``).
    land_raster
        A land-price GeoTIFF (USD per acre), when there is one.
    sources
        Provenance by kind (``path``, ``source``, ``licence``, ``vintage``, ``status``, ...).
    outline
        The region's outline when it is a country or a --boundary file (else: subdivisions).
    reports
        Quality reports of the user files' adapters, by kind (estimates, merges, left out).
    grid
        The embedded grid the grid layers come from (:data:`layers.grids.GRIDS`), or
        ``"user"`` when the user gave substations or lines.
    """

    def __init__(self, region: str, subdivision_codes: tuple[str, ...],
                 frames: Mapping[str, gpd.GeoDataFrame], sovereignty: pd.DataFrame, *,
                 land_raster: Path | None = None,
                 sources: dict[str, dict[str, str]] | None = None,
                 outline: BaseGeometry | None = None,
                 reports: dict[str, dict[str, Any]] | None = None,
                 grid: str = "user") -> None:
        names = kinds.names()
        missing = [k for k in names if k not in frames]
        unknown = [k for k in frames if k not in names]
        if missing or unknown:
            raise LayerValidationError(
                "Layers needs one frame per layer kind: "
                + "; ".join(f"{what} {', '.join(ks)}" for what, ks in
                            (("missing", missing), ("unknown", unknown)) if ks)
                + f" (kinds: {', '.join(names)})")
        clash = [k for k in names if hasattr(type(self), k) or k in _ATTRIBUTES]
        if clash:
            raise LayerValidationError(f"layer kind(s) {', '.join(clash)} clash with Layers "
                                       "attributes; rename them in layers/kinds.csv")
        self._frames: dict[str, gpd.GeoDataFrame] = {k: frames[k] for k in names}
        self.region = region
        self.subdivision_codes = subdivision_codes
        self.sovereignty = sovereignty
        self.land_raster = land_raster
        self.sources: dict[str, dict[str, str]] = sources if sources is not None else {}
        self.outline = outline
        self.reports: dict[str, dict[str, Any]] = reports if reports is not None else {}
        self.grid = grid

    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        return self._frames[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __getattr__(self, name: str) -> gpd.GeoDataFrame:
        frames = self.__dict__.get("_frames", {})  # absent while unpickling
        if name in frames:
            return frames[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(v)}" for k, v in self._frames.items())
        return f"Layers(region={self.region!r}, {counts})"

    @cached_property
    def boundary(self) -> BaseGeometry:
        """The region's outline (union of its subdivisions, or the country), EPSG:4326."""
        if self.outline is not None:
            return self.outline
        subs = self["subdivisions"]
        parts = subs[subs["code"].isin(self.subdivision_codes)]
        return shapely.union_all(parts.geometry.to_numpy())

    def in_region(self, kind: str) -> gpd.GeoDataFrame:
        """Rows of a vector layer that intersect the region's boundary."""
        gdf = self[kind]
        boundary = self.boundary
        # the prepared outline first: shapely 2.0 prepares nothing by itself (minutes on the US)
        shapely.prepare(boundary)
        return gdf[shapely.intersects(boundary, gdf.geometry.to_numpy())]


def _sources() -> dict[str, dict[str, str]]:
    return {e.kind: e.as_dict() for e in catalog.entries()}


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


def _embedded(root: Path, kind: str, trusted: bool,
              entry: catalog.Entry | None = None) -> gpd.GeoDataFrame:
    """An embedded layer (``entry``: its catalog entry, by default the kind's own). The
    shipped files were validated when ``layers.build`` wrote them (and
    ``tests/test_layers.py`` checks they still validate unchanged), so they are read as they
    are; a data folder of the user's goes through validation."""
    path = root / (entry or catalog.entry(kind)).path
    return read_geoparquet(path) if trusted else read_layer(path, kind)


def _country_subdivisions(root: Path, country: str, trusted: bool
                          ) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The subdivisions layer of a run in ``country`` (not the US): the country's own
    embedded subdivisions (Canada's provinces), and its catalog entry."""
    entry = catalog.subdivisions_entry(country)
    return _embedded(root, "subdivisions", trusted, entry), entry.as_dict()


def _why_empty(kind: kinds.Kind, in_us: bool, user_grid: bool) -> str | None:
    """Why the embedded layer of ``kind`` is not used (None when it is)."""
    if kind.role == "attached" and user_grid:
        # embedded plants sit at the embedded (test-system) substations: not with a user grid
        return "the embedded layer belongs to the embedded grid"
    if kind.embedded == "us" and not in_us:
        return "the embedded layer covers the US only"
    if not kind.embedded:
        return "no embedded layer of this kind"
    return None


def load(region: str = "US", data: str | Path | None = None, *,
         layers_dir: str | Path | None = None, boundary: str | Path | None = None,
         source_format: str | dict[str, str] | None = None,
         column_map: dict[str, str] | None = None, grid: str | None = None,
         **files: str | Path | None) -> Layers:
    """Load the layers for a region: the embedded ones, replaced by the user's own files.

    Parameters
    ----------
    region
        ``"US"`` (the 48 contiguous states and DC), a state code such as ``"US-TX"``, or an
        ISO 3166-1 alpha-2 country code such as ``"NO"`` (then the user's own substations
        and lines are needed: the embedded grid covers the US only).
    data
        A data folder laid out like the embedded one; default: the embedded data.
    layers_dir
        A folder holding user files, recognised by file name (:func:`layers.byo.scan_dir`).
    boundary
        A polygon file that replaces the region's outline; the region is named after it.
    source_format, column_map
        Override format detection (one format, or ``{kind: format}``) and map source
        columns to canonical names (``{"voltage_kv": "KV_MAX"}``).
    **files
        The user's file per layer kind, keyed by kind: ``substations``, ``lines``,
        ``plants``, ``gas_fields``, ``land_prices`` (see ``layers/kinds.csv``); any format
        of :mod:`layers.adapters`, land prices also a GeoTIFF. Each replaces the embedded
        layer of its kind.

    Returns
    -------
    Layers
        Validated GeoDataFrames in EPSG:4326, the land-price raster path and provenance.

    Raises
    ------
    RegionError
        For an unknown region; the message lists the valid ones.
    LayerValidationError
        For a keyword that names no kind a user may supply.
    """
    code, subdivision_codes = regions.parse(region)
    root = Path(data) if data is not None else data_dir()
    user = byo.user_layers(files, layers_dir=layers_dir, source_format=source_format,
                           column_map=column_map)
    in_us = code == "US" or code.startswith("US-")
    grid_name = grids.check(grid)
    grid_kinds = kinds.with_role("grid")
    user_grid = bool(set(grid_kinds) & set(user.frames))
    if user_grid and not in_us and not set(grid_kinds) <= set(user.frames):
        flags = " and ".join(kinds.get(k).option for k in grid_kinds)
        raise RegionError(f"region {code!r}: give both {flags} (or --layers-dir); the "
                          "embedded grid layers do not mix with your own outside the US")
    outline = None
    frames = {k: _embedded(root, k, trusted=data is None) for k in kinds.with_role("boundary")}
    countries = frames["countries"]
    country = code.split("-")[0]
    if not in_us and country in regions.SUBDIVISION_FILES:  # CA, CA-AB: the provinces
        frames["subdivisions"], subdivision_source = _country_subdivisions(
            root, country, trusted=data is None)
    if not in_us and not subdivision_codes:
        iso2 = countries["iso_a2"].astype(str).str.upper()
        outline = shapely.union_all(countries.geometry[iso2 == code].to_numpy())
    if boundary is not None:
        outline = _boundary_outline(boundary)
        code = Path(boundary).stem
        in_us = bool(outline.intersects(shapely.union_all(
            countries.geometry[countries["iso_a3"] == "USA"].to_numpy())))
    sources = _sources()
    if not in_us and country in regions.SUBDIVISION_FILES:
        sources["subdivisions"] = subdivision_source
    if not in_us:
        sources["electricity_prices"] = catalog.WORLD_PRICES.as_dict()
    embedded_grid = {} if user_grid else grids.entries(grid_name, "US" if in_us else code)
    for kind in kinds.user_kinds():
        why = _why_empty(kind, in_us, user_grid)
        if kind.name in user.frames:
            frames[kind.name] = user.frames[kind.name]
        elif kind.name in embedded_grid:
            entry = embedded_grid[kind.name]
            frames[kind.name] = _embedded(root, kind.name, data is None, entry)
            sources[kind.name] = entry.as_dict()
        elif why is not None:
            frames[kind.name] = schema.empty(kind.name)
            sources[kind.name] = {**sources.get(kind.name, {"kind": kind.name, "licence": "",
                                                            "note": ""}),
                                  "source": f"none ({why})", "status": "empty", "vintage": "",
                                  "path": ""}
        else:
            frames[kind.name] = _embedded(root, kind.name, trusted=data is None)
    sources.update(user.sources)
    sov_path = root / catalog.entry("sovereignty").path
    if not sov_path.is_file():
        raise DataSourceError(f"{sov_path}: no such file; rebuild with `python -m layers.build`")
    sovereignty = pd.read_csv(sov_path, dtype=str, keep_default_na=False)
    raster = root / catalog.entry("land_raster").path
    if user.land_raster is not None:
        raster = user.land_raster
        frames["land_prices"] = schema.empty("land_prices")  # the raster replaces polygons
        sources["land_prices"] = {**sources["land_prices"], **user.sources["land_raster"],
                                  "kind": "land_prices"}
    elif "land_prices" in user.frames or not in_us:
        raster = Path()  # the user's polygons (or nothing) replace the embedded raster
    log.info("loaded layers for %s from %s", code, root)
    return Layers(code, subdivision_codes, frames, sovereignty,
                  land_raster=raster if raster.is_file() else None, sources=sources,
                  outline=outline, reports=user.reports,
                  grid="user" if user_grid else grid_name)
