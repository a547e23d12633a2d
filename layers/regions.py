"""Regions geo-rank knows: the contiguous US and each of its states, any country, and the
Canadian provinces and territories.

Countries are ISO 3166-1 alpha-2 codes (``NO``, ``ET``) of the embedded countries layer
(``data/world/countries.parquet``); the embedded OpenStreetMap grid covers the countries of
:data:`layers.grids.OSM_COUNTRIES`, elsewhere the user gives their own grid layers (see
:mod:`layers.byo`). Canadian provinces and territories are ISO 3166-2 codes (``CA-AB``),
outlined by the embedded ``data/ca/subdivisions.parquet`` (:data:`SUBDIVISION_FILES`).
"""

from __future__ import annotations

import difflib
import logging
import re
from functools import cache

from layers.errors import RegionError

log = logging.getLogger(__name__)

#: The 48 contiguous states and the District of Columbia (ISO 3166-2).
CONTIGUOUS_US: tuple[str, ...] = (
    "US-AL", "US-AZ", "US-AR", "US-CA", "US-CO", "US-CT", "US-DE", "US-DC", "US-FL", "US-GA",
    "US-ID", "US-IL", "US-IN", "US-IA", "US-KS", "US-KY", "US-LA", "US-ME", "US-MD", "US-MA",
    "US-MI", "US-MN", "US-MS", "US-MO", "US-MT", "US-NE", "US-NV", "US-NH", "US-NJ", "US-NM",
    "US-NY", "US-NC", "US-ND", "US-OH", "US-OK", "US-OR", "US-PA", "US-RI", "US-SC", "US-SD",
    "US-TN", "US-TX", "US-UT", "US-VT", "US-VA", "US-WA", "US-WV", "US-WI", "US-WY",
)

#: The 10 provinces and 3 territories of Canada (ISO 3166-2).
CANADA: tuple[str, ...] = (
    "CA-AB", "CA-BC", "CA-MB", "CA-NB", "CA-NL", "CA-NS", "CA-NT", "CA-NU", "CA-ON", "CA-PE",
    "CA-QC", "CA-SK", "CA-YT",
)
#: Country (ISO 3166-1 alpha-2) -> its subdivisions a region may be.
SUBDIVISIONS: dict[str, tuple[str, ...]] = {"US": CONTIGUOUS_US, "CA": CANADA}
#: Country -> the embedded file (relative to the data folder) outlining its subdivisions.
SUBDIVISION_FILES: dict[str, str] = {"US": "us/subdivisions.parquet",
                                     "CA": "ca/subdivisions.parquet"}

REGIONS: tuple[str, ...] = ("US", *CONTIGUOUS_US)
#: Country codes already told apart from the US state of the same letters (once a run).
_warned: set[str] = set()


def parse(region: str) -> tuple[str, tuple[str, ...]]:
    """Return the canonical region code and the subdivision codes it covers.

    >>> parse("us-tx")
    ('US-TX', ('US-TX',))
    >>> parse("US")[1][:2]
    ('US-AL', 'US-AZ')
    >>> parse("no")
    ('NO', ())
    >>> parse("ca-ab")
    ('CA-AB', ('CA-AB',))
    """
    code = region.strip().upper()
    if code == "US":
        return code, CONTIGUOUS_US
    if code in CONTIGUOUS_US or code in CANADA:
        return code, (code,)
    if code[:3] == "CA-":
        close = difflib.get_close_matches(code, CANADA, n=1, cutoff=0.6)
        raise RegionError(
            f"unknown region {region!r}" + (f"; did you mean {close[0]}?" if close else "")
            + f"; the Canadian provinces and territories are {', '.join(CANADA)} "
            "(ISO 3166-2), or CA for the whole country")
    if re.fullmatch(r"[A-Z]{2}", code) and code in _alpha2():
        if f"US-{code}" in CONTIGUOUS_US and code not in _warned:  # CA: Canada, not California
            _warned.add(code)
            log.warning("region %s is a country code (ISO 3166-1); for the US state use US-%s",
                        code, code)
        return code, ()
    guess = suggest(code)
    raise RegionError(
        f"unknown region {region!r}" + (f"; did you mean {guess}?" if guess else "")
        + f"; valid regions: {', '.join(REGIONS)}, a Canadian province or territory "
        "(CA-AB ... CA-YT), or an ISO 3166-1 alpha-2 country code such as NO or ET (the "
        "embedded grid covers the US, CA, MX, NO, ET, BT and MY; elsewhere pass your own "
        "--substations and --lines)"
    )


def suggest(code: str) -> str | None:
    """The known region closest to an unknown ``code`` (a state without ``US-``, else the
    nearest spelling), or None.

    >>> suggest("TX"), suggest("US-CAL"), suggest("USTX")
    ('US-TX', 'US-CA', 'US-TX')
    """
    code = code.strip().upper().replace("_", "-")
    for candidate in (f"US-{code}", f"US-{code[2:]}" if code.startswith("US") else ""):
        if candidate in CONTIGUOUS_US:
            return candidate
    try:
        countries = sorted(_alpha2())
    except OSError:  # no countries layer: the US regions only
        countries = []
    close = difflib.get_close_matches(code, [*REGIONS, *countries], n=1, cutoff=0.6)
    return close[0] if close else None


@cache
def _alpha2() -> frozenset[str]:
    """ISO alpha-2 codes of the embedded countries layer (those with an alpha-3 code too)."""
    import pandas as pd  # only for a country code: US regions never read the file

    from layers.paths import data_dir

    table = pd.read_parquet(data_dir() / "world" / "countries.parquet",
                            columns=["iso_a2", "iso_a3"]).dropna()
    return frozenset(table["iso_a2"].str.upper())
