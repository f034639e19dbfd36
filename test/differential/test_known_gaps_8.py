"""Known gaps closed by the eighth round of fixes: the compiled pipeline against the original
function on the same inputs (its result, or the class of its error)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from notebook_check import quiet_compile, same_on_batches
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

import willump_mlir as wm
from willump_mlir.runtime.refit import RefitError

# region 1: a statement whose value is unused, on a value the original refuses

ROWS = 30
FRAME = pd.DataFrame({
    "a": np.arange(ROWS) * 1.5, "b": np.arange(ROWS) % 5 * 1.0, "k": np.arange(ROWS) + 7,
    "z": np.arange(ROWS) % 3 + 1, "s": [str(i) for i in range(ROWS)],
    "d": [f"2020-01-{i % 28 + 1:02d}" for i in range(ROWS)], "c": list("xyz" * (ROWS // 3)),
})  # fmt: skip
MODEL = LinearRegression().fit(FRAME[["b"]], FRAME["a"])
SCALER = StandardScaler().fit(FRAME[["a"]])
ONEHOT = OneHotEncoder().fit(FRAME[["c"]])
ORDINAL = OrdinalEncoder().fit(FRAME[["c"]])
CODES = {"x": 1, "y": 2, "z": 3}


def cast_to_int(df):
    df["a_int"] = df["a"].astype(int)
    return MODEL.predict(df[["b"]])


def scaled(df):
    z = SCALER.transform(df[["a"]])  # noqa: F841
    return MODEL.predict(df[["b"]])


def predicted(df):
    p = MODEL.predict(df[["a"]].rename(columns={"a": "b"}))  # noqa: F841
    return MODEL.predict(df[["b"]])


def parsed_dates(df):
    t = pd.to_datetime(df["d"])  # noqa: F841
    return MODEL.predict(df[["b"]])


def str_to_int(df):
    k = df["s"].astype(int)  # noqa: F841
    return MODEL.predict(df[["b"]])


def one_hot(df):
    o = ONEHOT.transform(df[["c"]])  # noqa: F841
    return MODEL.predict(df[["b"]])


def ordinal(df):
    o = ORDINAL.transform(df[["c"]])  # noqa: F841
    return MODEL.predict(df[["b"]])


def mapped_to_int(df):
    df["code"] = df["c"].map(CODES).astype(int)
    return MODEL.predict(df[["b"]])


def divided_to_int(df):
    df["q"] = (df["k"] // df["z"]).astype(int)
    return MODEL.predict(df[["b"]])


def _with(column: str, value: Any, row: int = 3) -> pd.DataFrame:
    frame = FRAME.copy()
    frame.loc[row, column] = value
    return frame


REFUSED = [
    (cast_to_int, _with("a", np.nan)), (cast_to_int, _with("a", np.inf)),
    (cast_to_int, _with("a", -np.inf)), (scaled, _with("a", np.inf)),
    (predicted, _with("a", np.nan)), (parsed_dates, _with("d", "garbage")),
    (str_to_int, _with("s", "x1")), (one_hot, _with("c", "w")), (ordinal, _with("c", "w")),
    (mapped_to_int, _with("c", "w")), (divided_to_int, _with("z", 0)),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "bad"), REFUSED, ids=lambda v: getattr(v, "__name__", ""))
def test_unused_statement_refuses_as_the_original(fn: Any, bad: pd.DataFrame) -> None:
    """A statement whose value nothing reads was dropped with the compiled code (its op
    was pure), so ``df["a_int"] = df["a"].astype(int)`` of a NaN returned a result where
    pandas raises ``IntCastingNaNError``; so did an unused transform, model call, date
    parse, str-to-int cast, encoder and ``.map(...).astype(int)``. Ops that check their
    input (``ChecksInput``) now stay, and refuse what the original refuses: on the bad
    row, alone, in a batch, and not on good batches, which stay native."""
    compiled = quiet_compile(fn, FRAME.copy())
    good = [FRAME, FRAME.iloc[[4]], FRAME.iloc[:0]]
    same_on_batches(fn, compiled, [bad, bad.iloc[[3]], bad.iloc[2:6], *good])
    before = compiled.calls_in_python
    same_on_batches(fn, compiled, good[:2])
    assert compiled.calls_in_python == before  # good batches stay native


def test_unused_cast_from_bool_is_still_dropped() -> None:
    """A cast that refuses nothing (bool to int) is pure: it is dropped, and the kernel
    that computes nothing needed is not built."""

    def flag(df):
        df["f"] = (df["a"] > 3).astype(int)
        return MODEL.predict(df[["b"]])

    compiled = quiet_compile(flag, FRAME.copy())
    assert "pipeline.cast" not in compiled.ir("feature")


# endregion
# region 2: a bound table of more than 1,000 values changed in place

KEYS = 3000  # more values than the 1,000 compared with a copy before


def _tables() -> dict[str, Any]:
    return {
        "TABLE": pd.DataFrame({"k": np.arange(KEYS), "v": np.arange(KEYS) * 1.0}),
        "NAMES": pd.DataFrame({"k": [f"s{i}" for i in range(KEYS)], "v": np.arange(KEYS) * 1.0}),
        "SERIES": pd.Series(np.arange(KEYS) * 2.0, index=np.arange(KEYS)),
        "WEIGHTS": {k: float(k) * 3 for k in range(KEYS)},
        "ARRAY": np.arange(KEYS) * 4.0,
        "LIST": list(np.arange(KEYS) * 5.0),
    }


TABLE, NAMES, SERIES, WEIGHTS, ARRAY, LIST = _tables().values()
KEYED = pd.DataFrame({"k": [1, 5, 7, 3, 2999], "x": [1.0, 2, 3, 4, 5]})


def merged(df):
    return df.merge(TABLE, on="k", how="left")["v"] * 2


def merged_on_str(df):
    return df.assign(k="s" + df["k"].astype(str)).merge(NAMES, on="k", how="left")["v"] * 2


def mapped_series(df):
    return df["k"].map(SERIES) + 1


def mapped_dict(df):
    return df["k"].map(WEIGHTS) + 1


def array_element(df):
    return df["x"] * ARRAY[5]


def list_item(df):
    return df["x"] * LIST[3]


def set_a_value(t: dict[str, Any]) -> None:
    t["TABLE"].loc[5, "v"] = -1.0


def set_nan_by_position(t: dict[str, Any]) -> None:
    t["TABLE"].iloc[7, 1] = np.nan


def set_a_column(t: dict[str, Any]) -> None:
    t["TABLE"]["v"] = t["TABLE"]["v"] * 2


def replace_in_place(t: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3.1 deprecates inplace=
        t["TABLE"].replace(3.0, -3.0, inplace=True)


def set_a_negative_zero(t: dict[str, Any]) -> None:
    t["NAMES"].loc[5, "v"] = -0.0


def set_a_key(t: dict[str, Any]) -> None:
    t["NAMES"].loc[1, "k"] = "s7"


def set_a_series_value(t: dict[str, Any]) -> None:
    t["SERIES"][5] = -1.0


def name_the_index(t: dict[str, Any]) -> None:
    t["SERIES"].index.name = "key"


def set_a_dict_item(t: dict[str, Any]) -> None:
    t["WEIGHTS"][5] = -1.0


def pop_a_dict_item(t: dict[str, Any]) -> None:
    t["WEIGHTS"].pop(7)


def set_an_array_value(t: dict[str, Any]) -> None:
    t["ARRAY"][5] = -9.0


def set_an_array_negative_zero(t: dict[str, Any]) -> None:
    t["ARRAY"][5] = -0.0  # equal to 0.0, but -0.0 * x has another sign


def set_a_list_item(t: dict[str, Any]) -> None:
    t["LIST"][3] = -1.0


CHANGES = [
    (merged, set_a_value), (merged, set_nan_by_position), (merged, set_a_column),
    (merged, replace_in_place), (merged_on_str, set_a_negative_zero), (merged_on_str, set_a_key),
    (mapped_series, set_a_series_value), (mapped_series, name_the_index),
    (mapped_dict, set_a_dict_item), (mapped_dict, pop_a_dict_item),
    (array_element, set_an_array_value), (array_element, set_an_array_negative_zero),
    (list_item, set_a_list_item),
]  # fmt: skip


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Fresh tables for the functions to read (the test changes them in place)."""
    fresh = _tables()
    for name, table in fresh.items():
        monkeypatch.setitem(globals(), name, table)
    return fresh


