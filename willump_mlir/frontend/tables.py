"""Table joins and lookups as native hash joins: the only reader of lookup tables' contents.

``frame.merge(table, on=keys, how="left")`` (or ``pd.merge``), ``frame.join(table, on=keys)``
(the table's index is its key), ``series.map(dict_or_series)``,
``table.loc[keys]`` (a Series, or one column of a DataFrame) and ``series.reindex(keys)``
on a table bound at compile time become a key encoding (``feature.lookup_keys`` for
numbers, ``feature.encode_strings`` for strings, ``feature.pack_codes`` for several
columns), a ``feature.gather_rows`` of the table's value columns (its own feature group)
and, for a merge, a ``feature.join`` frame:

```mlir
%k = feature.lookup_keys %id [0] keys <"keys_…" : tensor<3xf64>> table <"slots_…" :
       tensor<8xi64>> probes 1 nan_row -1 : tensor<?x1xf64> -> tensor<?x1xi64>
%v = feature.gather_rows %k values <"table_…" : tensor<3x2xf64>> fill 0x7FF8000000000000
       on_missing fill : tensor<?x1xi64> -> tensor<?x2xf64>
%x = feature.join %rows, %v : ... -> !pipeline.frame<..., "mean" : f64, "n" : f64>
```

Exactness, as pandas: keys compare as values (an int key matches the equal float, ``-0.0``
matches ``0.0``, NaN matches NaN in a merge; strings by code points); a missing key gives
NaN (an int column of the table becomes float64 in pandas then; the frame type does not
distinguish int from float columns, so native consumers see the same numbers either way).
A merge frame that reaches Python code (or the function's result) is computed by pandas
itself there (``materialize_joins``), so its dtypes are pandas' own; so is a looked-up
column of ints that had a missing key on the example (float64 there, int64 on a batch where
every key is found) wherever its dtype could show (``frontend.stability``). Refused, and run in
Python with the reason: duplicate table keys (a merge repeats rows), keys that are not
numbers or str (datetime, categorical, mixed objects), int keys of 2^53 or more (not exact
as f64), a missing value among string keys, table columns that are not numeric.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from xdsl.dialects import func
from xdsl.dialects.builtin import TensorType, f64, i1, i64
from xdsl.ir import Operation, SSAValue

from willump_mlir.abi import MISSING_NAN
from willump_mlir.dialects import feature
from willump_mlir.dialects.pipeline import (
    CastOp,
    FrameType,
    PythonCallOp,
    SelectColumnsOp,
    StrType,
    TakeColumnOp,
    python_call_stages,
)

from .fallback import PythonFunction
from .inlining import is_helper
from .spec import PythonCall, Unsupported
from .types import column_kind, type_of
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

EXACT_INTEGERS = 2**53  # integers below this magnitude are exact as f64
_MERGE_OPTIONS = {"on", "how", "suffixes", "sort", "copy", "validate"}
_JOIN_OPTIONS = {"on", "how", "lsuffix", "rsuffix", "sort", "validate"}
#: what a lookup of ints is, where its dtype shows (``StringVocab.unstable``)
LOOKUP_OF_INTS = "a lookup of ints (int64 where every key is found, else float64)"


def _key_kind(series: pd.Series, what: str) -> str:
    """``"f64"`` or ``"str"``: how keys of ``series`` compare natively; else Unsupported."""
    kind = column_kind(series)
    if kind is None:
        raise Unsupported(f"{what} has dtype {series.dtype}: only numbers and str are compiled")
    if kind == "str" and series.isna().any():
        raise Unsupported(f"{what} holds a missing value among str keys")
    if kind == "f64" and series.dtype.kind in "iu" and (series.abs() >= EXACT_INTEGERS).any():
        raise Unsupported(f"{what} holds integers of 2^53 or more, not exact as f64")
    return kind


def _merge_keys(options: dict[str, Any]) -> list[str]:
    """The key columns of a merge's ``on=`` (none without it)."""
    on = options.get("on")
    if isinstance(on, str):
        return [on]
    return list(on) if isinstance(on, (list, tuple)) else []


