"""Wall time of ``geo-rank --region US`` cold (empty grid cache) and warm (cached metrics).

Run: ``python benchmarks/bench_rank.py [--region US] [--load-mw 300]``. Each run is a fresh
process, as a user meets it; the cold run uses an empty temporary cache folder. Prints a
table; this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _stack  # benchmarks/ is on sys.path when a benchmark runs as a script


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one ``geo-rank`` process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "geo", "-q", *args], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"geo-rank failed with exit code {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    _stack.announce()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--region", default="US")
    parser.add_argument("--load-mw", default="300")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.toml"
        cfg.write_text(f'cache_dir = "{Path(tmp) / "cache"}"\n')
        args = ["--region", opts.region, "--load-mw", opts.load_mw, "--config", str(cfg),
                "--out", str(Path(tmp) / "exports"), "--map", str(Path(tmp) / "map.html")]
        env = dict(os.environ)
        rows = [("cold (empty cache)", *run(args, env)), ("warm (cached grid)", *run(args, env))]
    print(f"geo-rank --region {opts.region} --load-mw {opts.load_mw}")
    print(f"{'run':<20} {'seconds':>8} {'peak RSS MB':>12}")
    for name, sec, mb in rows:
        print(f"{name:<20} {sec:>8.1f} {mb:>12.0f}")


if __name__ == "__main__":
    main()
