"""The pieces of a reasons line (:mod:`geo._reasons`): a line of parts joined once per row
(:class:`Line`), text and number columns read null-aware, and numbers formatted once per
shown value (:func:`fmt`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from geo._arrays import Columns, as_float

__all__ = ["FIELD", "JOIN_ROWS", "Line", "contains", "float_column", "fmt", "fmt_at",
           "shown_value", "text_column"]


class Line:
    """A line per row, built from parts (a str for every row, or one str per row) that
    are joined once at the end: cheaper than adding strings a part at a time."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.parts: list[np.ndarray] = []

    def _column(self, part: str | np.ndarray, where: np.ndarray | None) -> np.ndarray:
        if not isinstance(part, str):
            column = np.asarray(part, dtype=object)
            return column if where is None else np.where(where, column, "")
        column = np.empty(self.n, dtype=object)  # np.full makes a str per row: slower
        column.fill(part if where is None else "")
        if where is not None:
            column[where] = part
        return column

    def add(self, *parts: str | np.ndarray) -> None:
        """Parts said on every row."""
        self.parts.extend(self._column(p, None) for p in parts)

    def add_if(self, where: np.ndarray, *parts: str | np.ndarray) -> None:
        """Parts said on the rows where ``where`` holds."""
        if where.any():  # a part said nowhere is left out
            self.parts.extend(self._column(p, where) for p in parts)

    def add_list(self, title: str, items: list[tuple[Any, ...]]) -> None:
        """``title`` and the items that hold, separated by commas ("; other paths: grid 36
        months, gas 30 months"): each item is (where, part, ...)."""
        wheres = [np.asarray(where, dtype=bool) for where, *_ in items]
        self.add_if(np.logical_or.reduce(wheres), title)
        said = np.zeros(self.n, dtype=bool)
        for where, (_, *parts) in zip(wheres, items, strict=True):
            self.add_if(where & ~said, " ")
            self.add_if(where & said, ", ")
            self.add_if(where, *parts)
            said |= where

    def join(self) -> np.ndarray:
        """One str per row (object array)."""
        out = np.empty(self.n, dtype=object)
        for lo in range(0, self.n, JOIN_ROWS):  # blocks of rows: the lists stay in cache
            hi = min(lo + JOIN_ROWS, self.n)
            rows = map("".join, zip(*(p[lo:hi].tolist() for p in self.parts), strict=True))
            out[lo:hi] = np.fromiter(rows, dtype=object, count=hi - lo)
        return out


#: Rows per block in :meth:`Line.join`.
JOIN_ROWS = 16_384


def contains(text: np.ndarray, word: str) -> np.ndarray:
    """True where the text holds ``word`` (each distinct text tested once)."""
    codes, values = pd.factorize(text)
    return np.array([word in v for v in values.tolist()] + [False], dtype=bool)[codes]


def text_column(sites: Columns, column: str) -> np.ndarray:
    """A column as an object array of str, "" where null or absent."""
    if column not in sites:
        return np.full(len(next(iter(sites.values()))), "", dtype=object)
    values = np.asarray(sites[column], dtype=object)
    out = np.where(pd.isna(values), "", values)
    if pd.api.types.infer_dtype(out, skipna=False) != "string":
        out = np.array([str(v) for v in out.tolist()], dtype=object)
    return out


def float_column(sites: Columns, column: str) -> np.ndarray:
    return as_float(sites, column)


def fmt(values: np.ndarray, spec: str) -> np.ndarray:
    """Format non-NaN numbers with ``spec`` (its text included); NaN becomes "".

    ``spec`` holds one fixed-point field (``{:,.1f}``, ``{:.0f}``). Each distinct value is
    formatted once (many rows share a POI, a voltage, a state's price), and most values are
    first reduced to the integer their text shows (:func:`shown_value`), so that a million
    distances become a few hundred distinct tenths of a kilometre.
    """
    fmt: Callable[[float], str] = spec.format
    values = np.ascontiguousarray(values, dtype=float)
    digits = int(FIELD.search(spec).group(1))  # type: ignore[union-attr]
    shown, exact = shown_value(values, digits)
    out = np.empty(len(values), dtype=object)
    if exact.any():
        inverse, keys = pd.factorize(shown[exact])  # hashing: no sort
        scale = 10.0 ** digits
        text = np.array([fmt(k / scale) for k in keys.tolist()], dtype=object)
        out[exact] = text[inverse]
    rest = ~exact
    if rest.any():
        # Distinct by bit pattern, so -0.0 and 0.0 stay apart as str.format keeps them.
        left = values[rest]
        inverse, bits = pd.factorize(left.view(np.int64))
        text = np.array([fmt(v) if v == v else "" for v in bits.view(float).tolist()],
                        dtype=object)
        out[rest] = text[inverse]
    return out


def fmt_at(values: np.ndarray, spec: str, rows: np.ndarray) -> np.ndarray:
    """:func:`fmt` of the ``rows`` (a mask) only; "" elsewhere."""
    out = np.empty(len(values), dtype=object)
    out.fill("")
    out[rows] = fmt(np.asarray(values)[rows], spec)
    return out


#: The fixed-point field of a :func:`fmt` spec; group 1: its decimals.
FIELD = re.compile(r"\{:,?\.(\d)f\}")


def shown_value(values: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """The integer ``k`` such that ``format(v, f".{digits}f")`` reads ``k / 10**digits``,
    and where that is certain.

    Python rounds the exact binary value half to even. ``v * 10**digits`` is within a few
    units in the last place of that exact product, so its nearest integer is the shown one
    unless the fraction is within that error of one half: those values, negative numbers
    (and -0.0), NaN and values too large for exact integers are left to ``str.format``.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * 10.0 ** digits
        whole = np.floor(scaled)
        frac = scaled - whole
        exact = ((values >= 0) & ~np.signbit(values) & (scaled < 2.0 ** 40)
                 & (np.abs(frac - 0.5) > 4 * np.spacing(scaled) + 1e-9))
    return np.where(exact, whole + (frac > 0.5), 0.0), exact
