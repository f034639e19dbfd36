"""Cases on credit data: AER CreditCard (yes/no strings, int counts), AER HMDA (mortgage
denials, yes/no flags), ISLR Default (Yes/No) and openintro loans_full_schema (56 columns:
ints, NaN, ``issue_month`` as ``Mar-2018`` text, grades)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from lightgbm import LGBMClassifier
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from willump_mlir.corpus import EXAMPLE_ROWS, Built, Capture, case, split, table

GRADE = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7}
LOAN_FILL = {"emp_length": 0.0, "debt_to_income": 20.0, "months_since_last_delinq": 999.0}


def credit_card() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("AER", "CreditCard"), test=300)


def hmda() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("AER", "HMDA"), test=400)


def default() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("ISLR", "Default"), train=2000, test=400)


@functools.cache
def loans() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(table("openintro", "loans_full_schema"), train=2000, test=400)


@case("CreditCard", "np.log1p, .clip(upper=), string == 'yes' .astype(int), yes/no labels")
def creditcard_logistic() -> Built:
    train, test = credit_card()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["reports", "age", "dependents", "months", "majorcards", "active"]].copy()
        X["log_income"] = np.log1p(df["income"])
        X["share"] = df["share"].clip(upper=0.5)
        X["owner"] = (df["owner"] == "yes").astype(int)
        X["selfemp"] = (df["selfemp"] == "yes").astype(int)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=5000).fit(capture.X, train.card)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("CreditCard", "XGBoost predict_proba on int + float columns, a bool column")
def creditcard_xgb() -> Built:
    train, test = credit_card()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["reports", "age", "income", "expenditure", "majorcards", "active"]].copy()
        X["heavy"] = df["expenditure"] > 500
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = XGBClassifier(n_estimators=15, max_depth=3, random_state=0, n_jobs=1)
    model.fit(capture.X, (train.card == "yes").astype(int))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("HMDA", "make_pipeline(ColumnTransformer(scaler, one-hot ignore), LogisticRegression)")
def hmda_pipeline() -> Built:
    train, test = hmda()
    numeric = ["pirat", "hirat", "lvrat", "unemp"]
    flags = ["chist", "mhist", "phist", "selfemp", "insurance", "single"]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), numeric),
                ("cat", OneHotEncoder(handle_unknown="ignore"), flags),
            ]
        ),
        LogisticRegression(max_iter=3000),
    )
    model.fit(train, train.deny)

    def predict(df: pd.DataFrame, model: Any) -> Any:
        return model.predict_proba(df)[:, 1]

    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("HMDA", "masks with & and ~, .isin, .between, GradientBoosting labels")
def hmda_masks_gb() -> Built:
    train, test = hmda()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["pirat", "hirat", "lvrat", "unemp"]].copy()
        X["stretched"] = ((df["pirat"] > 0.4) & (df["hirat"] > 0.3)).astype(int)
        X["clean"] = (~df["mhist"].isin([3, 4])).astype(int)
        X["high_lv"] = df["lvrat"].between(0.8, 0.95).astype(int)
        X["insured"] = (df["insurance"] == "yes").astype(int)
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0)
    model.fit(capture.X, train.deny)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("Default", "(student == 'Yes').astype(int), ratio, .round(-2), Yes/No labels")
def default_logistic() -> Built:
    train, test = default()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = pd.DataFrame(
            {
                "student": (df.student == "Yes").astype(int),
                "balance": df.balance.round(-2),
                "ratio": df.balance / df.income,
                "income_k": df.income / 1000,
            }
        )
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=5000).fit(capture.X, train.default)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("Default", "batch reductions a / a.max() and a - a.mean(), LightGBM in a closure")
def default_lgbm_reductions() -> Built:
    train, test = default()
    model: Any = Capture()

    def predict(df: pd.DataFrame) -> Any:
        X = df[["balance", "income"]].copy()
        X["balance_rel"] = df["balance"] / df["balance"].max()
        X["income_c"] = df["income"] - df["income"].mean()
        X["student"] = df["student"].map({"Yes": 1, "No": 0})
        return model.predict_proba(X)[:, 1]

    predict(train)
    X = model.X
    model = LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1, n_jobs=1)
    model.fit(X, (train.default == "Yes").astype(int))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS],), (test,))


@case("loans", "fillna(dict), grade .map, .str.lower() ==, np.log, int columns, Ridge rate")
def loans_rate_ridge() -> Built:
    train, test = loans()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["emp_length", "debt_to_income", "months_since_last_delinq"]].fillna(LOAN_FILL)
        X["grade"] = df["grade"].map(GRADE)
        X["renter"] = (df["homeownership"].str.lower() == "rent").astype(int)
        X["log_income"] = np.log(df["annual_income"] + 1)
        X["term_60"] = (df["term"] == 60).astype(int)
        X["inquiries"] = df["inquiries_last_12m"]
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = Ridge(alpha=1.0).fit(capture.X, train.interest_rate)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("loans", "pd.to_datetime(text, format='%b-%Y').dt.month, LightGBM on good grades")
def loans_issue_month_lgbm() -> Built:
    train, test = loans()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["loan_amount", "annual_income", "debt_to_income", "total_credit_limit"]].copy()
        issued = pd.to_datetime(df["issue_month"], format="%b-%Y")
        X["issue_m"] = issued.dt.month
        X["credit_age"] = issued.dt.year - df["earliest_credit_line"]
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1, n_jobs=1)
    model.fit(capture.X, train.grade.isin(["A", "B"]).astype(int))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("loans", "category dtype (homeownership, loan_purpose) into HistGradientBoosting")
def loans_hgb_category() -> Built:
    train, test = loans()
    dtypes = {
        c: pd.CategoricalDtype(sorted(train[c].unique())) for c in ["homeownership", "loan_purpose"]
    }

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["loan_amount", "annual_income", "emp_length", "delinq_2y"]].copy()
        X["homeownership"] = df["homeownership"].astype(dtypes["homeownership"])
        X["loan_purpose"] = df["loan_purpose"].astype(dtypes["loan_purpose"])
        return model.predict(X)

    capture = Capture()
    predict(train, capture)
    model = HistGradientBoostingClassifier(
        max_iter=20, max_depth=4, categorical_features="from_dtype", random_state=0
    )
    model.fit(capture.X, train.grade)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("loans", "TF-IDF of a text column with NaN + one-hot + scaled numbers, sp.hstack().tocsr()")
def loans_text_hstack() -> Built:
    train, test = loans()
    numeric = ["annual_income", "loan_amount", "debt_to_income"]
    tfidf = TfidfVectorizer(min_df=3).fit(train.emp_title.fillna(""))
    onehot = OneHotEncoder(handle_unknown="ignore").fit(train[["homeownership"]])
    scaler = StandardScaler().fit(train[numeric].fillna(0))

    def predict(df: pd.DataFrame, model: Any) -> Any:
        words = tfidf.transform(df["emp_title"].fillna(""))
        home = onehot.transform(df[["homeownership"]])
        nums = sp.csr_matrix(scaler.transform(df[numeric].fillna(0)))
        X = sp.hstack([words, home, nums]).tocsr()
        return model.predict_proba(X)[:, 1]

    capture = Capture()
    predict(train, capture)
    model = LogisticRegression(max_iter=3000).fit(capture.X, train.grade.isin(["A", "B"]))
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))


@case("Default", "returns a pd.Series(score, index=df.index, name=...) of probabilities")
def default_series_result() -> Built:
    train, test = default()

    def predict(df: pd.DataFrame, model: Any) -> Any:
        X = df[["balance", "income"]]
        score = model.predict_proba(X)[:, 1]
        return pd.Series(score, index=df.index, name="p_default")

    model = LogisticRegression(max_iter=1000).fit(train[["balance", "income"]], train.default)
    return Built(predict, (train.iloc[:EXAMPLE_ROWS], model), (test, model))
