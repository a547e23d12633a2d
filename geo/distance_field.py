"""The nearest segment of an outline for many projected points, exactly, pruned by a field.

:func:`geo.outlines._nearest_polygon` needs, for every site outside the polygons of a
layer, the nearest of a few thousand outline segments in a projected plane (metres): its
index, its distance and the nearest point on it. A tree query per site (GEOS
``STRtree.query_nearest``) walks the tree for each of a million sites. Here the plane is
cut into square cells of side ``h`` and the exact distance ``D(c)`` from each occupied
cell's centre ``c`` to the outline is computed once per cell: a coarse distance field.

The field is a certified bound, not the answer. The distance to a set is 1-Lipschitz, so
for a site ``p`` in the cell (``|p - c| <= r = h * sqrt(2) / 2``) the nearest segment
``s*`` of ``p`` satisfies ``d(p, s*) <= d(p, s_c) <= D(c) + r`` (``s_c`` the segment
nearest the centre), hence ``d(c, s*) <= d(p, s*) + r <= D(c) + 2r``. So the segments
within ``D(c) + 2r`` of the centre (plus a metre for rounding) hold every nearest segment
of every site in the cell, ties included. Each site then takes the tighter
``d(c, s) <= d(p, s_c) + |p - c|`` (the same two steps with its own figures) from that
list, sorted by ``d(c, s)``, and measures those few segments exactly. The distances are
GEOS's own arithmetic (``Distance::pointToSegment`` and ``LineSegment::closestPoint``, the
same operations in the same order, with no fused multiply-add), so the index, the distance
and the nearest point are those of the tree query to the bit:
``tests/test_distance_field.py`` compares them on random points.
"""

from __future__ import annotations

import numpy as np
import shapely

#: Side of the field's cells, metres. Only the speed depends on it (the answer is exact):
#: larger cells mean fewer cell queries but a wider ring of candidate segments per site.
#: Measured at US H3 res 7 (1.27 M sites outside the gas basins, 3,140 segments, CPU s
#: at load 18): 5 km 4.1, 10 km 2.0-2.7, 20 km 1.4-1.9, 40 km 2.2-2.3, 80 km 2.5.
CELL_M = 20_000.0

#: Candidate pairs (site, segment) measured at once: bounds the temporaries' memory
#: (about ten float arrays of this length).
_PAIRS = 2_000_000

#: Slack added to the certified radius, metres: covers the rounding of the cell query.
_SLACK_M = 1.0


