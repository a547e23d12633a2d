"""Site columns as numpy arrays: taken out of a frame once, read null-aware, put back once.

The toolkit the array-level stages share (:mod:`geo.costs`, :mod:`geo.score`,
:mod:`geo._reasons`): a frame becomes a mapping of column name to array (:func:`arrays`,
numeric columns of the site table as floats), readers tolerate absent columns and nulls,
and :func:`add_columns` builds the output frame in one step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import columns

__all__ = ["NONE", "Columns", "add_columns", "arrays", "as_bool", "as_float", "codes_of",
           "encoded", "expand", "forget", "is_in", "merged", "pandas_form", "pandas_text",
           "present", "rows", "rows_at", "take", "take_with",
           "text_form", "text_order"]

Frame = TypeVar("Frame", bound=pd.DataFrame)
#: Columns taken out of a frame as arrays (see :func:`arrays`).
Columns = Mapping[str, np.ndarray]
#: ``None`` as numpy's stubs accept it: ``np.where(missing, NONE, values)`` is exactly
#: ``np.where(missing, None, values)`` (numpy turns a bare None into this 0-d object array).
NONE: np.ndarray = np.array(None, dtype=object)


class _FrameColumns(Mapping[str, np.ndarray]):
    """The columns of a frame as numpy arrays, each converted when first read and kept.

    Lazy because a text column of pandas 3 (``str``, held by arrow) becomes a new Python
    string per row when taken out as an object array: a stage that reads a few text
    columns should not pay for all of them (a few hundred bytes a row each)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._names = [str(c) for c in frame.columns]
        self._at = {name: i for i, name in enumerate(self._names)}  # the last of a repeat
        self._floats = set(columns.names(type="float"))
        self._done: dict[str, np.ndarray] = {}
        self._encoded: dict[tuple[str, object], tuple[np.ndarray, Any]] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._done:
            if name not in self._at:
                raise KeyError(name)
            column = self._frame.iloc[:, self._at[name]]
            if isinstance(column.dtype, pd.StringDtype):
                values = _shared_text(column)
            else:
                values = column.to_numpy()
            if name in self._floats:
                values = as_float({name: values}, name)
            self._done[name] = values
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._at

    def take(self, name: str, at: slice | np.ndarray) -> np.ndarray:
        """``self[name][at]``, converting only those rows when the column was not read
        whole (nothing is kept)."""
        if name in self._done:
            return self._done[name][at]
        if name not in self._at:
            raise KeyError(name)
        column = self._frame.iloc[:, self._at[name]]
        if isinstance(column.dtype, pd.StringDtype):
            part = column.iloc[at] if isinstance(at, slice) else column.take(at)
            values = _shared_text(part)
        else:
            values = column.to_numpy()[at]
        if name in self._floats:
            values = as_float({name: values}, name)
        return values

    def forget(self) -> None:
        """Drop the columns converted so far (each is converted again when read)."""
        self._done.clear()

    def encoded(self, name: str, encode: Callable[[Any], tuple[np.ndarray, Any]],
                ) -> tuple[np.ndarray, Any]:
        """``encode`` of the column (its Series), made once and kept (see :func:`encoded`)."""
        key = (name, encode)
        if key not in self._encoded:
            if name not in self._at:
                raise KeyError(name)
            self._encoded[key] = encode(self._frame.iloc[:, self._at[name]])
        return self._encoded[key]


def _shared_text(column: pd.Series) -> np.ndarray:
    """A text column as ``column.to_numpy()`` gives it (an object array, nulls as the dtype's
    null), each distinct text one Python string that its rows share: pandas 3 would make a
    string per row (a state code or a regime's sentence a million times over)."""
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    lookup = np.empty(len(distinct) + 1, dtype=object)
    lookup[:-1] = np.asarray(distinct, dtype=object)
    lookup[-1] = column.dtype.na_value
    out: np.ndarray = lookup[codes]
    return out


def arrays(frame: pd.DataFrame) -> Mapping[str, np.ndarray]:
    """Every column as a numpy array, converted once, when first read; ``float`` site
    columns with NaN."""
    return _FrameColumns(frame)


class _Rows(Mapping[str, np.ndarray]):
    """Some rows (a slice, or positions) of every column of ``data``, each taken when read."""

    def __init__(self, data: Columns, at: slice | np.ndarray) -> None:
        self._data, self._at = data, at

    def __getitem__(self, name: str) -> np.ndarray:
        return take(self._data, name, self._at)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, name: object) -> bool:
        return name in self._data


