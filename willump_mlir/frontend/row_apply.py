"""Row-wise ``frame.apply(f, axis=1)`` of arithmetic on the row's fields, as column code
(and ``Series.map(f)``).

pandas calls ``f`` once per row with the row as a Series of the frame's common dtype: of a
frame of int64 and float64 columns, float64 (numpy's ``float64`` scalars) if one column is
float64, else int64 (``int64`` scalars). numpy's scalar arithmetic is its array arithmetic
(``1 / 0.0`` is inf, int64 wraps, ``x // 0`` of ints is 0), except that ``x ** 0.5`` is
``pow``, not ``sqrt``: ``f``'s body is traced once over the columns, as ``pipeline.binary``
(``power`` as ``pow``), ``where`` and casts. Compiled: ``r["c"]``/``r.c``, numbers, ``+ - *
/ // % **`` (not an integer power), unary ``-``/``+``, comparisons, ``and``/``or``/``not``,
``a if c else b``, ``abs``, ``min``/``max`` (Python's: the first of equal values, NaN kept
only in first place), the user's functions of such values (inlined), and names bound to
numbers; ``f`` a lambda, or a function whose body
is assignments, ``if`` statements whose branch returns, and ``return``. Anything else runs
the whole ``apply`` in Python.

``s.map(f)`` and ``s.apply(f)`` of a float64 Series are traced alike, ``f``'s one parameter
bound to the column: pandas passes each value as a Python float, whose arithmetic is
numpy's float64 arithmetic but where Python raises: ``/`` by zero (ZeroDivisionError: a row
with a zero divisor runs the original, which raises), ``//``, ``%`` and ``**`` (not
compiled). Of an int64 Series, Python ints: compared, chosen between (``1 if c == 3 else
0``) and made floats (``c * 0.5``), not computed on (they do not wrap, ``_Elements``).

The result's dtype is that of the values ``f`` returns: float64, int64 or bool (float64 for
an empty batch, which runs the original function); where some rows return a float and others
an int, float64, but int64 if every row returns an int: such a result is ``unstable``
(``stability.check_results``: native only where a model, a comparison or float arithmetic
reads it). The rows' dtype depends on every column's dtype: the frame's argument columns must
have the example's dtype (``ArgumentSpec.dtypes``), and no column may be unstable itself.
"""

from __future__ import annotations

import ast
import builtins
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import TensorType, f64, i1, i64
from xdsl.ir import BlockArgument, Operation, SSAValue

from willump_mlir.dialects.feature import resolve_column
from willump_mlir.dialects.pipeline import (
    BinaryOp,
    CastOp,
    ConstantOp,
    PythonCallOp,
    ToArrayOp,
    UnaryOp,
    WhereOp,
    vector_of,
)

from .frames import is_frame
from .inlining import helper, is_helper
from .spec import ArgumentSpec, Unsupported
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: ``pipeline.binary`` functions of Python's arithmetic operators on numpy scalars.
_ARITHMETIC: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floor_divide",
    ast.Mod: "remainder", ast.Pow: "power",
}  # fmt: skip
_COMPARE: dict[type, str] = {
    ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne",
}  # fmt: skip
#: Python's operators, to fold operands known at compile time.
_FOLD: dict[type, Any] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne,
}  # fmt: skip
#: The element type of each kind of scalar: float64, int64, bool.
_ELEMENTS = {"f": f64, "i": i64, "b": i1}


@dataclass
class Scalar:
    """A per-row value of the row function: a batch ``ssa`` (one value a row) or a number
    ``value`` known at compile time; ``kind`` is the type of the value a row sees (``f``:
    float, ``i``: int, ``b``: bool, ``fi``: an int on some rows and a float on others)."""

    kind: str
    ssa: SSAValue | None = None
    value: object = None


def _static(value: object) -> Scalar:
    """A number known at compile time (``Unsupported`` for other values)."""
    if isinstance(value, bool | np.bool_):
        return Scalar("b", value=bool(value))
    if isinstance(value, int | np.integer):
        return Scalar("i", value=value)
    if isinstance(value, float | np.floating):
        return Scalar("f", value=value)
    raise Unsupported(f"a row function using the value {type(value).__name__} is not compiled "
                      "(numbers only)")  # fmt: skip


