"""String columns compared with constants, natively, as pandas compares them.

A string column during tracing is a one-column ``!pipeline.frame<"c" : !pipeline.str>``
whose example is a pandas Series of str (None/NaN for missing): a column of a frame
argument, or a string value computed by another op. Each comparison with constants is the
column's code in a small constant vocabulary (``feature.encode_strings``, the hash lookup
``TableLookups.encode_strings`` emits) compared with a constant:

```mlir
%c = feature.encode_strings %s "origin" bytes <...> offsets <...> table <...> probes 1
       missing -1 on_unknown ignore : !pipeline.frame<"origin" : !pipeline.str> -> tensor<?x1xi64>
%v = pipeline.take_column %c [0] : tensor<?x1xi64> -> tensor<?xi64>
%m = pipeline.binary "eq" %v, %zero : (tensor<?xi64>, i64) -> tensor<?xi1>
```

* ``s == "x"``, ``"x" == s``, ``s.eq("x")``: the code of the vocabulary ``["x"]`` is 0; ``!=``
  and ``.ne`` its negation. A missing value (None, NaN, pd.NA) is equal to nothing, so
  ``s != "x"`` is True there, as in pandas.
* ``s.isin(values)``: the code among the strings of ``values`` is not -1. A NaN among the
  values matches NaN (pandas' hash table does; the code of NaN rows is then a category of
  its own), never None: an object column tells them apart. Other values (numbers) never
  equal a str. None or pd.NA among the values runs in Python: a ``str``-dtype column
  matches them to NaN, an object column does not, and the compiled code does not know the
  dtype a later call passes.
* ``s.isna()`` / ``s.notna()`` (and ``isnull``/``notnull``): whether the row's value is
  missing, None and NaN alike (``marker 3``).
* ``s.fillna("text")`` is read as ``s`` by the comparisons above: a missing value has the
  code of ``"text"``. Read otherwise (a text vectorizer, ``.str``), it is the native column
  ``pipeline.str_fill`` (``frontend.strings``).
* ``.replace(dict)`` of a string column to ints is a speculative ``.map`` read only where
  its dtype (object, in pandas) cannot show; other replacements run in Python.
* ``pd.get_dummies(df[cols] | s, prefix=..., columns=..., dtype=...)`` followed by
  ``.reindex(columns=train_columns, fill_value=0)``: each train column ``"a_v"`` is
  ``a == "v"`` (missing and unknown values give 0), a column get_dummies passes through
  (numbers) is itself, any other is ``fill_value``. Without the reindex, get_dummies has
  columns that depend on the batch's values: it runs in Python with that reason.

pandas gives such a dummy column the dtype ``bool`` where the value occurs in the batch and
``int64`` (the fill) where it does not: the dtype depends on the batch. The compiled code
reads these columns only where the dtype does not matter (a model, ``to_numpy(dtype=float)``);
any other use of them (a column of the frame, the frame in Python or returned) runs in
Python, where pandas computes them (``check_stable``).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import f64, i1, i64
from xdsl.ir import Operation, SSAValue

from willump_mlir.abi import MISSING_ANY, MISSING_NAN
from willump_mlir.dialects.pipeline import (
    BinaryOp,
    CastOp,
    ConstantOp,
    FrameType,
    StrFillOp,
    StrType,
    TakeColumnOp,
)

from .nullable import is_native
from .spec import Unsupported
from .types import column_kind
from .values import Pending, Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: ``get_dummies(dtype=...)`` compiled: the element type of the dummy columns.
_DUMMY_TYPES = {np.dtype(np.bool_): i1, np.dtype(np.float64): f64, np.dtype(np.int64): i64}
_DUMMY_OPTIONS = {"prefix", "prefix_sep", "dummy_na", "columns", "sparse", "drop_first", "dtype"}
#: Static containers ``isin`` takes its values from.
_VALUE_LISTS = (list, tuple, set, frozenset, np.ndarray, pd.Index, pd.Series)
_MISSING_CALLS = {"isna": False, "isnull": False, "notna": True, "notnull": True}


def string_column(val: Val) -> tuple[SSAValue, str] | None:
    """The one-column str frame and its column name of a pandas Series of str, or None."""
    typ = val.ssa.type if val.ssa is not None else None
    if not isinstance(val.value, pd.Series) or not isinstance(typ, FrameType):
        return None
    if len(typ.columns) != 1 or not isinstance(typ.columns[0][1], StrType):
        return None
    if column_kind(val.value) != "str":
        return None
    assert val.ssa is not None
    return val.ssa, typ.columns[0][0]


def _filled(val: Val) -> tuple[Val, str | None] | None:
    """The string column of ``val`` and the str its missing values are filled with
    (``fillna``), or None if ``val`` is no string column."""
    pending = val.pending
    if pending is not None and pending.kind == "fillna":
        return pending.source, pending.options["value"]  # type: ignore[return-value]
    return (val, None) if string_column(val) is not None else None


def _fill(column: pd.Series, fill: object) -> pd.Series:
    """``column.fillna(fill)`` (module level: pickles refer to it by this name)."""
    return column.fillna(fill)


def _is_nan(value: object) -> bool:
    return isinstance(value, (float, np.floating)) and value != value


def _encoded(val: Val) -> bool:
    """A string column that get_dummies encodes as bool dummies: of dtype object or str (a
    string dtype with pd.NA gives nullable ones)."""
    dtype = getattr(val.value, "dtype", None)
    return string_column(val) is not None and (
        isinstance(dtype, np.dtype) or _is_nan(getattr(dtype, "na_value", None))
    )


class StringVocab:
    """Comparisons of string columns with constants and ``get_dummies``, for one ``Tracer``."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer
        #: values whose pandas dtype depends on the batch (see the module docstring): dummy
        #: columns, lookups of ints (``frontend.stability``; a join's as (values, position)),
        #: and what each is, for the reason a statement runs in Python
        self.unstable: dict[Hashable, str] = {}
        #: matrices whose dtype the code fixes (``to_numpy(dtype=float)``) whatever the
        #: dtypes of their columns
        self.fixed: set[SSAValue] = set()
        #: the ``feature.encode_strings`` ops of a native ``fillna(str)`` or lookup (``.map``,
        #: ``replace``), which pandas refuses on a category column or makes a category
        self.strict: list[Operation] = []

    # region Codes

    def codes(self, val: Val, keys: list[str | None], missing: int = -1,
              marker: int = MISSING_NAN) -> SSAValue:  # fmt: skip
        """The 1-D i64 code of each row of the string column ``val`` in ``keys``; a missing
        value of ``val.fillna(fill)`` is ``fill``."""
        filled = _filled(val)
        assert filled is not None
        source, fill = filled
        if fill is not None:
            missing, marker = (keys.index(fill), MISSING_ANY) if fill in keys else (-1, marker)
        found = string_column(source)
        assert found is not None
        encoded = self.tracer.lookups.encode_strings(*found, keys, missing, marker)
        if fill is not None:
            self.strict.append(encoded.owner)  # type: ignore[arg-type]
        return self.tracer.emit(TakeColumnOp(encoded, 0)).result

    def _compare(self, kind: str, codes: SSAValue, code: int) -> SSAValue:
        constant = self.tracer.emit(ConstantOp(code)).result
        return self.tracer.emit(BinaryOp(kind, codes, constant)).result

    def equal(self, val: Val, text: str, equal: bool) -> SSAValue:
        """``val == text`` (``equal``) or ``val != text``: a batch of booleans."""
        return self._compare("eq" if equal else "ne", self.codes(val, [text]), 0)

    def missing(self, val: Val, present: bool) -> SSAValue:
        """``val.notna()`` (``present``) or ``val.isna()``: None, NaN and pd.NA are missing."""
        codes = self.codes(val, [None], missing=0, marker=MISSING_ANY)
        return self._compare("ne" if present else "eq", codes, 0)

    def isin(self, val: Val, values: list[object]) -> SSAValue:
        """``val.isin(values)``: its str values, and NaN if NaN is one of them."""
        if any(v is None or v is pd.NA for v in values):
            raise Unsupported("isin with None or pd.NA among the values is not compiled: a "
                              "str-dtype column matches them to NaN, an object column does "
                              "not")  # fmt: skip
        strings = list(dict.fromkeys(v for v in values if isinstance(v, str)))
        nan = any(_is_nan(v) for v in values) and val.pending is None  # fillna left no NaN
        if not strings and not nan:
            raise Unsupported("isin without a str (or NaN) among the values is not compiled")
        keys: list[str | None] = [*strings, None] if nan else list(strings)
        codes = self.codes(val, keys, missing=len(strings) if nan else -1)
        return self._compare("ge", codes, 0)

    # endregion
    # region Tracing

    def compare(self, function: str, lhs: Val, rhs: Val, value: object) -> Val | None:
        """``s == "x"``, ``"x" == s``, ``!=``; None if neither side is a string column
        compared with a str."""
        if function not in ("eq", "ne"):
            return None
        column, text = (lhs, rhs) if _filled(lhs) is not None else (rhs, lhs)
        if _filled(column) is None or not (text.is_static and isinstance(text.value, str)):
            return None
        return self.tracer._checked_result(self.equal(column, text.value, function == "eq"), value)

    def call(self, node: ast.Call, pieces: dict[int, Val], receiver: Val | None,
             function: object, args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``eq``/``ne``/``isin``/``isna``/``notna`` of a string column, ``pd.get_dummies``
        and ``.reindex`` of its result; None for other calls."""
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if function is pd.get_dummies:
            return self.get_dummies(node, pieces, args, kwargs)
        if receiver is None:
            return None
        pending = receiver.pending
        if pending is not None and pending.kind == "get_dummies" and attr == "reindex":
            return self.reindex(node, pieces, receiver, args, kwargs)
        if _filled(receiver) is None:
            return None
        if attr == "replace":
            return self.replace(node, pieces, receiver, args, kwargs)
        if attr == "fillna" and len(args) == 1 and not kwargs and pending is None \
                and args[0].is_static and isinstance(args[0].value, str):  # fmt: skip
            value = self.tracer.evaluate(node, pieces)
            return self.fillna(receiver, args[0].value, value, ast.unparse(node))
        if attr in ("eq", "ne") and len(args) == 1 and not kwargs:
            return self.compare(attr, receiver, args[0], self.tracer.evaluate(node, pieces))
        if attr == "isin" and (len(args) == 1) != ("values" in kwargs) and len(kwargs) <= 1:
            values = args[0] if args else kwargs["values"]
            if not values.is_static or not isinstance(values.value, _VALUE_LISTS):
                return None
            found = self.isin(receiver, list(values.value))
            return self.tracer._checked_result(found, self.tracer.evaluate(node, pieces))
        if attr in _MISSING_CALLS and not args and not kwargs and pending is None:
            found = self.missing(receiver, _MISSING_CALLS[attr])
            return self.tracer._checked_result(found, self.tracer.evaluate(node, pieces))
        return None

    def replace(self, node: ast.Call, pieces: dict[int, Val], column: Val, args: list[Val],
                kwargs: dict[str, Val]) -> Val:  # fmt: skip
        """``s.replace({"a": 0, ...})`` of a string column to ints: pandas gives dtype object
        (unmatched strings and missing values stay), so it is the ``.map`` of the same dict,
        speculative (a batch with a value it does not match runs the original function) and
        read natively only where its dtype cannot show (``check_stable``: a model, a float
        matrix)."""
        mapping = args[0].value if len(args) == 1 and not kwargs and args[0].is_static else None
        if column.pending is not None or not isinstance(mapping, dict) or not mapping or not all(
            isinstance(k, str) and isinstance(v, int | np.integer) and not isinstance(v, bool)
            for k, v in mapping.items()
        ):  # fmt: skip
            raise Unsupported("replace on a string column runs in Python unless it maps str "
                              "to ints: pandas keeps dtype object (unmatched strings stay)")
        value = self.tracer.evaluate(node, pieces)
        as_map = column.value.map(mapping)  # type: ignore[union-attr]
        if not isinstance(value, pd.Series) or as_map.dtype != np.int64:
            raise Unsupported("replace leaves a value of the example unmatched (pandas keeps "
                              "the string)")  # fmt: skip
        mapped = self.tracer.lookups.lookup(node, pieces, pd.Series(mapping), column, "fill",
                                            as_map)  # fmt: skip
        assert mapped.ssa is not None
        self.unstable[mapped.ssa] = ("replace of str by ints (int64 where every value is "
                                     "matched, else float64)")
        return Val(value, mapped.ssa)

    # endregion
    # region get_dummies

    def fillna(self, column: Val, fill: str, value: object, source: str) -> Val:
        """``s.fillna("text")`` (the code ``source``, whose example result is ``value``) of
        a string column: a ``pipeline.str_fill`` column that vectorizers and ``.str``
        methods read, kept as the column where a comparison reads it (its missing values
        then compare as ``fill``, with no new strings)."""
        if not isinstance(value, pd.Series) or column_kind(value) != "str":
            raise Unsupported("fillna of this column does not give a column of str")
        filled = functools.partial(_fill, fill=fill)
        assert column.ssa is not None
        native = self.tracer.strings._column(StrFillOp(column.ssa, fill), value, filled, source)
        pending = Pending("fillna", column, {"value": fill}, filled, source, "")
        return Val(value, native.ssa, pending=pending)

    def get_dummies(self, node: ast.Call, pieces: dict[int, Val], args: list[Val],
                    kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``pd.get_dummies(data, ...)`` of a frame or a string column, kept as its source
        until a ``.reindex(columns=...)`` gives it columns known at compile time."""
        if len(args) != 1 or set(kwargs) - _DUMMY_OPTIONS:
            return None
        if not all(v.is_static for v in kwargs.values()):
            raise Unsupported("pd.get_dummies with options computed at run time is not compiled")
        options = {k: v.value for k, v in kwargs.items()}
        source = args[0]
        frame = isinstance(source.value, pd.DataFrame) and (
            source.columns is not None or isinstance(getattr(source.ssa, "type", None), FrameType)
        )
        if not frame and string_column(source) is None:
            return None
        value = self.tracer.evaluate(node, pieces)
        build = functools.partial(pd.get_dummies, **options)
        reason = "pd.get_dummies without .reindex(columns=...) has columns that depend on " \
            "the batch's values"  # fmt: skip
        pending = Pending("get_dummies", source, options, build, ast.unparse(node), reason)
        return Val(value, pending=pending)

    def _dummy_prefixes(self, dummies: Pending) -> tuple[dict[str, Val], dict[str, Val]]:
        """The columns pandas passes through, by name, and the string columns it encodes, by
        the prefix of their dummy columns (``"prefix" + "_"``)."""
        options, source = dummies.options, dummies.source
        if options.get("dummy_na", False) or options.get("drop_first", False) \
                or options.get("sparse", False):  # fmt: skip
            raise Unsupported("pd.get_dummies with dummy_na, drop_first or sparse is not "
                              "compiled")  # fmt: skip
        selected = options.get("columns")
        sep, prefix = options.get("prefix_sep", "_"), options.get("prefix")
        if not isinstance(sep, str):
            raise Unsupported("pd.get_dummies with a prefix_sep that is not a str is not compiled")
        if not isinstance(source.value, pd.DataFrame):  # a string column
            if not _encoded(source) or selected is not None:
                raise Unsupported("pd.get_dummies of a column of this dtype is not compiled")
            if prefix is None:
                return {}, {"": source}  # the values themselves name the columns
            if not isinstance(prefix, str):
                raise Unsupported("pd.get_dummies of a Series with this prefix is not compiled")
            return {}, {prefix + sep: source}
        frame = self.tracer.frames.columns_of(source)
        assert frame.columns is not None and frame.items is not None
        if selected is not None and (not isinstance(selected, list)
                                     or not set(selected) <= set(frame.columns)):  # fmt: skip
            return {}, {}  # pandas raises: so does the Python call
        passed, encoded = {}, []
        for name, item in zip(frame.columns, frame.items, strict=True):
            chosen = name in selected if selected is not None else _encoded(item)
            if chosen and _encoded(item):
                encoded.append((name, item))
            elif not chosen and (selected is not None or item.value.dtype.kind in "biuf"):  # type: ignore[union-attr]
                passed[name] = item  # columns= passes every other column through
            else:
                raise Unsupported(f"pd.get_dummies of column {name!r} is not compiled")
        if selected is not None:  # pandas encodes them in the order columns= names them
            encoded.sort(key=lambda pair: selected.index(pair[0]))
        if isinstance(prefix, str):
            prefixes = [prefix] * len(encoded)
        elif isinstance(prefix, list) and len(prefix) == len(encoded):
            prefixes = prefix
        elif isinstance(prefix, dict):
            prefixes = [prefix.get(name, name) for name, _ in encoded]
        elif prefix is None:
            prefixes = [name for name, _ in encoded]
        else:
            return {}, {}  # pandas raises: so does the Python call
        if not all(isinstance(p, str) for p in prefixes):
            raise Unsupported("pd.get_dummies with a prefix that is not a str is not compiled")
        by_prefix = {p + sep: item for p, (_, item) in zip(prefixes, encoded, strict=True)}
        starts = list(by_prefix)
        if len(starts) != len(encoded) or any(
            a != b and a.startswith(b) for a in starts for b in starts
        ) or any(n.startswith(s) for n in passed for s in starts):  # fmt: skip
            raise Unsupported("pd.get_dummies whose column names could come from more than one "
                              "column is not compiled")  # fmt: skip
        return passed, by_prefix

    def reindex(self, node: ast.Call, pieces: dict[int, Val], receiver: Val, args: list[Val],
                kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``pd.get_dummies(...).reindex(columns=train_columns, fill_value=0)``."""
        dummies = receiver.pending
        assert dummies is not None
        if args or set(kwargs) - {"columns", "fill_value"} or "columns" not in kwargs:
            return None
        if not all(v.is_static for v in kwargs.values()):
            raise Unsupported("reindex with columns computed at run time is not compiled")
        names, fill = kwargs["columns"].value, kwargs.get("fill_value", Val(np.nan)).value
        if not isinstance(names, (list, tuple, pd.Index)) or not all(
            isinstance(n, str) for n in names
        ) or len(set(names)) != len(names):  # fmt: skip
            raise Unsupported("reindex to columns that are not distinct str is not compiled")
        if isinstance(fill, (bool, np.bool_)) or not isinstance(fill, (int, float, np.integer,
                                                                       np.floating)):  # fmt: skip
            raise Unsupported("reindex with a fill_value that is not a number is not compiled")
        dtype = dummies.options.get("dtype")
        try:
            element = _DUMMY_TYPES.get(np.dtype(bool if dtype is None else dtype))
        except TypeError:
            element = None
        if element is None:
            raise Unsupported(f"pd.get_dummies(dtype={dtype!r}) is not compiled")
        passed, by_prefix = self._dummy_prefixes(dummies)
        if not by_prefix and not passed:
            return None
        value = self.tracer.evaluate(node, pieces)
        assert isinstance(value, pd.DataFrame)
        # the train columns each encoded column gives: {prefix: {value: column name}}
        wanted: dict[str, dict[str, str]] = {p: {} for p in by_prefix}
        for name in names:
            for start in by_prefix:
                if name.startswith(start) and name not in passed:
                    wanted[start][name[len(start) :]] = name
        columns: dict[str, SSAValue] = {}
        for start, found in wanted.items():
            if not found:
                continue
            codes = self.codes(by_prefix[start], list(found))
            for k, name in enumerate(found.values()):
                column = self._compare("eq", codes, k)
                if element != i1:
                    column = self.tracer.emit(CastOp(column, element)).result
                self.unstable[column] = "get_dummies columns (bool or int64)"
                columns[name] = column
        items = []
        rows: SSAValue | None = None
        for name in names:
            if name in passed:
                items.append(passed[name])
                continue
            if name not in columns:
                if rows is None:
                    rows = self.missing(next(iter(by_prefix.values())), True) if by_prefix \
                        else self._rows(next(iter(passed.values())))  # fmt: skip
                integer = isinstance(fill, (int, np.integer))
                if integer and not -(2**63) <= int(fill) < 2**63:
                    raise Unsupported(f"fill_value {fill} does not fit in int64")
                constant = self.tracer.emit(ConstantOp(int(fill) if integer else float(fill)))
                columns[name] = self.tracer._constant_batch(constant.result, rows)
            items.append(Val(value[name], columns[name]))
        return Val(value, items=items, columns=list(names))

    def _rows(self, column: Val) -> SSAValue:
        """A batch of booleans with the rows of the numeric column ``column``."""
        assert column.ssa is not None
        return self.tracer.emit(BinaryOp("eq", column.ssa, column.ssa)).result

    def materialize(self, val: Val) -> Val:
        """``pd.get_dummies(...)`` used otherwise than natively: pandas runs it; ``fillna``
        is its native column."""
        pending = val.pending
        assert pending is not None
        if pending.kind == "fillna":
            return Val(val.value, val.ssa)
        if is_native(val):  # a nullable value computed natively: pandas wraps it
            return self.tracer.nullable.materialize(val)
        return self.tracer.python_op(
            pending.kind, pending.build, [self.tracer.materialize(pending.source)],
            pending.reason, pending.text,
        )  # fmt: skip

    def check_stable(self, items: list[Val] | None, use: str) -> None:
        """``Unsupported`` if ``use`` of these columns of an assembled frame would see dummy
        columns whose pandas dtype depends on the batch."""
        if any(item.ssa in self.unstable for item in items or []):
            raise Unsupported(f"{use} of columns whose pandas dtype depends on the batch is "
                              "not compiled (a lookup of ints, .map or replace: int64 where "
                              "every key is found, else float64; get_dummies columns: bool "
                              "where the value occurs, else the fill value's int64)")  # fmt: skip

    # endregion
