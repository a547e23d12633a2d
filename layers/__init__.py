"""geo-rank's data side: schemas, loaders, source adapters and the data build.

``layers`` never imports ``geo``. The layer kinds are one table, ``layers/kinds.csv``
(:mod:`layers.kinds`).
"""

from layers import kinds
from layers.bundle import Layers, load
from layers.read import read_file, read_layer
from layers.schema import validate

__all__ = ["Layers", "kinds", "load", "read_file", "read_layer", "validate"]
