"""``geo-rank grid``: the grid graph's quality report and per-substation grid metrics."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import click
import geopandas as gpd

import layers
from geo import grid
from geo.cli import progress
from geo.cli.config import (
    config_option,
    engine_settings,
    pop_setting_flags,
    setting_options,
)
from geo.cli.headers import OSM_HEADER, SYNTHETIC_HEADER
from geo.cli.options import layer_kwargs, layer_options, region_option
from geo.grid import queue
from geo.grid.report import region_counts, summary
from geo.io import export
from geo.pipeline import synthetic_grid
from geo.provenance import build_provenance
from layers import grids

LOG = logging.getLogger(__name__)

#: Columns of ``--export`` (GIS users build on these names).
EXPORT_COLUMNS = ("sub_id", "name", "voltage_kv", "hosting_mw", "limiting_line_id",
                  "limit_kind", "hosting_status", "firm_mw", "firm_limiting_line_id",
                  "firm_outage_line_id", "firm_kind", "firm_source", "firm_preexisting",
                  "firm_case", "firm_base_mw", "firm_stressed_mw", "participation_area",
                  "area_headroom_mw", "topology_redundancy", "backbone_km", "island")

def grid_note(bundle: Any, assumed_utilisation: float) -> str:
    """The line that says what the grid is, as the rank table's first line says it."""
    if synthetic_grid(bundle):
        return SYNTHETIC_HEADER
    return (OSM_HEADER.format(share=assumed_utilisation)
            if getattr(bundle, "grid", "") == grids.OSM else "")


