"""Differential tests: int8, int16, int32, uint8, uint16 and uint32 columns.

Native code reads such a column widened to int64 and computes on it only where numpy gives
the same result as on int64 values (``int8 * 2.5``, ``uint8 > 200``, ``int8 + int64``, a
model's input); where numpy computes in the narrow width (``int8 + int8`` wraps, ``np.log1p``
of uint8 is float16) the code runs in Python and ``explain()`` says why. Each function is
written as a notebook writes it and compared with the original on batches holding each
dtype's extremes (sums that wrap), NaN in a float column beside them, empty, of one row and
of more than 2,048 rows, and with a column of another dtype than the example's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from notebook_check import same_on_batches
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import KBinsDiscretizer, PolynomialFeatures

import willump_mlir as wm
from willump_mlir.selfcheck import difference

ROWS = (0, 1, 60, 2500)  # empty, one row, one block, two blocks of rows (2,048 or more)
NARROW = {"i8": np.int8, "u8": np.uint8, "i16": np.int16, "u16": np.uint16,
          "i32": np.int32, "u32": np.uint32}  # fmt: skip


def table(n: int, seed: int = 0) -> pd.DataFrame:
    """One column of each narrow dtype (its extremes on the first rows), int64 ``k`` and
    float ``f`` (NaN on every seventh row)."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name, t in NARROW.items():
        values = rng.integers(np.iinfo(t).min, np.iinfo(t).max, n, endpoint=True).astype(t)
        values[:2] = np.array([np.iinfo(t).min, np.iinfo(t).max], dtype=t)[: min(n, 2)]
        columns[name] = values
    frame = pd.DataFrame(columns)
    frame["k"] = rng.integers(-1000, 1000, n)
    frame["f"] = rng.normal(size=n)
    frame.loc[frame.index % 7 == 3, "f"] = np.nan
    return frame


def batches() -> list[pd.DataFrame]:
    """Every size of ``ROWS``, 60 rows in reverse order (an index that is not a range), then
    60 rows with ``i8`` as int16 and ``u8`` as int64 (not the example's dtypes: the original
    runs)."""
    found = [table(n, seed=n + 2) for n in ROWS] + [table(60, seed=4).iloc[::-1]]
    rows = table(60, seed=3)
    found.append(rows.assign(i8=rows["i8"].astype(np.int16)))
    found.append(rows.assign(u8=rows["u8"].astype(np.int64)))
    return found


@pytest.fixture(scope="module")
def model() -> LogisticRegression:
    train = table(300, seed=1)
    X = np.column_stack([train["i8"] * 0.025, train["u32"] / 4e9, train["u8"] / 100.0,
                         train["f"].fillna(0)])  # fmt: skip
    return LogisticRegression().fit(X, train["f"].fillna(0) + X[:, 0] > 0)


def check(fn: Callable, *rest: object) -> wm.CompiledPipeline:
    """Compile ``fn`` on 50 rows; compare with the original on ``batches()``: its results,
    dtypes included, or the class of error it raises."""
    compiled = wm.compile(fn, example=(table(50), *rest))
    same_on_batches(lambda df: fn(df, *rest), lambda df: compiled(df, *rest), batches())
    return compiled


def native(compiled: wm.CompiledPipeline) -> None:
    assert not compiled.traced.python_fallbacks, compiled.explain()
    assert compiled.original_reason is None, compiled.explain()


def features(df, model):
    df = df.copy()
    df["a"] = df["i8"] * 0.025
    df["b"] = df["u32"] / 4e9
    df["c"] = df["u8"] / 100.0
    df["d"] = df["f"].fillna(0)
    X = df[["a", "b", "c", "d"]].to_numpy()
    return model.predict_proba(X)[:, 1]


def test_features_into_a_model_are_native(model: LogisticRegression) -> None:
    native(check(features, model))


