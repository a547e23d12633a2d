"""Who serves a new load (balancing-authority participation) and the two dispatch cases,
on a triangle computed by hand.

Triangle A, B, C, equal reactances. One MW taken at B and supplied at A flows 2/3 on A→B
and 1/3 on A→C→B; supplied at C, 2/3 on C→B and 1/3 on C→A→B.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geo import grid
from geo.grid import dispatch, hosting
from geo.settings import Settings

XY = {"A": (0.0, 0.0), "B": (0.1, 0.0), "C": (0.05, 0.08)}


def layers(limits: dict[str, float], plants: dict[str, tuple[float, float]],
           ba: dict[str, str] | None = None):
    """Triangle with ratings ``limits`` (line id → MW), no base flow; ``plants``: bus →
    (capacity, base output); ``ba``: the substations' own balancing_area."""
    subs = gpd.GeoDataFrame({"sub_id": list(XY), "voltage_kv": 230.0},
                            geometry=[Point(p) for p in XY.values()], crs="EPSG:4326")
    if ba is not None:
        subs["balancing_area"] = [ba[s] for s in XY]
    ends = {"AB": ("A", "B"), "CB": ("C", "B"), "AC": ("A", "C")}
    lines = gpd.GeoDataFrame(
        {"line_id": list(ends), "from_sub": [e[0] for e in ends.values()],
         "to_sub": [e[1] for e in ends.values()], "voltage_kv": 230.0, "reactance_pu": 0.1,
         "capacity_mw": [limits[k] for k in ends], "flow_mw": 0.0},
        geometry=[LineString([XY[a], XY[b]]) for a, b in ends.values()], crs="EPSG:4326")
    pl = gpd.GeoDataFrame(
        {"plant_id": list(plants), "fuel": "gas",
         "capacity_mw": [p[0] for p in plants.values()],
         "base_output_mw": [p[1] for p in plants.values()], "sub_id": list(plants)},
        geometry=[Point(XY[s]) for s in plants], crs="EPSG:4326")
    return subs, lines, pl


def run(limits, plants, ba=None, **settings):
    subs, lines, pl = layers(limits, plants, ba)
    st = Settings(**settings)
    return hosting.hosting(grid.build(subs, lines, st), pl, st)


def test_balancing_authority_serves_the_load_from_its_own_plants():
    # A and B in BA "X", C in BA "Y"; 500 MW of headroom at A and at C. With BA
    # participation the load at B is served from A alone: 2/3 on AB (limit 300), 1/3 on
    # CB (limit 90, B←C direction: -1/3 from C's side is +1/3 into B) and AC: hosting
    # min(300 / (2/3), 90 / (1/3), 300 / (1/3)) = 270 on CB.
    limits = {"AB": 300.0, "CB": 90.0, "AC": 300.0}
    plants = {"A": (500.0, 0.0), "C": (500.0, 0.0)}
    ba = {"A": "X", "B": "X", "C": "Y"}
    h = run(limits, plants, ba, participation_area="balancing_authority",
            dispatch_stress_case=False)
    assert h.loc["B", "participation_area"] == "X"
    assert h.loc["B", "area_headroom_mw"] == pytest.approx(500.0)
    assert h.loc["B", "hosting_mw"] == pytest.approx(270.0)
    assert h.loc["B", "limiting_line_id"] == "CB"
    # over the interconnection A and C share it 50/50: 1/2 on AB and on CB, 0 on AC:
    # min(300 / 0.5, 90 / 0.5) = 180 on CB; the BA case is not the island's
    h = run(limits, plants, ba, participation_area="interconnection",
            dispatch_stress_case=False)
    assert h.loc["B", "participation_area"] == "interconnection"
    assert h.loc["B", "area_headroom_mw"] == pytest.approx(1000.0)
    assert h.loc["B", "hosting_mw"] == pytest.approx(180.0)
    # a BA without headroom falls back to the island: B alone in "Z"
    h = run(limits, plants, {"A": "X", "B": "Z", "C": "Y"},
            participation_area="balancing_authority", dispatch_stress_case=False)
    assert h.loc["B", "participation_area"] == "interconnection"
    assert h.loc["B", "hosting_mw"] == pytest.approx(180.0)


