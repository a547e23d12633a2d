"""geo.grid.hosting checked against an independent engine: pandapower's DC power flow.

For a network, canonical layers are made from pandapower's own branch data (per-unit
reactances from ``net._ppc["branch"]``, transformer taps included) and its base DC flow;
ratings are set in the test. Hosting is computed at several buses; then a load of
``hosting_mw`` is added at the bus in pandapower, every generator (gen, sgen and the
ext_grid slack) is raised by its share, and ``rundcpp`` must load the limiting branch to
its rating within 1 % with no monitored branch above it.
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import grid
from geo.grid import hosting
from geo.settings import Settings

# pandapower comes with the crosscheck extra (it caps pandas below 3). Where it is promised
# (CI's oldest environment sets GEO_RANK_CROSSCHECK), a missing pandapower is a failure.
if os.environ.get("GEO_RANK_CROSSCHECK"):
    import pandapower as pp
    import pandapower.networks as pn
else:
    pp = pytest.importorskip("pandapower")
    pn = pytest.importorskip("pandapower.networks")
from pandapower.pypower.idx_brch import BR_STATUS, BR_X, F_BUS, PF, T_BUS, TAP
from pandapower.pypower.idx_bus import BASE_KV

DATA = Path(__file__).resolve().parents[1] / "data" / "us"
#: The embedded OpenStreetMap 2016 US grid (real topology, estimated ratings).
DATA_OSM = Path(__file__).resolve().parents[1] / "data" / "osm" / "us"
CUTOFF = Settings().distribution_factor_cutoff


def rundc(net) -> np.ndarray:
    """Run pandapower's DC power flow; return the from-end flow (MW) of each ppc branch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.rundcpp(net, numba=False)
    return net._ppc["branch"][:, PF].real.copy()


def participants(net) -> pd.DataFrame:
    """Generators that pick up new load: (table, index, pandapower bus, capacity MW)."""
    rows = []
    for table in ("gen", "sgen", "ext_grid"):
        t = getattr(net, table)
        for i, r in t[t["in_service"]].iterrows():
            cap = r.get("max_p_mw", np.nan)
            cap = float(cap) if pd.notna(cap) and cap > 0 else 100.0
            rows.append((table, i, int(r["bus"]), cap))
    return pd.DataFrame(rows, columns=["table", "index", "bus", "capacity_mw"])


