"""Global ranks of a partitioned run from sorted runs of order keys, merged by blocks.

A partitioned Dask run (:func:`geo.engine.rank_to_dataset`) must give every site the rank
:func:`geo.score.rank` would give it over all sites at once, yet no process may hold the
keys of every site (10 M cells of the US at H3 res 8 are about 0.5 GB of keys, and their
sort as much again). The order is built from runs instead:

1. Each worker turns its partition's raw order keys (:func:`order_keys`) into byte strings
   that sort as the keys do (:func:`encode`: big-endian, the sign bit of integers flipped,
   negative floats' bits inverted), and writes two of them per row: the cost-group key
   (tier, months, cost) and the rest (-firm MW, cost, path, grid distance, -land, site id),
   plus its distinct cost-group keys sorted (a run).
2. The client merges the distinct cost-group keys of every partition by blocks
   (:func:`merge`) and groups the costs as :func:`geo.score.cost_groups` does over all
   sites (:func:`group_starts`): it keeps only the key of each group's cheapest site.
3. Each worker gives its rows their group (the last group start at or below the row's
   key), so (group, rest) is the whole order, and writes its rows sorted by it (a run).
4. The client merges these runs by blocks and writes the ranks of each run's rows as
   they come (:func:`rank_runs`); pass 2 reads its partition's ranks back.

The client holds a block of each run at a time (:data:`MERGE_ROWS` rows in all), never
every key. Every key is unique (the site id is its last part), so the merged order is a
total order and equals :func:`geo.score.rank`'s (``tests/test_engine_dask.py``).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from geo import score
from geo._arrays import arrays

#: Rows the client holds of all runs together while it merges them (about 60 bytes each).
MERGE_ROWS = 1_000_000
_SIGN = np.uint64(1 << 63)


def order_keys(ranked: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """The keys of :func:`geo.score.rank`'s order before the costs are grouped
    (:func:`geo.score.raw_order_keys`), with the site id in place of its partition-local
    code, so keys of different partitions compare: H3 cells' ids as their uint64 number (at
    one resolution their hex texts sort as the numbers do), other ids as bytes when they
    are ASCII (which sorts as text), else text."""
    ids = ranked["site_id"].astype(str).to_numpy()
    if len(ids) and (ranked["candidate_kind"].astype(str) == "h3").all():
        ids = np.array([int(c, 16) for c in ids.tolist()], dtype=np.uint64)
    else:
        try:
            ids = ids.astype("S")
        except UnicodeEncodeError:
            ids = ids.astype("U")
    keys = score.raw_order_keys(arrays(ranked), ranked["tier"].astype(str).to_numpy(),
                                ranked["land_score"].to_numpy(dtype=float))
    keys[0] = keys[0].astype(np.int8)
    keys[5] = keys[5].astype(np.int8)
    return (*keys[:-1], ids)


def check_local_order(part: Sequence[np.ndarray], cost_tie_share: float) -> None:
    """Raise :class:`AssertionError` when a partition's own order (its draft's rows, in
    local rank order) is not its keys' order grouped alone (:func:`geo.score.rank` then
    orders by something else and :func:`order_keys` must follow it)."""
    local = np.lexsort(tuple(reversed(score.cost_groups(list(part), cost_tie_share))))
    if len(local) > 1 and not (local == np.arange(len(local))).all():
        raise AssertionError("a partition's ranking disagrees with geo.engine.order_keys")


def _word(values: np.ndarray) -> np.ndarray:
    """Unsigned 64-bit words that sort as ``values`` (integers, or floats as numpy's sort
    orders them: -0.0 equal to 0.0, NaN last)."""
    values = np.asarray(values)
    if values.dtype.kind == "u":
        return values.astype(np.uint64)
    if values.dtype.kind in "ib":
        return values.astype(np.int64).view(np.uint64) ^ _SIGN
    x = values.astype(np.float64) + 0.0                 # -0.0 + 0.0 is 0.0
    x = np.where(np.isnan(x), np.nan, x)                # one NaN, positive: after +inf
    bits = x.view(np.uint64)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


def _unword(words: np.ndarray, kind: str) -> np.ndarray:
    """The floats :func:`_word` encoded (``kind``: ``"f"``)."""
    assert kind == "f"
    return np.where(words & _SIGN, words ^ _SIGN, ~words).view(np.float64)


def encode(columns: Sequence[np.ndarray]) -> np.ndarray:
    """One fixed-width byte string a row that sorts (numpy's ``S`` order: bytes compared
    unsigned, left to right) as the rows of ``columns`` sort lexicographically. Each column
    takes 8 bytes; a last column of text takes its UTF-8 bytes (shorter ones padded with
    zero bytes, which sort first, as a shorter text does)."""
    n = len(columns[0])
    *numbers, last = columns
    text = np.asarray(last).dtype.kind in "SU"
    tail = (np.char.encode(last, "utf-8") if np.asarray(last).dtype.kind == "U"
            else np.asarray(last)) if text else None
    width = 8 * len(numbers) + (tail.dtype.itemsize if tail is not None else 8)
    out = np.zeros((n, max(width, 1)), dtype=np.uint8)
    for j, col in enumerate(numbers if text else columns):
        out[:, 8 * j:8 * j + 8] = _word(col).astype(">u8").view(np.uint8).reshape(n, 8)
    if tail is not None and tail.dtype.itemsize:
        out[:, 8 * len(numbers):] = tail.view(np.uint8).reshape(n, -1)
    return out.view(f"S{out.shape[1]}").reshape(n)


def decode_costs(keys: np.ndarray) -> np.ndarray:
    """The cost of each cost-group key (:func:`split_keys`: its third word)."""
    words = keys.view(np.uint8).reshape(len(keys), -1)[:, 16:24]
    return _unword(np.ascontiguousarray(words).view(">u8").reshape(-1).astype(np.uint64),
                   "f")


def split_keys(keys: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A partition's raw keys (:func:`order_keys`) as two byte strings a row: the
    cost-group key (tier, months, cost) and the rest (-firm, cost, path, grid km, -land,
    site id)."""
    return encode([keys[0], keys[1], keys[score.COST_KEY]]), encode(list(keys[3:]))


