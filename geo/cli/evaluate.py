"""``geo-rank evaluate KNOWN``: backtest the ranked surface against campuses actually built.

Prints a table (AUC with a bootstrap 95 % interval and top-1/5/10 % shares, for the
ranking and the naive proxies) and writes a JSON and a CSV report, a PNG of the ROC curves
and an offline map of the known sites coloured by percentile into ``--out``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
import geopandas as gpd

import layers
from geo.backtest import points as bp
from geo.backtest.run import DEFAULT_BACKGROUND, DEFAULT_BOOTSTRAP, backtest
from geo.cli.config import engine_settings, flexible_option, pop_setting_flags
from geo.cli.options import grid_option, region_option
from geo.errors import SettingsError

log = logging.getLogger(__name__)


@click.command("evaluate")
@click.argument("known", required=False, type=click.Path(dir_okay=False))
@click.option("--known-set", default=None, metavar="NAME",
              help=f"A known-site set shipped with geo-rank instead of KNOWN: "
                   f"{', '.join(sorted(bp.KNOWN_SETS))} (data/SOURCES.md).")
@region_option
@click.option("--load-mw", type=float, default=300.0, show_default=True,
              help="The load the surface is ranked for, MW.")
@click.option("--resolution", type=int, default=None,
              help="H3 resolution of the ranked surface [default: 6, or the --ranking "
                   "file's].")
@click.option("--background", "n_background", type=int, default=None,
              help=f"Background points drawn uniformly over the region's land "
                   f"[default: {DEFAULT_BACKGROUND:,}].")
@click.option("--background-file", type=click.Path(dir_okay=False), default=None,
              help="Your own background points (a sites file) instead of random ones.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the background points, the random proxy and the bootstrap.")
@click.option("--bootstrap", "n_boot", type=int, default=DEFAULT_BOOTSTRAP, show_default=True,
              help="Bootstrap resamples of the AUC interval.")
@click.option("--ranking", type=click.Path(dir_okay=False), default=None,
              help="A ranking exported by `geo-rank --candidates h3:<res> --all-candidates` "
                   "[default: rank the region now].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="exports",
              show_default=True, help="Folder for the reports, the ROC PNG and the map.")
@click.option("--no-map", is_flag=True, help="Write no HTML map.")
@flexible_option
@grid_option
@click.option("--config", type=click.Path(dir_okay=False), default=None,
              help="TOML file overriding any setting (see geo/settings.py).")
@click.pass_context
def evaluate_command(ctx: click.Context, known: str | None, known_set: str | None,
                     region: str, load_mw: float, resolution: int | None,
                     n_background: int | None, background_file: str | None, seed: int,
                     n_boot: int, ranking: str | None, out_dir: str, no_map: bool,
                     flexible: bool, grid_source: str | None, config: str | None) -> None:
    """Backtest the ranking of REGION against KNOWN sites (a file with lat/lon, name and
    optional MW), beside naive proxies: AUC, top-1/5/10 % shares, ROC curves, a map."""
    if (known is None) == (known_set is None):
        raise SettingsError("give either a KNOWN sites file or --known-set NAME "
                            f"(e.g. --known-set {next(iter(bp.KNOWN_SETS))})")
    if n_background is not None and background_file is not None:
        raise SettingsError("give --background N or --background-file, not both")
    if n_boot < 1:
        raise SettingsError(f"--bootstrap {n_boot}: must be at least 1")
    if resolution is not None and not 0 <= resolution <= 10:
        raise SettingsError(f"--resolution {resolution}: H3 resolution must be 0 to 10")
    # the report draws with folium (and matplotlib): imported here, not at every CLI start
    # (about 0.4 CPU s of a warm `geo-rank --region US --no-map`); no import cycle is hidden
    from geo.backtest import report as backtest_report

    settings = engine_settings(config, pop_setting_flags({"grid_source": grid_source}),
                               flexible=flexible)
    source = known if known is not None else str(known_set)
    path = Path(known) if known is not None else bp.known_set_path(str(known_set))
    sites = bp.read_known(path)
    bundle = layers.load(region, grid=settings.grid_source)
    background: int | gpd.GeoDataFrame = (
        bp.read_known(background_file) if background_file is not None
        else n_background if n_background is not None else DEFAULT_BACKGROUND)
    result = backtest(sites, region=bundle.region, load_mw=load_mw, resolution=resolution,
                      background=background, seed=seed, ranking=ranking, settings=settings,
                      n_boot=n_boot, known_source=source, clip_known=known_set is not None,
                      layers=bundle)
    n_known = int((result.points["kind"] == "known").sum())
    title = (f"geo-rank evaluate {bundle.region}: {n_known} known sites ({source}) vs "
             f"{len(result.points) - n_known:,} background points, {load_mw:,.0f} MW")
    written = backtest_report.write_all(result, Path(out_dir), title=title,
                                        with_map=not no_map)
    if not ctx.find_root().params.get("quiet", False):
        click.echo(title)
        click.echo(backtest_report.table_text(result))
        click.echo("wrote " + ", ".join(map(str, written)))