def segment_distance(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                     bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Distance from points to segments AB, with GEOS's ``Distance::pointToSegment``
    operations (so the same bits as ``shapely.distance`` of a point and a two-point line)."""
    # In place, on u = P - A: GEOS's (A - P) terms are -u and -v, and negation is exact, so
    # (ay - py) * dx - (ax - px) * dy is u * dy - v * dx and (ax - px)**2 is u * u, bit
    # for bit (the same rounded products and sums, in the same order).
    dx, dy = bx - ax, by - ay
    len2 = dx * dx
    len2 += dy * dy
    u, v = px - ax, py - ay
    with np.errstate(invalid="ignore", divide="ignore"):
        r = u * dx
        r += v * dy
        r /= len2
        out = u * dy
        out -= v * dx
        out /= len2
        np.abs(out, out=out)
        out *= np.sqrt(len2)  # the distance to the line, inside the segment
    u *= u
    v *= v
    u += v
    to_a = np.sqrt(u, out=u)
    dx = np.subtract(bx, px, out=dx)
    dy = np.subtract(by, py, out=dy)
    dx *= dx
    dy *= dy
    dx += dy
    to_b = np.sqrt(dx, out=dx)
    # A == B: the distance to A (GEOS's first test); r <= 0: to A; r >= 1: to B
    np.copyto(out, to_b, where=r >= 1)
    np.copyto(out, to_a, where=(len2 == 0) | (r <= 0))
    return out


def closest_point(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                  bx: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest point of segments AB to points, with GEOS's ``LineSegment::closestPoint``
    operations (the segment end of ``shapely.shortest_line(point, segment)``)."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        r = ((px - ax) * dx + (py - ay) * dy) / len2
    to_a = np.sqrt((ax - px) * (ax - px) + (ay - py) * (ay - py))
    to_b = np.sqrt((bx - px) * (bx - px) + (by - py) * (by - py))
    inner = (r > 0) & (r < 1)
    a_end = to_a < to_b  # GEOS keeps the first end only when strictly nearer
    return (np.where(inner, ax + r * dx, np.where(a_end, ax, bx)),
            np.where(inner, ay + r * dy, np.where(a_end, ay, by)))


def _cells(x: np.ndarray, y: np.ndarray, h: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Occupied cells of side ``h``: each point's cell and the cells' centres (x, y)."""
    x0, y0 = float(x.min()), float(y.min())
    ix = np.floor((x - x0) / h).astype(np.int64)
    iy = np.floor((y - y0) / h).astype(np.int64)
    rows = int(iy.max()) + 1
    key, cell = np.unique(ix * rows + iy, return_inverse=True)
    return cell.ravel(), x0 + (key // rows + 0.5) * h, y0 + (key % rows + 0.5) * h


def nearest(x: np.ndarray, y: np.ndarray, segments: np.ndarray, group: np.ndarray,
            cell_m: float = CELL_M) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nearest of ``segments`` (an (m, 2, 2) array of ends) to each point (x, y), exactly.

    Returns, per point, the lowest index among the segments at the least distance (as
    ``STRtree.query_nearest(all_matches=True)`` sorted by segment gives first), that
    distance, whether segments of different ``group`` (the polygon each belongs to) tie
    at it, and the nearest point (an (n, 2) array) on the returned segment.
    """
    n, m = len(x), len(segments)
    if m == 0:
        raise ValueError("no segments to measure to")
    ax, ay = segments[:, 0, 0], segments[:, 0, 1]
    bx, by = segments[:, 1, 0], segments[:, 1, 1]
    first = np.zeros(n, dtype=np.int64)
    dist = np.full(n, np.nan)
    tied = np.zeros(n, dtype=bool)
    ends = np.full((n, 2), np.nan)
    if n == 0:
        return first, dist, tied, ends
    cell, cx, cy = _cells(x, y, cell_m)
    # the field: exact distance from each cell centre, then every segment that can be the
    # nearest of a point in the cell (the module's docstring proves the radius)
    tree = shapely.STRtree(shapely.linestrings(segments))
    centres = shapely.points(cx, cy)
    (at_c, near_c), field = tree.query_nearest(centres, all_matches=False,
                                               return_distance=True)
    c_seg = np.zeros(len(cx), dtype=np.int64)  # the segment nearest each centre
    c_seg[at_c] = near_c
    d_c = np.zeros(len(cx))
    d_c[at_c] = field
    field = d_c
    radius = field + cell_m * np.sqrt(2.0) + _SLACK_M
    c_of, seg = tree.query(centres, predicate="dwithin", distance=radius)
    # each cell's candidates by their distance from the centre, so that a point takes only
    # those within its own bound: d(c, s) <= d(p, s_c) + |p - c| (s_c nearest the centre)
    from_c = segment_distance(cx[c_of], cy[c_of], ax[seg], ay[seg], bx[seg], by[seg])
    order = np.lexsort((from_c, c_of))
    c_of, seg, from_c = c_of[order], seg[order], from_c[order]
    count = np.bincount(c_of, minlength=len(cx))
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    width = float(from_c.max()) + 2.0 * cell_m + 4.0 * _SLACK_M
    key = c_of * width + from_c  # ascending: by cell, then distance (rounding stays monotone)
    s_c = c_seg[cell]
    own = np.hypot(x - cx[cell], y - cy[cell])
    bound = np.minimum(segment_distance(x, y, ax[s_c], ay[s_c], bx[s_c], by[s_c]) + own
                       + _SLACK_M, radius[cell])
    per_point = np.searchsorted(key, cell * width + bound, side="right") - start[cell]
    # points in blocks of about _PAIRS candidate pairs
    bounds = np.searchsorted(np.cumsum(per_point), np.arange(_PAIRS, per_point.sum(), _PAIRS))
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, n], strict=True):
        if hi <= lo:
            continue
        k = per_point[lo:hi]
        offsets = np.concatenate([[0], np.cumsum(k)[:-1]])
        pt = np.repeat(np.arange(lo, hi), k)
        s = seg[np.arange(len(pt)) - np.repeat(offsets, k) + np.repeat(start[cell[lo:hi]], k)]
        d = segment_distance(x[pt], y[pt], ax[s], ay[s], bx[s], by[s])
        low = np.minimum.reduceat(d, offsets)
        at = d == np.repeat(low, k)  # every segment at the least distance
        best = np.minimum.reduceat(np.where(at, s, m), offsets)
        g = group[s]
        tied[lo:hi] = (np.minimum.reduceat(np.where(at, g, np.iinfo(np.int64).max), offsets)
                       != np.maximum.reduceat(np.where(at, g, np.iinfo(np.int64).min), offsets))
        first[lo:hi] = best
        dist[lo:hi] = low
    ex, ey = closest_point(x, y, ax[first], ay[first], bx[first], by[first])
    ends[:, 0], ends[:, 1] = ex, ey
    return first, dist, tied, ends
