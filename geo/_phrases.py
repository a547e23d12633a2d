"""The pieces of a reasons line (:mod:`geo._reasons`): a line of parts joined once per row
(:class:`Line`), text and number columns read null-aware, and numbers formatted once per
shown value (:func:`fmt`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from geo._arrays import Columns, as_float, encoded

__all__ = ["FIELD", "MERGE_DISTINCT", "Line", "Part", "Text", "as_text", "contains",
           "float_column", "fmt", "fmt_at", "fmt_vs", "present", "shown_value", "text_codes",
           "text_column"]


class Line:
    """A line per row, built from parts (a str for every row, or one text per row) that
    are joined once at the end (:meth:`join_arrow`).

    A part is a :class:`Part`: codes into its distinct texts (4 bytes a row), or one text
    for every row. Joining merges neighbouring parts while their distinct combinations stay
    few (:data:`MERGE_DISTINCT`), concatenating each combination's text once, not once per
    row, and arrow joins the few merged parts row by row: no Python string is made per row,
    and the lines come out in arrow's form, the form of pandas 3's text columns."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.parts: list[Part] = []

    def _part(self, part: str | np.ndarray | Part, where: np.ndarray | None) -> Part:
        if isinstance(part, str):
            if where is None:
                return Part(None, [part])
            return Part(np.asarray(where, dtype=np.int32), ["", part])
        if not isinstance(part, Part):
            part = Part(*_codes(np.asarray(part, dtype=object)))
        if where is None:
            return part
        if part.codes is None:
            return Part(np.asarray(where, dtype=np.int32), ["", part.values[0]])
        blank = len(part.values)
        return Part(np.where(where, part.codes, np.int32(blank)).astype(np.int32, copy=False),
                    [*part.values, ""])

    def add(self, *parts: str | np.ndarray | Part) -> None:
        """Parts said on every row."""
        self.parts.extend(self._part(p, None) for p in parts)

    def add_if(self, where: np.ndarray, *parts: str | np.ndarray | Part) -> None:
        """Parts said on the rows where ``where`` holds."""
        if where.any():  # a part said nowhere is left out
            self.parts.extend(self._part(p, where) for p in parts)

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

    def extend_tail(self, other: Line, skip: int) -> None:
        """Add ``other``'s parts without their first ``skip`` rows (``other`` holds
        ``skip`` rows ahead of this line's)."""
        self.parts.extend(part if part.codes is None else Part(part.codes[skip:], part.values)
                          for part in other.parts)

    def blank(self, rows: np.ndarray) -> None:
        """Say nothing on the ``rows`` (a mask)."""
        if rows.any():
            self.parts = [self._part(part, ~rows) for part in self.parts]

    def join_arrow(self) -> Any:
        """The lines as an arrow ``large_string`` array."""
        import pyarrow as pa
        import pyarrow.compute as pc

        text = pa.large_string()
        merged = _merge(self.parts, max(MERGE_DISTINCT, self.n // 32))
        columns = [pa.array(p.values, type=text).take(pa.array(p.codes))
                   for p in merged if p.codes is not None]
        constant = "".join(p.values[0] for p in merged if p.codes is None)
        if not columns or constant:  # at most one constant part is left: the whole line
            columns.append(pa.array([constant] * self.n, type=text))
        if len(columns) == 1:
            return columns[0]
        return pc.binary_join_element_wise(*columns, pa.scalar("", text))

    def join(self) -> np.ndarray:
        """One str per row (object array)."""
        out: np.ndarray = self.join_arrow().to_numpy(zero_copy_only=False).astype(object)
        return out


class Part(NamedTuple):
    """A part of a :class:`Line`: row ``i`` says ``values[codes[i]]``; ``codes`` None: the
    one value on every row."""

    codes: np.ndarray | None
    values: list[str]

    def tolist(self) -> list[str]:
        """The text of each row (a part with codes)."""
        if self.codes is None:
            raise ValueError("a part said on every row has no rows of its own")
        values = np.asarray(self.values, dtype=object)
        return list(values[self.codes]) if len(values) else []


#: Neighbouring parts of a :class:`Line` are merged while their distinct combinations are
#: at most this many (or a 32nd of the rows, if more).
MERGE_DISTINCT = 4096


def _merge(parts: list[Part], limit: int) -> list[Part]:
    """Neighbouring parts merged into one while their distinct combinations (their texts
    concatenated) are at most ``limit``; a constant part merges into any."""
    out: list[Part] = []
    acc: Part | None = None
    for part in parts:
        if acc is None:
            acc = part
        elif part.codes is None:
            acc = Part(acc.codes, [v + part.values[0] for v in acc.values])
        elif acc.codes is None:
            acc = Part(part.codes, [acc.values[0] + v for v in part.values])
        else:
            width = len(part.values)
            pair = acc.codes.astype(np.int64) * width + part.codes
            codes, combos = _pairs(pair, len(acc.values) * width)
            if len(combos) > limit:
                out.append(acc)
                acc = part
                continue
            values = [acc.values[k // width] + part.values[k % width]
                      for k in combos.tolist()]
            acc = Part(codes.astype(np.int32, copy=False), values)
    if acc is not None:
        out.append(acc)
    # a constant part left between two merged ones: into its neighbour's texts
    final: list[Part] = []
    for part in out:
        if final and part.codes is None:
            last = final[-1]
            final[-1] = Part(last.codes, [v + part.values[0] for v in last.values])
        elif final and final[-1].codes is None:
            final[-1] = Part(part.codes, [final[-1].values[0] + v for v in part.values])
        else:
            final.append(part)
    return final


def _pairs(pair: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the distinct values of ``pair`` (integers in ``[0, bound)``) and those
    values: by marking them in a table of ``bound`` flags where that is no larger than a
    few times the rows (no hashing), else by hashing (:func:`pandas.factorize`). The codes
    may number the values in another order than hashing's, the texts they stand for are
    the same."""
    if bound > max(4 * len(pair), 1 << 16):
        return pd.factorize(pair)
    seen = np.zeros(bound, dtype=bool)
    seen[pair] = True
    number = np.cumsum(seen, dtype=np.int32) - 1
    return number[pair], np.flatnonzero(seen)


def _codes(texts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes into the distinct texts."""
    codes, values = pd.factorize(texts, use_na_sentinel=False)
    return codes.astype(np.int32, copy=False), list(np.asarray(values, dtype=object))


class Text(Part):
    """A text column as a :class:`Part` whose texts are distinct (equal codes, equal texts):
    tests against a text are made once per distinct text, and two rows of one column are
    equal where their codes are."""

    codes: np.ndarray

    def eq(self, text: str) -> np.ndarray:
        """True where the row's text is ``text``."""
        return np.asarray([v == text for v in self.values], dtype=bool)[self.codes]

    def ne(self, text: str) -> np.ndarray:
        """True where the row's text is not ``text``."""
        return ~self.eq(text)

    def contains(self, word: str) -> np.ndarray:
        """True where the row's text holds ``word``."""
        return np.asarray([word in v for v in self.values], dtype=bool)[self.codes]

    def map(self, texts: dict[str, str]) -> Part:
        """Each row's text looked up in ``texts`` ("" where it is not there)."""
        return Part(self.codes, [texts.get(v, "") for v in self.values])

    def or_else(self, other: Text) -> Text:
        """This text, or ``other``'s where this one is ""."""
        codes = np.where(self.eq(""), other.codes + len(self.values), self.codes)
        return _distinct(codes, [*self.values, *other.values])

    def previous(self) -> Text:
        """Each row's text the previous row's (the first row's its own)."""
        return Text(np.concatenate([self.codes[:1], self.codes[:-1]]), self.values)


def _distinct(codes: np.ndarray, values: list[str]) -> Text:
    """A :class:`Text` of row codes into ``values`` that may repeat a text."""
    remap, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    return Text(remap.astype(np.int32, copy=False)[codes], list(distinct))


def as_text(values: np.ndarray) -> Text:
    """An array of str as a :class:`Text`."""
    return Text(*_codes(np.asarray(values, dtype=object)))


def contains(text: np.ndarray | Text, word: str) -> np.ndarray:
    """True where the text holds ``word`` (each distinct text tested once)."""
    if isinstance(text, Text):
        return text.contains(word)
    codes, values = pd.factorize(text)
    return np.array([word in v for v in values.tolist()] + [False], dtype=bool)[codes]


def text_codes(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """A column's rows as codes into its distinct values (an object array ending with
    None, the code of every null), by hashing each value once: a categorical (pandas
    ``category``) by its own codes, pandas 3's text and arrow dictionaries by arrow, with
    no Python string per row. In an object column that holds other values than text,
    each value is its ``str`` first (hashing would take 1, 1.0 and True for one value)."""
    values = values.array if isinstance(values, pd.Series) else values
    if isinstance(values, pd.Categorical):
        codes = np.asarray(values.codes)
        uniques: Any = values.categories
    else:
        if isinstance(values, np.ndarray | pd.arrays.NumpyExtensionArray) and \
                np.asarray(values).dtype == object:
            values = np.asarray(values)
            null = pd.isna(values)
            if pd.api.types.infer_dtype(values[~null], skipna=False) not in ("string", "empty"):
                values = np.where(null, None, values)
                values[~null] = [str(v) for v in values[~null].tolist()]
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = np.empty(len(uniques) + 1, dtype=object)
    distinct[:-1] = np.asarray(uniques, dtype=object)
    width = np.int8 if len(distinct) < 2**7 else np.int16 if len(distinct) < 2**15 else np.int32
    return np.where(codes < 0, len(uniques), codes).astype(width), distinct


def text_column(sites: Columns, column: str, n: int | None = None) -> Text:
    """A column as text, "" where null or absent (``n`` rows: the count of an absent
    column's rows; else read from the columns), each value that is not text its ``str``.

    A frame's column (:func:`geo._arrays.arrays`) is coded once, whole, and each read of
    some of its rows takes their codes (:func:`geo._arrays.encoded`, :func:`text_codes`)."""
    if column not in sites:
        count = n if n is not None else len(next(iter(sites.values())))
        return Text(np.zeros(count, dtype=np.int32), [""])
    codes, distinct = encoded(sites, column, text_codes)
    texts = ["" if v is None or (pd.api.types.is_scalar(v) and pd.isna(v))
             else v if isinstance(v, str) else str(v) for v in distinct.tolist()]
    return _distinct(codes, texts)


def present(sites: Columns, column: str, n: int) -> np.ndarray:
    """True where the column holds a value (absent column: all False), each distinct value
    tested once (:func:`text_codes`: the codes of a frame's column made once, whole)."""
    if column not in sites:
        return np.zeros(n, dtype=bool)
    codes, distinct = encoded(sites, column, text_codes)
    return ~np.asarray(pd.isna(distinct), dtype=bool)[codes]


def float_column(sites: Columns, column: str) -> np.ndarray:
    return as_float(sites, column)


def fmt(values: np.ndarray, spec: str) -> Part:
    """Format non-NaN numbers with ``spec`` (its text included); NaN becomes "": a
    :class:`Part` (codes into the distinct texts).

    ``spec`` holds one fixed-point field (``{:,.1f}``, ``{:.0f}``). Each distinct value is
    formatted once (many rows share a POI, a voltage, a state's price), and most values are
    first reduced to the integer their text shows (:func:`shown_value`), so that a million
    distances become a few hundred distinct tenths of a kilometre.
    """
    fmt: Callable[[float], str] = spec.format
    values = np.ascontiguousarray(values, dtype=float)
    digits = int(FIELD.search(spec).group(1))  # type: ignore[union-attr]
    shown, exact = shown_value(values, digits)
    codes = np.empty(len(values), dtype=np.int32)
    texts: list[str] = []
    if exact.any():
        whole = shown[exact].astype(np.int64)  # integers below 2**40 (shown_value)
        low = int(whole.min())
        inverse, keys = _pairs(whole - low, int(whole.max()) - low + 1)
        scale = 10.0 ** digits
        texts = [fmt((k + low) / scale) for k in np.asarray(keys).tolist()]
        codes[exact] = inverse
    rest = ~exact
    if rest.any():
        # Distinct by bit pattern, so -0.0 and 0.0 stay apart as str.format keeps them.
        inverse, bits = pd.factorize(values[rest].view(np.int64))
        codes[rest] = inverse + len(texts)
        texts += [fmt(v) if v == v else "" for v in bits.view(float).tolist()]
    return Part(codes, texts)


def fmt_at(values: np.ndarray, spec: str, rows: np.ndarray) -> Part:
    """:func:`fmt` of the ``rows`` (a mask) only; "" elsewhere."""
    shown = fmt(np.asarray(values)[rows], spec)
    codes = np.full(len(values), len(shown.values), dtype=np.int32)
    assert shown.codes is not None  # fmt gives codes
    codes[rows] = shown.codes
    return Part(codes, [*shown.values, ""])


def fmt_vs(values: np.ndarray, spec: str, rows: np.ndarray) -> tuple[Part, Part]:
    """:func:`fmt_at` of ``values`` and of the previous row's values after " vs " (each
    row's first value, its own), on the ``rows`` (a mask): ``"{:,.1f}"`` and ``" vs
    {:,.1f}"`` of the row above, each value formatted once for both (NaN: "")."""
    above = np.concatenate([rows[1:], [False]])
    both = fmt_at(values, spec, rows | above)
    assert both.codes is not None  # fmt_at gives codes
    blank = len(both.values) - 1   # its "" (fmt_at's last text)
    before = np.concatenate([both.codes[:1], both.codes[:-1]])
    return (Part(np.where(rows, both.codes, blank), both.values),
            Part(np.where(rows, before, blank), [" vs " + t if t else "" for t in both.values]))


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
