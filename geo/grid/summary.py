"""The shipped ``geo-rank grid --region US --json`` document, printed without the engine.

On the embedded US data with the default grid settings, ``geo-rank grid --region US --json``
prints a summary of the shipped metrics table (:mod:`geo.grid.shipped`). Building that
document means loading the layers and building the graph (about 2 CPU s) only to read a
table that is already on disk, so :mod:`geo.grid.shipped_build` also writes the document
itself to ``grid_summary.json`` next to the table, and the command prints it (with its own
``seconds``) when the run would have read the shipped table anyway.

The file carries its key: :data:`~geo.grid.shipped.MODEL_VERSION`, the grid settings
(``json_schema_extra=GRID``) and the SHA-256 of each file the document was computed from
(the grid's layers and the shipped table). Any other model version, default or file is a
miss, and the command takes the full path. This module imports neither pandas nor the engine.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.grid.shipped import FOLDERS, METRICS_NAME, MODEL_VERSION
from layers.paths import data_dir

if TYPE_CHECKING:
    from geo.settings import Settings

#: The shipped document's file name, in each grid's folder (:data:`~geo.grid.shipped.FOLDERS`).
SUMMARY_NAME = "grid_summary.json"
#: The files of a grid's folder the document depends on: the layers the command loads for the
#: graph and the hosting, and the shipped table it reads. A change to any is a miss.
INPUT_NAMES = ("substations.parquet", "lines.parquet", "plants.parquet", "base_case.csv",
               METRICS_NAME)


def path(grid_source: str) -> Path:
    """Where the shipped document of an embedded grid lives (it may be absent)."""
    return data_dir() / FOLDERS[grid_source] / SUMMARY_NAME


def key(grid_source: str, settings: Settings) -> dict[str, Any]:
    """What the document was computed from: model version, grid settings, input files."""
    from geo.settings import keyed

    values = settings.as_dict()
    token = json.dumps({k: values[k] for k in keyed("grid")}, sort_keys=True, default=str)
    folder = data_dir() / FOLDERS[grid_source]
    files = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
             for name in INPUT_NAMES if (folder / name).is_file()}
    return {"model_version": MODEL_VERSION, "grid_source": grid_source,
            "grid_settings": json.loads(token), "files": files}


def write(doc: dict[str, Any], grid_source: str, settings: Settings) -> Path:
    """Write ``doc`` (the ``--json`` document less ``grid_note``) with its key (stable bytes)."""
    from layers.atomic import atomic_path

    where = path(grid_source)
    text = json.dumps({"key": key(grid_source, settings), "json": doc}, indent=1) + "\n"
    with atomic_path(where) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return where


def read(grid_source: str, settings: Settings) -> dict[str, Any] | None:
    """The shipped document when its key is this run's, else None (absent, unreadable or
    computed from other files, settings or model)."""
    where = path(grid_source)
    try:
        stored = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key(grid_source, settings):
        return None
    doc = stored.get("json")
    return doc if isinstance(doc, dict) else None