def test_the_lower_of_two_dispatch_cases_is_firm():
    # A: 500 MW, idle (headroom 500); C: 1,500 MW at full output (headroom 0).
    # Base case (headroom, interconnection): all from A: 2/3 AB, 1/3 CB, 1/3 AC.
    #   N-0: CB 90 / (1/3) = 270. N-1 at 3x the ratings (AB 900, CB 270, AC 900): out AB
    #   puts all on CB: 270; out CB all on AB: 900; out AC all on AB: 900. Firm 270.
    # Stressed case (nameplate, interconnection): 1/4 from A, 3/4 from C:
    #   AB 1/4·2/3 + 3/4·1/3 = 5/12, CB 1/4·1/3 + 3/4·2/3 = 7/12.
    #   N-0: CB 90 / (7/12) = 154.29 (AB 300 / (5/12) = 720). N-1: out AB 270, out CB
    #   900, out AC: AB 1/4 → 3,600, CB 3/4 → 360. Firm 154.29, and it binds.
    limits = {"AB": 300.0, "CB": 90.0, "AC": 300.0}
    plants = {"A": (500.0, 0.0), "C": (1500.0, 1500.0)}
    common = {"participation_area": "interconnection", "emergency_rating_factor": 3.0}
    h = run(limits, plants, **common)
    b = h.loc["B"]
    assert b["firm_base_mw"] == pytest.approx(270.0)
    assert b["firm_stressed_mw"] == pytest.approx(90 / (7 / 12))
    assert b["firm_mw"] == pytest.approx(90 / (7 / 12))
    assert b["firm_case"] == hosting.STRESSED_CASE
    assert b["firm_kind"] == "n-0" and b["firm_limiting_line_id"] == "CB"
    assert b["hosting_mw"] == pytest.approx(270.0)       # N-0 of the base case
    # without the stressed case the base case is firm
    h = run(limits, plants, dispatch_stress_case=False, **common)
    assert h.loc["B", "firm_mw"] == pytest.approx(270.0)
    assert h.loc["B", "firm_case"] == hosting.BASE_CASE
    assert np.isnan(h.loc["B", "firm_stressed_mw"])
    # the base case binds where it is the lower one: C idle too, nameplate = headroom
    # (A 1/4, C 3/4 in both), a tie keeps "base"
    h = run(limits, {"A": (500.0, 0.0), "C": (1500.0, 0.0)}, **common)
    assert h.loc["B", "firm_mw"] == pytest.approx(90 / (7 / 12))
    assert h.loc["B", "firm_case"] == hosting.BASE_CASE
    # and where the stressed case is the milder one: AB is the tight line and the base
    # case draws everything over it (2/3 from A: 90 / (2/3) = 135; N-1 out CB 270), the
    # stressed case 5/12 (90 / (5/12) = 216, N-1 270)
    h = run({"AB": 90.0, "CB": 300.0, "AC": 300.0}, plants, **common)
    assert h.loc["B", "firm_base_mw"] == pytest.approx(135.0)
    assert h.loc["B", "firm_stressed_mw"] == pytest.approx(216.0)
    assert h.loc["B", "firm_mw"] == pytest.approx(135.0)
    assert h.loc["B", "firm_case"] == hosting.BASE_CASE


def test_substations_take_the_ba_of_their_utility_else_the_smallest_ba_polygon():
    # u1 (BA "UTIL1") covers x < 1; control areas "BIG" over 0 < x < 3 and "SMALL" over
    # 2 < x < 3, where two utilities overlap: u2 of BA "SMALL" (no customers, a wires
    # company) and u3 of BA "OTHER" (100 customers): u2's BA agrees with the control
    # area, so it wins. ISO "MISO" over 3.1 < x < 4 and nothing else there; nothing at 6.
    terr = gpd.GeoDataFrame(
        {"territory_id": ["u1", "u2", "u3", "b1", "b2", "i1", "i2", "u4", "u5"],
         "kind": ["retail_service_territory"] * 3 + ["balancing_authority"] * 2
         + ["iso_rto"] * 2 + ["retail_service_territory"] * 2,
         "code": [None, None, None, "BIG", "SMALL", "MISO", "CAISO", None, None],
         "balancing_authority": ["UTIL1", "SMALL", "OTHER", None, None, None, None, "CISO",
                                 "BIG"],
         "customers": [10, 0, 100, None, None, None, None, 5, 1]},
        geometry=[box(0, 0, 1, 1), box(2, 0, 3, 1), box(2, 0, 3, 1), box(0, 0, 3, 1),
                  box(2, 0, 3, 1), box(3.1, 0, 4, 1), box(1.0, 0, 1.2, 1),
                  box(1.0, 0, 1.2, 1), box(1.0, 0, 1.2, 1)], crs="EPSG:4326")
    # f at x = 1.1 lies in BIG and in the smaller CAISO area: the CAISO utility wins
    subs = gpd.GeoDataFrame({"sub_id": list("abcdef")},
                            geometry=[Point(0.5, 0.5), Point(1.5, 0.5), Point(2.5, 0.5),
                                      Point(3.5, 0.5), Point(6, 0.5), Point(1.1, 0.5)],
                            crs="EPSG:4326")
    assert dispatch.balancing_areas(subs, terr).tolist() == ["UTIL1", "BIG", "SMALL", "MISO",
                                                             None, "CISO"]