def test_a_model_reads_a_frame_of_narrow_columns_natively(model: LogisticRegression) -> None:
    def predict(df, model):
        return model.predict_proba(df[["i8", "u32", "u8", "f"]].fillna(0).to_numpy())

    native(check(predict, model))


def flags(df):
    return ((df["u8"] > 200) & (df["i8"] < 0)) | (df["u16"] == 65535)


def mixed(df):
    return df["i8"] + df["k"] * df["u32"]


def floats(df):
    return pd.DataFrame({
        "log": np.log1p(df["u32"].astype(float)),
        "sqrt": np.sqrt(df["u32"]),
        "ratio": df["u16"] / df["i16"],
        "half": df["i16"] * 0.5 - df["f"],
        "centered": df["i8"] - df["i8"].mean(),
    })  # fmt: skip


def methods(df):
    return df["u8"].mul(1.5).add(df["i8"].astype("float32").astype(float))


def stacked(df):
    chosen = np.select([df["i8"] > 0, df["u8"] > 9], [df["i8"], df["u16"]], 0.5)
    return np.column_stack([df["i8"], df["f"], chosen, np.where(df["u8"] > 100, df["u32"], 0.5)])


@pytest.mark.parametrize("fn", [flags, mixed, floats, methods, stacked])
def test_operations_numpy_computes_alike_on_int64_are_native(fn: Callable) -> None:
    native(check(fn))


def test_returned_frame_keeps_the_narrow_columns() -> None:
    def scaled(df):
        out = df.copy()
        out["z"] = out["i8"] * 0.5 + out["u8"]
        return out

    compiled = check(scaled)
    result = compiled(table(30, seed=9))
    assert dict(result.dtypes) == dict(scaled(table(30, seed=9)).dtypes)
    native(compiled)


def wraps(df):
    return df["i8"] + df["i8"]


def squares(df):
    return df["u8"] * df["u8"] - 1


def small_floats(df):
    return np.log1p(df["u8"])  # float16 in numpy


def negated(df):
    return -df["i16"]


def filled(df):
    return df["i8"].fillna(0).clip(-100, 100)


def stacked_ints(df):
    return np.column_stack([df["i8"], df["u8"]]) * 1.5  # int16 columns


@pytest.mark.parametrize("fn", [squares, small_floats, filled, stacked_ints])
def test_operations_in_the_narrow_width_run_in_python(fn: Callable) -> None:
    compiled = check(fn)
    assert compiled.traced.python_fallbacks or compiled.original_reason, compiled.explain()


@pytest.mark.parametrize("fn", [wraps, negated])
def test_signed_operations_in_the_narrow_width_are_wrapped(fn: Callable) -> None:
    """Signed narrow arithmetic numpy keeps in its width: the int64 result wrapped to it
    (``pipeline.wrap_int``)."""
    compiled = check(fn)
    assert not compiled.traced.python_fallbacks and compiled.original_reason is None, \
        compiled.explain()  # fmt: skip


def wrapped_plus_floats(df):
    return df["u8"] * df["u8"] + df["f"]


def test_explain_says_numpy_wraps_the_narrow_width() -> None:
    compiled = check(wrapped_plus_floats)
    assert "numpy computes on uint8 otherwise than on int64 (giving uint8" in compiled.explain()


def test_wrapping_sum_of_extremes_matches() -> None:
    rows = table(2)  # -128 and 127: -256 and 254 wrap to 0 and -2
    compiled = wm.compile(wraps, example=(table(50),))
    assert list(compiled(rows)) == [0, -2] == list(wraps(rows))


def test_another_dtype_than_the_example_runs_the_original() -> None:
    compiled = check(flags)
    rows = table(20)
    for other in (rows.assign(u8=rows["u8"].astype(np.int64)), rows.assign(i8=rows["f"])):
        assert difference(flags(other), compiled(other)) is None
    assert "2 call(s)" in compiled.explain().split("an input is not what")[1].splitlines()[0]




# Arrays of narrow integer columns (``df[cols].to_numpy()``, ``.values``): read natively
# widened to int64, used so only where numpy or scikit-learn computes on them as on int64.


