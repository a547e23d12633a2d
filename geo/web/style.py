"""What every part of the map shares: colours, tier labels, and safe text and JSON.

A leaf module (of geo it imports only :mod:`geo.tiers`, itself a leaf),
so :mod:`geo.web`, :mod:`geo.web.layers` and
:mod:`geo.web.legend` all import it and not each other.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from geo import tiers

#: Marker colour per power tier (ColorBrewer RdYlBu/RdYlGn, colour-blind safe order).
TIER_COLOURS = {"A": "#1a9850", "B": "#4575b4", "C": "#fdae61", "D": "#d73027"}
UNKNOWN_COLOUR = "#969696"
#: The legend's line per tier, with the default ``tier_months`` (:func:`tier_labels`).
TIER_LABELS = {t: f"{t}: {text}" for t, text in tiers.definitions().items()}


def tier_labels(tier_months: Sequence[float] = tiers.DEFAULT_MONTHS) -> dict[str, str]:
    """The legend's line per tier for a run's ``tier_months`` (words: :mod:`geo.tiers`)."""
    return {t: f"{t}: {text}" for t, text in tiers.definitions(tier_months).items()}
#: CSS class of every site marker (the browser test counts them).
SITE_CLASS = "geo-rank-site"
#: Line voltage classes: (lowest kV, label, colour). ColorBrewer YlOrRd-like, dark = high.
VOLTAGE_CLASSES = (
    (0.0, "below 230 kV", "#9e9ac8"),
    (230.0, "230–344 kV", "#3182bd"),
    (345.0, "345–499 kV", "#e6550d"),
    (500.0, "500 kV and above", "#a50f15"),
)
HYDRO_COLOUR = "#1f78b4"
GAS_COLOUR = "#ff7f00"
BOUNDARY_COLOUR = "#222222"
#: Land price classes: ColorBrewer YlGn, five quantile classes.
LAND_COLOURS = ("#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837")

#: Characters that mean something in a JS template literal or a Jinja template.
_JS_TEMPLATE_ESCAPES = str.maketrans(
    {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}
)


def escape(value: Any) -> str:
    """HTML-escape text from data, safe inside folium's JavaScript template literals.

    Examples
    --------
    >>> escape("<b>${x}</b>")
    '&lt;b&gt;&#36;&#123;x&#125;&lt;/b&gt;'
    """
    return html.escape(str(value), quote=True).translate(_JS_TEMPLATE_ESCAPES)


def js_json(value: Any) -> str:
    """JSON for a ``<script>`` block: no ``<``, ``>`` or line separators left raw."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
