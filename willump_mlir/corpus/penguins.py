"""Cases on palmerpenguins/penguins: 344 birds, float columns with NaN, ``year`` (int),
``species``/``island``/``sex`` strings (``sex`` has NaN)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from willump_mlir.corpus import EXAMPLE_ROWS, Built, Capture, case, split, table

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
FILL = {
    "bill_length_mm": 44.0,
    "bill_depth_mm": 17.2,
    "flipper_length_mm": 201.0,
    "body_mass_g": 4200.0,
}
ISLANDS = ["Biscoe", "Dream", "Torgersen"]
ISLAND_SIZE = pd.DataFrame({"island": ISLANDS, "island_km2": [10.5, 3.2, 0.4]})
SEX_CODE = pd.DataFrame({"sex": ["female", "male"], "sex_code": [0.0, 1.0]})


def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("palmerpenguins", "penguins"), test=90)


def adelie(frame: pd.DataFrame) -> pd.Series:
    return (frame.species == "Adelie").astype(int)


def built(fn: Any, train: pd.DataFrame, test: pd.DataFrame, *rest: Any) -> Built:
    return Built(fn, (train.iloc[:EXAMPLE_ROWS], *rest), (test, *rest))


@case("penguins", "fillna(dict) from a global, predict_proba[:, 1]")
def penguins_fillna_dict() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[NUM].fillna(FILL)
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=2000).fit(capture.X, adelie(train))
    return built(predict, train, test, model)


@case("penguins", ".copy(), X['c'] = a / b, fillna(0)")
def penguins_ratio_assign() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[NUM].copy()
        X["bill_ratio"] = X["bill_length_mm"] / X["bill_depth_mm"]
        X = X.fillna(0)
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=3000).fit(capture.X, adelie(train))
    return built(predict, train, test, model)


@case("penguins", "batch reduction a - a.mean() on a column with NaN")
def penguins_mean_center() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        mass = df["body_mass_g"]
        centered = mass - mass.mean()
        X = df[NUM].fillna(0).copy()
        X["body_mass_g"] = centered.fillna(0)
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=3000).fit(capture.X, adelie(train))
    return built(predict, train, test, model)


@case("penguins", "int column arithmetic (df.year - 2007) / 10.0 in df.assign")
def penguins_year_assign() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[NUM].fillna(0)
        X = X.assign(years=(df.year - 2007) / 10.0, late=(df.year >= 2008).astype(int))
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=3000).fit(capture.X, adelie(train))
    return built(predict, train, test, model)


@case("penguins", "get_dummies + reindex(train columns) + concat(axis=1), string labels")
def penguins_dummies_forest() -> Built:
    train, test = data()
    columns = list(pd.get_dummies(train[["island", "sex"]]).columns)

    def predict(df: pd.DataFrame, model: Any) -> Any:
        dummies = pd.get_dummies(df[["island", "sex"]]).reindex(columns=columns, fill_value=0)
        X = pd.concat([df[NUM].fillna(-1), dummies], axis=1)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0)
    model.fit(capture.X, train.species)
    return built(predict, train, test, model)


@case("penguins", "isna/notna, .map(dict) with NaN, np.where, HistGradientBoosting")
def penguins_sex_where() -> Built:
    train, test = data()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[NUM].copy()
        X["sex_known"] = df["sex"].notna().astype(int)
        X["sex"] = np.where(df["sex"].isna(), 0.0, df["sex"].map({"male": 1.0, "female": -1.0}))
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = HistGradientBoostingClassifier(max_iter=20, max_depth=4, random_state=0)
    model.fit(capture.X, adelie(train))
    return built(predict, train, test, model)


@case("penguins", "for loop over a literal column list, standardising from global dicts, Ridge")
def penguins_loop_zscore() -> Built:
    train, test = data()
    means = train[NUM].mean().to_dict()
    stds = train[NUM].std().to_dict()
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = pd.DataFrame(index=df.index)
        for c in cols:
            X[c + "_z"] = ((df[c] - means[c]) / stds[c]).fillna(0)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=1.0).fit(capture.X, train.body_mass_g.fillna(4200))
    return built(predict, train, test, model)


@case("penguins", "category dtype (pd.Categorical with fixed categories) into LightGBM")
def penguins_lgbm_category() -> Built:
    train, test = data()
    model: Any = Capture()

    def predict(df: pd.DataFrame) -> Any:
        X = df[NUM].copy()
        X["island"] = pd.Categorical(df["island"], categories=ISLANDS)
        return model.predict_proba(X)[:, 1]

    predict(train)
    X = model.X
    model = LGBMClassifier(n_estimators=20, num_leaves=8, min_child_samples=5, verbose=-1, n_jobs=1)
    model.fit(X, adelie(train))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS],), (test,))


@case("penguins", "XGBoost multi-class predict_proba on columns with NaN")
def penguins_xgb_multiclass() -> Built:
    train, test = data()
    codes = {"Adelie": 0, "Chinstrap": 1, "Gentoo": 2}

    def predict(df: pd.DataFrame, model: Any) -> Any:
        return model.predict_proba(df[NUM])

    model = XGBClassifier(n_estimators=15, max_depth=3, random_state=0, n_jobs=1)
    model.fit(train[NUM], train.species.map(codes))
    return built(predict, train, test, model)


@case(
    "penguins", "sklearn Pipeline(ColumnTransformer(imputer+scaler, one-hot), LogisticRegression)"
)
def penguins_pipeline() -> Built:
    train, test = data()
    features = ColumnTransformer(
        [
            (
                "num",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                NUM,
            ),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["island"]),
        ]
    )
    model = Pipeline([("features", features), ("clf", LogisticRegression(max_iter=2000))])
    model.fit(train, train.species)

    def predict(df: pd.DataFrame, model: Any) -> Any:
        return model.predict(df)

    return built(predict, train, test, model)


@case("penguins", "two merges with global lookup tables re-assigning d, then fillna(0)")
def penguins_two_merges() -> Built:
    train, test = data()
    cols = NUM + ["island_km2", "sex_code"]

    def predict(df: pd.DataFrame, model: Any) -> Any:
        d = df.merge(ISLAND_SIZE, on="island", how="left")
        d = d.merge(SEX_CODE, on="sex", how="left")
        x = d[cols].fillna(0)
        return model.predict_proba(x)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=3000).fit(capture.X, adelie(train))
    return built(predict, train, test, model)


@case("penguins", "float32 frame (astype('float32')) into LogisticRegression")
def penguins_float32() -> Built:
    train, test = data()
    train32 = train[NUM].fillna(0).astype("float32")
    test32 = test[NUM].fillna(0).astype("float32")
    model = LogisticRegression(max_iter=3000).fit(train32, adelie(train))

    def predict(X: pd.DataFrame, model: Any) -> Any:
        return model.predict_proba(X)[:, 1]

    return built(predict, train32, test32, model)
