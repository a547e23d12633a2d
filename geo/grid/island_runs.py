"""An island's POIs screened in runs of batches that worker processes can share out, with
results that do not depend on how many processes there are.

The hosting screen (:mod:`geo.grid.hosting`) walks an island's POIs in Hilbert order, a
batch of ``hosting_batch`` at a time, and keeps the LODF columns it solves in a store that
later batches read (:mod:`geo.grid.lodf`). A column's last bits depend on how it was found
(a difference of a batch's solutions, or a solve among whichever others were missing), so
a walk cut between processes would change them. Here an island of more than
:data:`RUN_BATCHES` batches is cut into runs of that many batches, and its store is
*paged*: a column is always solved with the other edges of its page and never taken from
the POIs' solutions, so its bits are the page's, whoever needs it first. Each process keeps
its own paged store across the runs it is given, and the processes on one island share the
pages they solve through a temporary folder (:func:`share_pages`): a page is solved about
once between them, and read from a file by the others. One process and several give the
same bits; the cut is fixed by the POI count and the batch size alone.

The runs go to ``grid_workers`` processes (new interpreters: no state inherited, each
factorises its island once), or run here when there is one worker or one run; an island of
one run keeps the unpaged store and runs here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse.linalg  # noqa: F401  (SciPy's BLAS loaded before threadpool_limits)
from threadpoolctl import threadpool_limits

from geo._memory import reused_heap
from geo.errors import GridError

LOG = logging.getLogger("geo.grid.hosting")   # its runs' line goes with hosting's own

#: Batches per run (a run of 8 x 256 = 2,048 POIs: TAMU's Eastern island is 10 runs, its
#: Western 3). Our choice: shorter runs share the work out more evenly. Which islands are
#: paged depends on it, so it keys results through geo.grid.shipped.MODEL_VERSION.
RUN_BATCHES = 8

#: n1 counters of a run (geo.grid.hosting)
COUNTERS = ("solves", "shared", "skipped_bridges", "outages_screened", "shift_checks")


def parts(n_targets: int, batch: int) -> list[slice]:
    """The runs of an island's ``n_targets`` POIs (in the screen's order) for batches of
    ``batch``: one slice when they fit in :data:`RUN_BATCHES` batches.

    >>> parts(5000, 256)
    [slice(0, 2048, None), slice(2048, 4096, None), slice(4096, 5000, None)]
    >>> parts(100, 256)
    [slice(0, 100, None)]
    """
    size = RUN_BATCHES * max(int(batch), 1)
    return [slice(start, min(start + size, n_targets))
            for start in range(0, max(n_targets, 1), size)]


def workers(setting: int | None, n_jobs: int) -> int:
    """Worker processes for ``n_jobs`` runs: the setting, else one per core this process
    may use, never more than the runs; 1 means no worker process."""
    if setting is None:
        setting = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
    return max(1, min(int(setting), n_jobs))


@dataclass
class Job:
    """One run: the island's screen (:func:`geo.grid.hosting._island`, given by the caller:
    this module never imports it) and its arguments (shared by the island's runs), the
    run's slice of the ordered POIs, and whether its store is paged (every run of an island
    of several; only those go to worker processes)."""

    screen: Callable[..., Iterator[tuple]]
    args: dict[str, Any]
    part: slice
    paged: bool
    page_dir: str | None = None

    @property
    def island(self) -> int:
        return int(self.args["nodes"][0])


@dataclass
class Result:
    """A run's batches (as :func:`geo.grid.hosting._island` yields them), its n1 counters,
    and, for a paged store, every edge's own PTDF it holds after the run (NaN: not yet)."""

    batches: list
    counts: dict[str, int] = field(default_factory=dict)
    pkk: np.ndarray | None = None


def run(job: Job, reuse: dict) -> Result:
    """Run ``job`` here; ``reuse`` keeps the island's factorisation and store across its
    runs (and across calls, as :func:`geo.grid.hosting.hosting` documents)."""
    counts = dict.fromkeys(COUNTERS, 0)
    tables: list = []
    batches = list(job.screen(**job.args, n1=counts, reuse=reuse, part=job.part,
                              paged=job.paged, page_dir=job.page_dir, tables=tables))
    pkk = None
    if job.paged and tables:
        pkk = np.where(tables[0].pkk_known, tables[0].pkk, np.nan)
    return Result(batches, counts, pkk)


def settle(jobs: list[Job], found: dict[int, list[np.ndarray]], reuse: dict | None,
           n_workers: int, solves: int) -> int:
    """After the runs: the paged islands' LODF solves for the report (their pages' columns,
    once each, however many processes solved them: the same for any number of workers), the
    solves actually made logged, and the merged stores kept in ``reuse`` when given."""
    merged = {k: merged_pkk(pkks) for k, pkks in found.items()}
    LOG.info("hosting: %d runs, %d worker process(es), %d LODF solves in paged stores",
             len(jobs), n_workers if n_workers > 1 else 0, solves)
    if reuse is not None:
        keep_merged_stores(jobs, merged, reuse)
    return sum(int(np.isfinite(pkk).sum()) for pkk in merged.values())