@pytest.mark.parametrize(("fn", "change"), CHANGES, ids=lambda v: v.__name__)
def test_large_table_changed_in_place(fn: Any, change: Any, tables: dict[str, Any]) -> None:
    """A table of more than 1,000 values the function reads (a global here) was read once,
    at compile time: changed in place afterwards, the compiled pipeline returned the old
    values where the original reads the new ones. Now every call checks it (a DataFrame or
    Series by the identity of its parts under copy-on-write, a dict by its version tag,
    an array or list against a copy) and refuses a changed one with ``RefitError``."""
    compiled = quiet_compile(fn, KEYED.copy())
    same_on_batches(fn, compiled, [KEYED, KEYED.iloc[[2]]])
    change(tables)
    expected = fn(KEYED.copy())
    with pytest.raises(RefitError, match="changed in place"):
        compiled(KEYED.copy())
    assert wm.compile(fn, example=(KEYED.copy(),))(KEYED.copy()).equals(expected)


def test_large_table_set_to_equal_values_is_no_change(tables: dict[str, Any]) -> None:
    """Values set again to what they were replace pandas' arrays (copy-on-write), but
    compare equal: no error, and a later real change is still seen."""
    compiled = quiet_compile(merged, KEYED.copy())
    tables["TABLE"].loc[5, "v"] = 5.0
    same_on_batches(merged, compiled, [KEYED])
    tables["TABLE"].loc[5, "v"] = 6.0
    with pytest.raises(RefitError):
        compiled(KEYED.copy())


