"""Outputs as Leaflet maps: the site map (:mod:`geo.web.page`) and its parts.

``layers`` (context layers: grid, plants, gas, land), ``legend``, ``style``, ``surface``
(the national surface of H3 cells) and ``assets`` (the vendored Leaflet, inlined).
"""

from geo.web.page import (
    GENERATOR,
    SITE_CLASS,
    TIER_COLOURS,
    TIER_LABELS,
    UNKNOWN_COLOUR,
    check_target,
    check_tiles,
    escape,
    render,
)

__all__ = ["GENERATOR", "SITE_CLASS", "TIER_COLOURS", "TIER_LABELS", "UNKNOWN_COLOUR",
           "check_target", "check_tiles", "escape", "render"]
