"""``explain()`` names every way a compiled pipeline hands work back to the original function
at run time (a row, or the whole batch), why, and how many rows or calls took it so far.

Pipelines written as a notebook writes them, called on batches that take each handoff; the
results are the original's, and the counts are those of the rows and calls that took it.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import willump_mlir as wm
from willump_mlir.abi import BATCH_ROW_HANDOFFS, ROW_HANDOFFS
from willump_mlir.runtime.handoffs import CALL_HANDOFFS
from willump_mlir.selfcheck import difference


def handoffs(compiled: Any) -> tuple[dict[str, int], dict[str, int]]:
    """The rows and calls ``explain()`` counts, by reason key (every handoff it lists)."""
    section = compiled.explain().split("Handed to the original function at run time")[1]
    section = section.split("\n\n")[0]
    rows, calls = {}, {}
    for key, why in ROW_HANDOFFS.items():
        found = re.search(rf"  - that row, when {re.escape(why)}: (\d+) row\(s\)", section)
        if key in BATCH_ROW_HANDOFFS:  # counted in calls too
            found = re.search(
                rf"  - the whole batch, when {re.escape(why)}: (\d+) row\(s\) in (\d+) call",
                section,
            )
            if found:
                calls[key] = int(found[2])
        if found:
            rows[key] = int(found[1])
    for key, why in CALL_HANDOFFS.items():
        found = re.search(rf"  - the whole batch, when {re.escape(why)}: (\d+) call\(s\)", section)
        if found:
            calls[key] = int(found[1])
    listed = section.count("\n  - ")
    assert listed == len(rows) + len(set(calls) - set(rows)), section  # all in the tables
    return rows, calls


def test_linear_classifier_ties_are_named_and_counted() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    model = LogisticRegression().fit(X, (X["a"] > 0).astype(int))

    def label(df: pd.DataFrame) -> Any:
        return model.predict(df[["a", "b", "c"]])

    compiled = wm.compile(label, example=(X,))
    rows, calls = handoffs(compiled)
    assert rows == {"linear-tie": 0}
    assert calls["empty"] == calls["input"] == calls["int53"] == 0
    batch = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    (w_a, w_b, w_c), b = model.coef_[0], model.intercept_[0]
    batch.loc[:9, "c"] = -(batch["a"][:10] * w_a + batch["b"][:10] * w_b + b) / w_c  # ties
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert difference(label(batch), compiled(batch)) is None
    # the original on those rows alone may round them otherwise: it runs on the batch
    rows, calls = handoffs(compiled)
    assert rows == {"linear-tie": 10} and calls["linear-tie"] == 1
    assert compiled.rows_in_python == 10 and compiled.calls_in_python == 1
    with pytest.raises(ValueError, match="0 sample"):  # an empty batch: the original's error
        compiled(batch.iloc[:0])
    assert handoffs(compiled)[1]["empty"] == 1 and compiled.calls_in_python == 2


def test_int64_past_2_53_into_trees_runs_the_original_and_is_counted() -> None:
    frame = pd.DataFrame({"id": np.arange(100, dtype=np.int64) * 7, "x": np.arange(100.0) % 9})
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(frame, frame["x"] > 4)

    def predict(df: pd.DataFrame) -> Any:
        return model.predict_proba(df[["id", "x"]])[:, 1]

    compiled = wm.compile(predict, example=(frame,))
    assert handoffs(compiled)[1]["int53"] == 0
    big = frame.copy()
    big.loc[3, "id"] = 2**53 + 1  # float64 rounds it
    assert difference(predict(big), compiled(big)) is None
    assert difference(predict(frame), compiled(frame)) is None  # native again
    rows, calls = handoffs(compiled)
    assert rows == {} and calls["int53"] == 1 and compiled.calls_in_python == 1


def test_rows_handed_back_before_a_python_step_run_the_whole_batch() -> None:
    texts = ["plain text", "other words", "more plain", "words words", "a b c"] * 6
    vectorizer = TfidfVectorizer().fit(texts)
    model = LogisticRegression().fit(vectorizer.transform(texts), np.arange(30) % 2)

    def ranked(docs: list[str]) -> Any:
        scores = model.predict_proba(vectorizer.transform(docs))[:, 1]
        return pd.Series(scores).rank(method="first").to_numpy()  # reads every row

    compiled = wm.compile(ranked, example=(texts[:10],))
    assert compiled.traced.python_fallbacks, compiled.explain()
    rows, calls = handoffs(compiled)
    assert rows == {"text-context": 0, "linear-range": 0} and calls["whole-batch"] == 0
    batch = ["ΟΔΟΣ words", *texts[:7], "ΣΑΣ plain"]  # capital sigmas: lowercase by context
    assert difference(ranked(batch), compiled(batch)) is None
    rows, calls = handoffs(compiled)
    assert rows == {"text-context": 2, "linear-range": 0} and calls["whole-batch"] == 1
    assert difference(ranked(texts), compiled(texts)) is None  # no handoff
    assert handoffs(compiled) == (rows, calls)


def test_two_reasons_of_one_kernel_are_counted_apart() -> None:
    frame = pd.DataFrame({"s": ["ab", "cd", "Ef", "gh"] * 10, "n": ["1", "22", "333", "4"] * 10})

    def features(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {"ef": (df["s"].str.lower() == "ef").astype(float), "n": df["n"].astype(int)}
        )

    model = LinearRegression().fit(features(frame), np.arange(40.0) % 3)

    def predict(df: pd.DataFrame) -> Any:
        X = pd.DataFrame(
            {"ef": (df["s"].str.lower() == "ef").astype(float), "n": df["n"].astype(int)}
        )
        return model.predict(X)

    compiled = wm.compile(predict, example=(frame,))
    assert handoffs(compiled)[0] == {"str-case": 0, "str-int": 0}
    batch = pd.DataFrame({"s": ["ΣΑ", "ab", "cd", "EF"], "n": ["1", " 2", "+3", "4"]})
    assert difference(predict(batch), compiled(batch)) is None
    rows, calls = handoffs(compiled)
    assert rows == {"str-case": 1, "str-int": 2} and not any(calls.values())
    assert compiled.rows_in_python == 3
