"""The native one-hot lookup of strings (``feature.encode_strings``) against scikit-learn on
vocabularies whose hash table needs several probes: every category, unknown strings of the
same lengths, prefixes, the empty string, Unicode and missing values; and the order of the
infinity errors when several columns and rows hold one."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import willump_mlir as wm


def score(frame: pd.DataFrame, model: Pipeline) -> np.ndarray:
    return model.predict_proba(frame)[:, 1]


def vocabulary() -> list[str]:
    """300 categories: two-letter codes (many of one length), prefixes of one another, the
    empty string and Unicode."""
    letters = "ABCDEFGHIJKLMNOPQRST"
    codes = [a + b for a in letters for b in letters[:14]]
    return [*codes[:280], "", "a", "ab", "abc", "abcd", "é", "e\u0301", "日本", "日本語", "Zürich",
            "x" * 40, "x" * 41, "NaN", "None", " A", "A ", "a\x00b", "🙂", "AAA", "BA"]  # fmt: skip


@pytest.fixture(scope="module")
def fitted() -> tuple[Pipeline, pd.DataFrame]:
    rng = np.random.default_rng(3)
    words = vocabulary()
    rows = 2000
    frame = pd.DataFrame({
        "x": rng.normal(size=rows),
        "word": pd.Series(rng.choice(words, rows), dtype=object),
        "small": pd.Series(rng.choice(["on", "off"], rows), dtype=object),
    })  # fmt: skip
    y = (frame["x"] + frame["word"].str.len() % 3 > 1).to_numpy()
    features = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), ["x"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["word", "small"]),
    ])  # fmt: skip
    model = Pipeline([("f", features), ("clf", LogisticRegression(max_iter=2000))])
    return model.fit(frame, y), frame


def test_every_category_and_unknown_strings_of_the_same_lengths(fitted) -> None:
    model, frame = fitted
    compiled = wm.compile(score, example=(frame[:300], model))
    probes = [int(p) for p in re.findall(r"probes (\d+)", compiled.ir("feature"))]
    assert max(probes) > 1  # the table of 300 categories has collisions
    unknown = ["ZZ", "AZ", "", "abcde", "b", "日", "日本人", "e", "x" * 39, "X" * 40, "nan",
               "🙃", "a\x00c", "AA ", "ZÜRICH", None, np.nan]  # fmt: skip
    words = [*vocabulary(), *unknown] * 3
    fresh = pd.DataFrame({
        "x": np.linspace(-2, 2, len(words)),
        "word": pd.Series(words, dtype=object),
        "small": pd.Series((["on", "off", "of", "onn", None] * len(words))[: len(words)],
                           dtype=object),
    })  # fmt: skip
    expected = score(fresh, model)
    np.testing.assert_allclose(compiled(fresh), expected, rtol=0, atol=1e-12)
    for row in (0, 5, len(vocabulary()) + 2, len(words) - 1):  # the small-batch path too
        part = fresh.iloc[[row]].reset_index(drop=True)
        np.testing.assert_allclose(compiled(part), score(part, model), rtol=0, atol=1e-12)


def scaled(columns: str, imputer: SimpleImputer, rows: int, seed: int) -> tuple:
    """imputer + StandardScaler + LogisticRegression fitted on ``rows`` normal rows of
    ``columns``; the model, the rows and the compiled pipeline."""
    numbers = Pipeline([("impute", imputer), ("scale", StandardScaler())])
    model = Pipeline([("f", ColumnTransformer([("num", numbers, list(columns))])),
                      ("clf", LogisticRegression())])  # fmt: skip
    frame = pd.DataFrame(np.random.default_rng(seed).normal(size=(rows, len(columns))),
                         columns=list(columns))  # fmt: skip
    model.fit(frame, frame["a"] > 0)
    return model, frame, wm.compile(score, example=(frame[: rows // 2], model))


def test_the_first_row_with_an_infinity_is_named() -> None:
    model, frame, compiled = scaled("abc", SimpleImputer(), 200, seed=0)
    for cells in ([(9, "a"), (4, "c")], [(4, "c"), (4, "a"), (30, "b")], [(150, "b")]):
        broken = frame.copy()
        for row, column in cells:
            broken.loc[row, column] = np.inf if row % 2 else -np.inf
        with pytest.raises(ValueError, match="infinity"):
            score(broken, model)
        with pytest.raises(ValueError, match="infinity") as raised:
            compiled(broken)
        assert f"row {min(row for row, _ in cells)}:" in str(raised.value)


@pytest.mark.parametrize("fill", [0.5, np.inf])
def test_an_imputer_that_fills_infinity_is_an_error_where_it_fills(fill: float) -> None:
    """An imputer's input is tested for infinity, and its output again (an infinite fill:
    scikit-learn's scaler then refuses the filled row). Only finite fills mark the imputer
    ``{finite}``, which spares the scaler's test of its output."""
    imputer = SimpleImputer(strategy="constant", fill_value=fill)
    model, frame, compiled = scaled("ab", imputer, 100, seed=1)
    assert ("{finite}" in compiled.ir("feature")) == bool(np.isfinite(fill))
    holes = frame.copy()
    holes.loc[6, "b"] = np.nan
    holes.loc[40, "a"] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        score(holes, model)
    with pytest.raises(ValueError, match="infinity") as raised:
        compiled(holes)
    assert f"row {40 if np.isfinite(fill) else 6}:" in str(raised.value)
    holes.loc[40, "a"] = 1.0
    if np.isfinite(fill):
        np.testing.assert_allclose(compiled(holes), score(holes, model), rtol=0, atol=1e-12)
    else:
        with pytest.raises(ValueError, match="row 6: .*infinity"):
            compiled(holes)
