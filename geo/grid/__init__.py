"""The power-flow engine: the grid graph, DC hosting (N-0) and firm hosting (N-1).

:mod:`geo.grid.model` holds the graph's data model (:class:`GridGraph`, :class:`GridReport`);
:mod:`geo.grid.network` builds the graph (:func:`build`) and the per-substation metrics
(:func:`metrics`); the rest are its parts: ``lines`` (snapping and merging circuits),
``circuits``, ``lodf``, ``contingency``, ``hosting``, ``dispatch`` (who serves the new
load), ``queue`` (loads already queued), ``cache`` (the disk cache and its keys),
``shipped``, ``shipped_build`` and ``summary`` (results shipped with the package), ``report``
(the ``geo-rank grid`` summary of a metrics table).

The names below are imported on first use (PEP 562), so importing a light submodule such as
:mod:`geo.grid.summary` (the fast ``geo-rank grid --json``) does not load the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    try:  # a submodule read as an attribute (``grid.hosting``) before anything imported it
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
