"""``geo-rank map RESULT``: draw the map again from an exported ranking, without recomputing.

For analysts who edit the export (in QGIS, say) and want the map of their edited sites. The
context layers come from the region named in the export's provenance (``layers.load``);
when the file has no provenance or the region cannot be loaded, only the sites are drawn.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

import layers
from geo import web
from geo.cli.options import map_options
from geo.errors import GeoRankError
from geo.io import export

log = logging.getLogger(__name__)


@click.command("map")
@click.argument("result", type=click.Path(dir_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="HTML map path [default: maps/<result name>.html].")
@click.option("--no-layers", is_flag=True, help="Draw the sites only (no grid or land).")
@click.option("--top", type=int, default=None,
              help="Over a surface (H3 cells, or many sites): markers for this many best "
                   "sites, one per POI [default: the ranking's --top, else 25].")
@map_options
@click.option("--overwrite", is_flag=True, help="Replace an HTML file not written by geo-rank.")
@click.pass_context
def map_command(ctx: click.Context, result: str, out: str | None, no_layers: bool,
                top: int | None, tiles: str | None, tiles_attribution: str | None, offline: bool,
                overwrite: bool) -> None:
    """Write the HTML map of RESULT, a ranking exported by geo-rank (any export format)."""
    sites, provenance = export.read_sites(result)
    provenance = provenance or {"region": Path(result).stem}
    region = provenance.get("region")
    bundle = None
    if not no_layers and isinstance(region, str) and provenance.get("tool") == "geo-rank":
        try:
            bundle = layers.load(region)
        except GeoRankError as exc:  # e.g. a region from the user's own files
            log.warning("drawing the sites only: cannot load the layers of %s (%s)",
                        region, exc)
    land = provenance.get("land_prices")
    land_prices = land if isinstance(land, str) and Path(land).is_file() else None
    target = Path(out) if out else Path("maps") / f"{Path(result).stem}.html"
    title = f"geo-rank {region}" + (f": {provenance['load_mw']:,.0f} MW"
                                    if isinstance(provenance.get("load_mw"), int | float) else "")
    written = web.render(sites, target, provenance, layers=bundle, title=title, tiles=tiles,
                          tiles_attribution=tiles_attribution, offline=offline,
                          land_prices=land_prices, overwrite=overwrite,
                          top=top if top is not None else _top(provenance))
    if not ctx.find_root().params.get("quiet", False):
        click.echo(f"wrote a map of {len(sites):,} sites to {written}")


def _top(provenance: dict) -> int:
    """The ranking's ``--top`` from its provenance, else 25."""
    top = provenance.get("top")
    return top if isinstance(top, int) and not isinstance(top, bool) and top >= 1 else 25
