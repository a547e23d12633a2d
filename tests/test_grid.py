"""geo.grid on hand-built grids where the answers are known."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.errors import LayerValidationError
from geo.settings import Settings

KM = 1 / 111.195  # degrees of latitude per km on the mean sphere


def subs_frame(rows: list[tuple[str, float, float, float]]) -> gpd.GeoDataFrame:
    """rows: (sub_id, voltage_kv, lon, lat)."""
    return gpd.GeoDataFrame(
        {"sub_id": [r[0] for r in rows], "name": [f"S{r[0]}" for r in rows],
         "voltage_kv": [r[1] for r in rows]},
        geometry=[Point(r[2], r[3]) for r in rows], crs="EPSG:4326")


def lines_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """rows: dicts with line_id, from_sub, to_sub, voltage_kv, geometry and optional fields."""
    cols = ["line_id", "from_sub", "to_sub", "voltage_kv", "circuits", "capacity_mw",
            "reactance_pu", "flow_mw", "length_km"]
    data = {c: [r.get(c) for r in rows] for c in cols}
    frame = pd.DataFrame(data)
    for c in ("capacity_mw", "reactance_pu", "flow_mw", "length_km", "voltage_kv"):
        frame[c] = frame[c].astype(float)
    return gpd.GeoDataFrame(frame, geometry=[r["geometry"] for r in rows], crs="EPSG:4326")


def seg(a: tuple[float, float], b: tuple[float, float]) -> LineString:
    return LineString([a, b])


@pytest.fixture
def square() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A(345) - B - C - D - A square, 10 km sides, plus E hanging off C (single circuit)."""
    s = subs_frame([("A", 345, 0, 0), ("B", 138, 0, 10 * KM), ("C", 138, 10 * KM, 10 * KM),
                    ("D", 138, 10 * KM, 0), ("E", 138, 20 * KM, 10 * KM)])
    xy = {r.sub_id: (r.geometry.x, r.geometry.y) for r in s.itertuples()}
    pairs = [("AB", "A", "B"), ("BC", "B", "C"), ("CD", "C", "D"), ("DA", "D", "A"),
             ("CE", "C", "E")]
    lines = lines_frame([{"line_id": i, "from_sub": f, "to_sub": t, "voltage_kv": 138,
                          "capacity_mw": 100, "reactance_pu": 0.1, "flow_mw": 0,
                          "geometry": seg(xy[f], xy[t])} for i, f, t in pairs])
    return s, lines


def test_square_counts_lengths_and_backbone(square):
    s, lines = square
    g = grid.build(s, lines)
    assert g.report.nodes == 5 and g.report.edges == 5 and g.report.islands == 1
    assert g.report.estimated_length == 5
    assert g.edges["length_km"].to_numpy() == pytest.approx(10, rel=0.01)
    bb = grid.backbone_km(g)
    assert bb["A"] == 0
    assert bb["B"] == pytest.approx(10, rel=0.01)
    assert bb["C"] == pytest.approx(20, rel=0.01)
    assert bb["E"] == pytest.approx(30, rel=0.01)


def test_redundancy_square_with_radial_spur(square):
    s, lines = square
    red = grid.redundancy(grid.build(s, lines))
    assert red.to_dict() == {"A": "N+1", "B": "N+1", "C": "N+1", "D": "N+1", "E": "radial"}


def test_backbone_substation_on_a_single_line_is_radial(square):
    s, lines = square
    s.loc[s["sub_id"] == "E", "voltage_kv"] = 345.0  # a 345 kV dead end hanging off C
    red = grid.redundancy(grid.build(s, lines))
    assert red["E"] == "radial"
    assert red["A"] == "N+1" and red["C"] == "N+1"


def test_double_circuit_spur_is_not_a_single_point_of_failure(square):
    s, lines = square
    lines.loc[lines["line_id"] == "CE", "circuits"] = 2
    assert grid.redundancy(grid.build(s, lines))["E"] == "N+1"


def test_parallel_circuits_merge_and_count_as_two(square):
    s, lines = square
    extra = lines[lines["line_id"] == "CE"].copy()
    extra["line_id"] = "EC2"
    extra["from_sub"], extra["to_sub"] = "E", "C"  # reversed orientation
    extra["flow_mw"] = 5.0  # 5 MW from E to C
    lines.loc[lines["line_id"] == "CE", "flow_mw"] = 20.0  # 20 MW from C to E
    g = grid.build(s, pd.concat([lines, extra], ignore_index=True))
    e = g.graph.edges["C", "E"]
    assert e["line_ids"] == ("CE", "EC2")
    assert e["capacity_mw"] == 200 and e["circuits"] == 2
    assert e["reactance_pu"] == pytest.approx(0.05)
    sign = 1 if e["from_sub"] == "C" else -1
    assert e["flow_mw"] * sign == pytest.approx(15.0)
    assert g.report.parallel_circuits_merged == 1
    assert grid.redundancy(g)["E"] == "N+1"


