"""Spatial joins with known answers: POI choice, distances, hydro, gas, admin areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

import layers
from geo import costs, join, outlines
from geo.settings import Settings
from layers.sphere import chord_to_km, unit_xyz

GEOD = Geod(ellps="WGS84")


def _pts(coords):
    return gpd.GeoSeries([Point(x, y) for x, y in coords], crs="EPSG:4326")


def _geodesic_km(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2] / 1000.0


def test_poi_prefers_the_fastest_grid_path():
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=_pts([(-100.0, 40.0)]))
    # p1 nearest, firm 100 of 300: 12 + 24 + 24 x 2/3 = 52 months; p2 firm 200: 44;
    # p3 firm for the load, ~7.8 km: 12 + tie (11.6 + 0.39 x 7.8 = 14.6) = 26.6: p3
    coords = [(-100.0, 40.02), (-100.0, 40.04), (-100.0, 40.07)]
    pois = pd.DataFrame({"hosting_mw": [100.0, 500.0, 400.0], "firm_mw": [100.0, 200.0, 300.0],
                         "voltage_kv": 345.0},
                        index=pd.Index(["p1", "p2", "p3"], name="sub_id"))
    out = join.assign_poi(site, pois, _pts(coords), 300.0, Settings())
    assert out["poi_sub_id"].iloc[0] == "p3"
    assert out["tie_distance_km"].iloc[0] == pytest.approx(
        _geodesic_km((-100, 40), coords[2]), rel=5e-3)


def test_poi_nearer_with_a_small_shortfall_beats_a_far_firm_poi_when_it_is_faster():
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=_pts([(-100.0, 40.0)]))
    # near: 2.2 km, firm 290 of 300 MW: upgrades 24 + 24 x 10/300 = 24.8; 12 + 24.8 = 36.8
    # far: ~44.5 km, firm: tie 11.6 + 0.39 x 44.5 + certificate 12 = 41.0; 12 + 41.0 = 53.0
    coords = [(-100.0, 40.02), (-100.0, 40.40)]
    pois = pd.DataFrame({"hosting_mw": [900.0, 900.0], "firm_mw": [290.0, 900.0],
                         "voltage_kv": 345.0},
                        index=pd.Index(["near", "far"], name="sub_id"))
    out = join.assign_poi(site, pois, _pts(coords), 300.0, Settings())
    assert out["poi_sub_id"].iloc[0] == "near"


def test_poi_equal_months_go_to_the_cheaper_interconnection_not_the_nearer():
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=_pts([(-100.0, 40.0)]))
    # Both firm, ties (11.6 + 0.39 x km < 12) under the bay's 12 months: 24 months each.
    # Capital (MISO, x1.7): a (500 kV, 0.556 km = 0.345 mi): tie 2 x 1,694,747 x 0.345 x 1.5
    # = 1.76 M + bay 5.3 + transformer 11,610 x 300 = 3.48 M -> 10.54 x 1.7 = 17.9 M USD;
    # b (230 kV, 0.889 km): 2.81 + 2.2 + 2.13 = 7.14 x 1.7 = 12.1 M USD: b, though farther.
    coords = [(-100.0, 40.005), (-100.0, 39.992)]
    pois = pd.DataFrame({"hosting_mw": [900.0, 900.0], "firm_mw": [900.0, 900.0],
                         "voltage_kv": [500.0, 230.0]},
                        index=pd.Index(["a", "b"], name="sub_id"))
    out = join.assign_poi(site, pois, _pts(coords), 300.0, Settings())
    assert out["poi_sub_id"].iloc[0] == "b"


def test_poi_where_neither_is_firm_goes_to_the_one_whose_intact_network_hosts_the_load():
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=_pts([(-100.0, 40.0)]))
    # both firm 0; near 115 kV hosts 100 of 300 MW at N-0: 12 + 24 + 24 + 24 x 2/3 = 76;
    # 345 kV ~2.2 km away hosts 2,000 MW at N-0: 12 + 24 + 24 = 60 months (the cheaper
    # 115 kV POI would win on capital if the months were equal)
    coords = [(-100.0, 40.0045), (-100.0, 40.02)]
    pois = pd.DataFrame({"hosting_mw": [100.0, 2_000.0], "firm_mw": [0.0, 0.0],
                         "voltage_kv": [115.0, 345.0]},
                        index=pd.Index(["near115", "hv"], name="sub_id"))
    out = join.assign_poi(site, pois, _pts(coords), 300.0, Settings())
    assert out["poi_sub_id"].iloc[0] == "hv"


def test_poi_tie_on_months_cost_and_distance_goes_to_the_most_firm_mw():
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=_pts([(-100.0, 40.0)]))
    # both firm for the load, 345 kV, 1.11 km north and south: the same months, capital
    # and tie; "a" would win on sub_id, but "b" has more firm MW
    coords = [(-100.0, 40.01), (-100.0, 39.99)]
    pois = pd.DataFrame({"hosting_mw": [900.0, 900.0], "firm_mw": [400.0, 900.0],
                         "voltage_kv": 345.0},
                        index=pd.Index(["a", "b"], name="sub_id"))
    out = join.assign_poi(site, pois, _pts(coords), 300.0, Settings())
    assert out["poi_sub_id"].iloc[0] == "b"
    swapped = pois.assign(firm_mw=[900.0, 400.0])
    assert join.assign_poi(site, swapped, _pts(coords), 300.0,
                           Settings())["poi_sub_id"].iloc[0] == "a"


def test_poi_without_any_host_takes_the_most_headroom_and_respects_max_tie():
    sites = gpd.GeoDataFrame({"site_id": ["s", "far"]},
                             geometry=_pts([(-100.0, 40.0), (-90.0, 30.0)]))
    coords = [(-100.0, 40.05), (-100.0, 40.10)]
    pois = pd.DataFrame({"hosting_mw": [50.0, 120.0], "firm_mw": [50.0, 120.0],
                         "voltage_kv": 345.0},
                        index=pd.Index(["a", "b"], name="sub_id"))
    out = join.assign_poi(sites, pois, _pts(coords), 300.0, Settings())
    assert out["poi_sub_id"].tolist() == ["b", None]
    # the sites' unit vectors from the caller (enrich shares them with hydro): the same
    pd.testing.assert_frame_equal(join.assign_poi(sites, pois, _pts(coords), 300.0, Settings(),
                                                  site_xyz=join._xyz(sites.geometry)), out)
    swapped = join.assign_poi(sites, pois, _pts(coords), 300.0, Settings(),
                              site_xyz=join._xyz(sites.geometry)[::-1])
    assert swapped["poi_sub_id"].tolist() == [None, "b"]  # theirs are used
    assert np.isnan(out["tie_distance_km"].iloc[1])
    # the distance to the grid: to the nearest substation, in reach (a, not the chosen b)
    # or not (1,400 km from "far")
    np.testing.assert_allclose(out["grid_distance_km"],
                               [_geodesic_km((-100, 40), coords[0]),
                                _geodesic_km((-90, 30), coords[0])], rtol=5e-3)


def test_poi_ties_break_by_sub_id_whatever_the_order():
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=_pts([(-100.0, 40.0)]))
    coords = [(-100.0, 40.1), (-100.0, 39.9)]  # same distance north and south
    for order in (["z", "y"], ["y", "z"]):
        pois = pd.DataFrame({"hosting_mw": [400.0, 400.0], "firm_mw": [400.0, 400.0],
                             "voltage_kv": 345.0},
                            index=pd.Index(order, name="sub_id"))
        out = join.assign_poi(site, pois, _pts(coords), 300.0, Settings())
        assert out["poi_sub_id"].iloc[0] == "y"


def test_substation_candidates_keep_their_own_poi():
    site = gpd.GeoDataFrame({"site_id": ["sub-7"], "poi_sub_id": ["7"]},
                            geometry=_pts([(-100.0, 40.0)]))
    pois = pd.DataFrame({"hosting_mw": [900.0], "firm_mw": [900.0], "voltage_kv": 345.0},
                        index=pd.Index(["8"], name="sub_id"))
    out = join.assign_poi(site, pois, _pts([(-100.0, 40.01)]), 300.0, Settings())
    assert out["poi_sub_id"].iloc[0] == "7" and out["tie_distance_km"].iloc[0] == 0.0
    assert out["grid_distance_km"].iloc[0] == 0.0


def test_hydro_within_radius_and_nearest():
    sites = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=_pts([(-120.0, 45.0)]))
    plants = gpd.GeoDataFrame(
        {"fuel": ["hydro", "hydro", "gas", "hydro"], "capacity_mw": [500.0, 800.0, 999.0, 70.0]},
        geometry=_pts([(-120.0, 45.45), (-120.0, 46.5), (-120.0, 45.01), (-120.0, 45.0)]))
    out = join.hydro_nearby(sites, plants)
    # 45.45 N is ~50 km away (inside), 46.5 N ~167 km (outside); the co-located 70 MW counts
    assert out["hydro_mw_within_100km"].iloc[0] == pytest.approx(570.0)
    assert out["nearest_hydro_km"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    # the sites' unit vectors from the caller (enrich shares them with assign_poi): the same
    pd.testing.assert_frame_equal(join.hydro_nearby(sites, plants, join._xyz(sites.geometry)),
                                  out, check_exact=True)
    far = join.hydro_nearby(sites, plants, join._xyz(_pts([(-120.0, 46.5)])))
    # theirs are used: at 46.5 N the 800 MW plant alone is within 100 km (45.45 N: 117 km)
    assert far["hydro_mw_within_100km"].iloc[0] == pytest.approx(800.0)


def test_gas_inside_is_zero_outside_is_geodesic():
    fields = gpd.GeoDataFrame({"name": ["Basin"]}, geometry=[box(-101, 40, -99, 41)],
                              crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"site_id": ["in", "south"]},
                             geometry=_pts([(-100.0, 40.5), (-100.0, 39.5)]))
    out = outlines.gas_nearby(sites, fields)
    assert out["gas_field"].tolist() == ["Basin", "Basin"]
    assert out["gas_field_km"].iloc[0] == 0.0
    expected = _geodesic_km((-100, 39.5), (-100, 40.0))  # ~55.5 km along the meridian
    assert out["gas_field_km"].iloc[1] == pytest.approx(expected, rel=1e-3)


def test_admin_area_snaps_coastal_points_only_within_tolerance():
    areas = gpd.GeoDataFrame({"code": ["US-XX"]}, geometry=[box(-101, 40, -99, 41)],
                             crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"site_id": ["in", "near", "far"]},
                             geometry=_pts([(-100, 40.5), (-100, 39.95), (-100, 39.0)]))
    assert outlines.admin_area(sites, areas, "code", 10.0).tolist() == ["US-XX", "US-XX", None]


@pytest.mark.parametrize("snap_km", [3.0, 10.0, 40.0])
def test_admin_area_leaves_out_only_polygons_that_cannot_be_within_snap(snap_km):
    """Polygons far from every outside point are left out of the outline search; the codes
    are those of a search over every polygon (close ones, a far one, points just inside
    and just beyond the snap distance, north and south)."""
    rng = np.random.default_rng(7)
    areas = gpd.GeoDataFrame(
        {"code": ["A", "B", "C", "FAR"]},
        geometry=[box(-101, 40, -100, 41), box(-99.9, 40, -99, 41.2),
                  box(-103, 55, -101, 56), box(20, -10, 21, -9)], crs="EPSG:4326")
    lon = np.r_[rng.uniform(-103.5, -98.5, 400), -100.5, -99.5, -102.0]
    lat = np.r_[rng.uniform(39.5, 56.5, 400), 39.6, 41.3, 54.9]
    sites = gpd.GeoDataFrame(geometry=_pts(list(zip(lon, lat, strict=True))))
    which, km = outlines._nearest_polygon(sites.geometry, areas)  # every polygon
    expected = np.where(km <= snap_km, areas["code"].to_numpy(dtype=object)[which], None)
    got = outlines.admin_area(sites, areas, "code", snap_km)
    assert 0 < sum(c is not None for c in got) < len(got)
    assert got.tolist() == expected.tolist()


def test_contained_is_the_first_polygon_as_sjoin_finds_it():
    # polygon 0 overlaps 1 (a point in both takes 0); a point on an edge is in neither
    polys = gpd.GeoDataFrame(geometry=[box(1, 1, 3, 3), box(0, 0, 2, 2), box(5, 5, 6, 6)],
                             crs="EPSG:4326")
    pts = _pts([(0.5, 0.5), (1.5, 1.5), (2.5, 2.5), (3.0, 2.0), (10, 10), (5.5, 5.5)])
    which = outlines.contained(pts, polys)
    assert which.tolist() == [1, 0, 0, -1, -1, 2]
    hit = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), polys, how="left", predicate="within")
    plain = hit[~hit.index.duplicated(keep="first")]["index_right"].fillna(-1)
    assert which.tolist() == plain.astype(int).tolist()


def test_poi_choice_equals_every_pair_measured_plainly():
    """assign_poi measures the pairs in reach only, with cost regions from a table; the
    choice equals the documented keys applied to every POI in reach one by one."""
    settings = Settings()
    rng = np.random.default_rng(7)
    n_sub, n_site = 12, 40
    sub_xy = np.column_stack([rng.uniform(-100.2, -99.8, n_sub), rng.uniform(39.8, 40.2, n_sub)])
    site_xy = np.column_stack([rng.uniform(-100.6, -99.4, n_site),
                               rng.uniform(39.4, 40.6, n_site)])
    site_xy[0] = (-80.0, 30.0)  # nothing in reach
    pois = pd.DataFrame({
        "hosting_mw": rng.choice([100.0, 300.0, 900.0], n_sub),
        "firm_mw": rng.choice([0.0, 250.0, 300.0, 900.0], n_sub),
        "voltage_kv": rng.choice([115.0, 230.0, 345.0, 500.0], n_sub),
        "interconnect": rng.choice(np.array(["Western", "Eastern", None], dtype=object), n_sub),
    }, index=pd.Index([f"s{i:02d}" for i in rng.permutation(n_sub)], name="sub_id"))
    # firm POIs under 1 km from the last sites: equal months, the cost region decides
    sub_xy[:4] = [(-100.0, 40.004), (-100.0, 39.993), (-99.994, 40.0), (-100.007, 40.0)]
    pois.iloc[:4, :3] = (900.0, 900.0, 345.0)
    pois.iloc[:4, 3] = ["Western", "Eastern", None, "Western"]
    site_xy[-8:] = np.array([-100.0, 40.0]) + rng.uniform(-0.002, 0.002, (8, 2))
    area = rng.choice(np.array(["US-TN", "US-TX", None], dtype=object), n_site)
    area[-8:] = ["US-TN", "US-TX"] * 4
    sites = gpd.GeoDataFrame({"site_id": np.arange(n_site)}, geometry=_pts(site_xy))
    out = join.assign_poi(sites, pois, _pts(sub_xy), 300.0, settings, subdivision=area)

    xyz_site, xyz_sub = unit_xyz(*site_xy.T), unit_xyz(*sub_xy.T)
    expected = []
    for i in range(n_site):
        km = chord_to_km(np.linalg.norm(xyz_sub - xyz_site[i], axis=1))
        reach = np.flatnonzero(km <= settings.max_tie_km)
        if len(reach) == 0:
            expected.append(None)
            continue
        data = {"poi_sub_id": pois.index.to_numpy()[reach], "tie_distance_km": km[reach],
                "firm_mw": pois["firm_mw"].to_numpy()[reach],
                "hosting_mw": pois["hosting_mw"].to_numpy()[reach],
                "poi_voltage_kv": pois["voltage_kv"].to_numpy()[reach],
                "interconnect": pois["interconnect"].to_numpy()[reach],
                "subdivision": np.full(len(reach), area[i], dtype=object)}
        path = costs.grid_path(data, 300.0, settings)
        keys = [(np.round(m, 6), np.round(c, 6), -f, np.round(k, 3), s) for m, c, f, k, s in
                zip(path["months"], path["capital"], data["firm_mw"], km[reach],
                    data["poi_sub_id"], strict=True)]
        expected.append(min(keys)[4])
    assert out["poi_sub_id"].tolist() == expected
    assert len({e for e in expected if e is not None}) > 3  # the case does choose


def test_a_site_near_a_border_never_takes_the_neighbours_state():
    """Nelway (BC) is 1 km from Washington: its subdivision snap (admin_snap_km) must not
    give it US-WA, whose electricity price and cost region would then price it; nor may a
    point in Washington take British Columbia's."""
    from geo.outlines import admin_area, in_country
    nelway = gpd.GeoDataFrame(geometry=[Point(-117.298, 49.001), Point(-117.3, 48.99)],
                              crs="EPSG:4326")               # BC, then Washington
    us = layers.load("US")
    country = admin_area(nelway, us.countries, ["iso_a2", "iso_a3"], 10.0)
    assert country[:, 1].tolist() == ["CAN", "USA"]
    near = admin_area(nelway, us.subdivisions, "code", 10.0)
    assert near.tolist() == ["US-WA", "US-WA"]                 # the snap alone crosses
    assert in_country(near, country[:, 0]).tolist() == [None, "US-WA"]
    # a Canadian run outlines the provinces: the snap crosses the other way
    near = admin_area(nelway, layers.load("CA").subdivisions, "code", 10.0)
    assert near.tolist() == ["CA-BC", "CA-BC"]
    assert in_country(near, country[:, 0]).tolist() == ["CA-BC", None]


