"""``geo-rank [rank]``: the main job. Rank sites for a new load and write the exports."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import click

import layers
from geo import columns, export, maps
from geo.commands import progress
from geo.commands.config import (
    config_option,
    engine_settings,
    pop_setting_flags,
    setting_options,
)
from geo.commands.options import layer_kwargs, layer_options, map_options, region_option
from geo.pipeline import RankResult, rank_sites

log = logging.getLogger(__name__)

#: The first line of the table when the grid is the embedded test system (issue 15).
SYNTHETIC_HEADER = ("grid: the embedded USA TAMU synthetic test system (real sites, synthetic "
                    "topology and ratings): months and firm MW show the method, not the real "
                    "grid")


def _header_format(fmt: str) -> str:
    """The value's format spec without grouping and precision: "{:>9,.0f}" -> "{:>9}"."""
    return re.sub(r"[,_]?(\.\d+)?[a-z%]?}$", "}", fmt)


def _cell(fmt: str, value: Any) -> str:
    spec = re.match(r"[<>^]?(\d*)", fmt.split(":")[1].rstrip("}"))
    width = int(spec.group(1) or 0) if spec else 0  # "{:>9,.0f}" is 9 wide, not 90
    try:
        if value is None or (isinstance(value, float) and value != value):
            return "-".rjust(width)
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)[:width].ljust(width)


def table(result: RankResult, limit: int) -> str:
    """The terminal table of the top sites (the columns with a ``terminal`` position)."""
    shown = columns.terminal()
    header = " ".join(_cell(_header_format(fmt), h) for h, _, fmt in shown)
    rows = [header]
    if getattr(result, "provenance", {}).get("synthetic_grid"):
        rows.insert(0, SYNTHETIC_HEADER)
    for _, row in result.sites.head(limit).iterrows():
        rows.append(" ".join(_cell(fmt, row.get(col)) for _, col, fmt in shown))
    return "\n".join(rows)


@click.command("rank")
@region_option
@layer_options
@click.option("--load-mw", type=float, default=300.0, show_default=True,
              help="The new load (an AI campus) in MW.")
@click.option("--candidates", default="substations", show_default=True,
              help="'substations', 'h3:<res>' (H3 cells over the region) or a sites file.")
@setting_options("--min-kv", "--max-tie-km", "--hosting-min-kv", "--backbone-kv", "--snap-km")
@click.option("--land-prices", type=click.Path(dir_okay=False), default=None,
              help="Your land prices: a GeoTIFF or polygons with price_usd_per_acre.")
@click.option("--land-unit", type=click.Choice(["usd_per_acre", "usd_per_hectare"]),
              default=None,
              help="Unit of --land-prices: needed for a raster without a 'units' tag; for "
                   "polygons, the unit of --price-column [default: usd_per_acre].")
@click.option("--price-column", default=None,
              help="The price column of --land-prices polygons (default: price_usd_per_acre).")
@click.option("--sovereignty", "bloc", default=None,
              help="Keep only sites in this data bloc (US, EU/EEA, UK, CA, GCC, ...).")
@click.option("--data-from", "data_from", multiple=True, metavar="REGIME",
              help="Tag each site with whether personal data from this regime may be "
                   "processed there: allowed, conditional or not allowed (EU, UK, CN, IN, US; "
                   "repeatable).")
@click.option("--top", type=int, default=25, show_default=True,
              help="Sites in the table and the export (one per POI).")
@click.option("--all-candidates", is_flag=True, help="Export every candidate, ranked.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="exports",
              show_default=True, help="Folder for the exports.")
@click.option("--format", "fmt", type=click.Choice(sorted(export.FORMATS)), default="geojson",
              show_default=True, help="Export format.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False), default=None,
              help="HTML map path [default: maps/<region>.html].")
@click.option("--no-map", is_flag=True, help="Write no map.")
@map_options
@click.option("--overwrite", is_flag=True, help="Replace output files not written by geo-rank.")
@config_option
@click.option("--no-cache", is_flag=True, help="Recompute grid metrics; ignore the cache.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True,
              help="Where the per-site joins and costs run: this process, or Dask partitions "
                   "(needs the dask extra).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --engine dask: an existing Dask scheduler [default: a local cluster].")
@click.pass_context
def rank_command(ctx: click.Context, region: str, load_mw: float, candidates: str,
                 land_prices: str | None,
                 land_unit: str | None, bloc: str | None, top: int, all_candidates: bool,
                 out_dir: str, fmt: str, map_path: str | None, no_map: bool, overwrite: bool,
                 config: str | None, no_cache: bool, engine: str, scheduler: str | None,
                 price_column: str | None, data_from: tuple[str, ...],
                 tiles: str | None, tiles_attribution: str | None, offline: bool,
                 **layer_opts: Any) -> None:
    """Rank sites for a new load in REGION: power first, land follows (the default command)."""
    quiet = ctx.find_root().params.get("quiet", False)
    settings = engine_settings(config, pop_setting_flags(layer_opts), no_cache=no_cache)
    user = layer_kwargs(layer_opts)
    bundle = layers.load(region, **user) if user else None
    name = bundle.region if bundle is not None else layers.regions.parse(region)[0]
    # every output is checked before the long work, so a refusal leaves no file behind
    target = export.check_target(export.path_for(Path(out_dir), name, fmt), overwrite=overwrite)
    html = None
    if not no_map:
        maps.check_tiles(tiles, tiles_attribution, offline)
        html = maps.check_target(Path(map_path) if map_path else
                                 Path("maps") / f"{name.lower()}.html", overwrite=overwrite)
    with progress.for_command(ctx) as bars:
        result = rank_sites(region, candidates=candidates, load_mw=load_mw, settings=settings,
                            layers=bundle, land_prices=land_prices, land_unit=land_unit,
                            price_column=price_column, sovereignty_bloc=bloc,
                            data_from=data_from or None,
                            top=top, all_candidates=all_candidates, progress=bars,
                            engine=engine, scheduler=scheduler)
    written = [export.write(result.sites, target, result.provenance, overwrite=overwrite)]
    if html is not None:
        written.append(maps.render(result.sites, html, result.provenance,
                                   title=f"geo-rank {result.layers.region}: {load_mw:,.0f} MW",
                                   layers=result.layers, tiles=tiles,
                                   tiles_attribution=tiles_attribution, offline=offline,
                                   land_prices=land_prices, land_unit=land_unit,
                                   overwrite=overwrite))
    if not quiet:
        tiers = result.provenance.get("tiers", {})
        click.echo(f"{result.layers.region}: {len(result.ranked):,} candidates for "
                   f"{load_mw:,.0f} MW; tiers " + ", ".join(f"{k} {v:,}" for k, v in tiers.items()))
        click.echo(table(result, top))
        click.echo(f"wrote {len(result.sites):,} sites to " + " and ".join(map(str, written)))
