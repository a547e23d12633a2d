"""The power-flow engine: the grid graph, DC hosting (N-0) and firm hosting (N-1).

:mod:`geo.grid.model` holds the graph's data model (:class:`GridGraph`, :class:`GridReport`);
:mod:`geo.grid.network` builds the graph (:func:`build`) and the per-substation metrics
(:func:`metrics`); the rest are its parts: ``lines`` (snapping and merging circuits),
``circuits``, ``lodf``, ``contingency`` (with ``flowshift``), ``hosting``, ``dispatch``
(who serves the new load), ``queue`` (loads already queued), ``cache`` (the disk cache and
its keys),
``shipped``, ``shipped_build`` and ``summary`` (results shipped with the package), ``report``
(the ``geo-rank grid`` summary of a metrics table).

The names below are imported on first use (PEP 562), so importing a light submodule such as
:mod:`geo.grid.summary` (the fast ``geo-rank grid --json``) does not load the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.lazy import getattr_of

if TYPE_CHECKING:
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

#: Public name -> the module that defines it.
_LAZY = {**{name: "geo.grid.model" for name in __all__[:8]},
         **{name: "geo.grid.network" for name in __all__[8:]}}


__getattr__ = getattr_of(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