def keep_merged_stores(jobs: list[Job], merged: dict[int, np.ndarray], reuse: dict) -> None:
    """For each island screened in runs (paged stores), keep in ``reuse`` an unpaged store
    (its factorisation made here if workers ran the runs) holding the edges' own PTDFs that
    the runs' stores held: the same pages, so the same values, whoever ran them."""
    for job in jobs:
        start = job.island
        if start not in merged or job.part.start != 0:
            continue
        tables: list = []
        empty = {**job.args, "targets": job.args["targets"][:0], "tcol": job.args["tcol"][:0]}
        with threadpool_limits(limits=1, user_api="blas"):
            for _ in job.screen(**empty, n1=dict.fromkeys(COUNTERS, 0), reuse=reuse,
                                tables=tables):
                pass
        tables[0].seed_pkk(merged[start])


@contextlib.contextmanager
def share_pages(jobs: list[Job]) -> Iterator[str]:
    """A temporary folder per paged island, set as its jobs' ``page_dir`` while inside:
    the processes on one island solve each page of its store about once between them."""
    with tempfile.TemporaryDirectory(prefix="geo-rank-pages-") as top:
        for job in jobs:
            if job.paged:
                job.page_dir = os.path.join(top, str(job.island))
                os.makedirs(job.page_dir, exist_ok=True)
        try:
            yield top
        finally:
            for job in jobs:
                job.page_dir = None


#: A worker process's program.
WORKER = "from geo.grid.island_runs import _serve; _serve()"

_KEPT: dict = {}   # a worker's factorisation and paged store of the island it is on


def _work(job: Job) -> Result:
    # threadpool_limits reaches only the BLAS libraries loaded by then: SciPy's, which
    # SuperLU calls, came with this module (and the job's screen); a second thread would
    # only spin in its small supernodes
    if _KEPT.get("island") != job.island:    # the jobs come island by island
        _KEPT.clear()
        _KEPT["island"] = job.island
    with threadpool_limits(limits=1, user_api="blas"), reused_heap():
        return run(job, _KEPT)


def results(jobs: list[Job], n_workers: int, reuse: dict) -> Iterator[Result]:
    """Each job's result, in the jobs' order. With ``n_workers`` above 1 the paged jobs go
    to that many worker processes (:data:`WORKER`, fed by pipes; unlike
    :mod:`multiprocessing`'s spawn they never import the caller's main module, so a script
    or notebook needs no ``__main__`` guard), each taking the next when it is free, while
    the others run here with ``reuse``; else all run here, in order."""
    away = [i for i, job in enumerate(jobs) if job.paged] if n_workers > 1 else []
    if not away:
        for job in jobs:
            yield run(job, reuse)
        return
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env)
             for _ in range(min(n_workers, len(away)))]
    done = {i: threading.Event() for i in away}
    out: dict[int, Any] = {}
    queue = iter(away)
    lock = threading.Lock()

    def drive(proc: subprocess.Popen) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                return
            try:
                pickle.dump(jobs[i], proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                proc.stdin.flush()
                out[i] = pickle.load(proc.stdout)
            except (EOFError, OSError):
                try:
                    out[i] = ("ended", proc.wait(timeout=10))
                except subprocess.TimeoutExpired:
                    out[i] = ("ended", None)
            except Exception as exc:      # a reply that does not unpickle
                out[i] = ("error", exc)
            finally:
                done[i].set()
            if out[i][0] != "ok":
                return

    threads = [threading.Thread(target=drive, args=(proc,), daemon=True) for proc in procs]
    try:
        for thread in threads:
            thread.start()
        here = {i: run(job, reuse) for i, job in enumerate(jobs) if i not in done}
        for i in range(len(jobs)):
            if i in here:
                yield here.pop(i)
                continue
            while not done[i].wait(1.0):
                if not any(thread.is_alive() for thread in threads):
                    raise GridError("the grid worker processes stopped before every run "
                                    "was done; set grid_workers = 1")
            status, value = out.pop(i)
            if status == "error":
                raise value
            if status != "ok":
                raise GridError(f"a grid worker process ended without its result (exit code "
                                f"{value}); with little memory, set grid_workers = 1")
            yield value
    finally:
        for proc in procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _serve() -> None:
    """A worker: runs the jobs read from stdin and writes each ``(status, value)`` to the
    stdout it was given (anything the run prints goes to stderr)."""
    inp = sys.stdin.buffer
    reply = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    while True:
        try:
            job = pickle.load(inp)
        except EOFError:
            return
        try:
            answer: tuple[str, Any] = ("ok", _work(job))
        except Exception as exc:          # handed to the parent, which raises it
            answer = ("error", exc)
        pickle.dump(answer, reply, protocol=pickle.HIGHEST_PROTOCOL)
        reply.flush()


def merged_pkk(found: list[np.ndarray]) -> np.ndarray:
    """The edges' own PTDFs of an island's runs: each from the first run that found it.

    >>> merged_pkk([np.array([np.nan, 1.0]), np.array([2.0, 3.0])]).tolist()
    [2.0, 1.0]
    """
    out = np.full(len(found[0]), np.nan)
    for pkk in found:
        fill = np.isnan(out) & ~np.isnan(pkk)
        out[fill] = pkk[fill]
    return out
