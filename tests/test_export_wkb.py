"""The GeoParquet writer's WKB of a block of points, written from their coordinates at once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely

from geo.io.export import _wkb


def test_points_wkb_is_written_from_their_coordinates():
    """POINT (1 2) is 01 01000000 then 1.0 and 2.0 as little-endian doubles (hand-written),
    and every point reads as ``shapely.to_wkb`` writes it, -0.0 and tiny values too."""
    got = _wkb(shapely.points(np.array([[1.0, 2.0], [-106.5, -0.0], [5e-324, 89.9999999]])))
    assert got.type == pa.binary()
    assert got[0].as_py() == bytes.fromhex("0101000000" "000000000000f03f" "0000000000000040")
    expected = shapely.to_wkb(shapely.points([[-106.5, -0.0], [5e-324, 89.9999999]]))
    assert got.to_pylist()[1:] == list(expected)


def test_other_geometries_go_through_shapely():
    """A polygon, an empty point, a 3D point or a null: the whole block as shapely writes it."""
    for odd in (shapely.box(0, 0, 1, 1), shapely.Point(), shapely.Point(1, 2, 3), None):
        block = np.array([shapely.Point(1, 2), odd], dtype=object)
        expected = [None if g is None else shapely.to_wkb(g) for g in block]
        assert _wkb(block).to_pylist() == expected
    assert len(_wkb(np.array([], dtype=object))) == 0
