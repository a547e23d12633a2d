"""The OSM grid build step (layers/build/osm_grid.py and its modules) on a hand-made extract.

Every expected value below was worked out by hand from tests/fixtures/gridkit_tiny/ (see
the comments); the real extracts are only used when they exist ($GEO_RANK_GRIDS_DIR; skipped in CI).
"""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.build import dc_base, gridkit, osm_grid, osm_network
from layers.errors import LayerValidationError
from layers.paths import data_dir

TINY = Path(__file__).resolve().parent / "fixtures" / "gridkit_tiny"


def _tiny():
    vertices = gridkit.read_vertices(TINY / "vertices.csv")
    links = gridkit.read_links(TINY / "links.csv", vertices)
    gridkit.infer_voltages(vertices, links)
    vertices["country"] = np.where(vertices["v_id"] == 10, "CA", "US")  # 10 is across a border
    vertices["state"] = None
    return vertices, links


@pytest.fixture(scope="module")
def tiny():
    vertices, links = _tiny()
    return osm_network.network(vertices, links, "US")


def test_classify_splits_voltages_pairs_cables_and_leaves_dc_out():
    # 6 cables at 345 kV: 2 circuits; 3 at 138 kV: 1
    assert gridkit.classify([345000, 138000], [6, 3], [60]) == ({345.0: 2, 138.0: 1}, False, 0)
    # lists of unequal length: one voltage -> its smallest cable count / 3; several -> 1 each
    assert gridkit.classify([230000], [6, 9], []) == ({230.0: 2}, False, 0)
    assert gridkit.classify([230000, 115000, 230000], [6, 3], []) == (
        {230.0: 1, 115.0: 1}, False, 0)
    # frequency 0 for every value: a DC link; paired 0 on a mixed link: that circuit is DC
    assert gridkit.classify([450000], [2], [0]) == ({}, True, 0)
    assert gridkit.classify([230000, 450000], [3, 2], [60, 0]) == ({230.0: 1}, False, 1)
    # no cables: 1 circuit; values below 1 kV are not voltages
    assert gridkit.classify([115000, 0], [], []) == ({115.0: 1}, False, 0)


def test_voltage_inference_sources():
    _, links = _tiny()
    got = {lk.l_id: (lk.kv, lk.source) for lk in links}
    assert got[101] == ({345.0: 2, 138.0: 1}, "osm")
    # 102: vertex tags {345, 138} and {138, 69} share exactly 138
    assert got[102] == ({138.0: 1}, "inferred_vertices")
    # 104: junction 4 sees only 345 kV (links 103, 105), vertex 5 knows nothing; 6 cables
    assert got[104] == ({345.0: 2}, "inferred_neighbours")
    # 108: {138, 69} and {230, 115} share nothing; 109: untagged vertex 9 vs two voltages
    assert got[108] == ({}, "unknown")
    assert got[109] == ({}, "unknown")
    assert [lk.l_id for lk in links if lk.dc] == [107]


def test_lines_of_the_tiny_extract(tiny):
    _, lines, _ = tiny
    gc_102 = round(0.5 * math.pi / 180 * 6371.0088, 4)  # 1 -> 3: half a degree of latitude
    assert gc_102 == 55.5975
    expected = pd.DataFrame({
        "line_id": ["osm-l101-138", "osm-l101-345", "osm-l102-138", "osm-l103-345",
                    "osm-l106-345"],
        "from_sub": ["osm-v1", "osm-v1", "osm-v1", "osm-v2", "osm-v2"],
        # 103 + duplicate 105 (2 circuits), then joint 4 contracted with 104 (2 circuits)
        "to_sub": ["osm-v2", "osm-v2", "osm-v3", "osm-v5", "osm-v6"],
        "voltage_kv": [138.0, 345.0, 138.0, 345.0, 345.0],
        "circuits": [1, 2, 1, 2, 1],
        "length_km": [44.0, 44.0, gc_102, 55.0, 10.0],  # 30 + 25 km through the joint
        "voltage_source": ["osm", "osm", "inferred_vertices", "inferred_neighbours", "osm"],
        "osm_link_ids": ["101", "101", "102", "103;104;105", "106"],
    })
    pd.testing.assert_frame_equal(
        pd.DataFrame(lines[expected.columns]).reset_index(drop=True), expected,
        check_dtype=False)
    # ratings from the voltage classes: 345 kV 750 MW per circuit, 138 kV 205 MW
    assert lines["capacity_mw"].tolist() == [205.0, 1500.0, 205.0, 1500.0, 750.0]
    assert set(lines["capacity_source"]) == {"estimated"}
    assert set(lines["rating_source"]) == {"estimated: voltage class"}
    # 345 kV, 55 km, 2 circuits: 0.37 ohm/km * 55 / (345^2 / 100) / 2
    assert lines["reactance_pu"].iloc[3] == pytest.approx(0.37 * 55 / (345**2 / 100) / 2,
                                                          abs=1e-8)
    assert lines["geometry"].iloc[3].equals(shapely.LineString([(-97.5, 38.0), (-97.5, 38.5)]))
    assert lines["flow_mw"].isna().all()


