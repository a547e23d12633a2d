"""Partitions of the Dask engine (:mod:`geo.engine`): the cluster, the spatial order, and
H3 surfaces whose partitions generate their own cells on the workers.

An H3 surface ranked into a partitioned dataset (``--candidates h3:<res> --engine dask
--format parquet --all-candidates``) is never generated on the client. :func:`plan` lists
the coarse parent cells of the region (:func:`geo.candidates.h3_parents`), orders them
along a Hilbert curve of their centres (ties: the cell's number) and cuts that list into
partitions of about ``partition_sites`` cells; a worker generates a partition's cells from
its parents (:func:`geo.candidates.cells_of_parents`, the single-process inclusion rule:
two parents never share a child, so the partitions hold exactly the cells of
:func:`geo.candidates.cells_in`). The task graph carries only the parent lists; the
layers and the settings go to every worker once (``Client.scatter(..., broadcast=True)``).

:func:`survey` is a first pass over the partitions that returns only what the client needs
before the grid metrics: the number of cells, the POIs in reach of them
(:func:`geo.join.reachable_pois`, a union over the partitions) and the exact sums behind
the outline projection centres (:func:`geo.outlines.centre_of`, the same bits as over all
cells at once). The cells are generated again in the ranking pass: a partition's cells
take about a second to generate, keeping them would make the workers' memory grow.

Dask is an optional extra, imported only here and only for ``engine="dask"``.
"""

from __future__ import annotations

import contextlib
import logging
import resource
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo import candidates, join, outlines
from geo._memory import release_memory
from geo.errors import DependencyError, SettingsError
from geo.settings import Settings
from layers import Layers

log = logging.getLogger(__name__)

#: One line for the CLI when the extra is missing.
INSTALL_HINT = "--engine dask needs the dask extra: pip install 'geo-rank[dask]'"


def import_dask() -> tuple[Any, Any, Any]:
    """(dask, dask_geopandas, distributed), or a :class:`DependencyError` with the hint."""
    try:
        import dask
        import dask_geopandas
        import distributed
    except ImportError:
        raise DependencyError(INSTALL_HINT) from None
    return dask, dask_geopandas, distributed


@contextlib.contextmanager
def cluster(distributed: Any, scheduler: str | None) -> Iterator[Any]:
    """A client of ``scheduler``, or of a local two-worker cluster closed afterwards."""
    local = None
    if scheduler is None:
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
        client = distributed.Client(local)
    else:
        client = distributed.Client(scheduler)
    try:
        yield client
    finally:
        client.close()
        if local is not None:
            local.close()


def check_partition_sites(partition_sites: int) -> int:
    """``partition_sites``, refused unless a whole number >= 1."""
    if isinstance(partition_sites, bool) or not isinstance(partition_sites, int) \
            or partition_sites < 1:
        raise SettingsError(f"partition_sites must be a whole number >= 1, not {partition_sites!r}")
    return partition_sites


def cells_on_workers(kind: Any, engine: str, dataset: Any) -> int | None:
    """The H3 resolution when the Dask workers generate the cells (``--candidates
    h3:<res>`` ranked into a partitioned dataset on Dask), else None."""
    if engine != "dask" or dataset is None or not isinstance(kind, str):
        return None
    what, res = candidates.parse_kind(kind)
    return res if what == "h3" and isinstance(res, int) else None


def spatial_order(points: gpd.GeoSeries) -> np.ndarray:
    """Positions that sort points along a Hilbert curve of lon/lat
    (:meth:`geopandas.GeoSeries.hilbert_distance` over the whole globe, 16 bits an axis)."""
    key = points.hilbert_distance(total_bounds=(-180.0, -90.0, 180.0, 90.0), level=16)
    return np.argsort(key.to_numpy(), kind="stable")


@dataclass(frozen=True)
class CellPart:
    """One partition of an H3 surface: its parent cells (uint64) and the resolution."""

    res: int
    parents: np.ndarray
    #: the children are tested against the region's outline (False: the parents are the
    #: cells, :func:`geo.candidates.h3_parents`)
    test: bool = True

    def sites(self, boundary: shapely.Geometry) -> gpd.GeoDataFrame:
        """The partition's candidate sites (:func:`geo.candidates.h3_sites`)."""
        ints, latlng = candidates.cells_of_parents(self.parents, self.res,
                                                   boundary if self.test else None)
        return candidates.h3_sites(ints, latlng)


@dataclass
class Surface:
    """An H3 surface planned for Dask (:func:`plan`) and surveyed (:func:`survey`)."""

    res: int
    parts: list[CellPart]
    count: int = 0
    #: the POIs in reach of a cell (:func:`geo.join.reachable_pois`), sorted
    pois: list[str] = field(default_factory=list)
    #: the outline projection centres (:func:`geo.outlines.centre_of`) by layer
    centres: dict[str, tuple[float, float] | None] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.count