class _Merged(Mapping[str, np.ndarray]):
    """Several column mappings read as one; the first that holds a name gives it."""

    def __init__(self, maps: tuple[Columns, ...]) -> None:
        self.maps = maps
        self._names = list(dict.fromkeys(name for m in reversed(maps) for name in m))

    def __getitem__(self, name: str) -> np.ndarray:
        for m in self.maps:
            if name in m:
                return m[name]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return any(name in m for m in self.maps)


def take(data: Columns, name: str, at: slice | np.ndarray) -> np.ndarray:
    """``np.asarray(data[name])[at]``; a column of a frame (:func:`arrays`) that was not
    read whole is converted at those rows only, and not kept."""
    if isinstance(data, _Merged):
        for m in data.maps:
            if name in m:
                return take(m, name, at)
        raise KeyError(name)
    if isinstance(data, _FrameColumns):
        return data.take(name, at)
    return np.asarray(data[name])[at]


def encoded(data: Columns, name: str, encode: Callable[[Any], tuple[np.ndarray, Any]],
            at: slice | np.ndarray | None = None) -> tuple[np.ndarray, Any]:
    """``encode(column)``, a code per row and what the codes index, at the rows of ``data``
    (and of them, at ``at``).

    A frame's column (:func:`arrays`, also read through :func:`rows`, :func:`rows_at` and
    :func:`merged`) is encoded once, whole (``encode`` is given its Series), and kept: a
    caller that reads a block of rows at a time takes the block's codes from there (a
    gather of integers) instead of converting and hashing the rows' values again. Other
    columns are encoded at the rows read (``encode`` is given those rows: a numpy array,
    or a pandas array as the mapping holds it)."""
    if isinstance(data, _Rows):
        inner = data._at
        if at is not None:
            if isinstance(inner, slice):
                inner = np.arange(inner.start or 0, inner.stop, inner.step or 1)
            inner = inner[at]
        return encoded(data._data, name, encode, inner)
    if isinstance(data, _Merged):
        holder = next((m for m in data.maps if name in m), None)
        if holder is None:
            raise KeyError(name)
        return encoded(holder, name, encode, at)
    if isinstance(data, _FrameColumns):
        codes, what = data.encoded(name, encode)
        return (codes if at is None else codes[at]), what
    values = data[name]
    values = values.array if isinstance(values, pd.Series) else values
    if not isinstance(values, pd.api.extensions.ExtensionArray):
        values = np.asarray(values)
    return encode(values if at is None else values[at])


def text_order(data: Columns, name: str) -> np.ndarray:
    """Each row's position among the column's distinct texts in code-point order:
    ``np.unique(np.asarray(data[name]).astype(str), return_inverse=True)[1]``. A text column
    of a frame (:func:`arrays`, pandas 3's ``str``) without nulls is ranked by arrow, with
    no Python string per row (UTF-8 bytes sort in code-point order)."""
    if isinstance(data, _Merged):
        holder = next((m for m in data.maps if name in m), None)
        if holder is None:
            raise KeyError(name)
        return text_order(holder, name)
    if isinstance(data, _FrameColumns) and name not in data._done and name in data:
        values = data._frame.iloc[:, data._at[name]].array
        if isinstance(values, pd.arrays.ArrowStringArray) and not values.isna().any():
            import pyarrow.compute as pc

            rank = pc.rank(values._pa_array, sort_keys="ascending", tiebreaker="dense")
            return np.asarray(rank, dtype=np.int64) - 1
    _, inverse = np.unique(np.asarray(data[name]).astype(str), return_inverse=True)
    return np.asarray(inverse).reshape(-1)


def forget(data: Columns) -> None:
    """Let a frame's columns (:func:`arrays`, also inside :func:`merged`) converted so far
    go: a caller that reads rows a block at a time (:func:`rows_at`) holds no whole
    converted column."""
    if isinstance(data, _Merged):
        for m in data.maps:
            forget(m)
    elif isinstance(data, _FrameColumns):
        data.forget()


def merged(*maps: Columns) -> Columns:
    """``{**last, ..., **first}`` without reading any column (lazy mappings stay lazy)."""
    return _Merged(maps)


