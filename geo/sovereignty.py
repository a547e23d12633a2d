"""Data-sovereignty tags: the bloc, data law and localization of each site, and where
personal data from a named regime may be processed (``--data-from``).

The country facts are ``world/sovereignty.csv`` (the layers' ``sovereignty`` table); the
transfer rules are ``world/transfer_rules.csv``: for each origin (``EU``, ``UK``, ``CN``,
``IN``, ``US``) an ordered list of destinations (``iso:``, ``bloc:``, ``eu_adequacy:`` or
``*``) with the result ``allowed`` / ``conditional`` / ``not allowed``; the first rule that
matches a site decides. Both are built by ``layers/build/sovereignty.py`` from cited tables
(see ``data/SOURCES.md``). A reading of the law, not legal advice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geo._arrays import codes_of, expand
from geo.errors import DataSourceError, SettingsError
from layers.paths import data_dir

log = logging.getLogger(__name__)

#: The transfer rules, under the data folder.
RULES_PATH = "world/transfer_rules.csv"
#: The reasons fragment of the ``--data-from`` tags (one column whatever the origins).
NOTE_COLUMN = "transfer_note"
UNKNOWN = "unknown"
_TABLE_COLUMNS = {"sovereignty_bloc": "bloc", "data_regime": "data_regime",
                  "data_law": "data_law", "localization": "localization",
                  "eu_adequacy": "eu_adequacy"}
_DESTINATION_KEYS = {"iso": "country_iso3", "bloc": "sovereignty_bloc",
                     "eu_adequacy": "eu_adequacy"}


def tag(sites: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Add ``sovereignty_bloc``, ``data_regime``, ``data_law``, ``localization``,
    ``eu_adequacy``.

    Sites are keyed by ``country_iso3`` (set by :func:`geo.join.enrich`); a site outside
    every country, or in a country missing from the table, gets ``unknown`` (so does a
    column the table lacks, e.g. ``data_law`` in an older table).
    """
    t = table.set_index("iso_a3")
    # looked up once per distinct country, then spread over the rows
    codes, key = codes_of(sites["country_iso3"])
    out = sites.copy(deep=False)  # new columns only: the site columns are not copied
    for new, old in _TABLE_COLUMNS.items():
        if old not in t.columns:
            out[new] = UNKNOWN
            continue
        vals = t[old].reindex(key).to_numpy(dtype=object)
        out[new] = expand(np.where(pd.isna(vals), UNKNOWN, vals), codes)
    return out


def blocs(table: pd.DataFrame) -> list[str]:
    """The blocs the table knows, sorted."""
    return sorted(table["bloc"].dropna().unique())


def check_bloc(bloc: str, table: pd.DataFrame) -> str:
    """The table's spelling of ``bloc`` (``--sovereignty``), case-insensitive.

    Raises
    ------
    SettingsError
        For a bloc the table does not know, listing the named blocs.
    """
    known = blocs(table)
    match = {b.upper(): b for b in known}
    if bloc.upper() not in match:
        raise SettingsError(
            f"--sovereignty {bloc!r}: unknown bloc; use one of "
            f"{', '.join(b for b in known if not (len(b) == 3 and b.isupper()))} "
            "or a country's ISO alpha-3 code")
    return match[bloc.upper()]


def keep_bloc(sites: pd.DataFrame, bloc: str, table: pd.DataFrame) -> pd.DataFrame:
    """Only the sites whose data would stay inside ``bloc`` (``--sovereignty``)."""
    return sites[sites["sovereignty_bloc"] == check_bloc(bloc, table)]


def load_rules(path: str | Path | None = None) -> pd.DataFrame:
    """The transfer rules (default: the embedded ``world/transfer_rules.csv``), in order."""
    path = Path(path) if path is not None else data_dir() / RULES_PATH
    if not path.is_file():
        raise DataSourceError(f"{path}: no such file; rebuild with `python -m layers.build`")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def origins(rules: pd.DataFrame) -> list[str]:
    """The regimes the rules know (``--data-from`` values), sorted."""
    return sorted(rules["origin"].unique())


def check_origins(data_from: str | Sequence[str] | None, rules: pd.DataFrame) -> list[str]:
    """The rules' spelling of each ``--data-from`` regime, case-insensitive, in order.

    Raises
    ------
    SettingsError
        For a regime the rules do not know, naming the valid ones.
    """
    asked = [data_from] if isinstance(data_from, str) else list(data_from or ())
    known = {o.upper(): o for o in origins(rules)}
    out: list[str] = []
    for regime in asked:
        if str(regime).strip().upper() not in known:
            raise SettingsError(f"--data-from {regime!r}: unknown regime; use one of "
                                f"{', '.join(origins(rules))}")
        name = known[str(regime).strip().upper()]
        if name not in out:
            out.append(name)
    return out


def transfer_column(origin: str) -> str:
    """The column of one origin's tag: ``transfer_from_eu`` for ``EU``."""
    return f"transfer_from_{origin.lower()}"


def _matches(sites: pd.DataFrame, destination: str) -> np.ndarray:
    if destination == "*":
        return np.ones(len(sites), dtype=bool)
    kind, _, values = destination.partition(":")
    column = sites[_DESTINATION_KEYS[kind]].to_numpy(dtype=object)
    return np.isin(column, [v.strip() for v in values.split(";")])


def tag_transfers(sites: pd.DataFrame, regimes: Sequence[str],
                  rules: pd.DataFrame) -> pd.DataFrame:
    """Add ``transfer_from_<origin>`` per regime and the reasons fragment ``transfer_note``.

    Each site gets the result of the first rule of the origin that matches it (by
    ``country_iso3``, ``sovereignty_bloc`` or ``eu_adequacy``, as tagged by :func:`tag`);
    a site with no country gets ``unknown``. ``regimes`` are checked with
    :func:`check_origins` (any case).

    Examples
    --------
    >>> rules = load_rules()
    >>> sites = pd.DataFrame({"country_iso3": ["NOR", "IND"],
    ...                       "sovereignty_bloc": ["EU/EEA", "IND"],
    ...                       "eu_adequacy": ["member", "no"]})
    >>> tag_transfers(sites, ["EU"], rules)["transfer_from_eu"].tolist()
    ['allowed', 'conditional']
    """
    regimes = check_origins(regimes, rules)
    out = sites.copy()
    note = np.full(len(out), "", dtype=object)
    no_country = pd.isna(out["country_iso3"].to_numpy(dtype=object))
    for origin in regimes:
        result = np.full(len(out), UNKNOWN, dtype=object)
        why = np.full(len(out), "the site lies in no country of the table", dtype=object)
        open_ = ~no_country
        for rule in rules[rules["origin"] == origin].itertuples(index=False):
            hit = open_ & _matches(out, rule.destination)
            result[hit], why[hit] = rule.result, rule.conditions
            open_ &= ~hit
        out[transfer_column(origin)] = result
        fragment = origin + " data " + result + ": " + why
        note = np.where(note == "", fragment, note + "; " + fragment)
    out[NOTE_COLUMN] = note
    return out