@pytest.fixture(scope="module")
def features_and_ridge() -> tuple[PolynomialFeatures, KBinsDiscretizer, Ridge]:
    """A new user's pipeline: polynomial features of floats, quantile bins of a float, an
    int8 code column, stacked into a ridge regression (fitted on 300 rows)."""
    train = table(300, seed=1).assign(f=lambda t: t["f"].fillna(0.5), g=lambda t: t["k"] / 7)
    poly = PolynomialFeatures(2).fit(train[["f", "g"]].to_numpy())
    bins = KBinsDiscretizer(4, encode="onehot-dense", strategy="quantile",
                            quantile_method="averaged_inverted_cdf").fit(train[["g"]].to_numpy())
    X = np.hstack([poly.transform(train[["f", "g"]].to_numpy()),
                   bins.transform(train[["g"]].to_numpy()),
                   train[["i8"]].to_numpy()])  # fmt: skip
    return poly, bins, Ridge().fit(X, train["k"])


def ridge_series(df, poly, bins, ridge):
    a = poly.transform(np.column_stack([df["f"].fillna(0.5), df["k"] / 7]))
    b = bins.transform(df[["k"]].to_numpy(dtype=float) / 7)
    c = df[["i8"]].to_numpy()
    X = np.hstack([a, b, c])
    pred = ridge.predict(X)
    return pd.Series(pred, index=df.index)


def test_narrow_codes_stacked_into_a_model_are_native(features_and_ridge: tuple) -> None:
    compiled = check(ridge_series, *features_and_ridge)
    native(compiled)
    rows = table(40, seed=11).iloc[::-1]
    got, expected = compiled(rows, *features_and_ridge), ridge_series(rows, *features_and_ridge)
    assert got.index.equals(expected.index) and got.dtype == expected.dtype
    assert np.allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)  # DESIGN's


@pytest.fixture(scope="module")
def narrow_model() -> LogisticRegression:
    train = table(300, seed=1)
    return LogisticRegression().fit(train[["i8", "u8"]].to_numpy(), train["f"].fillna(0) > 0)


def model_on_matrix(df, model):
    return model.predict_proba(df[["i8", "u8"]].values)[:, 1]


def int16_floats(df, model):
    return df[["i8", "u8"]].to_numpy() * 1.5  # int16 in numpy, float64 either way


def matrix_astype(df, model):
    X = df[["u32", "u16"]].to_numpy()
    return np.column_stack([X.astype(float), X.astype(np.float64) / 3, df[["f"]].to_numpy()])


def frame_astype(df, model):
    return df[["i8", "u16", "f"]].astype(float).to_numpy()


def float_matrix(df, model):
    return df[["i32", "u8"]].to_numpy(dtype=float) - df[["f", "k"]].to_numpy(dtype=float)


def returned_matrix(df, model):
    return df[["i8", "u8"]].values  # int16


def returned_array(df, model):
    return df["u16"].to_numpy()


def assembled_matrix(df, model):
    X = df[["i8", "u32"]].copy()
    X["u8"] = df["u8"].fillna(0)
    return model.predict(X[["i8", "u8"]].to_numpy())


def assembled_values(df, model):
    X = df[["i8"]].copy()
    X["u8"] = df["u8"]
    return X.values.astype(float) * 0.5


@pytest.mark.parametrize("fn", [model_on_matrix, int16_floats, matrix_astype, frame_astype,
                                float_matrix, assembled_matrix, assembled_values])  # fmt: skip
def test_narrow_arrays_are_native_where_numpy_agrees(fn: Callable, narrow_model) -> None:
    native(check(fn, narrow_model))


@pytest.mark.parametrize("fn", [returned_matrix, returned_array])
def test_a_returned_narrow_array_is_made_by_pandas(fn: Callable, narrow_model) -> None:
    compiled = check(fn, narrow_model)
    assert "array of int16 in its width: pandas makes it" in compiled.explain() or \
        "array of uint16 in its width: pandas makes it" in compiled.explain()


