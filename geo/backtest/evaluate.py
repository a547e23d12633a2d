"""Backtest a ranking: does it point at the places where campuses were actually built?

The statistics of ``geo-rank evaluate``. Every score here is "higher is better"; a proxy
where smaller is better (a distance) enters negated.

* :func:`auc` is the Mann-Whitney statistic: the probability that a known site scores
  higher than a background point, ties counted half. 1 is a perfect separation, 0.5 is no
  better than chance.
* :func:`bootstrap_auc` resamples the known sites and the background points separately
  (with replacement, seeded) and returns the 2.5th and 97.5th percentiles of the AUC.
* :func:`top_share` is the share of points in the top ``x`` of a reference distribution
  (the ranked cells for the surface, the background points for a proxy), ties at the cut
  counted by the fraction of the tied reference that falls inside it, so the reference
  itself always scores exactly ``x``.
* :func:`surface_percentiles` turns a ranking into a rank percentile per H3 cell, and
  :func:`point_percentiles` looks up the cell holding each point (0 where the surface has
  no cell).

:func:`score_table` puts these together for a set of scores.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from geo.errors import LayerValidationError

log = logging.getLogger(__name__)

#: Top fractions reported (1 %, 5 %, 10 %).
TOP_FRACTIONS = (0.01, 0.05, 0.10)

__all__ = ["TOP_FRACTIONS", "auc", "bootstrap_auc", "point_percentiles", "roc_curve",
           "score_table", "surface_percentiles", "top_share"]


def auc(known: np.ndarray, background: np.ndarray) -> float:
    """The Mann-Whitney AUC of ``known`` against ``background`` (ties count half).

    Examples
    --------
    >>> auc(np.array([3.0, 2.0]), np.array([1.0, 2.0]))  # 3>1, 3>2, 2>1, 2=2 -> 3.5 of 4
    0.875
    """
    known = np.asarray(known, dtype=float)
    background = np.asarray(background, dtype=float)
    n1, n0 = len(known), len(background)
    if n1 == 0 or n0 == 0:
        return float("nan")
    from scipy.stats import rankdata  # scipy.stats costs ~1 s to import: only when used

    ranks = rankdata(np.concatenate([known, background]))  # average ranks: ties count half
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2.0
    return float(u / (n1 * n0))


def _auc_rows(known: np.ndarray, background: np.ndarray) -> np.ndarray:
    """AUC of each row of ``known`` (B x n1) against the same row of ``background``."""
    n1, n0 = known.shape[1], background.shape[1]
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([known, background], axis=1), axis=1)
    return (ranks[:, :n1].sum(axis=1) - n1 * (n1 + 1) / 2.0) / (n1 * n0)


def bootstrap_auc(known: np.ndarray, background: np.ndarray, *, n_boot: int = 1000,
                  seed: int = 0, level: float = 0.95,
                  batch: int = 100) -> tuple[float, float]:
    """A percentile bootstrap interval of :func:`auc` (known and background resampled
    separately, with replacement, from ``numpy.random.default_rng(seed)``).

    Examples
    --------
    >>> known, background = np.arange(10.0) + 12, np.arange(20.0)
    >>> auc(known, background)
    0.84
    >>> lo, hi = bootstrap_auc(known, background, n_boot=200, seed=1)
    >>> 0.6 < lo < 0.84 < hi < 1.0
    True
    """
    known = np.asarray(known, dtype=float)
    background = np.asarray(background, dtype=float)
    if len(known) == 0 or len(background) == 0 or n_boot < 1:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = []
    for start in range(0, n_boot, batch):
        b = min(batch, n_boot - start)
        k = known[rng.integers(0, len(known), size=(b, len(known)))]
        g = background[rng.integers(0, len(background), size=(b, len(background)))]
        values.append(_auc_rows(k, g))
    stats = np.concatenate(values)
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(stats, [tail, 100.0 - tail])
    return float(lo), float(hi)


def roc_curve(known: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates over every threshold, from (0, 0) to (1, 1).

    Tied scores move both rates in one step, so the area under the curve (trapezoids)
    equals :func:`auc`.

    Examples
    --------
    >>> fpr, tpr = roc_curve(np.array([2.0, 1.0]), np.array([0.0, 1.0]))
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 1.0], [0.0, 0.5, 1.0, 1.0])
    """
    known = np.asarray(known, dtype=float)
    background = np.asarray(background, dtype=float)
    thresholds = np.unique(np.concatenate([known, background]))[::-1]
    k = np.sort(known)
    g = np.sort(background)
    tpr = (len(k) - np.searchsorted(k, thresholds, side="left")) / max(len(k), 1)
    fpr = (len(g) - np.searchsorted(g, thresholds, side="left")) / max(len(g), 1)
    return np.concatenate([[0.0], fpr]), np.concatenate([[0.0], tpr])


