"""Batches other than the example: a notebook-style function compiled on some rows of
palmerpenguins/penguins and called on rows whose keys, dtypes or missing values differ
from the example's. The compiled result is the original's (type, dtype, values), or the
compiled call raises the original's exception class."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from notebook_check import same_outcome
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import willump_mlir as wm
from willump_mlir.corpus import table
from willump_mlir.selfcheck import difference

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
ISLAND_CODE = {"Biscoe": 1, "Dream": 2}  # Torgersen is not mapped
ISLAND_TABLE = pd.DataFrame({"island": ["Biscoe", "Dream"], "code": [1, 2]})


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return table("palmerpenguins", "penguins").copy()


def compiled_on(fn, example: pd.DataFrame, *rest) -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.compile(fn, example=(example, *rest))


def assert_same(compiled, fn, batch: pd.DataFrame, *rest) -> None:
    """The compiled result is the original's, or both raise the same exception class."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = fn(batch.copy(), *rest)
        except Exception as error:
            with pytest.raises(type(error)):
                compiled(batch.copy(), *rest)
            return
        found = difference(expected, compiled(batch.copy(), *rest))
    assert found is None, found


def some_unmapped(penguins: pd.DataFrame) -> pd.DataFrame:
    rows = penguins.iloc[:200]
    assert (rows.island == "Torgersen").any()
    return rows


def all_mapped(penguins: pd.DataFrame) -> pd.DataFrame:
    return penguins[penguins.island != "Torgersen"].iloc[:60].reset_index(drop=True)


# region A: lookups of ints, int64 where every key is found


def island_code(df):
    return df["island"].map(ISLAND_CODE)


def island_code_doubled(df):
    code = df["island"].map(ISLAND_CODE)
    return (code * 2).to_numpy()


def island_code_filled(df):
    return df["island"].map(ISLAND_CODE).fillna(0)


def merged_code(df):
    d = df[["island", "year"]].merge(ISLAND_TABLE, on="island", how="left")
    return d["code"] * 2


def merged_codes(df):
    d = df.merge(ISLAND_TABLE, on="island", how="left")
    return d[["code", "year"]].to_numpy()


LOOKUPS = [island_code, island_code_doubled, island_code_filled, merged_code, merged_codes]


@pytest.mark.parametrize("fn", LOOKUPS)
def test_lookup_of_ints_compiled_with_a_missing_key(fn, penguins) -> None:
    """Compiled where a key is unmapped (pandas: float64 with NaN), called where every key
    maps (pandas: int64): the int64 result."""
    compiled = compiled_on(fn, some_unmapped(penguins))
    for batch in (all_mapped(penguins), all_mapped(penguins).iloc[[4]], penguins.iloc[200:]):
        assert_same(compiled, fn, batch)


@pytest.mark.parametrize("fn", LOOKUPS)
def test_lookup_of_ints_compiled_with_every_key_found(fn, penguins) -> None:
    """The reverse: compiled on int64, called with an unmapped key: float64 with NaN."""
    compiled = compiled_on(fn, all_mapped(penguins))
    for batch in (some_unmapped(penguins).reset_index(drop=True), penguins.iloc[[0]]):
        assert_same(compiled, fn, batch)


def mapped_into_a_model(df, model):
    X = df[NUM].copy()
    X["island_code"] = df["island"].map(ISLAND_CODE)
    return model.predict_proba(X)[:, 1]


def test_a_lookup_a_model_reads_stays_native(penguins) -> None:
    """Where only a model reads the looked-up column, its dtype cannot show: native."""
    train = penguins.iloc[:250]
    X = train[NUM].assign(island_code=train.island.map(ISLAND_CODE))
    model = HistGradientBoostingClassifier(max_iter=20).fit(X, train.species == "Adelie")
    compiled = compiled_on(mapped_into_a_model, some_unmapped(penguins), model)
    assert not compiled.traced.python_fallbacks, compiled.explain()
    for batch in (all_mapped(penguins), penguins.iloc[250:]):
        assert_same(compiled, mapped_into_a_model, batch, model)
    assert compiled.calls_in_python == 0


# endregion
# region B: numeric columns of another dtype than the example's


def doubled(df):
    return df["bill_length_mm"] * 2


def halved_plus_year(df):
    return df["bill_length_mm"] / 2 + df["year"]


def scaled(x):
    return x * 2


def with_dtype(frame: pd.DataFrame, dtype: str) -> pd.DataFrame:
    column = frame["bill_length_mm"]
    return frame.assign(bill_length_mm=column.round().astype(dtype) if dtype in (
        "int64", "Int64") else column.astype(dtype))  # fmt: skip


@pytest.mark.parametrize("fn", [doubled, halved_plus_year])
@pytest.mark.parametrize("dtype", ["int64", "float32", "Int64"])
def test_column_of_another_dtype_where_the_result_shows_it(fn, dtype, penguins) -> None:
    """Compiled on float64, called with an int64, float32 or nullable Int64 column: pandas
    computes in that dtype, and so does the compiled callable's result."""
    rows = penguins.dropna(subset=["bill_length_mm"])
    compiled = compiled_on(fn, rows.iloc[:150])
    for batch in (with_dtype(rows.iloc[150:], dtype), with_dtype(rows.iloc[[3]], dtype)):
        assert_same(compiled, fn, batch)


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
def test_array_of_another_dtype_where_the_result_shows_it(dtype, penguins) -> None:
    x = penguins[NUM].dropna().to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(scaled, example=(x[:100],))
    for batch in (x[100:].astype(dtype), x[:1].astype(dtype)):
        got, expected = compiled(batch), scaled(batch)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def doubled_flag(df, model):
    X = df[NUM].fillna(0)
    X["male2"] = df["male"] + df["male"]
    return model.predict_proba(X)[:, 1]


