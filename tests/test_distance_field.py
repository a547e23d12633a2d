"""The nearest outline segment from the pruned field equals GEOS's tree query to the bit."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo import distance_field


def _by_tree(x, y, segments):
    """What :func:`geo.outlines` did before the field: every nearest segment from
    ``STRtree.query_nearest(all_matches=True)``, the lowest index first, and the nearest
    point from ``shortest_line``."""
    lines = shapely.linestrings(segments)
    pts = shapely.points(x, y)
    q_pts, q_segs = shapely.STRtree(lines).query_nearest(pts, all_matches=True)
    order = np.lexsort((q_segs, q_pts))
    q_pts, q_segs = q_pts[order], q_segs[order]
    starts = np.flatnonzero(np.r_[True, q_pts[1:] != q_pts[:-1]])
    first = q_segs[starts]
    ties = np.diff(np.r_[starts, len(q_pts)])
    ends = shapely.get_coordinates(shapely.shortest_line(pts, lines[first])).reshape(-1, 2, 2)
    return first, shapely.distance(pts, lines[first]), ties, ends[:, 1]


def test_a_square_by_hand():
    # the square (0,0)-(10,0)-(10,10)-(0,10), one segment per side, sides 0 and 1 one group
    segments = np.array([[[0, 0], [10, 0]], [[10, 0], [10, 10]], [[10, 10], [0, 10]],
                         [[0, 10], [0, 0]]], dtype=float)
    group = np.array([0, 0, 1, 1])
    x, y = np.array([5.0, -3.0, 13.0, 5.0]), np.array([-3.0, -4.0, 14.0, 6.0])
    first, dist, tied, ends = distance_field.nearest(x, y, segments, group, cell_m=4.0)
    # below side 0: 3 away at (5, 0); beyond the corner (0, 0): sides 0 and 3 tie at 5,
    # different groups, the lower index wins; beyond (10, 10): sides 1 and 2 at 5, tied;
    # inside, nearest the top: side 2 at 4
    assert first.tolist() == [0, 0, 1, 2]
    assert dist.tolist() == [3.0, 5.0, 5.0, 4.0]
    assert tied.tolist() == [False, True, True, False]
    assert ends.tolist() == [[5.0, 0.0], [0.0, 0.0], [10.0, 10.0], [5.0, 10.0]]


@pytest.mark.parametrize("cell_m", [2_000.0, 10_000.0, 50_000.0])
def test_random_points_equal_the_tree_query_to_the_bit(cell_m):
    rng = np.random.default_rng(7)
    # outlines like a densified basin: rings of short segments, plus a repeated vertex
    # (a zero-length segment) and random loose segments
    rings = []
    for cx, cy in rng.uniform(-300_000, 300_000, (6, 2)):
        t = np.linspace(0, 2 * np.pi, 60)
        ring = np.column_stack([cx + 40_000 * np.cos(t), cy + 25_000 * np.sin(t)])
        rings.append(np.stack([ring[:-1], ring[1:]], axis=1))
    loose = rng.uniform(-400_000, 400_000, (40, 1, 2)) + rng.normal(0, 5_000, (40, 2, 2))
    zero = np.repeat(rng.uniform(-100_000, 100_000, (1, 1, 2)), 2, axis=1)
    segments = np.concatenate([*rings, loose, zero])
    group = np.repeat(np.arange(len(segments) // 10 + 1), 10)[:len(segments)]
    x, y = rng.uniform(-500_000, 500_000, (2, 20_000))
    # points on a vertex, at a segment's middle, and on the zero-length segment
    x[:3] = [segments[5, 0, 0], segments[70, :, 0].mean(), zero[0, 0, 0]]
    y[:3] = [segments[5, 0, 1], segments[70, :, 1].mean(), zero[0, 0, 1]]
    first, dist, tied, ends = distance_field.nearest(x, y, segments, group, cell_m=cell_m)
    t_first, t_dist, t_ties, t_ends = _by_tree(x, y, segments)
    assert np.array_equal(first, t_first)
    assert np.array_equal(dist, t_dist)  # the same bits, not approximately
    assert np.array_equal(ends, t_ends)
    assert (t_ties > 1).sum() > 0  # the vertex is shared by two segments: a tie
    assert not tied[t_ties == 1].any()


def test_segment_distance_and_closest_point_are_geos_arithmetic():
    rng = np.random.default_rng(3)
    a = rng.uniform(-2e6, 2e6, (50_000, 2))
    b = a + rng.normal(0, 5_000, (50_000, 2))
    p = rng.uniform(-2e6, 2e6, (50_000, 2))
    p[:100], p[100:200] = a[:100], (a[100:200] + b[100:200]) / 2
    b[200:300] = a[200:300]  # zero-length segments
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    pts = shapely.points(p)
    d = distance_field.segment_distance(p[:, 0], p[:, 1], a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    assert np.array_equal(d, shapely.distance(pts, lines))
    ex, ey = distance_field.closest_point(p[:, 0], p[:, 1], a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    geos = shapely.get_coordinates(shapely.shortest_line(pts, lines)).reshape(-1, 2, 2)[:, 1]
    assert np.array_equal(np.column_stack([ex, ey]), geos)
