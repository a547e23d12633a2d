"""The N-1 screen finds the binding outage where the old rule missed it (issue 28, item 1).

Each grid is checked against :mod:`tests.n1_resolve`, an independent re-solve that builds
and solves B again for every outage and monitors every branch whose flow per MW after the
outage is at least the cut-off (no LODF, no screen). The base flows given to the tool are
the re-solve's own base case, so both start from the same DC-consistent state.

Five buses: the POI P is fed from the generator G directly (GP) and by a long path G-X-Y-P;
between X and Y a direct line XY and a two-line path X-Z-Y, with a large transfer from X to
Y in the base case.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.grid import hosting
from geo.settings import Settings
from tests.n1_resolve import Net

BUSES = ["G", "P", "X", "Y", "Z"]
XY = {"G": (0.0, 0.0), "P": (0.5, 0.0), "X": (0.0, 0.5), "Y": (0.5, 0.5), "Z": (0.25, 1.0)}
GENS = {"G": 5000.0}


def tool(net: Net, poi: str, settings: Settings | None = None):
    """The tool's hosting run at ``poi`` on the re-solve's grid and base flows."""
    flows = net.base_flows()
    lines = net.lines
    subs = gpd.GeoDataFrame({"sub_id": BUSES, "voltage_kv": 230.0},
                            geometry=[Point(XY[b]) for b in BUSES], crs="EPSG:4326")
    ln = gpd.GeoDataFrame(
        {"line_id": [r[0] for r in lines], "from_sub": [r[1] for r in lines],
         "to_sub": [r[2] for r in lines], "voltage_kv": 230.0,
         "reactance_pu": [r[3] for r in lines], "capacity_mw": [r[4] for r in lines],
         "flow_mw": [flows[r[0]] for r in lines]},
        geometry=[LineString([XY[r[1]], XY[r[2]]]) for r in lines], crs="EPSG:4326")
    plants = gpd.GeoDataFrame(
        {"plant_id": list(GENS), "fuel": "gas", "capacity_mw": list(GENS.values()),
         "sub_id": list(GENS)}, geometry=[Point(XY[s]) for s in GENS], crs="EPSG:4326")
    settings = settings or Settings(use_cache=False)
    return hosting.hosting(grid.build(subs, ln, settings), plants, settings,
                           sub_ids=[poi]).loc[poi]


def lindon() -> Net:
    """XY's flow per MW at P is 4.0 % (below the 5 % cut-off) and 5.7 % once XZ trips;
    XZ's own is 2.0 %, so the outage changes no flow per MW at P by 5 %."""
    lines = [("GP1", "G", "P", 0.06, 2000.0), ("GP2", "G", "P", 0.06, 2000.0),
             ("GX", "G", "X", 0.2, 2000.0), ("PY", "P", "Y", 0.2, 2000.0),
             ("XY", "X", "Y", 0.1, 300.0), ("XZ", "X", "Z", 0.1, 2000.0),
             ("YZ", "Y", "Z", 0.1, 2000.0)]
    return Net(BUSES, lines, {"X": 300.0, "Y": -300.0}, GENS)


def test_a_branch_monitored_only_after_the_outage_binds():
    net = lindon()
    # the old rule's blind spot: XY below the cut-off at N-0 (not monitored, so no
    # flow-shift check on it), XZ below it too (not in P's contingency set), and the
    # outage changes XY's flow per MW by 1.6 % only; after it XY is at 5.7 %
    assert 0.025 <= net.df("P", "XY") < 0.05
    assert abs(net.df("P", "XZ")) < 0.05
    assert abs(net.df("P", "XY", "XZ") - net.df("P", "XY")) < 0.025
    assert net.df("P", "XY", "XZ") >= 0.05
    want, line, outage = net.firm("P")
    assert (line, outage) == ("XY", "XZ")
    assert want == pytest.approx(1000.0)           # the old screen said 1,650 (GP1 out)
    h = tool(net, "P")
    assert h["firm_mw"] == pytest.approx(want, rel=1e-6)
    assert (h["firm_limiting_line_id"], h["firm_outage_line_id"]) == ("XY", "XZ")
    assert h["firm_source"] == "computed"


def big_transfer() -> Net:
    """XY carries 987 MW; its outage moves 3.9 % of it (39 MW, 13 % of GP's 300 MW) onto
    GP, which P loads at 97.6 %."""
    lines = [("GP", "G", "P", 0.06, 300.0),
             ("GX", "G", "X", 1.2, 5000.0), ("PY", "P", "Y", 1.2, 5000.0),
             ("XY", "X", "Y", 0.05, 5000.0), ("XZ", "X", "Z", 0.05, 5000.0),
             ("YZ", "Y", "Z", 0.05, 5000.0)]
    return Net(BUSES, lines, {"X": 1500.0, "Y": -1500.0}, GENS)


def test_an_outage_with_a_small_lodf_but_a_large_flow_binds():
    net = big_transfer()
    lodf = net.lodf("GP", "XY")
    assert 0.03 < lodf < 0.05                      # below the cut-off as a share
    assert lodf * net.base_flows()["XY"] >= 0.05 * 300.0   # above it in MW
    assert abs(net.df("P", "XY")) < 0.05
    want, line, outage = net.firm("P")
    assert (line, outage) == ("GP", "XY")
    h = tool(net, "P")
    assert h["firm_mw"] == pytest.approx(want, rel=1e-6)
    assert h["firm_mw"] < h["hosting_mw"] - 30.0
    assert h["firm_outage_line_id"] == "XY"
    # without the MW rule (a share of 100 %) the outage is dropped and N-0 binds
    h = tool(net, "P", Settings(use_cache=False, n1_outage_impact_share=1.0))
    assert h["firm_mw"] == pytest.approx(h["hosting_mw"])
    assert h["firm_kind"] == "n-0"
