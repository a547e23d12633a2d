"""The requested load: ``--load-mw`` checked once, and whether a site's POI hosts it.

"Hosts the load" and "hosts part of the load" are defined here and nowhere else; the
tiers (:mod:`geo.score`), the time to power (:mod:`geo.costs`) and ``serves_load``
(:mod:`geo.join`) all ask these functions.
"""

from __future__ import annotations

import math

import numpy as np

from geo._arrays import Columns, as_float, present
from geo.errors import SettingsError

__all__ = ["COVER_RTOL", "MAX_LOAD_MW", "check_load", "covers", "hosts_load", "hosts_share"]

#: Loads above this are refused as a typo (the largest announced campuses are ~5 GW).
MAX_LOAD_MW = 20_000.0
#: A hosting or firm figure within this share below a load still covers it. The DC screen's
#: figures carry rounding of up to about 1e-9 of their value (the order of the sparse
#: solves, docs/methods.md "Runs of POIs and worker processes"), and a POI whose limit is
#: exactly the load (a radial line rated 300 MW) must not fall on either side by its last
#: bits; a millionth is far below the precision of any rating.
COVER_RTOL = 1e-6


def covers(mw: np.ndarray, need_mw: float | np.ndarray) -> np.ndarray:
    """True where ``mw`` is at least ``need_mw`` within :data:`COVER_RTOL` (NaN: False).

    >>> covers(np.array([300.0, 300.0 - 1e-10, 299.0, np.nan]), 300.0).tolist()
    [True, True, False, False]
    """
    with np.errstate(invalid="ignore"):
        return np.asarray(mw, dtype=float) >= np.asarray(need_mw, dtype=float) * (1.0 - COVER_RTOL)


def check_load(load_mw: float) -> float:
    """Return ``load_mw`` (``--load-mw``) as a float: finite, above 0, at most 20 GW."""
    try:
        load = float(load_mw)
    except (TypeError, ValueError):
        raise SettingsError(
            f"--load-mw {load_mw!r}: give a number of megawatts, e.g. 300") from None
    if not math.isfinite(load) or load <= 0 or load > MAX_LOAD_MW:
        raise SettingsError(
            f"--load-mw {load_mw!r}: must be a number above 0 and at most {MAX_LOAD_MW:,.0f} MW")
    return load


def hosts_load(sites: Columns, load_mw: float) -> np.ndarray:
    """True where the site has a POI whose ``hosting_mw`` is at least the load.

    Examples
    --------
    >>> import numpy as np
    >>> sites = {"poi_sub_id": np.array(["a", "b", None], dtype=object),
    ...          "hosting_mw": np.array([300.0, 299.0, 900.0])}
    >>> hosts_load(sites, 300.0).tolist()
    [True, False, False]
    """
    return hosts_share(sites, load_mw, 1.0)


def hosts_share(sites: Columns, load_mw: float, fraction: float) -> np.ndarray:
    """True where the site has a POI whose ``hosting_mw`` is at least ``fraction * load``.

    ``fraction`` is ``partial_hosting_fraction`` for "hosts part of the load" (tier C, the
    upgrade time to power); unknown hosting hosts nothing.
    """
    return present(sites, "poi_sub_id") & covers(as_float(sites, "hosting_mw"),
                                                 fraction * load_mw)