def test_bool_column_where_the_example_had_floats(penguins) -> None:
    """pandas adds bools as bools (``True + True`` is ``True``), not as the example's
    floats: a bool batch gives the original's result even where only a model reads it."""
    rows = penguins.assign(male=(penguins.sex == "male").astype(float))
    X = rows[NUM].fillna(0).assign(male2=rows.male * 2)
    model = LogisticRegression(max_iter=3000).fit(X, rows.species == "Adelie")
    compiled = compiled_on(doubled_flag, rows.iloc[:200], model)
    batch = rows.iloc[200:].astype({"male": bool})
    assert_same(compiled, doubled_flag, batch, model)
    assert_same(compiled, doubled_flag, rows.iloc[200:], model)
    assert compiled.calls_in_python == 1


def score(df, model):
    return model.predict_proba(df[NUM])[:, 1]


def test_a_column_only_a_model_reads_converts_natively(penguins) -> None:
    """An int64 column into a model: scikit-learn reads it as float64, as native code does;
    no call of the original."""
    rows = penguins.dropna(subset=NUM)
    model = LogisticRegression(max_iter=3000).fit(rows[NUM], rows.species == "Adelie")
    compiled = compiled_on(score, rows.iloc[:150], model)
    batch = rows.iloc[150:].assign(body_mass_g=rows.body_mass_g.iloc[150:].astype(np.int64))
    assert_same(compiled, score, batch, model)
    assert compiled.calls_in_python == 0


def test_float32_into_a_scaler_gives_the_original_result(penguins) -> None:
    """scikit-learn's scaler keeps float32: the original runs, never an error or another
    number."""
    rows = penguins.dropna(subset=NUM)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    model.fit(rows[NUM], rows.species == "Adelie")
    compiled = compiled_on(score, rows.iloc[:150], model)
    mixed = rows.iloc[150:].astype({"bill_length_mm": np.float32})  # float64 in common
    assert_same(compiled, score, mixed, model)
    assert compiled.calls_in_python == 0
    batch = rows.iloc[150:].astype(dict.fromkeys(NUM, np.float32))
    assert_same(compiled, score, batch, model)
    assert compiled.calls_in_python == 1


# endregion
# region C: a category batch where the example's column was str or numbers


def mass_filled(df, model):
    X = df[NUM].fillna(0)
    return model.predict(X)


def test_fillna_of_a_numeric_category_batch_raises_as_pandas_does(penguins) -> None:
    """A category column of numbers where the example's was float64: pandas refuses a new
    value (TypeError); the compiled callable too."""
    rows = penguins.dropna(subset=NUM)
    model = LogisticRegression(max_iter=3000).fit(rows[NUM], rows.species == "Adelie")
    compiled = compiled_on(mass_filled, penguins.iloc[:200], model)
    batch = penguins.iloc[200:].astype({"body_mass_g": "category"})
    assert batch.body_mass_g.isna().any()
    assert_same(compiled, mass_filled, batch, model)
    assert_same(compiled, mass_filled, batch.dropna(subset=NUM), model)

EVERY_ISLAND = {"Biscoe": 1, "Dream": 2, "Torgersen": 3}


def every_island_code(df):
    return df["island"].map(EVERY_ISLAND)


def test_map_of_a_category_batch_is_a_category(penguins) -> None:
    """pandas maps a category column's categories: the result is a category column."""
    compiled = compiled_on(every_island_code, penguins.iloc[:200])
    batch = penguins.iloc[200:].astype({"island": "category"})
    assert_same(compiled, every_island_code, batch)
    assert_same(compiled, every_island_code, penguins.iloc[200:].astype({"island": "str"}))


def sex_filled_is_zz(df):
    return df["sex"].fillna("zz") == "zz"


def test_fillna_of_a_category_batch_raises_as_pandas_does(penguins) -> None:
    """pandas refuses ``fillna`` with a value outside a category column's categories
    (TypeError); the compiled callable raises the same class, naming the argument."""
    compiled = compiled_on(sex_filled_is_zz, penguins.iloc[:200])
    batch = penguins.iloc[200:].astype({"sex": "category"})
    assert batch.sex.isna().any()
    error = same_outcome(compiled, sex_filled_is_zz, batch, argument="df")
    assert isinstance(error, TypeError)
    assert_same(compiled, sex_filled_is_zz, batch.dropna(subset=["sex"]))  # nothing to fill
    assert_same(compiled, sex_filled_is_zz, penguins.iloc[200:])


# endregion


def sex_filled_upper(df):
    return df["sex"].fillna("unknown").str.upper()


def test_str_fill_of_a_category_batch_raises_as_pandas_does(penguins) -> None:
    """A ``fillna(str)`` whose strings are read (``pipeline.str_fill``, not codes) on a
    category batch: pandas refuses the new value; the compiled callable too."""
    compiled = compiled_on(sex_filled_upper, penguins.iloc[:200])
    assert "pipeline.str_fill" in compiled.ir("pipeline")
    batch = penguins.iloc[200:].astype({"sex": "category"})
    error = same_outcome(compiled, sex_filled_upper, batch, argument="df")
    assert isinstance(error, TypeError)
    assert_same(compiled, sex_filled_upper, penguins.iloc[200:])
