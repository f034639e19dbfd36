"""Frame-level ``fillna`` and ``SimpleImputer`` of str columns, natively, as pandas and
scikit-learn compute them.

Pipelines as a notebook writes them: ``df.fillna(0)``, ``df.fillna({"a": 0, "c": "x"})``,
``df[cols] = df[cols].fillna(...)``, and a ColumnTransformer imputing str columns before a
OneHotEncoder. Each is compiled on an example and compared with the original on batches with
None, NaN, pd.NA, empty strings, Unicode, unknown categories, all-missing columns, object
and str dtypes, one row.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

import willump_mlir as wm
from willump_mlir.selfcheck import difference

RNG = np.random.default_rng(7)
N = 120
FRAME = pd.DataFrame({
    "a": np.where(RNG.random(N) < 0.2, np.nan, RNG.normal(size=N)),
    "k": RNG.integers(0, 5, N),
    "flag": RNG.random(N) < 0.5,
    "c": pd.Series(RNG.choice(["x", "y", "zé", None], N)),  # pandas' str dtype: None is NaN
    "d": pd.Series(RNG.choice(["p", "q", None], N), dtype=object),  # None stays None
})  # fmt: skip
Y = RNG.integers(0, 2, N)


def batches() -> list[pd.DataFrame]:
    """Later batches: missing values of every kind, other dtypes, other values."""
    def frame(a: list, c: list, d: list, dtype: object = object) -> pd.DataFrame:
        rows = len(a)
        return pd.DataFrame({
            "a": np.array(a, dtype=float), "k": np.arange(rows), "flag": np.arange(rows) % 2 == 0,
            "c": pd.Series(c, dtype=dtype), "d": pd.Series(d, dtype=dtype),
        })  # fmt: skip

    return [
        FRAME.iloc[:1],
        FRAME.iloc[7:60],
        frame([np.nan, 1.0, np.nan], [None, np.nan, "x"], ["p", None, np.nan]),
        frame([np.nan, 1.0, 2.0], [None, np.nan, "x"], ["p", None, "q"], dtype="str"),
        frame([1.0, np.nan], ["", "missing"], ["", "Σσ"]),
        frame([np.nan, np.nan], [np.nan, np.nan], [None, None]),
        frame([0.5, -0.0, np.inf], ["unknown", "ωμέγα", "x"], ["q", "p", "🙂"]),
        frame([1.0, 2.0], [pd.NA, "x"], ["p", pd.NA]),  # scikit-learn: neither None nor NaN
    ]


def same_on(fn: Any, compiled: Any, frames: list[pd.DataFrame]) -> None:
    """The compiled function returns what ``fn`` returns on every frame, or raises the same
    kind of error."""
    for frame in frames:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                expected = fn(frame)
            except Exception as error:
                with pytest.raises(type(error)):
                    compiled(frame)
                continue
            found = difference(expected, compiled(frame))
        assert found is None, f"{found} on\n{frame}"


def native(fn: Any, example: pd.DataFrame = FRAME) -> Any:
    """``fn`` compiled; nothing of it runs in Python."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(example,))
    explained = compiled.explain()
    assert "Runs in Python:\n  - nothing" in explained, explained
    assert "pd.DataFrame({" not in explained, explained  # no frame built in Python
    return compiled


NUMERIC_MODEL = LogisticRegression().fit(FRAME[["a", "k", "flag"]].fillna(0), Y)


def test_frame_fillna_number_with_str_columns_then_numeric_columns() -> None:
    def predict(df: pd.DataFrame) -> Any:
        X = df.fillna(0)
        return NUMERIC_MODEL.predict_proba(X[["a", "k", "flag"]])[:, 1]

    same_on(predict, native(predict), batches())


@pytest.mark.parametrize("fill", [{"a": -1, "c": "none", "d": 0}, {"k": "z", "flag": 1.5},
                                  np.int64(2), 0.5, "z"])  # fmt: skip
def test_frame_fillna_returned_keeps_pandas_dtypes(fill: object) -> None:
    """int, bool stay whatever the fill; float fills; a str column filled with a str keeps
    its dtype (object or str), with a number it is object of str and numbers (that column is
    built in Python), as a float column filled with a str is."""

    def filled(df: pd.DataFrame) -> Any:
        return df.fillna(fill)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(filled, example=(FRAME,))
    same_on(filled, compiled, batches())


ENCODER = OneHotEncoder(handle_unknown="ignore").fit(FRAME[["c", "d"]].fillna("missing"))
MIXED_MODEL = LogisticRegression().fit(
    np.hstack([FRAME[["a"]].fillna(0).to_numpy(),
               ENCODER.transform(FRAME[["c", "d"]].fillna("missing")).toarray()]), Y,
)  # fmt: skip