def _value_table(table: pd.DataFrame, what: str) -> np.ndarray:
    """The table's columns as a rows x columns f64 matrix."""
    if not len(table.columns):
        raise Unsupported(f"{what} has no columns to add")
    for name in table.columns:
        if column_kind(table[name]) != "f64":
            raise Unsupported(f"{what} column {name!r} is not numeric (dtype {table[name].dtype})")
    return table.to_numpy(dtype=np.float64, na_value=np.nan).reshape(len(table), -1)


class TableLookups:
    """Lowers joins and lookups on tables bound at compile time, for one ``Tracer``."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer
        # join -> the original merge or join, as a function of the left frame, and its source
        self.merges: dict[Operation, tuple[Callable[[Any], Any], str]] = {}
        # Why a refused join gives other rows than its input (so the rest runs in Python)
        self.rows_change: str | None = None
        # a join's gathered values and position of each column that is float in pandas
        self.floating: set[tuple[SSAValue, int]] = set()

    # region Key encoding

    def encode_column(self, source: Val, column: str | None, keys: pd.Series) -> SSAValue:
        """Codes of the row's value of ``column`` of ``source`` (a frame, or a 1-D batch for
        None): its position in ``keys`` (distinct values), -1 if absent."""
        blobs = self.tracer.blobs
        assert source.ssa is not None
        if column_kind(keys) == "str":
            frame = source.ssa
            if column is None or not isinstance(frame.type, FrameType):
                raise Unsupported("str keys must come from a frame column")
            if not isinstance(frame.type.dtype_of(column), StrType):
                raise Unsupported(f"column {column!r} is not str, the table's keys are")
            return self.encode_strings(frame, column, list(keys))
        values = source.ssa
        if column is not None:
            assert values is not None and isinstance(values.type, FrameType)
            if values.type.dtype_of(column) != f64:
                raise Unsupported(f"column {column!r} is not numeric, the table's keys are")
            frame = self.tracer.emit(SelectColumnsOp(values, [column])).results[0]
            selected = source.value[[column]]  # type: ignore[index]
            values = self.tracer.estimators.as_array(Val(selected, frame)).ssa
        assert values is not None
        element = values.type.get_element_type() if isinstance(values.type, TensorType) else None
        if element not in (f64, i64):
            raise Unsupported(f"keys of type {values.type} are not compiled; numbers and str are")
        numbers = keys.to_numpy(dtype=np.float64)
        nan = np.isnan(numbers)
        nan_row = int(np.flatnonzero(nan)[0]) if nan.any() else -1
        usable = ~nan  # keys a row's value can equal
        if element == i64:
            # an i64 batch only equals integral keys in range; NaN is no i64
            usable &= (np.floor(numbers) == numbers) & (np.abs(numbers) < 2.0**63)
            numbers, nan_row = np.where(usable, numbers, 0).astype(np.int64), -1
        table, probes = feature.number_table(numbers[usable])
        # keep positions: an unusable key's place in ``keys`` holds a dummy, in no slot
        table = np.where(table >= 0, np.flatnonzero(usable)[np.maximum(table, 0)], -1)
        numbers = np.where(usable, numbers, 0)
        op = feature.LookupKeysOp(
            values,
            0,
            blobs.add("keys", numbers),
            blobs.add("slots", table),
            probes,
            nan_row,
        )
        return self.tracer.emit(op).results[0]

    def encode_strings(
        self, frame: SSAValue, column: str, keys: list[str | None], missing: int = -1,
        marker: int = MISSING_NAN,
    ) -> SSAValue:  # fmt: skip
        """Codes of the str ``column`` of ``frame``: the position of its value in ``keys``, -1
        if absent; a missing value named by ``marker`` gets code ``missing`` (a ``None`` key
        is a place no string matches, to give a missing value a code of its own)."""
        blobs = self.tracer.blobs
        encoded = [None if k is None else k.encode("utf-8", "surrogatepass") for k in keys]
        table, probes = feature.string_table(encoded)
        offsets = np.cumsum([0] + [len(k or b"") for k in encoded], dtype=np.int64)
        op = feature.EncodeStringsOp(
            frame,
            column,
            blobs.add("keys", np.frombuffer(b"".join(k or b"" for k in encoded), dtype=np.uint8)),
            blobs.add("key_offsets", offsets),
            blobs.add("slots", table),
            probes,
            missing,
            "ignore",
            marker,
        )
        return self.tracer.emit(op).results[0]

    def rows_of(self, source: Val, columns: list[str] | None, keys: pd.DataFrame) -> SSAValue:
        """The table row of each row's key (-1: none); ``keys`` are the table's key columns."""
        what = f"key {list(keys.columns)}"
        if not len(keys):
            raise Unsupported(f"the table of {what} has no rows")
        for name in keys.columns:
            _key_kind(keys[name], f"key column {name!r}")
        if keys.duplicated().any():
            raise Unsupported(f"the table has duplicate keys {what}: a merge repeats rows, "
                              "which the row-to-row compiled form cannot express")  # fmt: skip
        names = columns or [None]
        if len(names) == 1:
            return self.encode_column(source, names[0], keys.iloc[:, 0])
        codes, radix, packed = [], [], np.zeros(len(keys), dtype=np.int64)
        for name, key_name in zip(names, keys.columns, strict=True):
            distinct = pd.Series(pd.unique(keys[key_name]), dtype=keys[key_name].dtype)
            codes.append(self.encode_column(source, name, distinct))
            radix.append(len(distinct))
            position = pd.Index(distinct).get_indexer(keys[key_name])
            packed = packed * len(distinct) + position
        if np.prod([float(r) for r in radix]) >= 2.0**62:
            raise Unsupported(f"{what} has too many distinct combinations to pack")
        combined = self.tracer.emit(feature.PackCodesOp(codes, radix)).results[0]
        table, probes = feature.number_table(packed)
        blobs = self.tracer.blobs
        op = feature.LookupKeysOp(
            combined, 0, blobs.add("keys", packed), blobs.add("slots", table), probes
        )
        return self.tracer.emit(op).results[0]

    def gather(self, rows: SSAValue, table: pd.DataFrame, what: str, on_missing: str) -> SSAValue:
        values = _value_table(table, what)
        blob = self.tracer.blobs.add("table", values)
        return self.tracer.emit(feature.GatherRowsOp(rows, blob, on_missing=on_missing)).results[0]

    # endregion
    # region Calls

    def call(self, node: ast.Call, pieces: dict[int, Val], receiver: Val | None,
             args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """A merge, map or reindex with a table bound at compile time; None if it is none."""
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if receiver is None or attr is None:
            return None
        if attr == "merge" and receiver.ssa is not None and args and args[0].is_static:
            return self.merge(node, pieces, receiver, args, kwargs)
        if attr == "merge" and receiver.value is pd and len(args) > 1 and args[0].ssa is not None:
            if args[1].is_static:  # pd.merge(frame, table, ...)
                return self.merge(node, pieces, args[0], args[1:], kwargs)
        if attr == "join" and receiver.ssa is not None and len(args) == 1 and args[0].is_static:
            return self.join(node, pieces, receiver, args[0].value, kwargs)
        if attr == "map" and receiver.ssa is not None and len(args) == 1 and args[0].is_static:
            return self.map(node, pieces, receiver, args[0].value, kwargs)
        if attr == "apply" and isinstance(receiver.value, pd.Series) and receiver.ssa is not None \
                and len(args) == 1 and not kwargs and args[0].is_static \
                and (isinstance(node.args[0], ast.Lambda) or is_helper(args[0].value)):  # fmt: skip
            # s.apply(f) is s.map(f): f of each value (RowApply.map)
            return self.tracer.rows.map(node, receiver, self.tracer.evaluate(node, pieces))
        if attr == "reindex" and receiver.is_static and len(args) == 1 and not kwargs:
            if isinstance(receiver.value, pd.Series) and args[0].ssa is not None:
                return self.lookup(node, pieces, receiver.value, args[0], "fill")
        return None

    def merge(self, node: ast.Call, pieces: dict[int, Val], left: Val, args: list[Val],
              kwargs: dict[str, Val]) -> Val:  # fmt: skip
        table = args[0].value
        options = {k: v.value for k, v in kwargs.items() if v.is_static}
        keys = _merge_keys(options)
        keeps_rows = (
            isinstance(table, pd.DataFrame) and len(args) == 1 and len(options) == len(kwargs)
            and not set(options) - _MERGE_OPTIONS and options.get("how", "inner") == "left"
            and bool(keys) and set(keys) <= set(table.columns)
            and not table[keys].duplicated().any()
        )  # fmt: skip
        try:
            if len(args) != 1 or len(options) != len(kwargs):
                raise Unsupported("merge with positional options or run-time options is not "
                                  "compiled; merge(table, on=..., how='left') is")  # fmt: skip
            return self._merge(node, pieces, left, table, options, keys)
        except Unsupported as error:
            if not keeps_rows:  # pandas' rows are not the input's: the rest runs in Python
                self.rows_change = error.reason
            raise

    def _merge(self, node: ast.Call, pieces: dict[int, Val], left: Val, table: object,
               options: dict[str, Any], keys: list[str]) -> Val:  # fmt: skip
        if set(options) - _MERGE_OPTIONS:
            raise Unsupported(f"merge with {sorted(set(options) - _MERGE_OPTIONS)} is not "
                              "compiled; merge(table, on=..., how='left') is")  # fmt: skip
        if not isinstance(table, pd.DataFrame) or not isinstance(left.value, pd.DataFrame):
            raise Unsupported("merge of a frame with a table that is not a DataFrame")
        if options.get("how", "inner") != "left":
            raise Unsupported(f"merge with how={options.get('how', 'inner')!r} changes the "
                              "rows; only how='left' is compiled")  # fmt: skip
        if options.get("sort") or options.get("validate") not in (None, "m:1", "many_to_one"):
            raise Unsupported("merge with sort=True or this validate= is not compiled")
        if not keys:
            raise Unsupported("merge without on= (or with left_on/right_on) is not compiled")
        value = self.tracer.evaluate(node, pieces)
        if len(table.columns) == len(keys) and type_of(value) == left.ssa.type:  # type: ignore[union-attr]
            return Val(value, left.ssa)  # no columns to add: the frame is the left one
        return self._joined(node, pieces, left, value, keys, table[keys], table.drop(columns=keys))

    def _joined(self, node: ast.Call, pieces: dict[int, Val], left: Val, value: object,
                keys: list[str], table_keys: pd.DataFrame, table: pd.DataFrame) -> Val:  # fmt: skip
        """``left`` joined with the ``table`` row whose ``table_keys`` equal its ``keys``."""
        rows = self.rows_of(left, keys, table_keys)
        gathered = self.gather(rows, table, "the joined table's", "fill")
        result = type_of(value)
        if not isinstance(result, FrameType):
            raise Unsupported(f"the joined frame is {result}, not a frame of numbers and str")
        joined = value.dtypes.iloc[len(value.columns) - len(table.columns) :]  # type: ignore[union-attr]
        for k, (dtype, example) in enumerate(zip(table.dtypes, joined, strict=True)):
            if dtype.kind in "iub" and example.kind == "f":  # a key was missing: else int64
                self.tracer.vocab.unstable[(gathered, k)] = LOOKUP_OF_INTS
            elif dtype.kind == "f":
                self.floating.add((gathered, k))
        op = self.tracer.emit(feature.JoinOp(left.ssa, gathered, result))  # type: ignore[arg-type]
        function, _ = self.tracer._lambda(node, pieces)
        self.merges[op] = (function, ast.unparse(node))
        return Val(value, op.results[0])

    def join(self, node: ast.Call, pieces: dict[int, Val], left: Val, table: object,
             kwargs: dict[str, Val]) -> Val:  # fmt: skip
        """``frame.join(table, on=keys)``: the keys are the table's index."""
        options = {k: v.value for k, v in kwargs.items() if v.is_static}
        keys = _merge_keys(options)
        keeps_rows = (
            isinstance(table, pd.DataFrame) and len(options) == len(kwargs)
            and not set(options) - _JOIN_OPTIONS and options.get("how", "left") == "left"
            and bool(keys) and not table.index.duplicated().any()
        )  # fmt: skip
        try:
            if not keeps_rows or options.get("sort"):
                raise Unsupported("only frame.join(table, on=..., how='left') with unique table "
                                  "keys is compiled")  # fmt: skip
            assert isinstance(table, pd.DataFrame)
            index = table.index.to_frame(index=False)
            if index.shape[1] != len(keys):
                raise Unsupported(f"join on {keys} with a table index of {index.shape[1]} levels")
            value = self.tracer.evaluate(node, pieces)
            return self._joined(node, pieces, left, value, keys, index, table)
        except Unsupported as error:
            if not keeps_rows:  # pandas' rows are not the input's: the rest runs in Python
                self.rows_change = error.reason
            raise

    def map(self, node: ast.Call, pieces: dict[int, Val], series: Val, mapping: object,
            kwargs: dict[str, Val]) -> Val:  # fmt: skip
        if set(kwargs) - {"na_action"} or not all(v.is_static for v in kwargs.values()):
            raise Unsupported("Series.map with these options is not compiled")
        if isinstance(mapping, dict) and not hasattr(mapping, "__missing__"):
            mapping = pd.Series(mapping, dtype=object if not mapping else None)
        if (isinstance(node.args[0], ast.Lambda) or is_helper(mapping)) and not kwargs:
            return self.tracer.rows.map(node, series, self.tracer.evaluate(node, pieces))
        if not isinstance(mapping, pd.Series):
            raise Unsupported("Series.map of a function other than a lambda or the user's "
                              "own (or of a dict with __missing__) runs in Python; a dict or "
                              "Series is compiled")  # fmt: skip
        if kwargs and kwargs["na_action"].value == "ignore":
            mapping = mapping[mapping.index.notna()]
        return self.lookup(node, pieces, mapping, series, "fill")

    def lookup(self, node: ast.expr, pieces: dict[int, Val], table: pd.Series, keys: Val,
               on_missing: str, value: object = None) -> Val:  # fmt: skip
        """``table[key]`` per row of ``keys`` (a Series of the traced function); ``value``
        is what it gives on the example (by default, ``node`` evaluated)."""
        if value is None:
            value = self.tracer.evaluate(node, pieces)
        if not isinstance(value, pd.Series) or column_kind(value) != "f64":
            raise Unsupported("the looked-up values are not numbers")
        assert keys.ssa is not None
        column = None
        if isinstance(keys.ssa.type, FrameType):  # a str column: a one-column frame
            column = keys.ssa.type.columns[0][0]
        elif not isinstance(keys.ssa.type, TensorType) or keys.ssa.type.get_num_dims() != 1:
            raise Unsupported("lookup keys must be one column")
        index = table.index.to_frame(index=False)
        if index.shape[1] != 1:
            raise Unsupported("a table with a MultiIndex is not compiled for lookups")
        if on_missing == "python" and index.duplicated().any():  # .loc repeats their rows
            self.rows_change = "the table has duplicate keys: .loc repeats rows"
        emitted = len(self.tracer.block.ops)
        rows = self.rows_of(keys, None if column is None else [column], index)
        self.tracer.vocab.strict += [  # pandas maps a category column to a category column
            op for op in list(self.tracer.block.ops)[emitted:]
            if isinstance(op, feature.EncodeStringsOp)
        ]  # fmt: skip
        gathered = self.gather(rows, table.to_frame(), "the lookup table's", on_missing)
        looked_up = self.tracer.emit(TakeColumnOp(gathered, 0)).result
        if value.dtype == np.int64 and on_missing == "fill":  # int64 while every key is found
            if not (np.abs(table.to_numpy(dtype=np.float64)) < 2.0**53).all():
                raise Unsupported("the table's integers are not all exact in float64")
            return self.tracer._checked(CastOp(looked_up, i64, speculative=True), value)
        if value.dtype == np.bool_ and on_missing == "fill":  # bool while every key is found
            found = self.tracer.emit(CastOp(looked_up, i64, speculative=True)).result
            return self.tracer._checked(CastOp(found, i1), value)
        if on_missing == "fill" and table.dtype.kind in "iub":  # int64 where every key is found
            self.tracer.vocab.unstable[looked_up] = LOOKUP_OF_INTS
        return self.tracer._checked_result(looked_up, value)

    def subscript(self, node: ast.Subscript, pieces: dict[int, Val], base: Val,
                  index: Val) -> Val | None:  # fmt: skip
        """``table.loc[keys]`` of a Series, or ``table.loc[keys, "column"]`` of a frame."""
        indexer = base.value
        if not base.is_static or type(indexer).__name__ != "_LocIndexer":
            return None
        table = indexer.obj  # type: ignore[attr-defined]
        keys = index
        if index.items is not None and len(index.items) == 2 and index.items[1].is_static:
            keys, column = index.items
            if not isinstance(table, pd.DataFrame) or not isinstance(column.value, str):
                return None
            table = table[column.value]
        if not isinstance(table, pd.Series) or keys.ssa is None:
            return None
        return self.lookup(node, pieces, table, keys, "python")

    # endregion


