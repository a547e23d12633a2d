"""``geo-rank grid`` through the shared ``geo_rank`` fixture, on a hand-built 4-bus grid."""

from __future__ import annotations

import json
from types import SimpleNamespace

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

import layers

XY = {"A": (0.0, 0.0), "B": (0.1, 0.0), "C": (0.05, 0.08), "D": (0.2, 0.0)}
KV = {"A": 345.0, "B": 230.0, "C": 230.0, "D": 69.0}


def bundle(region: str = "US", grid: str | None = None) -> SimpleNamespace:
    subs = gpd.GeoDataFrame({"sub_id": list(XY), "name": [f"Sub {s}" for s in XY],
                             "voltage_kv": [KV[s] for s in XY]},
                            geometry=[Point(p) for p in XY.values()], crs="EPSG:4326")
    pairs = [("AB", "A", "B", 100.0), ("CB", "C", "B", 100.0), ("AC", "A", "C", 100.0),
             ("BD", "B", "D", 50.0)]
    lines = gpd.GeoDataFrame(
        {"line_id": [p[0] for p in pairs], "from_sub": [p[1] for p in pairs],
         "to_sub": [p[2] for p in pairs], "voltage_kv": 230.0, "reactance_pu": 0.1,
         "capacity_mw": [p[3] for p in pairs], "flow_mw": 0.0},
        geometry=[LineString([XY[p[1]], XY[p[2]]]) for p in pairs], crs="EPSG:4326")
    plants = gpd.GeoDataFrame({"plant_id": ["g"], "fuel": ["gas"], "capacity_mw": [500.0],
                               "sub_id": ["A"]}, geometry=[Point(XY["A"])], crs="EPSG:4326")
    return SimpleNamespace(region=region, substations=subs, lines=lines, plants=plants,
                           sources={}, in_region=lambda kind: subs[subs["sub_id"] != "A"])


def full_path(monkeypatch) -> None:
    """A hand-built grid stands in for the embedded layers, whose shipped document the fast
    path (geo.cli.grid_fast) would print for ``grid --json``: take the full path."""
    from geo.cli import grid_fast

    monkeypatch.setattr(grid_fast, "answer", lambda args: False)


@pytest.fixture
def grid(monkeypatch, tmp_path, geo_rank):
    """``grid("--json")``: ``geo-rank grid --json`` on the 4-bus grid."""
    monkeypatch.setattr(layers, "load", bundle, raising=False)
    full_path(monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the default cache_dir
    return lambda *args: geo_rank("grid", *args)


def test_json_summary(grid):
    res = grid("--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert (doc["nodes"], doc["edges"], doc["islands"], doc["unsnapped_line_ends"]) == (4, 4, 1, 0)
    assert doc["hosting"]["computed"] == 3  # D is 69 kV, below the 115 kV floor
    assert doc["hosting"]["median_mw"] == pytest.approx(150)  # B: 100 / (2/3)
    assert doc["hosting"]["cache"] == "miss"
    assert doc["redundancy"] == {"N+1": 3, "radial": 1, "isolated": 0}
    again = json.loads(grid("--json").stdout)
    assert again["hosting"]["cache"] == "hit"
    fresh = json.loads(grid("--json", "--no-cache").stdout)
    assert fresh["hosting"]["cache"] == "off"


def test_flags_change_settings(grid):
    doc = json.loads(grid("--json", "--hosting-min-kv", "60",
                          "--backbone-kv", "500").stdout)
    assert doc["hosting"]["computed"] == 4
    assert doc["redundancy"] == {"N+1": 0, "radial": 0, "isolated": 4}


def test_region_restricts_the_summary(grid):
    doc = json.loads(grid("--json", "--region", "US-XX").stdout)
    assert doc["substations"] == 3 and doc["nodes"] == 4


def test_text_report(grid):
    res = grid()
    assert res.exit_code == 0, res.output
    assert "substations 4, edges 4" in res.stdout
    assert "N+1 3, radial 1, isolated 0" in res.stdout


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "parquet", "csv"])
def test_export_formats(grid, tmp_path, ext):
    path = tmp_path / f"grid.{ext}"
    res = grid("--export", str(path), "--json")
    assert res.exit_code == 0, res.output
    assert path.exists()
    if ext == "csv":
        import pandas as pd

        out = pd.read_csv(path, dtype={"sub_id": str})
    elif ext == "parquet":
        out = gpd.read_parquet(path)
    else:
        out = gpd.read_file(path, **({"layer": "sites"} if ext == "gpkg" else {}))
    for col in ("sub_id", "name", "voltage_kv", "hosting_mw", "limiting_line_id",
                "topology_redundancy", "firm_mw", "backbone_km"):
        assert col in out.columns
    row = out[out["sub_id"].astype(str) == "B"].iloc[0]
    assert row["hosting_mw"] == pytest.approx(150) and row["limiting_line_id"] == "AB"


