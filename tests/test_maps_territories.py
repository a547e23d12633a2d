"""The ISO/RTO and balancing-authority overlays of the map (issue 29): off by default, the
utility of the shown sites in their tooltips, small specks left out, hostile names as text."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo import web
from geo.web import territories as _map_who
from tests.test_maps import ESCAPED, HOSTILE, PROV, crs, hostile_bundle, make_sites


def _areas() -> gpd.GeoDataFrame:
    speck = box(-99.05, 40.9, -99.04, 40.91)  # 0.01 x 0.01 degree: far below the cut
    rows = [  # kind, name, code, geometry
        ("iso_rto", HOSTILE, "SPP", MultiPolygon([box(-101, 39, -99.9, 41), speck])),
        ("iso_rto", "West (non-ISO)", None, box(-99.9, 39, -99, 41)),
        ("balancing_authority", "Southwest Power Pool", "SWPP", box(-101, 39, -99, 41)),
        ("retail_service_territory", "Big IOU", None, box(-101, 39, -99, 41)),
    ]
    return crs({"territory_id": [f"t{i}" for i in range(len(rows))],
                "kind": [r[0] for r in rows], "name": [r[1] for r in rows],
                "eia_id": [None] * len(rows), "code": [r[2] for r in rows]},
               [r[3] for r in rows])


def _page(tmp_path, with_territories: bool = True) -> str:
    bundle = hostile_bundle()
    if with_territories:
        bundle._frames["territories"] = _areas()
    sites = make_sites(3).assign(utility=["ONCOR", "ONCOR", None])
    sites = sites.set_geometry([Point(-100.5, 40.1), Point(-100.2, 40.1), Point(-99.5, 40.1)])
    return web.render(sites, tmp_path / "m.html", PROV, layers=bundle).read_text("utf-8")


def _tooltips(page: str) -> list[str]:
    return [json.loads(f'"{t}"') for t in re.findall(r'"t": ?"((?:[^"\\]|\\.)*)"', page)]


def test_iso_and_ba_overlays_are_off_by_default_and_name_the_sites_utilities(tmp_path):
    page = _page(tmp_path)
    for label in ("ISO/RTO areas (2)", "Balancing authorities (1)"):
        assert label in page, label
        var = re.search(r'"' + re.escape(label) + r'" ?: ?(\w+)', page).group(1)
        assert f"{var}.addTo(" not in page          # in the layer control, not on the map
    tips = _tooltips(page)
    # the SPP area holds sites #1 and #2 (ONCOR); the non-ISO area #3, outside every utility
    assert f"<b>{ESCAPED}</b><br>ISO/RTO · SPP<br>sites here: ONCOR (#1, #2)" in tips
    assert "<b>West (non-ISO)</b><br>ISO/RTO<br>sites here: no utility territory (#3)" in tips
    assert ("<b>Southwest Power Pool</b><br>balancing authority · SWPP<br>sites here: ONCOR "
            "(#1, #2); no utility territory (#3)") in tips
    assert "Big IOU" not in page                      # retail territories are not drawn
    assert HOSTILE.replace("<", "\\u003c") not in page


def test_specks_are_left_out_and_the_largest_part_kept():
    tol = 0.01
    cut = (_map_who.TERRITORY_SPECK_FACTOR * tol) ** 2   # 0.0025 square degree
    two = MultiPolygon([box(0, 0, 1, 1), box(2, 2, 2.01, 2.01)])
    assert _map_who._without_specks(two, cut).equals(box(0, 0, 1, 1))
    tiny = MultiPolygon([box(0, 0, 0.01, 0.01), box(2, 2, 2.02, 2.02)])  # both below: largest
    assert _map_who._without_specks(tiny, cut).equals(box(2, 2, 2.02, 2.02))
    kept = MultiPolygon([box(0, 0, 1, 1), box(2, 2, 2.1, 2.1)])            # 0.01 >= cut
    assert len(_map_who._without_specks(kept, cut).geoms) == 2
    assert np.isclose(_map_who.TERRITORY_TOLERANCE_FACTOR, 3.0)


def test_no_territories_no_overlay(tmp_path):
    page = _page(tmp_path, with_territories=False)
    assert "ISO/RTO areas" not in page and "Balancing authorities" not in page


def test_same_inputs_same_bytes(tmp_path):
    first = _page(tmp_path)
    assert _page(tmp_path) == first


def test_a_polygon_older_geos_cannot_snap_is_made_valid_then_snapped(monkeypatch):
    # GEOS 3.11 (shapely 2.0, the oldest supported) raised "unable to assign free hole to a
    # shell" on a simplified territory; the map must still be written
    from shapely.errors import GEOSException

    from geo.web import layers as web_layers

    real = shapely.set_precision
    calls = []

    def fussy(geom, grid, **kw):
        calls.append(kw.get("mode", "valid_output"))
        if len(calls) == 1:
            raise GEOSException("TopologyException: unable to assign free hole to a shell")
        return real(geom, grid, **kw)

    monkeypatch.setattr(web_layers.shapely, "set_precision", fussy)
    square = shapely.box(0.0, 0.0, 1.00004, 1.0)
    assert web_layers._geojson(square, 4)["coordinates"][0][2] == [1.0, 1.0]
    assert calls == ["valid_output", "valid_output"]