def rows(data: Columns, lo: int, hi: int) -> Columns:
    """Rows ``lo:hi`` of the columns, a column sliced only when read (a lazy
    :func:`arrays` mapping stays lazy)."""
    return _Rows(data, slice(lo, hi))


def rows_at(data: Columns, at: np.ndarray) -> Columns:
    """The rows at positions ``at`` (in that order), a column taken only when read."""
    return _Rows(data, np.asarray(at))


def pandas_form(values: np.ndarray) -> object:
    """The array a frame's constructor would hold for ``values`` (an object array of text
    becomes pandas 3's ``str``, arrow-backed; numbers stay as they are)."""
    if values.dtype != object:
        return values
    return pd.Series(values, copy=False).array


def pandas_text(chunks: list[object]) -> object:
    """Arrow text arrays (the blocks of a column, in order) as one column in the form
    :func:`pandas_form` gives text (pandas 3: ``str``, held by arrow as it is, no Python
    string per row; older pandas: an object array of str)."""
    import pyarrow as pa

    probe = pandas_form(np.array([""], dtype=object))
    if isinstance(probe, pd.arrays.ArrowStringArray):
        kind = probe._pa_array.type
        joined = pa.chunked_array([c.cast(kind) for c in chunks], type=kind)  # type: ignore[attr-defined]
        return pd.arrays.ArrowStringArray(joined, dtype=probe.dtype)
    texts = [c.to_numpy(zero_copy_only=False).astype(object)  # type: ignore[attr-defined]
             for c in chunks]
    return pandas_form(np.concatenate(texts) if texts else np.empty(0, dtype=object))


def codes_of(values: object) -> tuple[np.ndarray, np.ndarray]:
    """Each row's code and the distinct values, ``distinct[codes]`` equal to ``values``.

    ``values``: a column (a Series, pandas 3's arrow text factorised without a Python string
    per row) or an array. Nulls take the last code, whose value is the first null met
    (``distinct`` then ends with it; else it ends with None, unused): a stage computes its
    figures once per distinct value and :func:`expand` spreads them back over the rows.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = np.empty(len(uniques) + 1, dtype=object)
    distinct[:-1] = np.asarray(uniques, dtype=object)
    missing = np.flatnonzero(codes < 0)
    if len(missing):  # one row read, not the column made into objects
        distinct[-1] = (values.iloc[missing[0]] if isinstance(values, pd.Series)
                        else np.asarray(values, dtype=object)[missing[0]])
    return np.where(codes < 0, len(uniques), codes).astype(np.intp, copy=False), distinct


def expand(values: np.ndarray, codes: np.ndarray) -> object:
    """``values[codes]`` as a frame would hold it (:func:`pandas_form`), built cheaply.

    Numbers are taken as they are; objects (text) are put in their pandas form among the
    distinct values the rows use (the same inference: the same values) and then taken, so
    pandas 3 gets its arrow text by arrow's ``take`` instead of converting a Python string
    per row."""
    values = np.asarray(values)
    if values.dtype != object:
        return values[codes]
    used = np.flatnonzero(np.bincount(codes, minlength=len(values)))
    at = np.empty(len(values), dtype=np.intp)
    at[used] = np.arange(len(used))
    at = at[codes]
    form = pandas_form(values[used])
    if isinstance(form, np.ndarray):
        return form[at]
    return form.take(at)  # type: ignore[attr-defined]


def text_form(values: np.ndarray) -> object:
    """:func:`pandas_form` of ``values``, made among its distinct values where the frame
    holds text as pandas 3's ``str`` (factorised, then taken by arrow: not a Python string
    converted per row); anything else (numbers, not all text, older pandas) as it gives."""
    values = np.asarray(values)
    if values.dtype != object or len(values) == 0:
        return pandas_form(values)
    codes, distinct = codes_of(values)
    form = pandas_form(distinct)
    if not isinstance(getattr(form, "dtype", None), pd.StringDtype):
        return pandas_form(values)
    return form.take(codes)  # type: ignore[attr-defined]


def present(data: Columns, column: str) -> np.ndarray:
    """True where the column holds a value (absent column: all False)."""
    if column not in data:
        return np.zeros(_length(data), dtype=bool)
    return ~pd.isna(np.asarray(data[column]))


def as_float(data: Columns, column: str) -> np.ndarray:
    """A column as floats, nulls and non-numbers as NaN (absent column: all NaN)."""
    if column not in data:
        return np.full(_length(data), np.nan)
    values = np.asarray(data[column])
    if values.dtype.kind == "f":
        # a copy: the caller may write into it, and pandas 3 hands out read-only arrays
        return values.astype(float, copy=True)
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def is_in(data: Columns, column: str, options: tuple[str, ...]) -> np.ndarray:
    """True where the column's value is one of ``options`` (nulls: False)."""
    # object dtype on both sides: numpy compares element-wise (no sort, None is fine)
    values = np.asarray(data[column], dtype=object)
    return np.isin(values, np.asarray(options, dtype=object))


