"""The ranked-site columns, declared once as data in ``geo/schemas/sites.csv``.

One row per output column (the product GIS users build on), in the order the exports write
them. Every list of site columns in geo-rank is derived from the table here: the pipeline's
column order, the inputs each stage needs, the numeric and text columns, the map popup, the
terminal table, the data dictionary written into every export and ``docs/columns.md``.

Fields of the table
-------------------
column
    Name, with its unit in the name where it has one.
type
    ``str``, ``float``, ``int`` or ``bool``.
unit
    Unit of the values (empty: none).
stage
    The pipeline stage that writes the column (:data:`STAGES` names its function).
read_by
    Stages that need the column as an input (space separated); they refuse a frame
    without it, naming the stage to run first.
minimum
    Smallest valid value of an input; a stage refuses rows below it (empty: no check).
nullable
    Whether the column may hold nulls (unknown values).
export
    Written to ``RankResult.sites`` and the exports (``false``: used by the stages only).
popup, terminal
    Position in the map popup and the terminal table (empty: not shown; numbered in tens
    so that a new row fits between two).
terminal_label, terminal_format
    Header and value format of the terminal table: a :meth:`str.format` of the value alone
    (``{:,.0f}``; a precision cuts text, ``{:.26}``), no width or alignment: the table
    (:mod:`geo.cli.tables`) sizes its columns, numbers right and text left.
description
    One line for the data dictionary.

Adding a column is one row here plus the code that computes it in its stage; run
``python -m geo.columns`` to regenerate ``docs/columns.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from geo import tiers
from geo.errors import LayerValidationError

__all__ = ["STAGES", "SiteColumn", "dictionary", "markdown", "names", "order", "table"]

#: The stages that write site columns, by the name the table uses, and their function.
STAGES = {
    "candidates": "geo.candidates.generate",
    "join": "geo.join.enrich",
    "sovereignty": "geo.sovereignty.tag",
    "costs": "geo.costs.estimate",
    "score": "geo.score.rank",
    "portfolio": "geo.portfolio.shares_limit_with",
}
TYPES = ("str", "float", "int", "bool")
TABLE = Path(__file__).resolve().parent / "schemas" / "sites.csv"
DOC = Path("docs") / "columns.md"
_FIELDS = ("column", "type", "unit", "stage", "read_by", "minimum", "nullable", "export",
           "popup", "terminal", "terminal_label", "terminal_format", "description")


@dataclass(frozen=True)
class SiteColumn:
    """One ranked-site column (one row of the table; fields in the module docstring)."""

    name: str
    type: str
    unit: str
    stage: str
    read_by: tuple[str, ...]
    minimum: float | None
    nullable: bool
    export: bool
    popup: int | None
    terminal: int | None
    terminal_label: str
    terminal_format: str
    description: str


_active: list[Path] = [TABLE]


def table() -> tuple[SiteColumn, ...]:
    """Every site column, in output order (read once per table file and version: a file
    changed since it was read is read again)."""
    path = _active[-1]
    try:
        stat = path.stat()
    except OSError:
        return _read(path)  # the one-line error
    return _read_once(path, stat.st_mtime_ns, stat.st_size)


@cache
def _read_once(path: Path, mtime_ns: int, size: int) -> tuple[SiteColumn, ...]:
    """:func:`_read`, once per table file and version (the map's popup asks for a
    column's label about a thousand times a run: 3 ms a read)."""
    return _read(path)


@contextlib.contextmanager
def use_table(path: str | Path) -> Iterator[tuple[SiteColumn, ...]]:
    """Use another table for the duration of the block (tests: a toy column)."""
    _active.append(Path(path).resolve())
    try:
        yield table()
    finally:
        _active.pop()


def names(*, stage: str | None = None, read_by: str | None = None, type: str | None = None,
          ) -> tuple[str, ...]:
    """Column names in table order, optionally only those a stage writes, reads or of a type.

    Examples
    --------
    >>> names(stage="candidates")
    ('site_id', 'site_name', 'candidate_kind', 'existing_site', 'existing_mw')
    """
    return tuple(c.name for c in table()
                 if (stage is None or c.stage == stage)
                 and (read_by is None or read_by in c.read_by)
                 and (type is None or c.type == type))


def by_name() -> dict[str, SiteColumn]:
    return {c.name: c for c in table()}


def minimums() -> dict[str, float]:
    """The columns with a smallest valid value (inputs below it are refused)."""
    return {c.name: c.minimum for c in table() if c.minimum is not None}


def popup() -> tuple[str, ...]:
    """The map popup's rows, in order."""
    return tuple(c.name for c in sorted((c for c in table() if c.popup is not None),
                                        key=lambda c: c.popup or 0))


#: Name endings that repeat the unit (the label shows the unit in brackets instead).
_UNIT_ENDINGS = ("_musd_per_year", "_usd_per_acre", "_usd_per_mwh", "_musd", "_months",
                 "_mw", "_km", "_kv")


#: Names whose words alone would read oddly (the unit is added as for every column).
_LABELS = {"hydro_mw_within_100km": "hydro_within_100_km_mw", "backbone_km":
           "backbone_distance_km", "gas_field_km": "gas_field_distance_km",
           "nearest_hydro_km": "nearest_hydro_distance_km", "limiting_line_id":
           "N-0_limiting_line_id", "firm_limiting_line_id": "N-1_limiting_line_id",
           "firm_outage_line_id": "N-1_outage_line_id", "firm_mw": "firm_N-1_mw",
           "hosting_mw": "hosting_N-0_mw"}


def label(name: str) -> str:
    """A column's name as a person reads it, with its unit: ``hosting_mw`` -> "hosting N-0
    (MW)", ``cost_of_power_musd`` -> "cost of power (million USD)" (the map popup).

    >>> label("tie_distance_km"), label("hydro_mw_within_100km"), label("transfer_from_eu")
    ('tie distance (km)', 'hydro within 100 km (MW)', 'data from EU')
    """
    col = by_name().get(name)
    unit = col.unit if col is not None else ""
    if name.startswith("transfer_from_"):
        return f"data from {name.rsplit('_', 1)[1].upper()}"
    name = _LABELS.get(name, name)
    stem = name
    for ending in _UNIT_ENDINGS:
        if unit and stem.endswith(ending):
            stem = stem[: -len(ending)]
            break
    stem = stem.replace("_", " ").replace("poi ", "POI ").replace(" iso3", " (ISO 3)")
    return f"{stem} ({unit})" if unit else stem


def terminal() -> tuple[tuple[str, str, str], ...]:
    """The terminal table: (header, column, format spec) per column, in order."""
    shown = sorted((c for c in table() if c.terminal is not None), key=lambda c: c.terminal or 0)
    return tuple((c.terminal_label, c.name, c.terminal_format) for c in shown)


def order(columns: Iterable[Any], geometry: str = "geometry") -> list[Any]:
    """Columns in output order: the table's (exported ones only), then any others as given.

    Other columns (for example the user's own attributes from a sites file) keep their
    order after the table's; ``geometry`` goes last.
    """
    given = list(columns)
    known = by_name()
    first = [c.name for c in table() if c.export and c.name in given]
    rest = [c for c in given if c not in known and c != geometry]
    return first + rest + ([geometry] if geometry in given else [])


def missing(columns: Iterable[Any], stage: str) -> str | None:
    """What a frame lacks for ``stage``: ``None``, or one line naming the stages to run.

    Examples
    --------
    >>> missing(["site_id"], "costs")  # doctest: +ELLIPSIS
    'missing column(s) poi_sub_id, poi_voltage_kv, ... (run geo.join.enrich first)'
    """
    have = set(columns)
    lacking = [c for c in table() if stage in c.read_by and c.name not in have]
    if not lacking:
        return None
    parts = []
    for writer in dict.fromkeys(c.stage for c in lacking):
        cols = ", ".join(c.name for c in lacking if c.stage == writer)
        parts.append(f"{cols} (run {STAGES[writer]} first)")
    return "missing column(s) " + "; ".join(parts)


def dictionary(columns: Iterable[Any]) -> list[dict[str, Any]]:
    """The data dictionary of a written table: one entry per column, in the given order.

    Columns not in the table (the user's own) are described as such.
    """
    known = by_name()
    out: list[dict[str, Any]] = []
    for name in columns:
        col = known.get(str(name))
        if col is None:
            out.append({"name": str(name), "description": "not a geo-rank column "
                        "(kept from the input)"})
            continue
        out.append({"name": col.name, "type": col.type, "unit": col.unit or None,
                    "nullable": col.nullable, "written_by": STAGES[col.stage],
                    "description": col.description})
    return out


def markdown() -> str:
    """``docs/columns.md``: the table as a page for people."""
    lines = [
        "# Ranked-site columns",
        "",
        "Generated from `geo/schemas/sites.csv` by `python -m geo.columns`; do not edit by hand.",
        "Every export carries the same dictionary (GeoJSON `metadata.columns`, the GeoPackage",
        "`metadata` table and `gpkg_data_columns`, GeoParquet file metadata, the CSV's",
        "`.provenance.json` sidecar).",
        "",
        "To add a site column: add one row to `geo/schemas/sites.csv` (its type, unit, the stage",
        "that writes it, the stages that read it, whether it may be null, its place in the map",
        "popup and the terminal table) and compute it in that stage; then run",
        "`python -m geo.columns`. The pipeline's column order, the inputs each stage checks,",
        "the popup, the terminal table and the data dictionary follow from the row.",
        "",
        "| column | type | unit | nullable | written by | description |",
        "|---|---|---|---|---|---|",
    ]
    for c in table():
        if not c.export:
            continue
        cells = (f"`{c.name}`", c.type, c.unit, "yes" if c.nullable else "no",
                 f"`{STAGES[c.stage]}`", _markdown_text(c.description))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "A CSV export has `lat` and `lon` (WGS84) where the other formats have the "
              "point geometry.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m geo.columns [--check] [PATH]``: write (or check) ``docs/columns.md``."""
    parser = argparse.ArgumentParser(prog="python -m geo.columns", description=main.__doc__)
    parser.add_argument("path", nargs="?", default=str(DOC), help="default: %(default)s")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the file differs from the table instead of writing it")
    args = parser.parse_args(argv)
    path = Path(args.path)
    text = markdown()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            sys.stderr.write(f"{path} is out of date; run python -m geo.columns\n")
            return 1
        return 0
    path.write_text(text, encoding="utf-8", newline="\n")
    return 0


@cache
def _expand(description: str) -> str:
    """``{tiers}`` in a description becomes the tier rules of :mod:`geo.tiers` (one
    definition for the legend, the docs, the table and the reasons)."""
    rules = "; ".join(f"{t} {text}" for t, text in tiers.definitions().items())
    return description.replace("{tiers}", f"{rules} (tier_months {tiers.DEFAULT_MONTHS[0]:g} / "
                               f"{tiers.DEFAULT_MONTHS[1]:g} / {tiers.DEFAULT_MONTHS[2]:g})")


def _read(path: Path) -> tuple[SiteColumn, ...]:
    """Read and check a table; every problem is collected into one error."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise LayerValidationError(f"site column table {path}: {exc}") from exc
    problems: list[str] = []
    out: list[SiteColumn] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        where = f"line {line} ({row.get('column')})"
        if set(row) != set(_FIELDS):
            problems.append(f"{where}: the header must be {','.join(_FIELDS)}")
            break
        name = row["column"].strip()
        if not name.isidentifier() or name in seen:
            problems.append(f"{where}: column names must be unique identifiers")
        seen.add(name)
        if row["type"] not in TYPES:
            problems.append(f"{where}: type must be one of {', '.join(TYPES)}")
        read_by = tuple(row["read_by"].split())
        for stage in (row["stage"], *read_by):
            if stage not in STAGES:
                problems.append(f"{where}: unknown stage {stage!r}; use {', '.join(STAGES)}")
        try:
            col = SiteColumn(
                name=name, type=row["type"], unit=row["unit"], stage=row["stage"],
                read_by=read_by, minimum=_number(row["minimum"], float),
                nullable=_flag(row["nullable"]), export=_flag(row["export"]),
                popup=_number(row["popup"], int), terminal=_number(row["terminal"], int),
                terminal_label=row["terminal_label"], terminal_format=row["terminal_format"],
                description=_expand(row["description"].strip()))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if (col.popup is not None or col.terminal is not None) and not col.export:
            problems.append(f"{where}: a column shown in the popup or terminal must be exported")
        if col.terminal is not None and not (col.terminal_label and col.terminal_format):
            problems.append(f"{where}: a terminal column needs terminal_label and "
                            "terminal_format")
        if not col.description:
            problems.append(f"{where}: describe the column")
        out.append(col)
    if problems:
        raise LayerValidationError(f"site column table {path}: " + "; ".join(problems))
    return tuple(out)


def _markdown_text(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return text == "true"


def _number(text: str, kind: type) -> Any:
    return kind(text) if text.strip() else None


if __name__ == "__main__":
    raise SystemExit(main())
