"""Repeated site text held as categories between the stages, and given back as text.

A surface repeats the same few texts a million times over: the data regime's sentence
(four distinct, about 200 bytes each), the hosting source, the utility, the POI's name.
pandas 3 holds each row's text in full (arrow ``str``), so at US H3 res 7 these columns
took 1.1 GB of the ranked frame's 1.8 GB (the reasons aside; 0.7 GB held as categories).
:func:`compact` turns them into categories (one small integer per row, each distinct text
once); :func:`restored` gives them back as the text column they were, so that every
written file is the same bytes as before.

Only the text columns of :data:`REPEATED` are compacted (pandas 3's ``str``; older pandas
holds text as Python objects that rows share already), and a user's own columns are left
as they came.
"""

from __future__ import annotations

from typing import TypeVar

import pandas as pd

from geo import columns

__all__ = ["REPEATED", "compact", "restored"]

Frame = TypeVar("Frame", bound=pd.DataFrame)

#: Text columns of the site table whose values are shared by many sites: every ``str``
#: column but the site's own (its id and name), the tier and the reasons (one per site,
#: written by the ranking).
REPEATED: tuple[str, ...] = tuple(
    c for c in columns.names(type="str")
    if c not in {"site_id", "site_name", "tier", "reasons"})


#: The dtype pandas gives text (pandas 3: ``str``; older pandas: object).
_TEXT = pd.Series(["a"]).dtype


def compact(frame: pd.DataFrame) -> None:
    """Turn the :data:`REPEATED` text columns of ``frame`` that hold a text into
    categories, in place.

    Text is pandas' ``str`` (or ``string``) and, on pandas 3, an object column of Python
    strings (the Dask engine's partitions joined, where one partition's column was all
    null); the categories are then ``str``. They are the distinct texts sorted (the same
    categories whatever the row order or the partitions), nulls are missing values; a
    column is replaced one at a time, so its text goes before the next is coded. A column
    null throughout is left as it is."""
    for name in REPEATED:
        if name in frame.columns and _is_text(frame[name]) and frame[name].notna().any():
            codes, distinct = pd.factorize(frame[name], sort=True, use_na_sentinel=True)
            if not isinstance(distinct.dtype, pd.StringDtype):
                distinct = distinct.astype(_TEXT)
            frame[name] = pd.Categorical.from_codes(codes, categories=distinct)


def restored(frame: Frame) -> Frame:
    """``frame`` with its categories of text (:func:`compact`) as ``str`` columns again (a
    shallow copy; ``frame`` itself when it holds none)."""
    coded = [name for name in REPEATED if name in frame.columns and _coded(frame[name])]
    if not coded:
        return frame
    out = frame.copy(deep=False)
    for name in coded:
        values = out[name].array
        assert isinstance(values, pd.Categorical)
        out[name] = pd.Series(values.categories.array.take(values.codes, allow_fill=True),
                              index=out.index, name=name, copy=False)
    return out


def _is_text(column: pd.Series) -> bool:
    """True for a text column :func:`compact` codes (the text dtype, or Python strings in an
    object column where pandas' text dtype is ``str``)."""
    if isinstance(column.dtype, pd.StringDtype):
        return True
    return (isinstance(_TEXT, pd.StringDtype) and column.dtype == object
            and pd.api.types.infer_dtype(column, skipna=True) == "string")


def _coded(column: pd.Series) -> bool:
    """True for a categorical column whose categories are ``str`` (:func:`compact`'s)."""
    dtype = column.dtype
    return (isinstance(dtype, pd.CategoricalDtype)
            and isinstance(dtype.categories.dtype, pd.StringDtype))
