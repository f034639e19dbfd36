"""Cases on ggplot2 diamonds (int price, ordinal cut/color/clarity strings, x/y/z with zeros)
and ggplot2 mpg (234 cars: int years and cylinders, ``trans``/``drv``/``class`` strings)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression, Ridge

from willump_mlir.corpus import EXAMPLE_ROWS, Built, Capture, case, split, table

CUT_RANK = {"Fair": 0, "Good": 1, "Very Good": 2, "Premium": 3, "Ideal": 4}
COLOR_RANK = {c: i for i, c in enumerate("JIHGFED")}
CLARITY_RANK = {
    c: i for i, c in enumerate(["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"])
}
SIZE = ["carat", "depth", "table", "x", "y", "z"]


@functools.cache
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("ggplot2", "diamonds"), train=2000, test=400)


def mpg() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("ggplot2", "mpg"), test=58)


@case("diamonds", "ordinal .map(dict) from globals, Ridge on log price, np.exp of the prediction")
def diamonds_ordinal_ridge() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["carat", "depth", "table"]].copy()
        X["cut"] = df["cut"].map(CUT_RANK)
        X["color"] = df["color"].map(COLOR_RANK)
        X["clarity"] = df["clarity"].map(CLARITY_RANK)
        X["log_carat"] = np.log(df["carat"])
        return np.exp(model.predict(X))

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=0.5).fit(capture.X, np.log(train.price))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("diamonds", "get_dummies(...).reindex(columns=train_cols, fill_value=0) + concat, forest")
def diamonds_dummies_forest() -> Built:
    train, test = data()
    train_cols = list(pd.get_dummies(train[["cut", "color", "clarity"]]).columns)

    def predict(df: pd.DataFrame, model: Any) -> Any:
        cats = pd.get_dummies(df[["cut", "color", "clarity"]])
        cats = cats.reindex(columns=train_cols, fill_value=0)
        X = pd.concat([df[SIZE], cats], axis=1)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = RandomForestRegressor(n_estimators=10, max_depth=6, random_state=0)
    model.fit(capture.X, train.price)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("diamonds", "df.assign with a lambda, division by zero volume, np.where, replace inf")
def diamonds_volume_assign() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        d = df.assign(volume=df.x * df.y * df.z)
        d = d.assign(density=lambda t: np.where(t.volume > 0, t.carat / t.volume, 0.0))
        X = d[["carat", "volume", "density", "depth", "table"]]
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = GradientBoostingRegressor(n_estimators=20, max_depth=3, random_state=0)
    model.fit(capture.X, train.price)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("diamonds", "object columns astype('category') with train categories, LightGBM regressor")
def diamonds_lgbm_category() -> Built:
    train, test = data()
    dtypes = {
        c: pd.CategoricalDtype(sorted(train[c].unique())) for c in ["cut", "color", "clarity"]
    }
    model: Any = Capture()

    def predict(df: pd.DataFrame) -> Any:
        X = df[SIZE].copy()
        for c in ["cut", "color", "clarity"]:
            X[c] = df[c].astype(dtypes[c])
        return model.predict(X)

    predict(train)
    X = model.X
    model = LGBMRegressor(n_estimators=25, num_leaves=15, verbose=-1, n_jobs=1).fit(X, train.price)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS],), (test,))


@case("diamonds", ".values into LinearRegression, .round(2) of the prediction")
def diamonds_values_linear() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[SIZE].values
        return model.predict(X).round(2)

    model = LinearRegression().fit(train[SIZE].values, train.price)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("mpg", ".str.contains, .str.startswith, == on strings, int columns, LinearRegression")
def mpg_string_ops() -> Built:
    train, test = mpg()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["displ", "cyl", "year"]].copy()
        X["auto"] = df["trans"].str.contains("auto").astype(int)
        X["four_wd"] = (df["drv"] == "4").astype(int)
        X["premium"] = df["fl"].str.startswith("p").astype(int)
        X["model_len"] = df["model"].str.len()
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = LinearRegression().fit(capture.X, train.hwy)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("mpg", "dict comprehension of one-hot columns over a literal list, pd.DataFrame({...})")
def mpg_comprehension() -> Built:
    train, test = mpg()
    classes = ["compact", "midsize", "suv", "pickup", "subcompact", "minivan", "2seater"]

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = pd.DataFrame({f"class_{c}": (df["class"] == c).astype(float) for c in classes})
        X["displ"] = df["displ"]
        X["cyl"] = df["cyl"]
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=0.1).fit(capture.X, train.cty)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("mpg", "string concatenation, .replace(dict), np.select, X.loc[:, c] = ..., .str.upper")
def mpg_concat_select() -> Built:
    train, test = mpg()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["displ", "year"]].copy()
        name = df["manufacturer"] + " " + df["model"]
        X.loc[:, "name_len"] = name.str.len()
        X.loc[:, "drive"] = df["drv"].replace({"f": 0, "r": 1, "4": 2})
        X["size"] = np.select([df["cyl"] <= 4, df["cyl"] <= 6], [0.0, 1.0], default=2.0)
        X["toyota"] = df["manufacturer"].str.upper().str.strip().eq("TOYOTA").astype(int)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=0.5).fit(capture.X, train.hwy)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))
