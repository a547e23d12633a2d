"""The backtest: how well the ranking finds real campuses (``geo-rank evaluate``).

:mod:`geo.backtest.run` (the run), ``points`` (known sites, background points and the naive
proxies), ``evaluate`` (AUC, ROC and bootstrap intervals) and ``report`` (files and map).
"""

from geo.backtest.run import (
    DEFAULT_BACKGROUND,
    DEFAULT_BOOTSTRAP,
    DEFAULT_RESOLUTION,
    RANKING_LABEL,
    BacktestResult,
    backtest,
)

__all__ = ["DEFAULT_BACKGROUND", "DEFAULT_BOOTSTRAP", "DEFAULT_RESOLUTION", "RANKING_LABEL",
           "BacktestResult", "backtest"]
