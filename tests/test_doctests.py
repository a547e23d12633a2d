"""The docstring examples of the library run and give what they show.

Only modules that hold examples are collected (a module without one would pass vacuously),
and every example runs: none is skipped.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import geo
import layers

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"geo.__main__", "layers.build.__main__"}
FINDER = doctest.DocTestFinder()


def _examples(module) -> int:  # type: ignore[no-untyped-def]
    return sum(len(t.examples) for t in FINDER.find(module))


def _modules() -> list[str]:
    names = ["geo", "layers"]
    for pkg in (geo, layers):
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."):
            if info.name not in SKIP:
                names.append(info.name)
    return sorted(n for n in names if _examples(importlib.import_module(n)))


MODULES = _modules()


def test_the_library_has_examples():
    # the two pipeline entry points show how they are called, on real data
    assert {"geo.pipeline", "layers.adapters"} <= set(MODULES)
    assert len(MODULES) >= 10


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # examples name the test fixtures by their path in the repo
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the grid cache of the examples
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
    # a skipped example (doctest: +SKIP) shows what it never checks
    assert result.attempted == _examples(module), f"docstring examples skipped in {name}"
