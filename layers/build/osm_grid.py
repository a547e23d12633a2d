"""Real-topology grid layers from 2016 OpenStreetMap extracts (GridKit and SciGRID method).

Writes ``osm/<cc>/substations.parquet`` and ``osm/<cc>/lines.parquet`` for the countries
of :data:`COUNTRIES`, ``osm/us/plants.parquet`` with an estimated DC base case on the US
lines, and ``osm/quality.csv`` (one row per country). The extracts are read from
``--grids-dir``, else ``$GEO_RANK_GRIDS_DIR``, else ``grids/`` in the source cache (the
unmodified files of the two Zenodo records below, downloaded by hand: they are not on a
package registry); when absent the step says so in one line and writes nothing.

Sources: GridKit (B. Wiegmans 2016, doi 10.5281/zenodo.47317) and the SciGRID-method
extracts of Medjroubi et al. 2017 (doi 10.5281/zenodo.250427); OpenStreetMap data of early
2016, ODbL 1.0, © OpenStreetMap contributors. Rules: :mod:`layers.build.gridkit` (reading,
circuits, voltage inference), :mod:`layers.build.osm_network` (countries, junctions,
duplicates), :mod:`layers.build.dc_base` (the US base case); ``data/SOURCES.md``.

Countries: a vertex's country is the ``world/countries.parquet`` polygon that contains it,
else the nearest one within :data:`COAST_KM` (coastal and border vertices outside the
1:50m outlines). US vertices get ``state`` from ``us/subdivisions.parquet`` the same way;
other countries' ``state`` is null (no subdivision outlines are embedded).
"""

from __future__ import annotations

import io
import logging
import os
import zipfile
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.build import dc_base, gridkit, osm_network
from layers.build._write import write_geoparquet, write_text
from layers.build.fetch import DEFAULT_CACHE, POWERSIMDATA, fetch
from layers.errors import DataSourceError
from layers.sphere import great_circle_km

log = logging.getLogger(__name__)

ENV = "GEO_RANK_GRIDS_DIR"
DEFAULT_GRIDS_DIR = DEFAULT_CACHE / "grids"
COAST_KM = 5.0

#: extract (vertices, links relative to the grids folder) -> ISO 3166-1 alpha-2 wanted.
EXTRACTS = (
    ("gridkit-osm-2016/gridkit_north_america-highvoltage-vertices.csv",
     "gridkit-osm-2016/gridkit_north_america-highvoltage-links.csv", ("US", "CA", "MX")),
    ("gridkit-osm-2016/gridkit_europe-highvoltage-vertices.csv",
     "gridkit-osm-2016/gridkit_europe-highvoltage-links.csv", ("NO",)),
    ("scigrid-osm-2016/africa-highvoltage_vertices.csv",
     "scigrid-osm-2016/africa-highvoltage_links.csv", ("ET",)),
    ("scigrid-osm-2016/asia-highvoltage_vertices.csv",
     "scigrid-osm-2016/asia-highvoltage_links.csv", ("BT", "MY")),
)
COUNTRIES = tuple(c for *_, cs in EXTRACTS for c in cs)

QUALITY_COLUMNS = (
    "country", "vertices", "substations", "junctions_merged", "junctions_kept",
    "junctions_unused", "lines", "line_rows_split", "islands",
    "largest_island_substation_share", "dangling_ends", "links", "voltage_osm",
    "voltage_inferred_vertices", "voltage_inferred_neighbours", "voltage_unknown",
    "duplicates_merged", "dc_dropped", "dc_circuits_dropped", "cross_border_dropped",
    "substations_no_voltage_dropped",
)


def grids_dir(given: Path | None = None) -> Path:
    """The folder of the extracts: the argument, ``$GEO_RANK_GRIDS_DIR`` or the default."""
    if given is not None:
        return Path(given)
    return Path(os.environ[ENV]) if os.environ.get(ENV) else DEFAULT_GRIDS_DIR.resolve()


