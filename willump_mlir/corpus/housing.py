"""Cases on house prices: modeldata ames (int areas and years, quality strings), ggplot2
txhousing (city strings, NaN in sales/median/listings) and MASS Boston (int chas/rad/tax)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMRegressor
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, Ridge

from willump_mlir.corpus import EXAMPLE_ROWS, Built, Capture, case, split, table

QUALITY = {"Excellent": 5, "Good": 4, "Typical": 3, "Fair": 2, "Poor": 1}
AMES_QUALITY = ["Exter_Cond", "Bsmt_Cond", "Heating_QC", "Garage_Cond"]


@functools.cache
def ames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("modeldata", "ames"), train=1500, test=300)


def txhousing() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("ggplot2", "txhousing"), train=2000, test=400)


def boston() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("MASS", "Boston"), test=120)


@case("ames", "feature engineering on int columns, np.log1p, (a > 0).astype(int), np.expm1")
def ames_feature_ridge() -> Built:
    train, test = ames()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = pd.DataFrame(index=df.index)
        X["total_sf"] = df["Total_Bsmt_SF"] + df["First_Flr_SF"] + df["Second_Flr_SF"]
        X["age"] = df["Year_Sold"] - df["Year_Built"]
        X["remod"] = (df["Year_Remod_Add"] != df["Year_Built"]).astype(int)
        X["garage"] = (df["Garage_Area"] > 0).astype(int)
        X["log_lot"] = np.log1p(df["Lot_Area"])
        X["baths"] = df["Full_Bath"] + 0.5 * df["Half_Bath"]
        return np.expm1(model.predict(X))

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=1.0).fit(capture.X, np.log1p(train.Sale_Price))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("ames", "loop over quality columns: .map(dict).fillna(0), HistGradientBoosting")
def ames_quality_loop() -> Built:
    train, test = ames()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["Gr_Liv_Area", "Year_Built", "Overall_Cond"]].copy()
        X["Overall_Cond"] = X["Overall_Cond"].str.len()
        for c in AMES_QUALITY:
            X[c] = df[c].map(QUALITY).fillna(0)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = HistGradientBoostingRegressor(max_iter=25, max_depth=4, random_state=0)
    model.fit(capture.X, train.Sale_Price)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("ames", "several object columns to category dtype, LightGBM regressor (closure)")
def ames_lgbm_category() -> Built:
    train, test = ames()
    cats = ["Neighborhood", "Bldg_Type", "House_Style", "Foundation"]
    dtypes = {c: pd.CategoricalDtype(sorted(train[c].unique())) for c in cats}
    model: Any = Capture()

    def predict(df: pd.DataFrame) -> Any:
        X = df[["Gr_Liv_Area", "Year_Built", "Lot_Area", "Garage_Cars"]].copy()
        for c in cats:
            X[c] = df[c].astype(dtypes[c])
        return model.predict(X)

    predict(train)
    X = model.X
    model = LGBMRegressor(n_estimators=25, num_leaves=15, verbose=-1, n_jobs=1).fit(
        X, train.Sale_Price
    )
    return Built(predict, (train.iloc[:EXAMPLE_ROWS],), (test,))


@case("ames", "get_dummies(Neighborhood).reindex + concat(axis=1) + .to_numpy(), LinearRegression")
def ames_dummies_linear() -> Built:
    train, test = ames()
    columns = list(pd.get_dummies(train["Neighborhood"], prefix="nb").columns)

    def predict(df: pd.DataFrame, model: Any) -> Any:
        nb = pd.get_dummies(df["Neighborhood"], prefix="nb").reindex(columns=columns, fill_value=0)
        X = pd.concat([df[["Gr_Liv_Area", "Year_Built"]], nb], axis=1).to_numpy(dtype=float)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = LinearRegression().fit(capture.X, train.Sale_Price)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("txhousing", "np.sin/np.cos of int month, year + month/12, fillna, HGB with NaN")
def txhousing_seasonal() -> Built:
    train, test = txhousing()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["sales", "listings", "inventory"]].copy()
        X["t"] = df["year"] + (df["month"] - 1) / 12
        X["sin_m"] = np.sin(2 * np.pi * df["month"] / 12)
        X["cos_m"] = np.cos(2 * np.pi * df["month"] / 12)
        X["sales"] = X["sales"].fillna(X["sales"].median())
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = HistGradientBoostingRegressor(max_iter=25, max_depth=4, random_state=0)
    model.fit(capture.X, train["median"].fillna(150000))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("txhousing", "target encoding: merge a per-city table (closure), fillna(global mean)")
def txhousing_city_merge() -> Built:
    train, test = txhousing()
    city_mean = train.groupby("city", as_index=False)["median"].mean()
    city_mean.columns = ["city", "city_median"]
    overall = float(train["median"].mean())

    def predict(df: pd.DataFrame, model: Any) -> Any:
        d = df.merge(city_mean, on="city", how="left")
        d["city_median"] = d["city_median"].fillna(overall)
        d["sales"] = d["sales"].fillna(0)
        return model.predict(d[["city_median", "sales", "year"]])

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=1.0).fit(capture.X, train["median"].fillna(overall))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("Boston", "np.log, ** 2, np.where on an int column, .clip, LinearRegression")
def boston_numpy() -> Built:
    train, test = boston()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["rm", "ptratio", "tax", "nox"]].copy()
        X["log_crim"] = np.log(df["crim"])
        X["lstat2"] = df["lstat"] ** 2
        X["river"] = np.where(df["chas"] == 1, 1.0, -1.0)
        X["rm"] = X["rm"].clip(4, 8)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = LinearRegression().fit(capture.X, train.medv)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("Boston", "df.drop(columns=...) of the whole frame, GradientBoosting regressor")
def boston_drop_gbr() -> Built:
    train, test = boston()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        return model.predict(df.drop(columns=["medv"]))

    model = GradientBoostingRegressor(n_estimators=25, max_depth=3, random_state=0)
    model.fit(train.drop(columns=["medv"]), train.medv)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("txhousing", "NaN in the result: np.where(listings unknown, np.nan, prediction)")
def txhousing_nan_result() -> Built:
    train, test = txhousing()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["year", "month"]].astype(float)
        X["listings"] = df["listings"].fillna(0)
        return np.where(df["listings"].isna(), np.nan, model.predict(X))

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=1.0).fit(capture.X, train["median"].fillna(150000))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))
