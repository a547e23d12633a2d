"""Layer kinds as data: one row of ``layers/kinds.csv`` per kind.

Every list of kinds in the package (the schemas, :class:`layers.Layers`, the files a user may
bring, the ``--layers-dir`` file-name words, the CLI flags, the catalog of embedded files) is
derived from this table, so adding a kind is one row plus its schema CSV.

Columns of the table:

``kind``
    The name (``substations``); the attribute and key of :class:`layers.Layers`.
``schema``
    Its schema CSV (attribute, type, unit, required, minimum, maximum, description),
    relative to the table's folder.
``title``
    What it is, in words (used in help texts).
``flag``
    The CLI option for the user's file (``--substations``); empty for none of its own.
``file_words``
    Words (space-separated) that mark a file in ``--layers-dir`` as this kind; the first
    row with a matching word wins, so more specific kinds come first.
``embedded``
    Where the embedded data covers: ``always`` (every region), ``us`` (regions in the US;
    outside it the layer is empty unless the user brings one) or empty (nothing embedded).
``role``
    ``grid`` (the network: outside the embedded cover the user must bring it),
    ``attached`` (rows sit at the embedded grid's substations: empty when the user brings
    a grid), ``boundary`` (region outlines: not replaced by user files) or empty (a
    context layer the user may replace).
``path``, ``source``, ``licence``, ``vintage``, ``status``, ``note``
    The catalog entry of the embedded file (:mod:`layers.catalog`), path relative to the
    data folder.

To add a kind: write its schema CSV (``layers/schemas/<kind>.csv``) and add its row. It then
has a frame in every :class:`layers.Layers` (empty, with its columns, until a user brings a
file through its flag, ``--layers-dir`` or ``layers.load(<kind>=path)``), a line in
``geo-rank layers`` and a place in provenance. Embedded data also needs the build step that
writes ``data/<path>`` (:mod:`layers.build`) and the catalog columns. ``tests/test_kinds.py``
shows a toy kind doing all this.

:data:`TABLE` is read at call time, so tests can point it at a table of their own.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from layers.errors import GeoRankError, LayerValidationError

#: The table of layer kinds.
TABLE = Path(__file__).resolve().with_name("kinds.csv")

_COLUMNS = ("kind", "schema", "title", "flag", "file_words", "embedded", "role", "path",
            "source", "licence", "vintage", "status", "note")
_EMBEDDED = ("always", "us", "")
_ROLES = ("grid", "attached", "boundary", "")


@dataclass(frozen=True)
class Kind:
    """One layer kind (a row of the table)."""

    name: str
    schema_path: Path
    title: str
    flag: str
    file_words: tuple[str, ...]
    embedded: str
    role: str
    path: str
    source: str
    licence: str
    vintage: str
    status: str
    note: str

    @property
    def user(self) -> bool:
        """Whether a user's file may replace (or supply) this layer."""
        return self.role != "boundary"

    @property
    def option(self) -> str:
        """How a user names the file: the CLI flag, else the keyword of :func:`layers.load`."""
        return self.flag or self.name


@cache
def _read(path: Path, mtime_ns: int) -> tuple[Kind, ...]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise GeoRankError(f"{path}: layer-kind table lacks column(s) {', '.join(missing)}")
        rows = list(reader)
    out = tuple(Kind(
        name=r["kind"].strip(), schema_path=path.parent / r["schema"].strip(),
        title=r["title"].strip(), flag=r["flag"].strip(),
        file_words=tuple(r["file_words"].lower().split()), embedded=r["embedded"].strip(),
        role=r["role"].strip(), path=r["path"].strip(), source=r["source"],
        licence=r["licence"], vintage=r["vintage"], status=r["status"], note=r["note"],
    ) for r in rows)
    _check(path, out)
    return out


def _check(path: Path, table: tuple[Kind, ...]) -> None:
    """Refuse a table that would make a kind ambiguous; list every problem at once."""
    problems: list[str] = []
    names = [k.name for k in table]
    flags = [k.flag for k in table if k.flag]
    for label, values in (("kind", names), ("flag", flags)):
        dup = sorted({v for v in values if values.count(v) > 1})
        if dup:
            problems.append(f"duplicate {label} {', '.join(dup)}")
    for k in table:
        if not k.name.isidentifier():
            problems.append(f"kind {k.name!r} is not a Python identifier")
        if k.flag and not k.flag.startswith("--"):
            problems.append(f"{k.name}: flag {k.flag!r} must start with --")
        if k.embedded not in _EMBEDDED:
            problems.append(f"{k.name}: embedded {k.embedded!r} is not one of always, us, ''")
        if k.role not in _ROLES:
            problems.append(f"{k.name}: role {k.role!r} is not one of grid, attached, boundary, ''")
        if bool(k.embedded) != bool(k.path):
            problems.append(f"{k.name}: an embedded kind needs a path, and only it")
        if not k.schema_path.is_file():
            problems.append(f"{k.name}: no schema file {k.schema_path}")
        if (k.flag or k.file_words) and not k.user:
            problems.append(f"{k.name}: a boundary kind takes no user file (flag, file_words)")
    if problems:
        raise GeoRankError(f"{path}: " + "; ".join(problems))


def table() -> tuple[Kind, ...]:
    """Every layer kind, in table order (re-read when :data:`TABLE` or the file changes)."""
    path = Path(TABLE)
    return _read(path, path.stat().st_mtime_ns)


def names() -> tuple[str, ...]:
    """Names of every kind, in table order.

    >>> names()[:3]
    ('substations', 'lines', 'plants')
    """
    return tuple(k.name for k in table())


def get(name: str) -> Kind:
    """The kind called ``name``; an unknown name is an error listing the valid ones."""
    for k in table():
        if k.name == name:
            return k
    raise LayerValidationError(f"unknown layer kind {name!r}; valid kinds: {', '.join(names())}")


def user_kinds() -> tuple[Kind, ...]:
    """Kinds a user's file may supply, in table order."""
    return tuple(k for k in table() if k.user)


def with_role(role: str) -> tuple[str, ...]:
    """Names of the kinds with ``role`` (``grid``: the layers a user must bring outside
    the embedded cover).

    >>> with_role("grid")
    ('substations', 'lines')
    """
    return tuple(k.name for k in table() if k.role == role)


def kind_of_file(name: str) -> str | None:
    """The kind a file name marks by its words (``--layers-dir``), or None.

    >>> kind_of_file("HIFLD_Transmission_Lines.geojson"), kind_of_file("notes.csv")
    ('lines', None)
    """
    lower = name.lower()
    return next((k.name for k in table() if any(w in lower for w in k.file_words)), None)
