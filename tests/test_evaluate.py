"""``geo-rank evaluate``: the statistics on hand-computed and synthetic cases, the
background sampler, and the one-line refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.backtest import evaluate as ev
from geo.backtest import points as bp
from geo.backtest.run import RANKING_LABEL, backtest
from tests.map_helpers import external_urls

# --- the statistics by hand ------------------------------------------------------------------


def test_mann_whitney_by_hand() -> None:
    # known 3, 5, 5 against background 1, 5, 7: pairs won 1+0+0 / 1+0.5+0 / 1+0.5+0 of 9
    # -> (1 + 1.5 + 1.5) / 9 = 4/9
    assert ev.auc(np.array([3.0, 5.0, 5.0]), np.array([1.0, 5.0, 7.0])) == pytest.approx(4 / 9)
    assert ev.auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert ev.auc(np.array([1.0, 1.0]), np.array([1.0])) == 0.5


def test_roc_area_equals_auc() -> None:
    rng = np.random.default_rng(4)
    known, back = rng.integers(0, 6, 40).astype(float), rng.integers(0, 5, 90).astype(float)
    fpr, tpr = ev.roc_curve(known, back)
    area = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz
    assert area(tpr, fpr) == pytest.approx(ev.auc(known, back))


def test_top_share_counts_the_reference_exactly() -> None:
    ref = np.repeat(np.arange(10.0), 10)  # ten ties of ten
    assert ev.top_share(ref, ref, 0.05) == pytest.approx(0.05)
    assert ev.top_share(np.array([9.0, 8.0]), ref, 0.05) == pytest.approx(0.25)


def test_percentiles_share_ties_and_miss_is_zero() -> None:
    cells = [h3.latlng_to_cell(40.0 + 0.2 * i, -100.0, 6) for i in range(4)]
    ranked = pd.DataFrame({"site_id": cells, "rank": [1, 2, 3, 4],
                           "tier": ["A", "B", "B", "D"], "score": [0.9, 0.5, 0.5, 0.1]})
    pct = ev.surface_percentiles(ranked)
    assert pct.tolist() == pytest.approx([0.875, 0.5, 0.5, 0.125])
    got = ev.point_percentiles(np.array([40.0, 10.0]), np.array([-100.0, 10.0]), pct, 6)
    assert got.tolist() == pytest.approx([0.875, 0.0])


# --- a synthetic region ------------------------------------------------------------------------

REGION = box(-100.0, 40.0, -99.0, 41.0)


def _bundle() -> SimpleNamespace:
    subs = gpd.GeoDataFrame({"sub_id": ["s1", "s2"], "voltage_kv": [345.0, 115.0]},
                            geometry=[Point(-99.5, 40.9), Point(-99.8, 40.2)], crs="EPSG:4326")
    plants = gpd.GeoDataFrame({"plant_id": ["p"], "capacity_mw": [500.0]},
                              geometry=[Point(-99.5, 40.9)], crs="EPSG:4326")
    return SimpleNamespace(region="SYN", boundary=REGION, substations=subs, plants=plants,
                           sources={})


def _surface() -> pd.DataFrame:
    """Every res-6 cell of the square, ranked north first (rank 1 = northernmost)."""
    cells = sorted(h3.geo_to_cells(REGION.__geo_interface__, 6))
    lat = np.array([h3.cell_to_latlng(c)[0] for c in cells])
    order = np.argsort(-lat, kind="stable")
    ranks = np.empty(len(cells), dtype=int)
    ranks[order] = np.arange(1, len(cells) + 1)
    return pd.DataFrame({"site_id": cells, "rank": ranks})


def _points(lat: np.ndarray, lon: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"k{i}" for i in range(len(lat))]},
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def test_known_sites_on_the_best_cells_give_auc_near_one() -> None:
    surface = _surface()
    best = surface.nsmallest(8, "rank")["site_id"]
    lat, lon = np.array([h3.cell_to_latlng(c) for c in best]).T
    result = backtest(_points(lat, lon), ranking=surface, background=500, seed=1, n_boot=200,
                      layers=_bundle())
    row = result.table.set_index("score").loc[RANKING_LABEL]
    assert row["auc"] > 0.95
    assert row["known_top_5pct"] == 1.0
    assert 0.02 < row["background_top_5pct"] < 0.09


def test_known_sites_like_the_background_give_auc_near_half() -> None:
    known = bp.sample_background(REGION, 150, seed=99)
    result = backtest(known, ranking=_surface(), background=600, seed=2, n_boot=400,
                      layers=_bundle())
    row = result.table.set_index("score").loc[RANKING_LABEL]
    assert row["auc_low"] <= 0.5 <= row["auc_high"]
    assert abs(row["auc"] - 0.5) < 0.1


def test_background_is_seeded_and_equal_area() -> None:
    a = bp.sample_background(REGION, 50, seed=7)
    assert a.geometry.equals(bp.sample_background(REGION, 50, seed=7).geometry)
    assert not a.geometry.equals(bp.sample_background(REGION, 50, seed=8).geometry)
    tall = box(0.0, 0.0, 10.0, 60.0)  # north of 30 deg is 42 % of the area, not half
    pts = bp.sample_background(tall, 4000, seed=0)
    assert (pts.geometry.y > 30).mean() == pytest.approx(
        (np.sin(np.radians(60)) - 0.5) / np.sin(np.radians(60)), abs=0.03)


def test_proxies_in_metres() -> None:
    pts = _points(np.array([40.2, 40.0]), np.array([-99.8, -99.8]))
    values = bp.proxies(pts, _bundle().substations, _bundle().plants, seed=0)
    d = values["substation_115kv_distance_m"].to_numpy()
    assert d[0] == pytest.approx(0.0, abs=1e-3)
    assert d[1] == pytest.approx(22_239.0, rel=1e-3)  # 0.2 deg of a 6,371 km meridian
    assert values["plant_mw_within_50km"].tolist() == [0.0, 0.0]
    assert values["substations_within_50km"].tolist() == [1.0, 1.0]


# --- the command: outputs and one-line refusals ------------------------------------------------

def _csv(path: Path, rows: list[tuple[float, float]], header: str = "name,lat,lon") -> Path:
    path.write_text(header + "\n" + "".join(f"s{i},{a},{b}\n" for i, (a, b) in
                                            enumerate(rows)), encoding="utf-8")
    return path


RI = [(41.82, -71.41), (41.70, -71.50), (41.55, -71.45), (41.95, -71.55), (41.49, -71.31)]


def _ri_ranking(path: Path) -> Path:
    """A synthetic ranking of Rhode Island's res-6 cells (south first), as an export CSV."""
    cells = sorted(h3.geo_to_cells(box(-71.9, 41.1, -71.1, 42.02).__geo_interface__, 6))
    lat = np.array([h3.cell_to_latlng(c)[0] for c in cells])
    ranks = np.empty(len(cells), dtype=int)
    ranks[np.argsort(lat, kind="stable")] = np.arange(1, len(cells) + 1)
    pd.DataFrame({"site_id": cells, "rank": ranks, "lat": lat,
                  "lon": [h3.cell_to_latlng(c)[1] for c in cells]}).to_csv(path, index=False)
    return path


