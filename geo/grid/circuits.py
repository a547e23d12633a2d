"""The circuits of the grid graph's merged edges, for the N-1 screen (:mod:`geo.grid.contingency`).

The graph merges parallel circuits into one edge (admittances add); an outage takes out one
circuit. :func:`circuits` lists each edge's circuits with their share of its admittance and
the rating at which the first of the others binds once one is out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo._arrays import NONE


@dataclass
class Circuits:
    """The in-graph circuits of an island, grouped by merged edge (CSR by edge).

    ``edge`` (local edge index), ``share`` (a_c), ``line_id``, ``rem_limit_mw`` (normal
    rating of the edge's other circuits after this one is out; 0 when none), ``rem_binding``
    (line id of the circuit of the rest that binds first), ``ptr`` (edge → circuits).
    ``edge_binding`` names the circuit that binds first on each edge at N-0.
    """

    edge: np.ndarray
    share: np.ndarray
    line_id: np.ndarray
    rem_limit_mw: np.ndarray
    rem_binding: np.ndarray
    ptr: np.ndarray
    edge_binding: np.ndarray


def in_graph_lines(lines: pd.DataFrame, node_pos: pd.Series) -> pd.DataFrame:
    """The in-graph circuits of ``GridGraph.lines`` with node positions ``u``, ``v``."""
    ln = lines.loc[lines["status"].to_numpy() == "in_graph",
                   ["line_id", "from_sub", "to_sub", "reactance_pu", "capacity_mw"]]
    return pd.DataFrame({
        "u": node_pos.reindex(ln["from_sub"].to_numpy()).to_numpy(np.int64),
        "v": node_pos.reindex(ln["to_sub"].to_numpy()).to_numpy(np.int64),
        "line_id": ln["line_id"].astype(str).to_numpy(),
        "reactance_pu": ln["reactance_pu"].to_numpy(float),
        "capacity_mw": ln["capacity_mw"].to_numpy(float)})


def circuits(ln: pd.DataFrame, edge_u: np.ndarray, edge_v: np.ndarray) -> Circuits:
    """Circuits of the merged edges ``(edge_u, edge_v)`` (global node positions, u < v).

    ``ln`` is :func:`in_graph_lines` (rows of other islands are ignored).
    """
    u, v = ln["u"].to_numpy(), ln["v"].to_numpy()
    a, b = np.minimum(u, v).astype(np.int64), np.maximum(u, v).astype(np.int64)
    big = int(max(edge_v.max(initial=0), b.max(initial=0))) + 1
    ekey = edge_u.astype(np.int64) * big + edge_v
    order_e = np.argsort(ekey, kind="stable")
    pos = np.searchsorted(ekey[order_e], a * big + b)
    pos = np.minimum(pos, len(ekey) - 1)
    found = ekey[order_e][pos] == a * big + b
    edge = order_e[pos][found]
    adm = 1.0 / ln["reactance_pu"].to_numpy(float)[found]
    rating = ln["capacity_mw"].to_numpy(float)[found]
    ids = ln["line_id"].astype(str).to_numpy()[found]
    order = np.lexsort((ids, edge))
    edge, adm, rating, ids = edge[order], adm[order], rating[order], ids[order]
    m = len(edge_u)
    total = np.bincount(edge, weights=adm, minlength=m)
    share = adm / total[edge]
    ptr = np.r_[0, np.cumsum(np.bincount(edge, minlength=m))]
    # flow on the merged edge at which a circuit reaches its rating: rating / share
    per = rating / adm                       # rating_i / b_i, scaled by the edge's admittance
    first = np.full(m, np.inf)
    np.minimum.at(first, edge, per)
    is_first = per == first[edge]
    arg_first = np.full(m, -1, np.int64)
    arg_first[edge[::-1][is_first[::-1]]] = np.flatnonzero(is_first)[::-1]
    masked = np.where(np.arange(len(edge)) == arg_first[edge], np.inf, per)
    second = np.full(m, np.inf)
    np.minimum.at(second, edge, masked)
    arg_second = np.full(m, -1, np.int64)
    is_second = np.isfinite(masked) & (masked == second[edge])
    arg_second[edge[::-1][is_second[::-1]]] = np.flatnonzero(is_second)[::-1]
    own_first = np.arange(len(edge)) == arg_first[edge]
    rest = np.where(own_first, second[edge], first[edge])
    rest_arg = np.where(own_first, arg_second[edge], arg_first[edge])
    rem_limit = np.where(np.isfinite(rest), np.where(np.isfinite(rest), rest, 0.0)
                         * (total[edge] - adm), 0.0)
    rem_binding = np.where(rest_arg >= 0, ids[np.maximum(rest_arg, 0)], NONE).astype(object)
    return Circuits(edge=edge, share=share, line_id=ids.astype(object),
                    rem_limit_mw=rem_limit, rem_binding=rem_binding, ptr=ptr,
                    edge_binding=ids[np.maximum(arg_first, 0)].astype(object))


def expand(ptr: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR expansion: every position ``ptr[key] .. ptr[key + 1] - 1`` of each of ``keys``,
    in order, as ``(owner, position)`` (``owner``: index into ``keys``)."""
    lens = ptr[keys + 1] - ptr[keys]
    owner = np.repeat(np.arange(len(keys)), lens)
    pos = (np.repeat(ptr[keys] - np.r_[0, np.cumsum(lens)[:-1]], lens)
           + np.arange(int(lens.sum())))
    return owner, pos


def edge_names(edges: pd.DataFrame) -> np.ndarray:
    """Each merged edge named by its source line ids, ``;``-joined (unique per edge)."""
    return np.array([";".join(t) for t in edges["line_ids"]], dtype=object)