def test_errors_are_one_line_through_the_group(grid, geo_rank):
    res = geo_rank("grid", "--snap-km", "-1")
    assert res.exit_code == 2
    assert "geo-rank: error:" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize(("flags", "bars"), [([], 1), (["-q"], 0)])
def test_progress_bar_is_drawn_by_the_cli_and_silenced_by_q(grid, geo_rank, monkeypatch, flags,
                                                            bars):
    from geo.cli import progress

    made = []

    class FakeBar:
        def __init__(self, **kwargs):
            made.append(kwargs)
            self.n = 0

        def update(self, k):
            self.n += k

        def close(self):
            pass

    monkeypatch.setattr(progress, "tqdm", FakeBar)
    res = geo_rank(*flags, "grid", "--json", "--no-cache")
    assert res.exit_code == 0, res.output
    assert len(made) == bars
    if bars:
        assert made[0]["desc"] == "hosting" and made[0]["total"] == 3


def test_n0_and_n1_side_by_side(grid, tmp_path, monkeypatch):
    import geo.grid.report as cmd

    monkeypatch.setattr(cmd, "REPORT_LOADS_MW", (100, 120, 300))
    res = grid("--json", "--export", str(tmp_path / "subs.csv"))
    assert res.exit_code == 0, res.output
    firm = json.loads(res.stdout)["firm"]
    # B and C: N-0 100 / (2/3) = 150; after losing one side of the triangle the other
    # carries all of it: 100. A (the generator) is capped by its lines' 200 MW.
    assert firm["median_mw"] == {"n0": 150.0, "n1": 100.0}
    assert firm["hosting_at_least_mw"]["100"] == {"n0": 3, "n1": 3}
    assert firm["hosting_at_least_mw"]["120"] == {"n0": 3, "n1": 1}  # only A's 200 MW
    assert firm["hosting_at_least_mw"]["300"] == {"n0": 0, "n1": 0}
    assert {o["line_id"] for o in firm["binding_outages"]} <= {"AB", "AC", "CB"}
    assert firm["source"] == {"computed": 3, "not computed": 1}
    # no branch is over its rating after an outage before the load: nothing set aside
    assert firm["preexisting_set_aside"] == 0 and firm["n1_preexisting"] == "exclude"
    import pandas as pd

    out = pd.read_csv(tmp_path / "subs.csv", comment="#")
    assert out.set_index("sub_id").loc["B", "firm_mw"] == pytest.approx(100)
    assert {"firm_limiting_line_id", "firm_outage_line_id", "firm_source",
            "firm_preexisting"} <= set(out.columns)
    text = grid()
    assert "N-0 / N-1 firm" in text.output and "information only" in text.output
    assert "pre-existing violations" not in text.output


def test_pre_existing_violations_are_counted_and_printed(monkeypatch, tmp_path, geo_rank):
    def flowing(region: str = "US", grid: str | None = None) -> SimpleNamespace:
        # base case 105 MW from A to B: 60 on AB, 45 via C; with AB out AC carries
        # 45 + 60 = 105 > 100 before any new load
        b = bundle(region)
        b.lines["flow_mw"] = [60.0, 45.0, 45.0, 0.0]
        return b

    monkeypatch.setattr(layers, "load", flowing, raising=False)
    full_path(monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def grid(*args: str):
        return geo_rank("grid", *args)

    firm = json.loads(grid("--json").stdout)["firm"]
    assert firm["preexisting_set_aside"] >= 1          # B loads AC by 1/3 per MW
    text = grid().output
    assert "pre-existing violations" in text and "set aside (n1_preexisting)" in text


def test_a_state_reports_its_own_counts_its_interconnection_and_the_grid_line(tmp_path,
                                                                              geo_rank):
    """Issue 30: `geo-rank grid --region US-VA` printed the whole US network's counts under
    "Grid for US-VA" and no word on the synthetic grid."""
    from geo.cli.tables import SYNTHETIC_HEADER

    cfg = tmp_path / "c.toml"
    cfg.write_text(f'cache_dir = "{tmp_path}"\n')
    run = geo_rank("grid", "--region", "US-VA", "--grid", "tamu-synthetic",
                   "--config", str(cfg))
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[0] == SYNTHETIC_HEADER
    assert lines[1] == "Grid for US-VA (Eastern interconnection)"
    assert lines[2].startswith("  in US-VA: substations 1,191, edges ")
    doc = json.loads(geo_rank("grid", "--region", "US-VA", "--grid",
                              "tamu-synthetic", "--json", "--config",
                              str(cfg)).stdout)
    assert doc["region_substations"] == doc["substations"] == 1_191 < doc["nodes"]
    assert doc["interconnections"] == {"Eastern": 1_191}
    assert doc["grid_note"] == SYNTHETIC_HEADER
