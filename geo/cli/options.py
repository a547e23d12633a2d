"""Options shared by several subcommands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from layers import adapters, grids, kinds

F = TypeVar("F", bound=Callable[..., Any])

region_option = click.option(
    "--region",
    default="US",
    show_default=True,
    help="US (48 contiguous states and DC), a state code such as US-TX, or a country "
         "(ISO alpha-2): NO, CA, MX, ET, BT and MY have an embedded OpenStreetMap grid; "
         "others need your own grid layers.",
)

grid_option = click.option(
    "--grid", "grid_source", type=click.Choice(grids.GRIDS), default=None,
    help=f"Embedded network when you give no grid files: {grids.OSM} (real OpenStreetMap "
         f"topology, 2016; default) or {grids.TAMU} (USA TAMU synthetic test system, US "
         "only) [setting grid_source].")


def _path(kind: kinds.Kind) -> Callable[[F], F]:
    return click.option(kind.flag, kind.name, type=click.Path(dir_okay=False), default=None,
                        help=f"Your {kind.title} file (HIFLD, OSM, EIA or generic; replaces the "
                             "embedded layer).")


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise click.BadParameter(f"{v!r}: write NAME=VALUE", param_hint=flag)
        out[key.strip()] = val.strip()
    return out


def layer_options(f: F) -> F:
    """Options for the user's own layers (``layers``, ``grid`` and ``rank`` share them): one
    file flag per layer kind that has one in ``layers/kinds.csv``, then the common ones."""
    options = (
        *(_path(k) for k in kinds.user_kinds() if k.flag),
        click.option("--layers-dir", type=click.Path(file_okay=False), default=None,
                     help="A folder holding any of the layer files, recognised by name."),
        click.option("--source-format", "source_format", multiple=True,
                     help=f"Force the format ({', '.join(adapters.formats())}), or per "
                          "layer: lines=hifld. Default: detected."),
        click.option("--map-column", "map_column", multiple=True, metavar="CANONICAL=SOURCE",
                     help="Map a source column to a canonical one, e.g. voltage_kv=KV_MAX."),
        click.option("--boundary", type=click.Path(dir_okay=False), default=None,
                     help="A polygon file to use as the region's outline."),
        grid_option,
    )
    for option in reversed(options):
        f = option(f)
    return f


def layer_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :func:`layers.load` from :func:`layer_options` values (only the
    ones given, so a plain ``--region`` run loads exactly as before)."""
    keys = (*(k.name for k in kinds.user_kinds() if k.flag), "layers_dir", "boundary")
    out: dict[str, Any] = {k: params.get(k) for k in keys if params.get(k) is not None}
    formats = params.get("source_format") or ()
    if formats:
        plain = [v for v in formats if "=" not in v]
        per_kind = _pairs(tuple(v for v in formats if "=" in v), "--source-format")
        if len(plain) > 1:
            raise click.BadParameter("give one format, or KIND=FORMAT pairs",
                                     param_hint="--source-format")
        out["source_format"] = ({**({"*": plain[0]} if plain else {}), **per_kind}
                                if per_kind else plain[0])
    if params.get("map_column"):
        out["column_map"] = _pairs(params["map_column"], "--map-column")
    return out


def map_options(f: F) -> F:
    """``--tiles``, ``--tiles-attribution`` and ``--offline`` (``rank`` and ``map``)."""
    options = (
        click.option("--tiles", default=None,
                     help="Base tiles: a folium/xyzservices name (e.g. OpenStreetMap) or a URL "
                          "template with {z}/{x}/{y} [default: Esri.WorldGrayCanvas; none "
                          "with --offline]."),
        click.option("--tiles-attribution", default=None,
                     help="Credit line for a --tiles URL template."),
        click.option("--offline", is_flag=True,
                     help="Self-contained map: no base tiles, no network request at all."),
    )
    for option in reversed(options):
        f = option(f)
    return f