def test_command_writes_reports_with_stable_bytes(tmp_path: Path, geo_rank) -> None:
    known = _csv(tmp_path / "known.csv", RI)
    ranking = _ri_ranking(tmp_path / "ranking.csv")
    args = ["evaluate", str(known), "--region", "US-RI", "--ranking", str(ranking),
            "--background", "200", "--bootstrap", "50", "--seed", "3"]
    first = geo_rank(*args, "--out", str(tmp_path / "a"), "--flexible")
    assert first.exit_code == 0, first.output
    assert RANKING_LABEL in first.output and "random" in first.output
    second = geo_rank(*args, "--out", str(tmp_path / "b"), "--no-map")
    assert second.exit_code == 0, second.output
    png = "evaluate-us-ri-roc.png"
    assert (tmp_path / "a" / png).read_bytes() == (tmp_path / "b" / png).read_bytes()
    doc = json.loads((tmp_path / "a" / "evaluate-us-ri.json").read_text())
    assert doc["provenance"]["tool"] == "geo-rank" and doc["provenance"]["seed"] == 3
    assert doc["provenance"]["settings"]["flexible_load"] is True  # --flexible reaches it
    # the ranking, then the proxies on the run's grid and on the other embedded US grid
    assert len(doc["known_sites"]) == 5 and len(doc["table"]) == 1 + 2 * len(bp.PROXIES)
    table = pd.read_csv(tmp_path / "a" / "evaluate-us-ri.csv")
    assert table["auc"].between(0, 1).all()
    assert (tmp_path / "a" / "evaluate-us-ri.csv.provenance.json").is_file()
    html = (tmp_path / "a" / "evaluate-us-ri-known.html").read_text()
    assert 'name="generator" content="geo-rank' in html
    assert external_urls(html) == [] and "tile.openstreetmap" not in html  # offline-safe


@pytest.mark.parametrize("rows, header, words", [
    (RI, "name,y_deg,x_deg", "latitude and longitude columns"),
    (RI[:4], "name,lat,lon", "at least 5"),
    ([*RI, (30.0, -97.0)], "name,lat,lon", "outside region US-RI"),
])
def test_bad_known_sites_are_one_line_errors(tmp_path: Path, rows: list, header: str,
                                             words: str, geo_rank) -> None:
    known = _csv(tmp_path / "known.csv", rows, header)
    result = geo_rank("evaluate", str(known), "--region", "US-RI",
                      "--ranking", str(tmp_path / "unused.csv"),
                      "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert message.startswith("geo-rank: error:") and "\n" not in message
    assert words in message and "Traceback" not in message
    assert not (tmp_path / "out").exists()


def test_known_set_or_file_not_both(tmp_path: Path, geo_rank) -> None:
    known = _csv(tmp_path / "known.csv", RI)
    for args in ([], [str(known), "--known-set", "us-campuses"]):
        result = geo_rank("evaluate", *args)
        assert result.exit_code == 2
        assert "give either a KNOWN sites file or --known-set NAME" in result.output