# endregion
# region 3: the bits of floor division and remainder (NaN's sign included)

SPECIALS = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, np.inf, -np.inf, np.nan, 1e308, 5e-324]
PAIRS = pd.DataFrame(
    [(a, b) for a in SPECIALS for b in SPECIALS], columns=["a", "b"]
)  # fmt: skip
INTEGERS = pd.DataFrame({"a": [0, 1, -1, 7, -7, 0, 5, -(2**63), 3],
                         "b": [1, 2, -3, 2, 2, 3, -3, -1, 4]})  # fmt: skip
INTEGER_ZEROS = INTEGERS.assign(b=[0, 0, 0, 2, 2, 3, -3, -1, 0])


def series_floor_divide(df):
    return df["a"] // df["b"]


def series_remainder(df):
    return df["a"] % df["b"]


def floor_divide_by_zero(df):
    return df["a"] // 0.0


def zero_floor_divided(df):
    return -0.0 // df["b"]


def floordiv_method(df):
    return df["a"].floordiv(df["b"])  # numpy's ufunc on the values: 0 // 0 is its NaN


def rfloordiv_method(df):
    return df["a"].rfloordiv(df["b"])


def floordiv_of_a_scalar(df):
    return df["a"].floordiv(0.0)  # pandas' operator: 0 // 0 is np.nan


