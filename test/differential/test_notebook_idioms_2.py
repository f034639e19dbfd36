"""Differential tests: more notebook idioms, natively.

``pd.cut(x, edges, labels=False)`` (right or left closed, ``include_lowest``, infinite
edges; int64 codes while no value falls outside, float64 with NaN otherwise, which pandas
decides per batch), ``np.digitize`` and ``np.searchsorted`` by constant edges; row-wise
``apply(f, axis=1)`` of arithmetic on the row's fields (numpy scalars of the frame's common
dtype); ``a if cond else b``; ``frame.eval``/``query`` of simple expressions. Each function
is compiled on the first rows of an adversarial frame (NaN, ±inf, -0.0, values on the edges,
int64 extremes) and compared with the original (``selfcheck.difference``: dtype, index,
values) on the other rows, one row, no rows, a shifted index and batches whose dtypes differ
from the example's (a float ``k``, a nullable ``Int64`` ``k``, a float32 ``x``): the compiled
code equals the original or runs it, never differs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import check_notebook, same_on_batches
from sklearn.linear_model import LinearRegression, LogisticRegression

import willump_mlir as wm
from willump_mlir.selfcheck import difference

_N = 48
FRAME = pd.DataFrame({
    "x": np.tile([0.5, np.nan, -0.0, np.inf, -np.inf, 3.0, 12.0, 13.0], _N // 8),
    "k": np.tile([1, -1, 0, 12, 13, 7, 3, 20], _N // 8),
    "y": np.linspace(-3.0, 30.0, _N),
})  # fmt: skip
#: values all inside the edges [0, 12, 13, 14, 20] (the int64 codes of pd.cut)
INSIDE = pd.DataFrame({
    "x": np.tile([0.5, 12.0, 13.0, 19.5, 13.5, 14.0], 8),
    "k": np.tile([1, 12, 13, 14, 20, 7], 8),
    "y": np.linspace(0.5, 19.5, 48),
})  # fmt: skip
MODEL = LinearRegression().fit(FRAME[["y", "k"]].astype(float), np.arange(_N) % 3)


def _batches(frame: pd.DataFrame) -> list[pd.DataFrame]:
    shifted = frame.set_index(frame.index * 3 + 7)
    float_k = frame.assign(k=frame["k"].astype(float))
    nullable_k = frame.assign(k=pd.array(frame["k"], dtype="Int64"))
    float32_x = frame.assign(x=frame["x"].astype(np.float32))
    return [frame.iloc[24:], frame.iloc[[3]], frame.iloc[[1]], frame.iloc[:0], shifted,
            float_k, nullable_k, float32_x, FRAME, INSIDE]  # fmt: skip


def check(fn: Any, frame: pd.DataFrame = FRAME, native: bool = True) -> wm.CompiledPipeline:
    """``fn`` compiled on the first 24 rows of ``frame`` (``native``: nothing in Python);
    the same results (or the same class of error) as the original on every batch."""
    compiled = check_notebook(fn, frame, example=24, native=native, rows=[frame.iloc[24:]])
    same_on_batches(fn, compiled, _batches(frame))
    return compiled


def python_reasons(compiled: wm.CompiledPipeline) -> str:
    """The reasons explain() gives for what runs in Python."""
    explained = compiled.explain()
    return explained[explained.index("Runs in Python:"):]


# region pd.cut, np.digitize, np.searchsorted

EDGES = [0, 12, 13, 14, 20]


def cut_returned(df):
    return pd.cut(df["x"], bins=EDGES, labels=False)


def cut_left_closed(df):
    return pd.cut(df["x"], EDGES, right=False, labels=False)


def cut_lowest(df):
    return pd.cut(df["k"], EDGES, labels=False, include_lowest=True)


def cut_infinite(df):
    return pd.cut(df["x"], [-np.inf, 0.0, 12.5, np.inf], labels=False)


def cut_for_a_model(df):
    df = df.copy()
    df["k"] = pd.cut(df["y"], bins=[-10, 0, 10, 40], labels=False)
    return MODEL.predict(df[["y", "k"]].astype(float))


def cut_in_arithmetic(df):
    return pd.cut(df["x"], EDGES, labels=False) * 1.5 + df["y"]


def digitized(df):
    return np.digitize(df["x"], EDGES)


def digitized_right(df):
    return np.digitize(df["k"], np.array([0.5, 12.0, 13.0]), right=True)


def searched(df):
    return np.searchsorted(np.array(EDGES), df["x"], side="right")


@pytest.mark.parametrize("fn", [cut_returned, cut_left_closed, cut_lowest, cut_infinite,
                                cut_for_a_model, digitized, digitized_right, searched],
                         ids=lambda f: f.__name__)  # fmt: skip
@pytest.mark.parametrize("frame", [FRAME, INSIDE], ids=["outside", "inside"])
def test_binning_by_constant_edges(fn: Any, frame: pd.DataFrame) -> None:
    native = not (frame is FRAME and fn in (cut_returned, cut_left_closed, cut_lowest,
                                            cut_infinite))  # fmt: skip
    compiled = check(fn, frame, native=native)
    if not native:  # float64 codes with NaN: pandas gives int64 on a batch without NaN
        assert "depends on the batch" in python_reasons(compiled)


def test_cut_codes_in_float_arithmetic_are_native() -> None:
    check(cut_in_arithmetic, FRAME)


def cut_into_a_number_of_bins(df):
    return pd.cut(df["x"], 3, labels=False)


def cut_with_labels(df):
    return pd.cut(df["y"], EDGES, labels=["a", "b", "c", "d"])


def test_cut_into_a_number_of_bins_is_native() -> None:
    """Edges from the batch's minimum and maximum (``pipeline.cut_width``, idioms11)."""
    check(cut_into_a_number_of_bins, INSIDE)


