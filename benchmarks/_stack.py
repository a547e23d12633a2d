"""What a benchmark ran on: the library versions (printed first) and this process's peak
memory (printed last), so that every figure names the stack it was measured on.

The issue's figures are for what users install (``pip install .``: the newest releases);
a run in the development environment or the oldest-versions one says so by its versions.
"""

from __future__ import annotations

import atexit
import os
import platform
import resource
import sys
from importlib import metadata

#: The distributions whose versions move the figures (absent ones print "-").
PACKAGES = ("geo-rank", "pandas", "numpy", "geopandas", "shapely", "pyarrow", "pyproj",
            "scipy", "h3", "dask", "distributed")


def versions() -> str:
    """One line: Python, the platform, the cores, and each of :data:`PACKAGES`."""
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} -")
    pool = os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "pyarrow's default")
    return (f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} cores; " + ", ".join(found) + f"; arrow allocator: {pool}")


def peak_mb(children: bool = False) -> float:
    """Peak resident set of this process (or the largest child it waited for), MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    kb = resource.getrusage(who).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def announce() -> None:
    """Print the versions now and the peak memory when the benchmark exits."""
    print(versions(), flush=True)
    atexit.register(lambda: print(f"peak RSS: this process {peak_mb():,.0f} MB, the largest "
                                  f"child process waited for {peak_mb(True):,.0f} MB",
                                  flush=True))
