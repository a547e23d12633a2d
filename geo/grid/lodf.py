"""LODF columns and rows of one island, solved on demand and kept sparse (for the N-1 screen).

For a merged edge ``k`` with ends ``i, j``, ``ψ_k = B⁻¹(e_i − e_j)`` and ``p_lk = b_l (ψ_k[i_l]
− ψ_k[j_l])``: the flow on edge ``l`` of a unit transfer from ``i`` to ``j``. The *column*
``p_·k`` tells where the flow of an outaged ``k`` goes (:meth:`geo.grid.contingency.Screen.firm`).
Because ``B`` is symmetric, ``p_lk = (b_l / b_k) p_kl``: the same solve also gives the *row*
``p_l·`` of the edge, which tells which outages move flow onto ``l`` (the flow-shift part of
the contingency set). Both are kept sparse: column entries with ``|p_lk| <
n1_lodf_tolerance · d`` are dropped (``d = 1 − a·p_kk`` for the edge's largest circuit
share ``a``), row entries with ``|p_lk| < n1_lodf_tolerance``; the diagonal ``p_kk``
always stays. A candidate outage onto a row needs only its own ``p_kk``, found by one
solve without keeping its column.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from geo.grid.circuits import Circuits, expand
from geo.settings import Settings

#: ``d_c`` below this is a bridge (the circuit carries all of its own transfer).
BRIDGE_TOL = 1e-9


class _Sparse:
    """Growing CSR-like store of one sparse vector per edge: entries ``idx``/``val``
    ``[start[e] : start[e] + length[e]]``."""

    def __init__(self, m: int) -> None:
        self.start = np.full(m, -1, np.int64)
        self.length = np.zeros(m, np.int64)
        self.idx = np.empty(0, np.int32)
        self.val = np.empty(0)
        self.used = 0

    def put(self, ks: np.ndarray, rl: np.ndarray, cj: np.ndarray, values: np.ndarray) -> None:
        """Store entries ``(rl, values)`` of vector ``cj`` (0..len(ks)-1, sorted) for edges
        ``ks``."""
        need = self.used + len(rl)
        if need > len(self.idx):
            size = max(need, 2 * len(self.idx), 1 << 16)
            self.idx = np.resize(self.idx, size)
            self.val = np.resize(self.val, size)
        at = self.used
        self.idx[at:need] = rl
        self.val[at:need] = values
        lens = np.bincount(cj, minlength=len(ks))
        self.start[ks] = at + np.r_[0, np.cumsum(lens)[:-1]]
        self.length[ks] = lens
        self.used = need

    def gather(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Entries of the vectors of ``edges`` (stored): ``(which, index, value)``, where
        ``which`` is the position in ``edges``."""
        lens = self.length[edges]
        offs = np.r_[0, np.cumsum(lens)[:-1]]
        pos = np.repeat(self.start[edges] - offs, lens) + np.arange(int(lens.sum()))
        return np.repeat(np.arange(len(edges)), lens), self.idx[pos], self.val[pos]


