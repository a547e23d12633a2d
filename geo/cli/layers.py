"""``geo-rank layers``: what data a region has, where it comes from, how far to trust it."""

from __future__ import annotations

import json
from typing import Any

import click

import layers
from geo.cli.options import layer_kwargs, layer_options, region_option
from layers import grids


def summary(bundle: layers.Layers) -> dict[str, dict[str, Any]]:
    """Per-layer counts and provenance of a loaded bundle (the ``--json`` document), one
    entry per layer kind (``layers/kinds.csv``)."""
    out: dict[str, dict[str, Any]] = {}
    for kind, gdf in bundle.items():
        meta = bundle.sources[kind]
        item: dict[str, Any] = {
            "count": len(gdf),
            "source": meta["source"],
            "vintage": meta["vintage"],
            "status": meta["status"],
            "licence": meta["licence"],
            "file": meta["path"],
        }
        if meta.get("note"):
            item["note"] = meta["note"]
        if kind in ("substations", "plants") and bundle.region != "US":
            item["count_in_region"] = len(bundle.in_region(kind))
        if kind == "plants":
            counts = gdf["fuel"].value_counts()
            item["by_fuel"] = {f: int(counts[f]) for f in sorted(counts.index)}
            cap = gdf.groupby("fuel")["capacity_mw"].sum()
            item["capacity_mw_by_fuel"] = {f: round(float(cap[f]), 1) for f in sorted(cap.index)}
        if kind == "lines":
            item["capacity_source"] = gdf["capacity_source"].value_counts().sort_index().to_dict()
        out[kind] = item
    raster = bundle.sources["land_raster"]
    out["land_prices"]["raster"] = raster["path"] if bundle.land_raster is not None else None
    out["sovereignty"] = {"count": len(bundle.sovereignty), **{
        k: bundle.sources["sovereignty"][k] for k in ("source", "vintage", "status")}}
    return out


@click.command("layers")
@region_option
@layer_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object keyed by layer.")
def layers_command(region: str, as_json: bool, **layer_opts: Any) -> None:
    """List each layer of REGION: count, source, vintage, and how far to trust it."""
    bundle = layers.load(region, grid=layer_opts.get("grid_source"), **layer_kwargs(layer_opts))
    info = summary(bundle)
    if bundle.reports:
        info["quality"] = bundle.reports
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"Layers for {bundle.region}")
    click.echo(f"{'layer':<13} {'count':>7}  {'status':<11} {'vintage':<7} source")
    for kind, item in info.items():
        if kind == "quality":
            continue
        count = f"{item['count']:,}"
        click.echo(f"{kind:<13} {count:>7}  {item['status']:<11} {item['vintage']:<7} "
                   f"{item['source']}")
        if "count_in_region" in item:
            click.echo(f"{'':<13} {item['count_in_region']:>7,}  in {bundle.region}")
    fuels = ", ".join(f"{k} {v:,}" for k, v in info["plants"]["by_fuel"].items())
    click.echo(f"\nplants by fuel: {fuels}")
    for kind, rep in bundle.reports.items():
        facts = ", ".join(f"{k} {v}" for k, v in rep.items()
                          if isinstance(v, int) and not isinstance(v, bool) and v)
        click.echo(f"{kind}: {rep['format']} file {rep['file']}" + (f"; {facts}" if facts else ""))
    if bundle.grid == grids.TAMU:
        click.echo(
            "note: the grid (substations, lines) is the USA TAMU test system: real sites, "
            "synthetic topology. Bring real grid data for decisions (see README)."
        )
    elif bundle.grid == grids.OSM:
        click.echo(
            "note: the grid (substations, lines) is OpenStreetMap as of 2016: real topology; "
            "voltages partly inferred, ratings estimated from the voltage class. "
            f"{grids.OSM_ATTRIBUTION}"
        )
