"""The row code of the date ops, for ``lower-feature-to-scf``.

A datetime is an i64 count of ``unit`` ticks since 1970-01-01 (NaT is -2**63). Calendar
dates go to and from day numbers with Howard Hinnant's ``days_from_civil`` and
``civil_from_days`` (proleptic Gregorian, exact over the whole i64 range of days used
here), all in i64 arithmetic with floor division. A row that fails a check computes an
unused value; the arithmetic wraps, so nothing it does is undefined.

* ``parse_datetime`` reads a string of the format's fixed width, byte by byte; a missing
  string is NaT, anything else that is not a valid date in the format stops the batch
  with ``ErrorKind.NOT_A_DATE`` (the runtime runs the original function instead).
* ``make_datetime`` checks that the parts are integers of a valid date and time (a row
  with NaN is NaT).
* ``datetime_sub`` subtracts ticks, NaT if either is; an overflow (or a result of NaT's
  ticks) is ``ErrorKind.NOT_A_DATE``.
* ``datetime_field`` splits ticks into days and seconds of the day, then the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, f64, i8, i64
from xdsl.ir import SSAValue

from willump_mlir.abi import ErrorKind
from willump_mlir.dialects import pipeline
from willump_mlir.dialects.pipeline import (
    DATE_DIRECTIVES,
    DATETIME_FLAGS,
    DATETIME_UNITS,
    NAT,
    format_fields,
)

if TYPE_CHECKING:
    from willump_mlir.passes.lower_feature_to_scf import KernelEmitter

index = IndexType()
SECONDS_PER_DAY = 86_400
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: The years a datetime of each unit holds whole (numpy's datetime64[ns] spans 1677-2262).
YEARS = {"s": (1, 9999), "ms": (1, 9999), "us": (1, 9999), "ns": (1678, 2261)}


class DateEmitter:
    """The date ops' handlers; mixed into ``KernelEmitter``."""

    # region Integer arithmetic

    def i64(self: KernelEmitter, value: int) -> SSAValue:
        return self.constant(value, i64)

    def floor_div(self: KernelEmitter, a: SSAValue, b: int) -> SSAValue:
        """``a // b`` for ``b > 0``, rounding toward minus infinity as Python does."""
        quotient = self.emit(arith.DivSIOp(a, self.i64(b)))
        remainder = self.emit(arith.RemSIOp(a, self.i64(b)))
        negative = self.cmpi("slt", remainder, self.i64(0))
        return self.isub(quotient, self.emit(arith.ExtUIOp(negative, i64)))

    def floor_mod(self: KernelEmitter, a: SSAValue, b: int) -> SSAValue:
        """``a % b`` for ``b > 0``, in ``[0, b)`` as Python's."""
        return self.isub(a, self.imul(self.floor_div(a, b), b))

    def all_of(self: KernelEmitter, conditions: list[SSAValue]) -> SSAValue:
        result = conditions[0]
        for condition in conditions[1:]:
            result = self.emit(arith.AndIOp(result, condition))
        return result

    def between(self: KernelEmitter, value: SSAValue, low: int, high: int) -> SSAValue:
        """``low <= value <= high``."""
        return self.all_of([self.cmpi("sge", value, self.i64(low)),
                            self.cmpi("sle", value, self.i64(high))])  # fmt: skip

    # endregion
    # region Calendar

    def days_from_civil(self: KernelEmitter, y: SSAValue, m: SSAValue, d: SSAValue) -> SSAValue:
        """Days since 1970-01-01 of the date ``y-m-d`` (Hinnant's ``days_from_civil``)."""
        early = self.cmpi("sle", m, self.i64(2))
        y = self.isub(y, self.emit(arith.ExtUIOp(early, i64)))
        era = self.floor_div(y, 400)
        yoe = self.isub(y, self.imul(era, 400))
        shifted = self.select(early, self.iadd(m, 9), self.isub(m, 3))
        doy = self.iadd(self.floor_div(self.iadd(self.imul(shifted, 153), 2), 5), self.isub(d, 1))
        doe = self.iadd(self.imul(yoe, 365), self.floor_div(yoe, 4))
        doe = self.iadd(self.isub(doe, self.floor_div(yoe, 100)), doy)
        return self.isub(self.iadd(self.imul(era, 146_097), doe), 719_468)

    def civil_from_days(self: KernelEmitter, z: SSAValue) -> tuple[SSAValue, SSAValue, SSAValue]:
        """The (year, month, day) of ``z`` days since 1970-01-01 (``civil_from_days``)."""
        z = self.iadd(z, 719_468)
        era = self.floor_div(z, 146_097)
        doe = self.isub(z, self.imul(era, 146_097))
        yoe = self.isub(doe, self.floor_div(doe, 1460))
        yoe = self.isub(self.iadd(yoe, self.floor_div(doe, 36_524)), self.floor_div(doe, 146_096))
        yoe = self.floor_div(yoe, 365)
        y = self.iadd(yoe, self.imul(era, 400))
        year_start = self.iadd(self.imul(yoe, 365), self.floor_div(yoe, 4))
        doy = self.isub(doe, self.isub(year_start, self.floor_div(yoe, 100)))
        mp = self.floor_div(self.iadd(self.imul(doy, 5), 2), 153)
        d = self.iadd(self.isub(doy, self.floor_div(self.iadd(self.imul(mp, 153), 2), 5)), 1)
        m = self.select(self.cmpi("slt", mp, self.i64(10)), self.iadd(mp, 3), self.isub(mp, 9))
        early = self.cmpi("sle", m, self.i64(2))
        return self.iadd(y, self.emit(arith.ExtUIOp(early, i64))), m, d

    def divisible(self: KernelEmitter, value: SSAValue, by: int) -> SSAValue:
        return self.cmpi("eq", self.floor_mod(value, by), self.i64(0))

    def leap_year(self: KernelEmitter, y: SSAValue) -> SSAValue:
        """Whether ``y`` is a Gregorian leap year."""
        return self.emit(arith.OrIOp(
            self.emit(arith.AndIOp(self.divisible(y, 4), self.negate(self.divisible(y, 100)))),
            self.divisible(y, 400),
        ))  # fmt: skip

    def days_in_month(self: KernelEmitter, y: SSAValue, m: SSAValue) -> SSAValue:
        """28 to 31 for month ``m`` (1-12) of year ``y``."""
        february = self.iadd(self.emit(arith.ExtUIOp(self.leap_year(y), i64)), 28)
        short = [self.cmpi("eq", m, self.i64(k)) for k in (4, 6, 9, 11)]
        thirty = self.emit(arith.OrIOp(self.emit(arith.OrIOp(short[0], short[1])),
                                       self.emit(arith.OrIOp(short[2], short[3]))))  # fmt: skip
        other = self.select(thirty, self.i64(30), self.i64(31))
        return self.select(self.cmpi("eq", m, self.i64(2)), february, other)

    def valid_datetime(self: KernelEmitter, parts: list[SSAValue], unit: str) -> SSAValue:
        """Whether (year, month, day, hour, minute, second) is a date and time of the
        years a ``unit`` datetime holds whole."""
        y, m, d, hour, minute, second = parts
        low, high = YEARS[unit]
        month_ok = self.between(m, 1, 12)
        safe_month = self.select(month_ok, m, self.i64(1))
        day_ok = self.all_of([self.cmpi("sge", d, self.i64(1)),
                              self.cmpi("sle", d, self.days_in_month(y, safe_month))])  # fmt: skip
        return self.all_of([self.between(y, low, high), month_ok, day_ok,
                            self.between(hour, 0, 23), self.between(minute, 0, 59),
                            self.between(second, 0, 59)])  # fmt: skip

    def ticks(self: KernelEmitter, parts: list[SSAValue], unit: str) -> SSAValue:
        """The ``unit`` ticks since the epoch of valid (year, month, ..., second) parts."""
        y, m, d, hour, minute, second = parts
        seconds = self.imul(self.days_from_civil(y, m, d), SECONDS_PER_DAY)
        seconds = self.iadd(seconds, self.imul(hour, 3600))
        seconds = self.iadd(self.iadd(seconds, self.imul(minute, 60)), second)
        return self.imul(seconds, DATETIME_UNITS[unit])

    def date_flag(
        self: KernelEmitter, field: str, year: SSAValue, month: SSAValue, day: SSAValue
    ) -> SSAValue:
        """``is_month_end`` and the other flags of a date."""
        if field == "is_leap_year":
            return self.leap_year(year)
        first = self.cmpi("eq", day, self.i64(1))
        last = self.cmpi("eq", day, self.days_in_month(year, month))
        if field == "is_month_start":
            return first
        if field == "is_month_end":
            return last
        if field == "is_quarter_start":
            return self.all_of([first, self.divisible(self.isub(month, 1), 3)])
        if field == "is_quarter_end":
            return self.all_of([last, self.divisible(month, 3)])
        edge = 1 if field == "is_year_start" else 12
        return self.all_of([first if edge == 1 else last, self.cmpi("eq", month, self.i64(edge))])

    # endregion
    # region Ops

    def datetime_column(self: KernelEmitter, op: pipeline.DatetimeColumnOp) -> list[SSAValue]:
        frame = self.frame_of(op.frame)
        column = op.column.data
        dtype = op.frame.type.dtype_of(column)  # type: ignore[attr-defined]
        part = f"M8[{dtype.unit.data}]"  # the runtime reads the column's ticks in this unit
        return [self.load(self.input(frame.value, column, part, i64), self.state.row)]

    def parse_datetime(self: KernelEmitter, op: pipeline.ParseDatetimeOp) -> list[SSAValue]:
        frame = self.frame_of(op.frame)
        name = op.column.data
        data = self.input(frame.value, name, "bytes", i8)
        offsets = self.input(frame.value, name, "offsets", i64)
        missing = self.cmpi("ne", self.load(self.input(frame.value, name, "missing", i8),
                                            self.state.row), self.constant(0, i8))  # fmt: skip
        start = self.load(offsets, self.state.row)
        after = self.emit(arith.AddiOp(self.state.row, self.constant(1, index)))
        length = self.isub(self.load(offsets, after), start)
        pieces = format_fields(op.format.data)
        width = sum(DATE_DIRECTIVES[t] if k == "%" else 1 for k, t in pieces)
        unit = op.unit.data

        def byte(position: int) -> SSAValue:
            at = self.to_index(self.iadd(start, position))
            return self.emit(arith.ExtUIOp(self.load(data, at), i64))

        def parse() -> list[SSAValue]:
            values = {"m": self.i64(1), "d": self.i64(1)}
            checks: list[SSAValue] = []
            position = 0
            for kind, text in pieces:
                if kind == "" or text == "z":  # a literal, or the UTC offset "Z"
                    literal = ord(text if kind == "" else "Z")
                    checks.append(self.cmpi("eq", byte(position), self.i64(literal)))
                    position += 1
                    continue
                size = DATE_DIRECTIVES[text]
                if text == "b":
                    letters = [self.emit(arith.OrIOp(byte(position + j), self.i64(0x20)))
                               for j in range(size)]  # fmt: skip
                    key = self.iadd(self.imul(letters[0], 1 << 16), self.imul(letters[1], 1 << 8))
                    key = self.iadd(key, letters[2])
                    month = self.i64(0)  # no month: invalid below
                    for number, abbreviation in enumerate(MONTHS, start=1):
                        code = int.from_bytes(abbreviation.encode(), "big")
                        month = self.select(self.cmpi("eq", key, self.i64(code)),
                                            self.i64(number), month)  # fmt: skip
                    values["m"] = month
                else:
                    number = self.i64(0)
                    for j in range(size):
                        digit = self.isub(byte(position + j), ord("0"))
                        checks.append(self.cmpi("ule", digit, self.i64(9)))
                        number = self.iadd(self.imul(number, 10), digit)
                    values[text] = number
                position += size
            parts = [values.get(k, self.i64(0)) for k in "YmdHMS"]
            checks.append(self.valid_datetime(parts, unit))
            return [self.ticks(parts, unit), self.all_of(checks)]

        readable = self.all_of([self.cmpi("eq", length, self.i64(width)), self.negate(missing)])
        value, ok = self.if_else(readable, parse, lambda: [self.i64(NAT), missing])
        site = self.lowering.error_site(op, column=name)
        self.report_error(self.negate(ok), ErrorKind.NOT_A_DATE, site)
        return [self.select(missing, self.i64(NAT), value)]

    def make_datetime(self: KernelEmitter, op: pipeline.MakeDatetimeOp) -> list[SSAValue]:
        row = self.row_of(op.input)
        unit = op.unit.data
        nan = self.all_of([self.cmpf("ord", x, x) for x in row])
        nan = self.negate(nan)
        checks, parts = [], []
        for x in row:
            # a fraction, or a value beyond any date: not valid (NaN: not checked)
            finite = self.cmpf("olt", self.emit(arith.MaximumfOp(x, self.emit(arith.NegfOp(x)))),
                               self.constant(1e9, f64))  # fmt: skip
            safe = self.select(finite, x, self.constant(0.0, f64))
            whole = self.emit(arith.FPToSIOp(safe, i64))
            back = self.emit(arith.SIToFPOp(whole, f64))
            checks.append(self.all_of([finite, self.cmpf("oeq", back, x)]))
            parts.append(whole)
        parts += [self.i64(0)] * (6 - len(parts))
        checks.append(self.valid_datetime(parts, unit))
        ok = self.all_of(checks)
        failed = self.all_of([self.negate(ok), self.negate(nan)])
        self.report_error(failed, ErrorKind.NOT_A_DATE, self.lowering.error_site(op))
        return [self.select(nan, self.i64(NAT), self.ticks(parts, unit))]

    def datetime_sub(self: KernelEmitter, op: pipeline.DatetimeSubOp) -> list[SSAValue]:
        (a,), (b,) = self.row_of(op.lhs), self.row_of(op.rhs)
        difference = self.isub(a, b)
        nat = self.emit(arith.OrIOp(self.cmpi("eq", a, self.i64(NAT)),
                                    self.cmpi("eq", b, self.i64(NAT))))  # fmt: skip
        # signed overflow: the operands' signs differ and the result's is not a's; or the
        # result is NaT's ticks, which pandas refuses too (``add_overflowsafe``)
        signs = self.emit(arith.AndIOp(self.emit(arith.XOrIOp(a, b)),
                                       self.emit(arith.XOrIOp(a, difference))))  # fmt: skip
        wrapped = self.emit(arith.OrIOp(self.cmpi("slt", signs, self.i64(0)),
                                        self.cmpi("eq", difference, self.i64(NAT))))  # fmt: skip
        overflow = self.all_of([wrapped, self.negate(nat)])
        self.report_error(overflow, ErrorKind.NOT_A_DATE, self.lowering.error_site(op))
        return [self.select(nat, self.i64(NAT), difference)]

    def datetime_field(self: KernelEmitter, op: pipeline.DatetimeFieldOp) -> list[SSAValue]:
        (ticks,) = self.row_of(op.input)
        per_day = SECONDS_PER_DAY * DATETIME_UNITS[op.unit.data]
        days = self.floor_div(ticks, per_day)
        seconds = self.floor_div(self.isub(ticks, self.imul(days, per_day)),
                                 DATETIME_UNITS[op.unit.data])  # fmt: skip
        field = op.field.data
        nat = self.cmpi("eq", ticks, self.i64(NAT))
        if field in DATETIME_FLAGS:
            flag = self.date_flag(field, *self.civil_from_days(days))
            return [self.emit(arith.AndIOp(self.negate(nat), flag))]
        if field == "days":
            value = days
        elif field == "seconds":
            value = seconds
        elif field == "hour":
            value = self.floor_div(seconds, 3600)
        elif field == "minute":
            value = self.floor_mod(self.floor_div(seconds, 60), 60)
        elif field == "second":
            value = self.floor_mod(seconds, 60)
        elif field == "dayofweek":  # 1970-01-01 was a Thursday (3; Monday is 0)
            value = self.floor_mod(self.iadd(days, 3), 7)
        else:
            year, month, day = self.civil_from_days(days)
            if field == "year":
                value = year
            elif field == "month":
                value = month
            elif field == "day":
                value = day
            elif field == "quarter":
                value = self.iadd(self.floor_div(self.isub(month, 1), 3), 1)
            elif field == "days_in_month":
                value = self.days_in_month(year, month)
            else:
                assert field == "dayofyear"
                first = self.days_from_civil(year, self.i64(1), self.i64(1))
                value = self.iadd(self.isub(days, first), 1)
        number = self.emit(arith.SIToFPOp(value, f64))
        return [self.select(nat, self.constant(float("nan"), f64), number)]

    # endregion