def test_substations_of_the_tiny_extract(tiny):
    subs, _, _ = tiny
    got = pd.DataFrame(subs[["sub_id", "name", "voltage_kv", "min_voltage_kv", "n_lines",
                             "status", "voltage_source", "island"]])
    expected = pd.DataFrame({
        # joint 4 is merged away, 9 has no voltage at all, 10 is in another country
        "sub_id": ["osm-v1", "osm-v2", "osm-v3", "osm-v5", "osm-v6", "osm-v7", "osm-v8"],
        "name": ["Alpha", "Bravo", "Charlie", "Echo", None, "Golf", "Hotel"],
        "voltage_kv": [345.0, 345.0, 138.0, 345.0, 345.0, 500.0, 230.0],
        # Bravo's tag says 345 only; its 138 kV circuit of link 101 adds the lower level
        "min_voltage_kv": [138.0, 138.0, 69.0, 345.0, 345.0, 500.0, 115.0],
        "n_lines": [4, 6, 1, 2, 1, 0, 0],
        "status": [None, None, None, None, "junction", None, None],
        "voltage_source": ["osm", "osm", "osm", "inferred_lines", "inferred_lines", "osm",
                           "osm"],
        "island": [0, 0, 0, 0, 0, -1, -1],
    })
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_quality_counts_of_the_tiny_extract(tiny):
    _, _, q = tiny
    assert q == {
        "country": "us", "vertices": 9, "links": 9, "cross_border_dropped": 1,
        "dc_dropped": 1, "dc_circuits_dropped": 0, "voltage_osm": 4,
        "voltage_inferred_vertices": 1, "voltage_inferred_neighbours": 1, "voltage_unknown": 2,
        "line_rows_split": 7, "duplicates_merged": 1, "junctions_merged": 1,
        "junctions_unused": 0, "substations_no_voltage_dropped": 1, "substations": 6,
        "junctions_kept": 1, "dangling_ends": 1, "islands": 1,
        # Alpha, Bravo, Charlie, Echo of 6 substations are on the one island
        "largest_island_substation_share": 0.6667, "lines": 5,
    }


