"""geo-rank: rank AI data-center sites by available grid power first, land second.

>>> import geo
>>> callable(geo.rank_sites)
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("geo-rank")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["RankResult", "Settings", "__version__", "rank_portfolio", "rank_sites"]


def __getattr__(name: str) -> Any:
    """Import the pipeline on first use, so ``import geo`` stays light and cycle-free."""
    if name in ("rank_sites", "rank_portfolio", "RankResult"):
        from geo import pipeline

        return getattr(pipeline, name)
    if name == "Settings":
        from geo.settings import Settings

        return Settings
    raise AttributeError(f"module 'geo' has no attribute {name!r}")