class Run(Protocol):
    """Sorted, strictly increasing keys, read a block at a time."""

    def __len__(self) -> int: ...

    def read(self, start: int, count: int) -> np.ndarray: ...


class ArrayRun:
    """A run held in memory."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys

    def __len__(self) -> int:
        return len(self.keys)

    def read(self, start: int, count: int) -> np.ndarray:
        return self.keys[start:start + count]


class FileRun:
    """A run in a ``.npy`` file, each block read through a mapping closed at once (the
    client's memory keeps no page of it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.n = len(np.load(path, mmap_mode="r"))

    def __len__(self) -> int:
        return self.n

    def read(self, start: int, count: int) -> np.ndarray:
        mapped = np.load(self.path, mmap_mode="r")
        block = np.array(mapped[start:start + count])
        del mapped
        return block


def merge(runs: Sequence[Run], rows: int | None = None
          ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every key of ``runs`` in sorted order, a block at a time: ``(run, key)`` arrays
    (which run each key came from; equal keys of different runs in run order within a
    block). At most about ``rows`` keys (default :data:`MERGE_ROWS`) are held at once.

    Each run keeps a buffer of its next keys; the smallest last key among the buffers of
    runs not yet read to their end bounds what can go out: every key at or below it is in
    some buffer (the runs are sorted), and every key left is at or above it.
    """
    block = max(1, (MERGE_ROWS if rows is None else rows) // max(1, len(runs)))
    loaded = [min(block, len(r)) for r in runs]
    bufs = [r.read(0, block) for r in runs]
    while True:
        live = [p for p, b in enumerate(bufs) if len(b)]
        if not live:
            return
        open_ = [bufs[p][-1] for p in live if loaded[p] < len(runs[p])]
        bound = min(open_) if open_ else None
        take = {p: (len(bufs[p]) if bound is None
                    else int(np.searchsorted(bufs[p], bound, side="right"))) for p in live}
        source = np.concatenate([np.full(take[p], p, dtype=np.int64) for p in live])
        keys = np.concatenate([bufs[p][:take[p]] for p in live])
        order = np.argsort(keys, kind="stable")
        yield source[order], keys[order]
        del source, keys, order
        for p in live:
            rest = bufs[p][take[p]:]
            if loaded[p] < len(runs[p]) and len(rest) < block:
                more = runs[p].read(loaded[p], block - len(rest))
                loaded[p] += len(more)
                rest = np.concatenate([rest, more])
            bufs[p] = rest


def group_starts(runs: Sequence[Run], share: float, rows: int | None = None) -> np.ndarray:
    """The cost-group key of the cheapest site of every cost group over all ``runs`` (each
    a partition's distinct cost-group keys, sorted), in order: the groups of
    :func:`geo.score.cost_groups` over all sites, made as it makes them (a site joins the
    open group while its cost is at most the group's first cost plus ``share`` of it)."""
    starts: list[np.ndarray] = []
    segment: bytes | None = None        # (tier, months) of the open group
    reach = 0.0
    for _, keys in merge(runs, rows):
        cost = decode_costs(keys)
        heads = np.ascontiguousarray(
            keys.view(np.uint8).reshape(len(keys), -1)[:, :16]).view("S16").reshape(-1)
        cuts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1], True])
        for lo, hi in itertools.pairwise(cuts):
            c = cost[lo:hi]
            i = 0
            if segment is not None and heads[lo] == segment:
                i = int(np.searchsorted(c, reach, side="right"))
            chosen = []
            while i < hi - lo:
                chosen.append(lo + i)
                reach = c[i] + share * abs(c[i])
                i = max(int(np.searchsorted(c, reach, side="right")), i + 1)
            starts.append(keys[chosen])
            segment = heads[lo]
    return (np.concatenate(starts) if starts else np.empty(0, dtype="S24"))


def grouped(group_keys: np.ndarray, rest: np.ndarray, starts: np.ndarray | None
            ) -> np.ndarray:
    """The whole order key of each row: its group's number among ``starts``
    (:func:`group_starts`; ``None``: each distinct cost is its own group, the cost-group
    key itself), then the rest."""
    head = (group_keys if starts is None else
            encode([np.searchsorted(starts, group_keys, side="right").astype(np.int64) - 1]))
    both = np.zeros((len(rest), head.dtype.itemsize + rest.dtype.itemsize), dtype=np.uint8)
    both[:, :head.dtype.itemsize] = head.view(np.uint8).reshape(len(rest), -1)
    both[:, head.dtype.itemsize:] = rest.view(np.uint8).reshape(len(rest), -1)
    return both.view(f"S{both.shape[1]}").reshape(len(rest))


def rank_runs(runs: Sequence[Run], rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """``(run, ranks)`` pieces: the global ranks (1..N) of each run's keys in its order,
    piece after piece (a run's pieces come in its order)."""
    done = 0
    for source, _ in merge(runs, rows):
        ranks = np.arange(done + 1, done + len(source) + 1, dtype=np.int64)
        done += len(source)
        by_run = np.argsort(source, kind="stable")
        runs_here, first = np.unique(source[by_run], return_index=True)
        yield from zip(runs_here.tolist(), np.split(ranks[by_run], first[1:]), strict=True)


def global_ranks(keys: list[tuple[np.ndarray, ...]], cost_tie_share: float = 0.0,
                 rows: int | None = None) -> list[np.ndarray]:
    """The global rank (1..N) of every row of every partition, from the raw order keys
    (:func:`order_keys`), in memory: the steps of the module docstring on runs held as
    arrays (``rows``: the merge's block budget). Raises :class:`AssertionError` as
    :func:`check_local_order`."""
    for part in keys:
        check_local_order(part, cost_tie_share)
    split = [split_keys(part) for part in keys]
    starts = (None if cost_tie_share == 0 else
              group_starts([ArrayRun(np.unique(g)) for g, _ in split], cost_tie_share, rows))
    runs, perms = [], []
    for g, rest in split:
        whole = grouped(g, rest, starts)
        perm = np.argsort(whole, kind="stable")
        runs.append(ArrayRun(whole[perm]))
        perms.append(perm)
    sorted_ranks: list[list[np.ndarray]] = [[] for _ in keys]
    for p, piece in rank_runs(runs, rows):
        sorted_ranks[p].append(piece)
    out = []
    for perm, pieces in zip(perms, sorted_ranks, strict=True):
        ranks = np.empty(len(perm), dtype=np.int64)
        ranks[perm] = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
        out.append(ranks)
    return out


# The files of a partitioned run (in its work folder, which every worker shares).
ORDER = "_order"


def _path(tmp: Path, what: str, i: int) -> Path:
    return tmp / ORDER / f"{what}.{i:05d}.npy"


def write_keys(tmp: Path, i: int, keys: Sequence[np.ndarray]) -> None:
    """Step 1 on a worker: partition ``i``'s keys split (:func:`split_keys`) and its
    distinct cost-group keys, sorted (a run for :func:`group_starts`)."""
    (tmp / ORDER).mkdir(exist_ok=True)
    group_keys, rest = split_keys(keys)
    np.save(_path(tmp, "group", i), group_keys)
    np.save(_path(tmp, "rest", i), rest)
    np.save(_path(tmp, "distinct", i), np.unique(group_keys))


def write_starts(tmp: Path, parts: Sequence[int], share: float) -> int:
    """Step 2 on the client: the cost groups over the partitions ``parts``, saved for
    :func:`sort_run` (none when ``share`` is 0: each distinct cost is a group); returns the
    number of groups (0 for none)."""
    if share == 0:
        return 0
    starts = group_starts([FileRun(_path(tmp, "distinct", i)) for i in parts], share)
    np.save(tmp / ORDER / "starts.npy", starts)
    return len(starts)


def sort_run(tmp: Path, i: int, share: float) -> int:
    """Step 3 on a worker: partition ``i``'s rows sorted by their whole key (the run of
    :func:`write_ranks`) and the row each sorted position holds; returns the row count."""
    starts = None if share == 0 else np.load(tmp / ORDER / "starts.npy")
    whole = grouped(np.load(_path(tmp, "group", i)), np.load(_path(tmp, "rest", i)), starts)
    del starts
    perm = np.argsort(whole, kind="stable")
    np.save(_path(tmp, "run", i), whole[perm])
    np.save(_path(tmp, "perm", i), perm.astype(np.int32 if len(perm) < 2**31 else np.int64))
    for what in ("group", "rest", "distinct"):
        _path(tmp, what, i).unlink()
    return len(perm)


def write_ranks(tmp: Path, parts: Sequence[int], rows: int | None = None) -> None:
    """Step 4 on the client: merge the runs of ``parts`` and append each piece of global
    ranks to its partition's file, as it comes."""
    files = {i: _path(tmp, "ranks", i).with_suffix(".bin") for i in parts}
    for path in files.values():
        path.write_bytes(b"")
    for p, piece in rank_runs([FileRun(_path(tmp, "run", i)) for i in parts], rows):
        with open(files[parts[p]], "ab") as out:
            out.write(piece.astype("<i8").tobytes())
    for i in parts:
        _path(tmp, "run", i).unlink()


def discard(tmp: Path) -> None:
    """Remove what is left of the order's files (the ranks and the permutations)."""
    shutil.rmtree(tmp / ORDER, ignore_errors=True)


def read_ranks(tmp: Path, i: int) -> np.ndarray:
    """Pass 2 on a worker: partition ``i``'s global ranks in its draft's row order."""
    perm = np.load(_path(tmp, "perm", i))
    ranked = np.fromfile(_path(tmp, "ranks", i).with_suffix(".bin"), dtype="<i8")
    if len(ranked) != len(perm):
        raise AssertionError(f"partition {i}: {len(ranked)} ranks for {len(perm)} rows")
    ranks = np.empty(len(perm), dtype=np.int64)
    ranks[perm] = ranked
    return ranks
