"""Read GridKit / SciGRID OpenStreetMap extracts and infer the voltages they leave out.

Both extracts have the same columns: vertices ``v_id, lon, lat, typ, voltage, ...`` and
links ``l_id, v_id_1, v_id_2, voltage, cables, wires, frequency, ..., length_m``; GridKit's
are comma-separated, SciGRID's ``#``-separated with text quoted by ``'`` (a name may hold
a ``#``). Voltages are in volts, several values ``;``-separated (the tags of the OSM ways
GridKit joined into one link).

Rules (also in ``data/SOURCES.md``):

- a link's AC voltages are its distinct voltage values of at least 1 kV, highest first;
  a link whose every ``frequency`` value is 0 is DC and leaves the AC network; when a
  link lists as many frequencies as voltages, the voltages paired with frequency 0 are
  DC circuits and are left out (counted);
- circuits of one voltage: when ``cables`` lists as many values as ``voltage``, the
  smallest cable count at that voltage's positions, divided by 3 (three cables per AC
  circuit, the joined ways are in series, so the smallest bounds the link); when the link
  has one voltage, the smallest of its cable counts / 3; otherwise 1. ``wires`` is the
  number of conductors per phase bundle in OSM, not a circuit count, so it is not used.
  At least 1, at most 24;
- voltage inference for AC links without a voltage, repeated to a fixed point (each round
  reads the state of the previous one, so the order of links does not matter):
  ``inferred_vertices`` when the voltage tags of the two end vertices share exactly one
  value, or when one end's tag is a single value and the other end knows nothing (no tag,
  no link of known voltage); ``inferred_neighbours`` when the voltages known at the two
  ends (vertex tag and the voltages of the other links there) share exactly one value, or
  when one end is a junction (``joint``/``merge``) whose known voltages are one value and
  the other end knows nothing (the line runs on through the junction). Links still without
  a voltage are ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from layers.errors import DataSourceError, LayerValidationError
from layers.sphere import great_circle_km

VERTEX_COLUMNS = ("v_id", "lon", "lat", "typ", "voltage")
LINK_COLUMNS = ("l_id", "v_id_1", "v_id_2", "voltage", "cables", "frequency", "length_m")
JUNCTION_TYPES = frozenset({"joint", "merge"})
SUBSTATION_TYPES = frozenset({"substation", "sub_station", "station", "plant"})
MAX_CIRCUITS = 24

#: voltage_source values, most certain first.
SOURCES = ("osm", "inferred_vertices", "inferred_neighbours", "unknown")


def read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read one extract CSV as text; raise naming the file and the first missing column."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.readline()
        sep = "#" if head.count("#") > head.count(",") else ","
        table = pd.read_csv(path, sep=sep, quotechar="'" if sep == "#" else '"', dtype=str,
                            keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataSourceError(f"{path}: cannot be read as a GridKit extract ({exc})") from None
    table.columns = [c.strip() for c in table.columns]
    for col in columns:
        if col not in table:
            raise LayerValidationError(
                f"{path}: column {col!r} is missing (columns found: {', '.join(table.columns)})")
    for col in table.columns:
        table[col] = table[col].str.strip()
    return table


def _ids(values: pd.Series) -> str:
    shown = ", ".join(str(v) for v in values.iloc[:3])
    return shown + (f" and {len(values) - 3} more" if len(values) > 3 else "")


def _number(table: pd.DataFrame, col: str, path: Path, key: str, *, integer: bool = False,
            required: bool = True, lo: float | None = None, hi: float | None = None) -> pd.Series:
    """A numeric column; empty cells are NaN unless ``required``; bad values raise."""
    raw = table[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() & ((raw != "") | required)
    if integer:
        bad |= num.notna() & (num != num.round())
    if lo is not None:
        bad |= num < lo
    if hi is not None:
        bad |= num > hi
    if bad.any():
        raise LayerValidationError(
            f"{path}: column {col!r} has missing or unreadable values at {key} "
            f"{_ids(table.loc[bad, key])} (e.g. {raw[bad].iloc[0]!r})")
    return num.astype("int64") if integer else num.astype(float)


def _lists(table: pd.DataFrame, col: str, path: Path, key: str) -> list[list[float]]:
    """``;``-separated numbers of a column, one list per row (empty for an empty cell)."""
    if col not in table:
        return [[] for _ in range(len(table))]
    tok = table[col].str.split(";").explode().str.strip()
    tok = tok[tok.notna() & (tok != "")]
    val = pd.to_numeric(tok, errors="coerce")
    bad = val.isna()
    if bad.any():
        rows = table.loc[sorted(set(tok.index[bad])), key]
        raise LayerValidationError(
            f"{path}: column {col!r} has unparseable values at {key} {_ids(rows)} "
            f"(e.g. {tok[bad].iloc[0]!r}; expected numbers separated by ';')")
    grouped = val.groupby(level=0).agg(list)
    return [grouped.get(i, []) for i in table.index]


def read_vertices(path: Path) -> pd.DataFrame:
    """Vertices: ``v_id, lon, lat, typ, junction, tag_kv`` (frozenset of kV), ``name``."""
    t = read_table(path, VERTEX_COLUMNS)
    out = pd.DataFrame({
        "v_id": _number(t, "v_id", path, "v_id", integer=True),
        "lon": _number(t, "lon", path, "v_id", lo=-180, hi=180),
        "lat": _number(t, "lat", path, "v_id", lo=-90, hi=90),
        "typ": t["typ"].str.lower(),
        "name": pd.Series([n or None for n in t["name"]], index=t.index, dtype=object)
        if "name" in t else None,
    })
    unknown = ~out["typ"].isin(JUNCTION_TYPES | SUBSTATION_TYPES)
    if unknown.any():
        raise LayerValidationError(
            f"{path}: column 'typ' has unknown vertex types at v_id {_ids(out.v_id[unknown])} "
            f"(e.g. {out.typ[unknown].iloc[0]!r}; expected one of "
            f"{', '.join(sorted(JUNCTION_TYPES | SUBSTATION_TYPES))})")
    if out["v_id"].duplicated().any():
        raise LayerValidationError(
            f"{path}: column 'v_id' repeats {_ids(out.v_id[out.v_id.duplicated()])}")
    out["junction"] = out["typ"].isin(JUNCTION_TYPES)
    out["tag_kv"] = [frozenset(v / 1000.0 for v in vs if v >= 1000.0)
                     for vs in _lists(t, "voltage", path, "v_id")]
    return out.sort_values("v_id", kind="stable").reset_index(drop=True)


@dataclass
class Link:
    """One GridKit link with its AC voltages (kV -> circuits) after the rules above."""

    l_id: int
    a: int
    b: int
    length_km: float
    kv: dict[float, int] = field(default_factory=dict)
    source: str = "unknown"
    dc: bool = False
    dc_circuits: int = 0
    cable_circuits: int = 1


def _circuits(cables: list[float]) -> int:
    return int(min(max(1, int(min(cables)) // 3), MAX_CIRCUITS)) if cables else 1


def classify(volts: list[float], cables: list[float], freqs: list[float]
             ) -> tuple[dict[float, int], bool, int]:
    """AC voltages (kV -> circuits), whether the link is DC, and DC circuits left out.

    >>> classify([230000, 230000, 115000], [6, 3, 3], [60])
    ({230.0: 1, 115.0: 1}, False, 0)
    >>> classify([345000], [6], [])
    ({345.0: 2}, False, 0)
    >>> classify([450000], [2], [0])
    ({}, True, 0)
    """
    if freqs and all(f == 0 for f in freqs):
        return {}, True, 0
    keep = [i for i, v in enumerate(volts) if v >= 1000.0]
    dc_circuits = 0
    if len(freqs) == len(volts):
        dc_circuits = sum(1 for i in keep if freqs[i] == 0)
        keep = [i for i in keep if freqs[i] != 0]
    kvs = sorted({volts[i] / 1000.0 for i in keep}, reverse=True)
    out: dict[float, int] = {}
    for kv in kvs:
        if len(cables) == len(volts):
            out[kv] = _circuits([cables[i] for i in keep if volts[i] / 1000.0 == kv])
        elif len(kvs) == 1:
            out[kv] = _circuits(cables)
        else:
            out[kv] = 1
    return out, False, dc_circuits


def read_links(path: Path, vertices: pd.DataFrame) -> list[Link]:
    """Links between known vertices, classified (no inference yet), sorted by ``l_id``."""
    t = read_table(path, LINK_COLUMNS)
    l_id = _number(t, "l_id", path, "l_id", integer=True)
    t["l_id"] = l_id.astype(str)
    a = _number(t, "v_id_1", path, "l_id", integer=True)
    b = _number(t, "v_id_2", path, "l_id", integer=True)
    length = _number(t, "length_m", path, "l_id", required=False, lo=0)
    known = set(vertices["v_id"])
    orphan = ~(a.isin(known) & b.isin(known))
    if orphan.any():
        raise LayerValidationError(
            f"{path}: columns 'v_id_1'/'v_id_2' name vertices absent from the vertex file at "
            f"l_id {_ids(t.l_id[orphan])}")
    if l_id.duplicated().any():
        raise LayerValidationError(
            f"{path}: column 'l_id' repeats {_ids(t.l_id[l_id.duplicated()])}")
    volts = _lists(t, "voltage", path, "l_id")
    cables = _lists(t, "cables", path, "l_id")
    freqs = _lists(t, "frequency", path, "l_id")
    xy = vertices.set_index("v_id")[["lon", "lat"]]
    gc = great_circle_km(xy.loc[a].to_numpy(), xy.loc[b].to_numpy())
    links = []
    for i in range(len(t)):
        kv, dc, dcc = classify(volts[i], cables[i], freqs[i])
        km = length.iloc[i] / 1000.0 if np.isfinite(length.iloc[i]) else gc[i]
        links.append(Link(int(l_id.iloc[i]), int(a.iloc[i]), int(b.iloc[i]), float(km), kv,
                          "osm" if kv else "unknown", dc, dcc, _circuits(cables[i])))
    links = [lk for lk in links if lk.a != lk.b]  # a loop carries no flow
    return sorted(links, key=lambda lk: lk.l_id)


def infer_voltages(vertices: pd.DataFrame, links: list[Link], max_rounds: int = 10_000) -> int:
    """Fill ``kv``/``source`` of AC links without voltage (see module doc); return rounds."""
    tag = dict(zip(vertices["v_id"], vertices["tag_kv"], strict=True))
    junction = dict(zip(vertices["v_id"], vertices["junction"], strict=True))
    incident: dict[int, list[Link]] = {}
    for lk in links:
        if not lk.dc:
            incident.setdefault(lk.a, []).append(lk)
            incident.setdefault(lk.b, []).append(lk)
    todo = [lk for lk in links if not lk.dc and not lk.kv]
    rounds = 0
    while todo and rounds < max_rounds:
        rounds += 1
        seen = {v: frozenset(kv for lk in ls for kv in lk.kv) for v, ls in incident.items()}
        new: list[tuple[Link, float, str]] = []
        for lk in todo:
            ta, tb = tag[lk.a], tag[lk.b]
            both = ta & tb
            if len(both) == 1:
                new.append((lk, next(iter(both)), "inferred_vertices"))
                continue
            sa, sb = ta | seen[lk.a], tb | seen[lk.b]
            if (len(ta) == 1 and not sb) or (len(tb) == 1 and not sa):
                new.append((lk, next(iter(ta if len(ta) == 1 and not sb else tb)),
                            "inferred_vertices"))
                continue
            both = sa & sb
            if len(both) == 1:
                new.append((lk, next(iter(both)), "inferred_neighbours"))
            elif not sb and junction[lk.a] and len(sa) == 1:
                new.append((lk, next(iter(sa)), "inferred_neighbours"))
            elif not sa and junction[lk.b] and len(sb) == 1:
                new.append((lk, next(iter(sb)), "inferred_neighbours"))
        if not new:
            break
        for lk, kv, src in new:
            lk.kv, lk.source = {kv: lk.cable_circuits}, src
        todo = [lk for lk in todo if not lk.kv]
    return rounds
