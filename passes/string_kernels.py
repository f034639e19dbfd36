"""Row code of the ``pipeline`` string ops (``str_case``, ``str_strip``, ``str_slice``,
``str_concat``, ``str_fill``, ``str_replace``, ``str_len``, ``str_split_count``,
``str_split_piece``, ``str_search``, ``str_match``): a mixin of ``KernelEmitter``.

A string in a row is a :class:`StrRow`: UTF-8 bytes ``data[start:end]`` and the missing
flag of the column's representation (0 present, else missing: ``marshal.missing_flag``). A
str column of a frame reads its ``bytes``/``offsets``/``missing`` inputs; a strip or slice
narrows its input's row; a case mapping or concatenation writes the row into a scratch
buffer sized from the longest row of the columns it is made of (``Bound``). Consumers read
any of them through :meth:`StringEmitter.string_row` (``feature.encode_strings`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, f64, i1, i8, i32, i64
from xdsl.ir import SSAValue

from willump_mlir.dialects import pipeline
from willump_mlir.dialects.feature import MISSING_NAN
from willump_mlir.passes.lookup_kernels import resolve_column
from willump_mlir.passes.text_kernels import ScratchSize

if TYPE_CHECKING:
    from willump_mlir.passes.lower_feature_to_scf import KernelEmitter

index = IndexType()


@dataclass(frozen=True)
class Bound:
    """An upper bound on a row's UTF-8 bytes: ``fixed`` plus, per ``(per_byte, value,
    column)`` term, ``per_byte`` times the longest row of that input column."""

    fixed: int
    terms: tuple[tuple[int, str, str], ...]

    def times(self, factor: int) -> Bound:
        return Bound(self.fixed * factor, tuple((k * factor, v, c) for k, v, c in self.terms))

    def plus(self, other: Bound) -> Bound:
        return Bound(self.fixed + other.fixed, self.terms + other.terms)

    def size(self, extra: int = 1) -> ScratchSize:
        """A scratch buffer of the bound plus ``extra`` elements."""
        first, *rest = self.terms
        return ScratchSize(self.fixed + extra, *first, more=tuple(rest))


@dataclass(frozen=True)
class StrRow:
    """A row's string: ``data[start:end]`` (index), ``missing`` (i8 flag), ``bound``."""

    data: SSAValue
    start: SSAValue
    end: SSAValue
    missing: SSAValue
    bound: Bound


def _ranges(points: list[int]) -> list[tuple[int, int]]:
    """Sorted code points as inclusive ranges."""
    ranges: list[tuple[int, int]] = []
    for p in sorted(set(points)):
        if ranges and ranges[-1][1] == p - 1:
            ranges[-1] = (ranges[-1][0], p)
        else:
            ranges.append((p, p))
    return ranges


#: ``str.isspace`` code points (what ``str.strip()`` drops), as ranges.
WHITESPACE = _ranges([c for c in range(0x3001) if chr(c).isspace()])


