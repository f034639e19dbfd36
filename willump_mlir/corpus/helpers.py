"""Cases whose feature code lives in the user's own helper functions (module-level
``def``s, a lambda bound to a name, a ``functools.partial``), called from the inference
function the way a notebook splits its code: on penguins, flights and diamonds."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, Ridge

from willump_mlir.corpus import EXAMPLE_ROWS, Built, Capture, case
from willump_mlir.corpus import diamonds as diamond_cases
from willump_mlir.corpus import flights as flight_cases
from willump_mlir.corpus import penguins as penguin_cases

BILL = ["bill_length_mm", "bill_depth_mm"]
BODY = ["flipper_length_mm", "body_mass_g"]
EVENING = 17


def penguin_features(d: pd.DataFrame) -> pd.DataFrame:
    """Bill ratio and body size, missing values as 0."""
    d = d.copy()
    d["bill_ratio"] = d["bill_length_mm"] / d["bill_depth_mm"]
    d["mass_kg"] = d["body_mass_g"] / 1000.0
    return d[[*BILL, *BODY, "bill_ratio", "mass_kg"]].fillna(0)


@case("penguins", "a module-level helper builds the features: d = d.copy(), d['c'] = ..., d[cols]")
def penguins_helper_features() -> Built:
    train, test = penguin_cases.data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = penguin_features(df)
        return model.predict_proba(X)[:, 1]

    model = LogisticRegression(max_iter=3000).fit(penguin_features(train),
                                                  penguin_cases.adelie(train))  # fmt: skip
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


def add_bill_shape(X: pd.DataFrame) -> None:
    """Adds columns to the caller's frame in place (no copy, no return)."""
    X["bill_area"] = X["bill_length_mm"] * X["bill_depth_mm"]
    X["long_bill"] = (X["bill_length_mm"] > 45).astype(int)


@case("penguins", "a helper changes the caller's frame in place: add_bill_shape(X)")
def penguins_helper_in_place() -> Built:
    train, test = penguin_cases.data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[[*BILL, *BODY]].copy()
        add_bill_shape(X)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = HistGradientBoostingClassifier(max_iter=30, max_depth=4, random_state=0)
    model.fit(capture.X, train.species)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


def delay(d: pd.DataFrame, column: str = "dep_delay", cap: float = 120.0) -> pd.Series:
    return d[column].fillna(0).clip(upper=cap)


def schedule(d: pd.DataFrame, evening: int = EVENING) -> pd.DataFrame:
    return pd.DataFrame({"evening": (d["hour"] >= evening).astype(int),
                         "summer": d["month"].isin([6, 7, 8]).astype(int)})  # fmt: skip


def flight_features(d: pd.DataFrame) -> pd.DataFrame:
    """Nested helpers, a default read from the module's globals and a keyword call."""
    X = schedule(d)
    X["dep"] = delay(d)
    X["air_cap"] = delay(d, cap=300.0, column="air_time")
    return X


@case("flights", "nested helpers with defaults from globals and keyword calls, LightGBM")
def flights_helper_nested() -> Built:
    train, test = flight_cases.data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        return model.predict_proba(flight_features(df))[:, 1]

    model = LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1, n_jobs=1)
    model.fit(flight_features(train), flight_cases.late(train))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


log_size = lambda s: np.log1p(s.clip(lower=0))  # noqa: E731 - a notebook binds lambdas


def ranked(d: pd.DataFrame, column: str, ranks: dict[str, int]) -> pd.Series:
    return d[column].map(ranks)


@case("diamonds", "a lambda bound to a name and functools.partial of a helper, Ridge")
def diamonds_helper_partial() -> Built:
    train, test = diamond_cases.data()
    cut = functools.partial(ranked, column="cut", ranks=diamond_cases.CUT_RANK)
    color = functools.partial(ranked, column="color", ranks=diamond_cases.COLOR_RANK)

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = pd.DataFrame({"carat": log_size(df["carat"]), "volume": log_size(
            df["x"] * df["y"] * df["z"]), "cut": cut(df), "color": color(df)})  # fmt: skip
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=0.5).fit(capture.X, np.log(train.price))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


