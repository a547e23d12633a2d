"""Memory of a partitioned Dask run (issue 31 item 5): the client and each worker over time.

Run: ``python benchmarks/bench_dask.py [--region US] [--res 8] [--partition-sites N]
[--cache-dir DIR] [--out DIR] [--every 5]``.

Runs ``geo-rank --region REGION --candidates h3:RES --all-candidates --format parquet
--engine dask --no-map`` in this process (so that the client's peak is this process's own,
not the largest of its children) on a local cluster of two single-threaded workers, and
prints:

* the client's peak RSS (``getrusage(RUSAGE_SELF)``);
* every worker's RSS after each of its partitions, as the worker measured it (the engine's
  log lines ``partition i, n sites; its worker at X MB (peak Y MB)``): the first and the
  last partitions of each worker say whether its memory stays flat;
* each descendant process's largest RSS seen by a sampler thread every ``--every`` seconds,
  and the CPU seconds of the client and of every descendant;
* wall seconds and the 1-minute load average at the start.

This is a benchmark, not a test: the US at res 8 takes tens of minutes and about 5 GB in
all (the client and two workers).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import resource
import tempfile
import threading
import time
from pathlib import Path

import _stack  # benchmarks/ is on sys.path when a benchmark runs as a script


class Sampler(threading.Thread):
    """Largest RSS and latest CPU seconds of every descendant process, sampled."""

    def __init__(self, every: float) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.peak_mb: dict[int, float] = {}
        self.cpu_s: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stop.wait(self.every):
            for child in me.children(recursive=True):
                try:
                    rss = child.memory_info().rss / 2**20
                    cpu = child.cpu_times()
                    name = " ".join(child.cmdline()[-2:])[-60:]
                except psutil.Error:
                    continue
                self.peak_mb[child.pid] = max(self.peak_mb.get(child.pid, 0.0), rss)
                self.cpu_s[child.pid] = cpu.user + cpu.system
                self.names[child.pid] = name


class Lines(logging.Handler):
    """The engine's per-partition memory lines, with the time they arrived."""

    def __init__(self, start: float) -> None:
        super().__init__(logging.INFO)
        self.start = start
        self.rows: list[tuple[float, int, int, int, float, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        m = re.search(r"partition (\d+), (\d+) sites; its worker \(pid (\d+)\) at (\d+) MB "
                      r"\(peak (\d+) MB\)", text)
        if m:
            self.rows.append((time.perf_counter() - self.start, int(m[1]), int(m[2]),
                              int(m[3]), float(m[4]), float(m[5])))
        elif record.name.startswith("geo."):
            print(f"  [{time.perf_counter() - self.start:7.1f} s] {text}", flush=True)


def main() -> None:
    from geo.cli.app import ARROW_POOL

    # what `geo-rank` sets before pyarrow loads (geo.cli.app.main), inherited by the workers
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", ARROW_POOL)
    _stack.announce()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--region", default="US")
    parser.add_argument("--res", type=int, default=8)
    parser.add_argument("--partition-sites", type=int, default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--every", type=float, default=5.0)
    opts = parser.parse_args()
    from geo import engine
    from geo.cli.app import cli

    if opts.partition_sites:
        engine.PARTITION_SITES = opts.partition_sites
    out = Path(opts.out or tempfile.mkdtemp(prefix="geo-rank-dask-"))
    args = ["-q", "rank", "--region", opts.region, "--candidates", f"h3:{opts.res}",
            "--all-candidates", "--format", "parquet", "--engine", "dask", "--no-map",
            "--out", str(out), "--overwrite"]
    if opts.cache_dir:
        cfg = out / "bench.toml"
        out.mkdir(parents=True, exist_ok=True)
        cfg.write_text(f'cache_dir = "{opts.cache_dir}"\n')
        args += ["--config", str(cfg)]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    lines = Lines(start)
    for name in ("geo.engine", "geo.partitions", "geo.pipeline"):
        logging.getLogger(name).addHandler(lines)
        logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger(name).propagate = False
    sampler = Sampler(opts.every)
    sampler.start()
    print(f"geo-rank {' '.join(args)}  (load {load:.2f})", flush=True)
    try:
        cli.main(args=args, prog_name="geo-rank", standalone_mode=False)
    finally:
        wall = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nwall {wall:.1f} s, load {load:.2f} at the start")
    print(f"client: peak RSS {me.ru_maxrss / 1024:,.0f} MB, CPU {me.ru_utime + me.ru_stime:.1f} s")
    print(f"descendants (waited for): CPU {kids.ru_utime + kids.ru_stime:.1f} s; sampled:")
    for pid in sorted(sampler.peak_mb):
        print(f"  pid {pid}: peak RSS {sampler.peak_mb[pid]:,.0f} MB, "
              f"CPU {sampler.cpu_s[pid]:.1f} s  ({sampler.names[pid]})")
    print("partitions in the order they finished (s, partition, sites, worker, its RSS MB, "
          "its peak MB):")
    for row in lines.rows:
        print(f"  {row[0]:8.1f} {row[1]:5d} {row[2]:8,d} pid {row[3]} {row[4]:7,.0f} "
              f"{row[5]:7,.0f}")
    for pid in sorted({r[3] for r in lines.rows}):
        mine = [r for r in lines.rows if r[3] == pid]
        k = max(1, len(mine) // 10)
        first, last = mine[:k], mine[-k:]
        print(f"worker {pid}: {len(mine)} partitions; RSS after its first {k}: "
              f"{min(r[4] for r in first):,.0f}-{max(r[4] for r in first):,.0f} MB, "
              f"after its last {k}: {min(r[4] for r in last):,.0f}-"
              f"{max(r[4] for r in last):,.0f} MB; peak {max(r[5] for r in mine):,.0f} MB")


if __name__ == "__main__":
    main()
