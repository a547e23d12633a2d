"""An on-disk cache for results that depend only on the layers and the settings.

A cache entry is a parquet file ``<name>-<key>.parquet`` in ``settings.cache_dir``. The key
is a SHA-256 over content hashes of the input layers (:func:`frame_hash`), the settings
(:func:`settings_token`: the grid settings only) and ``geo.__version__``,
so changing any input, any setting or the code version gives a fresh entry. Entries are
written atomically (temporary file, then :func:`os.replace`), so a crash never leaves a
half-written file that a later run would trust. ``DataFrame.attrs`` travel with the entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo import __version__
from geo.configuration import keyed
from geo.settings import Settings
from layers.atomic import atomic_path

LOG = logging.getLogger(__name__)

#: Bump when the layout of a cached table changes without a version bump of geo-rank.
CACHE_FORMAT = 1

#: The settings grid metrics depend on, as declared on each field of
#: :class:`~geo.settings.Settings` (``json_schema_extra=GRID``); ranking, cost and cache
#: settings are left out so that changing a score weight never recomputes hosting.
GRID_SETTINGS = keyed("grid")


def frame_hash(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> str:
    """SHA-256 of a (Geo)DataFrame's content in ``columns`` (all when None).

    The same values give the same hash whatever the pandas, numpy or shapely version (the
    shipped grid results, :mod:`geo.grid.shipped`, rely on it): numbers and booleans are hashed
    as float64 bytes (every NaN alike), geometries as WKB, anything else as its text
    (null apart). Row order matters, the index does not. Missing columns are skipped.
    """
    cols = [c for c in (frame.columns if columns is None else columns) if c in frame.columns]
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in cols]).encode())
    h.update(str(len(frame)).encode())
    for col in cols:
        values = frame[col]
        h.update(str(col).encode())
        if getattr(values.dtype, "name", "") == "geometry":
            wkb = shapely.to_wkb(np.asarray(values.array), hex=False)
            # one update of the joined bytes hashes the same as one update per item
            h.update(b"".join([b"\x00" if item is None else item for item in wkb]))
        elif pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
                values.dtype):
            numbers = values.to_numpy(dtype="float64", na_value=np.nan, copy=True)
            numbers[np.isnan(numbers)] = np.nan      # one NaN bit pattern
            h.update(b"n" + numbers.tobytes())
        else:
            text = values.to_numpy(dtype=object)
            null = pd.isna(text)
            h.update(b"s" + null.tobytes())
            h.update("\x1f".join("" if n else str(x) for x, n in zip(text, null,
                                                                     strict=True)).encode())
    return h.hexdigest()


def settings_token(settings: Settings) -> dict[str, Any]:
    """The settings that belong in a grid cache key (:data:`GRID_SETTINGS`)."""
    values = settings.as_dict()
    return {k: values[k] for k in GRID_SETTINGS}


def make_key(*parts: Any) -> str:
    """SHA-256 hex key of JSON-serialisable ``parts`` plus the code version."""
    payload = json.dumps([CACHE_FORMAT, __version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def path_for(name: str, key: str, settings: Settings) -> Path:
    """Where the cache entry ``name``/``key`` lives."""
    return Path(settings.cache_dir) / f"{name}-{key[:32]}.parquet"


def load(name: str, key: str, settings: Settings) -> pd.DataFrame | None:
    """The cached table, or None when absent, disabled or unreadable (logged, not raised)."""
    if not settings.use_cache:
        return None
    path = path_for(name, key, settings)
    if not path.exists():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # a corrupt entry is a miss, never an error
        LOG.warning("ignoring unreadable cache entry %s (%s)", path, exc)
        return None
    LOG.info("cache hit: %s", path)
    return frame


def store(name: str, key: str, frame: pd.DataFrame, settings: Settings) -> Path | None:
    """Write ``frame`` atomically; returns the path, or None when caching is off or fails."""
    if not settings.use_cache:
        return None
    path = path_for(name, key, settings)
    try:
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp)
    except OSError as exc:  # a read-only cache folder must not stop the analysis
        LOG.warning("could not write cache entry %s (%s)", path, exc)
        return None
    LOG.info("cache stored: %s", path)
    return path


def cached(name: str, key: str, settings: Settings,
           compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Return the cached table for ``key`` or compute, store and return it."""
    hit = load(name, key, settings)
    if hit is not None:
        hit.attrs["cache"] = "hit"
        return hit
    frame = compute()
    store(name, key, frame, settings)
    frame.attrs["cache"] = "miss" if settings.use_cache else "off"
    return frame
