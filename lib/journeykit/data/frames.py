"""Helpers for the per-customer frames the sections build in pandas.

The engine returns customer ids as Arrow-backed strings (pandas' ``str``
dtype). Some pandas operations on them take a slow path; the helpers here
give the same answers faster.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _arrow(values) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, (pd.Index, pd.Series)):
        values = values.array
    elif isinstance(values, (set, frozenset)):
        values = list(values)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    return pa.array(values, from_pandas=True)


def member(values, of: Collection) -> np.ndarray:
    """Whether each of ``values`` (an Index, a Series or an array) is one
    of ``of`` (any collection of the same kind of values): a NumPy bool
    array, equal to ``values.isin(of)``.

    pandas' ``isin`` on Arrow-backed strings turns every value of ``of``
    into a Python object first: 2.2 s for a million customer ids against
    half a million, where Arrow's hash lookup (``pyarrow.compute.is_in``)
    takes 0.23 s. Strings are compared with Arrow; anything else (numbers,
    mixed kinds) with pandas, so ``"1"`` never matches ``1``. A missing
    value is one of ``of`` only when ``of`` holds a missing value."""
    try:
        arr, look = _arrow(values), _arrow(of)
    except (pa.ArrowException, TypeError, ValueError):
        arr = look = None
    strings = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    if arr is not None and any(t(arr.type) for t in strings) and (
            any(t(look.type) for t in strings) or pa.types.is_null(look.type)):
        if look.type != arr.type:
            look = look.cast(arr.type)
        if isinstance(look, pa.ChunkedArray):
            look = look.combine_chunks()
        return np.asarray(pc.is_in(arr, value_set=look).to_numpy(zero_copy_only=False), dtype=bool)
    index = values if isinstance(values, pd.Index) else pd.Index(values)
    return np.asarray(index.isin(list(of) if isinstance(of, (set, frozenset)) else of), dtype=bool)


__all__ = ["member"]
