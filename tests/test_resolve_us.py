"""The independent US re-solve (benchmarks/resolve_us.py) on hand-built grids with known
answers: it refactorises B for every outage of its list, so it finds what the tool's screen
finds (and what a weaker screen misses), and the joint check sees loads that overload a
branch together. The full US run is a benchmark (benchmarks/README.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.grid import hosting
from geo.settings import Settings
from tests import test_n1_screen as n1
from tests import test_portfolio_joint as pj

_SPEC = importlib.util.spec_from_file_location(
    "resolve_us", Path(__file__).resolve().parents[1] / "benchmarks" / "resolve_us.py")
assert _SPEC is not None and _SPEC.loader is not None
resolve_us = importlib.util.module_from_spec(_SPEC)
sys.modules["resolve_us"] = resolve_us
_SPEC.loader.exec_module(resolve_us)


def _graph(buses, xy, lines, flows, gens, settings):
    subs = gpd.GeoDataFrame({"sub_id": buses, "voltage_kv": 230.0},
                            geometry=[Point(xy[b]) for b in buses], crs="EPSG:4326")
    ln = gpd.GeoDataFrame(
        {"line_id": [r[0] for r in lines], "from_sub": [r[1] for r in lines],
         "to_sub": [r[2] for r in lines], "voltage_kv": 230.0,
         "reactance_pu": [r[3] for r in lines], "capacity_mw": [r[4] for r in lines],
         "flow_mw": [flows[r[0]] for r in lines]},
        geometry=[LineString([xy[r[1]], xy[r[2]]]) for r in lines], crs="EPSG:4326")
    plants = gpd.GeoDataFrame(
        {"plant_id": list(gens), "fuel": "gas", "capacity_mw": list(gens.values()),
         "sub_id": list(gens)}, geometry=[Point(xy[s]) for s in gens], crs="EPSG:4326")
    return grid.build(subs, ln, settings), plants


def _resolve(net, poi: str, settings: Settings, host: float | None = None) -> pd.Series:
    g, plants = _graph(n1.BUSES, n1.XY, net.lines, net.base_flows(), n1.GENS, settings)
    cases = resolve_us.participation(g, plants, settings)
    isl = resolve_us.islands(g, settings)[0]
    node = int(np.flatnonzero(g.substations["sub_id"].to_numpy() == poi)[0])
    out = resolve_us.resolve_island(isl, [node], cases, settings, resolve_us.Options(),
                                    {node: host} if host is not None else None)
    return out.iloc[0]


@pytest.mark.parametrize(("net", "line", "outage"), [(n1.lindon, "XY", "XZ"),
                                                      (n1.big_transfer, "GP", "XY")])
def test_the_resolve_finds_the_binding_outage(net, line, outage):
    net = net()
    want, want_line, want_out = net.firm("P")
    assert (want_line, want_out) == (line, outage)
    st = Settings(use_cache=False)
    got = _resolve(net, "P", st)
    for case in ("base", "stressed"):           # one generator: both cases alike
        assert got[f"firm_{case}_mw"] == pytest.approx(want, rel=1e-9)
        assert (got[f"limiting_{case}"], got[f"outage_{case}"]) == (line, outage)
    # the tool's screen agrees
    assert n1.tool(net, "P")["firm_mw"] == pytest.approx(want, rel=1e-6)


def test_the_resolve_catches_a_screen_that_drops_the_binding_outage():
    # without the MW rule (impact share 100 %) the tool drops XY's outage and says N-0
    net = n1.big_transfer()
    weak = Settings(use_cache=False, n1_outage_impact_share=1.0)
    told = n1.tool(net, "P", weak)
    got = _resolve(net, "P", weak)
    assert told["firm_mw"] > 1.02 * got["firm_base_mw"]    # overstated, and seen
    assert got["firm_base_mw"] == pytest.approx(net.firm("P")[0], rel=1e-9)


def test_the_joint_check_sees_three_loads_overload_the_shared_branch():
    st = Settings(use_cache=False, emergency_rating_factor=1.0)
    g, plants, *_ = pj._network(30.0)
    cases = resolve_us.participation(g, plants, st)
    isl = resolve_us.islands(g, st)[0]
    ids = g.substations["sub_id"].to_numpy()
    loads = [(int(np.flatnonzero(ids == p)[0]), 300.0) for p in pj.POIS]
    host = hosting.hosting(g, plants, st, sub_ids=pj.POIS)["hosting_mw"]
    found = resolve_us.joint_check(isl, loads, cases, st, resolve_us.Options(),
                                   {int(np.flatnonzero(ids == p)[0]): float(host[p])
                                    for p in pj.POIS})
    v = pd.DataFrame(found["violations"])
    # MH after AHa's or AHb's outage: 900 / 21 = 42.86 MW on 30 MW (142.9 %), both cases;
    # N-0 it carries 900 / 41 = 21.95 MW (73 %): no overload
    assert len(v) == 4 and set(v["branch"]) == {"MH"}
    assert set(v["outage"]) == {"AHa", "AHb"} and set(v["case"]) == {"base", "stressed"}
    np.testing.assert_allclose(v["after_pct"], 100 * (900 / 21) / 30.0)
    assert (v["kind"] == "new").all() and v["screen_monitors"].all()
    # two loads fit: 600 / 21 = 28.6 MW
    two = resolve_us.joint_check(isl, loads[:2], cases, st, resolve_us.Options(), {})
    assert two["violations"] == []
