"""The map's context layers formatted once: a disk cache of their JSON text.

Drawing the US context layers (simplifying 11,000 lines and the territories' outlines,
rounding every coordinate and writing it as JSON) is about half of a warm
``geo-rank --region US``. What it writes depends only on the rows it draws, the drawing
parameters and the code that draws them, so :class:`LayerCache` keeps each layer's text in
``settings.cache_dir`` (``map-<layer>-<key>.json``, written atomically) and serves it while
all of them are unchanged.

The key is a SHA-256 over :data:`CACHE_FORMAT`, geo-rank's version, the source text of the
modules that format a layer (:data:`CODE_FILES`, so an edited formatter never reads an
old entry, released or not), the versions of Python, numpy, pandas, shapely and GEOS (the
simplification is GEOS's), the layer's name and drawing parameters, and the exact content
of the columns it reads (:func:`content_hash`: each value as its bytes or its ``repr``,
with the dtype, so ``1`` and ``"1"`` or two ids that share a float differ). A changed input
gives a new key; an entry whose stored key differs or that cannot be read is a miss, never
an error. ``use_cache = false`` (``--no-cache``) reads and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo import __version__
from layers.atomic import atomic_path

log = logging.getLogger(__name__)

#: Bump when the layout of an entry changes.
CACHE_FORMAT = 1
#: The files (in ``geo/web``) whose source keys every entry: the formatters, what they call
#: and this module.
CODE_FILES = ("layers.py", "territories.py", "style.py", "layer_cache.py")


@dataclass(frozen=True)
class LayerCache:
    """Where the context layers' text is kept (``folder`` None: nothing is cached)."""

    folder: Path | None

    @classmethod
    def of(cls, settings: Any) -> LayerCache:
        """The cache of a run's :class:`~geo.settings.Settings` (off with ``use_cache``
        false, or when the formatters' source cannot be read)."""
        on = settings.use_cache and code_hash() is not None
        return cls(Path(settings.cache_dir) if on else None)

    def get(self, name: str, params: Sequence[Any], frame: pd.DataFrame,
            columns: Iterable[str], compute: Callable[[], Any]) -> Any:
        """The cached value of layer ``name`` drawn from ``frame[columns]`` with ``params``,
        else ``compute()`` (JSON values only), stored. A hit and a miss return the same:
        the computed value goes through JSON too."""
        if self.folder is None:
            return compute()
        run_key = key(name, params, frame, columns)
        path = self.folder / f"map-{name}-{run_key[:32]}.json"
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(entry, dict) and entry.get("key") == run_key and "value" in entry:
                log.debug("map layer %s from the cache %s", name, path)
                return entry["value"]
        except (OSError, ValueError):
            pass  # absent or unreadable: a miss
        text = json.dumps({"key": run_key, "value": compute()}, ensure_ascii=False,
                          allow_nan=False, separators=(",", ":"))
        try:
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        except OSError as exc:  # a read-only cache folder must not stop the map
            log.warning("could not write the map cache entry %s (%s)", path, exc)
        return json.loads(text)["value"]


OFF = LayerCache(None)


def key(name: str, params: Sequence[Any], frame: pd.DataFrame,
        columns: Iterable[str]) -> str:
    """The entry's key: format, versions, the formatters' source, name, params, content."""
    payload = json.dumps([CACHE_FORMAT, __version__, code_hash(), _versions(), name,
                          list(params), content_hash(frame, columns)], default=repr)
    return hashlib.sha256(payload.encode()).hexdigest()


@cache
def code_hash() -> str | None:
    """SHA-256 of the source of :data:`CODE_FILES` (None when one cannot be read)."""
    h = hashlib.sha256()
    for name in CODE_FILES:
        try:
            h.update(Path(__file__).with_name(name).read_bytes())
        except OSError:
            return None
    return h.hexdigest()


def _versions() -> list[str]:
    return [sys.version.split()[0], np.__version__, pd.__version__, shapely.__version__,
            shapely.geos_version_string]


def content_hash(frame: pd.DataFrame, columns: Iterable[str]) -> str:
    """SHA-256 of ``frame[columns]`` exactly: the column names and dtypes, every value
    (numbers and times as their bytes, geometries as WKB, anything else as its ``repr``),
    the row count and the CRS. A column ``frame`` lacks counts as absent (named, no values)."""
    h = hashlib.sha256()
    crs = getattr(frame, "crs", None)
    h.update(f"{len(frame)} {crs.to_string() if crs is not None else None}".encode())
    for col in columns:
        if col not in frame.columns:
            h.update(f"\x1eabsent {col!r}".encode())
            continue
        values = frame[col]
        h.update(f"\x1e{col!r} {values.dtype}".encode())
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biufcmM":
            h.update(np.ascontiguousarray(values.to_numpy()).tobytes())
        elif str(values.dtype) == "geometry":
            wkb = shapely.to_wkb(np.asarray(values.array), hex=False, include_srid=True)
            h.update(b"".join(b"\x00" if w is None else len(w).to_bytes(8, "little") + w
                              for w in wkb))
        else:
            h.update("\x1f".join(map(repr, values.to_numpy(dtype=object))).encode())
    return h.hexdigest()
