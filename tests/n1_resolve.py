"""An independent DC N-1 re-solve for the hand-built screen tests (numpy only).

It shares no code with :mod:`geo.grid`: it builds the bus susceptance matrix ``B`` from the
circuits, solves the base case from bus injections, and for every circuit outage builds
and solves ``B`` again without that circuit (no LODF, no screen). A new load ``P`` at the
POI is served by the generators in proportion to their capacity.
"""

from __future__ import annotations

import numpy as np


class Net:
    """``buses`` (names), ``lines`` (line_id, from, to, reactance_pu, rating_mw),
    ``inject`` (MW per bus, summing to 0: the base case), ``gens`` (bus → capacity)."""

    def __init__(self, buses, lines, inject, gens):
        self.buses = list(buses)
        self.pos = {b: i for i, b in enumerate(self.buses)}
        self.lines = list(lines)
        self.n = len(self.buses)
        self.inject = np.array([inject.get(b, 0.0) for b in self.buses], float)
        assert abs(self.inject.sum()) < 1e-9
        w = np.array([gens.get(b, 0.0) for b in self.buses], float)
        self.w = w / w.sum()
        self.rating = np.array([ln[4] for ln in self.lines], float)

    def flows(self, p: np.ndarray, out: int | None = None) -> np.ndarray:
        """Branch flows (from → to) for injections ``p`` with circuit ``out`` removed (NaN
        for it); None when the outage splits the network."""
        keep = [i for i in range(len(self.lines)) if i != out]
        b = np.zeros((self.n, self.n))
        for i in keep:
            _, f, t, x, _ = self.lines[i]
            u, v = self.pos[f], self.pos[t]
            b[u, u] += 1 / x
            b[v, v] += 1 / x
            b[u, v] -= 1 / x
            b[v, u] -= 1 / x
        red = b[1:, 1:]                                 # bus 0 is the angle reference
        if np.linalg.matrix_rank(red) < self.n - 1:
            return None
        theta = np.r_[0.0, np.linalg.solve(red, p[1:])]
        f = np.full(len(self.lines), np.nan)
        for i in keep:
            _, fr, to, x, _ = self.lines[i]
            f[i] = (theta[self.pos[fr]] - theta[self.pos[to]]) / x
        return f

    def base_flows(self) -> dict[str, float]:
        f = self.flows(self.inject)
        return {ln[0]: float(v) for ln, v in zip(self.lines, f, strict=True)}

    def firm(self, poi: str, cutoff: float = 0.05, emergency: float = 1.0
             ) -> tuple[float, str | None, str | None]:
        """(firm MW, limiting line, outaged line): N-0 with normal ratings on branches whose
        flow per MW is at least ``cutoff``, then every single-circuit outage that keeps the
        network whole, on every branch whose post-outage flow per MW is at least
        ``cutoff`` (emergency ratings). No screen: every outage and branch is looked at."""
        load = self.w.copy()
        load[self.pos[poi]] -= 1.0
        best, lim, outage = self._limit(self.flows(self.inject), self.flows(load),
                                        self.rating, cutoff)
        for c in range(len(self.lines)):
            f = self.flows(self.inject, c)
            if f is None:
                continue
            mw, line, _ = self._limit(f, self.flows(load, c), self.rating * emergency, cutoff)
            if mw < best * (1 - 1e-9):
                best, lim, outage = mw, line, self.lines[c][0]
        return best, lim, outage

    def _limit(self, f, s, rating, cutoff):
        best, lim = np.inf, None
        for i, ln in enumerate(self.lines):
            if np.isnan(s[i]) or abs(s[i]) < cutoff:
                continue
            head = rating[i] - f[i] if s[i] > 0 else rating[i] + f[i]
            mw = max(head, 0.0) / abs(s[i])
            if mw < best:
                best, lim = mw, ln[0]
        return best, lim, None

    def df(self, poi: str, line: str, out: str | None = None) -> float:
        """Flow per MW of a load at ``poi`` on ``line`` (after the outage of ``out``)."""
        load = self.w.copy()
        load[self.pos[poi]] -= 1.0
        ids = [ln[0] for ln in self.lines]
        c = None if out is None else ids.index(out)
        return float(self.flows(load, c)[ids.index(line)])

    def lodf(self, line: str, out: str) -> float:
        """Share of ``out``'s flow that moves onto ``line`` when ``out`` trips."""
        ids = [ln[0] for ln in self.lines]
        k = ids.index(out)
        _, f, t, _, _ = self.lines[k]
        p = np.zeros(self.n)
        p[self.pos[f]], p[self.pos[t]] = 1.0, -1.0
        before, after = self.flows(p), self.flows(p, k)
        return float((after[ids.index(line)] - before[ids.index(line)]) / before[k])
