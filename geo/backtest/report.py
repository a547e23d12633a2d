"""The outputs of ``geo-rank evaluate``: terminal table, JSON and CSV reports, ROC PNG, map.

Every file is written atomically (:func:`layers.atomic.atomic_path`) and carries the
provenance: inside the JSON and the HTML, in a ``.json`` sidecar next to the CSV, and in
the PNG's text chunk. The PNG is drawn with matplotlib's Agg backend (imported here, only
when drawing) with no software or date stamp, so the same input gives the same bytes. The
map follows :mod:`geo.web`: Leaflet inlined, no base tiles (state outlines instead), so it
opens with no network; every string from data is escaped.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import web
from geo.backtest.evaluate import TOP_FRACTIONS, roc_curve
from geo.backtest.run import BacktestResult
from geo.errors import DependencyError
from geo.io.output import SIDECAR_SUFFIX, neutralise_text_columns
from geo.web import assets as _map_assets
from geo.web import layers as _map_layers
from geo.web import legend as _map_legend
from geo.web import markers
from geo.web import page as map_page
from geo.web import style as _map_style
from layers.atomic import atomic_path

log = logging.getLogger(__name__)

#: Marker colours by rank percentile of the known site (ColorBrewer RdYlGn), best first.
PERCENTILE_CLASSES = (
    (0.99, "top 1 %", "#006837"),
    (0.95, "top 5 %", "#31a354"),
    (0.90, "top 10 %", "#a1d99b"),
    (0.50, "top half", "#fdae61"),
    (1e-9, "bottom half", "#d73027"),
)
NO_CELL = ("no cell (percentile 0)", "#969696")
PNG_DPI = 100


def file_names(region: str) -> dict[str, str]:
    """The names of the outputs in ``--out`` for a region."""
    stem = f"evaluate-{region.lower()}"
    return {"json": f"{stem}.json", "csv": f"{stem}.csv", "png": f"{stem}-roc.png",
            "html": f"{stem}-known.html"}


def table_text(result: BacktestResult) -> str:
    """The terminal table: one row per score, then the AUC of each type group."""
    text = _rows(result.table)
    if result.by_type is not None:
        for group, part in result.by_type.groupby("group", sort=False):
            text += (f"\n\n{group} ({int(part['known_sites'].iloc[0])} known sites)\n"
                     + _rows(part))
    return text


def _rows(table: pd.DataFrame) -> str:
    tags = [f"{x * 100:g}pct" for x in TOP_FRACTIONS]
    head = (f"{'score':<52} {'AUC':>5} {'95 % interval':>13}  "
            + "  ".join(f"{'top ' + t.replace('pct', ' %'):>15}" for t in tags))
    sub = f"{'':<52} {'':>5} {'':>13}  " + "  ".join(f"{'known / backgr.':>15}" for _ in tags)
    lines = [head, sub]
    for _, row in table.iterrows():
        shares = "  ".join(
            f"{_pct(row[f'known_top_{t}']):>7} / {_pct(row[f'background_top_{t}']):>5}"
            for t in tags)
        lines.append(f"{row['score']:<52.52} {row['auc']:>5.3f} "
                     f"{row['auc_low']:>6.3f}-{row['auc_high']:<6.3f}  {shares}")
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _known_rows(result: BacktestResult) -> list[dict[str, Any]]:
    known = result.points[result.points["kind"] == "known"]
    frame = pd.DataFrame(known.drop(columns=["geometry", "kind"]))
    return json.loads(frame.to_json(orient="records", double_precision=6))


def write_json(result: BacktestResult, path: Path) -> Path:
    """The full report: provenance, the table, and every known site with its figures."""
    doc = {"provenance": result.provenance,
           "table": json.loads(result.table.to_json(orient="records", double_precision=6)),
           "by_type": (None if result.by_type is None else json.loads(
               result.by_type.to_json(orient="records", double_precision=6))),
           "known_sites": _known_rows(result)}
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=2) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return path


def write_csv(result: BacktestResult, path: Path) -> Path:
    """The table as CSV, with the provenance in a ``.json`` sidecar (as :mod:`geo.io.export`)."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    with atomic_path(sidecar) as tmp:
        tmp.write_text(json.dumps(result.provenance, ensure_ascii=False, allow_nan=False,
                                  indent=2) + "\n", encoding="utf-8", newline="\n")
    with atomic_path(path) as tmp:
        neutralise_text_columns(result.table.round(6)).to_csv(tmp, index=False,
                                                              lineterminator="\n")
    return path


def write_roc(result: BacktestResult, path: Path, title: str) -> Path:
    """ROC curves of the ranking and every proxy (PNG, deterministic bytes)."""
    try:
        # a Figure with no pyplot draws with the Agg canvas of savefig: no backend is chosen
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise DependencyError("matplotlib is needed for the ROC plot: "
                              "pip install 'matplotlib>=3.7'") from exc
    fig = Figure(figsize=(7.0, 6.0), dpi=PNG_DPI)
    ax = fig.add_subplot()
    aucs = dict(zip(result.table["score"], result.table["auc"], strict=True))
    for i, (label, (known, background)) in enumerate(result.scores.items()):
        fpr, tpr = roc_curve(known, background)
        style = {"linewidth": 2.6, "color": "#000000"} if i == 0 else {"linewidth": 1.3}
        if label == "random":
            style = {"linewidth": 1.0, "color": "#999999", "linestyle": "--"}
        ax.plot(fpr, tpr, label=f"{label} (AUC {aucs[label]:.2f})", **style)
    ax.plot([0, 1], [0, 1], color="#cccccc", linewidth=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("background points above the threshold (false-positive rate)")
    ax.set_ylabel("known sites above the threshold (true-positive rate)")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    prov = result.provenance
    meta = {"Software": None, "Title": title,
            "Source": f"geo-rank {prov.get('version')} evaluate {prov.get('region')}, "
                      f"seed {prov.get('seed')}"}
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata=meta)
    return path


