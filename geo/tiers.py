"""The power tiers, defined once: every place that describes a tier (the map legend, the
terminal table's key, ``docs/columns.md``, the reasons) takes its words from here, so
they cannot drift from the rule :func:`geo.score.power_tier` applies.

A tier comes from the chosen power path's months to the full load and whether it waits for
network upgrades: A at most ``tier_months[0]`` months without network upgrades, B at most
``tier_months[1]``, C at most ``tier_months[2]``, D the rest (or no path).

>>> definitions((24, 36, 60))["A"]
'the full load in at most 24 months without network upgrades'
>>> short((24, 36, 60))["D"]
'over 60 months or no path'
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DEFAULT_MONTHS", "MONTHS_ATOL", "TIERS", "definitions", "key_line", "short"]

#: Tiers, best first.
TIERS = ("A", "B", "C", "D")
#: The default ``tier_months`` (geo.settings.Settings.tier_months; tests check they agree).
DEFAULT_MONTHS = (24.0, 36.0, 60.0)
#: Months within this of a tier's bound are inside it. The months are sums of settings and
#: of shares of the grid's figures (upgrades: ``1 - firm / load``), so a POI whose firm MW
#: is exactly a round rating lands exactly on a bound, and the last bits of the grid's
#: solves must not decide the tier (about 3 seconds: far below any lead time's precision).
MONTHS_ATOL = 1e-6


def definitions(tier_months: Sequence[float] = DEFAULT_MONTHS) -> dict[str, str]:
    """Each tier's rule in words (the legend, ``docs/columns.md``)."""
    a, b, c = (float(m) for m in tier_months)
    return {"A": f"the full load in at most {a:g} months without network upgrades",
            "B": f"the full load in at most {b:g} months",
            "C": f"the full load in at most {c:g} months",
            "D": f"more than {c:g} months, or no path delivers the load"}


def short(tier_months: Sequence[float] = DEFAULT_MONTHS) -> dict[str, str]:
    """Each tier's rule in a few words (the reasons, the terminal key)."""
    a, b, c = (float(m) for m in tier_months)
    return {"A": f"≤ {a:g} months, no network upgrades", "B": f"≤ {b:g} months",
            "C": f"≤ {c:g} months", "D": f"over {c:g} months or no path"}


def key_line(tier_months: Sequence[float] = DEFAULT_MONTHS) -> str:
    """The terminal table's key: "tiers by months to the full load: A ≤ 24 months, ..."."""
    return "tiers by months to the full load: " + "; ".join(
        f"{t} {text}" for t, text in short(tier_months).items())
