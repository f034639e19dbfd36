"""Bad input to a compiled pipeline: a clear error naming the argument, never a crash.

Everything runs in the pytest process: a native crash on bad input would kill the run.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from notebook_check import same_outcome
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import willump_mlir as wm
from willump_mlir.workloads.lending_club import CATEGORICAL, NUMERIC


def score(frame, model):
    return model.predict_proba(frame)[:, 1]


def score_array(x, model):
    return model.predict_proba(x)[:, 1]


def two_frames(left, right, model):
    return model.predict_proba(np.hstack([left.to_numpy(), right.to_numpy()]))[:, 1]


@pytest.fixture(scope="module")
def pipelines(lending_club) -> SimpleNamespace:
    """Fitted pipelines compiled once: lending_club, a strict variant, a numpy one."""
    work = lending_club
    strict = Pipeline([
        ("features", ColumnTransformer([
            ("num", StandardScaler(), NUMERIC),  # no imputer: NaN reaches the model
            ("cat", OneHotEncoder(handle_unknown="error"), CATEGORICAL),
        ])),
        ("clf", LogisticRegression(max_iter=300)),
    ]).fit(work.train, work.y_train)  # fmt: skip
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 3))
    array_model = Pipeline([("s", StandardScaler()), ("lr", LogisticRegression())])
    array_model.fit(x, x[:, 0] > 0)
    left, right = work.train[NUMERIC[:2]], work.train[NUMERIC[2:4]]
    pair_model = LogisticRegression(max_iter=300).fit(
        np.hstack([left.to_numpy(), right.to_numpy()]), work.y_train
    )
    example = work.test.iloc[:200]
    return SimpleNamespace(
        work=work,
        frame=work.test.iloc[:50].reset_index(drop=True),
        model=work.model,
        compiled=wm.compile(score, example=(example, work.model)),
        strict=strict,
        strict_compiled=wm.compile(score, example=(example, strict)),
        x=x,
        array_model=array_model,
        array_compiled=wm.compile(score_array, example=(x, array_model)),
        pair_model=pair_model,
        pair_compiled=wm.compile(two_frames, example=(example[NUMERIC[:2]],
                                                      example[NUMERIC[2:4]], pair_model)),
    )  # fmt: skip


def both_raise(compiled, original, *args, match: str) -> ValueError:
    """The original raises ValueError; so does the compiled pipeline, matching ``match``."""
    with pytest.raises(ValueError):
        original(*args)
    with pytest.raises(ValueError, match=match) as caught:
        compiled(*args)
    return caught.value


# region Argument types and shapes


@pytest.mark.parametrize("value", [[[1.0, 2.0]], None, "frame", {"a": [1.0]}])
def test_wrong_type_for_frame(pipelines, value) -> None:
    with pytest.raises(wm.InputError, match=r"argument 'frame' must be a pandas DataFrame, got "):
        pipelines.compiled(value, pipelines.model)


def test_numpy_array_for_frame(pipelines) -> None:
    with pytest.raises(wm.InputError, match="argument 'frame' must be a pandas DataFrame, "
                                            "got ndarray"):  # fmt: skip
        pipelines.compiled(pipelines.frame[NUMERIC].to_numpy(), pipelines.model)


def test_input_error_is_a_value_error() -> None:
    assert issubclass(wm.InputError, ValueError)


@pytest.mark.parametrize("column", ["int_rate", "addr_state"])
def test_missing_column(pipelines, column) -> None:
    frame = pipelines.frame.drop(columns=[column])
    with pytest.raises(ValueError, match="columns are missing") as original:
        score(frame, pipelines.model)
    with pytest.raises(wm.InputError, match=f"argument 'frame' is missing column '{column}'") as e:
        pipelines.compiled(frame, pipelines.model)
    assert "columns are missing" in str(e.value)  # the original's own error, with its class
    assert isinstance(e.value, type(original.value))


def test_missing_column_read_by_pandas_code_is_pandas_key_error() -> None:
    def ratio(frame: pd.DataFrame) -> pd.Series:
        return frame["a"] / frame["b"]

    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [4.0, 8.0]})
    compiled = wm.compile(ratio, example=(frame,))
    with pytest.raises(KeyError, match="'b'") as e:
        compiled(frame[["a"]])
    assert isinstance(e.value, wm.InputError)


def test_extra_and_reordered_columns_are_fine(pipelines) -> None:
    frame = pipelines.frame[list(reversed(pipelines.frame.columns))].copy()
    frame["unused"] = "x"
    np.testing.assert_allclose(
        pipelines.compiled(frame, pipelines.model),
        score(pipelines.frame, pipelines.model),
        atol=1e-9,
        rtol=0,
    )


def test_duplicate_column(pipelines) -> None:
    frame = pd.concat([pipelines.frame, pipelines.frame[["int_rate"]]], axis=1)
    with pytest.raises(ValueError):
        score(frame, pipelines.model)
    with pytest.raises(wm.InputError, match="more than one column named 'int_rate'"):
        pipelines.compiled(frame, pipelines.model)


@pytest.mark.parametrize("width", [2, 4])
def test_wrong_width(pipelines, width) -> None:
    x = np.ones((5, width))
    message = f"argument 'x' has {width} columns; the compiled pipeline expects 3"
    e = both_raise(pipelines.array_compiled, score_array, x, pipelines.array_model,
                   match=re.escape(message))  # fmt: skip
    assert isinstance(e, wm.InputError)


def test_one_dimensional_array(pipelines) -> None:
    with pytest.raises(wm.InputError, match=r"argument 'x' must be 2-D, got shape \(3,\)"):
        pipelines.array_compiled(np.ones(3), pipelines.array_model)


def test_dataframe_for_array(pipelines) -> None:
    """scikit-learn reads a DataFrame where the example was an array: the original runs."""
    frame = pd.DataFrame(pipelines.x)
    np.testing.assert_array_equal(pipelines.array_compiled(frame, pipelines.array_model),
                                  score_array(frame, pipelines.array_model))  # fmt: skip


def test_array_of_other_dtypes(pipelines) -> None:
    for x in ((pipelines.x * 10).astype(np.int64), np.asfortranarray(pipelines.x),
              pipelines.x[::2], pipelines.x > 0):  # fmt: skip
        np.testing.assert_allclose(
            pipelines.array_compiled(x, pipelines.array_model),
            score_array(x, pipelines.array_model),
            atol=1e-9,
            rtol=0,
        )


def test_float32_array_runs_the_original(pipelines) -> None:
    """scikit-learn computes in float32 for float32 input; rather than differ, the original
    function runs."""
    x = pipelines.x.astype(np.float32)
    np.testing.assert_array_equal(
        pipelines.array_compiled(x, pipelines.array_model), score_array(x, pipelines.array_model)
    )


def test_empty_batch(pipelines) -> None:
    e = both_raise(pipelines.compiled, score, pipelines.frame.iloc[:0], pipelines.model,
                   match=r"argument 'frame' is an empty batch \(0 rows\)")  # fmt: skip
    assert isinstance(e, wm.InputError)
    both_raise(pipelines.array_compiled, score_array, pipelines.x[:0], pipelines.array_model,
               match=r"argument 'x' is an empty batch")  # fmt: skip


def test_rows_disagree(pipelines) -> None:
    """Data arguments of different row counts run the original function (pandas may align
    them by label): its error, naming the argument, or its result."""
    left, right = pipelines.frame[NUMERIC[:2]], pipelines.frame[NUMERIC[2:4]].iloc[:7]
    both_raise(pipelines.pair_compiled, two_frames, left, right, pipelines.pair_model,
               match="argument 'right' has 7 rows where earlier data arguments have 50")


# endregion
# region Values native code must reject like scikit-learn


def test_nan_reaching_logistic_regression(pipelines) -> None:
    frame = pipelines.frame.copy()
    frame.loc[17, "int_rate"] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        score(frame, pipelines.strict)
    with pytest.raises(ValueError, match="NaN") as caught:
        pipelines.strict_compiled(frame, pipelines.strict)
    assert "row 17" in str(caught.value)
    # One row (the Python string-encoding path) and a numpy array input as well.
    both_raise(pipelines.strict_compiled, score, frame.iloc[[17]], pipelines.strict, match="NaN")
    x = pipelines.x.copy()
    x[3, 1] = np.nan
    both_raise(pipelines.array_compiled, score_array, x, pipelines.array_model, match="NaN")


def test_nan_error_names_the_argument(pipelines) -> None:
    frame = pipelines.frame.copy()
    frame.loc[3, "int_rate"] = np.nan
    with pytest.raises(wm.InputError, match="'frame'"):
        pipelines.strict_compiled(frame, pipelines.strict)


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinity(pipelines, value) -> None:
    frame = pipelines.frame.copy()
    frame.loc[5, "annual_inc"] = value
    e = both_raise(pipelines.compiled, score, frame, pipelines.model, match="infinity")
    assert "row 5" in str(e)
    both_raise(pipelines.strict_compiled, score, frame, pipelines.strict, match="infinity")


def test_unknown_category_names_value_and_column(pipelines) -> None:
    frame = pipelines.frame.copy()
    frame.loc[9, "addr_state"] = "Atlantis"
    e = both_raise(pipelines.strict_compiled, score, frame, pipelines.strict,
                   match=r"unknown categories \['Atlantis'\] in column 'addr_state'")  # fmt: skip
    assert "row 9" in str(e)
    # a single row goes through the small-batch string path
    both_raise(pipelines.strict_compiled, score, frame.iloc[[9]], pipelines.strict,
               match=r"unknown categories \['Atlantis'\] in column 'addr_state'")  # fmt: skip
    # with handle_unknown='ignore' the same row is fine
    np.testing.assert_allclose(
        pipelines.compiled(frame, pipelines.model), score(frame, pipelines.model), atol=1e-9, rtol=0
    )


def test_missing_string_with_handle_unknown_error(pipelines) -> None:
    frame = pipelines.frame.copy()
    frame["term"] = frame["term"].astype(object)
    frame.loc[4, "term"] = None
    both_raise(pipelines.strict_compiled, score, frame, pipelines.strict, match="term")


# endregion
# region Bound arguments and calling convention


def test_different_estimator_object(pipelines) -> None:
    from sklearn.base import clone

    other = clone(pipelines.model).fit(pipelines.work.train, pipelines.work.y_train)
    for model in (other, pipelines.strict, None):
        with pytest.raises(wm.InputError, match="argument 'model' must be the object given to "
                                                "wm.compile"):  # fmt: skip
            pipelines.compiled(pipelines.frame, model)


@pytest.mark.parametrize("args", [(), ("frame", "model", "extra")])
def test_wrong_number_of_arguments(pipelines, args) -> None:
    values = {"frame": pipelines.frame, "model": pipelines.model, "extra": 1}
    message = rf"score\(\) takes 2 arguments \(frame, model\), got {len(args)} \(or the data"
    with pytest.raises(TypeError, match=message + r" arguments only: frame\)"):
        pipelines.compiled(*(values[a] for a in args))


def test_keyword_arguments(pipelines) -> None:
    expected = score(pipelines.frame, pipelines.model)
    got = pipelines.compiled(frame=pipelines.frame, model=pipelines.model)
    np.testing.assert_allclose(got, expected, atol=1e-9, rtol=0)
    np.testing.assert_allclose(pipelines.compiled(frame=pipelines.frame), expected, atol=1e-9,
                               rtol=0)  # the data arguments only: the model is compiled in
    with pytest.raises(TypeError, match="missing argument 'frame'"):
        pipelines.compiled(model=pipelines.model)
    with pytest.raises(TypeError, match=r"unexpected arguments \['bogus'\]"):
        pipelines.compiled(pipelines.frame, model=pipelines.model, bogus=1)


# endregion
# region Column contents of the wrong kind


@pytest.mark.parametrize("rows", [1, 50])  # below and above the 32-row pyarrow switch
def test_string_column_holding_ints(pipelines, rows) -> None:
    """The original function decides: OneHotEncoder refuses a column of ints (TypeError)
    and ignores an int among strings as an unknown category."""
    frame = pipelines.frame.iloc[:rows].copy()
    frame["term"] = np.arange(rows) % 2
    error = same_outcome(
        pipelines.compiled, score, frame, pipelines.model, argument="argument 'frame'"
    )
    assert error is not None and "column 'term' is int64, not a column of strings" in str(error)
    mixed = pipelines.frame.iloc[:rows].copy()
    mixed["emp_length"] = mixed["emp_length"].astype(object)
    mixed.loc[mixed.index[-1], "emp_length"] = 7
    same_outcome(pipelines.compiled, score, mixed, pipelines.model, argument="argument 'frame'")


def test_numeric_column_holding_strings(pipelines) -> None:
    frame = pipelines.frame.copy()
    frame["int_rate"] = frame["int_rate"].astype(object)
    frame.loc[2, "int_rate"] = "abc"
    both_raise(pipelines.compiled, score, frame, pipelines.model,
               match="(?s)argument 'frame': column 'int_rate' is object, where the pipeline "
                     "was compiled for numpy numbers.*'abc'")  # fmt: skip
    # numeric text converts, in scikit-learn as well
    frame["int_rate"] = pipelines.frame["int_rate"].astype(str)
    np.testing.assert_allclose(
        pipelines.compiled(frame, pipelines.model), score(frame, pipelines.model), atol=1e-9, rtol=0
    )


@pytest.mark.parametrize("dtype", [np.int64, np.float32, "Float64", "Int64", bool])
def test_numeric_columns_of_other_dtypes(pipelines, dtype) -> None:
    frame = pipelines.frame.copy()
    frame["delinq_2yrs"] = frame["delinq_2yrs"].astype(dtype)
    if dtype in (np.float32, "Float64"):
        frame["int_rate"] = frame["int_rate"].astype(dtype)
    np.testing.assert_allclose(
        pipelines.compiled(frame, pipelines.model), score(frame, pipelines.model), atol=1e-9, rtol=0
    )


@pytest.mark.parametrize("rows", [
    1,
    50,
])  # fmt: skip
def test_category_dtype_string_column(pipelines, rows) -> None:
    frame = pipelines.frame.iloc[:rows].copy()
    frame["term"] = frame["term"].astype("category")
    frame["addr_state"] = frame["addr_state"].astype("str")
    np.testing.assert_allclose(
        pipelines.compiled(frame, pipelines.model), score(frame, pipelines.model), atol=1e-9, rtol=0
    )


# endregion


def test_unknown_tree_layout_is_refused() -> None:
    def double(x: np.ndarray) -> np.ndarray:
        return x * 2.0

    with pytest.raises(ValueError, match="tree layout must be one of auto, branches, nodes"):
        wm.compile(double, (np.ones((2, 2)),), tree_layout="diagonal")
