"""Defects found by a third differential hunt (string and date columns, merges, numpy
idioms, save/load/pickle, ``wm.optimize``): the compiled or optimized pipeline against the
original function on the same rows."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import quiet_compile
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.selfcheck import difference


def _outcome(fn: Any, *args: Any) -> Any:
    """``fn``'s result, or the class of the exception it raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args)
        except Exception as error:
            return type(error)


def _same(expected: Any, got: Any) -> None:
    if isinstance(expected, type):
        assert isinstance(got, type) and issubclass(got, expected), (expected, got)
    else:
        assert difference(expected, got) is None


CITY_RATES = pd.DataFrame({"city": ["Lyon", "Köln", "", "São Paulo"],
                           "rate": [0.5, np.nan, 1.5, 2.5]})  # fmt: skip
VISITS = pd.DataFrame({"city": ["Lyon", "Köln", "", "Nice", "São Paulo"], "n": [1.0, 2, 3, 4, 5]})


def rate_of_city(df, rates):
    return df.merge(rates, on="city", how="left")["rate"].fillna(-1) * 2


def lyon_flag(df):
    return (df["city"] == "Lyon").astype(float) + df["n"]


def lowered_is_lyon(df):
    return df["city"].str.lower() == "lyon"


@pytest.mark.parametrize(("fn", "rest"), [
    (rate_of_city, (CITY_RATES,)), (lyon_flag, ()), (lowered_is_lyon, ()),
])  # fmt: skip
@pytest.mark.parametrize("missing", [
    np.array([np.nan, np.nan]), pd.array([None, None], dtype="Float64"), np.array([np.nan]),
])  # fmt: skip
def test_all_missing_text_column_that_pandas_reads_as_numbers(fn, rest, missing) -> None:
    """A str column whose every value is missing, given as float64 (or ``Float64``): native
    code read it as missing strings, while pandas refuses ``.str`` on it (AttributeError),
    refuses to merge it with str keys (ValueError) and compares ``Float64`` to ``<NA>``:
    the compiled pipeline returned where the original raised, or 0 where it gave NaN.
    Now such a column is not read as text: the original runs."""
    compiled = quiet_compile(fn, VISITS, *rest)
    batch = pd.DataFrame({"city": missing, "n": np.arange(len(missing), dtype=float)})
    for again in (compiled, pickle.loads(pickle.dumps(compiled))):
        _same(_outcome(fn, batch.copy(), *rest), _outcome(again, batch.copy(), *rest))
        for other in (VISITS, VISITS.iloc[[3]], VISITS.astype({"city": "str"})):
            assert difference(fn(other.copy(), *rest), again(other.copy(), *rest)) is None


class Slow:
    """An opaque feature step (a call the compiler keeps in Python): the costly group."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.sin(x[:, 0] * x[:, 1]), np.cos(x[:, 2])])


SLOW = Slow()


def scored_series(frame, model):
    x = frame[["a", "b", "c"]].to_numpy()
    p = model.predict_proba(np.hstack([x, SLOW(x)]))[:, 1]
    return pd.Series(p, index=frame.index, name="score")


def _cascade_rows(n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    features = np.hstack([x, SLOW(x)])
    logit = 2.5 * x[:, 0] - 2 * x[:, 1] + 1.5 * x[:, 2] + 1.5 * features[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(x, columns=list("abc")), y, features


def test_cascade_keeps_a_series_result(tmp_path) -> None:
    """``wm.optimize`` of a function returning a Series with the batch's index: a batch
    the cheap model settled entirely got the Series, one with unsettled rows a bare ndarray
    (index and name lost). Now both keep the original's type, index and name."""
    fn = scored_series
    frame, y, features = _cascade_rows(3000)
    model = LogisticRegression().fit(features[:1000], y[:1000])
    fast = wm.optimize(
        fn, (frame[:1000], model), y[:1000], max_accuracy_loss=0.05, min_speedup=0.0,
        validation=(frame[1000:2000], model), validation_y=y[1000:2000], progress=False,
    )  # fmt: skip
    assert fast.cascaded, fast.report()
    test = frame[2000:].set_index(frame.index[2000:] * 3 + 1)
    _, settled = fast.cheap((test, model))
    assert 0 < settled.sum() < len(test)
    fast.save(tmp_path / "fast")
    for again in (fast, pickle.loads(pickle.dumps(fast)), wm.load(tmp_path / "fast", trust=True)):
        for batch in (test, test.iloc[np.flatnonzero(~settled)[:1]], test.iloc[:0]):
            expected, got = _outcome(fn, batch.copy(), model), _outcome(again, batch.copy())
            if isinstance(expected, type):  # the empty batch: scikit-learn refuses it
                _same(expected, got)
                continue
            assert isinstance(got, pd.Series) and got.name == expected.name
            pd.testing.assert_index_equal(got.index, expected.index)


DAYS = pd.DataFrame({"d": ["2013-01-01", "2016-02-29", None, "2020-12-31"] * 3,
                     "a": np.arange(12.0)})  # fmt: skip


def month(df):
    return pd.to_datetime(df["d"]).dt.month


def month_filled(df):
    X = df[["a"]].copy()
    X["m"] = pd.to_datetime(df["d"]).dt.month.fillna(0)
    return X


def days_since(df):
    return (pd.to_datetime(df["d"]) - pd.Timestamp("2000-01-01")).dt.days * 2


def _date_features(df):
    when = pd.to_datetime(df["d"])
    X = df[["a"]].copy()
    X["m"] = when.dt.month.fillna(0)
    X["dow"] = when.dt.dayofweek.fillna(-1)
    return X


def month_scored(df, model):
    return model.predict(_date_features(df))


@pytest.mark.parametrize("fn", [month, month_filled, days_since, month_scored])
def test_date_fields_of_an_example_with_nat(fn) -> None:
    """A ``.dt`` field (or ``.dt.days``) of dates with NaT on the example is float64 in
    pandas, but int32 (int64) on a batch without NaT: native code returned float64 there.
    Now such a field is native only where a model (or a comparison) reads it."""
    from sklearn.linear_model import LinearRegression

    rest = (LinearRegression().fit(_date_features(DAYS), DAYS["a"]),) if fn is month_scored else ()
    compiled = quiet_compile(fn, DAYS, *rest)
    assert bool(compiled.traced.python_fallbacks) == (fn is not month_scored)
    for batch in (DAYS, DAYS.dropna(), DAYS.iloc[[0]], DAYS.iloc[[2]]):
        assert difference(fn(batch.copy(), *rest), compiled(batch.copy(), *rest)) is None