def input_quality(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the source adapters did to the user's files (merged substations, estimated
    voltages, DC lines kept apart, rows left out), for the quality report."""
    subs, lines = reports.get("substations", {}), reports.get("lines", {})
    if not reports:
        return {}
    return {
        "merged_substations": subs.get("substations_merged", 0),
        "estimated_substation_voltages": subs.get("voltage_from_lines", 0),
        "estimated_line_voltages": lines.get("estimated_voltages", 0),
        "dc_lines_kept_apart": lines.get("dc_lines", 0),
        "inputs": reports,
    }


def _print(doc: dict[str, Any]) -> None:
    h, red = doc["hosting"], doc["redundancy"]
    sizes = ", ".join(f"{s:,}" for s in doc["island_sizes"])
    if doc.get("grid_note"):
        click.echo(doc["grid_note"])
    areas = doc.get("interconnections") or {}
    part = (" (" + ", ".join(f"{k} interconnection" for k in areas) + ")") if areas else ""
    click.echo(f"Grid for {doc['region']}{part}")
    if not doc.get("whole_network", True):
        click.echo(f"  in {doc['region']}: substations {doc['region_substations']:,}, edges "
                   f"{doc['region_edges']:,} with an end in it ({doc['region_circuits']:,} "
                   "circuits)")
        click.echo("  the network it belongs to (built and solved whole: power ignores "
                   "state lines):")
    click.echo(f"  substations {doc['nodes']:,}, edges {doc['edges']:,} "
               f"({doc['lines']:,} circuits, {doc['parallel_circuits_merged']:,} parallel "
               f"merged), islands {doc['islands']:,} (largest: {sizes})")
    click.echo(f"  line ends snapped {doc['snapped_line_ends']:,}, unsnapped "
               f"{doc['unsnapped_line_ends']:,}, unknown sub_ids {doc['unknown_sub_ids']:,}, "
               f"self-loops removed {doc['self_loops_removed']:,}")
    click.echo(f"  estimated: capacity {doc['estimated_capacity']:,}, reactance "
               f"{doc['estimated_reactance']:,}, length {doc['estimated_length']:,} lines")
    median = "n/a" if h["median_mw"] is None else f"{h['median_mw']:,.0f} MW"
    click.echo(f"Hosting (>= {h['min_kv']:g} kV, DF cut-off {h['distribution_factor_cutoff']:g}): "
               f"{h['computed']:,} substations, median {median}, {h['seconds']:.1f} s "
               f"(cache {h['cache']})")
    if h["not_computed"]:
        click.echo("  not computed: " + ", ".join(f"{k} {v:,}" for k, v in
                                                 h["not_computed"].items()))
    if "inputs" in doc:
        click.echo(f"  inputs: merged substations {doc['merged_substations']:,}, estimated "
                   f"voltages: lines {doc['estimated_line_voltages']:,}, substations "
                   f"{doc['estimated_substation_voltages']:,}; DC lines kept apart "
                   f"{doc['dc_lines_kept_apart']:,}")
        for kind, rep in doc["inputs"].items():
            click.echo(f"    {kind}: {rep['count']:,} from {rep['file']} ({rep['format']})")
    f = doc["firm"]
    screened = ("every outage that moves the POI's flow by the cut-off"
                if f["max_outages_per_poi"] is None
                else f"up to {f['max_outages_per_poi']} outages per POI")
    click.echo(f"N-0 / N-1 firm (emergency rating x{f['emergency_rating_factor']:g}, "
               f"{screened}, {f['participation']}): median "
               f"{f['median_mw']['n0']} / {f['median_mw']['n1']} MW; hosting at least "
               + ", ".join(f"{mw} MW {c['n0']:,} / {c['n1']:,}"
                           for mw, c in f["hosting_at_least_mw"].items()))
    if f["firm_case"].get("stressed"):
        click.echo(f"  the stressed dispatch case binds at {f['firm_case']['stressed']:,} of "
                   f"{sum(f['firm_case'].values()):,} POIs (firm_case)")
    if f["preexisting_set_aside"]:
        verb = "set aside" if f["n1_preexisting"] == "exclude" else "binding (firm 0)"
        click.echo(f"  pre-existing violations (a branch over its rating after an outage "
                   f"before any new load): {f['preexisting_set_aside']:,} POIs load one, "
                   f"{verb} (n1_preexisting)")
    if f["binding_outages"]:
        click.echo("  most frequent binding outages: " + ", ".join(
            f"{o['line_id']} ({o['substations']:,})" for o in f["binding_outages"][:5]))
    click.echo(f"Topology redundancy, information only (backbone >= {doc['backbone_kv']:g} kV): "
               + ", ".join(f"{k} {v:,}" for k, v in red.items())
               + f"; median backbone distance {doc['backbone_km_median']} km")


@click.command("grid")
@region_option
@layer_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False),
              help="Write per-substation metrics (.geojson, .gpkg, .parquet or .csv).")
@click.option("--overwrite", is_flag=True, help="Replace an export not written by geo-rank.")
@click.option("--no-cache", is_flag=True, help="Recompute instead of reading the disk cache.")
@click.option("--queued-loads", "queued_loads", type=click.Path(dir_okay=False), default=None,
              help="Loads already queued (CSV/GeoJSON: mw and poi_sub_id or lat/lon), added "
                   "to the grid before hosting is computed.")
@setting_options("--hosting-min-kv", "--backbone-kv", "--snap-km")
@config_option
@click.pass_context
def grid_command(ctx: click.Context, region: str, as_json: bool, export_path: str | None,
                 overwrite: bool, no_cache: bool, config: str | None,
                 queued_loads: str | None, **layer_opts: Any) -> None:
    """Build the grid of REGION, report its quality, and summarise hosting and redundancy.

    The grid is the whole interconnected dataset (power ignores state lines); the
    summary and the export cover the substations inside the region.
    """
    settings = engine_settings(config, pop_setting_flags(layer_opts), no_cache=no_cache)
    bundle = layers.load(region, grid=settings.grid_source, **layer_kwargs(layer_opts))
    graph = grid.build(bundle.substations, bundle.lines, settings,
                       getattr(bundle, "territories", None))
    queued = (queue.attach(queue.read(queued_loads), graph.substations, settings,
                           f"--queued-loads {queued_loads}") if queued_loads else None)
    t0 = time.perf_counter()
    with progress.for_command(ctx) as bars:
        table = grid.metrics(graph, bundle.plants, settings, progress=bars.step("hosting"),
                             queued=queued)
    seconds = time.perf_counter() - t0
    if bundle.region != "US":
        inside = bundle.in_region("substations")["sub_id"].astype(str)
        table = table[table.index.isin(inside)]
    doc = summary(graph, table, settings, bundle.region, seconds)
    doc.update(region_counts(graph, table, bundle.region))
    doc["grid_note"] = grid_note(bundle, settings.assumed_utilisation)
    doc.update(input_quality(getattr(bundle, "reports", {})))
    if queued is not None:
        doc["queued_loads"] = {"file": queued_loads, "loads": len(queued),
                               "mw": round(float(queued["mw"].sum()), 3),
                               "max_attach_km": round(float(queued["attach_km"].max()), 3)}
    if export_path:
        subs = graph.substations.set_index("sub_id")
        out = table.drop(columns=["name", "voltage_kv", "island"]).join(
            subs[["name", "voltage_kv", "island", "geometry"]]).reset_index()
        # the topology count is information only: N-1 security is firm_mw against a load
        out = out.rename(columns={"redundancy": "topology_redundancy"})
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=subs.crs)
        out = out[[*EXPORT_COLUMNS, "geometry"]]
        prov = build_provenance(settings, bundle.sources, bundle.region, 0.0,
                                extra={"product": "grid metrics", "grid": doc})
        path = export.write(out, export_path, prov, overwrite=overwrite)
        doc["export"] = str(path)
    quiet = ctx.find_root().params.get("quiet", False)
    if as_json:
        click.echo(json.dumps(doc))
    elif not (quiet and export_path):  # -q with --export: the file is the answer
        _print(doc)
        if export_path:
            click.echo(f"wrote {len(table):,} substations to {doc['export']}")