@dataclass
class Lodf:
    """The LODF columns and rows of one island (see the module docstring).

    ``solve`` is the LU solve of the reduced ``B``; ``red`` maps a bus to its row of the
    solution (the slack's row ``n − 1`` stays 0); ``eu``/``ev`` are the edges' ends,
    ``bl`` their admittances, ``flows`` the sparse edge × solution-row matrix
    (``flows @ θ`` is every edge's flow); ``circ`` the island's circuits.
    """

    solve: Any
    red: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    bl: np.ndarray
    flows: Any
    circ: Circuits
    settings: Settings
    solves: int = 0
    shared: int = 0
    #: Solve whole pages: edges ``[p·batch, (p+1)·batch)`` together whenever one of them is
    #: needed, and take nothing from the POIs' solutions (:meth:`offer`), so that every
    #: stored value's last bits depend on its page alone, never on which POIs asked first
    #: (the runs of :mod:`geo.grid.island_runs` share no store and must agree).
    paged: bool = False
    #: A folder that the processes screening the same island share: a paged store reads the
    #: pages another process has solved from it and writes there those it solves.
    page_dir: str | None = None

    def __post_init__(self) -> None:
        m = len(self.eu)
        self.n = len(self.red)
        self.cols = _Sparse(m)
        self.rows = _Sparse(m)
        self.shift = _Sparse(m)              # per edge: circuits that shift flow onto it
        self.max_share = np.zeros(m)
        np.maximum.at(self.max_share, self.circ.edge, self.circ.share)
        self.own = np.zeros(m, np.int64)     # position of p_kk within column k
        self.pkk = np.zeros(m)
        self.pkk_known = np.zeros(m, bool)
        self.pmax = np.zeros(m)              # max_l≠k |p_lk|
        #: the flow-shift orders of the screens on this store (geo.grid.flowshift.kept_order)
        self.shift_orders: dict[tuple, Any] = {}

    def seed_pkk(self, values: np.ndarray) -> None:
        """Take each edge's own PTDF ``p_kk`` from ``values`` (NaN: unknown), e.g. from the
        shipped results (:func:`geo.grid.shipped.read_self_ptdf`): they depend on the topology
        and reactances only, and a candidate outage then needs no solve."""
        ok = np.isfinite(values)
        self.pkk[ok] = values[ok]
        self.pkk_known[ok] = True

    def have(self, edges: np.ndarray) -> np.ndarray:
        return self.cols.start[edges] >= 0

    def offer(self, b: np.ndarray, s: np.ndarray, tcol: np.ndarray) -> None:
        """Store, without a solve, the columns of edges between two POIs of a batch.

        ``s[:, j]`` is the flow of ``B⁻¹(w − e_b[j])``; for an edge ``k = (u, v)`` whose ends
        are both in the batch with the same participation column,
        ``ψ_k = B⁻¹(e_u − e_v) = θ_v − θ_u``, so ``p_·k = s[:, col(v)] − s[:, col(u)]``.
        """
        if self.paged:
            return
        col = np.full(self.n, -1, np.int64)
        col[b] = np.arange(len(b))
        cu, cv = col[self.eu], col[self.ev]
        ks = np.flatnonzero((cu >= 0) & (cv >= 0) & ~self.have(np.arange(len(self.eu))))
        ks = ks[tcol[cu[ks]] == tcol[cv[ks]]]
        batch = max(int(self.settings.hosting_batch), 1)
        for first in range(0, len(ks), batch):
            kk = ks[first:first + batch]
            p = np.take(s, cv[kk], axis=1)       # take: 2x faster than s[:, idx] here
            p -= np.take(s, cu[kk], axis=1)
            self._store(kk, p)
            self.shared += len(kk)

    def ensure(self, edges: np.ndarray, pkk_only: bool = False) -> None:
        """Solve and keep the column and row of every edge in ``edges`` not yet stored;
        with ``pkk_only``, only their own PTDF ``p_kk`` (one solve each, nothing kept).
        A paged store solves and keeps the whole page of each (:attr:`paged`)."""
        todo = np.unique(edges)
        todo = todo[~(self.pkk_known[todo] if pkk_only else self.have(todo))]
        if not len(todo):
            return
        batch = max(int(self.settings.hosting_batch), 1)
        if self.paged:
            pages = np.unique(todo // batch) * batch
            todo = (pages[:, None] + np.arange(batch)).ravel()
            todo = todo[todo < len(self.eu)]
            pkk_only = False
        n = self.n
        width = min(batch, len(todo))
        rhs = np.zeros((n - 1, width), order="F")
        theta = np.zeros((n, width))                 # the slack's last row stays 0
        for first in range(0, len(todo), batch):
            ks = todo[first:first + batch]
            k = len(ks)
            cols = np.arange(k)
            r = rhs[:, :k]
            r[:] = 0.0
            ru, rv = self.red[self.eu[ks]], self.red[self.ev[ks]]
            inner_u, inner_v = ru < n - 1, rv < n - 1      # the slack's row is not solved
            r[ru[inner_u], cols[inner_u]] += 1.0
            r[rv[inner_v], cols[inner_v]] -= 1.0
            th = theta[:, :k] if k == width else np.zeros((n, k))
            if self.paged:
                self._page(ks, functools.partial(self._solved, r, th))
                continue
            th[: n - 1] = self.solve(r)
            self.solves += k
            if pkk_only:
                iu, iv = self.red[self.eu[ks]], self.red[self.ev[ks]]
                self.pkk[ks] = self.bl[ks] * (th[iu, cols] - th[iv, cols])
                self.pkk_known[ks] = True
            else:
                self._store(ks, self.flows @ th)

    def _solved(self, r: np.ndarray, th: np.ndarray) -> np.ndarray:
        """The flows of the solutions of right-hand sides ``r`` (into ``th``)."""
        th[: self.n - 1] = self.solve(r)
        self.solves += r.shape[1]
        return self.flows @ th

    def _store(self, ks: np.ndarray, p: np.ndarray) -> None:
        """Keep the sparse column ``p[:, j]`` and row ``(b_k / b_l) p[l, j]`` of edge
        ``ks[j]`` (``p[:, j]`` the flows of ``e_u − e_v``)."""
        self._keep(ks, self._sparse(ks, p))

    def _sparse(self, ks: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
        """What :meth:`_store` keeps of ``p`` for edges ``ks``: column and row entries
        (``*_cj`` the position in ``ks``, ``*_rl`` the other edge), own PTDFs, each
        column's largest other entry and where its own entry sits."""
        tol = self.settings.n1_lodf_tolerance
        k = len(ks)
        cols = np.arange(k)
        pkk = p[ks, cols].copy()
        mag = np.abs(p)
        mag[ks, cols] = 0.0
        pmax = mag.max(axis=0) if len(mag) else np.zeros(k)
        d_min = 1.0 - self.max_share[ks] * pkk
        bridge = d_min < BRIDGE_TOL
        keep = mag >= np.where(bridge, np.inf, tol * d_min)[None, :]
        keep[ks, cols] = True
        col_cj, col_rl = np.nonzero(keep.T)        # entries of a column together
        lens = np.bincount(col_cj, minlength=k)
        starts = np.r_[0, np.cumsum(lens)[:-1]]
        own = np.flatnonzero(col_rl == ks[col_cj]) - starts
        # rows: p_lk = (b_l / b_k) p_kl for l = ks[j], over every edge k
        row = p * (self.bl[ks][None, :] / self.bl[:, None])
        keep = np.abs(row) >= tol
        keep[ks, cols] = True
        row_cj, row_rl = np.nonzero(keep.T)
        return {"col_cj": col_cj, "col_rl": col_rl, "col_val": p[col_rl, col_cj],
                "row_cj": row_cj, "row_rl": row_rl, "row_val": row[row_rl, row_cj],
                "pkk": pkk, "pmax": pmax, "own": own}

    def _keep(self, ks: np.ndarray, page: dict[str, np.ndarray]) -> None:
        self.pmax[ks] = page["pmax"]
        self.cols.put(ks, page["col_rl"], page["col_cj"], page["col_val"])
        self.own[ks] = page["own"]
        self.pkk[ks] = page["pkk"]
        self.pkk_known[ks] = True
        self.rows.put(ks, page["row_rl"], page["row_cj"], page["row_val"])

    def _page(self, ks: np.ndarray, solve: Callable[[], np.ndarray]) -> None:
        """Keep page ``ks`` of a paged store: from :attr:`page_dir` when another process
        has written it there, else from ``solve()`` (then written there for the others)."""
        where = (os.path.join(self.page_dir, f"{int(ks[0])}.npz") if self.page_dir
                 else None)
        if where is not None and os.path.exists(where):
            with np.load(where) as saved:
                self._keep(ks, {name: saved[name] for name in saved.files})
            return
        page = self._sparse(ks, solve())
        self._keep(ks, page)
        if where is not None:
            partial = f"{where}.{os.getpid()}"
            with open(partial, "wb") as out:
                np.savez(out, **cast(dict[str, Any], page))
            os.replace(partial, where)

    def shifts(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each of ``edges`` (``l``): the circuits ``c`` whose outage moves at least
        ``distribution_factor_cutoff`` of their own flow onto ``l`` (``|p_lk| / d_c``),
        and the other circuits of ``l`` itself, as ``(which, circuit, factor)`` with
        ``factor = p_lk / d_c`` (``which``: position in ``edges``). Bridges are left out.
        Kept per edge: they depend on the topology only."""
        todo = np.unique(edges)
        todo = todo[self.shift.start[todo] < 0]
        if len(todo):
            self._shifts(todo)
        which, ci, factor = self.shift.gather(edges)
        return which, ci.astype(np.int64), factor

    def _shifts(self, ls: np.ndarray) -> None:
        circ = self.circ
        self.ensure(ls)
        which, kk, plk = self.rows.gather(ls)
        self.ensure(kk, pkk_only=True)                   # their own PTDF p_kk
        at, ci = expand(circ.ptr, kk)
        which, kk, plk = which[at], kk[at], plk[at]
        d = 1.0 - circ.share[ci] * self.pkk[kk]
        bridge = d < BRIDGE_TOL        # islands a part: screened elsewhere, or not modelled
        factor = plk / np.where(bridge, 1.0, d)
        # every entry of the row (|p_lk| ≥ n1_lodf_tolerance): whether an outage is
        # material for a POI depends on its flows (Screen._flow_shift)
        keep = ~bridge
        which, ci, factor = which[keep], ci[keep], factor[keep]
        self.shift.put(ls, ci, which, factor)
