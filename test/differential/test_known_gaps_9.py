"""Known gaps closed by the ninth round of fixes, checked against the original function on
the same inputs (its result, or the class of its error)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import costs_counted, quiet_compile, same_on_batches
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

import willump_mlir as wm
from willump_mlir.pipelines import OptimizedPipeline

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# region 1: cascades and top-K keep the statements that refuse input

COUNT = [0]
"""Rows ``expensive`` has been called with."""


def heavy(x: np.ndarray) -> np.ndarray:
    t = x
    for _ in range(50):
        t = np.sin(t) + x
    return np.column_stack([np.sin(x[:, 0] * x[:, 1]) + 0 * t[:, 0], np.cos(x[:, 2])])


def expensive(x: np.ndarray) -> np.ndarray:
    COUNT[0] += len(x)  # a Python step: the expensive feature group
    return heavy(x)


def features(frame: pd.DataFrame) -> np.ndarray:
    frame["k"] = frame["d"].astype(int)  # unused: refuses NaN and infinity all the same
    x = frame[["a", "b", "c"]].to_numpy()
    e = expensive(np.column_stack([x[:, :2], frame["e"].astype(int).to_numpy()]))
    return np.hstack([x, e])  # the cast of "e" belongs to the expensive group


def classify(frame: pd.DataFrame, model: LogisticRegression) -> np.ndarray:
    return model.predict_proba(features(frame))[:, 1]


def regress(frame: pd.DataFrame, model: Ridge) -> np.ndarray:
    return model.predict(features(frame))


def _rows(n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    frame = pd.DataFrame(x, columns=list("abc"))
    frame["d"] = rng.integers(0, 5, n) * 1.0
    frame["e"] = x[:, 2].round()
    heavy_columns = heavy(np.column_stack([x[:, :2], frame["e"]]))
    target = 2.5 * x[:, 0] - 2 * x[:, 1] + 1.5 * x[:, 2] + 1.5 * heavy_columns[:, 0]
    return frame, target, np.hstack([x, heavy_columns])


def _optimize(fn: Any, model: Any, y: np.ndarray, frame: pd.DataFrame) -> OptimizedPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.optimize(
            fn, (frame[:1500], model), y[:1500], max_accuracy_loss=0.05,
            validation=(frame[1500:2500], model), validation_y=y[1500:2500], progress=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def optimized() -> tuple[OptimizedPipeline, OptimizedPipeline, Any, Any, pd.DataFrame]:
    frame, target, x = _rows(2800)
    rng = np.random.default_rng(1)
    labels = (rng.random(len(target)) < 1 / (1 + np.exp(-target))).astype(int)
    classifier = LogisticRegression().fit(x[:1500], labels[:1500])
    regressor = Ridge().fit(x[:1500], target[:1500])
    with costs_counted(COUNT):  # the Python group costs 100 µs a row, the rest nothing
        cascade = _optimize(classify, classifier, labels, frame)
        scorer = _optimize(regress, regressor, target, frame)
    assert cascade.cascaded, cascade.report()
    assert scorer.approx is not None and scorer.curve is not None, scorer.report()
    for fast in (cascade, scorer):  # the cheap programs leave out the Python group
        assert fast.findings.chosen is not None, fast.report()
        names = [fast.findings.groups[g].name for g in fast.findings.chosen.groups]
        assert not any(n.startswith("python expensive") for n in names), fast.report()
    return cascade, scorer, classifier, regressor, frame[2500:].reset_index(drop=True)


def _outcome(run: Any, batch: pd.DataFrame) -> type[Exception] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run(batch.copy())
    except Exception as error:
        return type(error)
    return None


def _batches(test: pd.DataFrame, settled: int, unsettled: int) -> list[pd.DataFrame]:
    """Good batches, and a NaN or infinity in either cast column at a row the cheap model
    settles: in a batch, alone, and with a row it does not settle."""
    batches = [test, test.iloc[[settled]], test.iloc[[unsettled]], test.iloc[:0]]
    for column in ("d", "e"):
        for value in (np.nan, np.inf):
            bad = test.copy()
            bad.loc[settled, column] = value
            batches += [bad, bad.iloc[[settled]], bad.iloc[[settled, unsettled]]]
    return batches


def test_cascade_refuses_what_the_original_refuses(optimized) -> None:
    """``df["k"] = df["d"].astype(int)``, which nothing reads, and the expensive group's
    ``df["e"].astype(int)`` refuse NaN and infinity in the original on every row. The
    cascade dropped the second on the rows its cheap model settled (schedule-lazy moved it
    into the full program only) and returned a result; both now run on every row and raise
    the original's error class, while the expensive Python step still runs on the
    unsettled rows only."""
    cascade, _, model, _, test = optimized
    _, settled = cascade.cheap((test.copy(), model))
    row, other = int(np.flatnonzero(settled)[0]), int(np.flatnonzero(~settled)[0])
    for batch in _batches(test, row, other):
        want = _outcome(lambda b: classify(b, model), batch)
        got = _outcome(lambda b: cascade(b, model), batch)
        assert (want is None) == (got is None), (want, got, batch)
        assert want is None or issubclass(got, want), (want, got)  # type: ignore[arg-type]
    COUNT[0] = 0
    cascade(test.iloc[[row]].copy(), model)
    assert COUNT[0] == 0  # a settled row never reaches the expensive group


def test_top_k_scorer_refuses_what_the_original_refuses(optimized) -> None:
    """The top-K scorer of a regressor (the cheap model alone: the full model's ops went
    dead in insert-cascade) kept the casts that refuse NaN and infinity, so ``top_k`` on a
    batch the original refuses raises its error class."""
    _, scorer, _, model, test = optimized
    for batch in _batches(test, 0, 1)[:1] + _batches(test, 0, 1)[4:]:
        want = _outcome(lambda b: regress(b, model), batch)
        got = _outcome(lambda b: scorer.top_k(1, b, model), batch)
        assert (want is None) == (got is None), (want, got, batch)
        assert want is None or issubclass(got, want), (want, got)  # type: ignore[arg-type]


# endregion


# region 3: fillna of nullable columns


def _nullable(rows: int, missing: bool = True, nan: bool = True) -> pd.DataFrame:
    """Int64, Float64 and boolean columns with pd.NA every third row (none without
    ``missing``), and a Float64 NaN that is not NA every fifth row (none without ``nan``)."""
    index = np.arange(rows)
    na = index % 3 == 1 if missing else np.zeros(rows, dtype=bool)
    values = np.where((index % 5 == 4) & nan, np.nan, index * 0.5)
    return pd.DataFrame({
        "i": pd.arrays.IntegerArray(index.astype(np.int64), na.copy()),
        "f": pd.arrays.FloatingArray(values, na.copy()),
        "b": pd.arrays.BooleanArray(index % 2 == 0, na.copy()),
        "x": index * 1.5,
    })  # fmt: skip


def _all_missing(rows: int) -> pd.DataFrame:
    frame = _nullable(rows)
    for column in ("i", "f", "b"):
        frame[column] = pd.Series([pd.NA] * rows, dtype=frame[column].dtype)
    return frame


NULLABLE_MODEL = LinearRegression().fit(np.c_[np.arange(10), np.arange(10) * 0.5], np.arange(10))


def filled_int(df):
    return df["i"].fillna(0) * 2


def filled_float(df):
    return df["f"].fillna(0.5) + df["x"]


def filled_bool(df):
    return df["b"].fillna(False)


def filled_frame_to_model(df):
    return NULLABLE_MODEL.predict(df[["i", "f"]].fillna(0))


def filled_in_place(df):
    df["i"] = df["i"].fillna(-1)
    return df


@pytest.mark.parametrize(
    ("fn", "why"),
    [(filled_bool, "fillna of a nullable boolean column"),
     (filled_in_place, "df['i'].fillna(-1)")],
    ids=lambda v: getattr(v, "__name__", ""),
)  # fmt: skip
def test_fillna_of_nullable_columns_runs_the_original(fn: Any, why: str) -> None:
    """``fillna`` of a nullable boolean column keeps the nullable dtype in pandas, and a
    Float64 column may hold a NaN that is not NA, which fillna keeps (and a model then
    refuses): where a filled column is returned as it is, pandas fills it in Python,
    explain() says why,
    and every batch gives the original's result, dtype included, or its error: pd.NA, NaN
    inside Float64, an empty batch, one row, all missing, more than 2,048 rows. (The
    fill ``df["i"].fillna(-1)`` of a returned frame runs in Python; into a model it is
    native: ``test_nullable_columns``.)"""
    compiled = quiet_compile(fn, _nullable(40, nan=False))  # a model refuses the NaN
    in_python = compiled.explain().split("Runs in Python:")[1].split("Around the native")[0]
    assert why in in_python, compiled.explain()
    same_on_batches(fn, compiled, _fill_batches())


def _fill_batches() -> list[pd.DataFrame]:
    big = _nullable(3000)
    return [big, big.iloc[:0], big.iloc[[1]], big.iloc[[4]], big.iloc[[0]],
            _all_missing(5), _all_missing(1), _nullable(50, missing=False),
            _nullable(3000, nan=False)]  # fmt: skip


@pytest.mark.parametrize("fn", [filled_frame_to_model, filled_int, filled_float],
                         ids=lambda f: f.__name__)  # fmt: skip
def test_fillna_of_nullable_columns_computed_on_is_native(fn: Any) -> None:
    """``model.predict(df[["i", "f"]].fillna(0))``: the model reads the filled columns as
    float64, natively; ``df["i"].fillna(0) * 2`` is native nullable arithmetic
    (``test_nullable_arithmetic``); the original's result or error on the same batches (a
    Float64 NaN that is not NA runs the original, whose model refuses it)."""
    compiled = quiet_compile(fn, _nullable(40, nan=False))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    same_on_batches(fn, compiled, _fill_batches())


# endregion
