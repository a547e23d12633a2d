"""An order of points that keeps map neighbours together (the batches of the grid screen)."""

from __future__ import annotations

import numpy as np

__all__ = ["hilbert_index"]


def hilbert_index(xy: np.ndarray, bits: int = 16) -> np.ndarray:
    """Position of each point along a Hilbert curve over the points' bounding box.

    Points close along the curve are close on the map (the converse mostly holds), so
    sorting by it groups neighbours. NaN coordinates sort last.

    >>> hilbert_index(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]), bits=1)
    array([0, 1, 2, 3])
    """
    xy = np.asarray(xy, dtype=float)
    bad = ~np.isfinite(xy).all(axis=1)
    lo = np.nanmin(xy[~bad], axis=0) if (~bad).any() else np.zeros(2)
    hi = np.nanmax(xy[~bad], axis=0) if (~bad).any() else np.ones(2)
    side = (1 << bits) - 1
    scaled = (np.where(bad[:, None], lo, xy) - lo) / np.where(hi > lo, hi - lo, 1.0) * side
    x, y = (np.clip(np.rint(scaled[:, i]), 0, side).astype(np.int64) for i in (0, 1))
    d = np.zeros(len(xy), np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant so the curve stays continuous
        flip = ~ry
        swap_x = np.where(flip & rx, s - 1 - x, x)
        swap_y = np.where(flip & rx, s - 1 - y, y)
        x, y = np.where(flip, swap_y, x), np.where(flip, swap_x, y)
        s >>= 1
    return np.where(bad, np.iinfo(np.int64).max, d)