def top_share(scores: np.ndarray, reference: np.ndarray, fraction: float) -> float:
    """The share of ``scores`` in the top ``fraction`` of ``reference`` (higher is better).

    The cut is the reference value at position ``fraction * len(reference)`` from the top;
    a score above it counts 1, a score equal to it counts the share of the tied reference
    values that fall inside the top (so ``top_share(reference, reference, x) == x``).

    Examples
    --------
    >>> ref = np.arange(100.0)
    >>> top_share(np.array([99.0, 95.0, 50.0, 89.5]), ref, 0.10)
    0.5
    >>> top_share(ref, ref, 0.05)
    0.05
    """
    scores = np.asarray(scores, dtype=float)
    ref = np.sort(np.asarray(reference, dtype=float))[::-1]
    if len(scores) == 0 or len(ref) == 0:
        return float("nan")
    want = fraction * len(ref)
    cut_index = min(max(int(np.ceil(want)) - 1, 0), len(ref) - 1)
    cut = ref[cut_index]
    above = int((ref > cut).sum())
    tied = int((ref == cut).sum())
    inside = min(max(want - above, 0.0), tied) / tied if tied else 0.0
    credit = np.where(scores > cut, 1.0, np.where(scores == cut, inside, 0.0))
    return float(credit.mean())


def surface_percentiles(ranked: pd.DataFrame) -> pd.Series:
    """The rank percentile of each cell of an H3 surface, indexed by ``site_id``.

    ``1 - (rank - 0.5) / N``: the best of N cells scores just under 1, the worst just over 0.
    Cells the ranking cannot tell apart (equal ``tier`` and ``score``, when the ranking has
    them) share the mean percentile of their group, so the order the ranking gives to ties
    (by ``site_id``) does not count as skill.

    Raises
    ------
    LayerValidationError
        When ``site_id`` or ``rank`` is missing, or ``site_id`` repeats.
    """
    missing = [c for c in ("site_id", "rank") if c not in ranked.columns]
    if missing:
        raise LayerValidationError(
            f"the ranking has no {', '.join(missing)} column; give an export of "
            "`geo-rank --candidates h3:<res> --all-candidates`")
    ids = ranked["site_id"].astype(str)
    if ids.duplicated().any():
        raise LayerValidationError(
            f"the ranking repeats site_id {ids[ids.duplicated()].iloc[0]!r}; give one row per "
            "H3 cell (`--all-candidates`)")
    rank = pd.to_numeric(ranked["rank"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(rank).any():
        raise LayerValidationError("the ranking has empty or non-numeric ranks")
    # rank by the given ranks (1..N in an export, but any increasing numbers will do)
    from scipy.stats import rankdata

    position = rankdata(rank, method="ordinal")
    pct = 1.0 - (position - 0.5) / len(position)
    out = pd.Series(pct, index=ids.to_numpy(), name="rank_percentile")
    if {"tier", "score"} <= set(ranked.columns):
        keys = [ranked["tier"].astype(str).to_numpy(),
                pd.to_numeric(ranked["score"], errors="coerce").round(6).to_numpy()]
        out = pd.Series(pct, index=pd.MultiIndex.from_arrays(keys)).groupby(
            level=[0, 1], dropna=False).transform("mean")
        out = pd.Series(out.to_numpy(), index=ids.to_numpy(), name="rank_percentile")
    return out


def point_percentiles(lat: np.ndarray, lon: np.ndarray, surface: pd.Series,
                      resolution: int) -> np.ndarray:
    """The percentile of the H3 cell (at ``resolution``) holding each point; 0 if none.

    Examples
    --------
    >>> import h3
    >>> cell = h3.latlng_to_cell(31.0, -100.0, 6)
    >>> point_percentiles(np.array([31.0, 45.0]), np.array([-100.0, -80.0]),
    ...                   pd.Series({cell: 0.9}), 6).tolist()
    [0.9, 0.0]
    """
    import h3

    cells = [h3.latlng_to_cell(float(a), float(b), resolution)
             for a, b in zip(lat, lon, strict=True)]
    return surface.reindex(cells).fillna(0.0).to_numpy(dtype=float)


def surface_resolution(surface: pd.Series) -> int:
    """The H3 resolution of a surface's cells (they must all share one).

    Raises
    ------
    LayerValidationError
        When the ids are not H3 cells, or mix resolutions.
    """
    import h3

    ids = surface.index.astype(str)
    bad = [c for c in ids[:1000] if not h3.is_valid_cell(c)]
    if bad:
        raise LayerValidationError(
            f"the ranking's site_id {bad[0]!r} is not an H3 cell; evaluate needs an H3 "
            "surface: `geo-rank --candidates h3:6 --all-candidates`")
    resolutions = {h3.get_resolution(c) for c in ids[:1000]}
    if len(resolutions) != 1:
        raise LayerValidationError(
            f"the ranking mixes H3 resolutions {sorted(resolutions)}; give one surface")
    return resolutions.pop()


def score_table(scores: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], *,
                n_boot: int = 1000, seed: int = 0,
                fractions: Sequence[float] = TOP_FRACTIONS) -> pd.DataFrame:
    """One row per score: AUC, its bootstrap interval and the top-x shares.

    Parameters
    ----------
    scores
        ``name -> (known, background, reference)``; higher is better. ``reference`` is the
        distribution whose top x defines "top x" (the ranked cells for the surface, the
        background points for a proxy).
    n_boot, seed
        Bootstrap resamples and their seed (the same seed for every score).
    fractions
        The top fractions to report.
    """
    rows = []
    for name, (known, background, reference) in scores.items():
        lo, hi = bootstrap_auc(known, background, n_boot=n_boot, seed=seed)
        row: dict[str, object] = {"score": name, "auc": auc(known, background),
                                  "auc_low": lo, "auc_high": hi}
        for x in fractions:
            tag = f"{x * 100:g}pct"
            row[f"known_top_{tag}"] = top_share(known, reference, x)
            row[f"background_top_{tag}"] = top_share(background, reference, x)
        rows.append(row)
    return pd.DataFrame(rows)
