"""Plumbing shared by the downloaders: bounding boxes, atomic writes, provenance."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from layers.atomic import atomic_path
from layers.errors import RegionError

#: (min lon, min lat, max lon, max lat) in degrees, EPSG:4326.
BBox = tuple[float, float, float, float]


def check_bbox(bbox: tuple[float, ...] | list[float]) -> BBox:
    """Return ``bbox`` as floats after checking order and range.

    >>> check_bbox([-97.5, 30, -97, 30.5])
    (-97.5, 30.0, -97.0, 30.5)
    """
    if len(bbox) != 4:
        raise RegionError(f"a bounding box has 4 numbers (minlon,minlat,maxlon,maxlat), not {bbox}")
    w, s, e, n = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise RegionError(f"bounding box {bbox} has a value that is not a finite number")
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise RegionError(
            f"bounding box {fmt_deg(w)},{fmt_deg(s)},{fmt_deg(e)},{fmt_deg(n)} must be "
            "minlon,minlat,maxlon,maxlat with -180 <= minlon < maxlon <= 180 and "
            "-90 <= minlat < maxlat <= 90 (boxes across the antimeridian: fetch two boxes)"
        )
    return (w, s, e, n)


def parse_bbox(text: str) -> BBox:
    """Parse ``"minlon,minlat,maxlon,maxlat"``.

    >>> parse_bbox("-97.5, 30, -97, 30.5")
    (-97.5, 30.0, -97.0, 30.5)
    """
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise RegionError(
            f"--bbox {text!r}: expected four numbers minlon,minlat,maxlon,maxlat"
        ) from None
    return check_bbox(values)


def fmt_deg(value: float) -> str:
    """Degrees with at most 7 decimals (about 1 cm) and no trailing zeros.

    >>> fmt_deg(-97.50000000001), fmt_deg(30.0), fmt_deg(-0.0)
    ('-97.5', '30', '0')
    """
    text = f"{round(value, 7) + 0.0:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def bbox_label(bbox: BBox) -> str:
    """The name part of an output fetched for a bounding box.

    >>> bbox_label((-97.5, 30.0, -97.0, 30.5))
    'bbox_-97.5_30_-97_30.5'
    """
    return "bbox_" + "_".join(fmt_deg(v) for v in bbox)


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` in one step.

    A reader never sees a half-written ``path``; on an exception the temporary file is removed
    and ``path`` keeps its old content (or stays absent).
    """
    with atomic_path(path, suffix=".part") as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    """Write ``doc`` as compact UTF-8 JSON, atomically."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")
    return path


def package_version() -> str:
    """geo-rank's installed version (``0+unknown`` in a never-installed source tree)."""
    try:
        return version("geo-rank")
    except PackageNotFoundError:
        return "0+unknown"


def provenance(source: str, **extra: Any) -> dict[str, Any]:
    """The ``geo_rank`` member of a fetched file: tool, version, source, time of fetch."""
    return {
        "tool": "geo-rank",
        "version": package_version(),
        "source": source,
        "fetched_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        **extra,
    }
