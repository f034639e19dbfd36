"""Integer columns narrower than int64: int8, int16, int32, uint8, uint16 and uint32.

Native code reads such a column exactly as an i64 batch (``pipeline.to_array`` to i64; the
runtime accepts there only a column of the example's dtype). numpy computes on it in its own
width, though: ``int8 + int8`` wraps at 2^8 and stays int8, ``np.log1p`` of int8 is float16.
So an op reads the widened batch only where numpy gives what it gives on int64 values: the
op is one numpy or pandas operation (an operator, a ufunc, ``astype``, a float reduction),
which converts its operands to one loop dtype exactly, and its result on the example has
the dtype and values it has on the int64 values (``int8 * 2.5``, ``int8 > 3``, ``int8 +
int64``, ``uint32 / 7``). Otherwise the op runs in Python on the column itself.

```mlir
%c = pipeline.select_columns %df ["age"] : ... -> !pipeline.frame<"age" : f64>  // Python's
%m = pipeline.to_array %df ["age"] : !pipeline.frame<...> -> tensor<?x1xi64>     // native
%a = pipeline.take_column %m 0 : tensor<?x1xi64> -> tensor<?xi64>
```
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import i64
from xdsl.ir import BlockArgument

from willump_mlir.dialects.feature import resolve_column
from willump_mlir.dialects.pipeline import SelectColumnsOp, TakeColumnOp, ToArrayOp

from .spec import Unsupported
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: the integer dtypes native code reads widened to int64, exactly
NARROW_INTS = frozenset(
    np.dtype(t) for t in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32)
)

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
    if isinstance(function, np.ufunc) or any(function is f for f in _FUNCTIONS):
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

    def lower(self, node: ast.expr, pieces: dict[int, Val],
              build: Callable[[], Val | None]) -> Val | None:  # fmt: skip
        """``build()`` of ``node`` with its narrow pieces widened to int64, standing for its
        value on the example if numpy computes that alike (``Unsupported`` if not)."""
        real = self.tracer.evaluate(node, pieces)
        narrow = {k: v for k, v in pieces.items() if _holds_narrow(v)}
        pieces.update({k: _widened(v) for k, v in narrow.items()})
        try:
            val = build()
            widened = self.tracer.evaluate(node, pieces)
        finally:
            pieces.update(narrow)
        if val is None or val.ssa is None or val.narrow is not None or val.items is not None:
            return None
        if not _same(real, widened):
            columns = _narrow_columns(narrow.values())
            dtypes = ", ".join(sorted({str(v.value.dtype) for v in columns}))  # type: ignore[attr-defined]
            raise Unsupported(
                f"numpy computes on {dtypes} otherwise than on int64 (giving "
                f"{_dtype(real)} where int64 gives {_dtype(widened)}): it wraps or keeps "
                "the narrow width"
            )
        return Val(real, val.ssa)


def _widened(val: Val) -> Val:
    """A narrow column as an int64 column of the same values (and index); a list or tuple
    with its narrow columns so."""
    if val.narrow is not None:
        return Val(val.value.astype(np.int64), val.narrow)  # type: ignore[attr-defined]
    if not _holds_narrow(val):
        return val
    items = [_widened(i) for i in val.items or ()]
    return Val(type(val.value)(i.value for i in items), items=items)  # type: ignore[call-arg]


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
