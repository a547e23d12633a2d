"""Substations, lines and plants from the USA TAMU test system (powersimdata 0.5.5 wheel).

Source: Breakthrough Energy's ``powersimdata`` wheel ships the USA TAMU network under
``powersimdata/network/usa_tamu/data/``. Cite: Y. Xu et al., "U.S. Test System with High
Spatial and Temporal Resolution for Renewable Integration Studies", IEEE PES General
Meeting 2020. Substation sites and plants are real places; the network topology is
synthetic. The wheel is read as a zip and is never a run-time dependency.

Choices (also in ``data/SOURCES.md``):
- a substation's ``voltage_kv`` is the highest ``baseKV`` of its buses, ``min_voltage_kv``
  the lowest above 1 kV (TAMU's 1 kV buses are generator-terminal placeholders);
- lines are branches of type ``Line`` between two different substations, one row per
  circuit; parallel circuits are merged by the grid graph (``geo.grid``), not here, so the
  layer keeps what the source says;
- MATPOWER's ``rateA = 0`` means "no limit given": the rating is estimated from the voltage
  class (``layers.estimates``) and marked ``estimated``;
- plants are the generators aggregated per substation and fuel, at the substation's site,
  with ``capacity_mw`` = sum of ``Pmax`` of all units (TAMU's ``status`` marks units off in
  its base-case snapshot, not retired plants), ``base_output_mw`` = sum of the base-case
  ``Pg`` of the units that are on (capped at each unit's ``Pmax``) and
  ``online_capacity_mw`` = sum of their ``Pmax`` (headroom = online capacity − base output).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pycountry
import shapely
from pyproj import Geod

from layers.build._write import write_geoparquet
from layers.build.fetch import POWERSIMDATA, fetch
from layers.errors import DataSourceError
from layers.estimates import rating_mw

_PREFIX = "powersimdata/network/usa_tamu/data/"

#: TAMU generator types -> canonical fuels.
FUELS = {
    "ng": "gas",
    "hydro": "hydro",
    "coal": "coal",
    "nuclear": "nuclear",
    "dfo": "oil",
    "wind": "wind",
    "wind_offshore": "wind",
    "solar": "solar",
    "geothermal": "geothermal",
    "other": "other",
}


def _read(zf: zipfile.ZipFile, name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(zf.read(_PREFIX + name)))


def _state_codes() -> dict[str, str]:
    return {s.name: s.code for s in pycountry.subdivisions.get(country_code="US")}


def tables(wheel: Path) -> dict[str, gpd.GeoDataFrame]:
    """Read the wheel and return the canonical substations, lines and plants layers."""
    with zipfile.ZipFile(wheel) as zf:
        sub = _read(zf, "sub.csv")
        bus = _read(zf, "bus.csv")
        bus2sub = _read(zf, "bus2sub.csv")
        branch = _read(zf, "branch.csv")
        plant = _read(zf, "plant.csv")
        zone = _read(zf, "zone.csv")

    bus = bus.merge(bus2sub[["bus_id", "sub_id"]], on="bus_id", how="left", validate="1:1")
    codes = _state_codes()
    zone["state_code"] = zone["state"].map(codes)
    if zone["state_code"].isna().any():
        missing = zone.loc[zone.state_code.isna(), "state"].tolist()
        raise DataSourceError(f"unmapped TAMU states: {missing}")
    bus["state"] = bus["zone_id"].map(zone.set_index("zone_id")["state_code"])
    bus_sub = bus.set_index("bus_id")["sub_id"]
    bus_kv = bus.set_index("bus_id")["baseKV"]

    # --- lines: Line branches between two different substations, one row per circuit -------
    br = branch[branch["branch_device_type"] == "Line"].copy()
    br["from_sub"] = br["from_bus_id"].map(bus_sub)
    br["to_sub"] = br["to_bus_id"].map(bus_sub)
    br = br[br["from_sub"] != br["to_sub"]].copy()
    br["voltage_kv"] = br["from_bus_id"].map(bus_kv).astype(float)
    observed = br["rateA"] > 0
    br["capacity_mw"] = np.where(observed, br["rateA"], rating_mw(br["voltage_kv"].to_numpy()))
    br["capacity_source"] = np.where(observed, "observed", "estimated")

    lat = sub.set_index("sub_id")["lat"]
    lon = sub.set_index("sub_id")["lon"]
    flon, flat = br["from_sub"].map(lon).to_numpy(), br["from_sub"].map(lat).to_numpy()
    tlon, tlat = br["to_sub"].map(lon).to_numpy(), br["to_sub"].map(lat).to_numpy()
    _, _, dist_m = Geod(ellps="WGS84").inv(flon, flat, tlon, tlat)
    coords = np.stack([np.stack([flon, flat], axis=1), np.stack([tlon, tlat], axis=1)], axis=1)
    lines = gpd.GeoDataFrame(
        {
            "line_id": br["branch_id"].astype(str).to_numpy(),
            "from_sub": br["from_sub"].astype(str).to_numpy(),
            "to_sub": br["to_sub"].astype(str).to_numpy(),
            "voltage_kv": br["voltage_kv"].to_numpy(),
            "circuits": np.ones(len(br), dtype="int64"),
            "capacity_mw": br["capacity_mw"].round(3).to_numpy(),
            "capacity_source": br["capacity_source"].to_numpy(),
            "reactance_pu": br["x"].to_numpy(),
            "reactance_source": np.full(len(br), "observed"),
            "flow_mw": br["Pf"].to_numpy(),
            "length_km": np.round(dist_m / 1000.0, 4),
            "interconnect": br["interconnect"].to_numpy(),
            "kind": np.full(len(br), "line", dtype=object),
            "low_voltage_kv": np.full(len(br), np.nan),
        },
        geometry=shapely.linestrings(coords),
        crs="EPSG:4326",
    )

    lines = pd.concat([lines, transformers(branch, bus, br, lon, lat)], ignore_index=True)
    lines = gpd.GeoDataFrame(lines, geometry="geometry", crs="EPSG:4326")

    # --- substations ---------------------------------------------------------------------
    kv = bus.groupby("sub_id")["baseKV"]
    above1 = bus[bus["baseKV"] > 1.0].groupby("sub_id")["baseKV"].min()
    ends = pd.concat([br["from_sub"], br["to_sub"]]).value_counts()
    state = bus.groupby("sub_id")["state"].first()
    subs = gpd.GeoDataFrame(
        {
            "sub_id": sub["sub_id"].astype(str).to_numpy(),
            "name": sub["name"].to_numpy(),
            "voltage_kv": sub["sub_id"].map(kv.max()).astype(float).to_numpy(),
            "min_voltage_kv": sub["sub_id"].map(above1).fillna(sub["sub_id"].map(kv.min()))
            .astype(float).to_numpy(),
            "n_lines": sub["sub_id"].map(ends).fillna(0).astype("int64").to_numpy(),
            "status": pd.Series([None] * len(sub), dtype=object).to_numpy(),
            "interconnect": sub["interconnect"].to_numpy(),
            "state": sub["sub_id"].map(state).to_numpy(),
        },
        geometry=gpd.points_from_xy(sub["lon"], sub["lat"]),
        crs="EPSG:4326",
    )

    # --- plants: generators aggregated per substation and fuel ---------------------------
    plant["sub_id"] = plant["bus_id"].map(bus_sub)
    plant["fuel"] = plant["type"].map(FUELS)
    if plant["fuel"].isna().any():
        missing = sorted(plant.loc[plant.fuel.isna(), "type"].unique())
        raise DataSourceError(f"unmapped TAMU plant types: {missing}")
    plant = plant[plant["Pmax"] > 0].copy()
    # base case (the snapshot's Pg): units off (status 0) produce 0 and are not committed;
    # a unit's output is capped at its Pmax (TAMU's Pg exceeds Pmax for 2,632 units)
    on = plant["status"].to_numpy() == 1
    plant["pg_on"] = np.where(on, plant["Pg"].clip(lower=0.0, upper=plant["Pmax"]), 0.0)
    plant["pmax_on"] = np.where(on, plant["Pmax"], 0.0)
    plant["level_kv"] = unit_level_kv(plant["bus_id"], branch, bus, br)
    # the connection voltage of a (substation, fuel) group: the level of most of its MW
    by_kv = (plant.assign(kv=plant["level_kv"].fillna(-1.0))
             .groupby(["sub_id", "fuel", "kv"], sort=True)["Pmax"].sum().reset_index()
             .sort_values(["sub_id", "fuel", "Pmax", "kv"], ascending=[True, True, False, False],
                          kind="stable").drop_duplicates(["sub_id", "fuel"])
             .set_index(["sub_id", "fuel"])["kv"])
    agg = (
        plant.groupby(["sub_id", "fuel"], sort=True)
        .agg(capacity_mw=("Pmax", "sum"), base_output_mw=("pg_on", "sum"),
             online_capacity_mw=("pmax_on", "sum"), n_units=("plant_id", "size"))
        .reset_index()
    )
    name = sub.set_index("sub_id")["name"]
    plants = gpd.GeoDataFrame(
        {
            "plant_id": (agg["sub_id"].astype(str) + "-" + agg["fuel"]).to_numpy(),
            "name": (agg["sub_id"].map(name) + " " + agg["fuel"]).to_numpy(),
            "fuel": agg["fuel"].to_numpy(),
            "capacity_mw": agg["capacity_mw"].round(3).to_numpy(),
            "base_output_mw": agg["base_output_mw"].round(3).to_numpy(),
            "online_capacity_mw": agg["online_capacity_mw"].round(3).to_numpy(),
            "sub_id": agg["sub_id"].astype(str).to_numpy(),
            "n_units": agg["n_units"].astype("int64").to_numpy(),
            "voltage_kv": by_kv.reindex(pd.MultiIndex.from_frame(agg[["sub_id", "fuel"]]))
            .replace(-1.0, np.nan).to_numpy(float),
        },
        geometry=gpd.points_from_xy(agg["sub_id"].map(lon), agg["sub_id"].map(lat)),
        crs="EPSG:4326",
    )
    return {"substations": subs, "lines": lines, "plants": plants}


def unit_level_kv(unit_bus: pd.Series, branch: pd.DataFrame, bus: pd.DataFrame,
                  lines: pd.DataFrame) -> np.ndarray:
    """The voltage level (a voltage of lines at its substation) each generator's bus is at
    or reaches through one transformer (its step-up; the highest when several), NaN when
    none: where its output enters the transmission network."""
    bus_sub = bus.set_index("bus_id")["sub_id"]
    bus_kv = bus.set_index("bus_id")["baseKV"].astype(float)
    levels = set(zip(lines["from_sub"], lines["voltage_kv"], strict=True)) | set(
        zip(lines["to_sub"], lines["voltage_kv"], strict=True))
    two = branch[branch["branch_device_type"] == "Transformer"]
    w = branch[branch["branch_device_type"] == "TransformerWinding"]
    star_to = w["to_bus_id"].map(bus_kv).to_numpy(float) <= 1.0
    star = pd.DataFrame({"star": np.where(star_to, w["to_bus_id"], w["from_bus_id"]),
                         "far": np.where(star_to, w["from_bus_id"], w["to_bus_id"])})
    via_star = star.merge(star, on="star", suffixes=("", "_other"))
    via_star = via_star[via_star["far"] != via_star["far_other"]]
    pairs = pd.DataFrame({
        "bus": np.r_[two["from_bus_id"], two["to_bus_id"], via_star["far"]],
        "other": np.r_[two["to_bus_id"], two["from_bus_id"], via_star["far_other"]]})
    pairs["kv"] = pairs["other"].map(bus_kv)
    pairs = pairs[[(s, k) in levels for s, k in zip(pairs["other"].map(bus_sub), pairs["kv"],
                                                     strict=True)]]
    reach = pairs.groupby("bus")["kv"].max()
    kv = unit_bus.map(bus_kv).to_numpy(float)
    own = np.array([(s, k) in levels for s, k in zip(unit_bus.map(bus_sub), kv, strict=True)])
    return np.where(own, kv, unit_bus.map(reach).to_numpy(float))


def transformers(branch: pd.DataFrame, bus: pd.DataFrame, lines: pd.DataFrame,
                 lon: pd.Series, lat: pd.Series) -> gpd.GeoDataFrame:
    """The transformers as rows of the lines layer (``kind = "transformer"``), each within
    one substation, oriented from its high-voltage end (``voltage_kv``) to its low one
    (``low_voltage_kv``), ``flow_mw`` (TAMU's Pf) positive that way.

    - ``Transformer`` (two windings): one row each, ``line_id = "xfmr-<branch_id>"``,
      ``reactance_pu`` = x × tap ratio (MATPOWER's DC branch model, ``makeBdc``);
    - ``TransformerWinding`` (three-winding units: one branch per winding to a 1 kV star
      bus): a unit with two windings at voltages that lines of its substation use is one
      row between them, ``line_id = "xfmr-<hv branch>+<lv branch>"``, reactance the sum of
      the two windings', rating the smaller; its third winding (a generator or tertiary
      voltage) carries no flow of a new load. A unit with fewer such windings is left out.
    ``rateA = 0`` (no limit given) stays empty: the grid estimates it (:mod:`geo.grid.levels`).
    """
    bus_sub = bus.set_index("bus_id")["sub_id"]
    bus_kv = bus.set_index("bus_id")["baseKV"].astype(float)
    two = branch[branch["branch_device_type"] == "Transformer"]
    ratio = two["ratio"].where(two["ratio"] > 0, 1.0).to_numpy(float)
    rows = pd.DataFrame({
        "line_id": "xfmr-" + two["branch_id"].astype(str).to_numpy(),
        "sub": two["from_bus_id"].map(bus_sub).to_numpy(),
        "sub_to": two["to_bus_id"].map(bus_sub).to_numpy(),
        "kv_a": two["from_bus_id"].map(bus_kv).to_numpy(float),
        "kv_b": two["to_bus_id"].map(bus_kv).to_numpy(float),
        "x": two["x"].to_numpy(float) * ratio, "rate": two["rateA"].to_numpy(float),
        "flow": two["Pf"].to_numpy(float), "interconnect": two["interconnect"].to_numpy()})
    if (rows["sub"] != rows["sub_to"]).any():
        raise DataSourceError("a TAMU transformer joins two substations; expected one")
    # three-winding units: the windings whose far voltage is a line voltage of the substation
    w = branch[branch["branch_device_type"] == "TransformerWinding"].copy()
    star_to = w["to_bus_id"].map(bus_kv).to_numpy(float) <= 1.0
    w["star"] = np.where(star_to, w["to_bus_id"], w["from_bus_id"])
    w["far"] = np.where(star_to, w["from_bus_id"], w["to_bus_id"])
    w["sub"] = w["far"].map(bus_sub)
    w["kv"] = w["far"].map(bus_kv).astype(float)
    w["into_star"] = np.where(star_to, w["Pf"], -w["Pf"])     # MW from the far bus in
    levels = set(zip(lines["from_sub"], lines["voltage_kv"], strict=True)) | set(
        zip(lines["to_sub"], lines["voltage_kv"], strict=True))
    w = w[[(s, k) in levels for s, k in zip(w["sub"], w["kv"], strict=True)]]
    w = w.sort_values(["star", "kv", "branch_id"], ascending=[True, False, True])
    pairs = w.groupby("star").filter(lambda g: len(g) == 2)
    hi, lo = pairs.iloc[0::2], pairs.iloc[1::2]
    stars = pd.DataFrame({
        "line_id": ("xfmr-" + hi["branch_id"].astype(str).to_numpy() + "+"
                    + lo["branch_id"].astype(str).to_numpy()),
        "sub": hi["sub"].to_numpy(), "sub_to": lo["sub"].to_numpy(),
        "kv_a": hi["kv"].to_numpy(float), "kv_b": lo["kv"].to_numpy(float),
        "x": hi["x"].to_numpy(float) + lo["x"].to_numpy(float),
        "rate": np.minimum(hi["rateA"].to_numpy(float), lo["rateA"].to_numpy(float)),
        "flow": hi["into_star"].to_numpy(float), "interconnect": hi["interconnect"].to_numpy()})
    t = pd.concat([rows, stars], ignore_index=True)
    up = t["kv_a"] < t["kv_b"]                # orient from the high-voltage end
    hv = np.where(up, t["kv_b"], t["kv_a"])
    low = np.where(up, t["kv_a"], t["kv_b"])
    flow = np.where(up, -t["flow"], t["flow"])
    x, y = t["sub"].map(lon).to_numpy(float), t["sub"].map(lat).to_numpy(float)
    point = np.stack([x, y], axis=1)
    sub = t["sub"].astype(str).to_numpy()
    return gpd.GeoDataFrame(
        {
            "line_id": t["line_id"].to_numpy(), "from_sub": sub, "to_sub": sub,
            "voltage_kv": hv, "circuits": np.ones(len(t), dtype="int64"),
            "capacity_mw": np.where(t["rate"] > 0, t["rate"].round(3), np.nan),
            "capacity_source": np.where(t["rate"] > 0, "observed", "estimated"),
            "reactance_pu": t["x"].to_numpy(float),
            "reactance_source": np.full(len(t), "observed"), "flow_mw": flow,
            "length_km": np.zeros(len(t)), "interconnect": t["interconnect"].to_numpy(),
            "kind": np.full(len(t), "transformer", dtype=object), "low_voltage_kv": low,
        },
        geometry=shapely.linestrings(np.stack([point, point], axis=1)), crs="EPSG:4326")


def build(cache: Path, out: Path) -> list[Path]:
    """Write ``us/substations.parquet``, ``us/lines.parquet`` and ``us/plants.parquet``."""
    from layers.schema import validate

    written = []
    for kind, gdf in tables(fetch(POWERSIMDATA, cache)).items():
        gdf = validate(gdf, kind, source=f"{POWERSIMDATA.filename}:{kind}")
        written.append(write_geoparquet(gdf, out / "us" / f"{kind}.parquet"))
    return written
