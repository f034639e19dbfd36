"""Differential tests: frames with columns of dtypes native code does not read.

A DataFrame argument may hold columns of any dtype: tz-aware datetime64, timedelta64,
category, Period, Interval, complex, sparse, and object columns of Decimal, dates or mixed
values. Such a column is a ``!pipeline.object`` column of the frame: a function that never
reads it compiles natively; one that returns it (the frame, or a copy with new columns)
gives it back as pandas does, dtype included; one that reads it runs that code in Python,
and ``explain()`` names the column and its dtype. Each function is compared with the
original on batches with missing values (NaN, NaT, None), empty, of one row and of more
than 2,048 rows, and on batches without the column or with it of another dtype.
"""

from __future__ import annotations

import datetime
import decimal
import pickle
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.runtime import marshal
from willump_mlir.selfcheck import difference

ROWS = (0, 1, 60, 2500)  # empty, one row, one block, two blocks of rows (2,048 or more)


def _extra(name: str, n: int, rng: np.random.Generator) -> pd.Series:
    """Column ``name`` of ``n`` rows, missing on every fifth row where its dtype can be."""
    missing = np.arange(n) % 5 == 2
    stamps = pd.Timestamp("2021-03-14", tz="US/Eastern") + pd.to_timedelta(
        rng.integers(0, 10**7, n), unit="s")  # fmt: skip
    columns: dict[str, Callable[[], object]] = {
        "tz": lambda: pd.Series(stamps).mask(missing),
        "td": lambda: pd.Series(pd.to_timedelta(rng.integers(0, 10**6, n), unit="s")).mask(missing),
        "cat": lambda: pd.Series(pd.Categorical(rng.choice(["x", "y", "é"], n),
                                                categories=["x", "y", "é", "w"])).mask(missing),
        "period": lambda: pd.Series(pd.period_range("2020-01", periods=n, freq="M")),
        "interval": lambda: pd.Series(pd.IntervalIndex.from_breaks(np.arange(n + 1) * 0.5)),
        "decimal": lambda: pd.Series([decimal.Decimal(i) / 7 for i in range(n)], dtype=object),
        "date": lambda: pd.Series([None if m else datetime.date(2020, 1, 1 + i % 28)
                                   for i, m in enumerate(missing)], dtype=object),
        "mixed": lambda: pd.Series([i if i % 2 else str(i) for i in range(n)], dtype=object),
        "sparse": lambda: pd.Series(pd.arrays.SparseArray(np.where(missing, np.nan, 0.0))),
        "complex": lambda: pd.Series(rng.normal(size=n) + 1j * rng.normal(size=n)),
    }  # fmt: skip
    return columns[name]()  # type: ignore[return-value]


EXTRA = ("tz", "td", "cat", "period", "interval", "decimal", "date", "mixed", "sparse", "complex")