def plan(boundary: shapely.Geometry, res: int, partition_sites: int) -> list[CellPart]:
    """The parent cells of ``boundary``'s cells at ``res`` in Hilbert order, cut into parts
    of about ``partition_sites`` cells (a parent of resolution ``p`` counts as
    ``7 ** (res - p)`` cells; those on the coast hold fewer)."""
    import h3.api.numpy_int as h3n

    parents, test = candidates.h3_parents(boundary, res)
    if len(parents) == 0:
        return []
    lat, lon = np.array([h3n.cell_to_latlng(int(c)) for c in parents.tolist()]).T
    parents = parents[spatial_order(gpd.GeoSeries(gpd.points_from_xy(lon, lat)))]
    per_parent = 7 ** (res - h3n.get_resolution(int(parents[0])))
    nparts = min(len(parents), max(1, -(-len(parents) * per_parent // partition_sites)))
    return [CellPart(res, chunk, test) for chunk in np.array_split(parents, nparts)]


def exact_sum(values: np.ndarray) -> Fraction:
    """The exact sum of finite floats, as a fraction.

    Each float is ``m * 2**e`` with ``|m| < 2**53``; the ``m`` of one ``e`` are summed as
    integers in two 32-bit halves (no overflow below 2**31 values). Sums of separate
    partitions add exactly, and ``float(total) / n`` is the correctly rounded
    :func:`math.fsum` over every value divided by ``n`` (:func:`geo.outlines.centre_of`).
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[v != 0]
    if len(v) == 0:
        return Fraction(0)
    if not np.isfinite(v).all():
        raise ValueError("exact_sum of a value that is not finite")
    mant, exp = np.frexp(v)
    m = np.ldexp(mant, 53).astype(np.int64)
    e = exp.astype(np.int64) - 53
    order = np.argsort(e, kind="stable")
    e, m = e[order], m[order]
    starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    high = np.add.reduceat(m >> 32, starts)
    low = np.add.reduceat(m & 0xFFFFFFFF, starts)
    total = Fraction(0)
    for h, lo, x in zip(high.tolist(), low.tolist(), e[starts].tolist(), strict=True):
        total += Fraction((h << 32) + lo) * Fraction(2) ** x
    return total


@dataclass(frozen=True)
class _Shared:
    """What every survey task needs besides its parents (broadcast once)."""

    layers: Layers
    settings: Settings


def release_worker_memory() -> None:
    """Hand a partition's freed memory back to the system: glibc's heap
    (:func:`geo._memory.release_memory`) and arrow's pool (mimalloc or jemalloc keep freed
    pages; measured on the US at H3 res 8, a worker writing its parts grew from 0.4 to
    2.3 GB without this)."""
    release_memory()
    with contextlib.suppress(ImportError, AttributeError):
        import pyarrow as pa

        pa.default_memory_pool().release_unused()


def worker_memory_mb() -> tuple[float, float]:
    """This process's resident memory now and its peak so far, MB (Linux; NaN elsewhere)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20, peak
    except (OSError, ValueError, IndexError):
        return float("nan"), peak


def _survey(part: CellPart, shared: _Shared) -> dict[str, Any]:
    """A partition's cell count, POIs in reach and outline sums (cells not kept)."""
    sites = part.sites(shared.layers.boundary)
    if len(sites) == 0:
        return {"n": 0}
    pois = join.reachable_pois(sites, shared.layers.substations, shared.settings)
    sums = {name: (len(xy), exact_sum(xy[:, 1]), exact_sum(xy[:, 0]))
            for name, xy in outlines.outside_lonlat(sites, shared.layers).items()}
    n = len(sites)
    del sites
    release_worker_memory()
    return {"n": n, "pois": pois, "sums": sums}


def survey(layers: Layers, res: int, settings: Settings, scheduler: str | None,
           partition_sites: int) -> Surface:
    """Plan the H3 surface of ``layers.boundary`` at ``res`` and survey it on Dask."""
    _, _, distributed = import_dask()
    parts = plan(layers.boundary, res, partition_sites)
    count = 0
    pois: set[str] = set()
    sums: dict[str, list[Any]] = {name: [0, Fraction(0), Fraction(0)]
                                  for name in outlines.OUTLINE_LAYERS}
    with cluster(distributed, scheduler) as client:
        shared = client.scatter(_Shared(layers, settings), broadcast=True)
        futures = [client.submit(_survey, p, shared, pure=False) for p in parts]
        for future, found in distributed.as_completed(futures, with_results=True):
            future.release()
            count += found["n"]
            if found["n"]:
                pois.update(found["pois"])
                for name, (n, lat, lon) in found["sums"].items():
                    total = sums[name]
                    total[0] += n
                    total[1] += lat
                    total[2] += lon
        del futures
    centres = {name: (float(lat) / n, float(lon) / n) if n else None
               for name, (n, lat, lon) in sums.items()}
    log.info("dask: %d H3 cells at resolution %d over %s in %d partitions of parent cells",
             count, res, layers.region, len(parts))
    return Surface(res, parts, count, sorted(pois), centres)
