"""The one progress reporter of geo-rank: tqdm bars on stderr, drawn by the CLI only.

The library never draws: it calls a callback (``progress(step, done, total)`` from
:func:`geo.rank_sites`, ``progress(done, total)`` from :func:`geo.grid.metrics`) and logs.
Every command that has long steps hands in a :class:`ProgressBars`; ``-q`` turns it off
(:func:`for_command`), and a bar is only drawn on a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

import click
from tqdm import tqdm


class ProgressBars:
    """One tqdm bar per step, created on the step's first callback (none on a cache hit).

    Use as a context manager so the bars are closed when the command ends or fails::

        with ProgressBars(enabled=True) as bars:
            rank_sites(..., progress=bars)              # progress(step, done, total)
            grid.metrics(..., progress=bars.step("hosting"))   # progress(done, total)
    """

    def __init__(self, enabled: bool, unit: str = "sub") -> None:
        self.enabled, self.unit = enabled, unit
        self.bars: dict[str, tqdm] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        bar = self.bars.get(step)
        if bar is None:
            bar = self.bars[step] = tqdm(total=total, desc=step, unit=self.unit, leave=False,
                                         file=sys.stderr, disable=None)
        bar.update(done - bar.n)

    def step(self, name: str) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callback for one named step."""
        return lambda done, total: self(name, done, total)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def for_command(ctx: click.Context) -> ProgressBars:
    """The progress reporter of a command: silent under ``geo-rank -q``."""
    return ProgressBars(enabled=not ctx.find_root().params.get("quiet", False))