def frame_floor_divide(df):
    return (df[["a", "b"]] // 0.0).to_numpy()


def numpy_floor_divide(df):
    return np.floor_divide(df["a"].to_numpy(), df["b"].to_numpy())


def numpy_remainder(df):
    return np.remainder(df["a"].to_numpy(), df["b"].to_numpy())


def numpy_fmod(df):
    return np.fmod(df["a"].to_numpy(), df["b"].to_numpy())


def true_divide(df):
    return df["a"] / df["b"]


DIVISIONS = [series_floor_divide, series_remainder, floor_divide_by_zero, zero_floor_divided,
             floordiv_method, rfloordiv_method, floordiv_of_a_scalar, frame_floor_divide,
             numpy_floor_divide, numpy_remainder, numpy_fmod, true_divide]  # fmt: skip


def _bits(result: Any) -> np.ndarray:
    values = np.asarray(result)
    return values.view(f"u{values.dtype.itemsize}") if values.dtype.kind == "f" else values


@pytest.mark.parametrize("fn", DIVISIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("frame", [PAIRS, PAIRS.astype("float32"), INTEGERS, INTEGER_ZEROS],
                         ids=["float64", "float32", "int64", "int64-zeros"])  # fmt: skip
def test_division_bits(fn: Any, frame: pd.DataFrame) -> None:
    """Every pair of special values (zeros of both signs, infinities, NaN, the largest and
    the smallest double), float32 and int64 (a zero divisor too): the compiled result has
    the original's dtype and bits. pandas' ``//`` gives 0 // 0 as ``np.nan`` (its sign
    bit clear) where numpy's ``0.0 / 0.0`` (x86's default NaN) has it set; native code gave
    numpy's. And ``-0.0 // b`` lost a NaN's sign: LLVM folds ``-0.0 - x`` into ``-x``."""
    compiled = quiet_compile(fn, frame.copy())
    for batch in (frame, frame.iloc[[0]], frame.iloc[:0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected, got = fn(batch.copy()), compiled(batch.copy())
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        assert np.array_equal(_bits(got), _bits(expected))
    if frame is PAIRS:  # all native on float64
        assert "nothing: the whole pipeline is native" in compiled.explain()


# endregion
# region 4: the labels of a returned frame follow the argument's (str or object)

NUMBERS = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0) * 2 - 3})


def _labelled(frame: pd.DataFrame, dtype: object) -> pd.DataFrame:
    relabelled = frame.copy()
    relabelled.columns = relabelled.columns.astype(dtype)
    return relabelled


def selected(df):
    return df[["a", "b"]] * 2


def whole_frame(df):
    return df * 2


def with_a_column(df):
    df["c"] = df["a"] + df["b"]
    return df


def built_from_a_dict(df):
    return pd.DataFrame({"x": df["a"] * 2, "y": df["b"] + 1})


def concatenated(df):
    return pd.concat([df["a"] * 2, df["b"]], axis=1)


@pytest.mark.parametrize("fn", [selected, whole_frame, with_a_column, built_from_a_dict,
                                concatenated], ids=lambda f: f.__name__)  # fmt: skip
@pytest.mark.parametrize("labels", [object, "str"])
def test_returned_frame_labels_dtype(fn: Any, labels: object) -> None:
    """A frame returned with the labels of a frame argument (``df[cols] * 2``) took the
    example's label dtype: ``object`` where an Arrow-fed batch (pandas 3 ``str`` labels)
    gives ``str``, or the reverse. Now the result's labels follow the argument's (checked
    on the example with the other dtype at compile time); labels the function builds
    (``pd.DataFrame({"x": ...})``) stay its own."""
    compiled = quiet_compile(fn, _labelled(NUMBERS, labels))
    arrow = pa.table({"a": NUMBERS["a"], "b": NUMBERS["b"]}).to_pandas()
    batches = [arrow, _labelled(NUMBERS, object), _labelled(NUMBERS, "str"), arrow.iloc[[2]],
               arrow.iloc[:0]]  # fmt: skip
    for batch in batches:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected, got = fn(batch.copy()), compiled(batch.copy())
        assert got.columns.equals(expected.columns)
        assert got.columns.dtype == expected.columns.dtype, (batch.columns.dtype, labels)
        assert got.equals(expected)
    assert compiled.calls_in_python == 1  # the empty batch


# endregion
# region 5: why a row-wise apply of mixed int and float results runs in Python

COUNTS = pd.DataFrame({"a": np.arange(8), "b": np.arange(8) % 3})


def half_or_double(row):
    if row["a"] > 2:
        return row["b"] * 2
    return row["a"] / 2


def applied(df):
    return df.apply(half_or_double, axis=1)


@pytest.mark.parametrize("example", [COUNTS, COUNTS.assign(a=COUNTS["a"] + 5)],
                         ids=["mixed-on-the-example", "ints-on-the-example"])  # fmt: skip
def test_mixed_row_results_reason_names_the_row_function(example: pd.DataFrame) -> None:
    """A row function returning ints on some rows and floats on others runs in Python (its
    dtype depends on the batch); the reason was a generic list of such values cut at 200
    characters ("a lookup of ints: ..., pd.cut codes: ...…"), or "the result is
    tensor<?xi64>, not tensor<?xf64>". It now names the apply and its row function,
    whole."""
    compiled = quiet_compile(applied, example.copy())
    shown = compiled.explain()
    assert "`half_or_double`" in shown and "…" not in shown
    assert "returns an int" in shown
    same_on_batches(applied, compiled, [COUNTS, COUNTS.assign(a=COUNTS["a"] + 5),
                                        COUNTS.iloc[[1]], COUNTS.iloc[:0]])  # fmt: skip


# endregion
