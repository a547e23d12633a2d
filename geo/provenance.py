"""Provenance: where an output came from (version, settings, data sources, date).

Every file geo-rank writes carries this dictionary (see :mod:`geo.io.export` and
:mod:`geo.web`), so a GeoJSON a GIS analyst opens next month still says which version,
which settings and which data vintages produced it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import platform
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import geo
from geo.configuration import keyed
from geo.settings import Settings

#: Marker stored as ``provenance["tool"]``; the export overwrite guard looks for it.
TOOL = "geo-rank"

#: Settings that describe the machine rather than the analysis (left out of provenance).
MACHINE_SETTINGS = keyed("machine")


def build_provenance(
    settings: Settings,
    sources: dict[str, dict[str, str]],
    region: str,
    load_mw: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the provenance dictionary stored in every output.

    Parameters
    ----------
    settings
        The settings of the run; machine-specific fields (``cache_dir``, ``use_cache``)
        are left out so that two machines running the same analysis agree.
    sources
        Catalog entries of the data used, ``kind -> {path, source, licence, vintage,
        status, note}`` (for example ``Layers.sources``).
    region
        The region ranked (``"US-TX"``, ...).
    load_mw
        The data-center load the sites were ranked for, in MW.
    extra
        More JSON-serialisable keys (candidate kind, counts, ...), merged last.

    Returns
    -------
    dict
        ``{"tool", "version", "region", "load_mw", "settings", "data_sources",
        "generated_at", "python", **extra}``, with plain JSON values only.

    Examples
    --------
    >>> prov = build_provenance(Settings(), {}, "US-TX", 100.0)
    >>> prov["tool"], prov["region"], "cache_dir" in prov["settings"]
    ('geo-rank', 'US-TX', False)
    """
    settings_dict = {
        k: v for k, v in settings.as_dict().items() if k not in MACHINE_SETTINGS
    }
    prov: dict[str, Any] = {
        "tool": TOOL,
        "version": geo.__version__,
        "region": region,
        "load_mw": load_mw,
        "settings": settings_dict,
        "data_sources": {kind: dict(entry) for kind, entry in sources.items()},
        "generated_at": utc_now(),
        "python": platform.python_version(),
        **(extra or {}),
    }
    return jsonable(prov)


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with seconds, e.g. ``2025-05-01T12:00:00Z``."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return now.isoformat().replace("+00:00", "Z")


def provenance_fingerprint(prov: Mapping[str, Any]) -> str:
    """Return the sha256 hex digest of a provenance, ignoring ``generated_at``.

    Two runs with the same version, settings, sources and inputs give the same
    fingerprint whatever the time they ran (``geo-rank evaluate`` records the fingerprint
    of the ranking it scored).

    Examples
    --------
    >>> a = {"tool": "geo-rank", "generated_at": "2025-01-01T00:00:00Z"}
    >>> b = {"tool": "geo-rank", "generated_at": "2026-01-01T00:00:00Z"}
    >>> provenance_fingerprint(a) == provenance_fingerprint(b)
    True
    """
    stable = {k: v for k, v in prov.items() if k != "generated_at"}
    text = json.dumps(
        jsonable(stable), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_geo_rank(prov: Any) -> bool:
    """Tell whether a provenance read back from a file was written by geo-rank."""
    return isinstance(prov, Mapping) and prov.get("tool") == TOOL


def jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types (numpy scalars, paths, tuples, NaN -> None).

    Raises
    ------
    TypeError
        For a value with no JSON form (the message names its type).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return jsonable(item())
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return jsonable(tolist())
    raise TypeError(f"provenance value of type {type(value).__name__} is not JSON-serialisable")
