"""Candidate sites: substations, H3 cells over the region's land, or the user's own file.

Three entry points, one output shape: a GeoDataFrame in EPSG:4326 with ``site_id`` (unique),
``site_name``, ``candidate_kind`` (``substation``, ``h3`` or ``file``), ``existing_site``
(user sites marked as already energized, for example mining farms to convert) and, for
substation candidates, ``poi_sub_id`` (the substation itself).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from geo._arrays import pandas_form
from geo.errors import LayerValidationError, SettingsError
from layers import Layers, grids, read_file
from layers.read import rows_as_shown

log = logging.getLogger(__name__)

H3_MAX_RES = 10
_H3 = re.compile(r"^h3:(\d{1,2})$")
_TRUE = {"1", "true", "yes", "y", "t"}


def parse_kind(kind: str) -> tuple[str, int | Path | None]:
    """Split a ``--candidates`` value into (kind, argument).

    >>> parse_kind("substations")
    ('substations', None)
    >>> parse_kind("h3:6")
    ('h3', 6)
    """
    if kind == "substations":
        return "substations", None
    m = _H3.match(kind.strip().lower())
    if m:
        res = int(m.group(1))
        if not 0 <= res <= H3_MAX_RES:
            raise SettingsError(
                f"--candidates h3:{res}: H3 resolution must be 0 to {H3_MAX_RES} "
                "(7 is about 5 km2 per cell; finer grids belong on a smaller region)"
            )
        return "h3", res
    if kind.lower().startswith("h3"):
        raise SettingsError(f"--candidates {kind!r}: write h3:<resolution>, e.g. h3:6")
    path = Path(kind)
    if not path.suffix:
        raise SettingsError(
            f"--candidates {kind!r}: use 'substations', 'h3:<res>' or a file of sites "
            "(GeoJSON, GeoPackage, GeoParquet or CSV with lat/lon)"
        )
    return "file", path


def from_substations(layers: Layers, min_kv: float) -> gpd.GeoDataFrame:
    """Every substation in the region at or above ``min_kv``: a site at the substation."""
    subs = layers.in_region("substations")
    subs = subs[(subs["voltage_kv"] >= min_kv).to_numpy() & grids.connectable(subs)]
    return gpd.GeoDataFrame(
        {
            "site_id": "sub-" + subs["sub_id"].astype(str),
            "site_name": grids.display_names(subs).astype(str),
            "candidate_kind": "substation",
            "existing_site": False,
            "poi_sub_id": subs["sub_id"].astype(str),
        },
        geometry=subs.geometry.to_numpy(),
        crs="EPSG:4326",
    ).reset_index(drop=True)


#: Peak memory of a single-process ranking per H3 cell: 9.0 GB for the 1.51 million cells
#: of the contiguous US at resolution 7 (`geo-rank --region US --candidates h3:7
#: --all-candidates --format parquet`, pandas 3.1, measured for issue 31).
BYTES_PER_CELL = 5_950


def h3_estimate(boundary: BaseGeometry, res: int) -> tuple[float, float]:
    """About how many H3 cells of ``res`` cover ``boundary`` (its geodesic area over the
    average cell area) and the peak memory of ranking them in one process, bytes."""
    import h3  # lazily, as below

    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(boundary)[0]) / 1e6
    cells = area_km2 / h3.average_hexagon_area(res, unit="km^2")
    return cells, cells * BYTES_PER_CELL


def from_h3(layers: Layers, res: int) -> gpd.GeoDataFrame:
    """The centre of every H3 cell of resolution ``res`` over the region's land."""
    sites = h3_sites(*cells_in(layers.boundary, res))
    log.info("%d H3 cells at resolution %d over %s", len(sites), res, layers.region)
    return sites


