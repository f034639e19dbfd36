"""Cases on people: carData TitanicSurvival (yes/no, sex, age with NaN, ``1st``/``2nd``/``3rd``),
Ecdat Wages1 (int experience and schooling, sex strings) and ISLR Carseats (Yes/No, shelf
location)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from xgboost import XGBRegressor

from willump_mlir.corpus import EXAMPLE_ROWS, Built, Capture, case, split, table

MEDIAN_AGE = 28.0


def titanic() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("carData", "TitanicSurvival"), test=300)


def wages() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("Ecdat", "Wages1"), train=1500, test=400)


def carseats() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("ISLR", "Carseats"), test=100)


@case("TitanicSurvival", "age fillna(median), isna flag, .str[0].astype(int), sex .map, forest")
def titanic_forest() -> Built:
    train, test = titanic()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = pd.DataFrame(index=df.index)
        X["age"] = df["age"].fillna(MEDIAN_AGE)
        X["age_missing"] = df["age"].isna().astype(int)
        X["pclass"] = df["passengerClass"].str[0].astype(int)
        X["sex"] = df["sex"].map({"male": 0, "female": 1})
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0)
    model.fit(capture.X, train.survived)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("TitanicSurvival", "dict comprehension of class indicators, child = age < 12, logistic")
def titanic_comprehension() -> Built:
    train, test = titanic()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = pd.DataFrame({c: (df.passengerClass == c).astype(float) for c in ["1st", "2nd"]})
        X["female"] = (df.sex == "female").astype(float)
        X["child"] = (df.age < 12).astype(float)
        X["age"] = df.age.fillna(df.age.mean())
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=2000).fit(capture.X, train.survived == "yes")
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("Wages1", "for loop adding squares of int columns, sex .map, np.exp(log-wage model)")
def wages_loop_squares() -> Built:
    train, test = wages()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["exper", "school"]].copy()
        for c in ["exper", "school"]:
            X[c + "_sq"] = X[c] ** 2
        X["female"] = df["sex"].map({"female": 1, "male": 0})
        return np.exp(model.predict(X))

    capture = Capture()
    predict(train, capture)
    model = LinearRegression().fit(capture.X, np.log(train.wage))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("Wages1", "plain int frame .astype(float) into LinearRegression, list comprehension")
def wages_astype() -> Built:
    train, test = wages()
    cols = [c for c in ["exper", "school"]]

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[cols].astype(float)
        X["interaction"] = X["exper"] * X["school"]
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = LinearRegression().fit(capture.X, train.wage)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("Carseats", "ShelveLoc .map, .eq('Yes'), abs of a difference, XGBoost regressor")
def carseats_xgb() -> Built:
    train, test = carseats()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["Price", "Advertising", "Age", "Income"]].copy()
        X["shelf"] = df["ShelveLoc"].map({"Bad": 0, "Medium": 1, "Good": 2})
        X["urban"] = df["Urban"].eq("Yes").astype(int)
        X["us"] = df["US"].eq("Yes").astype(int)
        X["price_gap"] = (df["Price"] - df["CompPrice"]).abs()
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = XGBRegressor(n_estimators=20, max_depth=3, random_state=0, n_jobs=1)
    model.fit(capture.X, train.Sales)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))
