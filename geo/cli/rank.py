"""``geo-rank [rank]``: the main job. Rank sites for a new load and write the exports."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import click

import layers
from geo import portfolio, prices, web
from geo import tiers as tier_words
from geo.cli import progress, tables
from geo.cli.config import (
    config_option,
    engine_settings,
    flexible_option,
    pop_setting_flags,
    setting_options,
)
from geo.cli.options import layer_kwargs, layer_options, map_options, region_option
from geo.io import export
from geo.pipeline import RankResult, rank_portfolio, rank_sites
from geo.settings import Settings

log = logging.getLogger(__name__)


@click.command("rank")
@region_option
@layer_options
@click.option("--load-mw", type=float, default=300.0, show_default=True,
              help="The new load (an AI campus) in MW.")
@click.option("--candidates", default="substations", show_default=True,
              help="'substations', 'h3:<res>' (H3 cells over the region) or a sites file "
                   "(CSV or .xlsx with lat/lon, GeoJSON, GeoPackage, GeoParquet; a name column "
                   "names the sites).")
@click.option("--allow-outside", is_flag=True,
              help="Keep sites of a --candidates file that lie outside the region (with a "
                   "warning) instead of refusing them.")
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
@click.option("--iso", "iso", multiple=True, metavar="ISO",
              help="Keep only sites in this ISO/RTO (ERCOT, PJM, MISO, SPP, CAISO, NYISO, "
                   "ISO-NE; 'none': no ISO, a vertically integrated utility); repeatable. "
                   "US territories only; filters before the ranking.")
@click.option("--utility", "utility", multiple=True, metavar="NAME",
              help="Keep only sites served by this utility (its name, case-insensitive, its "
                   "EIA id, or its holding company: 'Dominion Energy'); repeatable.")
@click.option("--data-from", "data_from", multiple=True, metavar="REGIME",
              help="Tag each site with whether personal data from this regime may be "
                   "processed there: allowed, conditional or not allowed (EU, UK, CN, IN, US; "
                   "repeatable).")
@flexible_option
@click.option("--queued-loads", "queued_loads", type=click.Path(dir_okay=False), default=None,
              help="Loads already queued or under construction (CSV/GeoJSON: mw and "
                   "poi_sub_id or lat/lon); added to the grid first, so hosting is what "
                   "remains after them.")
@click.option("--portfolio", "portfolio_n", type=click.IntRange(min=1), default=None,
              metavar="N",
              help="Also choose N sites, in rank order, that are firm together (each "
                   "kept site's load is added before the next is checked; N-0 alone "
                   "with --flexible); writes <region>_portfolio.<format>.")
@click.option("--top", type=int, default=25, show_default=True,
              help="Sites in the table and the export (one per POI).")
@click.option("--all-candidates", is_flag=True,
              help="Export every candidate, ranked (with --engine dask --format parquet: a "
                   "folder of one GeoParquet file per partition).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="exports",
              show_default=True, help="Folder for the exports.")
@click.option("--format", "fmt", type=click.Choice(sorted(export.FORMATS)), default="geojson",
              show_default=True,
              help="Export format; tif: a Cloud-Optimised GeoTIFF of the whole H3 surface "
                   "(every cell: rank percentile, months to power, firm MW), h3 candidates "
                   "only.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False), default=None,
              help="HTML map path [default: <region>.html in the --out folder when --out "
                   "is given, else maps/<region>.html].")
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
              help="With --engine dask: an existing Dask scheduler, e.g. tcp://host:8786 "
                   "[default: a local cluster]. With --format parquet --all-candidates the "
                   "workers write the dataset folder: it must be on a file system they share.")
@click.pass_context
def rank_command(ctx: click.Context, **params: Any) -> None:
    """Rank sites for a new load in REGION: power first, land follows (the default command)."""
    opts = RankOptions.pop(params)  # what remains: the layer files and the setting flags
    if opts.fmt == "tif":
        export.check_surface(opts.candidates)
    settings = engine_settings(opts.config, pop_setting_flags(params), no_cache=opts.no_cache,
                               flexible=opts.flexible)
    user = layer_kwargs(params)
    bundle = layers.load(opts.region, grid=settings.grid_source, **user) if user else None
    name = bundle.region if bundle is not None else layers.regions.parse(opts.region)[0]
    target, html = _check_targets(ctx, opts, name)
    with progress.for_command(ctx) as bars:
        # every candidate of a Dask run in GeoParquet: a folder of one file per partition,
        # written by the workers; no process holds the whole surface (geo.io.dataset)
        partitioned = opts.engine == "dask" and opts.fmt == "parquet" and opts.all_candidates
        options: dict[str, Any] = dict(
            candidates=opts.candidates, load_mw=opts.load_mw, settings=settings,
            layers=bundle, land_prices=opts.land_prices, land_unit=opts.land_unit,
            price_column=opts.price_column, sovereignty_bloc=opts.bloc,
            data_from=opts.data_from or None,
            top=opts.top, all_candidates=opts.all_candidates, progress=bars,
            engine=opts.engine, scheduler=opts.scheduler, queued_loads=opts.queued_loads,
            dataset=target if partitioned else None, allow_outside=opts.allow_outside,
            iso=opts.iso or None, utility=opts.utility or None)
        chosen = None
        if opts.portfolio_n is None:
            result = rank_sites(opts.region, **options)
        else:  # the ranking, then N sites firm together (geo.pipeline.rank_portfolio)
            result, chosen = rank_portfolio(opts.region, opts.portfolio_n, **options)
    written = _write(opts, settings, result, chosen, target, html)
    if not ctx.find_root().params.get("quiet", False):
        click.echo(summary(opts, settings, result, chosen, written))


@dataclass(frozen=True)
class RankOptions:
    """The options of ``geo-rank rank`` but the layer files and the setting flags (the
    option of the same name documents each field)."""

    region: str
    load_mw: float
    candidates: str
    allow_outside: bool
    land_prices: str | None
    land_unit: str | None
    price_column: str | None
    bloc: str | None
    data_from: tuple[str, ...]
    iso: tuple[str, ...]
    utility: tuple[str, ...]
    flexible: bool
    queued_loads: str | None
    portfolio_n: int | None
    top: int
    all_candidates: bool
    out_dir: str
    fmt: str
    map_path: str | None
    no_map: bool
    tiles: str | None
    tiles_attribution: str | None
    offline: bool
    overwrite: bool
    config: str | None
    no_cache: bool
    engine: str
    scheduler: str | None

    @classmethod
    def pop(cls, params: dict[str, Any]) -> RankOptions:
        """The record of click's ``params``, its fields taken out of them."""
        return cls(**{f.name: params.pop(f.name) for f in fields(cls)})