def h3_sites(ints: np.ndarray, latlng: np.ndarray) -> gpd.GeoDataFrame:
    """H3 cells (uint64) and their centres ((lat, lon) rows) as candidate sites."""
    return gpd.GeoDataFrame(
        {
            "site_id": _hex_column(ints),
            "site_name": _hex_column(ints, prefix="H3 "),
            "candidate_kind": "h3",
            "existing_site": False,
        },
        geometry=gpd.points_from_xy(latlng[:, 1], latlng[:, 0]),
        crs="EPSG:4326",
    )


#: Resolutions between the coarse cells that :func:`cells_in` tests against the outline
#: and the cells it returns (7**3 = 343 children each).
_COARSE_STEP = 3


def cells_in(boundary: shapely.Geometry, res: int) -> tuple[np.ndarray, np.ndarray]:
    """The H3 cells of resolution ``res`` whose centre lies inside ``boundary`` (lon/lat),
    sorted as integers (at one resolution, the order of their hex strings), and their
    centres as (lat, lon) rows.

    The cells of ``h3shape_to_cells(..., contain="center")``, found faster: the coarse cells
    (``res - 3``) that overlap the outline, with their neighbours (a cell's descendants
    reach a little past its own outline), are expanded to ``res``, and each child's centre
    is tested with shapely's vectorised point-in-polygon. An outline wider than 180 degrees
    of longitude (across the antimeridian, as H3 reads it) goes to H3 directly.
    :func:`h3_parents` and :func:`cells_of_parents` are the two halves (the Dask engine
    runs the second on its workers, a share of the parents each).
    """
    parents, test = h3_parents(boundary, res)
    return cells_of_parents(parents, res, boundary if test else None)


def h3_parents(boundary: shapely.Geometry, res: int) -> tuple[np.ndarray, bool]:
    """The parent cells whose children at ``res`` hold every cell of :func:`cells_in`
    (uint64, sorted, distinct; two parents never share a child) and whether those children
    are still to be tested against ``boundary`` (False: the parents are the cells)."""
    import h3
    import h3.api.numpy_int as h3n

    shape = h3.geo_to_h3shape(shapely.geometry.mapping(boundary))
    minx, _, maxx, _ = boundary.bounds
    if res <= _COARSE_STEP or maxx - minx > 180:
        return np.unique(np.asarray(h3n.h3shape_to_cells_experimental(
            shape, res, contain="center"), dtype=np.uint64)), False
    coarse = np.asarray(h3n.h3shape_to_cells_experimental(
        shape, res - _COARSE_STEP, contain="overlap"), dtype=np.uint64)
    return np.unique(np.concatenate(
        [coarse, *(np.asarray(h3n.grid_disk(int(c), 1), dtype=np.uint64)
                   for c in coarse.tolist())])), True