def test_isolated_island_without_backbone():
    s = subs_frame([("A", 345, 0, 0), ("B", 138, 0, 0.1), ("X", 138, 5, 5), ("Y", 138, 5, 5.1)])
    lines = lines_frame([
        {"line_id": "1", "from_sub": "A", "to_sub": "B", "voltage_kv": 138,
         "geometry": seg((0, 0), (0, 0.1))},
        {"line_id": "2", "from_sub": "X", "to_sub": "Y", "voltage_kv": 138,
         "geometry": seg((5, 5), (5, 5.1))},
    ])
    g = grid.build(s, lines)
    assert g.report.islands == 2 and g.report.island_sizes == [2, 2]
    red = grid.redundancy(g)
    assert red["X"] == red["Y"] == "isolated"
    assert red["B"] == "radial"
    assert math.isnan(grid.backbone_km(g)["X"])


def test_snapping_voltage_tolerance_and_reporting():
    # P (69 kV) is nearest to the line's start, Q (345 kV) 2 km away; R 3 km from the end
    s = subs_frame([("P", 69, 0, 0.5 * KM), ("Q", 345, 0, 2 * KM), ("R", 345, 30 * KM, 3 * KM),
                    ("Z", 345, 100 * KM, 0)])
    lines = lines_frame([
        {"line_id": "snap", "voltage_kv": 345, "geometry": seg((0, 0), (30 * KM, 0))},
        {"line_id": "far", "voltage_kv": 345, "geometry": seg((30 * KM, 0), (60 * KM, 0))},
        {"line_id": "loop", "voltage_kv": 345,
         "geometry": seg((0, 2.1 * KM), (0.2 * KM, 2 * KM))},
    ])
    g = grid.build(s, lines)
    out = g.lines.set_index("line_id")
    assert (out.loc["snap", "from_sub"], out.loc["snap", "to_sub"]) == ("Q", "R")
    assert out.loc["snap", "from_snap_km"] == pytest.approx(2, rel=0.01)
    assert out.loc["snap", "to_snap_km"] == pytest.approx(3, rel=0.01)
    # missing: None (pandas 2, object) or NaN (pandas 3, str dtype)
    assert out.loc["far", "status"] == "unsnapped" and pd.isna(out.loc["far", "to_sub"])
    assert out.loc["loop", "status"] == "self_loop"
    r = g.report
    assert r.unsnapped_line_ends == 1 and r.unsnapped_line_ids == ["far"]
    assert r.self_loops_removed == 1 and r.self_loop_line_ids == ["loop"]
    assert r.snapped_line_ends == 5 and r.edges == 1
    # a tighter tolerance leaves the ends 3 km from R unsnapped too
    g2 = grid.build(s, lines, Settings(snap_tolerance_km=2.5))
    assert g2.report.unsnapped_line_ends == 3  # both ends at R are 3 km away


def test_estimates_are_marked(square):
    s, lines = square
    lines["capacity_mw"] = np.nan
    lines.loc[0, "reactance_pu"] = np.nan
    lines["voltage_kv"] = 345.0
    g = grid.build(s, lines)
    assert g.report.estimated_capacity == 5 and g.report.estimated_reactance == 1
    out = g.lines.set_index("line_id")
    assert out.loc["AB", "capacity_mw"] == pytest.approx(750)  # reVX 345 kV class
    assert out.loc["AB", "capacity_source"] == "estimated"
    assert out.loc["AB", "reactance_source"] == "estimated"
    assert out.loc["BC", "reactance_source"] == "observed"
    # 0.37 ohm/km * 10 km / (345^2 / 100)
    assert out.loc["AB", "reactance_pu"] == pytest.approx(0.37 * 10 / 345**2 * 100, rel=0.01)


def test_validation_collects_problems(square):
    s, lines = square
    bad = pd.concat([s, s.iloc[[0]]], ignore_index=True)
    with pytest.raises(LayerValidationError, match="duplicate sub_id"):
        grid.build(bad, lines)
    with pytest.raises(LayerValidationError, match="missing column 'voltage_kv'"):
        grid.build(s, lines.drop(columns="voltage_kv"))
    with pytest.raises(LayerValidationError, match="no CRS"):
        grid.build(s.set_crs(None, allow_override=True), lines)


def test_projected_input_is_reprojected(square):
    s, lines = square
    g = grid.build(s.to_crs(3857), lines.to_crs(3857))
    assert g.report.edges == 5
    assert g.substations.crs.to_epsg() == 4326
