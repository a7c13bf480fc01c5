"""journeykit.data.frames: pandas helpers for the per-customer frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.data.frames import member

IDS = pd.Index(["C1", "C2", "C3", None, "C5"], dtype="str")


@pytest.mark.parametrize("of, expected", [
    (np.array(["C2", "C5", "C9"], dtype=object), [False, True, False, False, True]),
    (pd.Series(["C3"], dtype="str"), [False, False, True, False, False]),
    ({"C1", "C3"}, [True, False, True, False, False]),
    ([], [False] * 5),
    (["C1", None], [True, False, False, True, False]),     # a missing id matches a missing value only
    ([1, 2], [False] * 5),                                  # numbers are not their text
])
def test_member_of_a_collection_of_ids(of, expected):
    assert member(IDS, of).tolist() == expected
    assert member(pd.Series(IDS), of).tolist() == expected
    assert member(IDS, of).dtype == bool


def test_member_of_numbers_and_mixed_values_is_pandas_isin():
    assert member(pd.Index([1, 2, 3]), [2, 5]).tolist() == [False, True, False]
    assert member(pd.Series(["1", 1, 2.0], dtype=object), [1]).tolist() == [False, True, False]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=30),
       st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=30))
def test_member_equals_pandas_isin_on_strings(values, of):
    index = pd.Index(values, dtype="str")
    assert member(index, of).tolist() == index.isin(of).tolist()
    assert member(index, np.array(of, dtype=object)).tolist() == index.isin(of).tolist()
