"""Rebuilding the pandas objects a Python call's original code saw, around native buffers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from willump_mlir.frontend.fallback import PythonFunction, Rebuild

SOURCE = pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=pd.Index(["x", "y", "z"], name="id"))


def test_series_takes_the_source_index_name_and_dtype() -> None:
    rebuild = Rebuild("n", None, (np.dtype(np.int64),), 0)
    got = rebuild(np.array([1.0, 2.0, 3.0]), (SOURCE,))
    expected = pd.Series([1, 2, 3], index=SOURCE.index, name="n", dtype=np.int64)
    pd.testing.assert_series_equal(got, expected)


def test_integers_only_where_exact() -> None:
    rebuild = Rebuild("n", None, (np.dtype(np.int64),), None)
    got = rebuild(np.array([1.5, np.nan]), ())
    assert got.dtype == np.float64 and got.index.equals(pd.RangeIndex(2))


def test_bools_and_float32() -> None:
    flags = Rebuild(None, None, (np.dtype(bool),), None)(np.array([1, 0], np.uint8), ())
    assert flags.dtype == bool and list(flags) == [True, False]
    small = Rebuild("f", None, (np.dtype(np.float32),), None)(np.array([0.5]), ())
    assert small.dtype == np.float32


def test_frame_columns_dtypes_and_empty_batch() -> None:
    columns = pd.Index(["p", "q"], name="feature")
    rebuild = Rebuild(None, columns, (np.dtype(np.float64), np.dtype(np.int64)), 0)
    got = rebuild(np.array([[0.5, 1.0], [1.5, 2.0], [2.5, 3.0]]), (SOURCE,))
    expected = pd.DataFrame({"p": [0.5, 1.5, 2.5], "q": [1, 2, 3]}, index=SOURCE.index)
    expected.columns.name = "feature"
    pd.testing.assert_frame_equal(got, expected)
    empty = rebuild(np.empty((0, 2)), (SOURCE.iloc[:0],))
    assert empty.shape == (0, 2) and list(empty.dtypes) == [np.float64, np.int64]


def test_python_function_returns_a_tuple_of_its_results() -> None:
    single = PythonFunction(lambda s: s.abs(), [Rebuild("a", None, (np.dtype(float),), 0)],
                            unpack=False)  # fmt: skip
    (got,) = single(np.array([-1.0, 2.0, -3.0]), SOURCE)
    pd.testing.assert_series_equal(got, SOURCE["a"])
    rebinding = PythonFunction(lambda x: (x + 1,), [None], unpack=True)
    assert rebinding(1) == (2,)
