"""Voltage levels and transformers (geo.grid.levels) on a two-level substation, by hand.

A (345 kV, plant of 40 MW) -- two 345 kV circuits -- P (345/138 kV) -- two 138 kV circuits
-- B (138 kV, plant of 60 MW). The load connects at P's highest level (345 kV). Per MW of
load, 0.4 comes from A over the 345 kV circuits and 0.6 from B over the 138 kV circuits and
P's transformers, whatever their reactances (the network is radial between the levels).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.grid import hosting, levels
from geo.settings import Settings

XY = {"A": (0.0, 0.0), "P": (0.1, 0.0), "B": (0.2, 0.0)}


def layers(transformers: list[tuple[str, float, float]]):
    """The three substations; ``transformers``: (id, capacity MW, reactance pu) at P."""
    subs = gpd.GeoDataFrame({"sub_id": ["A", "P", "B"], "voltage_kv": [345.0, 345.0, 138.0],
                             "min_voltage_kv": [345.0, 138.0, 138.0]},
                            geometry=[Point(XY[s]) for s in "APB"], crs="EPSG:4326")
    rows = [("AP1", "A", "P", 345.0, 1000.0, 0.01), ("AP2", "A", "P", 345.0, 1000.0, 0.01),
            ("PB1", "P", "B", 138.0, 1000.0, 0.02), ("PB2", "P", "B", 138.0, 1000.0, 0.02)]
    geom = [LineString([XY[a], XY[b]]) for _, a, b, *_ in rows]
    data = {"line_id": [r[0] for r in rows], "from_sub": [r[1] for r in rows],
            "to_sub": [r[2] for r in rows], "voltage_kv": [r[3] for r in rows],
            "capacity_mw": [r[4] for r in rows], "reactance_pu": [r[5] for r in rows],
            "flow_mw": 0.0, "kind": "line", "low_voltage_kv": np.nan}
    lines = gpd.GeoDataFrame(data, geometry=geom, crs="EPSG:4326")
    if transformers:
        xf = gpd.GeoDataFrame(
            {"line_id": [t[0] for t in transformers], "from_sub": "P", "to_sub": "P",
             "voltage_kv": 345.0, "low_voltage_kv": 138.0,
             "capacity_mw": [t[1] for t in transformers],
             "reactance_pu": [t[2] for t in transformers], "flow_mw": 0.0,
             "kind": "transformer"},
            geometry=[LineString([XY["P"], XY["P"]])] * len(transformers), crs="EPSG:4326")
        lines = gpd.GeoDataFrame(
            gpd.pd.concat([lines, xf], ignore_index=True), geometry="geometry", crs="EPSG:4326")
    plants = gpd.GeoDataFrame({"plant_id": ["gA", "gB"], "fuel": "gas",
                               "capacity_mw": [40.0, 60.0], "sub_id": ["A", "B"]},
                              geometry=[Point(XY["A"]), Point(XY["B"])], crs="EPSG:4326")
    return subs, lines, plants


def run(transformers, **kw):
    settings = Settings(hosting_min_kv=0, participation_area="interconnection",
                        dispatch_stress_case=False, **kw)
    subs, lines, plants = layers(transformers)
    g = grid.build(subs, lines, settings)
    return g, hosting.hosting(g, plants, settings)


def test_the_substation_splits_into_its_levels_and_the_load_stays_one_row():
    g, h = run([("T1", 100.0, 0.05), ("T2", 100.0, 0.05)])
    subs = g.substations.set_index("sub_id")
    assert subs.loc["P@138kV", "status"] == levels.LEVEL
    assert subs.loc["P@138kV", "level_of"] == "P"
    assert subs.loc["P", "level_kv"] == 345.0
    assert sorted(h.index) == ["A", "B", "P"]          # the level is no POI
    assert g.report.level_nodes == 1 and g.report.transformers_observed == 2
    edge = g.edges.set_index(g.edges["line_ids"].map(";".join))
    assert edge.loc["T1;T2", "kind"] == "transformer"
    assert edge.loc["PB1;PB2", "kind"] == "line"
    assert set(edge.loc["PB1;PB2", ["from_sub", "to_sub"]]) == {"P@138kV", "B"}


def test_the_transformer_binds_n0_and_n1():
    # N-0: 0.6 per MW over the two transformers (200 MW) -> 333.3 MW; the 138 kV
    # circuits allow 2000 / 0.6, the 345 kV ones 2000 / 0.4. N-1: one transformer out,
    # the other (100 MW) takes all 0.6 -> 166.7 MW; one 138 kV circuit out: 1000 / 0.6.
    _, h = run([("T1", 100.0, 0.05), ("T2", 100.0, 0.05)])
    assert h.loc["P", "hosting_mw"] == pytest.approx(200.0 / 0.6)
    assert h.loc["P", "limiting_line_id"] == "T1;T2"
    assert h.loc["P", "firm_mw"] == pytest.approx(100.0 / 0.6)
    assert {h.loc["P", "firm_outage_line_id"], h.loc["P", "firm_limiting_line_id"]} == {
        "T1", "T2"}
    # one substation node (the model before voltage levels): the circuits alone limit,
    # 2000 / 0.6 N-0 and 1000 / 0.6 after a 138 kV circuit's outage
    _, old = run([("T1", 100.0, 0.05), ("T2", 100.0, 0.05)], voltage_levels=False)
    assert old.loc["P", "hosting_mw"] == pytest.approx(2000.0 / 0.6)
    assert old.loc["P", "firm_mw"] == pytest.approx(1000.0 / 0.6)


def test_a_bank_is_estimated_where_the_data_has_no_transformer():
    # 345 kV class: 444.8 MVA (settings.transformer_bank_mva), one merged bank whose
    # outage the screen leaves out as a bridge. Its base flow is unknown, so it is assumed
    # loaded to half its rating (assumed_utilisation): N-0 0.5 x 444.8 / 0.6 = 370.7 MW
    g, h = run([])
    assert g.report.transformers_estimated == 1
    bank = g.lines[g.lines["kind"] == levels.TRANSFORMER].iloc[0]
    assert bank["line_id"] == "xfmr-est-P-345-138"
    assert bank["capacity_source"] == "estimated" and bank["capacity_mw"] == 444.8
    assert bank["reactance_pu"] == pytest.approx(0.12 * 100 / 444.8)
    assert h.loc["P", "hosting_mw"] == pytest.approx(0.5 * 444.8 / 0.6)
    assert h.loc["P", "limiting_line_id"] == "xfmr-est-P-345-138"


def test_a_generator_step_up_to_a_voltage_without_lines_is_left_out():
    subs, lines, _ = layers([("T1", 100.0, 0.05)])
    lines.loc[lines["line_id"] == "T1", "low_voltage_kv"] = 13.8   # a generator step-up
    g = grid.build(subs, lines, Settings())
    t1 = g.lines.set_index("line_id").loc["T1"]
    assert t1["status"] == levels.DEAD_END
    assert not g.substations["sub_id"].str.contains("13.8").any()
    assert g.report.transformers_dead_end == 1 and g.report.transformers_estimated == 1


def test_bank_rating_by_the_nearest_high_voltage_class():
    assert levels.bank_rating_mw(np.array([500.0, 525.0, 765.0, 138.0]),
                                 Settings()).tolist() == [834.2, 834.2, 1466.4, 244.8]


def test_the_transformer_binds_for_a_load_below_it():
    # a load at B (138 kV): 0.6 per MW from B's own plant, 0.4 from A down through P's
    # transformers: 200 / 0.4 = 500 MW N-0 (the 138 kV circuits: 2000 / 0.4); one
    # transformer out: 100 / 0.4 = 250 MW
    _, h = run([("T1", 100.0, 0.05), ("T2", 100.0, 0.05)])
    assert h.loc["B", "hosting_mw"] == pytest.approx(200.0 / 0.4)
    assert h.loc["B", "limiting_line_id"] == "T1;T2"
    assert h.loc["B", "firm_mw"] == pytest.approx(100.0 / 0.4)
    # one node per substation: only the incident-rating cap (B's two circuits) limits
    _, old = run([("T1", 100.0, 0.05), ("T2", 100.0, 0.05)], voltage_levels=False)
    assert old.loc["B", "hosting_mw"] == pytest.approx(2000.0)
    assert old.loc["B", "limit_kind"] == "incident_rating"
