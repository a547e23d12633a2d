"""What ``geo-rank rank`` prints: the table of the top sites (laid out by
:meth:`pandas.DataFrame.to_string`), its header lines and the portfolio listing.

Each shown column's header and value format come from ``geo/schemas/sites.csv``
(``terminal_label``, ``terminal_format``: a :meth:`str.format` of the value alone, such as
``{:,.0f}`` or ``{:.26}`` for text cut at 26 characters); pandas sizes the columns, numbers
right-aligned, text left-aligned. Every text cell is inert: control characters become "?"
and a leading =, +, -, @ gets a single quote (:func:`geo.io.output.neutralise`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from geo import columns, portfolio, secure
from geo.cli.headers import OSM_HEADER, SYNTHETIC_HEADER
from geo.io import output
from layers import grids

#: The first line of the table under --flexible (flexible_load).
FLEXIBLE_HEADER = ("load: flexible (--flexible): curtailed after an outage until upgrades make "
                   "it firm; months are judged on N-0 hosting, the supply column stays N-1")

#: The terminal column of the user's own site names (``site_name``), shown after the tier
#: when any site of the table came from the user's file (``candidate_kind == "file"``).
SITE_COLUMN = ("site", "site_name", "{:.22}")
#: The format of each ``--data-from`` answer (allowed / conditional / not allowed).
TRANSFER_FORMAT = "{}"
#: Control characters (C0, DEL, C1): a name must not move the cursor or recolour the screen.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def inert(value: Any) -> Any:
    """Text as a terminal and a spreadsheet pasted from it may show it: control characters
    (a terminal's escape sequences) become "?", and a leading =, +, -, @ gets a single
    quote (:func:`geo.io.output.neutralise`, OWASP CSV injection). Numbers unchanged.

    >>> inert("=1+1"), inert("\\x1b[31mRED"), inert(-5.0)
    ("'=1+1", '?[31mRED', -5.0)
    """
    if not isinstance(value, str):
        return value
    return output.neutralise(_CONTROL.sub("?", value) if _CONTROL.search(value) else value)


def cell(fmt: str, value: Any) -> str:
    """One value as the table shows it: "-" when missing, else ``fmt`` of the inert value
    (its plain text when ``fmt`` does not fit it).

    >>> cell("{:,.0f}", 12345.6), cell("{:,.0f}", float("nan")), cell("{:.5}", "@Sherman Road")
    ('12,346', '-', "'@She")
    """
    try:
        missing = value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: not a missing scalar
        missing = False
    if missing:
        return "-"
    try:
        return fmt.format(inert(value))
    except (ValueError, TypeError):
        return str(inert(value))


def text_table(rows: pd.DataFrame, shown: Sequence[tuple[str, str, str]],
               left: set[str]) -> str:
    """``rows`` as a terminal table: one column per (header, column, format) of ``shown``
    (a column ``rows`` lacks shows "-"), the columns named in ``left`` left-aligned,
    the others right-aligned; laid out by :meth:`pandas.DataFrame.to_string`."""
    cells = pd.DataFrame({col: ([cell(fmt, v) for v in rows[col]] if col in rows
                                else ["-"] * len(rows)) for _, col, fmt in shown},
                         index=range(len(rows)), dtype=object)
    headers = [header for header, _, _ in shown]
    if not len(rows):
        return " ".join(headers)
    formatters: dict[str | int, Any] = {}
    for i, (header, col, _) in enumerate(shown):
        if col in left:  # to_string right-aligns: a left column is padded to its width
            width = max(len(header), int(cells[col].str.len().max()))
            headers[i] = header.ljust(width)
            formatters[col] = lambda v, width=width: v.ljust(width)
    text = cells.to_string(index=False, header=headers, formatters=formatters)
    # a left-aligned last column would end in spaces
    return "\n".join(line.rstrip() for line in text.splitlines())


def own_sites(sites: pd.DataFrame) -> bool:
    """True when the sites came from the user's file (their names are worth showing)."""
    return "candidate_kind" in sites and bool((sites["candidate_kind"] == "file").any())


def site_label(row: Any) -> str:
    """How the terminal names a site: the user's name for a site of their file, else the
    POI's name, else the site id."""
    for col in (("site_name",) if row.get("candidate_kind") == "file" else ()) + (
            "poi_name", "site_id"):
        value = row.get(col)
        if isinstance(value, str) and value.strip():
            return str(inert(value))
    return str(row.get("site_id"))


def table(result: Any, limit: int, notes: Sequence[str] = ()) -> str:
    """The terminal table of the top sites of a :class:`geo.pipeline.RankResult` (the
    columns with a ``terminal`` position; the site's own name after the tier when the sites
    are the user's), under the grid line and the ``notes`` (the tiers' key, the N-1 secure*
    count)."""
    sites = result.sites.head(limit)
    shown: list[tuple[str, str, str]] = list(columns.terminal())
    if own_sites(sites):
        shown = [*shown[:2], SITE_COLUMN, *shown[2:]]
    # --data-from: each regime's answer (allowed / conditional / not allowed) at the end
    transfers = [col for col in result.sites.columns if col.startswith("transfer_from_")
                 and result.sites[col].notna().any()]
    shown += [(f"{col.rsplit('_', 1)[1].upper()} data", col, TRANSFER_FORMAT)
              for col in transfers]
    known = columns.by_name()
    left = {col for _, col, _ in shown if col not in known or known[col].type == "str"}
    rows = [*notes]
    provenance = getattr(result, "provenance", {})
    if provenance.get("synthetic_grid"):
        rows.insert(0, SYNTHETIC_HEADER)
    elif provenance.get("grid_source") == grids.OSM:
        share = provenance.get("settings", {}).get("assumed_utilisation", 0.5)
        rows.insert(0, OSM_HEADER.format(share=share))
    if provenance.get("settings", {}).get("flexible_load"):
        rows.insert(0, FLEXIBLE_HEADER)
    return "\n".join([*rows, text_table(sites, shown, left)])


def star_line(ranked: pd.DataFrame, shown: pd.DataFrame) -> str:
    """The terminal's line on "N-1 secure*" (how many of the shown and of all sites are
    secure only once a pre-existing overload is set aside), "" when none is."""
    def count(frame: pd.DataFrame) -> int:
        return int((frame["redundancy"] == secure.N1_SECURE_SET_ASIDE).sum()) \
            if "redundancy" in frame else 0

    top, every = count(shown), count(ranked)
    if not every:
        return ""
    return (f"{top:,} of the top {len(shown):,} ({every:,} of all {len(ranked):,}) are "
            f"{secure.STAR_NOTE}")


def _poi_label(row: Any) -> str:
    """" (POI NAME)" after a site of the user's file ("" when the site is its POI's)."""
    if row.get("candidate_kind") != "file":
        return ""
    name = row.get("poi_name")
    name = name if isinstance(name, str) and name.strip() else row.get("poi_sub_id")
    return f" (POI {inert(name)})" if isinstance(name, str) and name else " (no POI)"


def portfolio_lines(chosen: portfolio.Portfolio, asked: int, load_mw: float,
                    flexible: bool = False) -> str:
    """The portfolio for the terminal: each kept site, then the first sites passed over."""
    together, mw = (("hosted together (N-0: flexible loads)", "N-0") if flexible
                    else ("firm together", "firm"))
    joint = portfolio.joint_label(chosen.verified, flexible)
    if chosen.joint is not None:
        joint += f", {chosen.joint.describe()}"
    by_joint = portfolio.passed_by_joint(chosen)
    rows = [f"Portfolio: {len(chosen.sites)} of {asked} sites {together} at "
            f"{load_mw:,.0f} MW each (joint screen: {joint}; {by_joint} passed over by the "
            f"joint screen; {chosen.checks} hosting runs and joint screens)"]
    for _, r in chosen.sites.iterrows():
        rows.append(f"  {int(r['portfolio_rank']):>3}. #{int(r['rank'])} {site_label(r)}"
                    f"{_poi_label(r)}: {r['portfolio_remaining_mw']:,.0f} MW {mw} with "
                    "the others in")
    for _, r in chosen.passed_over.head(10).iterrows():
        rows.append(f"  passed over #{int(r['rank'])} {site_label(r)}{_poi_label(r)}: "
                    f"{r['portfolio_reason']}")
    if len(chosen.passed_over) > 10:
        rows.append(f"  ... {len(chosen.passed_over) - 10} more passed over (in the export)")
    return "\n".join(rows)
