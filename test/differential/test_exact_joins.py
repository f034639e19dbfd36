"""Joins and lookups on tables bound at compile time: compiled vs pandas, row by row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import willump_mlir as wm

RNG = np.random.default_rng(7)
GENRES = ["Drama", "Comédie|Ñoño", "", "動作|アニメ", "🎬 Sci-Fi", "drama"]
USERS = pd.DataFrame(
    {
        "userId": np.arange(0, 300, 3, dtype=np.int64),
        "u_mean": RNG.normal(size=100),
        "u_count": RNG.integers(1, 50, 100),
    }
)
MOVIES = pd.DataFrame({"movieId": np.arange(80, dtype=np.int64), "m_mean": RNG.normal(size=80)})
GENRE_STATS = pd.DataFrame({"genres": GENRES[:5], "g_mean": [0.5, -1.0, 2.0, 0.25, -0.75]})
FEATURES = ["u_mean", "u_count", "m_mean", "g_mean"]


def make_rows(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "userId": rng.integers(0, 330, n),  # about a tenth have no stats
            "movieId": rng.integers(0, 90, n),
            "genres": rng.choice(GENRES, n),  # "drama" is missing from the table
            "year": rng.integers(1950, 2020, n).astype(np.float64),
        }
    )


def _classifier() -> object:
    rows = make_rows(500, seed=1)
    x = rows.merge(USERS, on="userId", how="left").merge(MOVIES, on="movieId", how="left")
    x = x.merge(GENRE_STATS, on="genres", how="left")
    y = (x["u_mean"].fillna(0) + x["g_mean"].fillna(0) > 0).astype(int)
    return make_pipeline(SimpleImputer(), LogisticRegression()).fit(x[FEATURES], y)


@dataclass(frozen=True)
class Model:
    users: pd.DataFrame
    movies: pd.DataFrame
    genres: pd.DataFrame
    classifier: object


MODEL = Model(USERS, MOVIES, GENRE_STATS, _classifier())


def score(rows: pd.DataFrame, model: Model) -> np.ndarray:
    x = rows.merge(model.users, on="userId", how="left")
    x = x.merge(model.movies, on="movieId", how="left")
    x = x.merge(model.genres, on="genres", how="left")
    return model.classifier.predict_proba(x[FEATURES])[:, 1]


@pytest.fixture(scope="module")
def compiled_score() -> wm.CompiledPipeline:
    return wm.compile(score, example=(make_rows(200), MODEL))


@pytest.mark.parametrize("rows", [1, 7, 10_000])
def test_movielens_shape(compiled_score: wm.CompiledPipeline, rows: int) -> None:
    frame = make_rows(rows, seed=rows)
    expected = score(frame, MODEL)
    np.testing.assert_allclose(compiled_score(frame, MODEL), expected, rtol=0, atol=1e-12)
    text = compiled_score.ir("feature")
    assert text.count("feature.gather_rows") == 3 and "python_call" not in text
    assert "table joins and lookups" in compiled_score.explain()


def test_joined_values_exact_with_missing_and_nan_keys() -> None:
    table = pd.DataFrame({"k": [1.0, np.nan, 0.0, 2.5], "v": [10.0, 20.0, 30.0, 40.0]})

    def joined(rows: pd.DataFrame) -> np.ndarray:
        return rows.merge(table, on="k", how="left")[["v"]].to_numpy()

    example = pd.DataFrame({"k": [1.0, np.nan, -0.0, 7.0, 2.5, np.inf]})
    compiled = wm.compile(joined, example=(example,))
    probe = pd.DataFrame({"k": [np.nan, 0.0, -0.0, 3.0, 1.0, -np.inf, 2.5]})
    np.testing.assert_array_equal(compiled(probe), joined(probe))
    assert "feature.lookup_keys" in compiled.ir("feature")


def test_int_keys_match_float_table_keys() -> None:
    table = pd.DataFrame({"k": [1.0, 2.0, 3.5], "v": [1.0, 2.0, 3.0]})

    def joined(rows: pd.DataFrame) -> np.ndarray:
        return rows.merge(table, on="k", how="left")[["v"]].to_numpy()

    rows = pd.DataFrame({"k": np.array([1, 2, 3, 4], dtype=np.int64)})
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))


def test_two_column_keys_with_str_and_int() -> None:
    table = pd.DataFrame(
        {"g": ["a", "é", "", "a", "日本"], "n": [1, 1, 2, 2, 3], "v": [1.0, 2.0, 3.0, 4.0, 5.0]}
    )

    def joined(rows: pd.DataFrame) -> np.ndarray:
        return rows.merge(table, on=["g", "n"], how="left")[["v"]].to_numpy()

    rows = pd.DataFrame({"g": ["a", "a", "é", "", "日本", "x", None], "n": [1, 2, 1, 2, 3, 1, 1]})
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))
    assert "feature.pack_codes" in compiled.ir("feature")


def test_suffixes_on_clashing_columns() -> None:
    table = pd.DataFrame({"k": [1, 2], "v": [5.0, 6.0]})

    def joined(rows: pd.DataFrame) -> np.ndarray:
        x = rows.merge(table, on="k", how="left")
        return x[["v_x", "v_y"]].to_numpy()

    rows = pd.DataFrame({"k": [2, 3, 1], "v": [0.5, 1.5, 2.5]})
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))


def test_empty_table_runs_in_python() -> None:
    table = pd.DataFrame({"k": pd.Series([], dtype=np.int64), "v": pd.Series([], dtype=float)})

    def joined(rows: pd.DataFrame) -> np.ndarray:
        return rows.merge(table, on="k", how="left")[["v"]].to_numpy()

    rows = pd.DataFrame({"k": [1, 2, 3]})
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))
    assert "has no rows" in compiled.explain()


def test_duplicate_table_keys_run_in_python() -> None:
    table = pd.DataFrame({"k": [1, 1, 2], "v": [1.0, 2.0, 3.0]})

    def joined(rows: pd.DataFrame) -> np.ndarray:
        scaled = rows[["w"]].to_numpy() * 2.0
        x = rows.merge(table, on="k", how="left")  # row 1 is repeated
        return x[["v"]].to_numpy() + scaled.sum()

    rows = pd.DataFrame({"k": [1, 2, 3], "w": [0.5, 1.5, 2.5]})
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))
    assert "duplicate keys" in compiled.explain()
    assert "pipeline.binary" in compiled.ir("pipeline")  # the statement before stays native


@pytest.mark.parametrize("how", ["inner", "outer"])
def test_row_changing_merge_runs_the_rest_in_python(how: str) -> None:
    table = pd.DataFrame({"k": [1, 2], "v": [1.0, 2.0]})

    def joined(rows: pd.DataFrame) -> np.ndarray:
        x = rows.merge(table, on="k", how=how)
        return x[["v"]].to_numpy() * 2.0

    rows = pd.DataFrame({"k": [1, 3, 2, 2]})
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))
    assert f"how={how!r}" in compiled.explain()


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        (pd.Categorical(["a", "b"]), "only numbers and str are compiled"),
        (pd.Series(["a", None], dtype=object), "a missing value among str keys"),
        (pd.Series(["a", 1], dtype=object), "only numbers and str are compiled"),
        (pd.Series([2**53, 1], dtype=np.int64), "2^53 or more"),
    ],
)
def test_uncompiled_key_dtypes_run_in_python(keys: object, reason: str) -> None:
    table = pd.DataFrame({"k": keys, "v": [1.0, 2.0]})

    def joined(rows: pd.DataFrame) -> np.ndarray:
        return rows.merge(table, on="k", how="left")[["v"]].to_numpy() * 2.0

    kind = "str" if isinstance(table["k"].iloc[0], str) else "int"
    values = ["a", "c", "b"] if kind == "str" else [1, 2**53, 5]
    rows = pd.DataFrame({"k": values, "w": [1.0, 2.0, 3.0]})
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))
    assert reason in compiled.explain()
    assert "pipeline.binary" in compiled.ir("pipeline")  # the rows are the same: the rest is native


def test_global_table_all_empty_strings_and_map_na_action() -> None:
    empty = pd.DataFrame({"genres": [""], "v": [7.0]})
    weights = {np.nan: 1.0, 2.0: 3.0}

    def looked_up(rows: pd.DataFrame) -> np.ndarray:
        a = rows.merge(empty, on="genres", how="left")["v"]
        b = rows["year"].map(weights)
        c = rows["year"].map(weights, na_action="ignore")
        d = rows.merge(GENRE_STATS, on="genres", how="left")["g_mean"]
        return np.column_stack([a, b, c, d])

    rows = pd.DataFrame({"genres": ["", "x", "Drama", ""], "year": [2.0, np.nan, 1.0, -0.0]})
    compiled = wm.compile(looked_up, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), looked_up(rows))
    assert "python_call" not in compiled.ir("pipeline")


def test_merged_frame_leaving_native_code_is_pandas_own() -> None:
    table = pd.DataFrame({"k": [1, 2], "n": np.array([5, 6], dtype=np.int64)})

    def returned(rows: pd.DataFrame) -> pd.DataFrame:
        return rows.merge(table, on="k", how="left")

    def later_stage(rows: pd.DataFrame) -> np.ndarray:
        x = rows.merge(table, on="k", how="left")
        shift = np.nan_to_num(rows[["w"]].to_numpy())  # a Python call: a second stage
        return x[["n", "w"]].to_numpy() + shift

    rows = pd.DataFrame({"k": [1, 2, 3], "w": [0.5, np.nan, 1.0]})
    all_match = pd.DataFrame({"k": [2, 1], "w": [1.0, 2.0]})
    compiled = wm.compile(returned, example=(rows,))
    for frame in (rows, all_match):  # int64 "n" when every key matched, else float64
        pd.testing.assert_frame_equal(compiled(frame), returned(frame))
    assert "used outside native code" in compiled.explain()
    compiled = wm.compile(later_stage, example=(rows,))
    for frame in (rows, all_match):
        np.testing.assert_array_equal(compiled(frame), later_stage(frame))


def test_series_map_dict_and_series() -> None:
    weights = {"Drama": 1.5, "": -2.0, "動作|アニメ": 3.0}
    by_user = pd.Series(np.linspace(0, 1, 100), index=USERS["userId"])

    def mapped(rows: pd.DataFrame) -> np.ndarray:
        a = rows["genres"].map(weights)
        b = rows["userId"].map(by_user)
        return np.column_stack([a, b])

    rows = make_rows(300, seed=3)
    compiled = wm.compile(mapped, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), mapped(rows))
    assert compiled.ir("pipeline").count("feature.gather_rows") == 2


def test_loc_missing_key_raises_key_error() -> None:
    table = pd.DataFrame({"score": [0.5, 0.25, 0.125]}, index=[10, 20, 30])

    def looked_up(rows: pd.DataFrame) -> np.ndarray:
        return table.loc[rows["k"], "score"].to_numpy() * 2.0

    rows = pd.DataFrame({"k": [10, 30, 20, 10]})
    compiled = wm.compile(looked_up, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), looked_up(rows))
    assert 'on_missing python' in compiled.ir("pipeline")
    with pytest.raises(KeyError):
        compiled(pd.DataFrame({"k": [10, 40]}))
    many = pd.DataFrame({"k": np.resize([10, 20, 30], 5000)})  # blocks of rows on threads
    np.testing.assert_array_equal(compiled(many), looked_up(many))
    many.loc[4321, "k"] = 25
    with pytest.raises(KeyError):
        compiled(many)


def test_loc_with_duplicate_index_runs_in_python() -> None:
    table = pd.Series([0.5, 0.25, 0.125], index=[10, 10, 30])

    def looked_up(rows: pd.DataFrame) -> np.ndarray:
        return table.loc[rows["k"]].to_numpy() * 2.0

    rows = pd.DataFrame({"k": [10, 30]})
    compiled = wm.compile(looked_up, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), looked_up(rows))
    assert "duplicate keys" in compiled.explain()


def test_reindex_gives_nan() -> None:
    table = pd.Series([1.0, 2.0], index=["a", "b"])

    def looked_up(rows: pd.DataFrame) -> np.ndarray:
        return table.reindex(rows["g"]).to_numpy() + 0.0

    rows = pd.DataFrame({"g": ["b", "c", "a", ""]})
    compiled = wm.compile(looked_up, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), looked_up(rows))


def test_pd_merge_and_frame_join() -> None:
    by_index = USERS.set_index("userId")
    only_keys = MOVIES[["movieId"]]

    def joined(rows: pd.DataFrame) -> np.ndarray:
        a = pd.merge(rows, GENRE_STATS, on="genres", how="left")
        b = rows.join(by_index, on="userId")
        c = rows.merge(only_keys, on="movieId", how="left")
        x, y, z = a[["g_mean"]].to_numpy(), b[["u_mean", "u_count"]].to_numpy(), c[["year"]]
        return np.hstack([x, y, z.to_numpy()])

    rows = make_rows(500, seed=5)
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))
    assert "python_call" not in compiled.ir("pipeline")


def test_frame_join_with_nan_index_and_duplicates() -> None:
    table = pd.DataFrame({"v": [1.0, 2.0, 3.0]}, index=[0.5, np.nan, 2.0])
    repeated = pd.DataFrame({"v": [1.0, 2.0]}, index=[1.0, 1.0])

    def joined(rows: pd.DataFrame) -> np.ndarray:
        return rows.join(table, on="k")[["v"]].to_numpy() * 2.0

    def repeating(rows: pd.DataFrame) -> np.ndarray:
        return rows.join(repeated, on="k")[["v"]].to_numpy() * 2.0

    rows = pd.DataFrame({"k": [np.nan, 2.0, 0.5, 7.0, 1.0]})
    compiled = wm.compile(joined, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), joined(rows))
    compiled = wm.compile(repeating, example=(rows,))
    np.testing.assert_array_equal(compiled(rows), repeating(rows))
    assert "unique table keys" in compiled.explain()
