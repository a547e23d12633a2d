"""N-1 firm hosting (geo.grid.contingency) on 4- and 5-bus grids computed by hand.

Triangle A, B, C (equal reactances, generator at A); D hangs on B by one line; E is fed
from B by two parallel circuits BE1, BE2 (equal reactances: each carries half).

A new load at B: 2/3 flows on AB and 1/3 on A→C→B. With AB out, A→C→B carries all of it
(LODF 1); with AC or CB out, AB carries all of it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid, secure
from geo.errors import SettingsError
from geo.grid import dispatch, hosting
from geo.settings import Settings

XY = {"A": (0.0, 0.0), "B": (0.1, 0.0), "C": (0.05, 0.08), "D": (0.2, 0.0),
      "E": (0.1, -0.1)}


def lines_frame(lines) -> gpd.GeoDataFrame:
    """lines: (line_id, from, to, reactance_pu, capacity_mw, flow_mw), 230 kV, on XY."""
    return gpd.GeoDataFrame(
        {"line_id": [r[0] for r in lines], "from_sub": [r[1] for r in lines],
         "to_sub": [r[2] for r in lines], "voltage_kv": 230.0,
         "reactance_pu": [r[3] for r in lines], "capacity_mw": [r[4] for r in lines],
         "flow_mw": [r[5] for r in lines]},
        geometry=[LineString([XY[r[1]], XY[r[2]]]) for r in lines], crs="EPSG:4326")


def run(lines, gens=None, settings=None, sub_ids=None) -> pd.DataFrame:
    """lines: (line_id, from, to, reactance_pu, capacity_mw, flow_mw)."""
    gens = gens or {"A": 1000.0}
    used = sorted({s for ln in lines for s in ln[1:3]})
    subs = gpd.GeoDataFrame({"sub_id": used, "voltage_kv": 230.0},
                            geometry=[Point(XY[s]) for s in used], crs="EPSG:4326")
    ln = lines_frame(lines)
    plants = gpd.GeoDataFrame(
        {"plant_id": list(gens), "fuel": "gas", "capacity_mw": list(gens.values()),
         "sub_id": list(gens)}, geometry=[Point(XY[s]) for s in gens], crs="EPSG:4326")
    settings = settings or Settings()
    return hosting.hosting(grid.build(subs, ln, settings), plants, settings, sub_ids=sub_ids)


def triangle(f_ab=0.0, f_ac=0.0, f_cb=0.0):
    return [("AB", "A", "B", 0.1, 200.0, f_ab), ("AC", "A", "C", 0.1, 120.0, f_ac),
            ("CB", "C", "B", 0.1, 1000.0, f_cb)]


def test_n1_binds_on_another_branch_than_n0():
    h = run(triangle())
    # N-0: AB 200 / (2/3) = 300, AC 120 / (1/3) = 360 → 300 on AB
    assert h.loc["B", "hosting_mw"] == pytest.approx(300)
    assert h.loc["B", "limiting_line_id"] == "AB"
    # N-1: AB out → AC carries all: 120; AC or CB out → AB carries all: 200 → 120
    assert h.loc["B", "firm_mw"] == pytest.approx(120)
    assert h.loc["B", "firm_limiting_line_id"] == "AC"
    assert h.loc["B", "firm_outage_line_id"] == "AB"
    assert h.loc["B", "firm_kind"] == "outage"
    assert h.loc["B", "firm_source"] == "computed"


def test_post_outage_base_flow_moves_with_the_lodf():
    # base case: 30 MW from A to B, 20 direct and 10 via C; AB out moves its 20 onto A→C→B
    h = run(triangle(f_ab=20.0, f_ac=10.0, f_cb=10.0))
    assert h.loc["B", "hosting_mw"] == pytest.approx((200 - 20) / (2 / 3))
    assert h.loc["B", "firm_mw"] == pytest.approx(120 - 30)
    # a higher emergency rating lifts both post-outage limits: AC 1.5·120 − 30 = 150,
    # AB 1.5·200 − 30 = 270, and N-0 (270) still holds
    h = run(triangle(f_ab=20.0, f_ac=10.0, f_cb=10.0), settings=Settings(
        emergency_rating_factor=1.5))
    assert h.loc["B", "firm_mw"] == pytest.approx(150)


def test_a_pre_existing_post_outage_overload_is_set_aside_unless_binding():
    # base case: 150 MW from A to B, 100 direct and 50 via C. AB out moves its 100 onto
    # A->C->B: AC carries 150 > 120 before any new load (a pre-existing violation).
    lines = triangle(f_ab=100.0, f_ac=50.0, f_cb=50.0)
    h = run(lines)
    # N-0: AB (200 - 100) / (2/3) = 150, AC (120 - 50) / (1/3) = 210
    assert h.loc["B", "hosting_mw"] == pytest.approx(150)
    # set aside without limit: AC or CB out moves its 50 onto AB (150), which takes all of
    # the new load: 200 - 150 = 50
    h = run(lines, settings=Settings(n1_preexisting_worsening_share=None))
    assert h.loc["B", "firm_mw"] == pytest.approx(50)
    assert h.loc["B", "firm_limiting_line_id"] == "AB"
    assert h.loc["B", "firm_outage_line_id"] in {"AC", "CB"}
    assert h.loc["B", "firm_preexisting"] == True  # noqa: E712
    # set aside with a limit: the load may add 50 % of AC's 120 MW (60 MW; after AB's
    # outage AC carries all of it) to the overload: 50 MW on AB still binds first
    h = run(lines, settings=Settings(n1_preexisting_worsening_share=0.5))
    assert h.loc["B", "firm_mw"] == pytest.approx(50)
    assert h.loc["B", "firm_limiting_line_id"] == "AB"
    # default (5 % of the rating, MISO BPM-015): the set-aside overload on AC is worsened
    # past the limit at 0.05 · 120 / 1 = 6 MW; it binds, and is still reported set aside
    h = run(lines)
    assert h.loc["B", "firm_mw"] == pytest.approx(6.0)
    assert h.loc["B", "firm_limiting_line_id"] == "AC"
    assert h.loc["B", "firm_outage_line_id"] == "AB"
    assert h.loc["B", "firm_kind"] == "outage"
    assert h.loc["B", "firm_preexisting"] == True  # noqa: E712
    # binding: AB out leaves AC above its rating already: nothing is firm
    h = run(lines, settings=Settings(n1_preexisting="binding"))
    assert h.loc["B", "firm_mw"] == 0
    assert h.loc["B", "firm_limiting_line_id"] == "AC"
    assert h.loc["B", "firm_outage_line_id"] == "AB"
    assert h.loc["B", "firm_kind"] == "outage"
    # within its rating after every outage: nothing to set aside
    h = run(triangle(f_ab=20.0, f_ac=10.0, f_cb=10.0))
    assert h.loc["B", "firm_preexisting"] == False  # noqa: E712


def test_a_radial_outage_islands_the_poi():
    h = run([*triangle(), ("BD", "B", "D", 0.1, 500.0, 0.0)])
    assert h.loc["D", "hosting_mw"] == pytest.approx(300)      # AB, as for B
    assert h.loc["D", "firm_mw"] == 0
    assert h.loc["D", "firm_kind"] == "islanded"
    assert h.loc["D", "firm_outage_line_id"] == "BD"
    # D's spur is not in B's flow path: B keeps its 120 MW
    assert h.loc["B", "firm_mw"] == pytest.approx(120)


@pytest.mark.parametrize(("share_d", "islanded"), [(0.3, False), (0.7, True)])
def test_a_bridge_islands_the_poi_only_beyond_the_islanding_share(share_d, islanded):
    """A load at B, served by A (triangle) and D (a spur off B, one line): BD out cuts D's
    share of the participation off. More than ISLANDING_SHARE (one half) there, and B is
    islanded (nothing firm); less, and the outage is left out (the rest picks up)."""
    gens = {"A": 1000.0 * (1 - share_d), "D": 1000.0 * share_d}
    h = run([*triangle(), ("BD", "B", "D", 0.1, 5000.0, 0.0)], gens=gens)
    if islanded:
        assert h.loc["B", "firm_kind"] == "islanded"
        assert h.loc["B", "firm_mw"] == 0
        assert h.loc["B", "firm_outage_line_id"] == "BD"
    else:
        assert h.loc["B", "firm_kind"] != "islanded"
        assert h.loc["B", "firm_mw"] > 0
        assert h.loc["B", "firm_outage_line_id"] != "BD"


def test_one_circuit_of_a_double_circuit_is_one_outage():
    lines = [*triangle(), ("BE1", "B", "E", 0.2, 150.0, 0.0), ("BE2", "B", "E", 0.2, 90.0, 0.0)]
    lines[1] = ("AC", "A", "C", 0.1, 1000.0, 0.0)
    h = run(lines)
    # N-0 at E: each circuit carries 1/2; BE2 reaches 90 at 180 MW on the pair
    assert h.loc["E", "hosting_mw"] == pytest.approx(180)
    # N-1 at E: BE1 out → BE2 carries all: 90 (BE2 out → BE1: 150; AB out → AC: 1000)
    assert h.loc["E", "firm_mw"] == pytest.approx(90)
    assert h.loc["E", "firm_outage_line_id"] == "BE1"
    assert h.loc["E", "firm_limiting_line_id"] == "BE2"
    assert h.loc["E", "firm_kind"] == "outage"


def test_n0_binds_when_every_outage_is_lighter():
    # generous ratings everywhere but AB's: N-1 (AC/CB out → AB carries 1·P ≤ 200) vs
    # N-0 (AB 200 / (2/3) = 300): firm 200 after an outage of AC or CB
    lines = [("AB", "A", "B", 0.1, 200.0, 0.0), ("AC", "A", "C", 0.1, 1e4, 0.0),
             ("CB", "C", "B", 0.1, 1e4, 0.0)]
    h = run(lines)
    assert h.loc["B", "firm_mw"] == pytest.approx(200)
    assert h.loc["B", "firm_limiting_line_id"] == "AB"
    assert h.loc["B", "firm_outage_line_id"] in {"AC", "CB"}
    # with a 2x emergency rating N-1 gives 400 > 300: the N-0 limit binds, no outage
    h = run(lines, settings=Settings(emergency_rating_factor=2.0))
    assert h.loc["B", "firm_mw"] == pytest.approx(300)
    assert h.loc["B", "firm_kind"] == "n-0"
    assert pd.isna(h.loc["B", "firm_outage_line_id"])  # None, or NaN in pandas 3 strings
    assert h.loc["B", "firm_limiting_line_id"] == "AB"


def test_screen_limit_marks_the_result_estimated():
    h = run(triangle(), settings=Settings(n1_max_outages=0))
    # only the circuits at B are screened (AB, CB): AB out → AC 120 still found
    assert h.loc["B", "firm_mw"] == pytest.approx(120)
    assert h.loc["B", "firm_source"] == "estimated"


def k5_screened(cutoff: float) -> tuple[int, int]:
    """Outages screened and flow-shift checks for a load at K1 of a complete graph K5
    (equal reactances, the generator at K5)."""
    names = [f"K{i}" for i in range(1, 6)]
    for i, name in enumerate(names):
        XY[name] = (float(np.cos(2 * np.pi * i / 5)), float(np.sin(2 * np.pi * i / 5)))
    lines = [(f"{a}{b}", a, b, 0.1, 1000.0, 0.0)
             for i, a in enumerate(names) for b in names[i + 1:]]
    h = run(lines, gens={"K5": 1000.0}, sub_ids=["K1"],
            settings=Settings(distribution_factor_cutoff=cutoff))
    assert h.loc["K1", "firm_source"] == "computed"
    report = h.attrs["report"]
    return report["n1_outages_screened"], report["n1_flow_shift_checks"]


def test_the_contingency_set_is_the_outages_that_move_the_poi_sensitivities():
    # A load at K1 served from K5: 0.4 on K5-K1, 0.2 on each K5-Kj-K1 (j = 2, 3, 4), 0 on
    # Kj-Kk. Every edge has p_kk = 2/5 (d = 3/5); a unit transfer over one edge puts 1/5 on
    # each edge that shares one of its ends, 0 on the others: LODF 1/3 onto neighbours.
    # The outage of K5-Kj changes the POI's flow per MW by at most 0.2 / 3 = 0.067. A
    # circuit is screened on every branch when its change reaches half the cut-off (it
    # can lift a branch loaded at just under half the cut-off to the cut-off). The 4
    # circuits at K1 are always screened.
    assert k5_screened(0.10)[0] == 4 + 3   # 0.067 >= 0.05: K5-K2, K5-K3, K5-K4 screened
    assert k5_screened(0.15)[0] == 4       # 0.067 < 0.075 although |s| = 0.2 >= 0.075


def test_outages_that_move_flow_onto_a_loaded_branch_are_checked_on_it():
    # at a 0.30 cut-off the branches loaded by 0.15 or more are watched: K5-K1 (0.4) and
    # the six K5-Kj, K1-Kj (0.2). On K5-K1 its 6 neighbours each move 1/3 >= 0.30 of their
    # flow onto it and the POI's flow per MW becomes 0.4 + 0.2 / 3 = 0.467 >= 0.30: 6
    # checks. On each K5-Kj and K1-Kj the outage of K5-K1 moves 1/3 of its flow there and
    # lifts the flow per MW to 0.2 + 0.4 / 3 = 0.333 >= 0.30: 6 more. The others stay below
    # the cut-off after the outage (0.267 or less).
    assert k5_screened(0.30)[1] == 12
    # at 0.35, 1/3 < 0.35 but the outages are material in MW: each moves 1/3 of its flow
    # per MW (0.2) at the POI's N-0 hosting (2,500 MW), 167 MW >= 5 % of 1,000 MW, onto
    # K5-K1, which stays above the cut-off (0.467); the 0.333 on the others does not
    assert k5_screened(0.35)[1] == 6
    assert k5_screened(0.50)[1] == 0       # 0.467 < 0.50 after every outage


def test_a_flow_shift_outage_binds_the_firm_load():
    # K5-K1 rated 500 MW carries 300 MW from K5 to K1 and K5-K2 300 MW from K5 to K2. The
    # outage of K5-K2 (|s| = 0.2 < 0.30: not in the POI's own screen) moves 1/3 of its
    # flow onto K5-K1: 400 MW, and the load's flow per MW there becomes 0.467. Firm =
    # 100 / (0.4 + 0.2 / 3) = 214.3 MW (N-0: 200 / 0.4 = 500 MW).
    names = [f"K{i}" for i in range(1, 6)]
    for i, name in enumerate(names):
        XY[name] = (float(np.cos(2 * np.pi * i / 5)), float(np.sin(2 * np.pi * i / 5)))
    flow = {"K1K5": -300.0, "K2K5": -300.0}
    lines = [(f"{a}{b}", a, b, 0.1, 500.0 if a + b == "K1K5" else 5000.0,
              flow.get(a + b, 0.0)) for i, a in enumerate(names) for b in names[i + 1:]]
    h = run(lines, gens={"K5": 5000.0}, sub_ids=["K1"],
            settings=Settings(distribution_factor_cutoff=0.30))
    assert h.loc["K1", "hosting_mw"] == pytest.approx(500.0)
    assert h.loc["K1", "firm_mw"] == pytest.approx(100.0 / (0.4 + 0.2 / 3))
    assert h.loc["K1", "firm_outage_line_id"] == "K2K5"
    assert h.loc["K1", "firm_limiting_line_id"] == "K1K5"


def plants_frame(rows):
    """rows: (plant_id, sub_id, capacity_mw, online_capacity_mw, base_output_mw)."""
    return gpd.GeoDataFrame(
        {"plant_id": [r[0] for r in rows], "fuel": "gas", "sub_id": [r[1] for r in rows],
         "capacity_mw": [r[2] for r in rows], "online_capacity_mw": [r[3] for r in rows],
         "base_output_mw": [r[4] for r in rows]},
        geometry=[Point(XY[r[1]]) for r in rows], crs="EPSG:4326")


def test_units_off_or_at_full_output_pick_up_nothing():
    subs = gpd.GeoDataFrame({"sub_id": ["A", "B", "C"], "voltage_kv": 230.0},
                            geometry=[Point(XY[s]) for s in "ABC"], crs="EPSG:4326")
    lines = [("AB", "A", "B", 0.1, 200.0, 0.0), ("AC", "A", "C", 0.1, 1e4, 0.0),
             ("CB", "C", "B", 0.1, 1e4, 0.0)]
    ln = lines_frame(lines)
    g = grid.build(subs, ln)
    # A: at full output; A2: off in the base case; C: 100 MW of headroom
    plants = plants_frame([("A1", "A", 500.0, 500.0, 500.0), ("A2", "A", 400.0, 0.0, 0.0),
                           ("C1", "C", 300.0, 300.0, 200.0)])
    mw, _ = dispatch.participation(g, plants, Settings())
    assert mw.tolist() == [0.0, 0.0, 100.0]
    h = hosting.hosting(g, plants, Settings())
    # all of the load at B comes from C: 2/3 on CB, 1/3 on C→A→B, so AB (200) binds at 600
    assert h.loc["B", "hosting_mw"] == pytest.approx(600)
    assert h.loc["B", "area_headroom_mw"] == pytest.approx(100)
    # by nameplate A's 900 MW and C's 300 MW share it 3:1 (AB: 3/4·2/3 + 1/4·1/3 = 7/12)
    h = hosting.hosting(g, plants, Settings(participation_method="nameplate"))
    assert h.loc["B", "hosting_mw"] == pytest.approx(200 / (7 / 12))


def test_participation_of_an_area_sums_to_the_load():
    # two regions on one island: B in Virginia (MIDA), A and C in Tennessee (TEN)
    subs = gpd.GeoDataFrame({"sub_id": ["A", "B", "C"], "voltage_kv": 230.0,
                             "state": ["US-TN", "US-VA", "US-TN"]},
                            geometry=[Point(XY[s]) for s in "ABC"], crs="EPSG:4326")
    lines = [("AB", "A", "B", 0.1, 1e4, 0.0), ("AC", "A", "C", 0.1, 1e4, 0.0),
             ("CB", "C", "B", 0.1, 1e4, 0.0)]
    ln = lines_frame(lines)
    g = grid.build(subs, ln)
    plants = plants_frame([("A1", "A", 300.0, 300.0, 100.0), ("B1", "B", 50.0, 50.0, 20.0),
                           ("C1", "C", 100.0, 100.0, 0.0)])
    by_region = Settings(participation_area="eia930_region")  # the default is the BA's
    gen, _ = dispatch.participation(g, plants, by_region)
    area, labels = dispatch.areas(g, by_region)
    assert labels[area].tolist() == ["TEN", "MIDA", "TEN"]
    cols, tcol = dispatch.island_columns(gen, area, area)
    w = cols / cols.sum(axis=0)
    assert np.allclose(w.sum(axis=0), 1.0)
    # a load at A is served by TEN's headroom only: A 200, C 100 → 2/3, 1/3
    assert w[:, tcol[0]].tolist() == pytest.approx([2 / 3, 0.0, 1 / 3])
    assert w[:, tcol[1]].tolist() == pytest.approx([0.0, 1.0, 0.0])
    h = hosting.hosting(g, plants, by_region)
    assert h.loc["A", "area_headroom_mw"] == pytest.approx(300)
    assert h.loc["B", "participation_area"] == "MIDA"
    # interconnection-wide: every unit's headroom, 330 MW
    h = hosting.hosting(g, plants, Settings(participation_area="interconnection"))
    assert h.loc["B", "area_headroom_mw"] == pytest.approx(330)
    assert h.loc["B", "participation_area"] == "interconnection"


def test_voltage_fit_to_load_size():
    kv = np.array([115.0, 138.0, 230.0, 345.0, 500.0, np.nan])
    fits = secure.voltage_fits
    assert fits(kv, 50.0, Settings()).tolist() == [True] * 5 + [False]
    assert fits(kv, 100.0, Settings()).tolist() == [False, True, True, True, True, False]
    assert fits(kv, 300.0, Settings()).tolist() == [False, False, True, True, True, False]
    assert fits(kv, 1000.0, Settings()).tolist() == [False, False, False, True, True, False]
    with pytest.raises(SettingsError, match="firm_min_poi_kv"):
        fits(kv, 300.0, Settings(firm_min_poi_kv=(138.0,)))


@pytest.mark.parametrize("override", [{"emergency_rating_factor": 1.5}, {"n1_max_outages": 1},
                                      {"n1_lodf_tolerance": 0.0},
                                      {"participation_method": "nameplate"},
                                      {"participation_area": "interconnection"}])
def test_every_firm_setting_keys_the_cache(tmp_path, override):
    lines = triangle()
    used = ["A", "B", "C"]
    subs = gpd.GeoDataFrame({"sub_id": used, "voltage_kv": 230.0},
                            geometry=[Point(XY[s]) for s in used], crs="EPSG:4326")
    ln = lines_frame(lines)
    plants = plants_frame([("A1", "A", 1000.0, 1000.0, 0.0)])
    settings = Settings(cache_dir=tmp_path)
    g = grid.build(subs, ln, settings)
    assert grid.metrics(g, plants, settings).attrs["cache"] == "miss"
    assert grid.metrics(g, plants, settings).attrs["cache"] == "hit"
    assert grid.metrics(g, plants, settings.replace(**override)).attrs["cache"] == "miss"
