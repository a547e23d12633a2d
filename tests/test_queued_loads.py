"""Queued loads (geo.grid.hosting ``queued=``): added to the base case before hosting is computed.

Triangle A, B, C (equal reactances, generator at A): a load at B flows 2/3 on AB and 1/3 on
A→C→B; AB is rated 200 MW, AC 120, CB 1,000. A second island X–Y (generator at X) is far
away.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.errors import GridError
from geo.grid import hosting
from geo.settings import Settings

XY = {"A": (0.0, 0.0), "B": (0.1, 0.0), "C": (0.05, 0.08), "X": (5.0, 5.0), "Y": (5.1, 5.0)}
LINES = [("AB", "A", "B", 0.1, 200.0), ("AC", "A", "C", 0.1, 120.0),
         ("CB", "C", "B", 0.1, 1000.0), ("XY", "X", "Y", 0.1, 400.0)]


def solve(queued=None, plants_mw=None):
    subs = gpd.GeoDataFrame({"sub_id": list(XY), "voltage_kv": 230.0},
                            geometry=[Point(p) for p in XY.values()], crs="EPSG:4326")
    lines = gpd.GeoDataFrame(
        {"line_id": [r[0] for r in LINES], "from_sub": [r[1] for r in LINES],
         "to_sub": [r[2] for r in LINES], "voltage_kv": 230.0,
         "reactance_pu": [r[3] for r in LINES], "capacity_mw": [r[4] for r in LINES],
         "flow_mw": 0.0},
        geometry=[LineString([XY[r[1]], XY[r[2]]]) for r in LINES], crs="EPSG:4326")
    gens = plants_mw or {"A": 1000.0, "X": 1000.0}
    plants = gpd.GeoDataFrame({"plant_id": list(gens), "fuel": "gas",
                               "capacity_mw": list(gens.values()), "sub_id": list(gens)},
                              geometry=[Point(XY[s]) for s in gens], crs="EPSG:4326")
    settings = Settings()
    return hosting.hosting(grid.build(subs, lines, settings), plants, settings,
                           queued=queued)


def test_a_queued_load_takes_its_share_first():
    alone = solve()
    assert alone.loc["B", "hosting_mw"] == pytest.approx(300)   # AB: 200 / (2/3)
    assert alone.loc["B", "firm_mw"] == pytest.approx(120)      # AB out: AC carries all
    queued = solve(pd.DataFrame({"sub_id": ["B"], "mw": [50.0]}))
    # AB carries 2/3 x 50 more: (200 - 33.3) / (2/3) = 250; after AB out AC carries the
    # queued 50: 120 - 50 = 70
    assert queued.loc["B", "hosting_mw"] == pytest.approx(250)
    assert queued.loc["B", "firm_mw"] == pytest.approx(70)
    # C: a load at C flows 2/3 on AC; the queued load adds 50/3 to AC: (120 - 16.7) / (2/3)
    assert alone.loc["C", "hosting_mw"] == pytest.approx(180)
    assert queued.loc["C", "hosting_mw"] == pytest.approx((120 - 50 / 3) / (2 / 3))
    # the other island does not move
    assert queued.loc["Y", "hosting_mw"] == alone.loc["Y", "hosting_mw"] == pytest.approx(400)
    assert queued.attrs["report"]["queued_mw"] == 50.0


def test_queued_loads_use_up_headroom():
    small = {"A": 100.0, "X": 1000.0}
    left = solve(pd.DataFrame({"sub_id": ["B", "C"], "mw": [60.0, 40.0]}), plants_mw=small)
    assert np.isnan(left.loc["B", "hosting_mw"])           # A has no headroom left
    assert left.loc["B", "hosting_status"] == "no_generation"
    assert left.loc["Y", "hosting_mw"] == pytest.approx(400)


def test_unknown_queued_poi_is_an_error():
    with pytest.raises(GridError, match="ZZ"):
        solve(pd.DataFrame({"sub_id": ["ZZ"], "mw": [10.0]}))


# -- the queue file --------------------------------------------------------------------------
DATA = __import__("pathlib").Path(__file__).parent / "data"


@pytest.mark.parametrize(("text", "message"), [
    ("lat,lon\n30,-97\n", "no 'mw' column"),
    ("lat,lon,mw\n30,-97,0\n", "'mw' must be a number > 0 (row 2)"),
    ("mw,name\n10,x\n", "give each load 'poi_sub_id' or 'lat' and 'lon'"),
    ("lat,lon,mw\n30,-97,10\n95,-97,10\n", "row 3 has neither a poi_sub_id nor a valid lat/lon"),
])
def test_bad_queue_files_get_one_line(tmp_path, text, message):
    from geo.errors import LayerValidationError
    from geo.grid import queue
    path = tmp_path / "q.csv"
    path.write_text(text)
    with pytest.raises(LayerValidationError) as err:
        queue.read(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_loads_by_place_attach_to_the_nearest_poi(us_layers):
    from geo.grid import queue
    q = queue.attach(queue.read(DATA / "queued_loads_tx.csv"), us_layers["substations"],
                     Settings())
    assert q["mw"].sum() == 1200 + 1400 + 1400 + 800 + 750
    assert (q["attach_km"] < 50).all()             # Childress: 35 km
    subs = us_layers["substations"].set_index("sub_id")
    assert (subs.loc[q["sub_id"], "voltage_kv"] >= 115).all()


@pytest.mark.slow
def test_the_texas_queue_lowers_hosting_at_its_pois_and_leaves_the_west_alone(us_layers):
    # Childress and Helios sit in the panhandle (SPP, the Eastern interconnection), the
    # other three in ERCOT: the Western interconnection is another island
    from geo.grid import queue
    settings = Settings()
    g = grid.build(us_layers["substations"], us_layers["lines"], settings)
    q = queue.attach(queue.read(DATA / "queued_loads_tx.csv"), g.substations, settings)
    subs = g.substations.set_index("sub_id")
    near = q["sub_id"].tolist()                                    # the queued POIs
    far = subs.index[(subs["voltage_kv"] >= 230) & (subs["interconnect"] == "Western")][:3]
    ids = [*near, *far]
    before = hosting.hosting(g, us_layers["plants"], settings, sub_ids=ids)
    after = hosting.hosting(g, us_layers["plants"], settings, sub_ids=ids, queued=q)
    assert (after.loc[near, "hosting_mw"] < before.loc[near, "hosting_mw"] - 1).all()
    np.testing.assert_allclose(after.loc[far, "hosting_mw"], before.loc[far, "hosting_mw"])
    np.testing.assert_allclose(after.loc[far, "firm_mw"], before.loc[far, "firm_mw"])
    # kept factorisations and LODF columns (portfolio runs) change nothing but the solves
    kept: dict = {}
    first = hosting.hosting(g, us_layers["plants"], settings, sub_ids=ids, reuse=kept)
    again = hosting.hosting(g, us_layers["plants"], settings, sub_ids=ids, queued=q,
                            reuse=kept)
    pd.testing.assert_frame_equal(first, before)
    pd.testing.assert_frame_equal(again, after)
    assert before.attrs["report"]["n1_lodf_solves"] > 100
    assert again.attrs["report"]["n1_lodf_solves"] == 0