def assign(points: np.ndarray, polygons: gpd.GeoDataFrame, key: str,
           tolerance_km: float = COAST_KM) -> np.ndarray:
    """``key`` of the polygon containing each lon/lat point, else of the nearest polygon
    within ``tolerance_km`` (great-circle to its nearest outline point), else None."""
    geoms = polygons.geometry.to_numpy()
    values = polygons[key].to_numpy(object)
    pts = shapely.points(points)
    out = np.full(len(points), None, dtype=object)
    tree = shapely.STRtree(geoms)
    p_i, g_i = tree.query(pts, predicate="within")
    order = np.lexsort((g_i, p_i))  # first polygon (lowest row) wins where outlines overlap
    p_i, g_i = p_i[order], g_i[order]
    first = np.r_[True, p_i[1:] != p_i[:-1]] if len(p_i) else np.zeros(0, bool)
    out[p_i[first]] = values[g_i[first]]
    rest = np.flatnonzero(pd.isna(out))
    if len(rest):
        near_p, near_g = tree.query_nearest(pts[rest], max_distance=1.0, all_matches=False)
        if len(near_p):
            line = shapely.shortest_line(pts[rest][near_p], geoms[near_g])
            a = shapely.get_coordinates(shapely.get_point(line, 0))
            b = shapely.get_coordinates(shapely.get_point(line, 1))
            ok = great_circle_km(a, b) <= tolerance_km
            out[rest[near_p[ok]]] = values[near_g[ok]]
    return out


def tamu_loads(wheel: Path) -> pd.DataFrame:
    """TAMU bus ``Pd`` summed per TAMU substation, at its site: ``lon, lat, load_mw``."""
    prefix = "powersimdata/network/usa_tamu/data/"
    with zipfile.ZipFile(wheel) as zf:
        bus = pd.read_csv(io.BytesIO(zf.read(prefix + "bus.csv")))
        bus2sub = pd.read_csv(io.BytesIO(zf.read(prefix + "bus2sub.csv")))
        sub = pd.read_csv(io.BytesIO(zf.read(prefix + "sub.csv")))
    bus = bus.merge(bus2sub[["bus_id", "sub_id"]], on="bus_id", how="left", validate="1:1")
    load = bus.groupby("sub_id")["Pd"].sum()
    load = load[load != 0]
    site = sub.set_index("sub_id").loc[load.index]
    return pd.DataFrame({"lon": site["lon"].to_numpy(float), "lat": site["lat"].to_numpy(float),
                         "load_mw": load.to_numpy(float)})


def build_countries(grids: Path, countries: gpd.GeoDataFrame, states: gpd.GeoDataFrame,
                    extracts=EXTRACTS) -> dict[str, tuple]:
    """``iso_a2 -> (substations, lines, quality)`` for every wanted country of ``extracts``."""
    result = {}
    for vfile, lfile, wanted in extracts:
        vertices = gridkit.read_vertices(grids / vfile)
        links = gridkit.read_links(grids / lfile, vertices)
        rounds = gridkit.infer_voltages(vertices, links)
        xy = vertices[["lon", "lat"]].to_numpy(float)
        vertices["country"] = assign(xy, countries, "iso_a2")
        vertices["state"] = None
        us = (vertices["country"] == "US").to_numpy()
        if us.any() and "US" in wanted:
            vertices.loc[us, "state"] = assign(xy[us], states, "code")
        log.info("osm_grid: %s: %d vertices, %d links, voltage inference %d rounds",
                 Path(vfile).name, len(vertices), len(links), rounds)
        for iso in wanted:
            subs, lines, q = osm_network.network(vertices, links, iso)
            result[iso] = (subs, lines, q)
            log.info(
                "osm_grid: %s voltages of %d AC links: tagged %d / inferred %d from vertices, "
                "%d from neighbours / unknown %d (dropped); DC %d, cross-border %d dropped",
                iso, q["links"] - q["dc_dropped"], q["voltage_osm"],
                q["voltage_inferred_vertices"], q["voltage_inferred_neighbours"],
                q["voltage_unknown"], q["dc_dropped"], q["cross_border_dropped"])
            log.info(
                "osm_grid: %s quality: %d substations, %d junctions merged, %d kept, %d lines, "
                "%d islands (largest %.1f %% of substations), %d dangling ends, "
                "%d duplicates merged", iso, q["substations"], q["junctions_merged"],
                q["junctions_kept"], q["lines"], q["islands"],
                100 * q["largest_island_substation_share"], q["dangling_ends"],
                q["duplicates_merged"])
    return result


