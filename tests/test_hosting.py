"""geo.grid.hosting on 3- and 4-bus grids computed by hand.

Triangle A, B, C with equal reactances: one MW taken at B and supplied at A flows 2/3 on
A→B and 1/3 on A→C→B (the parallel path has twice the reactance).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.grid import hosting, joint
from geo.settings import Settings

XY = {"A": (0.0, 0.0), "B": (0.1, 0.0), "C": (0.05, 0.08), "D": (0.2, 0.0), "E": (0.3, 0.0)}


def layers(lines: list[tuple[str, str, str, float, float, float | None]],
           gens: dict[str, float], kv: float = 230.0):
    """lines: (line_id, from, to, reactance_pu, capacity_mw, flow_mw)."""
    used = sorted({s for ln in lines for s in ln[1:3]})
    subs = gpd.GeoDataFrame({"sub_id": used, "voltage_kv": kv},
                            geometry=[Point(XY[s]) for s in used], crs="EPSG:4326")
    lines_gdf = gpd.GeoDataFrame(
        {"line_id": [ln[0] for ln in lines], "from_sub": [ln[1] for ln in lines],
         "to_sub": [ln[2] for ln in lines], "voltage_kv": kv,
         "reactance_pu": [ln[3] for ln in lines], "capacity_mw": [ln[4] for ln in lines],
         "flow_mw": [np.nan if ln[5] is None else ln[5] for ln in lines]},
        geometry=[LineString([XY[ln[1]], XY[ln[2]]]) for ln in lines], crs="EPSG:4326")
    plants = gpd.GeoDataFrame(
        {"plant_id": list(gens), "fuel": "gas", "capacity_mw": list(gens.values()),
         "sub_id": list(gens)}, geometry=[Point(XY[s]) for s in gens], crs="EPSG:4326")
    return subs, lines_gdf, plants


def run(lines, gens, settings=None, **kw) -> pd.DataFrame:
    subs, ln, plants = layers(lines, gens)
    g = grid.build(subs, ln, settings)
    return hosting.hosting(g, plants, settings, **kw)


def triangle(f_ab=0.0, f_cb=0.0, f_ac=0.0, r_ab=100.0, r_cb=100.0, r_ac=100.0):
    return [("AB", "A", "B", 0.1, r_ab, f_ab), ("CB", "C", "B", 0.1, r_cb, f_cb),
            ("AC", "A", "C", 0.1, r_ac, f_ac)]


def test_triangle_two_thirds_direct():
    h = run(triangle(), {"A": 500})
    # AB carries 2/3 per MW: 100 / (2/3) = 150 < 300 on the other path, < cap 200
    assert h.loc["B", "hosting_mw"] == pytest.approx(150)
    assert h.loc["B", "limiting_line_id"] == "AB"
    assert h.loc["B", "limit_kind"] == "branch"
    assert h.attrs["report"]["computed"] == 3


def test_base_flow_direction_matters():
    # 30 MW already flows A→B: headroom 70, hosting 70 / (2/3) = 105
    assert run(triangle(f_ab=30), {"A": 500}).loc["B", "hosting_mw"] == pytest.approx(105)
    # 30 MW flows B→A: the new load first unloads it, headroom 130 → 195
    h = run(triangle(f_ab=-30), {"A": 500})
    assert h.loc["B", "hosting_mw"] == pytest.approx(195)


def test_unknown_flow_uses_assumed_utilisation():
    h = run(triangle(f_ab=None), {"A": 500}, Settings(assumed_utilisation=0.25))
    assert h.loc["B", "hosting_mw"] == pytest.approx(75 / (2 / 3))


def test_incident_rating_cap():
    # both lines into B are unloaded by the new load's direction: the branch limit
    # (AB: 190 / (2/3) = 285) exceeds the 200 MW that the lines touching B can carry
    h = run(triangle(f_ab=-90, f_cb=-60, r_ac=1000), {"A": 500})
    assert h.loc["B", "hosting_mw"] == pytest.approx(200)
    assert h.loc["B", "limit_kind"] == "incident_rating"
    assert set(h.loc["B", "limiting_line_id"].split(";")) == {"AB", "CB"}


def test_participation_in_proportion_to_capacity():
    # generation at A and C, equal: AB and CB each carry 1/2 per MW, AC nothing
    h = run(triangle(r_ab=100, r_cb=80), {"A": 300, "C": 300})
    assert h.loc["B", "hosting_mw"] == pytest.approx(160)
    assert h.loc["B", "limiting_line_id"] == "CB"
    # 3:1 in favour of A: AB 3/4·2/3 + 1/4·1/3 = 7/12, CB 5/12
    h = run(triangle(), {"A": 300, "C": 100})
    assert h.loc["B", "hosting_mw"] == pytest.approx(100 / (7 / 12))


def test_distribution_factor_cutoff_ignores_far_paths():
    # AB x=0.01, path A-C-D-B x=2: 0.01/2.01 = 0.5 % of the load goes via C and D
    lines = [("AB", "A", "B", 0.01, 100, 0.0), ("AC", "A", "C", 1.0, 100, 0.0),
             ("CD", "C", "D", 0.5, 0.3, 0.0), ("DB", "D", "B", 0.5, 100, 0.0)]
    share = 0.01 / 2.01
    h = run(lines, {"A": 500})
    assert h.loc["B", "hosting_mw"] == pytest.approx(100 / (1 - share))
    assert h.loc["B", "limiting_line_id"] == "AB"
    h0 = run(lines, {"A": 500}, Settings(distribution_factor_cutoff=0.0))
    assert h0.loc["B", "hosting_mw"] == pytest.approx(0.3 / share)
    assert h0.loc["B", "limiting_line_id"] == "CD"


def test_four_bus_radial_spur_and_overloaded_base_case():
    # D hangs off B: everything for D crosses BD (rating 50) → 50 MW
    lines = [*triangle(), ("BD", "B", "D", 0.1, 50, 0.0)]
    h = run(lines, {"A": 500})
    assert h.loc["D", "hosting_mw"] == pytest.approx(50)
    assert h.loc["D", "limit_kind"] == "branch"
    # base flow above the rating in the direction of the change: hosting 0, not negative
    lines = [*triangle(), ("BD", "B", "D", 0.1, 50, 60.0)]
    assert run(lines, {"A": 500}).loc["D", "hosting_mw"] == 0.0


@pytest.mark.parametrize("noise", [-1e-11, 0.0, 1e-11])
def test_a_tie_of_branch_and_incident_rating_is_a_branch_whatever_the_last_bits(noise):
    # D's one line is both its branch limit and its incident rating (50 MW): a base flow
    # of a few 1e-11 MW (a solve's rounding on another platform) must not flip the label
    lines = [*triangle(), ("BD", "B", "D", 0.1, 50, noise)]
    h = run(lines, {"A": 500})
    assert h.loc["D", "hosting_mw"] == pytest.approx(50)
    assert h.loc["D", "limit_kind"] == "branch"
    assert h.loc["D", "limiting_line_id"] == "BD"


@pytest.mark.parametrize("noise", [-1e-11, 0.0, 1e-11])
def test_two_branches_that_tie_name_the_first_whatever_the_last_bits(noise):
    # E hangs off B by two lines in a row, alike (50 MW, no flow): each carries all of E's
    # load, so their limits tie; a base flow of 1e-11 MW on one (a solve's rounding on
    # another CPU) must not choose between them: the first in the grid's edge order binds
    lines = [*triangle(), ("BD", "B", "D", 0.1, 50, 0.0), ("DE", "D", "E", 0.1, 50, noise)]
    h = run(lines, {"A": 500})
    assert h.loc["E", "hosting_mw"] == pytest.approx(50)
    assert h.loc["E", "limit_kind"] == "branch"
    assert h.loc["E", "limiting_line_id"] == "BD"
    # a portfolio's joint screen names the same line
    subs, ln, plants = layers(lines, {"A": 500})
    both = joint.screen(grid.build(subs, ln), plants, Settings(),
                        pd.DataFrame({"sub_id": ["E"], "mw": [100.0]}), n1=False)
    assert both.fits == pytest.approx(0.5) and both.limiting_line_id == "BD"


def test_statuses_no_generation_and_min_kv():
    h = run(triangle(), {"A": 500}, Settings(hosting_min_kv=345))
    assert set(h["hosting_status"]) == {"below_min_kv"}
    assert h["hosting_mw"].isna().all()
    subs, ln, plants = layers(triangle(), {"A": 500})
    plants["fuel"] = "solar"  # not a participating fuel
    h = hosting.hosting(grid.build(subs, ln), plants)
    assert set(h["hosting_status"]) == {"no_generation"}
    assert h.attrs["report"]["islands_without_generation"] == 1


def test_plant_without_sub_id_goes_to_nearest_substation():
    subs, ln, plants = layers(triangle(), {"A": 500})
    plants["sub_id"] = None
    h = hosting.hosting(grid.build(subs, ln), plants)
    assert h.loc["B", "hosting_mw"] == pytest.approx(150)
    assert h.attrs["report"]["plants_located_by_nearest"] == 1


def test_batching_and_slack_choice_do_not_change_answers():
    lines = [*triangle(f_ab=12, f_cb=-7), ("BD", "B", "D", 0.05, 120, 3.0),
             ("CD", "C", "D", 0.2, 90, None)]
    gens = {"A": 300, "D": 100}
    a = run(lines, gens, Settings(hosting_batch=1))
    b = run(lines, gens, Settings(hosting_batch=256))
    pd.testing.assert_frame_equal(a, b, check_exact=False)
    progress = []
    run(lines, gens, Settings(hosting_batch=2), progress=lambda d, t: progress.append((d, t)))
    assert progress == [(2, 4), (4, 4)]


def test_metrics_table_and_cache(tmp_path):
    subs, ln, plants = layers(triangle(), {"A": 500})
    settings = Settings(cache_dir=tmp_path)
    g = grid.build(subs, ln, settings)
    m = grid.metrics(g, plants, settings)
    assert m.attrs["cache"] == "miss"
    assert list(m.columns) == ["name", "voltage_kv", "island", "backbone_km", "redundancy",
                               "hosting_mw", "limiting_line_id", "limit_kind",
                               "hosting_status", "firm_mw", "firm_limiting_line_id",
                               "firm_outage_line_id", "firm_kind", "firm_source",
                               "firm_preexisting", "firm_case", "firm_base_mw",
                               "firm_stressed_mw", "participation_area", "area_headroom_mw"]
    assert m.loc["B", "hosting_mw"] == pytest.approx(150)
    again = grid.metrics(grid.build(subs, ln, settings), plants, settings)
    assert again.attrs["cache"] == "hit"
    pd.testing.assert_frame_equal(m, again)
    assert again.attrs["hosting"]["computed"] == 3
    changed = grid.metrics(g, plants, settings.replace(distribution_factor_cutoff=0.1))
    assert changed.attrs["cache"] == "miss"
    off = grid.metrics(g, plants, settings.replace(use_cache=False))
    assert off.attrs["cache"] == "off"
    assert len(list(tmp_path.glob("*.parquet"))) == 2


def test_a_subset_is_served_by_the_cached_full_set(tmp_path):
    subs, ln, plants = layers(triangle(), {"A": 500})
    settings = Settings(cache_dir=tmp_path)
    g = grid.build(subs, ln, settings)
    full = grid.metrics(g, plants, settings)
    assert full.attrs["cache"] == "miss"
    part = grid.metrics(g, plants, settings, sub_ids=["B"])
    assert part.attrs["cache"] == "hit"  # no second hosting run for a subset
    assert part.loc["B", "hosting_mw"] == full.loc["B", "hosting_mw"] == pytest.approx(150)
    # a small subset with nothing cached is computed alone, under its own key
    alone = grid.metrics(g, plants, Settings(cache_dir=tmp_path / "other"), sub_ids=["B"])
    assert alone.attrs["cache"] == "miss"
    assert alone.loc["B", "hosting_mw"] == pytest.approx(150)