def table(n: int, *extra: str, seed: int = 0) -> pd.DataFrame:
    """Numbers ``a`` (NaN on every seventh row, -0.0 and inf once), ``b``, then ``extra``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame.loc[frame.index % 7 == 3, "a"] = np.nan
    if n > 5:
        frame.loc[4, "a"], frame.loc[5, "b"] = -0.0, np.inf
    for name in extra:
        frame[name] = _extra(name, n, rng)
    return frame


@pytest.fixture(scope="module")
def model() -> LogisticRegression:
    train = table(200, seed=1).replace(np.inf, 0.0).fillna(0.0)
    return LogisticRegression().fit(train[["a", "b"]], train.b > train.a)


def score(df, model):
    return model.predict_proba(df[["a", "b"]].fillna(0.0).clip(-9, 9))[:, 1]


def extend(df):
    out = df.copy()
    out["c"] = out["a"] * 2 + out["b"]
    return out


def assign(df):
    return df.assign(c=np.log1p(df["b"].abs()))


def scored(df, model):
    return df.assign(p=score(df, model))


def batches(*extra: str) -> list[pd.DataFrame]:
    """The batches each function is checked on: every size of ``ROWS``, then 60 rows without
    the first extra column, and with it of another dtype (object of its values, or numbers)."""
    found = [table(n, *extra, seed=n + 2) for n in ROWS]
    rows = table(60, *extra, seed=3)
    column = extra[0]
    found.append(rows.drop(columns=[column]))
    found.append(rows.assign(**{column: rows[column].astype(object)}))
    found.append(rows.assign(**{column: np.arange(60) * 0.5}))
    return found


def check(fn: Callable, example: pd.DataFrame, *rest: object, extra: tuple[str, ...]):
    """Compile ``fn`` on ``example``; compare with the original on ``batches(*extra)``, its
    results (dtypes included) or its exception class."""
    compiled = wm.compile(fn, example=(example, *rest))
    for rows in batches(*extra):
        try:
            expected = fn(rows.copy(), *rest)
        except Exception as error:  # noqa: BLE001 - the compiled call must raise it too
            with pytest.raises(type(error)):
                compiled(rows.copy(), *rest)
            continue
        found = difference(expected, compiled(rows.copy(), *rest))
        assert found is None, (len(rows), list(rows.dtypes), found)
    return compiled


@pytest.mark.parametrize("column", EXTRA)
def test_unused_column_compiles_natively(column: str, model: LogisticRegression) -> None:
    compiled = check(score, table(50, column), model, extra=(column,))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    assert compiled.original_reason is None


@pytest.mark.parametrize("column", EXTRA)
def test_returned_column_comes_back_as_pandas_gives_it(column: str) -> None:
    compiled = check(extend, table(50, column), extra=(column,))
    result = compiled(table(30, column, seed=9))
    assert result[column].dtype == table(1, column)[column].dtype


def test_all_at_once(model: LogisticRegression) -> None:
    compiled = check(score, table(50, *EXTRA), model, extra=EXTRA)
    assert not compiled.traced.python_fallbacks, compiled.explain()
    for fn in (extend, assign):
        check(fn, table(50, *EXTRA), extra=EXTRA)
    compiled = check(scored, table(50, *EXTRA), model, extra=EXTRA)  # a native model
    assert not compiled.traced.python_fallbacks, compiled.explain()


def hour(df):
    return df["tz"].dt.hour


def seconds(df):
    return df["td"].dt.total_seconds()


def codes(df):
    return df["cat"].cat.codes


def weighted(df, model):
    X = df[["a", "b"]].fillna(0.0).clip(-9, 9)
    return model.predict_proba(X)[:, 1] * np.log1p(df["td"].dt.total_seconds()) + df.a


def by_hour(df, model):
    X = df[["a", "b"]].copy()
    X["h"] = df["tz"].dt.hour.fillna(-1) + (df["cat"] == "x")
    return model.predict_proba(X[["a", "b"]].fillna(0.0).clip(-9, 9))[:, 1] + X["h"]


@pytest.mark.parametrize(("fn", "columns"), [
    (hour, ("tz",)), (seconds, ("td",)), (codes, ("cat",)), (weighted, ("td",)),
    (by_hour, ("tz", "cat")),
])  # fmt: skip
def test_read_column_runs_in_python_and_is_explained(
    fn: Callable, columns: tuple[str, ...], model: LogisticRegression
) -> None:  # fmt: skip
    rest = (model,) if fn in (weighted, by_hour) else ()
    example = table(50, *columns)
    compiled = check(fn, example, *rest, extra=columns)
    dtype = example[columns[0]].dtype
    assert f"column {columns[0]!r} is {dtype}, which native code does not read" in \
        compiled.explain()  # fmt: skip


def test_object_column_names_what_it_holds() -> None:
    def fn(df):
        return df["decimal"] * 2

    compiled = check(fn, table(50, "decimal"), extra=("decimal",))
    assert "column 'decimal' is object of Decimal values" in compiled.explain()


def test_columns_not_read_are_not_converted(model: LogisticRegression, monkeypatch) -> None:
    """A call reads the columns its kernels read, and only those: a category column is never
    converted (no cost proportional to it)."""
    compiled = wm.compile(score, example=(table(50, *EXTRA), model))
    read: list[str] = []
    column_array = marshal.column_array

    def spy(name: str, frame: object, column: str) -> object:
        read.append(column)
        return column_array(name, frame, column)

    monkeypatch.setattr(marshal, "column_array", spy)
    rows = table(3000, *EXTRA, seed=5)
    assert difference(score(rows, model), compiled(rows, model)) is None
    assert read and set(read) <= {"a", "b"}, read


def test_save_load_and_pickle(model: LogisticRegression, tmp_path) -> None:
    compiled = wm.compile(score, example=(table(50, *EXTRA), model))
    compiled.save(tmp_path / "score")
    loaded = wm.load(tmp_path / "score")
    reading = wm.compile(by_hour, example=(table(50, "tz", "cat"), model))
    unpickled = pickle.loads(pickle.dumps(reading))
    for n in ROWS[1:]:  # (an empty batch: the original raises, as ``check`` shows)
        rows = table(n, *EXTRA, seed=n)
        assert difference(score(rows, model), loaded(rows)) is None
        assert difference(by_hour(rows, model), unpickled(rows)) is None
    argument = next(a for a in loaded.traced.arguments if a.kind == "frame")
    assert dict(argument.columns)["cat"] == "python"