def quality_csv(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows).reindex(columns=list(QUALITY_COLUMNS))
    return frame.to_csv(index=False, lineterminator="\n")


def build(cache: Path, out: Path, grids: Path | None = None) -> list[Path]:
    """Write the ``osm/`` files; skip (one log line) when the extracts are absent."""
    from layers.schema import validate

    folder = grids_dir(grids)
    if not all((folder / v).is_file() and (folder / lk).is_file() for v, lk, _ in EXTRACTS):
        log.info("osm_grid: skipped: the OpenStreetMap extracts are not in %s "
                 "(give --grids-dir or $%s)", folder, ENV)
        return []
    for need in ("world/countries.parquet", "us/subdivisions.parquet", "us/plants.parquet"):
        if not (out / need).is_file():
            raise DataSourceError(f"osm_grid needs {out / need}; run the earlier build steps")
    countries = gpd.read_parquet(out / "world/countries.parquet")
    countries = countries[countries["iso_a2"].notna()].sort_values("iso_a2")
    states = gpd.read_parquet(out / "us/subdivisions.parquet").sort_values("code")
    layers = build_countries(folder, countries, states)

    subs, lines, q = layers["US"]
    plants = gpd.read_parquet(out / "us/plants.parquet")
    flows, us_plants, rep = dc_base.base_case(subs, lines, plants,
                                             tamu_loads(fetch(POWERSIMDATA, cache)))
    # The estimate is shipped for inspection but is not the engine's base case: at the
    # voltage-class ratings it overloads a fifth of the lines (an operating point overloads
    # none), so the flows it would give are not credible. The engine treats the OSM flows as
    # unknown and assumes assumed_utilisation of each rating (docs/methods.md).
    over = cast(int, rep["lines_over_rating"]) / max(cast(int, rep["lines_with_flow"]), 1)
    lines["dc_flow_estimate_mw"] = np.round(flows, 3)
    lines["flow_mw"] = np.nan
    lines["flow_source"] = np.where(
        np.isfinite(flows),
        f"unknown: the estimated DC base case (dc_flow_estimate_mw) overloads {over:.0%} of "
        "lines at their estimated ratings, so it is not used",
        "unknown: island without generation or load")
    log.info("osm_grid: US base case: load %.0f MW (%.0f MW attached), generation %.0f MW "
             "(%.0f MW attached), %d of %d islands solved (%d load without generation, %d "
             "generation without load: flows unknown, engine uses assumed headroom), %d lines "
             "with flows, %d over their estimated rating", rep["load_mw"],
             rep["load_attached_mw"], rep["generation_base_mw"], rep["generation_attached_mw"],
             rep["islands_solved"], rep["islands"], rep["islands_load_without_generation"],
             rep["islands_generation_without_load"], rep["lines_with_flow"],
             rep["lines_over_rating"])
    q.update({f"us_{k}": v for k, v in rep.items()})

    written = []
    for iso in COUNTRIES:
        subs, lines, _ = layers[iso]
        cc = iso.lower()
        for kind, gdf in (("substations", subs), ("lines", lines)):
            if gdf.empty:  # never with the real extracts; a layer file may not be empty
                log.info("osm_grid: %s has no %s; osm/%s/%s.parquet not written",
                         iso, kind, cc, kind)
                continue
            gdf = validate(gdf, kind, source=f"osm/{cc}/{kind}")
            written.append(write_geoparquet(gdf, out / "osm" / cc / f"{kind}.parquet"))
    us_plants = validate(us_plants, "plants", source="osm/us/plants")
    written.append(write_geoparquet(us_plants, out / "osm" / "us" / "plants.parquet"))
    written.append(write_text(quality_csv([layers[i][2] for i in COUNTRIES]),
                              out / "osm" / "quality.csv"))
    written.append(write_text(pd.DataFrame([rep]).to_csv(index=False, lineterminator="\n"),
                              out / "osm" / "us" / "base_case.csv"))
    return written
