"""Source adapters: read a public source's file into a canonical layer.

Each adapter maps a source's own fields to the canonical columns (``layers/schemas``) and
fills what the source leaves unknown by a stated rule, marking it estimated; it does not
build topology (:func:`geo.grid.build` snaps line ends). The format is recognised from the
columns (:func:`detect`) or given (``source_format``, the CLI's ``--source-format``).

========== =========================================== ===============================
format     source                                      kinds
========== =========================================== ===============================
hifld      HIFLD transmission lines / substations       lines, substations
osm        OpenStreetMap power (Overpass JSON, GeoJSON) substations, lines, plants
eia860     EIA-860 plant + generator workbooks (.xlsx)  plants
eia_plants EIA "Power Plants in the U.S."               plants
eia_shale  EIA Tight Oil and Shale Gas Plays            gas_fields
generic    any file with canonical or mapped columns    any kind
========== =========================================== ===============================

:func:`read` returns a validated layer whose ``attrs`` hold ``source_format``, the
adapter's ``report`` (estimates, merges, rows left out and why) and ``extras`` (such as
``dc_lines``). ``layers/adapters/README.md`` documents every mapping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layers import kinds
from layers.adapters import eia, generic, hifld, osm, shale
from layers.errors import LayerValidationError
from layers.read import check_file, read_file
from layers.schema import validate

log = logging.getLogger(__name__)

#: Format name -> layer kinds its adapter provides (``generic`` is not listed: it gives
#: every kind a user may supply, see :func:`formats`).
SOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "hifld": ("lines", "substations"),
    "osm": ("substations", "lines", "plants"),
    "eia860": ("plants",),
    "eia_plants": ("plants",),
    "eia_shale": ("gas_fields",),
}


def formats() -> dict[str, tuple[str, ...]]:
    """Format name -> layer kinds it provides, ``generic`` last (every user kind of
    ``layers/kinds.csv``)."""
    return {**SOURCE_KINDS, "generic": tuple(k.name for k in kinds.user_kinds())}

#: Substations within this distance merge (PyPSA-Eur's 500 m), km.
MERGE_KM = 0.5


@dataclass
class Converted:
    """An adapter's output before validation."""

    frame: gpd.GeoDataFrame
    source_format: str
    report: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


def detect(gdf: pd.DataFrame) -> str:
    """The source format of a table, recognised by its columns.

    >>> detect(pd.DataFrame(columns=["ID", "VOLTAGE", "VOLT_CLASS", "SUB_1", "SUB_2"]))
    'hifld'
    >>> detect(pd.DataFrame(columns=["sub_id", "voltage_kv"]))
    'generic'
    """
    upper = {str(c).upper() for c in gdf.columns}
    if upper >= hifld.LINE_FIELDS or upper >= hifld.SUBSTATION_FIELDS:
        return "hifld"
    if upper >= shale.FIELDS:
        return "eia_shale"
    if eia.is_power_plants(upper):
        return "eia_plants"
    if "PLANT CODE" in upper:
        return "eia860"
    if "POWER" in upper or "TAGS" in upper:
        return "osm"
    return "generic"


def _head(path: Path, size: int = 64 * 1024) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read(size)


