"""Regions geo-rank knows: the contiguous US, each of its states, and any country.

Countries are ISO 3166-1 alpha-2 codes (``NO``, ``ET``) of the embedded countries layer
(``data/world/countries.parquet``); the embedded grid covers the US only, so a country other
than the US needs the user's own grid layers (see :mod:`layers.byo`).
"""

from __future__ import annotations

import re
from functools import cache

from layers.errors import RegionError

#: The 48 contiguous states and the District of Columbia (ISO 3166-2).
CONTIGUOUS_US: tuple[str, ...] = (
    "US-AL", "US-AZ", "US-AR", "US-CA", "US-CO", "US-CT", "US-DE", "US-DC", "US-FL", "US-GA",
    "US-ID", "US-IL", "US-IN", "US-IA", "US-KS", "US-KY", "US-LA", "US-ME", "US-MD", "US-MA",
    "US-MI", "US-MN", "US-MS", "US-MO", "US-MT", "US-NE", "US-NV", "US-NH", "US-NJ", "US-NM",
    "US-NY", "US-NC", "US-ND", "US-OH", "US-OK", "US-OR", "US-PA", "US-RI", "US-SC", "US-SD",
    "US-TN", "US-TX", "US-UT", "US-VT", "US-VA", "US-WA", "US-WV", "US-WI", "US-WY",
)

REGIONS: tuple[str, ...] = ("US", *CONTIGUOUS_US)


def parse(region: str) -> tuple[str, tuple[str, ...]]:
    """Return the canonical region code and the subdivision codes it covers.

    >>> parse("us-tx")
    ('US-TX', ('US-TX',))
    >>> parse("US")[1][:2]
    ('US-AL', 'US-AZ')
    >>> parse("no")
    ('NO', ())
    """
    code = region.strip().upper()
    if code == "US":
        return code, CONTIGUOUS_US
    if code in CONTIGUOUS_US:
        return code, (code,)
    if re.fullmatch(r"[A-Z]{2}", code) and code in _alpha2():
        return code, ()
    raise RegionError(
        f"unknown region {region!r}; valid regions: {', '.join(REGIONS)}, or an ISO 3166-1 "
        "alpha-2 country code such as NO or ET (the embedded grid covers the contiguous US; "
        "elsewhere pass your own --substations and --lines)"
    )


@cache
def _alpha2() -> frozenset[str]:
    """ISO alpha-2 codes of the embedded countries layer (those with an alpha-3 code too)."""
    import pandas as pd  # only for a country code: US regions never read the file

    from layers.paths import data_dir

    table = pd.read_parquet(data_dir() / "world" / "countries.parquet",
                            columns=["iso_a2", "iso_a3"]).dropna()
    return frozenset(table["iso_a2"].str.upper())
