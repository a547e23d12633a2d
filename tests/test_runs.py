"""Global ranks from sorted runs merged by blocks (geo.runs): hand-made cases and the
single-process order (geo.score.cost_groups and one lexsort over every key)."""

from __future__ import annotations

import numpy as np
import pytest

from geo import runs, score


def test_encoded_keys_sort_as_the_values_do() -> None:
    x = np.array([np.inf, 3.0, -0.0, np.nan, -5.5, 1e-300, -np.inf, 0.0])
    ids = np.arange(8, dtype=np.uint64)[::-1]
    order = np.argsort(runs.encode([x, ids]), kind="stable")
    # -inf, -5.5, then 0.0 and -0.0 equal (the id decides: 0.0 has id 0), 1e-300, 3, inf, NaN
    assert order.tolist() == [6, 4, 7, 2, 5, 1, 0, 3]
    text = np.array(["b", "a", "ab", "é", ""])
    assert np.argsort(runs.encode([np.zeros(5), text])).tolist() == [4, 1, 2, 0, 3]
    assert np.argsort(runs.encode([np.array([-1, 2, -3, 0], dtype=np.int8),
                                   np.zeros(4, np.uint64)])).tolist() == [2, 0, 3, 1]


def test_merge_by_blocks_of_one_key_a_run() -> None:
    made = [[1, 4, 7], [2, 3, 9], [5, 6, 8], []]
    keys = [runs.encode([np.array(r, dtype=np.int64)]) for r in made]
    pieces = list(runs.merge([runs.ArrayRun(k) for k in keys], rows=4))  # a key a run
    source = np.concatenate([s for s, _ in pieces])
    merged = np.concatenate([k for _, k in pieces])
    assert len(pieces) > 3  # really by blocks
    assert source.tolist() == [0, 1, 1, 0, 2, 2, 0, 2, 1]
    assert (merged == runs.encode([np.arange(1, 10)])).all()


def test_cost_groups_made_across_runs_and_blocks() -> None:
    # tier 0, 24 months: 100 opens a group reaching 102 (2 %), 101.9 joins, 102.1 opens the
    # next (reach 104.142): 103 and 104 join although they come in later blocks; 30 months
    # is a new segment: 100 opens its own group although it is within 2 % of 102.1
    made = [[(0, 24, 100.0), (0, 24, 104.0), (0, 30, 100.0)],
            [(0, 24, 101.9), (0, 24, 102.1), (0, 24, 103.0), (0, 30, 101.0), (1, 24, 5.0)]]
    distinct = [runs.ArrayRun(runs.encode([np.array(c) for c in zip(*r, strict=True)]))
                for r in made]
    starts = runs.group_starts(distinct, 0.02, rows=2)
    assert runs.decode_costs(starts).tolist() == [100.0, 102.1, 100.0, 5.0]


def _local_order(keys: tuple[np.ndarray, ...], share: float) -> tuple[np.ndarray, ...]:
    """A partition's keys in its own rank order (as a draft holds them)."""
    order = np.lexsort(tuple(reversed(score.cost_groups(list(keys), share))))
    return tuple(k[order] for k in keys)


@pytest.mark.parametrize("share", [0.0, 0.02])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_global_ranks_equal_one_sort_of_every_key(share: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, parts = 600, 7
    ids = rng.permutation(np.arange(n, dtype=np.uint64) * 7919 + 3)
    cost = np.where(rng.random(n) < 0.05, np.inf, np.round(rng.uniform(50, 80, n), 2))
    every = (rng.integers(0, 4, n).astype(np.int8),
             rng.choice([12.0, 24.0, 36.5, np.inf], n), cost,
             -rng.integers(0, 5, n).astype(float) * 100, cost,
             rng.integers(0, 4, n).astype(np.int8), rng.choice([0.5, 1.25, np.inf], n),
             -rng.choice([0.0, 0.25, 0.5], n), ids)
    cuts = np.sort(rng.choice(np.arange(1, n), parts - 1, replace=False))
    keys = [_local_order(tuple(k[lo:hi] for k in every), share)
            for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, n], strict=True)]
    together = [np.concatenate([k[j] for k in keys]) for j in range(len(every))]
    expected = np.empty(n, dtype=np.int64)
    with np.errstate(invalid="ignore"):  # cost_groups' 0 * inf with a share of 0
        grouped = score.cost_groups(together, share)
    expected[np.lexsort(tuple(reversed(grouped)))] = np.arange(1, n + 1)
    got = np.concatenate(runs.global_ranks(keys, share, rows=40))
    assert (got == expected).all()
