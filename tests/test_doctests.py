"""The docstring examples of the library run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import geo
import layers

SKIP = {"geo.__main__", "layers.build.__main__"}


def _modules() -> list[str]:
    names = ["geo", "layers"]
    for pkg in (geo, layers):
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."):
            if info.name not in SKIP:
                names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
