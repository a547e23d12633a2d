"""Voltage levels and transformers (geo.grid.levels) checked against pandapower's DC flow.

A small network with two two-level substations, P and C (345/138 kV), whose transformers
are pandapower transformers (``create_transformer_from_parameters``) and, in the layers,
rows of ``kind = "transformer"`` within their substation; a loop A-P-C-A runs through both
substations' transformers, so the reactances set the split. The load connects at P's
345 kV level. The
N-0 hosting must load the limiting branch to its rating, and the firm figure the limiting
branch under the named outage (a transformer's, here) to its emergency rating, both within
2 % in pandapower.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.grid import hosting
from geo.settings import Settings
from tests.test_contingency_pandapower import Runner
from tests.test_hosting_pandapower import rundc

pp = pytest.importorskip("pandapower")
from pandapower.pypower.idx_brch import BR_X, F_BUS, T_BUS  # noqa: E402

#: bus name -> (substation, kV)
BUSES = {"A": ("A", 345.0), "P345": ("P", 345.0), "P138": ("P", 138.0), "B": ("B", 138.0),
         "C": ("C", 138.0), "C345": ("C", 345.0)}
XY = {"A": (0.0, 0.0), "P": (0.1, 0.0), "B": (0.2, 0.05), "C": (0.2, -0.05)}
LINE_RATING_MW = 1000.0
#: P's two transformers, then C's
TRAFO_RATING_MW = (150.0, 150.0, 400.0)


def network():
    net = pp.create_empty_network(sn_mva=100.0)
    bus = {b: pp.create_bus(net, vn_kv=kv, name=b) for b, (_, kv) in BUSES.items()}
    # short 138 kV lines: the transformers' reactances set the split of the loop
    for a, b, n, km in (("A", "P345", 2, 40.0), ("P138", "B", 1, 5.0), ("B", "C", 1, 5.0),
                        ("C", "P138", 1, 5.0), ("A", "C345", 1, 40.0)):
        for _ in range(n):
            pp.create_line_from_parameters(net, bus[a], bus[b], length_km=km,
                                           r_ohm_per_km=0.03, x_ohm_per_km=0.4,
                                           c_nf_per_km=0.0, max_i_ka=3.0)
    for _ in range(2):   # P's two transformers, 200 MVA, 12 % on their own base
        pp.create_transformer_from_parameters(net, bus["P345"], bus["P138"], sn_mva=200.0,
                                              vn_hv_kv=345.0, vn_lv_kv=138.0, vkr_percent=0.3,
                                              vk_percent=12.0, pfe_kw=0.0, i0_percent=0.0)
    pp.create_transformer_from_parameters(net, bus["C345"], bus["C"], sn_mva=300.0,
                                          vn_hv_kv=345.0, vn_lv_kv=138.0, vkr_percent=0.3,
                                          vk_percent=10.0, pfe_kw=0.0, i0_percent=0.0)
    pp.create_ext_grid(net, bus["A"], max_p_mw=400.0)
    pp.create_gen(net, bus["B"], p_mw=50.0, max_p_mw=300.0)
    pp.create_gen(net, bus["C"], p_mw=20.0, max_p_mw=300.0)
    pp.create_load(net, bus["B"], p_mw=90.0)
    pp.create_load(net, bus["C"], p_mw=100.0)
    return net, bus


def layers(net):
    """The layers of the net: one substation per site, P's transformers as its rows."""
    f0 = rundc(net)
    ppc = net._ppc
    br = ppc["branch"]
    lookup = net._pd2ppc_lookups
    ppc_bus = {int(lookup["bus"][i]): net.bus.loc[i, "name"] for i in net.bus.index}
    t0, t1 = lookup["branch"]["trafo"]
    rows = []
    for k in range(len(br)):
        a, b = ppc_bus[int(br[k, F_BUS].real)], ppc_bus[int(br[k, T_BUS].real)]
        (sa, kva), (sb, kvb) = BUSES[a], BUSES[b]
        trafo = t0 <= k < t1
        rows.append({"line_id": f"br{k}", "from_sub": sa, "to_sub": sb, "voltage_kv": kva,
                     "low_voltage_kv": kvb if trafo else np.nan,
                     "kind": "transformer" if trafo else "line",
                     "capacity_mw": TRAFO_RATING_MW[k - t0] if trafo else LINE_RATING_MW,
                     "reactance_pu": br[k, BR_X].real * 100.0 / ppc["baseMVA"],
                     "flow_mw": f0[k]})
    lines = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[
        LineString([XY[r["from_sub"]], XY[r["to_sub"]]]) for r in rows], crs="EPSG:4326")
    subs = gpd.GeoDataFrame({"sub_id": list(XY), "voltage_kv": [345.0, 345.0, 138.0, 138.0]},
                            geometry=[Point(p) for p in XY.values()], crs="EPSG:4326")
    plants = gpd.GeoDataFrame({"plant_id": ["ext", "gB", "gC"], "fuel": "gas",
                               "capacity_mw": [400.0, 300.0, 300.0],
                               "sub_id": ["A", "B", "C"],
                               # gC at C's 138 kV level, not its highest (345 kV)
                               "voltage_kv": [345.0, 138.0, 138.0]},
                              geometry=[Point(XY[s]) for s in "ABC"], crs="EPSG:4326")
    return subs, lines, plants


def test_two_level_substation_against_pandapower():
    net, bus = network()
    subs, lines, plants = layers(net)
    settings = Settings(hosting_min_kv=0, participation_area="interconnection",
                        dispatch_stress_case=False, n1_lodf_tolerance=0.0)
    g = grid.build(subs, lines, settings)
    assert g.report.transformers_observed == 3 and g.report.transformers_estimated == 0
    h = hosting.hosting(g, plants, settings).loc["P"]
    run = Runner(net)
    poi = int(net._pd2ppc_lookups["bus"][bus["P345"]])
    rating = lines["capacity_mw"].to_numpy(float)
    ids = lines["line_id"].tolist()
    # N-0: the two transformers bind together (one merged edge)
    lim = [ids.index(x) for x in h["limiting_line_id"].split(";")]
    assert all(lines["kind"].iloc[i] == "transformer" for i in lim)
    f1 = run.flows(poi, float(h["hosting_mw"]), None)
    assert np.abs(f1[lim]).sum() / rating[lim].sum() == pytest.approx(1.0, rel=0.02)
    assert (np.abs(f1) <= rating * 1.02).all()
    # N-1: one of P's transformers out, the other at its (emergency = normal) rating
    out, lim1 = ids.index(h["firm_outage_line_id"]), ids.index(h["firm_limiting_line_id"])
    assert {ids[out], ids[lim1]} == set(h["limiting_line_id"].split(";"))
    assert 0 < h["firm_mw"] < h["hosting_mw"]
    f2 = run.flows(poi, float(h["firm_mw"]), out)
    assert abs(f2[lim1]) / rating[lim1] == pytest.approx(1.0, rel=0.02)
