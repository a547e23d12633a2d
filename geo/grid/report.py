"""The ``geo-rank grid`` summary of a metrics table: hosting, N-1 firm and redundancy counts.

:func:`summary` and :func:`region_counts` build the ``--json`` document from the graph and
the metrics table; :mod:`geo.grid.shipped_build` writes the same document for the shipped
results (:mod:`geo.grid.summary`), so the command can print it without building the graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geo._arrays import as_bool
from geo.grid.model import ISOLATED, N_PLUS_1, RADIAL, GridGraph
from geo.settings import Settings

#: Load sizes (MW) at which ``--json`` and the printout count hosting N-0 and N-1.
REPORT_LOADS_MW = (100, 300, 1000)


def counts(values: pd.Series) -> pd.Series:
    """How often each value occurs, most frequent first and ties by value: the same order
    whatever the pandas version (``value_counts`` orders ties differently in pandas 2 and 3)."""
    tally = values.value_counts()
    keys = tally.index.astype(str)
    order = sorted(range(len(tally)), key=lambda i: (-int(tally.iloc[i]), keys[i]))
    return tally.iloc[order]


def summary(graph: GridGraph, table: pd.DataFrame, settings: Settings, region: str,
            seconds: float) -> dict[str, Any]:
    """The ``--json`` document: quality report plus hosting and redundancy summaries."""
    r = graph.report
    host = table["hosting_mw"].dropna()
    red = table["redundancy"].value_counts()
    status = counts(table["hosting_status"])
    cached = table.attrs.get("hosting", {})
    return {
        "region": region,
        "nodes": r.nodes,
        "edges": r.edges,
        "lines": r.lines_total,
        "lines_in_graph": r.lines_in_graph,
        "parallel_circuits_merged": r.parallel_circuits_merged,
        "islands": r.islands,
        "island_sizes": r.island_sizes[:10],
        "substations_without_lines": r.substations_without_lines,
        "snapped_line_ends": r.snapped_line_ends,
        "unsnapped_line_ends": r.unsnapped_line_ends,
        "unsnapped_line_ids": r.unsnapped_line_ids[:20],
        "unknown_sub_ids": r.unknown_sub_ids,
        "self_loops_removed": r.self_loops_removed,
        "estimated_capacity": r.estimated_capacity,
        "estimated_reactance": r.estimated_reactance,
        "estimated_length": r.estimated_length,
        "level_nodes": r.level_nodes,                 # geo.grid.levels: nodes and lines
        "transformers_observed": r.transformers_observed,     # above count these too
        "transformers_estimated": r.transformers_estimated,
        "substations": len(table),
        "hosting": {
            "computed": len(host),
            "median_mw": round(float(host.median()), 1) if len(host) else None,
            "seconds": round(seconds, 2),
            "compute_seconds": cached.get("seconds"),
            "cache": table.attrs.get("cache"),
            "min_kv": settings.hosting_min_kv,
            "distribution_factor_cutoff": settings.distribution_factor_cutoff,
            "not_computed": {k: int(v) for k, v in status.items() if k != "computed"},
            "limited_by_incident_rating": int((table["limit_kind"] == "incident_rating").sum()),
        },
        "firm": firm_summary(table, settings),
        "redundancy": {k: int(red.get(k, 0)) for k in (N_PLUS_1, RADIAL,
                                                        ISOLATED)},
        "backbone_kv": settings.backbone_kv,
        "backbone_km_median": round_mw(table["backbone_km"].dropna().median()
                                     if table["backbone_km"].notna().any() else None),
    }


def region_counts(graph: GridGraph, table: pd.DataFrame, region: str) -> dict[str, Any]:
    """The region's own share of the network it belongs to: its substations, the circuits
    with an end in it, and the interconnection(s) they are part of (power ignores state
    lines: the whole network is built and solved, the report counts the region's part)."""
    subs = graph.substations
    inside = subs["sub_id"].astype(str).isin(table.index.astype(str)).to_numpy()
    edges = graph.edges
    touching = inside[edges["u"].to_numpy()] | inside[edges["v"].to_numpy()]
    circuits = (edges["circuits"].to_numpy(float) if "circuits" in edges
                else np.ones(len(edges)))
    areas = (counts(subs.loc[inside, "interconnect"].dropna().astype(str))
             if "interconnect" in subs else pd.Series(dtype=int))
    return {"region_substations": int(inside.sum()),
            "region_edges": int(touching.sum()),
            "region_circuits": int(np.nansum(circuits[touching])),
            "interconnections": {str(k): int(v) for k, v in areas.items()},
            "whole_network": region == "US" or bool(inside.all())}


def firm_summary(table: pd.DataFrame, settings: Settings) -> dict[str, Any]:
    """N-0 next to N-1: counts hosting each of :data:`REPORT_LOADS_MW`, medians, the most
    frequent binding outages, and how each firm figure was obtained."""
    n0 = table["hosting_mw"].dropna()
    n1 = table["firm_mw"].dropna() if "firm_mw" in table else pd.Series(dtype=float)
    outages = (counts(table["firm_outage_line_id"].dropna()).head(10)
               if "firm_outage_line_id" in table else pd.Series(dtype=int))
    source = counts(table["firm_source"]) if "firm_source" in table else {}
    kind = counts(table["firm_kind"]) if "firm_kind" in table else {}
    return {
        "hosting_at_least_mw": {str(mw): {"n0": int((n0 >= mw).sum()), "n1": int((n1 >= mw).sum())}
                                for mw in REPORT_LOADS_MW},
        "median_mw": {"n0": round_mw(n0.median() if len(n0) else None),
                      "n1": round_mw(n1.median() if len(n1) else None)},
        "binding_outages": [{"line_id": k, "substations": int(v)} for k, v in outages.items()],
        "source": {k: int(v) for k, v in source.items()},
        "kind": {k: int(v) for k, v in kind.items()},
        "preexisting_set_aside": int(as_bool(table, "firm_preexisting").sum()),
        "n1_preexisting": settings.n1_preexisting,
        "emergency_rating_factor": settings.emergency_rating_factor,
        "max_outages_per_poi": settings.n1_max_outages,
        "participation": f"{settings.participation_method} within "
                         f"{settings.participation_area}"
                         + (" and a stressed case (nameplate within the interconnection)"
                            if settings.dispatch_stress_case else ""),
        "firm_case": ({k: int(v) for k, v in counts(table["firm_case"]).items()}
                      if "firm_case" in table else {}),
    }


def round_mw(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 1)