def test_frame_fillna_dict_of_numbers_and_str_before_an_encoder() -> None:
    def predict(df: pd.DataFrame) -> Any:
        X = df.fillna({"a": 0, "c": "missing", "d": "missing"})
        codes = ENCODER.transform(X[["c", "d"]]).toarray()
        return MIXED_MODEL.predict_proba(np.hstack([X[["a"]].to_numpy(), codes]))[:, 1]

    compiled = native(predict)
    assert "OneHotEncoder.transform, after fillna" in compiled.explain()
    same_on(predict, compiled, batches())


def test_fillna_of_a_list_of_columns_assigned_back() -> None:
    def predict(df: pd.DataFrame) -> Any:
        df = df.copy()
        df[["a", "k", "flag"]] = df[["a", "k", "flag"]].fillna(0)
        return NUMERIC_MODEL.predict_proba(df[["a", "k", "flag"]])[:, 1]

    same_on(predict, native(predict), batches())


def test_list_assignment_takes_the_columns_by_position() -> None:
    """``df[["x", "y"]] = other`` sets x from other's first column, whatever its name."""

    def predict(df: pd.DataFrame) -> Any:
        X = df[["a", "k"]].copy()
        X[["k", "a"]] = df[["a", "k"]].fillna(1.5)
        return NUMERIC_MODEL.predict_proba(X.assign(flag=df["flag"]))[:, 1]

    same_on(predict, native(predict), batches())


def imputed_pipeline(categorical: Any, frame: pd.DataFrame = FRAME) -> Any:
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    columns = ColumnTransformer([("num", numeric, ["a", "k"]), ("cat", categorical, ["c", "d"])])
    return make_pipeline(columns, LogisticRegression()).fit(frame, Y)


def probability_of(model: Any) -> Any:
    """A notebook's scoring function of ``model``."""

    def predict(df: pd.DataFrame) -> Any:
        return model.predict_proba(df)[:, 1]

    return predict


@pytest.mark.parametrize(
    "imputer",
    [
        SimpleImputer(strategy="most_frequent"),
        SimpleImputer(strategy="constant", fill_value="missing"),
        SimpleImputer(strategy="constant", fill_value="never seen"),  # not a category
    ],
    ids=["most_frequent", "constant", "constant-unknown"],
)
@pytest.mark.parametrize(
    "encoder",
    [OneHotEncoder(handle_unknown="ignore"),
     OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)],
    ids=["one-hot", "ordinal"],
)  # fmt: skip
def test_simple_imputer_of_str_columns_before_an_encoder(imputer: SimpleImputer,
                                                         encoder: Any) -> None:  # fmt: skip
    predict = probability_of(imputed_pipeline(make_pipeline(clone(imputer), clone(encoder))))
    compiled = native(predict)
    assert f"{type(encoder).__name__}.transform, after SimpleImputer" in compiled.explain()
    same_on(predict, compiled, [FRAME, *batches()])


def test_frame_fillna_before_an_ordinal_encoder() -> None:
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    encoder.fit(FRAME[["c", "d"]].fillna("missing"))

    def codes(df: pd.DataFrame) -> Any:
        return encoder.transform(df.fillna({"c": "missing", "d": "n/a"})[["c", "d"]])

    same_on(codes, native(codes), batches())


def test_simple_imputer_before_an_encoder_that_refuses_unknown_values() -> None:
    """With handle_unknown="error", a fill that is a category runs natively; one that is not
    (the None/NaN column "d" of object dtype fitted no "missing") keeps the pair in Python:
    scikit-learn's error names the fill, native code's would name the missing value."""
    imputer = SimpleImputer(strategy="constant", fill_value="missing")
    refusing = make_pipeline(imputer, OneHotEncoder(handle_unknown="error"))
    known = pd.DataFrame({"a": [1.0], "k": [1], "flag": [True], "c": [None], "d": [None]})
    for frame, in_python in ((FRAME.astype({"d": "str"}), False), (FRAME, True)):
        predict = probability_of(imputed_pipeline(refusing, frame))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = wm.compile(predict, example=(frame,))
        assert ("simpleimputer" in compiled.explain().split("Around")[0]) == in_python
        same_on(predict, compiled, [frame, known, *batches()])


def test_pd_na_in_an_object_column_is_not_none_for_an_encoder() -> None:
    """scikit-learn's OneHotEncoder takes pd.NA for an unknown value, not for the None
    category; native code read it as None (a wrong row). Now the original runs."""
    train = pd.DataFrame({"c": pd.Series(["a", "b", None] * 10, dtype=object)})
    encoder = OneHotEncoder(handle_unknown="ignore").fit(train)

    def codes(df: pd.DataFrame) -> Any:
        return encoder.transform(df[["c"]]).toarray()

    compiled = native(codes, train)
    batch = pd.DataFrame({"c": pd.Series(["a", pd.NA, None], dtype=object)})
    same_on(codes, compiled, [batch, pd.concat([batch] * 20, ignore_index=True)])
    assert compiled.handoffs.calls["input"] == 2
