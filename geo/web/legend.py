"""The map's legend panel (tiers, voltage classes, hydro, gas, land) and its provenance,
and the page's CSS. Every piece of data in them goes through :func:`geo.web.style.escape`."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from geo import secure, tiers
from geo.web.style import (
    GAS_COLOUR,
    HYDRO_COLOUR,
    LAND_COLOURS,
    SITE_CLASS,
    TIER_COLOURS,
    UNKNOWN_COLOUR,
    VOLTAGE_CLASSES,
    escape,
    tier_labels,
)


def css(offline: bool) -> str:
    """Styles of the site markers (by tier) and the legend panel."""
    tiers = "".join(f".geo-rank-tier-{t}{{background:{c}}}" for t, c in TIER_COLOURS.items())
    return (
        "<style>"
        f".{SITE_CLASS}{{border-radius:50%;border:2px solid #fff;color:#fff;"
        "box-shadow:0 0 4px rgba(0,0,0,.65);font:bold 11px sans-serif;text-align:center;"
        "box-sizing:border-box}"
        ".geo-rank-cluster{background:rgba(70,70,70,.8);color:#fff;border-radius:3px;"
        "font:10px/18px sans-serif;text-align:center}"
        f"{tiers}.geo-rank-tier-none{{background:{UNKNOWN_COLOUR}}}"
        # bottom-left above Leaflet's scale bar (metric and imperial: ~50 px from the foot)
        ".geo-rank-legend{position:fixed;bottom:64px;left:12px;z-index:9999;max-width:330px;"
        "max-height:calc(100vh - 140px);overflow-y:auto;"
        "background:rgba(255,255,255,.93);padding:6px 8px;border-radius:4px;"
        "font:12px sans-serif;box-shadow:0 0 4px rgba(0,0,0,.3)}"
        ".geo-rank-legend .sw{display:inline-block;width:12px;height:12px;margin-right:5px;"
        "vertical-align:middle}"
        ".geo-rank-legend details div{max-height:180px;overflow:auto;color:#444}"
        + (".leaflet-container{background:#dce8f0}" if offline else "")
        + "</style>"
    )


def panel(heading: str, provenance: Mapping[str, Any], legend: Mapping[str, Any]) -> str:
    """The legend (tiers, voltage classes, hydro, gas, land) and the provenance panel."""
    def swatch(colour: str, label: str, shape: str = "border-radius:6px") -> str:
        return (f"<div><span class='sw' style='background:{colour};{shape}'></span>"
                f"{escape(label)}</div>")

    parts = [f"<div style='font-weight:bold'>{escape(heading)}</div>"]
    if provenance.get("synthetic_grid"):  # issue 15: say so where the ranking is shown
        parts.append("<div style='color:#a33'>grid: embedded synthetic test system (USA "
                     "TAMU); months and firm MW show the method, not the real grid</div>")
    if provenance.get("grid_source") == "osm-2016":
        share = provenance.get("settings", {}).get("assumed_utilisation", 0.5)
        parts.append("<div style='color:#a33'>grid: OpenStreetMap 2016 topology; voltages "
                     f"partly inferred, ratings estimated, lines assumed {share:.0%} "
                     "loaded</div>")
    if provenance.get("attribution"):  # ODbL 4.3: on every map of OSM-derived data
        parts.append(f"<div>{escape(provenance['attribution'])}</div>")
    if provenance.get("settings", {}).get("flexible_load"):
        parts.append("<div style='color:#a33'>load: flexible, curtailed after an outage until "
                     "upgrades make it firm; months judged on N-0 hosting</div>")
    months = (provenance.get("settings") or {}).get("tier_months") or tiers.DEFAULT_MONTHS
    labels = tier_labels(months)
    parts.append("<div style='margin-top:4px'>Tiers by months to the full load</div>")
    parts += [swatch(c, labels[t]) for t, c in TIER_COLOURS.items()]
    parts.append(swatch(UNKNOWN_COLOUR, "no tier"))
    if legend.get("secure_star"):
        parts.append(f"<div style='margin-top:4px'>{escape(secure.STAR_NOTE)}</div>")
    surface = legend.get("surface")
    if surface:
        sites, res, cells = surface
        parts.append(f"<div style='margin-top:4px'>Hexagons: the best tier of {sites:,} "
                     f"sites, merged into {cells:,} H3 res-{res} cells (every site is in the "
                     "export)</div>")
    if legend.get("lines"):
        parts.append("<div style='margin-top:4px'>Lines by voltage class</div>")
        parts += [swatch(c, label, "height:4px") for _, label, c in VOLTAGE_CLASSES]
    if legend.get("hydro"):
        parts.append(swatch(HYDRO_COLOUR, "hydro plant (area ∝ MW)", "border-radius:6px;"
                            "opacity:.6"))
    if legend.get("gas"):
        parts.append(swatch(GAS_COLOUR, "gas basin", "opacity:.4"))
    breaks = legend.get("land")
    if breaks:
        edges = ["", *[f"{b:,.0f}" for b in breaks], ""]
        land_labels = [f"{lo} – {hi}" if lo and hi else (f"≤ {hi}" if hi else f"> {lo}")
                       for lo, hi in itertools.pairwise(edges)]
        parts.append("<div style='margin-top:4px'>Land price, USD/acre (layer off at "
                     "first)</div>")
        parts += [swatch(LAND_COLOURS[i], label, "") for i, label in enumerate(land_labels)]
    parts.append(provenance_html(provenance))
    return f"<div class='geo-rank-legend'>{''.join(parts)}</div>"


def provenance_html(provenance: Mapping[str, Any]) -> str:
    line = (f"geo-rank {escape(provenance.get('version', '?'))} · "
            f"{escape(provenance.get('region', '?'))} · "
            f"{escape(provenance.get('generated_at', '?'))}")
    sources = provenance.get("data_sources") or {}
    items = []
    if isinstance(sources, Mapping):
        for kind, src in sources.items():
            if isinstance(src, Mapping):
                facts = ", ".join(str(src[k]) for k in ("vintage", "status", "licence")
                                  if src.get(k))
                items.append(f"<li>{escape(kind)}: {escape(src.get('source', '?'))}"
                             f" ({escape(facts)})</li>")
    settings = provenance.get("settings") or {}
    rows = "".join(f"<li>{escape(k)} = {escape(v)}</li>"
                   for k, v in (settings.items() if isinstance(settings, Mapping) else []))
    extra = "".join(f"<li>{escape(k)}: {escape(provenance[k])}</li>"
                    for k in ("load_mw", "candidates", "sites_written", "land_prices")
                    if k in provenance)
    return (f"<details style='color:#555;margin-top:4px'><summary>{line}</summary><div>"
            f"<b>Run</b><ul style='margin:0;padding-left:16px'>{extra}</ul>"
            f"<b>Data sources</b><ul style='margin:0;padding-left:16px'>{''.join(items)}</ul>"
            f"<b>Settings</b><ul style='margin:0;padding-left:16px'>{rows}</ul>"
            "</div></details>")
