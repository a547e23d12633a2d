"""``geo-rank [rank]``: the main job. Rank sites for a new load and write the exports."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import pandas as pd

import layers
from geo import columns, portfolio, secure, web
from geo import tiers as tier_words
from geo.cli import progress
from geo.cli.config import (
    config_option,
    engine_settings,
    flexible_option,
    pop_setting_flags,
    setting_options,
)
from geo.cli.options import layer_kwargs, layer_options, map_options, region_option
from geo.io import export, output
from geo.pipeline import RankResult, rank_portfolio, rank_sites
from layers import grids

log = logging.getLogger(__name__)

#: The first line of the table when the grid is the embedded test system (issue 15).
SYNTHETIC_HEADER = ("grid: the embedded USA TAMU synthetic test system (real sites, synthetic "
                    "topology and ratings): months and firm MW show the method, not the real "
                    "grid")
#: The first line of the table on the embedded OpenStreetMap grid (grid_source osm-2016).
OSM_HEADER = ("grid: OpenStreetMap 2016 topology (real lines and substations; voltages partly "
              "inferred, ratings estimated, lines assumed {share:.0%} loaded): hosting and "
              "firm MW are estimates. © OpenStreetMap contributors (ODbL 1.0)")
#: The first line of the table under --flexible (flexible_load).
FLEXIBLE_HEADER = ("load: flexible (--flexible): curtailed after an outage until upgrades make "
                   "it firm; months are judged on N-0 hosting, the supply column stays N-1")


def _header_format(fmt: str) -> str:
    """The value's format spec without grouping and precision: "{:>9,.0f}" -> "{:>9}"."""
    return re.sub(r"[,_]?(\.\d+)?[a-z%]?}$", "}", fmt)


def _cell(fmt: str, value: Any) -> str:
    spec = re.match(r"[<>^]?(\d*)", fmt.split(":")[1].rstrip("}"))
    width = int(spec.group(1) or 0) if spec else 0  # "{:>9,.0f}" is 9 wide, not 90
    try:
        if value is None or (isinstance(value, float) and value != value):
            return "-".rjust(width)
        return fmt.format(_inert(value))
    except (ValueError, TypeError):
        return str(_inert(value))[:width].ljust(width)


def _inert(value: Any) -> Any:
    """Text as a terminal and a spreadsheet pasted from it may show it: control characters
    (a terminal's escape sequences) become "?", and a leading =, +, -, @ gets a single
    quote (:func:`geo.io.output.neutralise`, OWASP CSV injection). Numbers unchanged."""
    if not isinstance(value, str):
        return value
    return output.neutralise(_CONTROL.sub("?", value) if _CONTROL.search(value) else value)


#: Control characters (C0, DEL, C1): a name must not move the cursor or recolour the screen.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


#: The terminal column of the user's own site names (``site_name``), shown after the tier
#: when any site of the table came from the user's file (``candidate_kind == "file"``).
SITE_COLUMN = ("site", "site_name", "{:<22.22}")


def own_sites(sites: pd.DataFrame) -> bool:
    """True when the sites came from the user's file (their names are worth showing)."""
    return "candidate_kind" in sites and bool((sites["candidate_kind"] == "file").any())


def site_label(row: Any) -> str:
    """How the terminal names a site: the user's name for a site of their file, else the
    POI's name, else the site id."""
    for col in (("site_name",) if row.get("candidate_kind") == "file" else ()) + (
            "poi_name", "site_id"):
        value = row.get(col)
        if isinstance(value, str) and value.strip():
            return _inert(value)
    return str(row.get("site_id"))


