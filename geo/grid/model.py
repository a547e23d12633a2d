"""The grid's data model: :class:`GridGraph`, :class:`GridReport` and their column names.

A leaf of the grid package: it imports no other grid module, so the engine's parts
(:mod:`geo.grid.hosting`, :mod:`geo.grid.dispatch`, :mod:`geo.grid.shipped`) take the type
from here while :mod:`geo.grid.network` (which builds it) imports them. The heavy libraries
are imported for annotations only (networkx when :attr:`GridGraph.graph` is first read).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from geo.settings import Settings

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    import pandas as pd

__all__ = [
    "EDGE_ATTRIBUTES",
    "ISOLATED",
    "LINE_COLUMNS",
    "N_PLUS_1",
    "RADIAL",
    "SUBSTATION_COLUMNS",
    "GridGraph",
    "GridReport",
]

N_PLUS_1, RADIAL, ISOLATED = "N+1", "radial", "isolated"

#: Input columns that the grid depends on (and that the cache key hashes).
SUBSTATION_COLUMNS = ("sub_id", "name", "voltage_kv", "min_voltage_kv", "state",
                      "balancing_area", "geometry")
LINE_COLUMNS = ("line_id", "from_sub", "to_sub", "voltage_kv", "circuits", "capacity_mw",
                "capacity_source", "reactance_pu", "reactance_source", "flow_mw", "length_km",
                "geometry", "kind", "low_voltage_kv")


@dataclass
class GridReport:
    """Quality report of a grid build: what the graph holds and what was done to the data."""

    nodes: int
    edges: int
    lines_total: int
    lines_in_graph: int
    islands: int
    island_sizes: list[int]
    substations_without_lines: int
    snapped_line_ends: int
    unsnapped_line_ends: int
    unsnapped_line_ids: list[str]
    unknown_sub_ids: int
    self_loops_removed: int
    self_loop_line_ids: list[str]
    parallel_circuits_merged: int
    estimated_capacity: int
    estimated_reactance: int
    estimated_length: int
    #: geo.grid.levels: level nodes added, transformers of the data in the graph, banks
    #: estimated, transformers of the data at an unknown substation or voltage and to a
    #: dead-end level, and (voltage_levels off) transformers of the data left out
    level_nodes: int = 0
    transformers_observed: int = 0
    transformers_estimated: int = 0
    transformers_no_level: int = 0
    transformers_dead_end: int = 0
    transformers_left_out: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable values."""
        return dataclasses.asdict(self)


@dataclass
class GridGraph:
    """A built grid.

    Attributes
    ----------
    graph : networkx.Graph
        Built on first use (a property) from ``substations`` and ``edges``.
        Nodes keyed by ``sub_id`` with ``name``, ``voltage_kv`` and ``island`` (0 is the
        largest island). Edges carry ``line_ids`` (tuple), ``circuits``, ``capacity_mw``
        (summed), ``limit_mw`` (flow at which the first circuit reaches its rating),
        ``reactance_pu`` (parallel), ``length_km`` (shortest), ``capacity_source``,
        ``reactance_source``, ``kind`` (``line`` or ``transformer``), and ``flow_mw``
        positive from the edge's ``from_sub`` to its ``to_sub`` (both stored on the edge;
        NaN when unknown).
    substations : geopandas.GeoDataFrame
        The substations (one row per node, in node order) with an ``island`` column; with
        ``settings.voltage_levels`` each substation's row is its highest voltage level and
        its other levels follow all substations as rows of ``status = "level"`` with
        ``level_of`` naming the substation (:mod:`geo.grid.levels`).
    lines : geopandas.GeoDataFrame
        Every input line, snapped and filled, with ``status`` (``in_graph``,
        ``unsnapped``, ``self_loop``) and ``from_snap_km``/``to_snap_km``.
    edges : pandas.DataFrame
        The merged edges as a table: ``u``/``v`` (node row positions), ``from_sub``,
        ``to_sub`` and the edge attributes above.
    report : GridReport
    settings : Settings
        The settings the grid was built with.
    input_hash : str
        Content hash of the input layers, the build settings and the code version (for
        the disk cache).
    content_hash : str
        The same without the code version (for the shipped results, :mod:`geo.grid.shipped`).
    """

    substations: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    edges: pd.DataFrame
    report: GridReport
    settings: Settings = field(default_factory=Settings)
    input_hash: str = ""
    content_hash: str = ""

    @cached_property
    def graph(self) -> nx.Graph:
        """The networkx graph, built on first use (the tables serve the ranking)."""
        import networkx as nx

        subs, edges = self.substations, self.edges
        graph = nx.Graph()
        graph.add_nodes_from(
            (sid, {"name": nm, "voltage_kv": kv, "island": int(isl)})
            for sid, nm, kv, isl in zip(subs["sub_id"], subs["name"], subs["voltage_kv"],
                                        subs["island"], strict=True))
        columns = [edges[a].tolist() for a in EDGE_ATTRIBUTES]
        graph.add_edges_from((vals[0], vals[1], dict(zip(EDGE_ATTRIBUTES, vals, strict=True)))
                             for vals in zip(*columns, strict=True))
        return graph


#: The attributes of an edge of :attr:`GridGraph.graph`.
EDGE_ATTRIBUTES = ("from_sub", "to_sub", "line_ids", "circuits", "capacity_mw", "limit_mw",
                   "reactance_pu", "flow_mw", "length_km", "capacity_source",
                   "reactance_source", "kind")
