"""Is a site's supply N-1 secure for its load? (the ``redundancy`` column of a ranked site)

A rank-time rule on the grid's firm hosting (:mod:`geo.grid.contingency` computes
``firm_mw``): the POI hosts the load after any screened outage (``firm_mw >= load``) at a
voltage that fits the load (``firm_min_poi_kv`` by ``firm_load_bands_mw``). Not to be
confused with :func:`geo.grid.redundancy`, the topological N+1/radial label of a substation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo._arrays import NONE
from geo.errors import SettingsError
from geo.load import covers
from geo.settings import Settings

#: ``redundancy`` of a ranked site: the POI hosts the load after any screened outage
#: (``firm_mw >= load``) at a voltage that fits the load; or not; or firm not computed.
N1_SECURE, N1_INSECURE = "N-1 secure", "not N-1 secure"
#: N-1 secure only because an overload the base case already has after an outage was set
#: aside (``firm_preexisting``, ``n1_preexisting = "exclude"``: NERC TPL-001-5.1 R2.7).
N1_SECURE_SET_ASIDE = "N-1 secure*"
#: The labels of an N-1 secure site.
SECURE_LABELS = (N1_SECURE, N1_SECURE_SET_ASIDE)
#: What the star means, said once where a table or a map shows the label.
STAR_NOTE = ("N-1 secure*: secure once an overload the base case already has after an outage "
             "is set aside (firm_preexisting; the planner's corrective action fixes it "
             "whatever the load)")


def voltage_fits(poi_kv: np.ndarray, load_mw: float, settings: Settings) -> np.ndarray:
    """True where a POI's voltage is high enough for ``load_mw`` (``firm_min_poi_kv`` by
    ``firm_load_bands_mw``: the highest band at or below the load applies; NaN fails).

    >>> voltage_fits(np.array([115.0, 138.0, 230.0]), 300.0, Settings()).tolist()
    [False, False, True]
    """
    bands, kv = settings.firm_load_bands_mw, settings.firm_min_poi_kv
    if len(bands) != len(kv):
        raise SettingsError("settings firm_load_bands_mw and firm_min_poi_kv must have the "
                            f"same length ({len(bands)} and {len(kv)})")
    need = 0.0
    for band, v in sorted(zip(bands, kv, strict=True)):
        if load_mw >= band:
            need = v
    volts = np.asarray(poi_kv, dtype=float)
    return np.isfinite(volts) & (volts >= need)


def secure(firm_mw: np.ndarray, poi_kv: np.ndarray, load_mw: float,
           settings: Settings) -> np.ndarray:
    """True where the POI is N-1 secure for ``load_mw`` (firm and voltage fit)."""
    return covers(firm_mw, load_mw) & voltage_fits(poi_kv, load_mw, settings)


def label(firm_mw: np.ndarray, poi_kv: np.ndarray, load_mw: float,
          settings: Settings, preexisting: np.ndarray | None = None) -> np.ndarray:
    """``N-1 secure``, ``N-1 secure*`` (secure where ``preexisting``: an overload the base
    case already has was set aside), ``not N-1 secure`` or None (firm not computed).

    >>> label(np.array([400.0, 400.0, 100.0, np.nan]), np.full(4, 345.0), 300.0, Settings(),
    ...       np.array([False, True, True, None])).tolist()
    ['N-1 secure', 'N-1 secure*', 'not N-1 secure', None]
    """
    firm = np.asarray(firm_mw, dtype=float)
    ok = secure(firm, poi_kv, load_mw, settings)
    starred = (np.zeros(len(firm), dtype=bool) if preexisting is None
               else pd.Series(np.asarray(preexisting, dtype=object)).eq(True).to_numpy())
    out = np.where(ok, np.where(starred, N1_SECURE_SET_ASIDE, N1_SECURE), N1_INSECURE)
    return np.where(np.isnan(firm), NONE, out).astype(object)