def test_scigrid_hash_separated_file_with_quoted_hashes():
    vertices = gridkit.read_vertices(TINY / "scigrid_vertices.csv")
    links = gridkit.read_links(TINY / "scigrid_links.csv", vertices)
    assert vertices["name"].tolist() == [None, None, "Stesen #2"]
    assert vertices["tag_kv"].tolist() == [frozenset({275.0, 132.0}), frozenset(),
                                           frozenset({132.0})]
    assert [(lk.l_id, lk.kv, lk.length_km) for lk in links] == [
        (201, {275.0: 1, 132.0: 2}, 25.0005), (202, {132.0: 1}, 24.0)]
    vertices["country"], vertices["state"] = "MY", None
    _, lines, q = osm_network.network(vertices, links, "MY")
    # 132 kV through joint 22: 2 and 1 circuits in series -> 1; the 275 kV end stays
    assert lines[["line_id", "from_sub", "to_sub", "circuits", "length_km"]].values.tolist() == [
        ["osm-l201-132", "osm-v21", "osm-v23", 1, 49.0005],
        ["osm-l201-275", "osm-v21", "osm-v22", 1, 25.0005]]
    assert q["junctions_merged"] == 0 and q["junctions_kept"] == 1 and q["dangling_ends"] == 1


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("change, column", [
    (("-98.0,38.0,substation", "west,38.0,substation"), "lon"),
    (("345000;138000,60,Alpha", "345 kV;138000,60,Alpha"), "voltage"),
    ((",lat,typ,", ",latitude,typ,"), "lat"),
])
def test_bad_vertices_give_one_line_naming_file_and_column(tmp_path, change, column):
    text = (TINY / "vertices.csv").read_text().replace(*change, 1)
    path = _write(tmp_path / "bad-vertices.csv", text)
    with pytest.raises(LayerValidationError) as err:
        gridkit.read_vertices(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and f"column {column!r}" in msg


def test_bad_link_voltage_names_file_column_and_link(tmp_path):
    vertices = gridkit.read_vertices(TINY / "vertices.csv")
    text = (TINY / "links.csv").read_text().replace("103,2,4,345000", "103,2,4,345kV", 1)
    path = _write(tmp_path / "links.csv", text)
    with pytest.raises(LayerValidationError, match=r"links\.csv: column 'voltage' .*l_id 103"):
        gridkit.read_links(path, vertices)


def test_dc_base_case_on_four_buses():
    # A-B, A-C, C-B, C-D with equal reactance; 200 MW at A scaled to the 100 MW of load
    # (B 60, D 40). Angles (A = 0): B - 2C = -40 and C - 2B = 60 give C = -46.667,
    # B = -53.333 (x 100 MVA / x): A->B 53.333, A->C 46.667, C->B 6.667, C->D 40.
    # E-F is an island with 10 MW of load and no generation: flows unknown.
    pts = [(-98.0, 38.0), (-97.8, 38.0), (-97.9, 38.2), (-97.9, 38.4), (-90.0, 40.0),
           (-90.2, 40.0)]
    subs = gpd.GeoDataFrame({
        "sub_id": list("ABCDEF"), "voltage_kv": 345.0, "min_voltage_kv": 138.0,
        "status": None, "island": [0, 0, 0, 0, 1, 1]},
        geometry=[shapely.Point(p) for p in pts], crs="EPSG:4326")
    lines = pd.DataFrame({"from_sub": list("AACCE"), "to_sub": list("BCBDF"),
                          "reactance_pu": 0.01, "capacity_mw": [50.0, 100.0, 100, 100, 100]})
    plants = gpd.GeoDataFrame({"plant_id": ["p"], "sub_id": ["t1"], "base_output_mw": [200.0],
                               "online_capacity_mw": [250.0]},
                              geometry=[shapely.Point(pts[0])], crs="EPSG:4326")
    loads = pd.DataFrame({"lon": [pts[1][0], pts[3][0], pts[4][0]],
                          "lat": [pts[1][1], pts[3][1], pts[4][1]], "load_mw": [60.0, 40, 10]})
    flows, out, rep = dc_base.base_case(subs, lines, plants, loads)
    np.testing.assert_allclose(flows[:4], [160 / 3, 140 / 3, 20 / 3, 40.0], atol=1e-9)
    assert np.isnan(flows[4])
    assert out[["sub_id", "tamu_sub_id", "base_output_mw"]].values.tolist() == [["A", "t1", 100.0]]
    assert rep["islands_solved"] == 1 and rep["islands_load_without_generation"] == 1
    assert rep["lines_over_rating"] == 1  # A->B: 53.3 MW on a 50 MW line
    assert rep["load_mw"] == 110.0 and rep["generation_base_mw"] == 200.0


def test_assign_country_inside_and_near_the_coast():
    square = gpd.GeoDataFrame({"iso_a2": ["AA"]}, geometry=[shapely.box(0, 0, 1, 1)],
                              crs="EPSG:4326")
    # inside; 0.01 deg (1.1 km) east of the edge; 0.1 deg (11 km) east of it
    got = osm_grid.assign(np.array([[0.5, 0.5], [1.01, 0.5], [1.1, 0.5]]), square, "iso_a2")
    assert got.tolist() == ["AA", "AA", None]


def test_step_is_skipped_in_one_line_without_the_extracts(tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        assert osm_grid.build(tmp_path, tmp_path, tmp_path / "absent") == []
    assert len(caplog.records) == 1 and "skipped" in caplog.records[0].getMessage()
    assert not (tmp_path / "osm").exists()


def test_build_twice_gives_identical_bytes(tmp_path, monkeypatch):
    # the tiny extract stands in for every continent file; no real extracts, no network
    grids = tmp_path / "grids"
    for vfile, lfile, _ in osm_grid.EXTRACTS:
        for name, src in ((vfile, "vertices.csv"), (lfile, "links.csv")):
            (grids / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(TINY / src, grids / name)
    monkeypatch.setattr(osm_grid, "tamu_loads", lambda wheel: pd.DataFrame(
        {"lon": [-97.5], "lat": [38.5], "load_mw": [100.0]}))
    monkeypatch.setattr(osm_grid, "fetch", lambda package, cache: None)
    digests = []
    for run in ("a", "b"):
        out = tmp_path / run
        for rel in ("world/countries.parquet", "us/subdivisions.parquet", "us/plants.parquet"):
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(data_dir() / rel, out / rel)
        written = osm_grid.build(tmp_path, out, grids)
        digests.append({p.relative_to(out): p.read_bytes() for p in written})
    assert digests[0] == digests[1]
    assert Path("osm/us/lines.parquet") in digests[0]


GRIDS = osm_grid.grids_dir()


@pytest.mark.skipif(not (GRIDS / osm_grid.EXTRACTS[0][0]).is_file(),
                    reason="the real OSM extracts are not here (give $GEO_RANK_GRIDS_DIR)")
def test_real_north_america_extract_gives_the_committed_us_substations():
    countries = gpd.read_parquet(data_dir() / "world/countries.parquet")
    states = gpd.read_parquet(data_dir() / "us/subdivisions.parquet")
    built = osm_grid.build_countries(GRIDS, countries[countries.iso_a2.notna()],
                                     states, extracts=osm_grid.EXTRACTS[:1])
    subs, _, q = built["US"]
    # the North American file has 9,128 substation-type vertices in all (US, CA, MX)
    assert q["substations"] > 5000 and q["lines"] > 10000
    assert subs["state"].notna().mean() > 0.99
    committed = gpd.read_parquet(data_dir() / "osm/us/substations.parquet")
    assert committed["sub_id"].tolist() == subs["sub_id"].tolist()