def test_distinct_rows_codes_rows_by_their_bits():
    xy = np.array([[1.0, 2.0], [0.0, 2.0], [1.0, 2.0], [-0.0, 2.0], [np.nan, 5.0],
                   [2.0, 1.0], [np.nan, 5.0], [0.0, 2.0]])
    code, rows = outlines.distinct_rows(xy)
    assert code.tolist() == [0, 1, 0, 2, 3, 4, 3, 1]  # 0.0 and -0.0 apart, NaN with NaN
    assert len(rows) == 5
    got = xy[rows][code]
    assert (got.view(np.uint64) == xy.view(np.uint64)).all()
    assert outlines.distinct_rows(np.zeros((0, 2)))[0].tolist() == []


def test_first_by_is_a_rowwise_stable_lexsort_and_a_nan_clears_its_row():
    # by hand: row 0 ties on the first key (slots 0, 2), the second picks slot 2; row 1 is
    # decided by the first key alone (slot 1); row 2 ties throughout: the lowest slot (1)
    a = np.array([[1.0, 3.0, 1.0], [5.0, 0.0, 2.0], [9.0, 4.0, 4.0]])
    b = np.array([[7.0, 0.0, 6.0], [0.0, 9.0, 0.0], [0.0, 1.0, 1.0]])
    assert join.first_by((a, b)).tolist() == [2, 1, 1]
    # a NaN at a decided row's slot clears the row (slot 0), elsewhere it loses nothing
    c = np.array([[0.0, 0.0, 0.0], [0.0, np.nan, 0.0], [np.nan, 0.0, 0.0]])
    assert join.first_by((a, b, c)).tolist() == [2, 0, 1]

    def every_slot(keys):  # each key tested on every slot (the reference)
        alive = np.ones(keys[0].shape, dtype=bool)
        for key in keys:
            masked = np.where(alive, key.astype(float), np.inf)
            alive &= masked == masked.min(axis=1, keepdims=True)
        return alive.argmax(axis=1)

    rng = np.random.default_rng(5)
    keys = tuple(rng.integers(0, 3, (2000, 6)).astype(float) for _ in range(5))
    keys[3][rng.random((2000, 6)) < 0.01] = np.nan
    keys = (rng.random((2000, 6)) < 0.2, *keys, np.tile(np.arange(6.0), (2000, 1)))
    assert join.first_by(keys).tolist() == every_slot(keys).tolist()
    clean = tuple(k for i, k in enumerate(keys) if i != 4)  # no NaN: a stable lexsort
    want = [np.lexsort(tuple(k[i].astype(float) for k in clean[::-1]))[0] for i in range(2000)]
    assert join.first_by(clean).tolist() == want
