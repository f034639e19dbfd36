"""Integer columns narrower than int64: int8, int16, int32, uint8, uint16 and uint32.

Native code reads such a column exactly as an i64 batch (``pipeline.to_array`` to i64; the
runtime accepts there only a column of the example's dtype). numpy computes on it in its own
width, though: ``int8 + int8`` wraps at 2^8 and stays int8, ``np.log1p`` of int8 is float16.
So an op reads the widened batch only where numpy gives what it gives on int64 values: the
op is one numpy or pandas operation (an operator, a ufunc, ``astype``, a float reduction),
which converts its operands to one loop dtype exactly, and its result on the example has
the dtype and values it has on the int64 values (``int8 * 2.5``, ``int8 > 3``, ``int8 +
int64``, ``uint32 / 7``). Otherwise the op runs in Python on the column itself.

An array of such columns (``df[cols].to_numpy()``, ``.values``: pandas' common dtype, int16
of int8 and uint8) is read alike, as one i64 batch of the columns; pandas makes the array
only for Python code that reads it. The same rule decides the ops on it (``np.hstack`` with
floats, ``astype(float)``; of int8 and int16 numpy stays int16, which runs in Python), and a
model reads it as an f64 batch where it predicts on the array as on its float64 conversion
(scikit-learn converts integers to floats of any width alike).

A batch of narrow values held as i64 (``.dt.year`` is int32 in pandas, a narrow column
widened) is wrapped to its width after an op whose result pandas gives in that width
(``dt.year - 1900``, ``dt.year * 12 + dt.month``, ``clip``, ``int32_column + 1``):
computed in i64, then ``pipeline.wrap_int``, which gives numpy's wrapped result
(:meth:`NarrowInts.wrapped`).

```mlir
%y = pipeline.cast %field speculative : tensor<?xf64> -> tensor<?xi64>       // .dt.year
%d = pipeline.binary "sub" %y, %k : (tensor<?xi64>, i64) -> tensor<?xi64>
%w = pipeline.wrap_int %d bits 32 : tensor<?xi64> -> tensor<?xi64>            // int32
```

```mlir
%c = pipeline.select_columns %df ["age"] : ... -> !pipeline.frame<"age" : f64>  // Python's
%m = pipeline.to_array %df ["age"] : !pipeline.frame<...> -> tensor<?x1xi64>     // native
%a = pipeline.take_column %m 0 : tensor<?x1xi64> -> tensor<?xi64>
%x = pipeline.to_array %df ["age"] : !pipeline.frame<...> -> tensor<?x1xf64>     // a model's
```
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import TensorType, f64, i64
from xdsl.ir import BlockArgument, SSAValue

from willump_mlir.dialects.feature import resolve_column
from willump_mlir.dialects.pipeline import (
    BinaryOp,
    FrameType,
    SelectColumnsOp,
    TakeColumnOp,
    ToArrayOp,
    UnaryOp,
    WhereOp,
    WrapIntOp,
)

from .reductions import NUMPY_REDUCTIONS
from .spec import Unsupported
from .values import Pending, Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: the integer dtypes native code reads widened to int64, exactly
NARROW_INTS = frozenset(
    np.dtype(t) for t in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32)
)

#: The signed narrow dtypes whose arithmetic ``pipeline.wrap_int`` reproduces, by width.
WRAPPED_BITS = {np.dtype(np.int8): 8, np.dtype(np.int16): 16, np.dtype(np.int32): 32}
#: The ops whose i64 result, wrapped, is numpy's narrow one: of integers, every function of
#: ``pipeline.binary`` and ``pipeline.unary`` giving integers is ``+ - *``, a division, an
#: extreme, ``abs``, ``sign`` or an identity (``floor``), and ``where`` selects.
_WRAPPED_OPS = (BinaryOp, UnaryOp, WhereOp)

#: pandas methods that are one numpy operation on their operands' values
_METHODS = frozenset({
    "add", "sub", "mul", "truediv", "div", "floordiv", "mod", "pow", "radd", "rsub", "rmul",
    "rtruediv", "rdiv", "rfloordiv", "rmod", "rpow", "lt", "le", "gt", "ge", "eq", "ne",
    "astype", "isna", "notna", "isnull", "notnull", "sum", "mean", "std", "var", "median",
})  # fmt: skip
#: numpy functions (besides ufuncs) that convert their operands to one dtype, value by value
_FUNCTIONS = (np.where, np.select, np.clip, np.column_stack, np.hstack)


def is_narrow(dtype: object) -> bool:
    """Whether ``dtype`` is an integer dtype native code reads widened to int64."""
    return isinstance(dtype, np.dtype) and dtype in NARROW_INTS


def _holds_narrow(val: Val) -> bool:
    """Whether ``val`` is a narrow integer column, or a list or tuple holding one."""
    return bool(_narrow_columns([val]))


def has_narrow(pieces: dict[int, Val]) -> bool:
    """Whether a traced sub-expression is a narrow integer column (or a list of them)."""
    return bool(_narrow_columns(pieces.values()))


def one_operation(node: ast.expr, function: object) -> bool:
    """Whether ``node`` (calling ``function``, if a call) is one numpy operation: an
    operator or comparison, a ufunc, or a method or function that converts its operands'
    values to one dtype (never the user's own function, which may compute in that width)."""
    if isinstance(node, ast.BinOp | ast.Compare | ast.UnaryOp):
        return True
    if not isinstance(node, ast.Call):
        return False
    if isinstance(function, np.ufunc) or any(function is f for f in _FUNCTIONS) \
            or function in NUMPY_REDUCTIONS:  # (of a column: its method's)  # fmt: skip
        return True
    return isinstance(node.func, ast.Attribute) and function is None \
        and node.func.attr in _METHODS  # fmt: skip


class NarrowInts:
    """Narrow integer columns: read natively widened, computed on where numpy agrees."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def column(self, frame: Val, name: str, value: pd.Series) -> Val:
        """``frame[name]`` of a narrow integer column: the frame's own column for Python
        code, its values widened to an i64 batch for native ops."""
        assert frame.ssa is not None
        carried = self.tracer.emit(SelectColumnsOp(frame.ssa, [name])).result
        source, column = resolve_column(frame.ssa, name)
        if not isinstance(source, BlockArgument) or not isinstance(column, str):
            # the runtime checks an argument's column against the example's dtype
            raise Unsupported(f"a {value.dtype} column of a frame made at run time is not "
                              "read natively (only an argument's)")  # fmt: skip
        matrix = self.tracer.emit(ToArrayOp(source, [column], i64)).result
        widened = self.tracer.emit(TakeColumnOp(matrix, 0)).result
        return Val(value, carried, narrow=widened)

    def array(self, frame: Val, value: np.ndarray, text: str) -> Val:
        """``frame.to_numpy()`` or ``.values`` (``value`` on the example, ``text`` the code)
        of narrow integer columns of a frame argument, whose common dtype ``value`` has
        (int8 and uint8 give int16): kept as the frame until Python code reads the array
        (pandas makes it then), its columns widened to an i64 batch for native ops. Each
        column converts exactly to ``value``'s dtype, so the batch holds the array's values."""
        columns = frame.items if frame.columns is not None else [frame]
        dtypes = list(frame.value.dtypes) if isinstance(frame.value, pd.DataFrame) \
            else [getattr(frame.value, "dtype", None)]  # fmt: skip
        if not all(is_narrow(d) and np.can_cast(d, value.dtype) for d in dtypes):  # type: ignore[arg-type]
            raise Unsupported(f"the array is {value.dtype} of columns of dtypes "
                              f"{', '.join(map(str, dtypes))}, which native code does not "
                              "read as such")  # fmt: skip
        if frame.narrow is not None:  # a narrow column's values
            matrix = frame.narrow
        else:
            source, names = _argument_columns(frame, columns or [])
            matrix = self.tracer.emit(ToArrayOp(source, names, i64)).result
        reason = (f"numpy computes on an array of {value.dtype} in its width: pandas makes "
                  "it for the code that reads it as it is")  # fmt: skip
        pending = Pending("to_numpy", frame, {}, _to_numpy, text, reason)
        return Val(value, pending=pending, narrow=matrix)

    def as_floats(self, est: object, method: str, x: Val) -> Val:
        """``x``, a narrow integer array, as the f64 batch ``est.method`` reads, where it
        computes on ``x`` as on its float64 conversion (scikit-learn's ``check_array`` makes
        integers float64 or float32, whatever their width; ``Unsupported`` where the results
        on the example differ, as for an estimator that keeps integers)."""
        from willump_mlir.selfcheck import difference  # (it imports the frontend)

        read = x.narrow.owner if x.narrow is not None else None
        if not isinstance(read, ToArrayOp) or not isinstance(x.value, np.ndarray):
            raise Unsupported("a model reads a matrix, not a column")
        floats = x.value.astype(np.float64)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "X does not have valid feature names")
            real, converted = getattr(est, method)(x.value), getattr(est, method)(floats)
        if difference(real, converted) is not None:  # (a model's sums: DESIGN's tolerance)
            raise Unsupported(f"{type(est).__name__}.{method} computes on {x.value.dtype} "
                              f"otherwise than on float64 (giving {_dtype(real)})")  # fmt: skip
        # read as float64 (the runtime's check of integers beyond 2^53, which a float32
        # model would round otherwise than scikit-learn), as a model reads a frame
        columns = [c.data for c in read.columns.data]
        return Val(floats, self.tracer.emit(ToArrayOp(read.frame, columns, f64)).result)

    def wrapped(self, result: SSAValue, value: object) -> SSAValue | None:
        """``result`` (of an emitted ``pipeline.binary``, ``unary`` or ``where``, an i64
        batch) wrapped to the width of ``value``, a Series of int8, int16 or int32 (pandas:
        ``dt.year - 1900``; Python code gets it in that dtype, ``fallback.Rebuild``, where
        an array would reach it as int64); None for another ``value``. numpy gives a narrow
        result only of narrow operands (an int64 one makes it int64; a Python int beyond the
        width raises), and a narrow batch held as i64 holds its values (a ``.dt`` field, or
        a result wrapped here), so ``result`` is numpy's before wrapping (see
        :data:`WrapIntOp`'s ``+ - *``; a quotient of narrow values is in the i64 range)."""
        dtype = getattr(value, "dtype", None)
        if not isinstance(value, pd.Series) or dtype not in WRAPPED_BITS \
                or not isinstance(result.owner, _WRAPPED_OPS) \
                or not isinstance(result.type, TensorType) \
                or result.type.get_element_type() != i64:  # fmt: skip
            return None
        return self.tracer.emit(WrapIntOp(result, WRAPPED_BITS[dtype])).result  # type: ignore[index]

    def lower(self, node: ast.expr, pieces: dict[int, Val],
              build: Callable[[], Val | None]) -> Val | None:  # fmt: skip
        """``build()`` of ``node`` with its narrow pieces widened to int64, standing for its
        value on the example if numpy computes that alike (``Unsupported`` if not)."""
        real = self.tracer.evaluate(node, pieces)
        narrow = {k: v for k, v in pieces.items() if _holds_narrow(v)}
        pieces.update({k: widened(v) for k, v in narrow.items()})
        try:
            on_int64 = self.tracer.evaluate(node, pieces)
            wraps = _wraps(real, on_int64)  # int32 + 1: int32, of int64 values wrapped
            val = build() if wraps or _same(real, on_int64) else None
        finally:
            pieces.update(narrow)
        if wraps and val is not None and val.ssa is not None and val.narrow is None \
                and val.items is None:  # fmt: skip
            wrapped = self.wrapped(val.ssa, real)
            if wrapped is None:
                raise Unsupported(f"numpy computes on {_dtype(real)} in its width, which this "
                                  "op does not wrap to natively")  # fmt: skip
            return Val(real, wrapped)
        if not _same(real, on_int64):
            columns = _narrow_columns(narrow.values())
            dtypes = ", ".join(sorted({str(v.value.dtype) for v in columns}))  # type: ignore[attr-defined]
            raise Unsupported(
                f"numpy computes on {dtypes} otherwise than on int64 (giving "
                f"{_dtype(real)} where int64 gives {_dtype(on_int64)}): it wraps or keeps "
                "the narrow width"
            )
        if val is None or val.ssa is None or val.narrow is not None or val.items is not None:
            return None
        return Val(real, val.ssa)


def widened(val: Val) -> Val:
    """A narrow column or array as an int64 one of the same values (and index); a list or
    tuple with its narrow columns so."""
    if val.narrow is not None:
        return Val(val.value.astype(np.int64), val.narrow)  # type: ignore[attr-defined]
    if not _holds_narrow(val):
        return val
    items = [widened(i) for i in val.items or ()]
    return Val(type(val.value)(i.value for i in items), items=items)  # type: ignore[call-arg]


def _argument_columns(frame: Val, columns: list[Val]) -> tuple[SSAValue, list[str]]:
    """The frame argument and the names of its narrow columns ``frame`` (a selection of it,
    or an assembled frame of ``columns``) is of (``Unsupported`` for another frame)."""
    places = []
    if frame.ssa is not None and isinstance(frame.ssa.type, FrameType):
        places = [resolve_column(frame.ssa, n) for n, _ in frame.ssa.type.columns]
    elif all(c.narrow is not None and isinstance(c.narrow.owner, TakeColumnOp) for c in columns):
        read = [c.narrow.owner.input.owner for c in columns]  # type: ignore[union-attr]
        if all(isinstance(r, ToArrayOp) for r in read):
            places = [(r.frame, r.columns.data[0].data) for r in read]  # type: ignore[union-attr]
    if not places or len({s for s, _ in places}) != 1 \
            or not isinstance(places[0][0], BlockArgument) \
            or not all(isinstance(c, str) for _, c in places):  # fmt: skip
        raise Unsupported("an array of narrow integer columns of a frame made at run time is "
                          "not read natively (only of an argument's columns)")  # fmt: skip
    return places[0][0], [c for _, c in places]  # type: ignore[misc]


def _to_numpy(frame: pd.DataFrame | pd.Series) -> np.ndarray:
    return frame.to_numpy()


def _narrow_columns(pieces: Iterable[Val]) -> list[Val]:
    """The narrow columns among ``pieces`` and the items of their lists and tuples."""
    found, todo = [], list(pieces)
    while todo:
        val = todo.pop()
        if val.narrow is not None:
            found.append(val)
        elif isinstance(val.value, list | tuple):
            todo += val.items or []
    return found


def _dtype(value: object) -> str:
    return str(getattr(value, "dtype", type(value).__name__))


def _wraps(real: object, widened: object) -> bool:
    """Whether ``real`` is a Series of a signed narrow dtype whose values are those of the
    int64 Series ``widened`` wrapped to that width (numpy keeps ``int32 + 1`` int32)."""
    if not isinstance(real, pd.Series) or not isinstance(widened, pd.Series) \
            or real.dtype not in WRAPPED_BITS or widened.dtype != np.int64:  # fmt: skip
        return False
    return _same(real, widened.astype(real.dtype))


def _same(real: object, widened: object) -> bool:
    """Whether ``real`` and ``widened`` are the same value of the same dtype (NaN equal)."""
    if type(real) is not type(widened):
        return False
    if isinstance(real, pd.Series):
        assert isinstance(widened, pd.Series)
        return real.dtype == widened.dtype and real.name == widened.name \
            and real.index.equals(widened.index) and real.equals(widened)  # fmt: skip
    if isinstance(real, np.ndarray):
        assert isinstance(widened, np.ndarray)
        if real.dtype != widened.dtype or real.shape != widened.shape:
            return False
        return bool(np.array_equal(real, widened, equal_nan=real.dtype.kind == "f"))
    if isinstance(real, np.generic):
        return bool(real == widened or (real != real and widened != widened))  # noqa: PLR0124
    return False