def cells_of_parents(parents: np.ndarray, res: int, boundary: shapely.Geometry | None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The children at ``res`` of ``parents`` (:func:`h3_parents`) whose centre lies inside
    ``boundary`` (every child when None), sorted as integers, and their centres as
    (lat, lon) rows."""
    import h3.api.numpy_int as h3n

    if len(parents) == 0:
        return np.empty(0, dtype=np.uint64), np.empty((0, 2))
    ints, latlng = _sorted_with_centres(np.asarray(
        h3n.uncompact_cells(np.asarray(parents, dtype=np.uint64), res), dtype=np.uint64))
    if boundary is None:
        return ints, latlng
    shapely.prepare(boundary)
    inside = shapely.contains_xy(boundary, latlng[:, 1], latlng[:, 0])
    return ints[inside], latlng[inside]


def _sorted_with_centres(ints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells sorted as integers and their centres, (lat, lon) rows."""
    ints = np.sort(ints)
    # h3 has no vectorised centre function: one C call per cell, no Python-level work.
    latlng = np.fromiter(itertools.chain.from_iterable(map(_centre_function(), ints.tolist())),
                         dtype=float, count=2 * len(ints)).reshape(-1, 2)
    return ints, latlng


def _centre_function() -> Callable[[int], tuple[float, float]]:
    """h3's ``cell_to_latlng`` for integer cells without its API layer when h3 has it: the
    numpy_int API's function only passes the integer on (``_in_scalar`` is the identity)
    to ``h3._cy.cell_to_latlng``, two Python calls per cell (about a quarter of the time)
    that give the same numbers."""
    import h3.api.numpy_int as h3n

    try:
        from h3 import _cy
    except ImportError:  # pragma: no cover - a future h3 without the module
        return h3n.cell_to_latlng
    direct = getattr(_cy, "cell_to_latlng", None)
    return direct if callable(direct) else h3n.cell_to_latlng


def _hex_digits(cells: np.ndarray) -> np.ndarray | None:
    """The lower-case hex digits of H3 cells (uint64), one row of ASCII bytes per cell, or
    None where the cells do not all have as many digits (never at one resolution)."""
    width = max(1, (int(cells.max()).bit_length() + 3) // 4)
    if (cells < np.uint64(1) << np.uint64(4 * (width - 1))).any():
        return None
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    nibbles = ((cells[:, None] >> shifts) & np.uint64(15)).astype(np.uint8)
    digits: np.ndarray = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles]
    return digits


def _hex(cells: np.ndarray) -> np.ndarray:
    """H3 cells (uint64) as their lower-case hex strings, without a Python loop (object)."""
    if len(cells) == 0:
        return np.array([], dtype=object)
    digits = _hex_digits(cells)
    if digits is None:  # a narrower cell (never in practice) would lead with 0s
        return np.array([format(int(c), "x") for c in cells.tolist()], dtype=object)
    return digits.view(f"S{digits.shape[1]}").ravel().astype(str).astype(object)


def _hex_column(cells: np.ndarray, prefix: str = "") -> object:
    """``prefix`` + :func:`_hex` of each cell as a frame holds it (:func:`pandas_form`).

    Where the frame would hold arrow text (pandas 3), the arrow array is made from the
    digits' bytes (fixed width: the offsets are a range), not from a Python string per cell.
    """
    kind = pandas_form(np.array(["h3"], dtype=object))
    arrow = getattr(getattr(kind, "dtype", None), "storage", None) == "pyarrow"
    digits = _hex_digits(cells) if len(cells) and arrow else None
    if digits is None:  # objects (pandas < 3), or no cells
        return prefix + _hex(cells) if prefix else _hex(cells)
    import pyarrow as pa

    lead = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    data = np.hstack([np.broadcast_to(lead, (len(cells), len(lead))), digits])
    offsets = np.arange(len(cells) + 1, dtype=np.int64) * data.shape[1]
    text = pa.LargeStringArray.from_buffers(len(cells), pa.py_buffer(offsets),
                                            pa.py_buffer(np.ascontiguousarray(data)))
    return type(kind)(pa.chunked_array([text]),  # type: ignore[call-arg]
                      dtype=kind.dtype)  # type: ignore[attr-defined]


def from_file(path: Path) -> gpd.GeoDataFrame:
    """The user's own sites from a file (GeoJSON, GeoPackage, GeoParquet, CSV with lat/lon)."""
    return from_frame(read_file(path), source=str(path))


def from_frame(gdf: gpd.GeoDataFrame, source: str = "candidates") -> gpd.GeoDataFrame:
    """The user's own sites (points; polygons become their representative point).

    An ``id`` or ``site_id`` column names the sites, ``name`` or ``site_name`` labels them,
    a true ``existing_site`` marks a site that is already energized, and ``existing_mw`` (MW,
    empty where none) gives its energized, contracted capacity (the energized power path).
    """
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise LayerValidationError(f"{source}: sites need a geometry column or lat/lon columns")
    if gdf.crs is None:
        raise LayerValidationError(
            f"{source}: sites have no CRS; set one (e.g. EPSG:4326) and save again")
    if len(gdf) == 0:
        raise LayerValidationError(f"{source}: no sites in the file")
    gdf, geoms = site_points(gdf, source)
    cols = {str(c).lower(): c for c in gdf.columns}
    id_col = next((cols[c] for c in ("site_id", "id") if c in cols), None)
    ids = (gdf[id_col].astype(str) if id_col is not None
           else pd.Series([f"site-{i + 1}" for i in range(len(gdf))], index=gdf.index))
    if ids.duplicated().any():
        dups = ids[ids.duplicated(keep=False)].unique()[:5]
        raise LayerValidationError(
            f"{source}: column {id_col!r} has duplicate site ids {', '.join(dups)}; "
            "make them unique")
    name_col = next((cols[c] for c in ("site_name", "name") if c in cols), None)
    names = ids
    if name_col is not None:  # a blank name falls back on the site's id
        given = gdf[name_col].astype(object)
        text = given.where(given.notna(), "").astype(str).str.strip()
        names = text.where(text != "", ids)
    existing = (gdf[cols["existing_site"]].astype(str).str.strip().str.lower().isin(_TRUE)
                if "existing_site" in cols else pd.Series(False, index=gdf.index))
    columns = {"site_id": ids.to_numpy(), "site_name": names.to_numpy(),
               "candidate_kind": "file", "existing_site": existing.to_numpy(dtype=bool)}
    if "existing_mw" in cols:
        columns["existing_mw"] = _existing_mw(gdf[cols["existing_mw"]], source)
        columns["existing_site"] = columns["existing_site"] | (columns["existing_mw"] > 0)
    return gpd.GeoDataFrame(
        columns,
        geometry=geoms.to_numpy(),
        crs="EPSG:4326",
    )


def _existing_mw(values: pd.Series, source: str) -> np.ndarray:
    """The ``existing_mw`` column as floats (empty: NaN); refuse text and negative numbers."""
    text = values.astype(object).where(values.notna(), None)
    blank = text.map(lambda v: v is None or str(v).strip() == "")
    mw = pd.to_numeric(values.where(~blank), errors="coerce").to_numpy(dtype=float, copy=True)
    bad = (~blank.to_numpy() & np.isnan(mw)) | (mw < 0) | np.isinf(mw)
    if bad.any():
        raise LayerValidationError(
            f"{source}: column existing_mw must be a number of MW >= 0 or empty "
            f"({rows_as_shown(source, np.flatnonzero(bad))})")
    return mw


def site_points(gdf: gpd.GeoDataFrame, source: str, what: str = "sites",
                ) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """``gdf`` in EPSG:4326 and one point per row (polygons: their representative point).

    Refuses rows without coordinates and coordinates outside lon/lat range, naming the rows
    (the user's candidate sites and the known sites of ``geo-rank evaluate``).
    """
    if gdf.crs is None:
        raise LayerValidationError(
            f"{source}: {what} have no CRS; set one (e.g. EPSG:4326) and save again")
    gdf = gdf.to_crs("EPSG:4326")
    geoms = gdf.geometry
    bad = np.flatnonzero((geoms.isna() | geoms.is_empty).to_numpy())
    if len(bad):
        raise LayerValidationError(
            f"{source}: {what} without coordinates in {rows_as_shown(source, bad)}; "
            "fill them or drop the rows")
    if not geoms.geom_type.isin(["Point"]).all():
        geoms = geoms.representative_point()
    b = geoms.bounds
    out = np.flatnonzero(((b.minx.abs() > 180) | (b.miny.abs() > 90)).to_numpy())
    if len(out):
        raise LayerValidationError(
            f"{source}: coordinates outside lon -180..180 / lat -90..90 in "
            f"{rows_as_shown(source, out)}; is the CRS right? (or are lat and lon swapped?)")
    return gdf, geoms


#: A user's site this close to the region's outline (degrees, about 1 km) is inside: the
#: outlines are generalised, and a site on the coast or on a border is not an error.
OUTLINE_TOLERANCE_DEG = 0.01


def check_in_region(sites: gpd.GeoDataFrame, layers: Layers, source: str, *,
                    allow_outside: bool = False) -> gpd.GeoDataFrame:
    """Refuse a user's sites outside the region, naming the rows as the file shows them
    (the header is row 1) and the likely fix; with ``allow_outside`` keep them and warn.

    A site within :data:`OUTLINE_TOLERANCE_DEG` of the outline counts as inside.
    """
    if len(sites) == 0 or layers is None:  # no region given (a bare call): nothing to check
        return sites
    outline = layers.boundary
    points = sites.geometry.to_numpy()
    shapely.prepare(outline)
    inside = shapely.intersects(outline, points)
    if not inside.all():
        near = shapely.dwithin(outline, points[~inside], OUTLINE_TOLERANCE_DEG)
        inside[np.flatnonzero(~inside)[near]] = True
    out = np.flatnonzero(~inside)
    if not len(out):
        return sites
    first = sites.iloc[out[0]]
    example = (f"{first['site_name']} at lat {first.geometry.y:g}, lon {first.geometry.x:g}")
    swapped = sum(bool(shapely.intersects(outline, shapely.Point(p.y, p.x)))
                  for p in points[out[:50]])
    hint = (f"are lat and lon swapped? (swapped, {swapped} of them fall inside); " if swapped
            else "check the coordinates and their CRS; ")
    what = (f"{source}: {len(out):,} of {len(sites):,} sites outside {layers.region} "
            f"({rows_as_shown(source, out)}; {example})")
    if allow_outside:
        log.warning("%s; kept (--allow-outside): no POI or price may reach them", what)
        return sites
    raise LayerValidationError(f"{what}; {hint}fix the rows, choose a region that holds "
                               "them, or keep them with --allow-outside")


def generate(layers: Layers, kind: str | gpd.GeoDataFrame = "substations", *,
             min_kv: float = 115.0, allow_outside: bool = False) -> gpd.GeoDataFrame:
    """Candidate sites for a region.

    Parameters
    ----------
    layers
        The region's layers (:func:`layers.load`).
    kind
        ``"substations"``, ``"h3:<res>"``, a path to a sites file, or a GeoDataFrame of
        sites.
    min_kv
        Voltage floor of substation candidates.

    Raises
    ------
    SettingsError
        For an unknown kind or an H3 resolution out of range.
    """
    if isinstance(kind, gpd.GeoDataFrame):
        return check_in_region(from_frame(kind), layers, "candidates",
                               allow_outside=allow_outside)
    what, arg = parse_kind(kind)
    if what == "substations":
        sites = from_substations(layers, min_kv)
    elif what == "h3":
        sites = from_h3(layers, int(arg))  # type: ignore[arg-type]
    else:
        sites = check_in_region(from_file(arg), layers, str(arg),  # type: ignore[arg-type]
                                allow_outside=allow_outside)
    log.info("%d candidate sites (%s)", len(sites), kind)
    return sites


def machine_memory() -> float:
    """This machine's physical memory, bytes (NaN where the system does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("nan")


def warn_memory(bundle: Layers, candidates: Any, engine: str) -> None:
    """Say before the long work when an H3 surface ranked in one process would need more
    than 80 % of this machine's memory (:data:`BYTES_PER_CELL` per cell)."""
    if engine != "local" or not isinstance(candidates, str):
        return
    kind, res = parse_kind(candidates)
    if kind != "h3" or not isinstance(res, int):
        return
    cells, need = h3_estimate(bundle.boundary, res)
    have = machine_memory()
    if need > 0.8 * have:
        log.warning("--candidates %s over %s: about %s cells, about %.0f GB in one process "
                    "(%s KB a cell); this machine has %.0f GB: use --engine dask with a "
                    "partitioned dataset, a smaller region or a coarser resolution",
                    candidates, bundle.region, f"{cells:,.0f}", need / 1e9,
                    f"{BYTES_PER_CELL / 1e3:.1f}", have / 1e9)
