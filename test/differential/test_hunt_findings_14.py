"""Defects found by a fourteenth differential hunt (notebook pipelines on the penguins table
and adversarial batches, model outputs of every kind): the compiled pipeline against the
original function, bit for bit (values, dtype, index and name)."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import pandas as pd
import pytest
from notebook_check import quiet_compile, same_on_batches
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

from willump_mlir.corpus import table

# region A: scikit-learn's softmax is numpy's exp loop, LightGBM's the C library's exp

PENGUINS = table("palmerpenguins", "penguins")
NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
X = PENGUINS[NUM].fillna(0)
ONE_THREAD = {"n_jobs": 1, "verbose": -1}


def probabilities(df: pd.DataFrame, model: Any) -> Any:
    return model.predict_proba(df[NUM].fillna(0))


def middle_class_score(df: pd.DataFrame, model: Any) -> pd.Series:
    score = model.predict_proba(df[NUM].fillna(0))[:, 1]
    return pd.Series(score, index=df.index, name="score")


MODELS = {
    "hgb": lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0),
    "gb": lambda: GradientBoostingClassifier(n_estimators=10, random_state=0),
    "lgbm": lambda: lgb.LGBMClassifier(n_estimators=20, **ONE_THREAD),
}


@pytest.mark.parametrize("fn", [probabilities, middle_class_score])
@pytest.mark.parametrize("kind", list(MODELS))
def test_multiclass_softmax_bits(fn: Any, kind: str) -> None:
    """A multi-class HistGradientBoosting or GradientBoosting classifier's probabilities are
    scikit-learn's ``softmax``, whose ``np.exp`` is numpy's SIMD loop on an AVX-512 CPU: the
    kernel's C library ``exp`` differed in the last bit on about 5% of the penguins' rows.
    ``feature.softmax`` now calls numpy's loop; LightGBM's (``c_softmax``, its C++
    ``Common::Softmax``) keeps the C library's."""
    model = MODELS[kind]().fit(X, PENGUINS["species"])
    compiled = quiet_compile(fn, PENGUINS.iloc[:150], model)
    assert ("exp" in compiled.ufunc_loops) == (kind != "lgbm")
    rest = PENGUINS.iloc[150:]
    batches = [rest, rest.iloc[[0]], rest.set_index(rest.index * 3 + 1),
               rest.assign(body_mass_g=1e308), rest.assign(bill_depth_mm=-0.0)]  # fmt: skip
    same_on_batches(lambda df: fn(df, model), lambda df: compiled(df, model), batches, bits=True)


# endregion