def as_bool(data: Columns, column: str) -> np.ndarray:
    """A boolean column, nulls and an absent column as False."""
    if column not in data:
        return np.zeros(_length(data), dtype=bool)
    values = np.asarray(data[column])
    if values.dtype.kind == "b":
        return values
    return np.asarray(values == True, dtype=bool)  # noqa: E712  (element-wise; None -> False)


def add_columns(frame: Frame, new: Mapping[str, object]) -> Frame:
    """A new frame (same type, CRS and geometry) with ``new`` columns added or replaced.

    One concat instead of a column insert per name: much cheaper on wide frames. The new
    columns are held as they are (no stacked copy per dtype; an array given twice is
    copied, so that no two columns share memory).
    """
    kept = frame.drop(columns=[c for c in new if c in frame.columns])
    own: dict[str, object] = {}
    for name, values in new.items():
        seen = any(values is v for v in own.values())
        own[name] = copy.copy(values) if seen else values
    if kept.index.is_unique:
        return pd.concat([kept, pd.DataFrame(own, index=kept.index, copy=False)], axis=1)
    index = kept.index  # repeated labels cannot be aligned: join by position
    out = pd.concat([kept.reset_index(drop=True), pd.DataFrame(own, copy=False)], axis=1)
    out.index = index
    return out


def take_with(frame: Frame, new: dict[str, np.ndarray], order: np.ndarray, *,
              consume: bool = False, ordered: Mapping[str, object] | None = None) -> Frame:
    """``add_columns(frame, new).take(order)`` with a fresh 0..N-1 index, built cheaper.

    Each column is taken once into its own block (``copy=False``: pandas does not merge
    the blocks of a dtype into one, a copy of every column of that dtype), so a million
    rows are copied once, not three times. With ``consume``, each column (the geometry
    apart) is dropped from ``frame`` once taken, so that the frame and its reordered copy
    are not held whole at once (``frame`` is left with its geometry only), and each array
    of ``new`` is put in its pandas form first and dropped from ``new`` (a text column's
    Python strings go before the frame is copied). ``ordered`` columns are already in the
    order of ``order`` (arrays or pandas arrays): they are added as they are, after ``new``.
    """
    ordered = dict(ordered or {})
    if not frame.columns.is_unique:  # columns cannot be taken by name
        out = add_columns(frame, new).take(order)
        out.index = pd.RangeIndex(len(out))
        for c, values in ordered.items():
            out[c] = pd.Series(values, index=out.index, copy=False)
        return out
    geometry = frame.active_geometry_name if isinstance(frame, gpd.GeoDataFrame) else None
    added: dict[str, object] = {}
    for c in list(new):
        values = np.asarray(new[c])[order]
        if consume:
            del new[c]
            # the dtype the frame's constructor would give the array (pandas 3: str)
            added[c] = pandas_form(values)
        else:
            added[c] = values
    for c in ordered:
        added.pop(c, None)
    added.update(ordered)
    data: dict[str, object] = {}
    for c in list(frame.columns):
        if c in added:
            continue
        data[c] = frame[c].array.take(order)
        if consume and c != geometry:
            del frame[c]
    data.update(added)
    if geometry in data:
        return gpd.GeoDataFrame(data, geometry=geometry, crs=frame.crs,
                                copy=False)
    return type(frame)(data, copy=False)


def _length(data: Columns) -> int:
    """Rows of the columns; a frame's without converting a column (it may be text)."""
    if isinstance(data, _FrameColumns):
        return len(data._frame)
    if isinstance(data, _Rows):
        at = data._at
        return len(range(_length(data._data))[at]) if isinstance(at, slice) else len(at)
    if isinstance(data, _Merged):
        return next(_length(m) for m in data.maps if len(m))
    return len(next(iter(data.values())))
