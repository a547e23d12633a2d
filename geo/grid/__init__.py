"""The power-flow engine: the grid graph, DC hosting (N-0) and firm hosting (N-1).

:mod:`geo.grid.model` holds the graph's data model (:class:`GridGraph`, :class:`GridReport`);
:mod:`geo.grid.network` builds the graph (:func:`build`) and the per-substation metrics
(:func:`metrics`); the rest are its parts: ``lines`` (snapping and merging circuits),
``circuits``, ``lodf``, ``contingency``, ``hosting``, ``dispatch`` (who serves the new
load), ``queue`` (loads already queued), ``cache`` (the disk cache and its keys),
``shipped`` and ``shipped_build`` (results shipped with the package).
"""

from geo.grid.model import (
    EDGE_ATTRIBUTES,
    ISOLATED,
    LINE_COLUMNS,
    N_PLUS_1,
    RADIAL,
    SUBSTATION_COLUMNS,
    GridGraph,
    GridReport,
)
from geo.grid.network import backbone_km, build, metrics, plants_hash, redundancy

__all__ = [
    "EDGE_ATTRIBUTES",
    "ISOLATED",
    "LINE_COLUMNS",
    "N_PLUS_1",
    "RADIAL",
    "SUBSTATION_COLUMNS",
    "GridGraph",
    "GridReport",
    "backbone_km",
    "build",
    "metrics",
    "plants_hash",
    "redundancy",
]
