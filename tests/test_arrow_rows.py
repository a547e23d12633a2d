"""The GeoParquet writer's WKB of a block of points, written from their coordinates at once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely

from geo.io.arrow_rows import wkb as _wkb


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


def test_some_rows_of_a_chunked_text_column_are_not_joined(monkeypatch):
    """The deciding rows of a frame whose text column arrow holds in chunks (the reasons)
    read as ``iloc`` gives them, same columns, order and dtypes, without arrow's take of
    the chunked column (which joins its chunks first)."""
    import geopandas as gpd
    import pandas as pd

    from geo._arrays import pandas_text
    from geo.io.arrow_rows import rows_at as _rows_at

    reasons = pandas_text([pa.array(["r0", "r1"], pa.large_string()),
                           pa.array(["r2", "r3", "r4"], pa.large_string())])
    sites = gpd.GeoDataFrame({"site_id": ["a", "b", "c", "d", "e"], "rank": [1, 2, 3, 4, 5],
                              "reasons": reasons},
                             geometry=shapely.points(np.arange(10.0).reshape(5, 2)),
                             crs="EPSG:4326")
    rows = np.array([0, 3, 4])
    expected = sites.iloc[rows]
    taken = pd.arrays.ArrowExtensionArray.take

    def take(self, indices, **kw):
        assert self.__arrow_array__().num_chunks == 1, "a chunked column was taken"
        return taken(self, indices, **kw)

    monkeypatch.setattr(pd.arrays.ArrowExtensionArray, "take", take)
    got = _rows_at(sites, rows)
    pd.testing.assert_frame_equal(got, expected)
    assert got["reasons"].tolist() == ["r0", "r3", "r4"] and got.crs == "EPSG:4326"
