"""The bundle of layers for a region: :func:`load` and :class:`Layers`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers import catalog, regions
from layers._paths import data_dir
from layers.errors import DataSourceError
from layers.read import read_layer

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

    @cached_property
    def boundary(self) -> BaseGeometry:
        """The region's outline (union of its subdivisions), EPSG:4326."""
        parts = self.subdivisions[self.subdivisions["code"].isin(self.subdivision_codes)]
        return shapely.union_all(parts.geometry.to_numpy())

    def in_region(self, kind: str) -> gpd.GeoDataFrame:
        """Rows of a vector layer that intersect the region's boundary."""
        gdf: gpd.GeoDataFrame = getattr(self, kind)
        return gdf[gdf.intersects(self.boundary)]


def _sources() -> dict[str, dict[str, str]]:
    return {e.kind: e.as_dict() for e in catalog.US}


def load(region: str = "US", data: str | Path | None = None) -> Layers:
    """Load the embedded layers for a region.

    Parameters
    ----------
    region
        ``"US"`` (the 48 contiguous states and DC) or a state code such as ``"US-TX"``.
    data
        A data folder laid out like the embedded one; default: the embedded data.

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
    frames = {}
    for kind in VECTOR_KINDS:
        path = root / catalog.entry(kind).path
        frames[kind] = read_layer(path, kind)
    sov_path = root / catalog.entry("sovereignty").path
    if not sov_path.is_file():
        raise DataSourceError(f"{sov_path}: no such file; rebuild with `python -m layers.build`")
    sovereignty = pd.read_csv(sov_path, dtype=str, keep_default_na=False)
    raster = root / catalog.entry("land_raster").path
    log.info("loaded layers for %s from %s", code, root)
    return Layers(
        region=code,
        subdivision_codes=subdivision_codes,
        sovereignty=sovereignty,
        land_raster=raster if raster.is_file() else None,
        sources=_sources(),
        **frames,
    )
