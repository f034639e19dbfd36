"""Inputs on which scikit-learn computes differently or raises: the compiled code runs the
original function on them, or raises as scikit-learn does; it never returns other numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import willump_mlir as wm


def score(frame, model):
    return model.predict_proba(frame)[:, 1]


def score_array(x, model):
    return model.predict_proba(x)[:, 1]


def transform(frame, encoder):
    return encoder.transform(frame)


@pytest.fixture(scope="module")
def frame_model():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=80), "y": rng.normal(size=80)})
    y = (frame.x + frame.y > 0).to_numpy()
    features = ColumnTransformer([("x", StandardScaler(), ["x"]), ("y", StandardScaler(), ["y"])])
    model = Pipeline([("f", features), ("lr", LogisticRegression())]).fit(frame, y)
    return frame, model, wm.compile(score, example=(frame, model))


def test_float32_column_scaled_alone_runs_the_original(frame_model) -> None:
    frame, model, compiled = frame_model
    mixed = frame.assign(x=frame.x.astype(np.float32))  # the "x" scaler sees float32 only
    calls = compiled.calls_in_python
    np.testing.assert_array_equal(compiled(mixed, model), score(mixed, model))
    assert compiled.calls_in_python == calls + 1


def test_float32_with_small_ints_runs_the_original() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.integers(0, 5, 60).astype(float)})
    y = (frame.a > 0).to_numpy()
    model = Pipeline([("s", ColumnTransformer([("s", StandardScaler(), ["a", "b"])])),
                      ("lr", LogisticRegression())]).fit(frame, y)  # fmt: skip
    compiled = wm.compile(score, example=(frame, model))
    narrow = frame.assign(a=frame.a.astype(np.float32), b=frame.b.astype(np.int16))
    expected = score(narrow, model)  # float32 with int16 stays float32: the original runs
    np.testing.assert_array_equal(compiled(narrow, model), expected)
    wide = frame.assign(a=frame.a.astype(np.float32), b=frame.b.astype(np.int64))
    np.testing.assert_allclose(compiled(wide, model), score(wide, model), atol=1e-9, rtol=0)


def test_float16_array_runs_the_original() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 3))
    model = Pipeline([("s", StandardScaler()), ("lr", LogisticRegression())])
    model.fit(x, x[:, 0] > 0)
    compiled = wm.compile(score_array, example=(x, model))
    narrow = x.astype(np.float16)
    np.testing.assert_array_equal(compiled(narrow, model), score_array(narrow, model))


def test_infinity_into_a_numeric_encoder_raises_like_sklearn() -> None:
    frame = pd.DataFrame({"n": [1.0, 2.0, 3.0, 2.0]})
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(frame)
    compiled = wm.compile(transform, example=(frame, encoder))
    bad = pd.DataFrame({"n": [1.0, np.inf]})
    with pytest.raises(ValueError, match="infinity"):
        encoder.transform(bad)
    with pytest.raises(wm.InputError, match=r"argument 'frame', row 1: .*infinity"):
        compiled(bad, encoder)


@pytest.mark.parametrize("rows", [3, 40])  # both ways of converting strings
def test_lone_surrogate_runs_the_original(rows) -> None:
    """A lone surrogate is no UTF-8, but scikit-learn's encoder reads it (an unknown
    category): the original runs on the batch."""
    frame = pd.DataFrame({"c": ["a", "b"] * 20})
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(frame)
    compiled = wm.compile(transform, example=(frame, encoder))
    bad = pd.DataFrame({"c": pd.Series(["a"] * (rows - 1) + ["\ud800"], dtype=object)})
    np.testing.assert_array_equal(compiled(bad, encoder), encoder.transform(bad))
    assert compiled.calls_in_python == 1
