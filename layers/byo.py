"""Bring your own data: user files that replace the embedded layers of a region.

:func:`user_layers` reads the files given (or found in a folder) through
:mod:`layers.adapters`, fills unknown substation voltages from the lines that end at them,
and returns validated layers with their provenance and the adapters' quality reports.
:func:`layers.load` calls it; the grid (:func:`geo.grid.build`) does the snapping.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from layers import adapters, kinds
from layers.adapters import _common
from layers.errors import DataSourceError, LayerValidationError

log = logging.getLogger(__name__)

#: Unknown substation voltages are filled from line ends within this distance (km).
FILL_KM = 1.0

_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet", ".csv", ".xlsx",
             ".tif", ".tiff"}
_RASTER = {".tif", ".tiff", ".vrt"}

@dataclass
class UserLayers:
    """What :func:`user_layers` found."""

    frames: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    land_raster: Path | None = None


def scan_dir(folder: str | Path) -> dict[str, Path]:
    """Kind -> file for the files of ``folder``, by file name (see the README).

    A file belongs to the first kind of ``layers/kinds.csv`` one of whose ``file_words``
    its name holds (:func:`layers.kinds.kind_of_file`). An OSM file (``*.osm.json``, or
    JSON that looks like OSM power data) named for no kind serves every kind the OSM
    adapter gives (substations, lines, plants). Two files for one kind are an error.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataSourceError(f"--layers-dir {folder}: not a folder")
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in _SUFFIXES or path.name.startswith("."):
            continue
        kind = kinds.kind_of_file(path.name)
        if kind is not None:
            found.setdefault(kind, []).append(path)
        elif path.suffix.lower() in (".json", ".geojson") and adapters.detect_file(path) == "osm":
            for k in adapters.SOURCE_KINDS["osm"]:
                found.setdefault(k, []).append(path)
    plants = found.get("plants", [])
    if len(plants) == 2 and {adapters.detect_file(p) for p in plants} == {"eia860"}:
        found["plants"] = plants[:1]  # the EIA-860 pair: the adapter finds the other one
    clash = {k: v for k, v in found.items() if len(v) > 1}
    if clash:
        raise DataSourceError(
            f"--layers-dir {folder}: several files for one layer: " + "; ".join(
                f"{k}: {', '.join(p.name for p in v)}" for k, v in clash.items())
            + "; pass the one you mean with "
            + "/".join(k.flag for k in kinds.user_kinds() if k.flag))
    return {k: v[0] for k, v in found.items()}


def _formats(source_format: str | dict[str, str] | None) -> dict[str, str | None]:
    names = [k.name for k in kinds.user_kinds()]
    if isinstance(source_format, dict):
        unknown = sorted(set(source_format) - {*names, "*"})
        if unknown:
            raise LayerValidationError(f"--source-format: unknown layer(s) {', '.join(unknown)}")
        return {k: source_format.get(k, source_format.get("*")) for k in names}
    return dict.fromkeys(names, source_format)


def _source(path: Path, fmt: str, report: dict[str, Any]) -> dict[str, str]:
    notes = [f"{k} {v}" for k, v in report.items()
             if isinstance(v, int | float) and not isinstance(v, bool) and v]
    return {"kind": "", "path": str(path), "source": f"user file ({fmt})", "format": fmt,
            "licence": "as supplied by the user", "vintage": "", "status": "user",
            "note": ", ".join(notes)}


def user_layers(files: Mapping[str, str | Path | None] | None = None, *,
                layers_dir: str | Path | None = None,
                source_format: str | dict[str, str] | None = None,
                column_map: dict[str, str] | None = None,
                merge_km: float = adapters.MERGE_KM) -> UserLayers:
    """Read the user's layer files (explicit paths win over ``layers_dir``).

    ``files`` are keyed by layer kind (``{"substations": path}``); the kinds a user may
    supply are those of ``layers/kinds.csv`` whose role is not ``boundary``.

    Returns
    -------
    UserLayers
        Validated frames by kind, ``sources`` entries (path, detected format, counts),
        the adapters' ``reports`` and a land-price raster path.
    """
    files = files or {}
    allowed = {k.name for k in kinds.user_kinds()}
    unknown = sorted(set(files) - allowed)
    if unknown:
        raise LayerValidationError(f"no user file can be given for {', '.join(unknown)}; "
                                   f"layer kinds: {', '.join(sorted(allowed))}")
    paths: dict[str, Path] = {k: Path(p) for k, p in scan_dir(layers_dir).items()} \
        if layers_dir is not None else {}
    paths.update({k: Path(v) for k, v in files.items() if v is not None})
    formats = _formats(source_format)
    out = UserLayers()
    converted: dict[str, adapters.Converted] = {}
    for kind, path in paths.items():
        if not path.exists():
            raise DataSourceError(f"{kinds.get(kind).option} {path}: no such file; "
                                  "check the path")
        if kind == "land_prices" and path.suffix.lower() in _RASTER:
            out.land_raster = path
            out.sources["land_raster"] = {**_source(path, "raster", {}), "kind": "land_raster"}
            continue
        converted[kind] = adapters.convert(path, kind, formats[kind], column_map,
                                           merge_km=merge_km)
    if "substations" in converted and "lines" in converted:
        conv = converted["substations"]
        conv.frame, n = _common.fill_substation_voltages(conv.frame, converted["lines"].frame,
                                                         FILL_KM)
        conv.report["voltage_from_lines"] = n
    for kind, conv in converted.items():
        frame = adapters.finish(conv, kind, str(paths[kind]))
        out.frames[kind] = frame
        out.reports[kind] = {"file": str(paths[kind]), "format": conv.source_format,
                             "count": len(frame), **conv.report}
        out.sources[kind] = {**_source(paths[kind], conv.source_format, conv.report),
                             "kind": kind}
    log.info("user layers: %s", ", ".join(f"{k} ({v['format']})" for k, v in out.reports.items()))
    return out
