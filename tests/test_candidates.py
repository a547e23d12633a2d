"""Candidate generation: substations, H3 cells and user files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo import candidates
from geo.errors import LayerValidationError, SettingsError


@pytest.mark.parametrize("bad", ["h3:16", "h3:99", "h3", "h3:x", "nonsense"])
def test_bad_kinds_are_settings_errors(bad):
    with pytest.raises(SettingsError, match="--candidates"):
        candidates.parse_kind(bad)


def test_substation_candidates_respect_region_and_voltage(us_layers):
    import layers

    ri = layers.load("US-RI")
    sites = candidates.generate(ri, "substations", min_kv=115)
    subs = ri.substations.set_index("sub_id")
    assert len(sites) > 0
    assert (subs.loc[sites["poi_sub_id"], "voltage_kv"] >= 115).all()
    assert sites.within(ri.boundary).all()
    assert sites["site_id"].str.startswith("sub-").all()


def test_h3_cells_cover_the_region():
    import h3

    import layers

    ri = layers.load("US-RI")
    sites = candidates.generate(ri, "h3:6")
    # Rhode Island's land is about 2,700 km2; a resolution-6 cell is about 36 km2
    assert 50 <= len(sites) <= 110
    assert sites["site_id"].is_unique
    assert all(h3.get_resolution(c) == 6 for c in sites["site_id"])
    assert sites.within(ri.boundary).all()


@pytest.mark.parametrize("res", [5, 7, 8])
def test_h3_cells_are_those_whose_centre_is_inside(res):
    """cells_in (coarse cells, children, shapely point-in-polygon) finds exactly H3's own
    ``contain="center"`` cells, in integer order, with their centres."""
    import h3
    import h3.api.numpy_int as h3n
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    ring = [(-100.0, 40.0), (-99.31, 40.02), (-99.6, 40.43), (-99.93, 40.21)]
    holed = Polygon([(-98.0, 41.0), (-97.2, 41.0), (-97.2, 41.6), (-98.0, 41.6)],
                    [[(-97.8, 41.2), (-97.4, 41.2), (-97.4, 41.4), (-97.8, 41.4)]])
    shape = MultiPolygon([Polygon(ring), holed])
    ints, latlng = candidates.cells_in(shape, res)
    expected = np.sort(np.asarray(h3n.h3shape_to_cells_experimental(
        h3.geo_to_h3shape(shapely.geometry.mapping(shape)), res, contain="center"),
        dtype=np.uint64))
    assert len(expected) > 0
    np.testing.assert_array_equal(ints, expected)
    np.testing.assert_array_equal(latlng, np.array([h3n.cell_to_latlng(c)
                                                    for c in expected.tolist()]))


def test_user_csv_sites(tmp_path):
    path = tmp_path / "farms.csv"
    path.write_text("id;name;lat;lon;existing_site\nf1;Farm 1;31.0;-100.0;yes\n"
                    "f2;Farm 2;32.0;-101.0;no\n")
    sites = candidates.generate(None, str(path))  # type: ignore[arg-type]
    assert sites["site_id"].tolist() == ["f1", "f2"]
    assert sites["existing_site"].tolist() == [True, False]
    assert sites.geometry.iloc[1].x == -101.0
    assert "existing_mw" not in sites.columns  # only from a file that has the column


def test_user_xlsx_sites_read_by_the_csv_rules(tmp_path):
    """Issue 30: an .xlsx with lat/lon columns is read like a CSV (it was refused with
    "sites need a geometry column"); its errors name rows as the spreadsheet shows them."""
    import pandas as pd

    path = tmp_path / "farms.xlsx"
    pd.DataFrame({"ID": ["f1", "f2"], "Name": ["Old farm", None], "Latitude": [31.0, 32.0],
                  "Longitude": [-100.0, -101.0]}).to_excel(path, index=False)
    sites = candidates.generate(None, str(path))  # type: ignore[arg-type]
    assert sites["site_id"].tolist() == ["f1", "f2"]
    assert sites["site_name"].tolist() == ["Old farm", "f2"]   # no name: the id
    assert sites.geometry.iloc[1].x == -101.0 and sites.geometry.iloc[1].y == 32.0
    pd.DataFrame({"lat": [31.0, None], "lon": [-100.0, -101.0]}).to_excel(path, index=False)
    with pytest.raises(LayerValidationError, match="empty or not numbers in row 3; fill"):
        candidates.generate(None, str(path))  # type: ignore[arg-type]


def test_user_sites_existing_mw(tmp_path):
    path = tmp_path / "farms.csv"
    path.write_text("id,lat,lon,existing_mw\nf1,31.0,-100.0,120\nf2,32.0,-101.0,\n")
    sites = candidates.generate(None, str(path))  # type: ignore[arg-type]
    assert sites["existing_mw"].tolist()[0] == 120.0 and np.isnan(sites["existing_mw"][1])
    assert sites["existing_site"].tolist() == [True, False]  # energized MW marks the site
    path.write_text("id,lat,lon,existing_mw\nf1,31.0,-100.0,lots\n")
    with pytest.raises(LayerValidationError, match="column existing_mw must be a number"):
        candidates.generate(None, str(path))  # type: ignore[arg-type]


def test_user_sites_with_duplicate_ids_or_no_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["a", "a"]}, geometry=gpd.points_from_xy([0, 1], [0, 1]),
                           crs=4326)
    with pytest.raises(LayerValidationError, match="duplicate site ids a"):
        candidates.from_frame(gdf)
    with pytest.raises(LayerValidationError, match="no CRS"):
        candidates.from_frame(gdf.set_crs(None, allow_override=True))


def test_an_h3_run_too_large_for_the_machine_says_so_before_starting(monkeypatch, caplog,
                                                                      tmp_path):
    """The estimate: US h3:7 is about 1.5 million cells, 9.0 GB in one process."""
    import layers
    from geo import candidates, pipeline
    from geo.candidates import h3_estimate
    from geo.settings import Settings

    cells, need = h3_estimate(layers.load("US").boundary, 7)
    assert 1.4e6 < cells < 1.6e6 and 8e9 < need < 10e9
    _, ri = h3_estimate(layers.load("US-RI").boundary, 5)
    for memory, warned in ((ri / 0.8 * 0.99, True), (ri / 0.8 * 1.01, False)):
        caplog.clear()
        monkeypatch.setattr(candidates, "machine_memory", lambda m=memory: m)
        pipeline.rank_sites("US-RI", candidates="h3:5", load_mw=100,
                            settings=Settings(cache_dir=tmp_path))
        assert ("--candidates h3:5 over US-RI: about" in caplog.text) is warned


def test_h3_site_ids_and_names_are_the_cells_hex_strings():
    import pandas as pd

    cells = np.array([0x8712C86C8FFFFFF, 0x8712C86C9FFFFFF, 0x872AB2A41FFFFFF], dtype=np.uint64)
    sites = candidates.h3_sites(cells, np.array([[40.0, -75.0], [40.1, -75.1], [41.0, -74.0]]))
    assert sites["site_id"].tolist() == ["8712c86c8ffffff", "8712c86c9ffffff",
                                         "872ab2a41ffffff"]
    assert sites["site_name"].tolist() == ["H3 8712c86c8ffffff", "H3 8712c86c9ffffff",
                                           "H3 872ab2a41ffffff"]
    # the same column a frame makes of the strings (pandas 3: arrow text)
    want = pd.Series(np.array(["H3 8712c86c8ffffff", "H3 8712c86c9ffffff",
                               "H3 872ab2a41ffffff"], dtype=object), name="site_name")
    pd.testing.assert_series_equal(pd.Series(sites["site_name"]), want, check_exact=True)


def test_the_centres_come_from_h3_without_its_api_layer_and_are_the_same():
    """H3 cell centres from ``h3._cy`` directly (the numpy_int API passes the integer on):
    the same numbers as the API's, to the bit, at the poles, the antimeridian, pentagons."""
    import h3
    import h3.api.numpy_int as h3n

    centre = candidates._centre_function()
    assert centre is not h3n.cell_to_latlng and centre is h3._cy.cell_to_latlng
    cells = [h3n.latlng_to_cell(lat, lon, res) for lat, lon in
             [(90.0, 0.0), (-89.9, 10.0), (0.0, 180.0), (0.0, -179.99), (40.7, -74.0)]
             for res in (0, 7, 15)] + [int(p) for p in h3n.get_pentagons(9)]
    assert [centre(c) for c in cells] == [h3n.cell_to_latlng(c) for c in cells]
    assert centre(cells[13]) == pytest.approx((40.7, -74.0), abs=0.02)  # res 7: New York