def _colour(pct: float) -> tuple[str, str]:
    for floor, label, colour in PERCENTILE_CLASSES:
        if pct >= floor:
            return label, colour
    return NO_CELL


def write_map(result: BacktestResult, path: Path, title: str) -> Path:
    """Known sites coloured by rank percentile over the state outlines (offline HTML)."""
    import folium
    from branca.element import Element

    known = result.points[result.points["kind"] == "known"]
    bundle = result.layers
    west, south, east, north = (float(v) for v in bundle.boundary.bounds)
    fmap = folium.Map(location=[round((south + north) / 2, 6), round((west + east) / 2, 6)],
                      zoom_start=5, control_scale=True, tiles=None, prefer_canvas=True)
    figure: Any = fmap.get_root()
    figure.title = _map_style.escape(title)
    figure.header.add_child(Element(
        f'<meta name="generator" content="{web.GENERATOR} '
        f'{_map_style.escape(result.provenance.get("version", "?"))}">'), name="generator")
    figure.header.add_child(_map_assets.raw_element(_map_legend.css(True)), name="css")
    tol = _map_layers.tolerance_for(bundle.boundary.bounds)
    nd = _map_layers.decimals_for(tol)
    states = map_page.union_all(bundle.subdivisions.geometry)
    for layer in (_map_layers.outline(states, "States (offline basemap)", tol, nd,
                                      fill="#f4f3ef", overlay=False),
                  _map_layers.outline(bundle.boundary, f"Region ({bundle.region})", tol, nd)):
        if layer is not None:
            layer.add_to(fmap)
    rows = []
    for _, row in known.sort_values("rank_percentile", kind="mergesort").iterrows():
        label, colour = _colour(float(row["rank_percentile"]))
        tip = f"{_map_style.escape(row['name'])}: percentile {100 * row['rank_percentile']:.1f}"
        cells = "".join(
            f"<tr><th style='text-align:left;padding-right:6px'>{_map_style.escape(k)}</th>"
            f"<td>{markers.format_value(row[k])}</td></tr>"
            for k in ("name", "operator", "type", "mw", "coordinate_precision",
                      "rank_percentile", "substation_230kv_distance_m",
                      "plant_mw_within_50km") if k in row.index)
        rows.append([round(float(row["lat"]), 6), round(float(row["lon"]), 6), colour, tip,
                     f"<table style='font-size:12px'>{cells}</table>"
                     f"<div>{_map_style.escape(label)}</div>"])

    def code(var: str) -> str:
        return (f"var {var} = L.featureGroup();\n"
                f"{_map_style.js_json(rows)}.forEach(function (r) {{\n"
                f"  {var}.addLayer(L.circleMarker([r[0], r[1]], {{radius: 7, color: '#fff', "
                "weight: 1.5, fillColor: r[2], fillOpacity: 0.95})"
                ".bindTooltip(r[3]).bindPopup(r[4], {maxWidth: 420}));\n});\n")

    _map_layers.ScriptLayer(f"Known sites ({len(known)})", code, count=len(rows)).add_to(fmap)
    fmap.fit_bounds([[round(south, 6), round(west, 6)], [round(north, 6), round(east, 6)]],
                    padding=(10, 10), max_zoom=9)
    folium.LayerControl(position="topright", collapsed=False).add_to(fmap)
    swatches = "".join(
        f"<div><span class='sw' style='background:{c};border-radius:6px'></span>"
        f"{_map_style.escape(lbl)}</div>"
        for lbl, c in [(lbl, c) for _, lbl, c in PERCENTILE_CLASSES] + [NO_CELL])
    panel = (f"<div class='geo-rank-legend'><div style='font-weight:bold'>"
             f"{_map_style.escape(title)}</div><div>Known sites by the rank percentile of their "
             f"H3 cell</div>{swatches}{_map_legend.provenance_html(result.provenance)}</div>")
    figure.html.add_child(_map_assets.raw_element(panel), name="geo-rank-panel")
    _map_assets.inline(fmap)
    page = map_page.stable_ids(fmap, fmap.get_root().render())
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8", newline="\n")
    return path


def write_all(result: BacktestResult, out_dir: Path, *, title: str,
              with_map: bool = True) -> list[Path]:
    """Write the JSON, CSV, PNG and (unless ``with_map`` is false) HTML outputs."""
    names = file_names(str(result.provenance.get("region", "region")))
    written = [write_json(result, out_dir / names["json"]),
               write_csv(result, out_dir / names["csv"]),
               write_roc(result, out_dir / names["png"], title)]
    if with_map:
        written.append(write_map(result, out_dir / names["html"], title))
    log.info("wrote %s", ", ".join(map(str, written)))
    return written


def summary(result: BacktestResult) -> dict[str, float]:
    """``label -> AUC`` (for a one-line log or a test)."""
    return {str(k): float(v) for k, v in zip(result.table["score"], result.table["auc"],
                                             strict=True) if np.isfinite(v)}
