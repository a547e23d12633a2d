"""Surfaces on the map: H3 cells merged into coarser display cells, the best sites on top."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import h3
import numpy as np
import pytest
from shapely.geometry import Point

from geo import web
from geo.settings import Settings
from geo.web import surface as _map_surface
from tests.map_helpers import site_rows

PROV = {"tool": "geo-rank", "version": "t", "region": "US-T"}
#: Two neighbouring res-5 cells near Providence; each has 7 children at res 6.
PARENTS = sorted({h3.latlng_to_cell(41.8, -71.4, 5), h3.latlng_to_cell(41.8, -71.0, 5)})


def surface() -> gpd.GeoDataFrame:
    """14 res-6 cells: the children of PARENTS[0] are tiers B..D, of PARENTS[1] A..D."""
    cells = [c for p in PARENTS for c in sorted(h3.cell_to_children(p, 6))]
    tiers = [*"BCDDCBD", *"DACBDAC"]
    months = [30.0, 40.0, 50.0, 50.0, 44.0, 24.5, 60.0, 60, 19.0, 40, 30, 60, 18.5, 41]
    rank = [5, 9, 12, 13, 10, 4, 14, 11, 2, 7, 3, 8, 1, 6]
    latlng = [h3.cell_to_latlng(c) for c in cells]
    return gpd.GeoDataFrame(
        {"site_id": cells, "candidate_kind": "h3", "tier": tiers, "rank": rank,
         "score": [1.0 - r / 20 for r in rank], "time_to_power_months": months,
         "poi_sub_id": ["s1", "s1", "s2", "s3", "s4", "s5", "s6"] * 2, "poi_name": "P"},
        geometry=[Point(lng, lat) for lat, lng in latlng], crs="EPSG:4326")


def surface_rows(page: str) -> list[list]:
    match = re.search(r"var rows = (\[\[\d.*?\]\]);\n  g.addData", page, re.S)
    assert match, "no surface layer in the page"
    return json.loads(match.group(1))


def test_parents_are_h3_parents():
    cells = [h3.latlng_to_cell(lat, lng, 9) for lat, lng in [(41.8, -71.4), (-33.9, 151.2),
                                                              (64.1, -21.9), (0.0, 0.0)]]
    ints = np.array([h3.str_to_int(c) for c in cells], dtype=np.uint64)
    for res in range(0, 10):
        got = [h3.int_to_str(int(i)) for i in _map_surface.parents(ints, res)]
        assert got == [h3.cell_to_parent(c, res) for c in cells]


def test_display_resolution_and_best_values():
    res, cells = _map_surface.aggregate(surface(), max_cells=2)
    assert res == 5
    assert [h3.int_to_str(int(c)) for c in cells["cell"]] == PARENTS
    assert cells["n"].tolist() == [7, 7]
    assert [_map_surface.TIERS[t] for t in cells["tier"]] == ["B", "A"]
    assert cells["months"].tolist() == [24.5, 18.5]
    assert cells["rank"].tolist() == [4, 1]
    res, cells = _map_surface.aggregate(surface(), max_cells=14)
    assert res == 6 and len(cells) == 14 and set(cells["n"]) == {1}


def test_surface_map_draws_display_cells_and_the_best_sites(tmp_path):
    settings = Settings(map_surface_max_cells=2)
    path = web.render(surface(), tmp_path / "s.html", PROV, top=4, settings=settings)
    page = path.read_text("utf-8")
    rows = surface_rows(page)
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [(1, 24.5, 4, 7), (0, 18.5, 1, 7)]
    assert all(len(r[5]) == 12 for r in rows)  # a hexagon's six corners, lon/lat pairs
    # markers: the best site of each POI, with their own ranks (ranks 4 and 5 share the POIs
    # of ranks 1 and 2)
    assert [r[2] for r in site_rows(page)] == ["6", "3", "2", "1"]  # drawn worst first
    assert "Surface: best tier of 14 sites in 2 H3 res-5 cells" in page
    assert "Ranked sites (4, the best one per POI)" in page


def test_a_small_set_of_points_stays_markers(tmp_path):
    sites = surface().assign(candidate_kind="file")
    page = web.render(sites, tmp_path / "m.html", PROV, top=3).read_text("utf-8")
    assert "Surface:" not in page and len(site_rows(page)) == 14
    # past map_surface_min_sites, points become a surface too
    page = web.render(sites, tmp_path / "m.html", PROV, top=3,
                       settings=Settings(map_surface_min_sites=10)).read_text("utf-8")
    assert "Surface: best tier of 14 sites" in page and len(site_rows(page)) == 3


def test_surface_map_is_deterministic(tmp_path):
    a = web.render(surface(), tmp_path / "a.html", PROV).read_bytes()
    b = web.render(surface().iloc[::-1], tmp_path / "b.html", PROV).read_bytes()
    assert a == b


@pytest.mark.parametrize("top", [0, -1, 2.5, True])
def test_bad_top(tmp_path, top):
    from geo.errors import SettingsError

    with pytest.raises(SettingsError, match="--top"):
        web.render(surface(), tmp_path / "x.html", PROV, top=top)
