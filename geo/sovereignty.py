"""Data-sovereignty tags: the bloc, data regime and localization level of each site."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geo.errors import SettingsError

log = logging.getLogger(__name__)


def tag(sites: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Add ``sovereignty_bloc``, ``data_regime``, ``localization``, ``eu_adequacy``.

    Sites are keyed by ``country_iso3`` (set by :func:`geo.join.enrich`); a site outside
    every country, or in a country missing from the table, gets ``unknown``.
    """
    t = table.set_index("iso_a3")
    key = sites["country_iso3"].to_numpy(dtype=object)
    out = sites.copy()
    cols = {"sovereignty_bloc": "bloc", "data_regime": "data_regime",
            "localization": "localization", "eu_adequacy": "eu_adequacy"}
    for new, old in cols.items():
        vals = t[old].reindex(key).to_numpy(dtype=object)
        out[new] = np.where(pd.isna(vals), "unknown", vals)
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