def table(result: RankResult, limit: int, notes: Sequence[str] = ()) -> str:
    """The terminal table of the top sites (the columns with a ``terminal`` position; the
    site's own name after the tier when the sites are the user's), under the grid line and
    the ``notes`` (the tiers' key, the N-1 secure* count)."""
    shown: list[tuple[str, Any, str]] = list(columns.terminal())
    if own_sites(result.sites.head(limit)):
        shown = [*shown[:2], SITE_COLUMN, *shown[2:]]
    # --data-from: each regime's answer (allowed / conditional / not allowed) at the end
    shown = [*shown, *((f"{col.rsplit('_', 1)[1].upper()} data", col, "{:<12}")
                       for col in result.sites.columns if col.startswith("transfer_from_")
                       and result.sites[col].notna().any())]
    header = " ".join(_cell(_header_format(fmt), h) for h, _, fmt in shown)
    rows = [*notes, header]
    provenance = getattr(result, "provenance", {})
    if provenance.get("synthetic_grid"):
        rows.insert(0, SYNTHETIC_HEADER)
    elif provenance.get("grid_source") == grids.OSM:
        share = provenance.get("settings", {}).get("assumed_utilisation", 0.5)
        rows.insert(0, OSM_HEADER.format(share=share))
    if provenance.get("settings", {}).get("flexible_load"):
        rows.insert(0, FLEXIBLE_HEADER)
    for _, row in result.sites.head(limit).iterrows():
        rows.append(" ".join(_cell(fmt, row.get(col)) for _, col, fmt in shown))
    return "\n".join(rows)


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
def rank_command(ctx: click.Context, region: str, load_mw: float, candidates: str,
                 land_prices: str | None,
                 land_unit: str | None, bloc: str | None, top: int, all_candidates: bool,
                 out_dir: str, fmt: str, map_path: str | None, no_map: bool, overwrite: bool,
                 config: str | None, no_cache: bool, engine: str, scheduler: str | None,
                 price_column: str | None, data_from: tuple[str, ...],
                 flexible: bool, queued_loads: str | None, portfolio_n: int | None,
                 tiles: str | None,
                 tiles_attribution: str | None, offline: bool, allow_outside: bool,
                 **layer_opts: Any) -> None:
    """Rank sites for a new load in REGION: power first, land follows (the default command)."""
    quiet = ctx.find_root().params.get("quiet", False)
    is_h3 = candidates.strip().lower().startswith("h3:")
    if fmt == "tif":
        export.check_surface(candidates)
    settings = engine_settings(config, pop_setting_flags(layer_opts), no_cache=no_cache,
                               flexible=flexible)
    user = layer_kwargs(layer_opts)
    bundle = layers.load(region, grid=settings.grid_source, **user) if user else None
    name = bundle.region if bundle is not None else layers.regions.parse(region)[0]
    # every candidate of a Dask run in GeoParquet: a folder of one file per partition,
    # written by the workers; no process holds the whole surface (geo.io.dataset)
    partitioned = engine == "dask" and fmt == "parquet" and all_candidates
    # every output is checked before the long work, so a refusal leaves no file behind
    target = export.check_target(export.path_for(Path(out_dir), name, fmt), overwrite=overwrite)
    html = None
    if not no_map:
        web.check_tiles(tiles, tiles_attribution, offline)
        html = web.check_target(Path(map_path) if map_path else
                                 default_map(ctx, out_dir, name), overwrite=overwrite)
    with progress.for_command(ctx) as bars:
        options: dict[str, Any] = dict(
            candidates=candidates, load_mw=load_mw, settings=settings,
            layers=bundle, land_prices=land_prices, land_unit=land_unit,
            price_column=price_column, sovereignty_bloc=bloc,
            data_from=data_from or None,
            top=top, all_candidates=all_candidates, progress=bars,
            engine=engine, scheduler=scheduler, queued_loads=queued_loads,
            dataset=target if partitioned else None, allow_outside=allow_outside)
        chosen = None
        if portfolio_n is None:
            result = rank_sites(region, **options)
        else:  # the ranking, then N sites firm together (geo.pipeline.rank_portfolio)
            result, chosen = rank_portfolio(region, portfolio_n, **options)
    # a GeoTIFF is the whole surface: every cell, whatever --top
    exported = result.ranked if fmt == "tif" else result.sites
    if result.dataset is not None:
        written = [result.dataset.path]
    else:
        written = [export.write(exported, target, result.provenance, overwrite=overwrite)]
    if chosen is not None:
        prov = chosen.provenance
        # sites, not a surface: a GeoTIFF run writes its portfolio as GeoJSON
        ptarget = target.with_name(target.name.replace("_sites", "_portfolio"))
        if fmt == "tif":
            ptarget = ptarget.with_suffix(".geojson")
        if len(chosen.sites):
            written.append(export.write(chosen.sites, ptarget, prov,
                                        overwrite=overwrite))
            if html is not None:
                written.append(web.render(
                    chosen.sites, html.with_name(html.stem + "_portfolio.html"), prov,
                    title=f"geo-rank {result.layers.region}: portfolio of "
                          f"{len(chosen.sites)} x {load_mw:,.0f} MW",
                    layers=result.layers, tiles=tiles, tiles_attribution=tiles_attribution,
                    offline=offline, overwrite=overwrite,
                    highlight=portfolio.limiting_lines(chosen, result.grid.lines,
                                                       settings.flexible_load)))
    if html is not None:
        # a surface (H3 cells) is drawn whole, under markers of the best --top sites
        # (a partitioned run holds no surface: its map shows the best sites only)
        surface = result.ranked if is_h3 and result.dataset is None else None
        written.append(web.render(result.sites, html, result.provenance,
                                   title=f"geo-rank {result.layers.region}: {load_mw:,.0f} MW",
                                   layers=result.layers, tiles=tiles,
                                   tiles_attribution=tiles_attribution, offline=offline,
                                   land_prices=land_prices, land_unit=land_unit,
                                   overwrite=overwrite, surface=surface, top=top,
                                   settings=settings))
    if not quiet:
        tiers = result.provenance.get("tiers", {})
        n = len(result.ranked) if result.dataset is None else result.dataset.count
        click.echo(f"{result.layers.region}: {n:,} candidates for "
                   f"{load_mw:,.0f} MW; tiers " + ", ".join(f"{k} {v:,}" for k, v in tiers.items()))
        # after the grid line: the tiers' key and the N-1 secure* count
        notes = [tier_words.key_line(settings.tier_months),
                 star_line(result.ranked, result.sites.head(top))]
        click.echo(table(result, top, notes=[n for n in notes if n]))
        if chosen is not None and portfolio_n is not None:
            click.echo(portfolio_lines(chosen, portfolio_n, load_mw, settings.flexible_load))
        what = "H3 cells" if fmt == "tif" else "sites"
        count = len(exported) if result.dataset is None else result.dataset.count
        if result.dataset is not None:
            what = f"sites in {result.dataset.partitions:,} partitions"
        click.echo(f"wrote {count:,} {what} to " + " and ".join(map(str, written)))