def layers_from_net(net, rating: np.ndarray | None = None):
    """Canonical substations, lines and plants for a pandapower net (one sub per ppc bus)."""
    f0 = rundc(net)
    ppc = net._ppc
    br = ppc["branch"]
    on = br[:, BR_STATUS].real > 0
    fb, tb = br[:, F_BUS].real.astype(int), br[:, T_BUS].real.astype(int)
    tap = br[:, TAP].real
    x = br[:, BR_X].real * np.where(tap == 0, 1.0, tap) * 100.0 / ppc["baseMVA"]
    if rating is None:
        rating = np.maximum(1.25 * np.abs(f0), 30.0)
    # pandapower's transformers are transformers of the layers (geo.grid.levels): the
    # voltage of each end, so every bus stays one node at its own voltage
    is_trafo = np.zeros(len(br), dtype=bool)
    if "trafo" in net._pd2ppc_lookups.get("branch", {}):
        start, stop = net._pd2ppc_lookups["branch"]["trafo"]
        is_trafo[start:stop] = True
    nb = len(ppc["bus"])
    subs = gpd.GeoDataFrame(
        {"sub_id": [str(i) for i in range(nb)], "voltage_kv": ppc["bus"][:, BASE_KV].real},
        geometry=[Point(0.01 * (i % 40), 0.01 * (i // 40)) for i in range(nb)],
        crs="EPSG:4326")
    xy = [(p.x, p.y) for p in subs.geometry]
    lines = gpd.GeoDataFrame(
        {"line_id": [f"br{i}" for i in range(len(br))], "from_sub": fb.astype(str),
         "to_sub": tb.astype(str), "voltage_kv": ppc["bus"][fb, BASE_KV].real,
         "capacity_mw": rating, "reactance_pu": x, "flow_mw": f0,
         "kind": np.where(is_trafo, "transformer", "line"),
         "low_voltage_kv": np.where(is_trafo, ppc["bus"][tb, BASE_KV].real, np.nan)},
        geometry=[LineString([xy[a], xy[b]]) for a, b in zip(fb, tb, strict=True)],
        crs="EPSG:4326")[on]
    gens = participants(net)
    lookup = net._pd2ppc_lookups["bus"]
    plants = gpd.GeoDataFrame(
        {"plant_id": [f"{t}{i}" for t, i in zip(gens["table"], gens["index"], strict=True)],
         "fuel": "gas", "capacity_mw": gens["capacity_mw"].to_numpy(),
         "sub_id": [str(lookup[b]) for b in gens["bus"]]},
        geometry=[Point(xy[lookup[b]]) for b in gens["bus"]], crs="EPSG:4326")
    return subs, lines, plants, f0, rating


def check(net, n_buses: int = 6, rating: np.ndarray | None = None) -> int:
    """Compare hosting with pandapower at up to ``n_buses`` buses; return how many checked."""
    subs, lines, plants, f0, rating = layers_from_net(net, rating)
    settings = Settings(hosting_min_kv=0)
    g = grid.build(subs, lines, settings)
    h = hosting.hosting(g, plants, settings)
    ok = h[(h["hosting_status"] == "computed") & (h["limit_kind"] == "branch")
           & (h["hosting_mw"] > 1e-3)]
    assert len(ok) >= n_buses
    lookup = net._pd2ppc_lookups["bus"]
    ppc2pd = {int(lookup[b]): b for b in net.bus.index}
    gens = participants(net)
    share = gens["capacity_mw"] / gens["capacity_mw"].sum()
    edge_of = {lid: e for e, ids in enumerate(g.edges["line_ids"]) for lid in ids}
    line_idx = {lid: i for i, lid in enumerate(lines["line_id"])}
    picks = ok.index[np.linspace(0, len(ok) - 1, n_buses).astype(int)]
    for sub in picks:
        mw = float(ok.loc[sub, "hosting_mw"])
        net2 = copy.deepcopy(net)
        pp.create_load(net2, bus=ppc2pd[int(sub)], p_mw=mw)
        for (table, idx), sh in zip(gens[["table", "index"]].itertuples(index=False), share,
                                    strict=True):
            if table != "ext_grid":  # the slack picks up its own share
                getattr(net2, table).loc[idx, "p_mw"] += sh * mw
        f1 = rundc(net2)
        load = np.abs(f1) / rating
        sens = (f1 - f0) / mw
        # the merged edge's flow and its change, summed over its circuits
        edge_sens = np.zeros(len(g.edges))
        for lid, i in line_idx.items():
            if lid in edge_of:
                e = edge_of[lid]
                sign = 1.0 if lines["from_sub"].iloc[i] == g.edges["from_sub"].iloc[e] else -1.0
                edge_sens[e] += sign * sens[int(lid[2:])]
        monitored = np.abs(edge_sens) >= CUTOFF * (1 - 1e-6)
        mon_lines = [int(lid[2:]) for lid in line_idx if monitored[edge_of[lid]]]
        limiting = [int(lid[2:]) for lid in ok.loc[sub, "limiting_line_id"].split(";")]
        assert load[limiting].max() == pytest.approx(1.0, rel=0.01), (sub, mw)
        assert load[mon_lines].max() <= 1.01, (sub, mw)
    return len(picks)


def test_case30():
    assert check(pn.case30()) == 6


def test_case118_with_transformer_taps_and_parallel_lines():
    net = pn.case118()
    assert (net.trafo["vn_hv_kv"] > 0).any()
    assert check(net, n_buses=10) == 10


def embedded_cut(n_subs: int = 60, data: Path = DATA):
    """``n_subs`` substations around the largest plant of Texas, as a pandapower net
    (``data``: the folder of an embedded grid, TAMU by default).

    Returns the net and the ratings to use (each line's ``capacity_mw``, raised to 1.25
    times its base flow where the random loads push it above).
    """
    import networkx as nx

    subs = gpd.read_parquet(data / "substations.parquet")
    lines = gpd.read_parquet(data / "lines.parquet")
    if "kind" in lines:   # one bus per substation: the substations' transformers left out
        lines = lines[lines["kind"] != "transformer"]
    plants = gpd.read_parquet(data / "plants.parquet")
    tx = subs[subs["state"] == "US-TX"]
    start = plants[plants["sub_id"].isin(tx["sub_id"])].nlargest(1, "capacity_mw")["sub_id"]
    g = grid.build(tx, lines[lines["from_sub"].isin(tx["sub_id"])
                             & lines["to_sub"].isin(tx["sub_id"])],
                   Settings(voltage_levels=False))   # the cut's nodes are substations
    near = nx.single_source_shortest_path_length(g.graph, start.iloc[0], cutoff=6)
    keep = sorted(near, key=near.get)[:n_subs]
    keep = max(nx.connected_components(g.graph.subgraph(keep)), key=len)
    cut = lines[lines["from_sub"].isin(keep) & lines["to_sub"].isin(keep)]
    # the cut as a pandapower net: one bus per substation, lines with the data's reactances
    net = pp.create_empty_network(sn_mva=100.0)
    bus = {s: pp.create_bus(net, vn_kv=100.0) for s in sorted(keep)}
    for r in cut.itertuples():  # z_base = 100 kV² / 100 MVA = 100 Ω
        pp.create_line_from_parameters(net, bus[r.from_sub], bus[r.to_sub], length_km=1.0,
                                       r_ohm_per_km=1.0 * r.reactance_pu,
                                       x_ohm_per_km=100.0 * r.reactance_pu,
                                       c_nf_per_km=0.0, max_i_ka=10.0)
    gen_subs = plants[plants["sub_id"].isin(keep)].groupby("sub_id")["capacity_mw"].sum()
    slack = gen_subs.idxmax()
    pp.create_ext_grid(net, bus[slack], max_p_mw=float(gen_subs[slack]))
    for s, cap in gen_subs.drop(slack).items():
        pp.create_gen(net, bus[s], p_mw=0.3 * cap, max_p_mw=float(cap))
    rng = np.random.default_rng(7)
    for s in sorted(keep):
        pp.create_load(net, bus[s], p_mw=float(rng.uniform(0, 2 * gen_subs.sum() / len(keep))))
    f0 = rundc(net)
    return net, np.maximum(cut["capacity_mw"].to_numpy(), 1.25 * np.abs(f0))


@pytest.mark.skipif(not (DATA / "lines.parquet").exists(), reason="embedded data not built")
def test_island_cut_from_embedded_data():
    """60 substations around the largest plant of Texas, as a pandapower net."""
    net, rating = embedded_cut(60)
    assert check(net, n_buses=6, rating=rating) == 6


@pytest.mark.skipif(not (DATA_OSM / "lines.parquet").exists(), reason="embedded data not built")
def test_island_cut_from_the_openstreetmap_grid():
    """The same on the real topology: OSM substations and junctions around the largest plant
    of Texas, with the data's estimated reactances and voltage-class ratings."""
    net, rating = embedded_cut(60, DATA_OSM)
    assert check(net, n_buses=6, rating=rating) == 6
