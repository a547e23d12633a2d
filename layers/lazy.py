"""Names of a package imported on first use (PEP 562), shared by ``layers`` and ``geo.grid``.

A package sets ``__getattr__ = lazy.getattr_of(__name__, {name: module, ...})``: a listed
name is taken from its module when first read; any other name is tried as a submodule
(``grid.hosting`` read before anything imported it), else it is an ``AttributeError``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def getattr_of(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package`` for ``names`` (name -> module)."""
    def attribute(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.{name}":
                raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
    return attribute