def _check_targets(ctx: click.Context, opts: RankOptions,
                   name: str) -> tuple[Path, Path | None]:
    """The export path and the map path (None: no map), each checked before the long work,
    so a refusal leaves no file behind."""
    target = export.check_target(export.path_for(Path(opts.out_dir), name, opts.fmt),
                                 overwrite=opts.overwrite)
    if opts.no_map:
        return target, None
    web.check_tiles(opts.tiles, opts.tiles_attribution, opts.offline)
    html = web.check_target(Path(opts.map_path) if opts.map_path else
                            default_map(ctx, opts.out_dir, name), overwrite=opts.overwrite)
    return target, html


def _write(opts: RankOptions, settings: Settings, result: RankResult,
           chosen: portfolio.Portfolio | None, target: Path, html: Path | None) -> list[Path]:
    """Write the export, the portfolio and the maps; the paths written."""
    # a GeoTIFF is the whole surface: every cell, whatever --top
    exported = result.ranked if opts.fmt == "tif" else result.sites
    if result.dataset is not None:
        written = [result.dataset.path]
    else:
        written = [export.write(exported, target, result.provenance, overwrite=opts.overwrite)]
    map_args: dict[str, Any] = dict(layers=result.layers, tiles=opts.tiles,
                    tiles_attribution=opts.tiles_attribution, offline=opts.offline,
                    overwrite=opts.overwrite)
    if chosen is not None and len(chosen.sites):
        prov = chosen.provenance
        # sites, not a surface: a GeoTIFF run writes its portfolio as GeoJSON
        ptarget = target.with_name(target.name.replace("_sites", "_portfolio"))
        if opts.fmt == "tif":
            ptarget = ptarget.with_suffix(".geojson")
        written.append(export.write(chosen.sites, ptarget, prov, overwrite=opts.overwrite))
        if html is not None:
            written.append(web.render(
                chosen.sites, html.with_name(html.stem + "_portfolio.html"), prov,
                title=f"geo-rank {result.layers.region}: portfolio of "
                      f"{len(chosen.sites)} x {opts.load_mw:,.0f} MW",
                highlight=portfolio.limiting_lines(chosen, result.grid.lines,
                                                   settings.flexible_load),
                settings=settings, **map_args))
    if html is not None:
        # a surface (H3 cells) is drawn whole, under markers of the best --top sites
        # (a partitioned run holds no surface: its map shows the best sites only)
        is_h3 = opts.candidates.strip().lower().startswith("h3:")
        surface = result.ranked if is_h3 and result.dataset is None else None
        written.append(web.render(result.sites, html, result.provenance,
                                  title=f"geo-rank {result.layers.region}: "
                                        f"{opts.load_mw:,.0f} MW",
                                  land_prices=opts.land_prices, land_unit=opts.land_unit,
                                  surface=surface, top=opts.top, settings=settings,
                                  **map_args))
    return written


def summary(opts: RankOptions, settings: Settings, result: RankResult,
            chosen: portfolio.Portfolio | None, written: Sequence[Path]) -> str:
    """What the terminal shows after a run: the counts, the table of the top sites, the
    portfolio and the files written."""
    tiers = result.provenance.get("tiers", {})
    n = len(result.ranked) if result.dataset is None else result.dataset.count
    lines = [f"{result.layers.region}: {n:,} candidates for {opts.load_mw:,.0f} MW; tiers "
             + ", ".join(f"{k} {v:,}" for k, v in tiers.items())]
    # after the grid line: the tiers' key and the N-1 secure* count
    notes = [prices.figures_line(result.provenance.get("figures_outside_us")),
             tier_words.key_line(settings.tier_months),
             tables.star_line(result.ranked, result.sites.head(opts.top))]
    lines.append(tables.table(result, opts.top, notes=[n for n in notes if n]))
    if chosen is not None and opts.portfolio_n is not None:
        lines.append(tables.portfolio_lines(chosen, opts.portfolio_n, opts.load_mw,
                                            settings.flexible_load))
    if result.dataset is not None:
        count, what = result.dataset.count, f"sites in {result.dataset.partitions:,} partitions"
    else:
        count = len(result.ranked if opts.fmt == "tif" else result.sites)
        what = "H3 cells" if opts.fmt == "tif" else "sites"
    lines.append(f"wrote {count:,} {what} to " + " and ".join(map(str, written)))
    return "\n".join(lines)


def default_map(ctx: click.Context, out_dir: str, name: str) -> Path:
    """Where the map goes without --map: beside the exports when --out was given, else
    ``maps/<region>.html``."""
    given = ctx.get_parameter_source("out_dir") not in (click.core.ParameterSource.DEFAULT,
                                                        None)
    return (Path(out_dir) if given else Path("maps")) / f"{name.lower()}.html"
