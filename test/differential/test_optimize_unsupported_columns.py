"""``wm.optimize`` on frames with columns of dtypes native code does not read (category,
tz-aware datetime, timedelta, Period, object of Decimal): with none read by a feature the
whole cascade is native; a timedelta column a feature reads (``.dt.total_seconds()``) and a
category column compared with a str run in Python, in the exact and the cascaded programs,
and ``explain()`` names them. Rows the cascade does not settle are the original function's,
each row on its own gives its batch result, and an empty batch is refused as the original
refuses it."""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.pipelines import OptimizedPipeline

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ATOL = 1e-12
UNUSED = ("tz", "period", "decimal")


def table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Numbers a, b (most of the signal), c, a timedelta ``td`` (some signal), the
    ``UNUSED`` columns with missing values (NaN, NaT, None), and labels."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n))
    seconds = rng.integers(1, 10**6, n)
    logit = 3 * a - 2.5 * b + 0.5 * c + 1.5 * (np.log1p(seconds) - 12)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    missing = np.arange(n) % 5 == 2
    stamps = pd.Timestamp("2021-03-14", tz="US/Eastern") + pd.to_timedelta(seconds, unit="s")
    frame = pd.DataFrame({
        "a": a, "b": b, "c": c,
        "td": pd.to_timedelta(seconds, unit="s"),
        "cat": pd.Categorical(rng.choice(["x", "y", "é"], n)),
        "tz": pd.Series(stamps).mask(missing),
        "period": pd.period_range("2020-01", periods=n, freq="D"),
        "decimal": pd.Series([None if m else decimal.Decimal(i) / 7
                              for i, m in enumerate(missing)], dtype=object),
    })  # fmt: skip
    frame.loc[frame.index % 5 == 2, "cat"] = np.nan
    frame.loc[3, "c"] = -0.0
    return frame, y


def python_features(df: pd.DataFrame) -> np.ndarray:
    seconds = np.log1p(df["td"].dt.total_seconds().to_numpy()) - 12
    return np.column_stack([seconds, (df["cat"] == "x").to_numpy()])


def score_with_td(df, model):
    X = df[["a", "b", "c"]].to_numpy()
    return model.predict_proba(np.column_stack([X, python_features(df)]))[:, 1]


def score_numbers(df, model):
    cheap = df[["a", "b"]].to_numpy()
    rest = np.tanh(df[["c"]].to_numpy()) * 2
    return model.predict_proba(np.hstack([cheap, rest]))[:, 1]


@dataclass
class Case:
    fn: Any
    model: LogisticRegression
    fast: OptimizedPipeline
    test: pd.DataFrame


def _case(fn: Any, features: Any) -> Case:
    frame, y = table(4000, seed=1)
    model = LogisticRegression().fit(features(frame[:2000]), y[:2000])
    fast = wm.optimize(
        fn, (frame[:2000], model), y[:2000], max_accuracy_loss=0.02,
        validation=(frame[2000:3000], model), validation_y=y[2000:3000], progress=False,
        min_speedup=0.0,  # kept however fast: what is checked here is its results
    )  # fmt: skip
    return Case(fn, model, fast, frame[3000:].reset_index(drop=True))


@pytest.fixture(scope="module")
def with_td() -> Case:
    return _case(score_with_td, lambda f: np.column_stack([f[["a", "b", "c"]], python_features(f)]))


@pytest.fixture(scope="module")
def numbers() -> Case:
    return _case(score_numbers, lambda f: np.hstack([f[["a", "b"]], np.tanh(f[["c"]]) * 2]))


def _check_rows(case: Case) -> None:
    """Unsettled rows are the original's (all rows when nothing is cascaded), in a batch
    and one row at a time."""
    original = case.fn(case.test, case.model)
    np.testing.assert_allclose(case.fast.exact(case.test, case.model), original,
                               rtol=0, atol=ATOL)  # fmt: skip
    out = np.asarray(case.fast(case.test, case.model))
    unsettled = np.ones(len(case.test), dtype=bool)
    if case.fast.cascaded:
        unsettled = ~case.fast.cheap((case.test, case.model))[1]
        assert 0 < unsettled.sum() < len(case.test)
    np.testing.assert_allclose(out[unsettled], original[unsettled], rtol=0, atol=ATOL)
    for i in [*np.flatnonzero(unsettled)[:3], *np.flatnonzero(~unsettled)[:3]]:
        one = np.asarray(case.fast(case.test.iloc[[i]], case.model))
        np.testing.assert_array_equal(one, out[[i]])


def test_unused_columns_leave_the_cascade_native(numbers: Case) -> None:
    assert numbers.fast.cascaded, numbers.fast.report()
    explained = numbers.fast.explain()
    assert "Runs in Python:\n  - nothing" in explained, explained
    _check_rows(numbers)


def test_read_timedelta_and_category_columns_run_in_python_and_are_explained(with_td: Case) -> None:
    assert with_td.fast.cascaded, with_td.fast.report()
    explained = with_td.fast.explain() + with_td.fast.exact.explain()
    for column in ("td", "cat"):
        dtype = with_td.test[column].dtype
        assert f"column {column!r} is {dtype}, which native code does not read" in explained, \
            explained  # fmt: skip
    for column in UNUSED:
        assert f"column {column!r}" not in explained
    _check_rows(with_td)


@pytest.mark.parametrize("fixture", ["numbers", "with_td"])
def test_empty_batch_is_refused_as_the_original_refuses_it(fixture: str, request) -> None:
    case: Case = request.getfixturevalue(fixture)
    empty = case.test.iloc[:0]
    with pytest.raises(ValueError) as expected:
        case.fn(empty, case.model)
    with pytest.raises(type(expected.value)):
        case.fast(empty, case.model)
