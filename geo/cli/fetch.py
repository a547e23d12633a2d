"""``geo-rank fetch``: download public grid data (OSM via Overpass, HIFLD, EIA-860).

This is the only command that touches the network; every other command reads files. It is
a thin shell over :func:`layers.fetch.fetch`.
"""

from __future__ import annotations

from pathlib import Path

import click

from geo.cli.config import config_option, fetch_settings
from layers import fetch as fetching
from layers.fetch import FetchSettings, HttpClient, parse_bbox

#: The setting ``--url`` overrides, per source.
URL_SETTINGS = {"osm": "overpass_url", "hifld-lines": "hifld_lines_url",
                "hifld-substations": "hifld_substations_url", "eia860": "eia860_url"}


@click.command("fetch")
@click.argument("source", type=click.Choice(fetching.SOURCES))
@click.option("--region", default=None,
              help="Region code (US, US-TX, or a country such as NO): fetch its bounding box.")
@click.option("--bbox", default=None, metavar="MINLON,MINLAT,MAXLON,MAXLAT",
              help="Fetch this bounding box (degrees, EPSG:4326) instead of a region's.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the outputs (created if needed).")
@click.option("--tile-deg", type=float, default=None,
              help="Overpass tile size in degrees "
                   f"[default: {FetchSettings.default_of('tile_deg')}].")
@click.option("--delay-s", type=float, default=None,
              help="Minimum seconds between requests "
                   f"[default: {FetchSettings.default_of('delay_s')}].")
@click.option("--year", type=int, default=None,
              help=f"EIA-860 year [default: {FetchSettings.default_of('eia860_year')}].")
@click.option("--url", default=None,
              help="Endpoint for SOURCE instead of the default (an Overpass interpreter, an "
                   "ArcGIS layer's /query URL, or an EIA-860 URL with {year}).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of cached responses [default: the user cache folder].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write cached responses.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@config_option
@click.pass_context
def fetch_command(ctx: click.Context, source: str, region: str | None, bbox: str | None,
                  out_dir: Path, tile_deg: float | None, delay_s: float | None,
                  year: int | None, url: str | None, cache_dir: Path | None, no_cache: bool,
                  overwrite: bool, config: str | None) -> None:
    """Download SOURCE (osm, hifld-lines, hifld-substations, eia860) into --out.

    \b
    geo-rank fetch osm --region US-TX --out data/byod
    geo-rank fetch hifld-lines --bbox -98,29.5,-97,30.5 --out data/byod
    geo-rank fetch eia860 --year 2023 --out data/byod

    Needs the internet (the only command that does); responses are cached, so an
    interrupted fetch resumes when run again.
    """
    flags = {flag: (name, value) for flag, name, value in (
        ("--tile-deg", "tile_deg", tile_deg), ("--delay-s", "delay_s", delay_s),
        ("--cache-dir", "cache_dir", cache_dir), ("--url", URL_SETTINGS[source], url),
        ("--no-cache", "use_cache", False if no_cache else None)) if value is not None}
    settings = fetch_settings(config, flags)
    # Tests hand in a replay transport (and a sleep that does not sleep) through ctx.obj.
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    client_kwargs = {k: obj[k] for k in ("transport", "sleep", "clock") if k in obj}
    client = HttpClient(settings, **client_kwargs)
    written = fetching.fetch(
        source, out_dir, region=region, bbox=parse_bbox(bbox) if bbox else None, year=year,
        settings=settings, client=client, overwrite=overwrite,
    )
    for path in written:
        click.echo(str(path))
    cached = " (all from cache)" if client.network_requests == 0 else ""
    if not ctx.find_root().params.get("quiet", False):
        click.echo(f"{len(written)} file(s) from {client.network_requests} request(s){cached}",
                   err=True)