class StringEmitter:
    """The string ops' handlers; mixed into ``KernelEmitter``."""

    def derived_string(self: KernelEmitter, value: SSAValue) -> StrRow | None:
        """The row of a str column a string op of this kernel computes (``value``, or a
        selection of it); None for any other frame."""
        while isinstance(value.owner, pipeline.SelectColumnsOp):
            value = value.owner.frame
        found = self.rows.get(value)
        return found if isinstance(found, StrRow) else None

    def string_row(self: KernelEmitter, value: SSAValue, column: str) -> StrRow:
        """Column ``column`` of frame ``value`` in the current row."""
        found = self.derived_string(value)
        if found is not None:
            return found
        frame = self.frame_of(value).value
        data = self.input(frame, column, "bytes", i8)
        offsets = self.input(frame, column, "offsets", i64)
        missing = self.input(frame, column, "missing", i8)
        start = self.cast(self.load(offsets, self.state.row), index)
        end = self.cast(self.load(offsets, self.iadd(self.state.row, 1)), index)
        origin, name = resolve_column(frame, column)
        bound = Bound(0, ((1, self.lowering.value_name(origin), str(name)),))
        return StrRow(data, start, end, self.load(missing, self.state.row), bound)

    def str_input(self: KernelEmitter, value: SSAValue) -> StrRow:
        return self.string_row(value, pipeline.string_column(value.type, "input"))

    def is_lead(self: KernelEmitter, data: SSAValue, position: SSAValue) -> SSAValue:
        """Whether byte ``position`` starts a code point (is not ``10xxxxxx``)."""
        byte = self.cast(self.load(data, position), i32)
        return self.cmpi("ne", self.iand(byte, 0xC0), self.constant(0x80, i32))

    def as_count(self: KernelEmitter, flag: SSAValue) -> SSAValue:
        """An i1 as the index 0 or 1 (an index cast would sign-extend it to -1)."""
        return self.cast(self.cast(flag, i64), index)

    def count_code_points(self: KernelEmitter, text: StrRow) -> SSAValue:
        (count,) = self.for_range(
            text.start, text.end, [self.constant(0, index)],
            lambda p, c: [self.iadd(c[0], self.as_count(self.is_lead(text.data, p)))],
        )  # fmt: skip
        return count

    # region Numeric results

    def str_len(self: KernelEmitter, op: pipeline.StrLenOp) -> list[SSAValue]:
        text = self.str_input(op.input)
        count = self.emit(arith.SIToFPOp(self.cast(self.count_code_points(text), i64), f64))
        missing = self.cmpi("ne", text.missing, self.constant(0, i8))
        return [self.select(missing, self.constant(float("nan"), f64), count)]

    def split_scan(
        self: KernelEmitter, text: StrRow, sep: str | None, target: SSAValue | None = None
    ) -> tuple[SSAValue, SSAValue, SSAValue]:
        """The number of pieces of ``text`` split on runs of ``str.isspace`` code points (or
        on the ASCII byte ``sep``) and, with ``target`` (an index), the bytes ``[first,
        last)`` of that piece (meaningful only if there is one)."""
        if sep is not None:  # one more piece than occurrences of the byte

            def byte(p: SSAValue, v: list[SSAValue]) -> list[SSAValue]:
                seps, first, last = v
                hit = self.cmpi("eq", self.load(text.data, p), self.constant(ord(sep), i8))
                if target is not None:  # piece k ends at separator k, begins after k - 1
                    last = self.select(self.emit(arith.AndIOp(
                        hit, self.cmpi("eq", seps, target))), p, last)  # fmt: skip
                    first = self.select(self.emit(arith.AndIOp(
                        hit, self.cmpi("eq", self.iadd(seps, 1), target))),
                        self.iadd(p, 1), first)  # fmt: skip
                return [self.iadd(seps, self.as_count(hit)), first, last]

            seps, first, last = self.for_range(
                text.start, text.end, [self.constant(0, index), text.start, text.end], byte
            )
            return self.iadd(seps, 1), first, last

        def step(v: list[SSAValue]) -> list[SSAValue]:  # a piece starts at each non-space
            position, inside, pieces, first, last = v  # code point after a space (or start)
            cp, size = self.decode_utf8(text.data, position)
            word = self.negate(self.in_ranges(cp, WHITESPACE))
            starts = self.emit(arith.AndIOp(word, self.negate(inside)))
            if target is not None:
                ends = self.emit(arith.AndIOp(self.negate(word), inside))
                first = self.select(self.emit(arith.AndIOp(
                    starts, self.cmpi("eq", pieces, target))), position, first)  # fmt: skip
                ended = self.cmpi("eq", pieces, self.iadd(target, 1))  # the piece just ended
                last = self.select(self.emit(arith.AndIOp(ends, ended)), position, last)
            return [self.iadd(position, size), word, self.iadd(pieces, self.as_count(starts)),
                    first, last]  # fmt: skip

        _, _, pieces, first, last = self.while_loop(
            [text.start, self.constant(0, i1), self.constant(0, index), text.end, text.end],
            lambda v: self.cmpi("ult", v[0], text.end), step,
        )  # fmt: skip
        return pieces, first, last

    def str_split_count(self: KernelEmitter, op: pipeline.StrSplitCountOp) -> list[SSAValue]:
        text = self.str_input(op.input)
        count, _, _ = self.split_scan(text, op.sep.data if op.sep is not None else None)
        pieces = self.emit(arith.SIToFPOp(self.cast(count, i64), f64))
        missing = self.cmpi("ne", text.missing, self.constant(0, i8))
        return [self.select(missing, self.constant(float("nan"), f64), pieces)]

    def str_split_piece(self: KernelEmitter, op: pipeline.StrSplitPieceOp) -> StrRow:
        """Piece ``k`` of the row (``k < 0``: counted first, then found by a second scan);
        a missing row hands the batch to the original (pandas refuses ``.str`` of the
        lists of a batch whose every value is missing)."""
        text = self.str_input(op.input)
        sep = op.sep.data if op.sep is not None else None
        k = op.piece.value.data
        if k >= 0:
            target = self.constant(k, index)
            count, first, last = self.split_scan(text, sep, target)
            found = self.cmpi("ult", target, count)
        else:
            count, _, _ = self.split_scan(text, sep)
            position = self.iadd(self.cast(count, i64), k)
            found = self.cmpi("sge", position, self.constant(0, i64))
            target = self.cast(self.select(found, position, self.constant(0, i64)), index)
            _, first, last = self.split_scan(text, sep, target)
        present = self.cmpi("eq", text.missing, self.constant(0, i8))
        self.hand_back(self.negate(present), "split-missing")
        flag = self.select(found, text.missing, self.constant(MISSING_NAN, i8))
        start = self.select(found, first, text.start)
        return StrRow(text.data, start, self.select(found, last, start), flag, text.bound)

    def str_search(self: KernelEmitter, op: pipeline.StrSearchOp) -> list[SSAValue]:
        """``count``: the pattern's non-overlapping matches, scanned from the left (a match
        moves the scan past itself); ``find``/``rfind``: the code points before its first
        (last) match, -1 for none. A UTF-8 pattern matches only where a code point starts."""
        text = self.str_input(op.input)
        pattern = pipeline.attr_text(op.pattern).encode()
        size = self.constant(len(pattern), index)
        fits = self.cmpi("uge", self.isub(text.end, text.start), size)
        kind = op.kind.data

        def count() -> list[SSAValue]:
            last = self.iadd(self.isub(text.end, size), 1)  # the last byte a match starts at

            def step(v: list[SSAValue]) -> list[SSAValue]:
                hit = self.bytes_at(text, v[0], pattern)
                moved = self.select(hit, size, self.constant(1, index))
                return [self.iadd(v[0], moved), self.iadd(v[1], self.as_count(hit))]

            _, found = self.while_loop([text.start, self.constant(0, index)],
                                       lambda v: self.cmpi("ult", v[0], last), step)  # fmt: skip
            return [self.cast(found, i64)]

        def find() -> list[SSAValue]:
            def step(p: SSAValue, v: list[SSAValue]) -> list[SSAValue]:
                points, at = v
                hit = self.bytes_at(text, p, pattern)
                if kind == "find":
                    hit = self.emit(arith.AndIOp(hit, self.cmpi("slt", at, self.constant(0, i64))))
                at = self.select(hit, self.cast(points, i64), at)
                return [self.iadd(points, self.as_count(self.is_lead(text.data, p))), at]

            last = self.iadd(self.isub(text.end, size), 1)
            initial = [self.constant(0, index), self.constant(-1, i64)]
            return [self.for_range(text.start, last, initial, step)[1]]

        none = self.constant(0 if kind == "count" else -1, i64)
        (found,) = self.if_else(fits, count if kind == "count" else find, lambda: [none])
        number = self.emit(arith.SIToFPOp(found, f64))
        missing = self.cmpi("ne", text.missing, self.constant(0, i8))
        return [self.select(missing, self.constant(float("nan"), f64), number)]

    def bytes_at(self: KernelEmitter, text: StrRow, position: SSAValue, pattern: bytes,
                 ignore_case: bool = False) -> SSAValue:  # fmt: skip
        """Whether ``pattern`` is at byte ``position`` of ``text`` (it fits there); with
        ``ignore_case``, an ASCII letter of it matches either case."""
        equal = self.constant(1, i1)
        for k, b in enumerate(pattern):
            byte = self.load(text.data, self.iadd(position, k) if k else position)
            if ignore_case and chr(b).isalpha():
                byte, b = self.emit(arith.OrIOp(byte, self.constant(0x20, i8))), b | 0x20
            same = self.cmpi("eq", byte, self.constant(b - 256 if b > 127 else b, i8))
            equal = self.emit(arith.AndIOp(equal, same))
        return equal

    def str_match(self: KernelEmitter, op: pipeline.StrMatchOp) -> list[SSAValue]:
        text = self.str_input(op.input)
        pattern = pipeline.attr_text(op.pattern).encode()
        size = self.constant(len(pattern), index)
        length = self.isub(text.end, text.start)
        fits = self.cmpi("uge", length, size)
        predicate = op.predicate.data
        folded = op.ignore_case is not None
        if predicate == "contains":
            last = self.iadd(self.isub(text.end, size), 1)

            def scan() -> list[SSAValue]:
                return self.for_range(
                    text.start, last, [self.constant(0, i1)],
                    lambda p, f: [self.emit(arith.OrIOp(f[0], self.bytes_at(text, p, pattern,
                                                                            folded)))],
                )  # fmt: skip

            (found,) = self.if_else(fits, scan, lambda: [self.constant(0, i1)])
        else:
            at = text.start if predicate == "startswith" else None

            def compare() -> list[SSAValue]:
                position = at if at is not None else self.isub(text.end, size)
                return [self.bytes_at(text, position, pattern, folded)]

            (found,) = self.if_else(fits, compare, lambda: [self.constant(0, i1)])
        missing = self.cmpi("ne", text.missing, self.constant(0, i8))
        if folded:  # a row with a non-ASCII byte runs in Python
            (wide,) = self.for_range(
                text.start, text.end, [self.constant(0, i1)],
                lambda p, w: [self.emit(arith.OrIOp(w[0], self.cmpi(
                    "slt", self.load(text.data, p), self.constant(0, i8))))],
            )  # fmt: skip
            self.hand_back(wide, "str-casefold")
        if op.na.data == "python":
            self.hand_back(missing, "str-missing")
            given = self.constant(0, i1)
        else:
            given = self.constant(int(op.na.data == "true"), i1)
        return [self.select(missing, given, found)]

    def str_to_int(self: KernelEmitter, op: pipeline.StrToIntOp) -> list[SSAValue]:
        text = self.str_input(op.input)
        length = self.isub(text.end, text.start)

        def digit(p: SSAValue, v: list[SSAValue]) -> list[SSAValue]:
            value, digits = v
            code = self.isub(self.cast(self.load(text.data, p), i64), ord("0"))
            is_digit = self.cmpi("ult", code, self.constant(10, i64))
            value = self.iadd(self.imul(value, 10), code)
            return [value, self.emit(arith.AndIOp(digits, is_digit))]

        value, digits = self.for_range(
            text.start, text.end, [self.constant(0, i64), self.constant(1, i1)], digit
        )
        sized = self.emit(arith.AndIOp(
            self.cmpi("uge", length, self.constant(1, index)),
            self.cmpi("ule", length, self.constant(18, index)),
        ))  # fmt: skip
        present = self.cmpi("eq", text.missing, self.constant(0, i8))
        native = self.emit(arith.AndIOp(self.emit(arith.AndIOp(digits, sized)), present))
        self.hand_back(self.negate(native), "str-int")
        return [self.select(native, value, self.constant(0, i64))]

    def store_string(
        self: KernelEmitter,
        text: StrRow,
        offsets: SSAValue,
        missing: SSAValue,
        data: SSAValue,
        capacity: SSAValue,
    ) -> None:
        """Append the row to a string column: ``offsets[i + 1]`` and ``missing[i]`` always,
        the bytes only while they fit in ``capacity[0]`` (the runtime then reruns with
        ``offsets[n]`` bytes)."""
        start = self.load(offsets, self.state.row)
        end = self.iadd(start, self.cast(self.isub(text.end, text.start), i64))
        self.store(end, offsets, self.iadd(self.state.row, 1))
        self.store(text.missing, missing, self.state.row)

        def write() -> list[SSAValue]:
            self.copy_bytes(data, self.cast(start, index), text)
            return []

        self.if_else(self.cmpi("sle", end, self.load(capacity, 0)), write)

    # endregion
    # region Strings

    def decode_before(self: KernelEmitter, text: StrRow, end: SSAValue) -> list[SSAValue]:
        """The code point ending at byte ``end`` (> start) and its first byte's position."""
        first = self.while_loop(
            [self.isub(end, 1)],
            lambda v: self.negate(self.is_lead(text.data, v[0])),
            lambda v: [self.isub(v[0], 1)],
        )[0]
        cp, _ = self.decode_utf8(text.data, first)
        return [cp, first]

    def in_ranges(self: KernelEmitter, cp: SSAValue, ranges: list[tuple[int, int]]) -> SSAValue:
        found = self.constant(0, i1)
        for low, high in ranges:
            if low == high:
                hit = self.cmpi("eq", cp, self.constant(low, i32))
            else:
                offset = self.isub(cp, self.constant(low, i32))
                hit = self.cmpi("ule", offset, self.constant(high - low, i32))
            found = self.emit(arith.OrIOp(found, hit))
        return found

    def str_strip(self: KernelEmitter, op: pipeline.StrStripOp) -> StrRow:
        text = self.str_input(op.input)
        chars = pipeline.attr_text(op.chars) if op.chars is not None else None
        ranges = WHITESPACE if chars is None else _ranges([ord(c) for c in chars])
        start, end = text.start, text.end
        if op.side.data in ("both", "left"):

            def strip_left(v: list[SSAValue]) -> SSAValue:
                def check() -> list[SSAValue]:
                    cp, _ = self.decode_utf8(text.data, v[0])
                    return [self.in_ranges(cp, ranges)]

                before = self.cmpi("ult", v[0], end)
                return self.if_else(before, check, lambda: [self.constant(0, i1)])[0]

            start = self.while_loop(
                [start], strip_left,
                lambda v: [self.iadd(v[0], self.decode_utf8(text.data, v[0])[1])],
            )[0]  # fmt: skip
        if op.side.data in ("both", "right"):
            low = start

            def strip_right(v: list[SSAValue]) -> SSAValue:
                def check() -> list[SSAValue]:
                    cp, _ = self.decode_before(text, v[0])
                    return [self.in_ranges(cp, ranges)]

                after = self.cmpi("ugt", v[0], low)
                return self.if_else(after, check, lambda: [self.constant(0, i1)])[0]

            end = self.while_loop(
                [end], strip_right, lambda v: [self.decode_before(text, v[0])[1]]
            )[0]
        return StrRow(text.data, start, end, text.missing, text.bound)

    def code_point_bound(self: KernelEmitter, bound: int | None, count: SSAValue,
                         default: SSAValue) -> SSAValue:  # fmt: skip
        """A slice bound in code points as Python normalizes it into ``[0, count]``."""
        if bound is None:
            return default
        if bound >= 0:
            return self.min_index(self.constant(bound, index), count)
        shifted = self.iadd(self.cast(count, i64), bound)
        clipped = self.select(self.cmpi("slt", shifted, self.constant(0, i64)),
                              self.constant(0, i64), shifted)  # fmt: skip
        return self.cast(clipped, index)

    def str_slice(self: KernelEmitter, op: pipeline.StrSliceOp) -> StrRow:
        text = self.str_input(op.input)
        count = self.count_code_points(text)
        zero = self.constant(0, index)
        given = op.start.value.data if op.start is not None else None
        start = self.code_point_bound(given, count, zero)
        missing = text.missing
        if op.single is not None:
            assert given is not None
            position = self.iadd(self.cast(count, i64), given) if given < 0 \
                else self.constant(given, i64)  # fmt: skip
            inside = self.emit(arith.AndIOp(
                self.cmpi("sge", position, self.constant(0, i64)),
                self.cmpi("slt", position, self.cast(count, i64)),
            ))  # fmt: skip
            flag = self.select(inside, missing, self.constant(MISSING_NAN, i8))
            missing = self.select(self.cmpi("ne", missing, self.constant(0, i8)), missing, flag)
            self.hand_back(self.cmpi("ne", missing, self.constant(0, i8)), "str-position")
            start = self.min_index(self.cast(self.select(inside, position, self.constant(0, i64)),
                                             index), count)  # fmt: skip
            stop = self.min_index(self.iadd(start, 1), count)
        else:
            stop = self.code_point_bound(
                op.stop.value.data if op.stop is not None else None, count, count
            )
            stop = self.emit(arith.MaxUIOp(stop, start))

        def find(p: SSAValue, v: list[SSAValue]) -> list[SSAValue]:
            seen, first, last = v
            lead = self.is_lead(text.data, p)
            first = self.select(
                self.emit(arith.AndIOp(lead, self.cmpi("eq", seen, start))), p, first
            )
            last = self.select(self.emit(arith.AndIOp(lead, self.cmpi("eq", seen, stop))), p, last)
            return [self.iadd(seen, self.as_count(lead)), first, last]

        _, first, last = self.for_range(text.start, text.end, [zero, text.end, text.end], find)
        return StrRow(text.data, first, last, missing, text.bound)

    def put_utf8(self: KernelEmitter, out: SSAValue, at: SSAValue, cp: SSAValue) -> SSAValue:
        """Write code point ``cp`` (i32) as UTF-8 at byte ``at`` of ``out``; the next byte."""

        def byte(value: SSAValue, k: int) -> None:
            self.store(self.cast(value, i8), out, self.iadd(at, k) if k else at)

        def tail(count: int) -> list[SSAValue]:
            lead = {2: 0xC0, 3: 0xE0, 4: 0xF0}[count]
            byte(self.ior(self.shr(cp, 6 * (count - 1)), self.constant(lead, i32)), 0)
            for k in range(1, count):
                bits = self.iand(self.shr(cp, 6 * (count - 1 - k)), 0x3F)
                byte(self.ior(bits, self.constant(0x80, i32)), k)
            return [self.iadd(at, count)]

        def one() -> list[SSAValue]:
            byte(cp, 0)
            return [self.iadd(at, 1)]

        def wide() -> list[SSAValue]:
            return self.if_else(self.cmpi("ult", cp, self.constant(0x10000, i32)),
                                lambda: tail(3), lambda: tail(4))  # fmt: skip

        def several() -> list[SSAValue]:
            return self.if_else(self.cmpi("ult", cp, self.constant(0x800, i32)),
                                lambda: tail(2), wide)  # fmt: skip

        return self.if_else(self.cmpi("ult", cp, self.constant(0x80, i32)), one, several)[0]

    def str_case(self: KernelEmitter, op: pipeline.StrCaseOp) -> StrRow:
        text = self.str_input(op.input)
        bound = text.bound.times(op.expansion.value.data)
        out = self.scratch(self.scratch_name(op, "bytes"), i8, bound.size())
        char_map = (op.char_index, op.char_blocks, op.char_sequences)
        length, in_python = self.map_code_points(
            text.data, text.start, text.end, char_map, lambda at, cp: self.put_utf8(out, at, cp)
        )
        present = self.cmpi("eq", text.missing, self.constant(0, i8))
        self.hand_back(self.emit(arith.AndIOp(in_python, present)), "str-case")
        return StrRow(out, self.constant(0, index), length, text.missing, bound)

    def copy_bytes(self: KernelEmitter, out: SSAValue, at: SSAValue, text: StrRow) -> SSAValue:
        def step(p: SSAValue, v: list[SSAValue]) -> list[SSAValue]:
            self.store(self.load(text.data, p), out, v[0])
            return [self.iadd(v[0], 1)]

        return self.for_range(text.start, text.end, [at], step)[0]

    def put_bytes(self: KernelEmitter, out: SSAValue, at: SSAValue, piece: bytes) -> SSAValue:
        for b in piece:
            self.store(self.constant(b - 256 if b > 127 else b, i8), out, at)
            at = self.iadd(at, 1)
        return at

    def str_concat(self: KernelEmitter, op: pipeline.StrConcatOp) -> StrRow:
        parts = [self.str_input(v) for v in op.inputs]
        pieces = [pipeline.attr_text(p).encode() for p in op.pieces.data]
        bound = Bound(sum(map(len, pieces)), ())
        for part in parts:
            bound = bound.plus(part.bound)
        out = self.scratch(self.scratch_name(op, "bytes"), i8, bound.size())
        at = self.put_bytes(out, self.constant(0, index), pieces[0])
        missing = self.constant(0, i1)
        for part, piece in zip(parts, pieces[1:], strict=True):
            at = self.put_bytes(out, self.copy_bytes(out, at, part), piece)
            missing = self.emit(
                arith.OrIOp(missing, self.cmpi("ne", part.missing, self.constant(0, i8)))
            )
        flag = self.select(missing, self.constant(MISSING_NAN, i8), self.constant(0, i8))
        return StrRow(out, self.constant(0, index), at, flag, bound)

    def str_fill(self: KernelEmitter, op: pipeline.StrFillOp) -> StrRow:
        """A missing row's bytes are the fill value's, a present row's its own (copied)."""
        text = self.str_input(op.input)
        fill = pipeline.attr_text(op.value).encode()
        bound = Bound(len(fill), ()).plus(text.bound)
        out = self.scratch(self.scratch_name(op, "bytes"), i8, bound.size())
        start = self.constant(0, index)
        missing = self.cmpi("ne", text.missing, self.constant(0, i8))
        (end,) = self.if_else(missing, lambda: [self.put_bytes(out, start, fill)],
                              lambda: [self.copy_bytes(out, start, text)])  # fmt: skip
        return StrRow(out, start, end, self.constant(0, i8), bound)

    def str_replace(self: KernelEmitter, op: pipeline.StrReplaceOp) -> StrRow:
        """Each match of the pattern (the scan moves past it) written as the replacement,
        every other byte copied: a row grows at most ``ceil(len(new) / len(old))`` times."""
        text = self.str_input(op.input)
        old = pipeline.attr_text(op.pattern).encode()
        new = pipeline.attr_text(op.replacement).encode()
        bound = text.bound.times(max(1, -(-len(new) // len(old))))
        out = self.scratch(self.scratch_name(op, "bytes"), i8, bound.size())
        size = self.constant(len(old), index)

        def step(v: list[SSAValue]) -> list[SSAValue]:
            position, at = v
            fits = self.cmpi("ule", self.iadd(position, size), text.end)
            (hit,) = self.if_else(fits, lambda: [self.bytes_at(text, position, old)],
                                  lambda: [self.constant(0, i1)])  # fmt: skip

            def copy() -> list[SSAValue]:
                self.store(self.load(text.data, position), out, at)
                return [self.iadd(position, 1), self.iadd(at, 1)]

            return self.if_else(
                hit, lambda: [self.iadd(position, size), self.put_bytes(out, at, new)], copy
            )

        _, end = self.while_loop([text.start, self.constant(0, index)],
                                 lambda v: self.cmpi("ult", v[0], text.end), step)  # fmt: skip
        return StrRow(out, self.constant(0, index), end, text.missing, bound)

    # endregion
