"""geo-rank's data side: schemas, loaders, source adapters and the data build.

``layers`` never imports ``geo``.
"""

from layers.bundle import VECTOR_KINDS, Layers, load
from layers.read import read_file, read_layer
from layers.schema import KINDS, validate

__all__ = ["KINDS", "VECTOR_KINDS", "Layers", "load", "read_file", "read_layer", "validate"]
