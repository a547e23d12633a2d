"""geo-rank's data side: schemas, loaders, source adapters and the data build.

``layers`` never imports ``geo``. The layer kinds are one table, ``layers/kinds.csv``
(:mod:`layers.kinds`).

The names below are imported on first use (PEP 562), so importing a light submodule such as
:mod:`layers.errors` does not load geopandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from layers.lazy import getattr_of

if TYPE_CHECKING:
    from layers import kinds
    from layers.bundle import Layers, load
    from layers.read import read_file, read_layer
    from layers.schema import validate

__all__ = ["Layers", "kinds", "load", "read_file", "read_layer", "validate"]

#: Public name -> the module that defines it.
_LAZY = {"Layers": "layers.bundle", "load": "layers.bundle", "read_file": "layers.read",
         "read_layer": "layers.read", "validate": "layers.schema"}


__getattr__ = getattr_of(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