def detect_file(path: str | Path) -> str:
    """The source format of a file: by its suffix and first bytes, then by its columns."""
    path = check_file(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "eia860"
    if suffix in (".json", ".geojson", ".osm") and path.is_file() and osm.looks_like(
            _head(path)):
        return "osm"
    return detect(read_file(path).head(0))


def _hifld_kind(gdf: pd.DataFrame, kind: str, path: Path) -> None:
    upper = {str(c).upper() for c in gdf.columns}
    fields = hifld.LINE_FIELDS if kind == "lines" else hifld.SUBSTATION_FIELDS
    if not fields <= upper:
        raise LayerValidationError(f"{path}: a HIFLD {kind} file needs {', '.join(sorted(fields))};"
                                   " is this the other HIFLD layer?")


def convert(path: str | Path, kind: str, source_format: str | None = None,
            column_map: dict[str, str] | None = None, *, merge_km: float = MERGE_KM
            ) -> Converted:
    """Read ``path`` as a ``kind`` layer in canonical columns, not yet validated.

    Raises
    ------
    LayerValidationError
        An unknown format, or a format that does not give ``kind``.
    """
    path = Path(path)
    fmt = source_format or detect_file(path)
    known = formats()
    if fmt not in known:
        raise LayerValidationError(f"--source-format {fmt!r}: use one of {', '.join(known)}")
    if kind not in known[fmt]:
        raise LayerValidationError(
            f"{path}: a {fmt} file gives {', '.join(known[fmt])}, not {kind}; check the flag "
            "or pass --source-format")
    if fmt == "osm":
        frame, report, extras = osm.read(path, kind, merge_km)
        return Converted(frame, fmt, report, extras)
    if fmt == "eia860":
        frame, report = eia.eia860(path)
        return Converted(frame, fmt, report)
    gdf = generic.apply_map(read_file(path), column_map)
    if fmt == "hifld":
        _hifld_kind(gdf, kind, path)
        convert_fn = hifld.lines if kind == "lines" else hifld.substations
        frame, report, extras = convert_fn(gdf, merge_km)
        return Converted(frame, fmt, report, extras)
    if fmt == "eia_plants":
        frame, report = eia.power_plants(gdf)
        return Converted(frame, fmt, report)
    if fmt == "eia_shale":
        frame, report = shale.gas_fields(gdf)
        return Converted(frame, fmt, report)
    frame, report = generic.convert(gdf, kind)
    return Converted(frame, fmt, report)


def finish(conv: Converted, kind: str, source: str) -> gpd.GeoDataFrame:
    """Leave out (and report) rows whose required value the adapter could not fill, then
    validate against the schema; ``attrs`` carry the format, report and extras."""
    frame = conv.frame
    if kind == "substations" and "voltage_kv" in frame:
        unknown = pd.to_numeric(frame["voltage_kv"], errors="coerce").isna()
        if unknown.any() and not unknown.all():
            conv.report["substations_without_voltage"] = int(unknown.sum())
            conv.report["left_out_without_voltage"] = (
                frame.loc[unknown, "sub_id"].astype(str).tolist()[:50])
            frame = frame[~unknown]
    if len(frame) == 0:
        raise LayerValidationError(f"{source}: no {kind} found in this {conv.source_format} file"
                                   + (f" ({conv.report})" if conv.report else ""))
    out = validate(frame, kind, source=source)
    out.attrs = {"source_format": conv.source_format, "report": conv.report,
                 "extras": conv.extras}
    log.info("%s: %d %s (%s)", source, len(out), kind, conv.source_format)
    return out


def read(path: str | Path, kind: str, source_format: str | None = None,
         column_map: dict[str, str] | None = None, *, merge_km: float = MERGE_KM
         ) -> gpd.GeoDataFrame:
    """Read any supported source file as a validated canonical ``kind`` layer.

    Parameters
    ----------
    path
        The file (GeoJSON, shapefile, GeoPackage, GeoParquet, CSV, Overpass JSON, .xlsx).
    kind
        A layer kind a user may supply (``layers/kinds.csv``), e.g. ``substations``.
    source_format
        One of :func:`formats`; default: :func:`detect_file`.
    column_map
        Canonical name -> source column, applied before the adapter.
    merge_km
        Substations closer than this merge (HIFLD duplicates, OSM areas and nodes).

    Examples
    --------
    A HIFLD-format file (the test fixture, path relative to the repository):

    >>> subs = read("tests/data/hifld/substations.geojson", "substations")
    >>> subs.attrs["source_format"], len(subs), float(subs["voltage_kv"].max())
    ('hifld', 6, 500.0)
    """
    return finish(convert(path, kind, source_format, column_map, merge_km=merge_km), kind,
                  str(path))


__all__ = ["MERGE_KM", "SOURCE_KINDS", "Converted", "convert", "detect", "detect_file", "finish",
           "formats", "read"]
