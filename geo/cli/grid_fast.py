"""The fast ``geo-rank grid --region US --json``: the shipped document, no graph built.

When the command line asks exactly for the embedded US grid's JSON summary with the default
settings (``grid --region US --json``, optionally ``--grid``, ``-q`` or ``--debug``: no
layer files, no ``--config``, no setting flag, no ``--no-cache``, no ``--queued-loads`` or
``--export``), the answer is the summary of the shipped metrics table, which
:mod:`geo.grid.shipped_build` wrote beside it (:mod:`geo.grid.summary`). :func:`answer`
prints it after importing only the settings, in a fraction of the time the full path takes
to load the layers and build the graph; when the shipped document is absent or was computed
from other files, settings or model, it prints nothing and the full command runs.
"""

from __future__ import annotations

import json
import time

import click

from geo.cli.headers import OSM_HEADER, SYNTHETIC_HEADER

#: The ``grid_note`` of each embedded US grid (what :func:`geo.cli.grid.grid_note` says of it).
NOTES = {"osm-2016": OSM_HEADER, "tamu-synthetic": SYNTHETIC_HEADER}
#: Global flags that change neither the document nor stdout.
NEUTRAL_FLAGS = {"-q", "--quiet", "--debug"}


def _request(args: list[str]) -> str | None:
    """The grid source when ``args`` ask for nothing but the US JSON summary, else None
    (``""``: the default grid)."""
    rest = [a for a in args if a not in NEUTRAL_FLAGS]
    if rest[:1] != ["grid"]:
        return None
    region = as_json = False     # each flag at most once
    grid_source = ""
    words = iter(rest[1:])
    for word in words:
        name, eq, value = word.partition("=")
        if name in ("--region", "--grid") and not eq:
            value = next(words, "")
        if name == "--region" and value == "US" and not region:
            region = True
        elif name == "--grid" and value in NOTES and not grid_source:
            grid_source = value
        elif word == "--json" and not as_json:
            as_json = True
        else:
            return None
    return grid_source if as_json else None     # --region defaults to US


def answer(args: list[str]) -> bool:
    """Print the shipped JSON document and return True when it answers ``args``."""
    t0 = time.perf_counter()
    grid_source = _request(args)
    if grid_source is None:
        return False
    from geo.grid import summary
    from geo.settings import Settings

    settings = Settings()
    grid_source = grid_source or settings.grid_source
    doc = summary.read(grid_source, settings)
    if doc is None:
        return False
    doc["hosting"]["seconds"] = round(time.perf_counter() - t0, 2)
    doc["grid_note"] = NOTES[grid_source].format(share=settings.assumed_utilisation)
    click.echo(json.dumps(doc))
    return True
