"""``marshal.string_frame``: a str column native code wrote, as pandas' own column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from willump_mlir.runtime.compiled import scratch_terms
from willump_mlir.runtime.marshal import MISSING_NAN, MISSING_NONE, string_frame

OFFSETS = np.array([0, 2, 2, 2, 5], dtype=np.int64)
MISSING = np.array([0, MISSING_NONE, MISSING_NAN, 0], dtype=np.uint8)
DATA = np.frombuffer("abßx".encode(), dtype=np.uint8)  # "ab", None, NaN, "ßx"


@pytest.mark.parametrize("dtype", ["str", object])
def test_string_frame_takes_the_source_dtype_and_index(dtype):
    like = pd.DataFrame({"c": pd.Series(["p", "q", "r", "s"], index=[7, 3, 5, 1], dtype=dtype)})
    frame = string_frame(OFFSETS, MISSING, DATA, "c", like, "c")
    column = frame["c"]
    assert column.dtype == like["c"].dtype
    assert list(column.index) == [7, 3, 5, 1]
    assert column.iloc[0] == "ab" and column.iloc[3] == "ßx"
    if dtype is object:  # None and NaN stay apart
        assert column.iloc[1] is None and isinstance(column.iloc[2], float)
    else:
        assert column.isna().tolist() == [False, True, True, False]


def test_string_frame_of_a_list_argument_is_object_with_a_range_index():
    frame = string_frame(OFFSETS, MISSING, DATA, "text", ["p", "q", "r", "s"], "text")
    assert frame["text"].dtype == object and isinstance(frame.index, pd.RangeIndex)


def test_scratch_terms():
    assert scratch_terms({"fixed": 4}) == []
    size = {"fixed": 1, "per_byte": 8, "value": "arg0", "column": "a",
            "more": [[1, "arg0", "b"]]}  # fmt: skip
    assert scratch_terms(size) == [(8, "arg0", "a"), (1, "arg0", "b")]