def _from_join(value: SSAValue) -> bool:
    """Whether frame ``value`` is a ``feature.join`` or a selection of one."""
    while isinstance(value.owner, SelectColumnsOp):
        value = value.owner.frame
    return isinstance(value.owner, feature.JoinOp)


def materialize_joins(tracer: Tracer) -> None:
    """Give pandas' own merged frame to Python calls, the function's result and later stages.

    A ``feature.join`` frame exists only inside a kernel; where it is needed outside one, a
    ``pipeline.python_call`` right after the join runs the original ``merge`` on the left
    frame (itself materialized if it comes from a join), and those uses read its result; a
    selection of columns used there selects from that result.
    """
    ops = list(tracer.block.ops)
    stages = python_call_stages(ops)
    python: dict[SSAValue, SSAValue] = {}

    def available(value: SSAValue) -> SSAValue:
        """``value`` as a frame that exists outside native code."""
        owner = value.owner
        if value in python or not _from_join(value):
            return python.get(value, value)
        if isinstance(owner, SelectColumnsOp):
            owner.operands[0] = available(owner.frame)
            python[value] = value
            return value
        assert isinstance(owner, feature.JoinOp)
        left = available(owner.left)
        callee = tracer.callee("merge")
        reason = "the merged frame is used outside native code, so pandas computes it there"
        function, source = tracer.lookups.merges[owner]
        call = PythonCallOp(callee, [left], [value.type], reason, source)
        tracer.block.insert_op_after(call, owner)
        tracer.calls[callee] = PythonCall(
            callee, PythonFunction(function, [None], unpack=False), reason, source
        )
        tracer.notes.append(f"`{callee}`: {reason}")
        python[value] = call.results[0]
        return call.results[0]

    for op in ops:
        if not isinstance(op, (feature.JoinOp, SelectColumnsOp)) or not _from_join(op.results[0]):
            continue
        frame = op.results[0]
        outside = [
            use for use in list(frame.uses)
            if isinstance(use.operation, (PythonCallOp, func.ReturnOp))
            or stages.get(use.operation, stages[op]) != stages[op]
        ]  # fmt: skip
        if not outside:
            continue
        replacement = available(frame)
        for use in outside:
            use.operation.operands[use.index] = replacement