class RowApply:
    """``frame.apply(f, axis=1)`` traced as column code (see the module docstring)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer
        # (the apply's result, argument columns whose dtype the rows' dtype depends on)
        self.dtyped: list[tuple[SSAValue, set[tuple[int, str | None]]]] = []

    @staticmethod
    def applies(node: ast.Call) -> bool:
        """Whether ``node`` is ``X.apply(f, axis=1)`` (or ``axis="columns"``)."""
        return isinstance(node.func, ast.Attribute) and node.func.attr == "apply" and any(
            k.arg == "axis" and isinstance(k.value, ast.Constant)
            and k.value.value in (1, "columns") for k in node.keywords
        )  # fmt: skip

    def apply(self, node: ast.Call) -> Val:
        """The row-wise apply ``node`` natively, or in Python with the reason."""
        tracer = self.tracer
        assert isinstance(node.func, ast.Attribute)
        receiver = tracer.lower(node.func.value)
        pieces = {id(node.func.value): receiver}
        mark = tracer.mark()
        try:
            return self._apply(node, receiver, pieces)
        except Unsupported as error:
            tracer.rollback(mark)
            return tracer.opaque(node, error.reason, pieces)

    def _apply(self, node: ast.Call, receiver: Val, pieces: dict[int, Val]) -> Val:
        if not is_frame(receiver):
            raise Unsupported("apply(axis=1) of a value that is not a native frame")
        if len(node.args) != 1 or [k.arg for k in node.keywords] != ["axis"]:
            raise Unsupported("apply(axis=1) is compiled with one function and no other "
                              "options (raw, result_type, args)")  # fmt: skip
        frame = receiver.value
        assert isinstance(frame, pd.DataFrame)
        dtypes = set(frame.dtypes)
        if not dtypes <= {np.dtype(np.int64), np.dtype(np.float64)}:
            others = sorted(str(d) for d in dtypes - {np.dtype(np.int64), np.dtype(np.float64)})
            raise Unsupported(f"the rows of a frame with {', '.join(others)} columns are not "
                              "int64 or float64 numbers: apply(axis=1) runs in Python")  # fmt: skip
        assembled = self.tracer.frames.columns_of(receiver)
        assert assembled.columns is not None and assembled.items is not None
        columns = dict(zip(assembled.columns, assembled.items, strict=True))
        kind = "f" if np.dtype(np.float64) in dtypes else "i"
        params, body, ns = self._function(node.args[0])
        if len(params) != 1:
            raise Unsupported("a row function takes one argument, the row")
        rows = _Rows(self.tracer, params[0], columns, kind, ns)
        return self._result(node, rows.body(body), self.tracer.evaluate(node, pieces), columns)

    def map(self, node: ast.Call, series: Val, value: object) -> Val:
        """``s.map(f)`` (``node``, ``value`` on the example) of a float64 Series ``s``: ``f``
        traced as a row function of its one value, which pandas passes as a Python float
        (``_Elements``)."""
        typ = series.ssa.type if series.ssa is not None else None
        dtype = getattr(series.value, "dtype", None)
        kind = {np.dtype(np.float64): "f", np.dtype(np.int64): "i"}.get(dtype)  # type: ignore[call-overload]
        if not isinstance(series.value, pd.Series) or kind is None \
                or typ != vector_of(_ELEMENTS[kind]):  # fmt: skip
            raise Unsupported(f"Series.map of a function is compiled for a float64 or int64 "
                              f"column, not {dtype}")  # fmt: skip
        params, body, ns = self._function(node.args[0])
        if len(params) != 1:
            raise Unsupported("Series.map of a function of other than one argument")
        elements = _Elements(self.tracer, None, {}, kind, ns)
        elements.locals[params[0]] = Scalar(kind, series.ssa)
        return self._result(node, elements.body(body), value, {"": series})

    def _result(self, node: ast.Call, result: Scalar, value: object,
                columns: dict[str, Val]) -> Val:  # fmt: skip
        """The result of ``node``'s function traced per row (``value`` on the example), read
        from ``columns``: the dtype of the values it returns (float64, int64 or bool)."""
        if result.ssa is None:
            raise Unsupported("a row function that does not read the row is not compiled")
        function = ast.unparse(node.args[0])
        if result.kind == "fi" and getattr(value, "dtype", None) != np.float64:
            raise Unsupported(f"the row function `{function}` returns an int on every row of "
                              "the example and may return a float on others: pandas' dtype "
                              "(int64, else float64) depends on the batch")  # fmt: skip
        checked = self.tracer._checked_result(result.ssa, value)
        if result.kind == "fi":  # int64 if every row returns an int, else float64
            self.tracer.vocab.unstable[result.ssa] = (
                f"`{ast.unparse(node)}`, whose row function `{function}` returns "
                "an int on some rows and a float on others (float64; int64 where every row "
                "returns an int)")
        self.dtyped.append((result.ssa, self._argument_columns(columns)))
        return checked

    def _function(self, node: ast.expr) -> tuple[list[str], list[ast.stmt], dict[str, Any] | None]:
        """The parameters, body and namespace (None: the traced function's) of ``f``."""
        if isinstance(node, ast.Lambda):
            return [a.arg for a in node.args.args], [ast.Return(node.body)], None
        function = self.tracer.lower(node)
        if not function.is_static or not is_helper(function.value):
            raise Unsupported("apply(axis=1) of a function other than a lambda or the user's "
                              "own function runs in Python")  # fmt: skip
        found = helper(function.value)
        if found.args or found.kwargs:
            raise Unsupported("apply(axis=1) of a functools.partial runs in Python")
        return found.params, found.body, found.ns

    def _argument_columns(self, columns: dict[str, Val]) -> set[tuple[int, str | None]]:
        """The data arguments' columns ``columns`` are computed from (``Unsupported`` if one
        is computed from a value whose dtype depends on the batch)."""
        found: set[tuple[int, str | None]] = set()
        stack = [c.ssa for c in columns.values() if c.ssa is not None]
        seen: set[SSAValue] = set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in self.tracer.vocab.unstable:
                raise Unsupported("a column of the frame has a dtype that depends on the batch, "
                                  "and so has each row: apply(axis=1) runs in Python")  # fmt: skip
            op = current.owner
            if isinstance(current, BlockArgument):
                found.add((current.index, None))
            elif isinstance(op, ToArrayOp):
                for name in op.columns.data:
                    source, column = resolve_column(op.frame, name.data)
                    if isinstance(source, BlockArgument) and isinstance(column, str):
                        found.add((source.index, column))
                    else:
                        stack.append(source)
            elif isinstance(op, Operation) and not isinstance(op, PythonCallOp):
                stack.extend(op.operands)
        return found

    def record(self, specs: list[ArgumentSpec], values: list[object]) -> None:
        """Add to the data arguments' ``dtypes`` the example's dtype of each column the rows
        of a compiled apply depend on."""
        data = [s for s in specs if s.kind != "bound"]
        examples = [v for s, v in zip(specs, values, strict=True) if s.kind != "bound"]
        for result, columns in self.dtyped:
            if result.owner.parent is None:  # rolled back, or unused
                continue
            for position, column in columns:
                example = examples[position]
                dtype = example[column].dtype if isinstance(example, pd.DataFrame) and column \
                    else getattr(example, "dtype", None)  # fmt: skip
                if dtype is not None:
                    data[position].dtypes = (data[position].dtypes or {}) | \
                        {column or "": str(dtype)}  # fmt: skip


class _Rows:
    """Traces a row function's body over whole columns (``RowApply``)."""

    def __init__(self, tracer: Tracer, row: str | None, columns: dict[str, Val], kind: str,
                 ns: dict[str, Any] | None, depth: int = 0):  # fmt: skip
        self.tracer = tracer
        self.row = row  # the row's parameter (None in a function the row function calls)
        self.depth = depth
        self.columns = columns
        self.kind = kind
        self.ns = ns
        self.locals: dict[str, Scalar] = {}
        self.read: dict[str, Scalar] = {}

    def body(self, stmts: list[ast.stmt]) -> Scalar:
        """The value the body returns: a docstring, assignments to names, ``if`` statements
        whose branch returns (the rest of the body is the ``else``), then ``return``."""
        for position, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                return self.lower(stmt.value)
            if isinstance(stmt, ast.If):
                return self._branches(stmt, stmts[position + 1 :])
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else None
            if isinstance(target, ast.Name) and len(stmt.targets) == 1 \
                    and target.id != self.row:  # type: ignore[attr-defined]  # fmt: skip
                self.locals[target.id] = self.lower(stmt.value)  # type: ignore[attr-defined]
            elif not (position == 0 and isinstance(stmt, ast.Expr)
                      and isinstance(stmt.value, ast.Constant)):  # (a docstring)  # fmt: skip
                raise Unsupported("a row function is compiled when its body is assignments to "
                                  f"names, ifs and returns, not `{ast.unparse(stmt)}`")  # fmt: skip
        raise Unsupported("a row function that does not end with `return value` is not "
                          "compiled")  # fmt: skip

    def _branches(self, stmt: ast.If, rest: list[ast.stmt]) -> Scalar:
        """``if test: body`` (which returns) ``else: orelse`` followed by ``rest``."""
        if not stmt.body or not isinstance(stmt.body[-1], ast.Return):
            raise Unsupported("an if statement in a row function is compiled when its branch "
                              "ends with return")  # fmt: skip
        test = self.truth(self.lower(stmt.test))
        saved = dict(self.locals)
        if test.ssa is None:  # Python runs only the branch it takes
            return self.body(stmt.body if test.value else [*stmt.orelse, *rest])
        then = self.body(stmt.body)
        self.locals = saved
        return self.choose(test, then, self.body([*stmt.orelse, *rest]))

    def lower(self, node: ast.expr) -> Scalar:
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            raise Unsupported(f"`{ast.unparse(node)}` in a row function is not compiled "
                              "(arithmetic, comparisons, and/or/not, if-else, abs, min, max of "
                              "the row's fields)")  # fmt: skip
        return handler(node)

    # region Leaves

    def _Constant(self, node: ast.Constant) -> Scalar:
        return _static(node.value)

    def _Name(self, node: ast.Name) -> Scalar:
        if node.id == self.row:
            raise Unsupported("a row function using the whole row (not one field) is not "
                              "compiled")  # fmt: skip
        if node.id in self.locals:
            return self.locals[node.id]
        if self.ns is None:
            found = self.tracer.lower(node)
            if not found.is_static:
                raise Unsupported(f"a row function reading `{node.id}`, a value of the batch, "
                                  "is not compiled")  # fmt: skip
            return _static(found.value)
        if node.id in self.ns:
            return _static(self.ns[node.id])
        raise Unsupported(f"`{node.id}` is not a number the row function can read")

    def _Subscript(self, node: ast.Subscript) -> Scalar:
        key = node.slice
        if not (isinstance(node.value, ast.Name) and node.value.id == self.row
                and isinstance(key, ast.Constant) and isinstance(key.value, str)):  # fmt: skip
            raise Unsupported(f"`{ast.unparse(node)}` in a row function is not compiled (only "
                              "the row's fields by name)")  # fmt: skip
        return self.field(key.value)

    def _Attribute(self, node: ast.Attribute) -> Scalar:
        if not (isinstance(node.value, ast.Name) and node.value.id == self.row):
            raise Unsupported(f"`{ast.unparse(node)}` in a row function is not compiled")
        if hasattr(pd.Series, node.attr):  # r.name is the row's label, r.size its length...
            raise Unsupported(f"`{ast.unparse(node)}` is the Series attribute, not a field")
        return self.field(node.attr)

    def field(self, name: str) -> Scalar:
        """The row's field ``name``: the column, as the rows' dtype."""
        if name not in self.columns:
            raise Unsupported(f"the row has no field {name!r}: the row function raises")
        if name not in self.read:
            column = self.columns[name].ssa
            if column is None or self.columns[name].columns is not None:
                raise Unsupported(f"the row's field {name!r} is not a native column")
            element = _ELEMENTS[self.kind]
            if column.type.get_element_type() != element:  # type: ignore[attr-defined]
                column = self.tracer.emit(CastOp(column, element)).results[0]
            self.read[name] = Scalar(self.kind, column)
        return self.read[name]

    # endregion
    # region Operators

    def _BinOp(self, node: ast.BinOp) -> Scalar:
        lhs, rhs = self.lower(node.left), self.lower(node.right)
        function = _ARITHMETIC.get(type(node.op))
        if function is None:
            raise Unsupported(f"operator {type(node.op).__name__} in a row function is not "
                              "compiled")  # fmt: skip
        if lhs.ssa is None and rhs.ssa is None:
            return self._fold(_FOLD[type(node.op)], lhs, rhs)
        numbers = self._numbers(lhs, rhs, ast.unparse(node))
        if function == "power" and numbers == "i":
            raise Unsupported("an integer power in a row function is not compiled (numpy "
                              "raises for a negative exponent)")  # fmt: skip
        kind = "f" if function == "div" else numbers
        return Scalar(kind, self._binary(function, lhs, rhs))

    def _UnaryOp(self, node: ast.UnaryOp) -> Scalar:
        operand = self.lower(node.operand)
        if isinstance(node.op, ast.Not):
            truth = self.truth(operand)
            if truth.ssa is None:
                return Scalar("b", value=not truth.value)
            return Scalar("b", self._binary("eq", truth, Scalar("i", value=0)))
        if isinstance(node.op, ast.Invert) and operand.kind == "b" and operand.ssa is not None:
            return Scalar("b", self._binary("eq", operand, Scalar("i", value=0)))
        if operand.ssa is None:
            return self._fold(_unary(node.op), operand)
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise Unsupported(f"operator {type(node.op).__name__} of a number in a row function "
                              "is not compiled")  # fmt: skip
        self._numbers(operand, operand, ast.unparse(node))
        if isinstance(node.op, ast.UAdd):
            return operand
        return Scalar(operand.kind, self.tracer.emit(UnaryOp("negative", operand.ssa)).results[0])

    def _Compare(self, node: ast.Compare) -> Scalar:
        operands = [self.lower(node.left), *(self.lower(c) for c in node.comparators)]
        result: Scalar | None = None
        for op, lhs, rhs in zip(node.ops, operands, operands[1:], strict=False):
            function = _COMPARE.get(type(op))
            if function is None:
                raise Unsupported(f"the comparison {type(op).__name__} in a row function is "
                                  "not compiled")  # fmt: skip
            if lhs.ssa is None and rhs.ssa is None:
                pair = self._fold(_FOLD[type(op)], lhs, rhs)
            else:
                self._numbers(lhs, rhs, ast.unparse(node))
                pair = Scalar("b", self._binary(function, lhs, rhs))
            result = pair if result is None else self._and(result, pair)
        assert result is not None
        return result

    def _BoolOp(self, node: ast.BoolOp) -> Scalar:
        """``a and b`` is ``b`` where ``a`` is true, else ``a``; ``a or b`` the reverse."""
        values = [self.lower(v) for v in node.values]
        result = values[-1]
        for value in reversed(values[:-1]):
            if isinstance(node.op, ast.And):
                result = self.choose(self.truth(value), result, value)
            else:
                result = self.choose(self.truth(value), value, result)
        return result

    def _IfExp(self, node: ast.IfExp) -> Scalar:
        test = self.truth(self.lower(node.test))
        if test.ssa is None:  # Python evaluates only the branch it takes
            return self.lower(node.body if test.value else node.orelse)
        return self.choose(test, self.lower(node.body), self.lower(node.orelse))

    def _Call(self, node: ast.Call) -> Scalar:
        function = self._callee(node.func)
        if node.keywords or not node.args or any(isinstance(a, ast.Starred) for a in node.args):
            function = None
        args = [self.lower(a) for a in node.args] if function is not None else []
        if is_helper(function):
            return self._helper(function, args)
        if function is abs and len(args) == 1:
            (x,) = args
            if x.ssa is None:
                return self._fold(abs, x)
            self._numbers(x, x, ast.unparse(node))
            return Scalar(x.kind, self.tracer.emit(UnaryOp("abs", x.ssa)).results[0])
        if function in (min, max) and len(args) >= 2:
            beats = "lt" if function is min else "gt"
            result = args[0]
            for arg in args[1:]:  # Python keeps the current one unless the next beats it
                self._numbers(arg, result, ast.unparse(node))
                if arg.ssa is None and result.ssa is None:
                    wins = self._fold(_FOLD[ast.Lt if function is min else ast.Gt], arg, result)
                else:
                    wins = Scalar("b", self._binary(beats, arg, result))
                result = self.choose(wins, arg, result)
            return result
        raise Unsupported(f"`{ast.unparse(node)}` in a row function is not compiled (of calls, "
                          "only abs, min and max of numbers, and the user's functions of "
                          "them)")  # fmt: skip

    def _callee(self, node: ast.expr) -> object:
        """The function ``node`` names (a builtin, the user's), else None."""
        if not isinstance(node, ast.Name) or node.id in self.locals or node.id == self.row:
            return None
        if self.ns is None:
            found = self.tracer.lower(node)
            return found.value if found.is_static else None
        return self.ns.get(node.id, getattr(builtins, node.id, None))

    def _helper(self, function: object, args: list[Scalar]) -> Scalar:
        """The user's ``function`` of per-row values, its body traced with its parameters
        bound to ``args`` (``Unsupported`` for other calls than its positional ones)."""
        found = helper(function)
        if found.args or found.kwargs or len(found.params) != len(args) or self.depth > 16:
            raise Unsupported(f"the call of `{found.name}` in a row function is compiled with "
                              "its parameters by position, 16 calls deep at most")  # fmt: skip
        scope = type(self)(self.tracer, None, self.columns, self.kind, found.ns, self.depth + 1)
        scope.locals = dict(zip(found.params, args, strict=True))
        return scope.body(found.body)

    # endregion
    # region Values

    def _numbers(self, lhs: Scalar, rhs: Scalar, text: str) -> str:
        """The kind of arithmetic on ``lhs`` and ``rhs``: ``f`` or ``i`` (``Unsupported``
        for booleans and values of mixed kinds)."""
        kinds = {lhs.kind, rhs.kind}
        if "b" in kinds:
            raise Unsupported(f"`{text}`: arithmetic on booleans in a row function is not "
                              "compiled")  # fmt: skip
        if "fi" in kinds:
            raise Unsupported(f"`{text}`: a value that is an int on some rows and a float on "
                              "others is compiled only as the row function's result")  # fmt: skip
        return "f" if "f" in kinds else "i"

    def _binary(self, function: str, lhs: Scalar, rhs: Scalar) -> SSAValue:
        """``pipeline.binary`` of two values (a number as numpy promotes it beside a batch)."""
        left, right = self._val(lhs), self._val(rhs)
        operands = self.tracer._operand(left, right), self.tracer._operand(right, left)
        # numpy's scalar ``**`` is the C library's ``pow``, not its array loop
        op = BinaryOp(function, *operands, scalar_math=function == "power")
        return self.tracer.emit(op).results[0]

    @staticmethod
    def _val(scalar: Scalar) -> Val:
        if scalar.ssa is not None:
            return Val(None, scalar.ssa)
        if scalar.kind == "b":
            raise Unsupported("a bool constant beside a row's values is not compiled")
        return Val(scalar.value)

    @staticmethod
    def _fold(function: Any, *operands: Scalar) -> Scalar:
        """``function`` of numbers known at compile time, as Python computes it."""
        try:
            return _static(function(*(o.value for o in operands)))
        except Exception as error:
            raise Unsupported(f"a row function's arithmetic on constants raises "
                              f"{type(error).__name__}") from None  # fmt: skip

    def truth(self, value: Scalar) -> Scalar:
        """``bool(value)`` per row: a boolean, or a number that is not 0 (NaN is true)."""
        if value.ssa is None:
            return Scalar("b", value=bool(value.value))
        if value.kind == "b":
            return value
        if value.kind == "fi":
            raise Unsupported("the truth of a value that is an int on some rows and a float on "
                              "others is not compiled")  # fmt: skip
        return Scalar("b", self._binary("ne", value, Scalar("i", value=0)))

    def _and(self, lhs: Scalar, rhs: Scalar) -> Scalar:
        """Both booleans true (a chained comparison)."""
        return self.choose(self.truth(lhs), rhs, lhs)

    def choose(self, test: Scalar, then: Scalar, other: Scalar) -> Scalar:
        """``then`` where ``test`` is true, else ``other``; the kind of both, ``fi`` for an
        int and a float (``Unsupported`` for a bool and a number: pandas' object)."""
        if test.ssa is None:
            return then if test.value else other
        kinds = {then.kind, other.kind}
        if len(kinds) > 1 and "b" in kinds:
            raise Unsupported("a row function returning a bool on some rows and a number on "
                              "others (an object column) is not compiled")  # fmt: skip
        kind = kinds.pop() if len(kinds) == 1 else "fi"
        if then.ssa is None and other.ssa is None:
            constant = self.tracer._operand(self._val(other), self._val(then))
            batch = Scalar(other.kind, self.tracer._constant_batch(constant, test.ssa))
            return self.choose(test, then, batch)
        left, right = self._val(then), self._val(other)
        operands = self.tracer._operand(left, right), self.tracer._operand(right, left)
        return Scalar(kind, self.tracer.emit(WhereOp(test.ssa, *operands)).results[0])

    # endregion


class _Elements(_Rows):
    """Traces ``Series.map``'s function of one Python float or int (``RowApply.map``). Python's
    float arithmetic is numpy's float64 arithmetic, but ``/`` by zero raises
    ZeroDivisionError (a row with a zero divisor runs the original, which raises), and so
    do ``//`` and ``%`` by zero; ``**`` raises OverflowError where numpy gives inf: those
    three are not compiled. Python's ints do not wrap, nor round beside a float as numpy's
    int64 do: arithmetic (``-``, ``abs``) of ints (``x`` of an int64 column, ``1 if x > 0
    else 0``) and their comparison with a float other than a constant below 2^53 in
    magnitude (beyond, numpy's rounded int compares as the exact one) are not compiled."""

    def _binary(self, function: str, lhs: Scalar, rhs: Scalar) -> SSAValue:
        kinds = {lhs.kind, rhs.kind}
        if function not in _COMPARE.values() and kinds <= {"i", "b"}:
            raise Unsupported(f"{function} of Python ints (Series.map) is not compiled: they "
                              "do not wrap")  # fmt: skip
        small = any(s.ssa is None and abs(s.value) < 2**53 for s in (lhs, rhs))  # type: ignore[arg-type]
        if function in _COMPARE.values() and "f" in kinds and kinds & {"i", "fi"} and not small:
            raise Unsupported("a Python int compared with a float (Series.map) is not "
                              "compiled: Python compares exactly, numpy rounds the "
                              "int")  # fmt: skip
        return super()._binary(function, lhs, rhs)

    def _UnaryOp(self, node: ast.UnaryOp) -> Scalar:
        result = super()._UnaryOp(node)
        if isinstance(node.op, ast.USub) and result.kind == "i" and result.ssa is not None:
            raise Unsupported(f"`{ast.unparse(node)}` of a Python int (Series.map) is not "
                              "compiled: it does not wrap")  # fmt: skip
        return result

    def _Call(self, node: ast.Call) -> Scalar:
        result = super()._Call(node)
        if isinstance(result.ssa.owner if result.ssa is not None else None, UnaryOp) \
                and result.kind == "i":  # fmt: skip
            raise Unsupported(f"`{ast.unparse(node)}` of a Python int (Series.map) is not "
                              "compiled: it does not wrap")  # fmt: skip
        return result

    def _BinOp(self, node: ast.BinOp) -> Scalar:
        if isinstance(node.op, ast.FloorDiv | ast.Mod | ast.Pow):
            raise Unsupported(f"`{ast.unparse(node)}` of Python floats (Series.map) is not "
                              "compiled: Python raises where numpy gives inf or NaN")  # fmt: skip
        result = super()._BinOp(node)
        quotient = result.ssa.owner if result.ssa is not None else None
        if isinstance(node.op, ast.Div) and isinstance(quotient, BinaryOp):
            divisor = quotient.rhs
            if not isinstance(divisor.type, TensorType):  # a number: not zero, or folded
                return result
            zero = self.tracer.emit(ConstantOp(0.0 if divisor.type.get_element_type() == f64
                                               else 0)).results[0]  # fmt: skip
            self.tracer.nullable.guard(self.tracer.emit(BinaryOp("eq", divisor, zero)).results[0])
        return result


def _unary(op: ast.unaryop) -> Any:
    """Python's unary operator ``op``."""
    return {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert,
            ast.Not: operator.not_}[type(op)]  # fmt: skip