def default_map(ctx: click.Context, out_dir: str, name: str) -> Path:
    """Where the map goes without --map: beside the exports when --out was given, else
    ``maps/<region>.html``."""
    given = ctx.get_parameter_source("out_dir") not in (click.core.ParameterSource.DEFAULT,
                                                        None)
    return (Path(out_dir) if given else Path("maps")) / f"{name.lower()}.html"


def star_line(ranked: pd.DataFrame, shown: pd.DataFrame) -> str:
    """The terminal's line on "N-1 secure*" (how many of the shown and of all sites are
    secure only once a pre-existing overload is set aside), "" when none is."""
    def count(frame: pd.DataFrame) -> int:
        return int((frame["redundancy"] == secure.N1_SECURE_SET_ASIDE).sum()) \
            if "redundancy" in frame else 0

    top, every = count(shown), count(ranked)
    if not every:
        return ""
    return (f"{top:,} of the top {len(shown):,} ({every:,} of all {len(ranked):,}) are "
            f"{secure.STAR_NOTE}")


def _poi_label(row: Any) -> str:
    """" (POI NAME)" after a site of the user's file ("" when the site is its POI's)."""
    if row.get("candidate_kind") != "file":
        return ""
    name = row.get("poi_name")
    name = name if isinstance(name, str) and name.strip() else row.get("poi_sub_id")
    return f" (POI {_inert(name)})" if isinstance(name, str) and name else " (no POI)"


def portfolio_lines(chosen: portfolio.Portfolio, asked: int, load_mw: float,
                    flexible: bool = False) -> str:
    """The portfolio for the terminal: each kept site, then the first sites passed over."""
    together, mw = (("hosted together (N-0: flexible loads)", "N-0") if flexible
                    else ("firm together", "firm"))
    joint = portfolio.joint_label(chosen.verified, flexible)
    if chosen.joint is not None:
        joint += f", {chosen.joint.describe()}"
    by_joint = portfolio.passed_by_joint(chosen)
    rows = [f"Portfolio: {len(chosen.sites)} of {asked} sites {together} at "
            f"{load_mw:,.0f} MW each (joint screen: {joint}; {by_joint} passed over by the "
            f"joint screen; {chosen.checks} hosting runs and joint screens)"]
    for _, r in chosen.sites.iterrows():
        rows.append(f"  {int(r['portfolio_rank']):>3}. #{int(r['rank'])} {site_label(r)}"
                    f"{_poi_label(r)}: {r['portfolio_remaining_mw']:,.0f} MW {mw} with "
                    "the others in")
    for _, r in chosen.passed_over.head(10).iterrows():
        rows.append(f"  passed over #{int(r['rank'])} {site_label(r)}{_poi_label(r)}: "
                    f"{r['portfolio_reason']}")
    if len(chosen.passed_over) > 10:
        rows.append(f"  ... {len(chosen.passed_over) - 10} more passed over (in the export)")
    return "\n".join(rows)