def test_cut_with_labels_runs_in_python() -> None:
    compiled = check(cut_with_labels, INSIDE, native=False)
    assert "labels=False" in python_reasons(compiled)


# endregion
# region row-wise apply


def row_arithmetic(df):
    return df.apply(lambda r: r["x"] * 2 + r["y"] - r.k, axis=1)


def row_division(df):
    return df.apply(lambda r: r["y"] / r["x"] + r["y"] // r["x"] - r["k"] % 3, axis=1)


def row_power(df):  # numpy's scalar power is pow: (-0.0) ** 0.5 is 0.0, not sqrt's -0.0
    return df.apply(lambda r: r["x"] ** 0.5 + r.y ** 2, axis=1)


def row_conditions(df):
    return df.apply(lambda r: r["x"] if r["x"] > 0 and not r["k"] < 10 or r.y > 5 else -r.y,
                    axis=1)  # fmt: skip


def row_extrema(df):  # Python's min/max: NaN is kept only in first place
    return df.apply(lambda r: max(r["x"], r["y"]) - min(abs(r["k"]), r["y"], 0.5), axis=1)


def row_chained(df):
    return df.apply(lambda r: 1.5 if 0 <= r["x"] < 12 else r["y"], axis=1)


def half_or_negated(row):
    total = row["x"] + row.y
    return total / 2 if total > 0 else -total


def row_function(df):
    return df.apply(half_or_negated, axis=1)


def banded(row):
    """A notebook's row function of if statements."""
    if row["x"] > 12:
        return row.y * 2
    elif row["x"] != row["x"]:
        base = -1.0
        return base - row.k
    scaled = row.y / 3
    if scaled < 0:
        return 0.0
    return scaled + row.k


def row_function_of_ifs(df):
    return df.apply(banded, axis=1)


def clipped_ratio(a, b):
    return min(a / b, 10.0) if b else 0.0


def row_calling_a_function(df):
    return df.apply(lambda r: clipped_ratio(r["y"], r.x) + clipped_ratio(r.k, 2), axis=1)


def int_rows_in_float_arithmetic(df):  # int64 rows: wrapping int64 arithmetic, // 0 is 0
    return df["y"] + df[["k"]].apply(lambda r: r.k * 3 // (r.k - 7) - r["k"] % 4, axis=1)


def mixed_rows_in_float_arithmetic(df):  # an int 0 on some rows: float64 or int64 by batch
    return df["y"] * 2 + df.apply(lambda r: r["x"] if r["x"] > 0 else 0, axis=1)


def bool_rows_returned(df):
    return df.apply(lambda r: r["x"] > r["y"] or r.k == 0, axis=1)


def int_rows_returned(df):  # an empty batch gives float64: it runs the original
    return df[["k"]].apply(lambda r: max(r.k + 1, 3) if r.k else -r.k, axis=1)


def row_to_a_model(df):
    df = df.copy()
    df["y"] = df.apply(lambda r: r["y"] * 2 if r.k > 2 else r["y"] - 1, axis=1)
    return MODEL.predict(df[["y", "k"]].astype(float))


@pytest.mark.parametrize("fn", [row_arithmetic, row_division, row_power, row_conditions,
                                row_extrema, row_chained, row_function, row_function_of_ifs,
                                row_calling_a_function,
                                int_rows_in_float_arithmetic, mixed_rows_in_float_arithmetic,
                                row_to_a_model, bool_rows_returned, int_rows_returned],
                         ids=lambda f: f.__name__)  # fmt: skip
def test_row_wise_apply_is_native(fn: Any) -> None:
    check(fn)




def product_rows(df):
    return df.apply(lambda r: r["a"] * r["b"], axis=1)  # (int64 rows warn of overflow)


@pytest.mark.filterwarnings("ignore:overflow")
def test_rows_of_another_dtype_run_the_original() -> None:
    """The example's rows are float64 (``b``); a batch of int64 ``b`` has int64 rows, whose
    product wraps: it runs the original."""
    frame = pd.DataFrame({"a": [2**62 + 1, 3, -(2**62), 5] * 4, "b": [3.0, 0.5, 4.0, -1.0] * 4})
    compiled = check_notebook(product_rows, frame, example=8, rows=[frame.iloc[8:]])
    ints = frame.assign(b=frame["b"].astype(np.int64))
    assert difference(product_rows(ints.copy()), compiled(ints.copy())) is None
    assert compiled.handoffs.calls


def looked_up_then_rows(df):
    df = df.copy()
    df["m"] = pd.cut(df["x"], EDGES, labels=False)  # float64 with NaN, else int64
    return df[["k", "m"]].apply(lambda r: r.k * r.m, axis=1)


def test_rows_of_a_column_whose_dtype_depends_on_the_batch_are_not_native() -> None:
    """The float64 codes cannot make the rows' dtype: the cut runs in Python (its result's
    dtype is checked at run time), then the rows natively."""
    compiled = check(looked_up_then_rows, native=False)
    assert "pd.cut" in python_reasons(compiled)
    assert ".apply" not in python_reasons(compiled)


# region conditional expressions

DOUBLE = True


def constant_condition(df):
    scale = 2 if DOUBLE else 3
    return df["y"] * scale if len(EDGES) > 3 else df["x"]


def batch_condition(df):
    return df["y"] * 2 if len(df) > 30 else df["x"]


def test_a_conditional_expression_of_a_constant_condition_is_native() -> None:
    check(constant_condition)


def test_a_conditional_expression_of_the_batch_runs_in_python() -> None:
    compiled = check(batch_condition, native=False)
    assert "`len(df) > 30` depends on the batch" in python_reasons(compiled)


# endregion
# region frame.eval


def evaluated_product(df):
    return df.eval("x * y")


def evaluated_mask(df):  # pandas' parser: & below the comparisons, chains as &
    return df.eval("x > 1 & y < 2 | not 0 <= k < 10")


def evaluated_arithmetic(df):
    return df.eval("(x + 1.5) / k - y // 2 + k % 3 ** 2")


def evaluated_for_a_model(df):
    df = df.copy()
    df["y"] = df.eval("y * 2 - k")
    return MODEL.predict(df[["y", "k"]].astype(float))


@pytest.mark.parametrize("fn", [evaluated_product, evaluated_mask, evaluated_arithmetic,
                                evaluated_for_a_model], ids=lambda f: f.__name__)  # fmt: skip
def test_frame_eval_is_native(fn: Any) -> None:
    check(fn)


def evaluated_local(df):
    scale = 2  # noqa: F841 (the expression reads it as @scale)
    return df.eval("x * @scale")


def evaluated_call(df):
    return df.eval("abs(x)")


def queried(df):
    return df.query("x > 1 and k < 10")


# endregion
# region what runs in Python


def mixed_rows_returned(df):
    return df.apply(lambda r: r["x"] if r["x"] > 0 else 0, axis=1)


def row_with_a_method(df):
    return df.apply(lambda r: np.sqrt(r["x"]), axis=1)


def row_with_an_attribute(df):
    return df.apply(lambda r: r.size * r["x"], axis=1)


def row_of_strings(df):
    return df.assign(s="a").apply(lambda r: r["x"] * 2, axis=1)


def int_power_rows(df):
    return df[["k"]].apply(lambda r: r.k ** 2, axis=1)


@pytest.mark.parametrize(("fn", "why"), [
    (mixed_rows_returned, "depends on the batch"),
    (row_with_a_method, "only abs, min and max"),
    (row_with_an_attribute, "is the Series attribute"),
    (row_of_strings, "with str columns"),
    (int_power_rows, "integer power"),
    (evaluated_local, "a local name"),
    (evaluated_call, "is not compiled (column names"),
    (queried, "row selections run in Python"),
], ids=lambda v: getattr(v, "__name__", ""))  # fmt: skip
def test_what_runs_in_python_says_why(fn: Any, why: str) -> None:
    compiled = check(fn, native=False)
    assert why in python_reasons(compiled)


# endregion
# region a notebook on load_wine


def _wine() -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns=lambda c: c.replace("/", "_"))
    target = (frame.pop("target") == 1).astype(int).to_numpy()
    frame.loc[frame.index[::10], "magnesium"] = np.nan
    return frame, target


WINE, WINE_Y = _wine()


def wine_features(d):
    d = d.copy()
    d["alc_bin"] = pd.cut(d["alcohol"], bins=[0, 12, 13, 14, 20], labels=False)
    d["mg"] = d["magnesium"].fillna(d["magnesium"].median())
    d["ratio"] = np.where(d["flavanoids"] > 0, d["total_phenols"] / d["flavanoids"], 0.0)
    d["cat"] = np.select([d["ash"] < 2.2, d["ash"] < 2.5], [0, 1], default=2)
    d["ev"] = d.eval("alcohol * malic_acid")
    d["ap"] = d.apply(lambda r: r["alcohol"] * 2 + r["ash"] if r.hue > 1 else r.ash, axis=1)
    d["ash2"] = d["ash"] * (2 if len(EDGES) > 3 else 3)
    return d.drop(columns=["magnesium"])


WINE_MODEL = LogisticRegression(max_iter=5000).fit(wine_features(WINE.iloc[:120]),
                                                   WINE_Y[:120])  # fmt: skip


def wine_predict(d):
    return WINE_MODEL.predict_proba(wine_features(d))[:, 1]


def test_the_wine_notebook_runs_nothing_in_python() -> None:
    """The lead's load_wine probe (without its batch-sized ``qcut``): cut, eval, apply and a
    constant conditional are native; batches with values on the edges, out of range, NaN
    (LogisticRegression refuses it) or -0.0 agree with the original."""
    compiled = check_notebook(wine_predict, WINE, example=120, rows=[WINE.iloc[120:]])
    assert "Runs in Python:\n  - nothing" in compiled.explain(), compiled.explain()
    edges = WINE.iloc[120:].assign(alcohol=np.tile([12.0, 13.0, 14.0, 11.5, -0.0, 0.0],
                                                   10)[: len(WINE) - 120])  # fmt: skip
    outside = edges.assign(alcohol=edges["alcohol"] + 7.0)  # 19..21: NaN codes above 20
    missing = edges.assign(alcohol=edges["alcohol"].where(edges.index % 3 != 0))
    same_on_batches(wine_predict, compiled, [edges, outside, missing, WINE.iloc[[5]],
                                             WINE.iloc[:0]])  # fmt: skip


# endregion
