"""Regions geo-rank knows: the contiguous US and each of its states (ISO 3166 codes)."""

from __future__ import annotations

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
    """
    code = region.strip().upper()
    if code == "US":
        return code, CONTIGUOUS_US
    if code in CONTIGUOUS_US:
        return code, (code,)
    raise RegionError(
        f"unknown region {region!r}; valid regions: {', '.join(REGIONS)} "
        "(the embedded data covers the contiguous US)"
    )