def narrow_stack(df, model):
    return np.hstack([df[["i8"]].to_numpy(), df[["i16"]].to_numpy()])  # int16


def mixed_narrow_stack(df, model):
    return np.hstack([df[["i8"]].values, df[["u8"]].values]) + 0.5  # int16, then floats


def wrapping_matrix(df, model):
    return model.predict(df[["i8", "u8"]].to_numpy() * 200)  # int16 wraps


@pytest.mark.parametrize("fn", [narrow_stack, mixed_narrow_stack, wrapping_matrix])
def test_narrow_arrays_in_their_width_run_in_python(fn: Callable, narrow_model) -> None:
    compiled = check(fn, narrow_model)
    assert "otherwise than on int64" in compiled.explain(), compiled.explain()


def test_a_narrow_array_of_another_dtype_runs_the_original(narrow_model) -> None:
    compiled = wm.compile(model_on_matrix, example=(table(50), narrow_model))
    rows = table(20)
    other = rows.assign(u8=rows["u8"].astype(np.uint16))
    assert difference(model_on_matrix(other, narrow_model), compiled(other, narrow_model)) is None
    assert "1 call(s)" in compiled.explain().split("an input is not what")[1].splitlines()[0]


def forest_on_matrix(df, forest):
    return forest.predict(df[["i32", "u8"]].to_numpy())


def test_a_forest_reads_a_narrow_array_and_int64_beyond_2_53_runs_the_original() -> None:
    """A tree compares float32: an int64 column (accepted where the example's was int32: numpy
    computes on it as native code does) of magnitude 2^53 or more would be rounded twice
    through float64, so such a batch runs the original."""
    train = table(300, seed=1)
    forest = RandomForestRegressor(5, random_state=0).fit(
        train[["i32", "u32"]].to_numpy().astype(float) * 3e6, train["k"])  # fmt: skip
    compiled = check(forest_on_matrix, forest)
    native(compiled)
    rows = table(40, seed=3)
    huge = (np.arange(40) * 7919 + 2**53 + 1) * np.where(np.arange(40) % 2, 1, -1)
    for batch in (rows.assign(i32=rows["i32"].astype(np.int64)), rows.assign(i32=huge)):
        assert difference(forest_on_matrix(batch, forest), compiled(batch, forest)) is None
    assert "1 call(s)" in compiled.explain().split("2^53 or more meets")[1].splitlines()[0]


def narrow_arrays(t: type, rows: int, seed: int) -> np.ndarray:
    """``rows`` x 3 values of dtype ``t``, its extremes on the first rows."""
    info = np.iinfo(t)
    values = np.random.default_rng(seed).integers(info.min, info.max, (rows, 3), endpoint=True)
    values[:2] = np.array([[info.min] * 3, [info.max] * 3])[: min(rows, 2)]
    return values.astype(t)


def halves(X):
    return X * 0.5 - X / 3


def doubled(X):
    return X + X  # wraps in the narrow width


@pytest.mark.parametrize("t", list(NARROW.values()))
@pytest.mark.parametrize("fn", [halves, doubled])
def test_a_narrow_array_argument_matches(fn: Callable, t: type) -> None:
    """A 2-D narrow integer array argument is read as float64: only ops numpy gives float64
    for are native; another dtype at run time (int16 for int8, int8 for the others) runs
    the original."""
    compiled = wm.compile(fn, example=(narrow_arrays(t, 50, 1),))
    other = np.int16 if t is np.int8 else np.int8
    batch = [narrow_arrays(t, n, n) for n in ROWS] + [narrow_arrays(t, 60, 3)[::-1],
                                                      narrow_arrays(other, 60, 4)]  # fmt: skip
    for X in batch:
        assert difference(fn(X.copy()), compiled(X.copy())) is None
    assert (fn is halves) == (not compiled.traced.python_fallbacks), compiled.explain()
