"""Dates natively: ``pd.to_datetime`` and ``Series.dt`` fields.

A datetime Series computed natively is a :class:`~willump_mlir.frontend.values.Datetime`:
an i64 vector of ticks of its unit since the epoch (NaT is -2**63), and the unit. It is
a datetime64 column of a frame argument (``pipeline.datetime_column``), or made by

* ``pd.to_datetime(s)`` of a string column in the format pandas infers from the example
  (``guess_datetime_format`` of its first value: ISO-8601 dates and times such as
  ``2013-01-01 05:00:00``, or ``2013-01-01T05:00:00Z`` in UTC) or in ``format=``
  (``%Y %m %d %H %M %S %b``, ``%z`` as ``Z``, and literals), as ``pipeline.parse_datetime``;
* ``pd.to_datetime(df[["year", "month", "day"]])`` (and hour, minute, second) of numeric
  columns, as ``pipeline.make_datetime``;

and read by ``.dt.year/month/day/hour/minute/second/dayofweek/weekday/dayofyear/quarter/
days_in_month`` and the flags ``.dt.is_month_end`` etc. (``pipeline.datetime_field``).
pandas gives a field as int32, or float64 with NaN where a date is NaT (a flag is bool,
False for NaT): on an example without NaT the field is an i64 vector whose run-time NaN
is a signal to run the original function (a speculative cast). On an example with NaT it
is an f64 vector, whose pandas dtype depends on the batch (int32 without NaT): it is
``unstable`` (``stability.check_results``), native only where a model, a comparison or
``to_numpy(dtype=float)`` fixes the dtype, and pandas' own where Python code or the
result reads it.
Anything native code might read otherwise than pandas (another layout than the example's,
an invalid or out-of-range date) is such a signal too, so the original function decides.
A datetime minus another or a constant date (or a constant date minus a datetime) is a
timedelta of the same unit (``pipeline.datetime_sub``), whose ``.dt.days`` (int64) and
``.dt.seconds`` (int32) are native too, and so are ``.dt.total_seconds()`` (pandas' whole
seconds plus the residual's fraction) and the ratio to a constant timedelta (``/
pd.Timedelta(days=1)``, the ticks divided as numpy does): float64 (``pipeline.cast``,
``pipeline.binary``), NaN for NaT (``pipeline.where``); ``td // pd.Timedelta(days=1)`` is
int64 (NaT, where pandas gives float64, runs the original).
A datetime (or timedelta) plus or minus a constant timedelta (``pd.Timedelta``,
``np.timedelta64``, ``datetime.timedelta`` of a whole number of the datetime's unit) is
``pipeline.datetime_sub`` of its ticks; as pandas, NaT stays NaT and an overflow (or a
result of NaT's ticks) raises, so that batch runs the original. An int32 field's arithmetic
is wrapped to int32 as numpy's (``NarrowInts.wrapped``).
Elsewhere (a Python op, a return) the datetime Series is built in Python from its ticks.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format
from xdsl.dialects.builtin import f64, i64
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import VerifyException

from willump_mlir.dialects.pipeline import (
    DATE_DIRECTIVES,
    DATE_PARTS,
    DATETIME_FIELDS,
    DATETIME_FLAGS,
    DATETIME_UNITS,
    NAT,
    BinaryOp,
    CastOp,
    ConstantOp,
    DatetimeColumnOp,
    DatetimeFieldOp,
    DatetimeSubOp,
    FrameType,
    MakeDatetimeOp,
    ParseDatetimeOp,
    StrType,
    ToArrayOp,
    WhereOp,
    format_fields,
)

from .spec import Unsupported
from .values import Datetime, Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: ``.dt`` names of the native fields.
FIELD_NAMES = {name: name for name in DATETIME_FIELDS + DATETIME_FLAGS} | {
    "weekday": "dayofweek", "day_of_week": "dayofweek", "day_of_year": "dayofyear",
    "daysinmonth": "days_in_month",
}  # fmt: skip
#: pandas' names of the parts of a frame it assembles dates from (``_unit_map``).
_PART_NAMES = {"year": "year", "years": "year", "month": "month", "months": "month",
               "day": "day", "days": "day", "hour": "hour", "hours": "hour",
               "minute": "minute", "minutes": "minute", "second": "second",
               "seconds": "second"}  # fmt: skip


def datetime_unit(value: object) -> str:
    """The unit of a timezone-naive datetime64 Series; ``Unsupported`` for anything else."""
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, pd.DatetimeTZDtype):
        if str(dtype.tz) != "UTC":
            raise Unsupported(f"a datetime in time zone {dtype.tz} is not compiled (UTC is)")
        return dtype.unit
    if not isinstance(value, pd.Series) or not isinstance(dtype, np.dtype) or dtype.kind != "M":
        raise Unsupported("the result is not a datetime64 Series")
    unit = np.datetime_data(dtype)[0]
    if unit not in DATETIME_UNITS:
        raise Unsupported(f"a datetime64[{unit}] is not compiled")
    return unit


def _ticks(value: pd.Series) -> pd.Series:
    """The i64 ticks of a datetime64 Series (NaT is -2**63), with its index and name."""
    return pd.Series(value.array.asi8, index=value.index, name=value.name)


def fixed_date(function: object, args: list[object]) -> bool:
    """Whether ``function(*args)`` is a ``pd.Timestamp`` of a fixed date (not "now" or
    "today") or a timedelta (``pd.Timedelta``, ``pd.to_timedelta``, ``datetime.timedelta``),
    which is folded at compile time."""
    if any(function is f for f in (pd.Timedelta, pd.to_timedelta, datetime.timedelta)):
        return True
    return function is pd.Timestamp and not any(
        isinstance(a, str) and a.strip().lower() in ("now", "today") for a in args
    )


def _delta_ticks(val: Val, unit: str) -> int | None:
    """The ticks of ``unit`` of a constant timedelta (``pd.Timedelta``, ``np.timedelta64``,
    ``datetime.timedelta``), None if ``val`` is not one; ``Unsupported`` for NaT, or one
    that is not a whole number of ``unit`` or of a finer unit (pandas would compute in
    that unit)."""
    if not val.is_static or not isinstance(val.value, datetime.timedelta | np.timedelta64):
        return None
    if pd.isna(val.value):
        raise Unsupported("a datetime beside a NaT timedelta is not compiled")
    delta = pd.Timedelta(val.value)
    if DATETIME_UNITS.get(delta.unit, 0) > DATETIME_UNITS[unit] or delta.as_unit(unit) != delta:
        raise Unsupported(f"the timedelta {delta} is not a whole number of {unit}, the "
                          "datetime's unit")  # fmt: skip
    return int(delta.as_unit(unit)._value)


def _accessor(series: pd.Series) -> object:
    return series.dt


class DateLowering:
    """``pd.to_datetime`` and ``.dt`` fields for the tracer."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def column(self, frame: Val, name: str, value: object) -> Val:
        """``frame[name]`` of a datetime column: its ticks."""
        unit = datetime_unit(value)
        ticks = self.tracer.emit(DatetimeColumnOp(frame.ssa, name))  # type: ignore[arg-type]
        return Val(value, datetime=Datetime(ticks.result, unit))

    def to_datetime(self, args: list[Val], kwargs: dict[str, Val], value: object) -> Val | None:
        """``pd.to_datetime(arg, format=..., errors=...)`` (``value``) natively; None if
        ``arg`` is not a string column or a frame."""
        if len(args) != 1 or set(kwargs) - {"format", "errors"}:
            raise Unsupported("pd.to_datetime with other arguments than format= and errors=")
        if not all(v.is_static for v in kwargs.values()):
            raise Unsupported("pd.to_datetime's options are computed at run time")
        errors = kwargs.get("errors", Val("raise")).value
        form = kwargs.get("format", Val(None)).value
        if errors not in ("raise", "coerce"):
            raise Unsupported(f"pd.to_datetime(errors={errors!r}) is not compiled")
        unit = datetime_unit(value)
        arg = args[0]
        if arg.datetime is not None and arg.datetime.timedelta:
            return None
        if arg.datetime is not None and form is None:  # already a datetime: itself
            if arg.datetime.unit != unit:
                raise Unsupported("pd.to_datetime changes the datetime's unit")
            return Val(value, datetime=arg.datetime)
        if arg.columns is not None and isinstance(arg.value, pd.DataFrame) and form is None:
            return Val(value, datetime=Datetime(self._assemble(arg, unit), unit))
        typ = arg.ssa.type if arg.ssa is not None else None
        if not isinstance(typ, FrameType):
            return None
        if isinstance(arg.value, pd.Series) and isinstance(typ.columns[0][1], StrType):
            ticks = self._parse(arg, typ.columns[0][0], form, unit, value)
        elif isinstance(arg.value, pd.DataFrame) and form is None:
            ticks = self._assemble(arg, unit)
        else:
            return None
        return Val(value, datetime=Datetime(ticks, unit))

    def _parse(self, arg: Val, column: str, form: object, unit: str, value: pd.Series) -> object:
        """``pipeline.parse_datetime`` of the string column ``arg`` in ``form`` (None: the
        format pandas infers from the example's first value)."""
        strings = arg.value
        assert isinstance(strings, pd.Series)
        if form is None:
            present = strings.dropna()
            if present.empty:
                raise Unsupported("no date in the example to infer the format from")
            form = guess_datetime_format(present.iloc[0])
            if form is None:
                raise Unsupported(f"pandas infers no format from {present.iloc[0]!r}")
        if not isinstance(form, str):
            raise Unsupported("format= is not a str")
        try:
            pieces = format_fields(form)
        except ValueError as error:
            raise Unsupported(f"format {form!r} is not compiled: {error}") from None
        width = sum(DATE_DIRECTIVES[t] if k == "%" else 1 for k, t in pieces)
        lengths = strings.dropna().map(lambda v: len(v.encode("utf-8")) if isinstance(v, str)
                                       else -1)  # fmt: skip
        if (lengths != width).any():  # e.g. "+00:00" for %z: every batch would run in Python
            raise Unsupported(f"the example's dates are not all {width} bytes long, as native "
                              f"code reads {form!r}")  # fmt: skip
        try:
            op = ParseDatetimeOp(arg.ssa, column, form, unit)  # type: ignore[arg-type]
            op.verify()
        except VerifyException as error:
            raise Unsupported(f"this pd.to_datetime is not compiled: {error}") from None
        return self.tracer.emit(op).result

    def _assemble(self, arg: Val, unit: str) -> object:
        """``pipeline.make_datetime`` of a frame of year, month, day (hour, minute, second)
        numeric columns (of an argument, or assembled: ``pd.DataFrame({"year": y, ...})``)."""
        frame = arg.value
        assert isinstance(frame, pd.DataFrame)
        parts: dict[str, str] = {}
        for name in frame.columns:
            part = _PART_NAMES.get(name, _PART_NAMES.get(str(name).lower()))
            if part is None or part in parts:
                raise Unsupported(f"column {name!r} is not a year, month, day, hour, minute or "
                                  "second of its own")  # fmt: skip
            dtype = frame[name].dtype
            if not isinstance(dtype, np.dtype) or dtype.kind not in "iuf":
                raise Unsupported(f"column {name!r} is {dtype}, not int or float")
            parts[part] = name
        order = DATE_PARTS[: len(parts)]
        if set(order) != set(parts):
            raise Unsupported("the frame's date parts are not year, month, day, then hour, "
                              "minute and second in turn")  # fmt: skip
        names = [parts[p] for p in order]
        if arg.columns is not None:  # an assembled frame: its columns stacked in that order
            items = dict(zip(arg.columns, arg.items or [], strict=True))
            ordered = Val(frame[names], items=[items[n] for n in names], columns=names)
            stacked = self.tracer.frames.matrix(ordered, frame[names].to_numpy(dtype=float))
            assert stacked.ssa is not None
            return self.tracer.emit(MakeDatetimeOp(stacked.ssa, unit)).result
        matrix = self.tracer.emit(ToArrayOp(arg.ssa, names))  # type: ignore[arg-type]
        return self.tracer.emit(MakeDatetimeOp(matrix.result, unit)).result

    def arithmetic(self, function: str, lhs: Val, rhs: Val, value: object) -> Val | None:
        """``lhs - rhs`` or ``lhs + rhs`` (``function``) of a native datetime or timedelta and
        a constant timedelta (either side of ``+``), as ``pipeline.datetime_sub`` of the
        constant's ticks (negated for ``+``); else ``lhs - rhs`` of datetimes
        (:meth:`subtract`). None if neither is native, or for another sum."""
        date = lhs.datetime if lhs.datetime is not None else rhs.datetime
        if date is None or date.series is not None:
            return None
        if function == "add" and rhs.datetime is not None:  # td + dates is dates + td
            lhs, rhs = rhs, lhs
        delta = _delta_ticks(rhs, date.unit) if lhs.datetime is not None else None
        if delta is None:
            return self.subtract(lhs, rhs, value) if function == "sub" else None
        series = lhs.value
        if not isinstance(value, pd.Series) or not isinstance(series, pd.Series) \
                or value.dtype != series.dtype:  # fmt: skip
            raise Unsupported(f"the datetime {function} a timedelta is "
                              f"{getattr(value, 'dtype', type(value).__name__)}, not "
                              f"{getattr(series, 'dtype', '')}")  # fmt: skip
        shift = self.tracer.emit(ConstantOp(-delta if function == "add" else delta)).result
        shifted = self.tracer.emit(DatetimeSubOp(date.ticks, shift)).result
        return Val(value, datetime=replace(date, ticks=shifted))

    def ratio(self, base: Val, divisor: Val, value: object) -> Val:
        """A native timedelta ``base`` divided by a constant timedelta (``td /
        pd.Timedelta(days=1)``): float64, NaN for NaT, numpy's ``(double)a / (double)b`` of
        the ticks."""
        date = self._timedelta(base, value)
        ticks = _delta_ticks(divisor, date.unit)
        if ticks is None or ticks == 0:
            raise Unsupported("this division of a timedelta is not compiled")
        emit = self.tracer.emit
        floats = emit(CastOp(date.ticks, f64)).result
        quotient = emit(BinaryOp("div", floats, emit(ConstantOp(float(ticks))).result)).result
        return self._masked(date, quotient, value)

    def floor_ratio(self, base: Val, divisor: Val, value: object) -> Val:
        """``td // pd.Timedelta(days=1)`` of a native timedelta: numpy's floor division of
        the ticks, int64 as pandas gives it without NaT (a batch with NaT, float64 with NaN
        in pandas, runs the original)."""
        date = base.datetime
        assert date is not None
        ticks = _delta_ticks(divisor, date.unit)
        if not date.timedelta or date.series is not None or ticks is None or ticks == 0:
            raise Unsupported("this floor division of a datetime is not compiled")
        if not isinstance(value, pd.Series) or value.dtype != np.int64:
            raise Unsupported(f"the floor division of timedeltas is {getattr(value, 'dtype', '')}"
                              " (NaT in the example), int64 on a batch without")  # fmt: skip
        emit = self.tracer.emit
        self.tracer.nullable.guard(self._nat(date, "eq"))
        return self.tracer._checked(BinaryOp("floor_divide", date.ticks,
                                             emit(ConstantOp(ticks)).result), value)  # fmt: skip

    def total_seconds(self, base: Val, value: object) -> Val:
        """``td.dt.total_seconds()`` as pandas 3.1 computes it: the whole seconds and the
        residual ticks (``np.divmod`` by the ticks per second), ``seconds + residual / pps``
        as numpy converts each, NaN for NaT. pandas moves a result that rounds onto a whole
        second (a residual below half the seconds' ulp: beyond 2^53 ticks) off it, where the
        batch has a tick beyond 2^53: a row whose result is on one runs the original."""
        date = self._timedelta(base, value)
        emit = self.tracer.emit
        per_second = DATETIME_UNITS[date.unit]
        pps = emit(ConstantOp(per_second)).result
        seconds = emit(BinaryOp("floor_divide", date.ticks, pps)).result
        residual = emit(BinaryOp("remainder", date.ticks, pps)).result
        whole = emit(CastOp(seconds, f64)).result
        fraction = emit(BinaryOp("div", emit(CastOp(residual, f64)).result,
                                 emit(ConstantOp(float(per_second))).result)).result  # fmt: skip
        result = emit(BinaryOp("add", whole, fraction)).result
        if per_second > 1:  # (seconds have no residual)
            ceiling = emit(BinaryOp("add", whole, emit(ConstantOp(1.0)).result)).result
            mask = self.tracer._mask
            on_boundary = mask("or", emit(BinaryOp("eq", result, whole)).result,
                               emit(BinaryOp("eq", result, ceiling)).result)  # fmt: skip
            present = self._nat(date, "ne")
            moved = emit(BinaryOp("ne", residual, emit(ConstantOp(0)).result)).result
            self.tracer.nullable.guard(mask("and", mask("and", on_boundary, moved), present))
        return self._masked(date, result, value)

    def _timedelta(self, base: Val, value: object) -> Datetime:
        """The native timedelta ``base`` of a float64 ``value``."""
        date = base.datetime
        assert date is not None
        if not date.timedelta or date.series is not None:
            raise Unsupported("this division of a datetime is not compiled")
        if not isinstance(value, pd.Series) or value.dtype != np.float64:
            raise Unsupported("the timedelta's ratio is not a float64 Series")
        return date

    def _masked(self, date: Datetime, floats: SSAValue, value: object) -> Val:
        """``floats`` with NaN where ``date`` is NaT, standing for ``value``."""
        nan = self.tracer.emit(ConstantOp(float("nan"))).result
        return self.tracer._checked(WhereOp(self._nat(date, "eq"), nan, floats), value)

    def _nat(self, date: Datetime, function: str) -> SSAValue:
        """Where ``date``'s ticks are NaT's (``function`` ``eq``), or are not (``ne``)."""
        emit = self.tracer.emit
        return emit(BinaryOp(function, date.ticks, emit(ConstantOp(NAT)).result)).result

    def call(self, receiver: Val, attr: str | None, args: list[Val], kwargs: dict[str, Val],
             value: object) -> Val:  # fmt: skip
        """``td.dt.total_seconds()`` of a native timedelta ``td`` (:meth:`total_seconds`)."""
        date = receiver.datetime
        assert date is not None and date.series is not None
        if attr != "total_seconds" or args or kwargs or not date.timedelta:
            raise Unsupported(f".dt.{attr}() is not compiled")
        return self.total_seconds(Val(date.series, datetime=replace(date, series=None)), value)

    def subtract(self, lhs: Val, rhs: Val, value: object) -> Val | None:
        """``lhs - rhs`` of a native datetime and another one, or a constant date (either
        side): a timedelta; None if neither is a datetime."""
        date = lhs.datetime if lhs.datetime is not None else rhs.datetime
        if date is None or date.timedelta or date.series is not None:
            return None
        dtype = getattr(value, "dtype", None)
        if not isinstance(value, pd.Series) or dtype != np.dtype(f"m8[{date.unit}]"):
            raise Unsupported(f"the difference is {dtype}, not timedelta64[{date.unit}]")
        ticks = [self._ticks_of(v, date.unit) for v in (lhs, rhs)]
        difference = self.tracer.emit(DatetimeSubOp(*ticks)).result
        return Val(value, datetime=replace(date, ticks=difference, timedelta=True))

    def _ticks_of(self, val: Val, unit: str) -> SSAValue:
        """The ticks of a native datetime of ``unit``, or of a constant date, as an operand
        of ``pipeline.datetime_sub``."""
        if val.datetime is not None:
            other = val.datetime
            if other.timedelta or other.series is not None or other.unit != unit:
                raise Unsupported("a difference of datetimes of different units")
            return other.ticks
        if not val.is_static or not isinstance(val.value, str | datetime.datetime | np.datetime64) \
                or pd.isna(val.value):  # fmt: skip
            raise Unsupported("a datetime beside something else than a date")
        try:
            moment = pd.Timestamp(val.value)  # type: ignore[arg-type]
            exact = moment.as_unit(unit)
        except (TypeError, ValueError):
            raise Unsupported("a datetime beside something else than a date") from None
        if exact != moment:
            raise Unsupported(f"the date {moment} is not a whole number of {unit}")
        return self.tracer.emit(ConstantOp(int(exact._value))).result

    def compare(self, function: str, lhs: Val, rhs: Val, value: object) -> Val | None:
        """``lhs < rhs`` (any comparison) of a native datetime and another of its unit, or a
        constant date: their ticks compared, where NaT is unequal to everything (pandas: a
        comparison with NaT is False, ``!=`` True); None if neither is a datetime."""
        dates = [v.datetime for v in (lhs, rhs) if v.datetime is not None]
        if not dates or any(d.timedelta or d.series is not None for d in dates):
            return None
        if not isinstance(value, pd.Series) or value.dtype != np.bool_:
            raise Unsupported("the comparison of datetimes is not a bool Series")
        tracer = self.tracer
        ticks = [self._ticks_of(v, dates[0].unit) for v in (lhs, rhs)]
        result = tracer.emit(BinaryOp(function, *ticks)).result
        nat = tracer.emit(ConstantOp(NAT)).result
        unequal = function == "ne"  # NaT != anything
        for date in dates:
            nats = tracer.emit(BinaryOp("eq" if unequal else "ne", date.ticks, nat)).result
            result = tracer._mask("or" if unequal else "and", result, nats)
        return tracer._checked_result(result, value)

    def attribute(self, base: Val, attr: str, value: object) -> Val | None:
        """``s.dt`` of a native datetime or timedelta ``s``, and ``s.dt.<field>``."""
        date = base.datetime
        assert date is not None
        if isinstance(base.value, pd.Series):
            return Val(value, datetime=replace(date, series=base.value)) if attr == "dt" else None
        fields = ({"days": "days", "seconds": "seconds"} if date.timedelta else FIELD_NAMES)
        if attr not in fields:
            raise Unsupported(f".dt.{attr} is not compiled")
        integers = np.int64 if attr == "days" and date.timedelta else np.int32
        if not isinstance(value, pd.Series) or value.dtype not in (integers, np.float64, bool):
            raise Unsupported(f".dt.{attr} gives {getattr(value, 'dtype', type(value))}")
        field = self.tracer.emit(DatetimeFieldOp(fields[attr], date.ticks, date.unit))
        if value.dtype == np.float64:  # NaT in the example: int32 (int64) on a batch without
            self.tracer.vocab.unstable[field.result] = (  # so only a model may read it
                f".dt.{attr} of dates with NaT in the example (float64; {integers.__name__} on "
                "a batch without)")
        if value.dtype != integers:  # a flag, or NaT in the example
            return Val(value, field.result)
        # integers as pandas gives them without NaT: a NaN at run time runs the original
        return Val(value, self.tracer.emit(CastOp(field.result, i64, speculative=True)).result)

    def materialize(self, val: Val) -> Val:
        """The datetime or timedelta Series (or its ``.dt``), built in Python from its
        native ticks."""
        date = val.datetime
        assert date is not None
        if date.series is not None:  # the .dt of the Series
            series = Val(date.series, datetime=replace(date, series=None))
            return self.tracer.python_op(
                "dt", _accessor, [self.materialize(series)], "the .dt of a datetime Series is "
                "taken for the Python code that reads it", "(...).dt", wraps=True,
            )  # fmt: skip
        assert isinstance(val.value, pd.Series)
        utc = isinstance(val.value.dtype, pd.DatetimeTZDtype)
        dtype = np.dtype(f"{'m8' if date.timedelta else 'M8'}[{date.unit}]")

        def build(ticks: pd.Series) -> pd.Series:
            naive = pd.Series(ticks.to_numpy().view(dtype), index=ticks.index, name=ticks.name)
            return naive.dt.tz_localize("UTC") if utc else naive

        return self.tracer.python_op(
            "datetime", build, [Val(_ticks(val.value), date.ticks)], "a datetime Series is "
            "built for the Python code that reads it", "pd.to_datetime(...)", wraps=True,
        )  # fmt: skip
