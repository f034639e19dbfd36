"""Trace a Python inference function into the ``pipeline`` dialect by shadow execution.

Every statement runs on the example values while it is lowered, so each value's type and
width is known. Recognised constructs become ``pipeline`` ops; anything else becomes a
``pipeline.python_call`` that evaluates the original code, in order, with the reason why.
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import is_dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, i1
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.transforms.dead_code_elimination import dce
from xdsl.utils.exceptions import VerifyException

from willump_mlir.dialects.pipeline import (
    BinaryOp,
    ConstantOp,
    FrameType,
    PythonCallOp,
    SelectColumnsOp,
    StrType,
    TakeColumnOp,
    UnaryOp,
    WhereOp,
    batch_of,
    is_sparse,
)

from .estimators import (
    ESTIMATOR_METHODS,
    UNARY_UFUNCS,
    EstimatorLowering,
    hstack_op,
    is_batch,
    is_estimator,
)
from .params import Blobs
from .spec import ArgumentSpec, FrontendError, FrontendResult, PythonCall, Unsupported
from .tables import TableLookups, materialize_joins
from .types import frame_columns, frame_type, is_text, represents, text_type, type_of
from .values import Val

_BINOPS: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "power",
}  # fmt: skip
_CMPOPS: dict[type, str] = {
    ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne",
}  # fmt: skip
_BINARY_UFUNCS: dict[object, str] = {
    np.add: "add", np.subtract: "sub", np.multiply: "mul", np.divide: "div",
    np.maximum: "maximum", np.minimum: "minimum", np.power: "power",
    np.less: "lt", np.less_equal: "le", np.greater: "gt", np.greater_equal: "ge",
    np.equal: "eq", np.not_equal: "ne",
}  # fmt: skip
_HSTACKS: dict[object, str] = {np.hstack: "np.hstack", np.column_stack: "np.column_stack",
                               sp.hstack: "scipy.sparse.hstack"}  # fmt: skip
#: Calls on static values only that are folded at compile time (pure functions).
_FOLDABLE_BUILTINS = {len, int, float, str, bool, list, tuple, dict, range, sorted, min, max,
                      abs, sum, round, zip, enumerate, set, frozenset}  # fmt: skip
_STATEMENT_NAMES: dict[type, str] = {
    ast.For: "a for loop", ast.While: "a while loop", ast.If: "an if statement",
    ast.With: "a with statement", ast.Try: "a try statement",
}  # fmt: skip


def _with_series(function: Callable, operands: list[Val]) -> Callable:
    """``function`` taking a one-column frame where the example had a Series (``df["text"]``).

    At run time a ``pipeline.select_columns`` value is a DataFrame; the Python code expects
    the Series it selected.
    """
    positions = [
        i for i, o in enumerate(operands)
        if isinstance(o.value, pd.Series) and isinstance(getattr(o.ssa, "type", None), FrameType)
    ]  # fmt: skip
    if not positions:
        return function

    def call(*args: object) -> object:
        args = tuple(
            a.iloc[:, 0] if i in positions and isinstance(a, pd.DataFrame) else a
            for i, a in enumerate(args)
        )
        return function(*args)

    return call


def describe(error: Exception) -> str:
    """``Type: message``, the message on one line and cut to 200 characters."""
    message = " ".join(str(error).split())
    cut = message[:199] + "…" if len(message) > 200 else message
    return f"{type(error).__name__}: {cut}" if message else type(error).__name__


def _why(error: Exception) -> str:
    """Why a statement runs in Python: its ``Unsupported`` reason, or the compiler's failure."""
    if isinstance(error, Unsupported):
        return error.reason
    return f"compiling it failed: {describe(error)}"


def _is_foldable(function: object) -> bool:
    if any(function is f for f in _FOLDABLE_BUILTINS):
        return True
    module = getattr(function, "__module__", None) or ""
    owner = getattr(function, "__self__", None)
    return module.split(".")[0] in ("numpy", "math") or is_estimator(owner)


def _bound_names(node: ast.AST) -> set[str]:
    """Names a node binds itself (comprehension targets, lambda arguments, walrus)."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
    return names


def _target_names(target: ast.AST) -> set[str]:
    """Names an assignment target rebinds or mutates (``df["x"] = ...`` mutates ``df``)."""
    while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        target = target.value
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_target_names(t) for t in target.elts))
    return set()


def _stored_names(stmts: list[ast.stmt]) -> list[str]:
    """Names that statements (re)bind or mutate, in first-seen order."""
    stored: list[str] = []
    for stmt in stmts:
        for sub in ast.walk(stmt):
            targets: list[ast.AST] = []
            if isinstance(sub, ast.Assign):
                targets = list(sub.targets)
            elif isinstance(sub, (ast.AugAssign, ast.AnnAssign, ast.For, ast.NamedExpr)):
                targets = [sub.target]
            elif isinstance(sub, ast.withitem) and sub.optional_vars is not None:
                targets = [sub.optional_vars]
            elif isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                targets = [ast.Name(sub.name, ast.Store())]
            for target in targets:
                stored += sorted(_target_names(target) - set(stored))
    return stored


class Tracer:
    """Lowers one function body, statement by statement, on example values."""

    def __init__(
        self, fn: Callable, fdef: ast.FunctionDef, first_line: int,
        python_block: tuple[int, int, str] | None = None,
    ):  # fmt: skip
        self.fn = fn
        self.fdef = fdef
        self.first_line = first_line
        closure = inspect.getclosurevars(fn).nonlocals if fn.__closure__ else {}
        self.ns: dict[str, Any] = {**fn.__globals__, **closure}
        self.env: dict[str, Val] = {}
        self.block = Block()
        self.blobs = Blobs()
        self.models: dict[Operation, tuple[object, object | None]] = {}  # op -> est, prescale
        self.calls: dict[str, PythonCall] = {}
        self.notes: list[str] = []
        self.estimators = EstimatorLowering(self)
        self.lookups = TableLookups(self)
        self._counter = 0
        self._stmt: ast.stmt | None = None
        # (start, stop, why): the body's statements [start, stop) run as one Python call
        self.python_block = python_block

    # region Emission

    def emit(self, op: Operation) -> Operation:
        """Append ``op`` to the function body."""
        self.block.add_op(op)
        return op

    def mark(self) -> tuple[int, int, int]:
        """A point to roll emission back to: how many ops, calls and blobs exist."""
        return len(self.block.ops), len(self.calls), len(self.blobs.arrays)

    def rollback(self, mark: tuple[int, int, int]) -> None:
        """Erase everything emitted since ``mark`` (a nested rollback may have begun it)."""
        ops, calls, blobs = mark
        while len(self.block.ops) > ops:
            self.block.erase_op(self.block.last_op)  # type: ignore[arg-type]
        for table, keep in ((self.calls, calls), (self.blobs.arrays, blobs)):
            for key in list(table)[keep:]:
                del table[key]

    def _fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"_wm_{prefix}{self._counter}"

    def where(self) -> str:
        """``fn line N`` of the statement being traced."""
        line = self.first_line + (self._stmt.lineno - 1 if self._stmt else 0)
        return f"{self.fn.__name__} line {line}"

    def python_op(
        self, hint: str, function: Callable, operands: list[Val], reason: str, source: str,
        results: int | None = None,
    ) -> Val:  # fmt: skip
        """Emit a ``pipeline.python_call`` of ``function``; run it on the example values."""
        try:
            value = function(*[o.value for o in operands])
        except Exception as error:
            raise FrontendError(
                f"{self.where()}: `{source}` raised {type(error).__name__}: {error}"
            ) from error
        values = list(value) if results is not None else [value]
        callee = f"py{len(self.calls)}_{hint}"
        types: list[Attribute] = [type_of(v, callee) for v in values]
        function = _with_series(function, operands)
        op = self.emit(PythonCallOp(callee, [o.ssa for o in operands], types, reason, source))
        self.calls[callee] = PythonCall(callee, function, reason, source)
        self.notes.append(f"{self.where()}: `{source}` runs in Python: {reason}")
        if results is not None:
            return Val(value, items=[Val(v, r) for v, r in zip(values, op.results, strict=True)])
        return Val(value, op.results[0])

    # endregion
    # region Python fallbacks

    def _placeholder(self, val: Val, operands: list[Val]) -> ast.expr:
        if val.ssa is not None:
            for i, known in enumerate(operands):
                if known.ssa is val.ssa and known.value is val.value:
                    return ast.Name(f"_wm_a{i}", ast.Load())
            operands.append(val)
            return ast.Name(f"_wm_a{len(operands) - 1}", ast.Load())
        if val.items is not None:
            elts = [self._placeholder(v, operands) for v in val.items]
            kind = ast.Tuple if isinstance(val.value, tuple) else ast.List
            return kind(elts, ast.Load())
        name = self._fresh("s")
        self.ns[name] = val.value
        return ast.Name(name, ast.Load())

    def _substitute(
        self, node: ast.AST, pieces: dict[int, Val], operands: list[Val], inner: set[str]
    ) -> ast.AST:
        """A copy of ``node`` with traced sub-expressions and locals as placeholders."""
        if id(node) in pieces:
            return self._placeholder(pieces[id(node)], operands)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in self.env and node.id not in inner:
                return self._placeholder(self.env[node.id], operands)
            return node
        new = copy.copy(node)
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                setattr(new, field, [
                    self._substitute(v, pieces, operands, inner) if isinstance(v, ast.AST) else v
                    for v in value
                ])  # fmt: skip
            elif isinstance(value, ast.AST):
                setattr(new, field, self._substitute(value, pieces, operands, inner))
        return new

    def _lambda(self, node: ast.expr, pieces: dict[int, Val]) -> tuple[Callable, list[Val]]:
        """``lambda operands: node`` evaluated in the function's namespace."""
        operands: list[Val] = []
        body = self._substitute(node, pieces, operands, _bound_names(node))
        args = [ast.arg(f"_wm_a{i}") for i in range(len(operands))]
        tree = ast.Expression(ast.Lambda(ast.arguments([], args, None, [], [], None, []), body))
        ast.fix_missing_locations(tree)
        return eval(compile(tree, f"<willump {self.fn.__name__}>", "eval"), self.ns), operands

    def evaluate(self, node: ast.expr, pieces: dict[int, Val]) -> object:
        """The concrete value of ``node`` on the example."""
        function, operands = self._lambda(node, pieces)
        try:
            return function(*[o.value for o in operands])
        except Exception as error:
            raise FrontendError(
                f"{self.where()}: `{ast.unparse(node)}` raised {type(error).__name__}: {error}"
            ) from error

    def opaque(self, node: ast.expr, reason: str, pieces: dict[int, Val]) -> Val:
        """``node`` as a Python op over its traced sub-expressions."""
        function, operands = self._lambda(node, pieces)
        hint = node.func if isinstance(node, ast.Call) else node
        while isinstance(hint, (ast.Attribute, ast.Call)):
            hint = hint.attr if isinstance(hint, ast.Attribute) else hint.func  # type: ignore
        name = hint if isinstance(hint, str) else getattr(hint, "id", type(node).__name__)
        return self.python_op(str(name), function, operands, reason, ast.unparse(node))

    def opaque_statements(self, stmts: list[ast.stmt], reason: str, returns: bool) -> Val:
        """Statements as one Python function; yields the return value or the rebound names."""
        operands: list[Val] = []
        loaded = {n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name)}
        prologue = [
            ast.Assign([ast.Name(name, ast.Store())], self._placeholder(self.env[name], operands))
            for name in sorted(loaded & set(self.env))
        ]
        stored: list[str] = [] if returns else _stored_names(stmts)
        name = self._fresh("f")
        epilogue = ast.parse(
            f"_wm_l = locals()\nreturn tuple(_wm_l.get(n) for n in {stored!r})"
        ).body
        body = prologue + list(stmts) + ([] if returns else epilogue)
        args = [ast.arg(f"_wm_a{i}") for i in range(len(operands))]
        fdef = ast.FunctionDef(
            name=name, args=ast.arguments([], args, None, [], [], None, []), body=body,
            decorator_list=[], returns=None,
        )  # fmt: skip
        module = ast.Module([fdef], [])
        ast.fix_missing_locations(module)
        exec(compile(module, f"<willump {self.fn.__name__}>", "exec"), self.ns)
        source = "\n".join(ast.unparse(s) for s in stmts)
        if returns:
            return self.python_op("tail", self.ns[name], operands, reason, source)
        result = self.python_op("block", self.ns[name], operands, reason, source, len(stored))
        for var, val in zip(stored, result.items or [], strict=True):
            self.env[var] = val
        return result

    # endregion
    # region Statements

    def run(self, body: list[ast.stmt]) -> list[Val]:
        """Trace a function body; return the values it returns."""
        for i, stmt in enumerate(body):
            self._stmt = stmt
            block = self.python_block if body is self.fdef.body else None
            if block is not None and block[0] <= i < block[1]:
                start, stop, why = block
                returns = any(isinstance(n, ast.Return) for s in body[i:stop] for n in ast.walk(s))
                if stop >= len(body) or returns:
                    return [self.opaque_statements(body[i:], why, returns=True)]
                if i == start:
                    self.opaque_statements(body[start:stop], why, returns=False)
                continue
            nested_return = any(isinstance(s, ast.Return) for s in ast.walk(stmt))
            if nested_return and not isinstance(stmt, ast.Return):
                kind = _STATEMENT_NAMES.get(type(stmt), f"a {type(stmt).__name__} statement")
                reason = f"{kind} containing return is not compiled"
                return [self.opaque_statements(body[i:], reason, returns=True)]
            mark, env, notes = self.mark(), dict(self.env), len(self.notes)
            returned = self.returned(stmt) if isinstance(stmt, ast.Return) else None
            if returned is None:
                self.statement(stmt)
            if self.lookups.rows_change is not None:  # the rest runs on other rows: in Python
                self.rollback(mark)
                self.env, self.notes[notes:] = env, []
                reason, self.lookups.rows_change = self.lookups.rows_change, None
                return [self.opaque_statements(body[i:], reason, returns=True)]
            if returned is not None:
                return returned
        return self._returned(None)

    def returned(self, stmt: ast.Return) -> list[Val]:
        """Trace a ``return``; if lowering it fails, it runs in Python (``statement``)."""
        mark, env, notes = self.mark(), dict(self.env), len(self.notes)
        try:
            return self._returned(stmt.value)
        except FrontendError:
            raise
        except Exception as error:
            self.rollback(mark)
            self.env, self.notes[notes:] = env, []
            return [self.opaque_statements([stmt], _why(error), returns=True)]

    def _returned(self, node: ast.expr | None) -> list[Val]:
        val = self.lower(node) if node is not None else Val(None)
        if val.items is not None and isinstance(val.value, tuple):
            # the items are computed natively; the tuple the caller gets is packed in Python
            items = [self.materialize(v) for v in val.items]
            return [self.materialize(Val(val.value, items=items))]
        return [self.materialize(val)]

    def materialize(self, val: Val) -> Val:
        """A value with an SSA value: static and list values go through a Python op."""
        if val.ssa is not None:
            return val
        operands = [v for v in (val.items or []) if v.ssa is not None]
        if val.items is not None and len(operands) == len(val.items):
            kind = type(val.value)

            def pack(*values: object) -> object:
                return kind(values)

            return self.python_op("pack", pack, operands, "a list of values stays in Python",
                                  f"{kind.__name__}(...)")  # fmt: skip
        if val.items is not None:
            raise Unsupported("a returned list that mixes data and constants is not compiled")
        constant = val.value

        def const() -> object:
            return constant

        return self.python_op("constant", const, [], "a constant bound at compile time",
                              repr(constant)[:60])  # fmt: skip

    def statement(self, stmt: ast.stmt) -> None:
        """Trace one top-level statement; it runs in Python if it is not compiled, or if
        lowering it fails in any way but the user's code raising (a ``FrontendError``)."""
        mark, env, notes = self.mark(), dict(self.env), len(self.notes)
        try:
            self._statement(stmt)
        except FrontendError:
            raise
        except Exception as error:
            self.rollback(mark)
            self.env, self.notes[notes:] = env, []
            self.opaque_statements([stmt], _why(error), returns=False)

    def _statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            val = self.lower(stmt.value)
            for target in stmt.targets:
                self.bind(target, val)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.bind(stmt.target, self.lower(stmt.value))
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            load = ast.Name(stmt.target.id, ast.Load())
            expr = ast.copy_location(ast.BinOp(load, stmt.op, stmt.value), stmt)
            self.bind(stmt.target, self.lower(expr))
        elif isinstance(stmt, ast.Expr):
            if not (isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
                self.lower(stmt.value)
        elif isinstance(stmt, ast.Pass):
            pass
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            scope: dict[str, Any] = {}
            exec(compile(ast.Module([stmt], []), "<willump import>", "exec"), self.ns, scope)
            self.env.update({k: Val(v) for k, v in scope.items()})
        else:
            kind = _STATEMENT_NAMES.get(type(stmt), f"a {type(stmt).__name__} statement")
            raise Unsupported(f"{kind} is not compiled")

    def bind(self, target: ast.expr, val: Val) -> None:
        """Assign a traced value to a target."""
        if isinstance(target, ast.Name):
            self.env[target.id] = val
        elif isinstance(target, (ast.Tuple, ast.List)) and not any(
            isinstance(t, ast.Starred) for t in target.elts
        ):
            if val.items is not None and len(val.items) == len(target.elts):
                items = val.items
            elif val.is_static:
                items = [Val(v) for v in val.value]  # type: ignore[attr-defined]
            else:
                raise Unsupported("unpacking a run-time value is not compiled")
            if len(items) != len(target.elts):
                raise FrontendError(f"{self.where()}: cannot unpack {len(items)} values")
            for sub, item in zip(target.elts, items, strict=True):
                self.bind(sub, item)
        else:
            raise Unsupported(f"assigning to `{ast.unparse(target)}` is not compiled")

    # endregion
    # region Expressions

    def lower(self, node: ast.expr) -> Val:
        """Trace an expression."""
        handler = getattr(self, f"_lower_{type(node).__name__}", None)
        if handler is None:
            return self._generic(node, f"{type(node).__name__} expressions are not compiled")
        return handler(node)

    def _children(self, nodes: list[ast.expr]) -> dict[int, Val]:
        pieces: dict[int, Val] = {}
        for child in nodes:
            pieces[id(child)] = self.lower(child)
        return pieces

    def _generic(self, node: ast.expr, reason: str) -> Val:
        """Fold a static expression, else run it in Python over its free names."""
        if all(n.id not in self.env or self.env[n.id].is_static
               for n in ast.walk(node) if isinstance(n, ast.Name)) and not any(
            isinstance(n, ast.Call) for n in ast.walk(node)
        ):  # fmt: skip
            return Val(self.evaluate(node, {}))
        return self.opaque(node, reason, {})

    def _recognised(self, node: ast.expr, pieces: dict[int, Val], build: Callable[[], Val | None],
                    reason: str) -> Val:  # fmt: skip
        """Try ``build``; on ``Unsupported`` or None, roll back and run ``node`` in Python."""
        if all(p.is_static for p in pieces.values()):
            return Val(self.evaluate(node, pieces))
        mark = self.mark()
        try:
            val = build()
            if val is not None:
                return val
        except Unsupported as error:
            reason = error.reason
        self.rollback(mark)
        return self.opaque(node, reason, pieces)

    def _checked(self, op: Operation, value: object) -> Val:
        """Emit ``op`` whose result must have the type of the example ``value``."""
        self.emit(op)
        if not represents(op.results[0].type, value):
            raise Unsupported(f"the result is {type_of(value)}, not {op.results[0].type}")
        return Val(value, op.results[0])

    def _lower_Constant(self, node: ast.Constant) -> Val:
        return Val(node.value)

    def _lower_Name(self, node: ast.Name) -> Val:
        if node.id in self.env:
            return self.env[node.id]
        if node.id in self.ns:
            return Val(self.ns[node.id])
        builtins = self.ns.get("__builtins__")
        table = builtins if isinstance(builtins, dict) else vars(builtins)
        if node.id in table:
            return Val(table[node.id])
        raise FrontendError(f"{self.where()}: name {node.id!r} is not defined")

    def _lower_List(self, node: ast.List | ast.Tuple) -> Val:
        items = [self.lower(e) for e in node.elts if not isinstance(e, ast.Starred)]
        if len(items) != len(node.elts):
            return self._generic(node, "starred items are not compiled")
        kind = list if isinstance(node, ast.List) else tuple
        value = kind(v.value for v in items)
        if all(v.is_static for v in items):
            return Val(value)
        return Val(value, items=items)

    _lower_Tuple = _lower_List

    def _lower_Slice(self, node: ast.Slice) -> Val:
        parts = [self.lower(p) if p is not None else Val(None)
                 for p in (node.lower, node.upper, node.step)]  # fmt: skip
        if not all(p.is_static for p in parts):
            raise Unsupported("a slice with run-time bounds is not compiled")
        return Val(slice(*(p.value for p in parts)))

    def _lower_Attribute(self, node: ast.Attribute) -> Val:
        base = self.lower(node.value)
        pieces = {id(node.value): base}

        def build() -> Val | None:
            typ = base.ssa.type if base.ssa is not None else None
            if node.attr == "values" and isinstance(typ, FrameType):
                return self._to_array(base, self.evaluate(node, pieces))
            if node.attr == "values" and isinstance(typ, TensorType):
                return Val(self.evaluate(node, pieces), base.ssa)
            return None

        return self._recognised(node, pieces, build, f"attribute .{node.attr} is not compiled")

    def _to_array(self, frame: Val, value: object) -> Val:
        val = self.estimators.as_array(frame)
        if not represents(val.ssa.type, value):
            raise Unsupported(f"the array is {type_of(value)}, not {val.ssa.type}")
        return Val(value, val.ssa)

    def _lower_Subscript(self, node: ast.Subscript) -> Val:
        pieces = self._children([node.value, node.slice])
        base, index = pieces[id(node.value)], pieces[id(node.slice)]

        def build() -> Val | None:
            typ = base.ssa.type if base.ssa is not None else None
            if not index.is_static:
                return self.lookups.subscript(node, pieces, base, index)
            key = index.value
            value = self.evaluate(node, pieces)
            if isinstance(typ, FrameType) and not isinstance(base.value, pd.DataFrame):
                return None  # a text value: its items are not columns
            if isinstance(typ, FrameType) and isinstance(key, list):
                if not all(isinstance(k, str) for k in key):
                    return None
                return self._checked(SelectColumnsOp(base.ssa, key), value)
            if isinstance(typ, FrameType) and isinstance(key, str):
                if isinstance(typ.dtype_of(key), StrType) and is_text(value):
                    # a column of text documents, as a one-column frame
                    return Val(value, self.emit(SelectColumnsOp(base.ssa, [key])).result)
                column = self.estimators.as_array(
                    Val(base.value[[key]], self.emit(SelectColumnsOp(base.ssa, [key])).result)
                )
                return self._checked(TakeColumnOp(column.ssa, 0), value)
            column_key = (
                isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None)
                and isinstance(key[1], (int, np.integer))
            )  # fmt: skip
            dense = isinstance(typ, TensorType) and not is_sparse(typ)
            if dense and typ.get_num_dims() == 2 and column_key:
                width = typ.get_shape()[1]
                column = int(key[1]) + (width if key[1] < 0 else 0)
                if not 0 <= column < width:
                    return None
                return self._checked(TakeColumnOp(base.ssa, column), value)
            return None

        return self._recognised(node, pieces, build, "this indexing is not compiled")

    def _operand(self, val: Val) -> SSAValue:
        """A binary/where operand: a batch, or a number as ``pipeline.constant``."""
        if val.ssa is not None and is_sparse(val.ssa.type):
            raise Unsupported("elementwise arithmetic on a sparse matrix is not compiled")
        if val.ssa is not None and isinstance(val.ssa.type, TensorType):
            return val.ssa
        if val.is_static and isinstance(val.value, (int, float, np.integer, np.floating)):
            return self.emit(ConstantOp(float(val.value))).result
        raise Unsupported("an operand is neither a batch of numbers nor a number")

    def _binary(self, function: str, node: ast.expr, pieces: dict[int, Val],
                lhs: Val, rhs: Val) -> Val:  # fmt: skip
        value = self.evaluate(node, pieces)
        try:
            op = BinaryOp(function, self._operand(lhs), self._operand(rhs))
        except VerifyException as error:
            raise Unsupported(f"operands do not broadcast: {error}") from None
        return self._checked(op, value)

    def _lower_BinOp(self, node: ast.BinOp) -> Val:
        pieces = self._children([node.left, node.right])
        function = _BINOPS.get(type(node.op))

        def build() -> Val | None:
            if function is None:
                return None
            return self._binary(function, node, pieces, pieces[id(node.left)],
                                pieces[id(node.right)])  # fmt: skip

        reason = f"operator {type(node.op).__name__} is not compiled"
        return self._recognised(node, pieces, build, reason)

    def _lower_Compare(self, node: ast.Compare) -> Val:
        pieces = self._children([node.left, *node.comparators])
        function = _CMPOPS.get(type(node.ops[0])) if len(node.ops) == 1 else None

        def build() -> Val | None:
            if function is None:
                return None
            return self._binary(function, node, pieces, pieces[id(node.left)],
                                pieces[id(node.comparators[0])])  # fmt: skip

        return self._recognised(node, pieces, build, "this comparison is not compiled")

    def _lower_UnaryOp(self, node: ast.UnaryOp) -> Val:
        pieces = self._children([node.operand])
        operand = pieces[id(node.operand)]

        def build() -> Val | None:
            if isinstance(node.op, ast.USub) and operand.ssa is not None:
                if not isinstance(operand.ssa.type, TensorType) or is_sparse(operand.ssa.type):
                    return None
                return self._checked(UnaryOp("negative", operand.ssa),
                                     self.evaluate(node, pieces))  # fmt: skip
            return None

        reason = f"operator {type(node.op).__name__} is not compiled"
        return self._recognised(node, pieces, build, reason)

    def _lower_Call(self, node: ast.Call) -> Val:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            return self.opaque(node, "calls with *args/**kwargs are not compiled",
                               self._children([]))  # fmt: skip
        receiver: Val | None = None
        if isinstance(node.func, ast.Attribute):
            receiver = self.lower(node.func.value)
            pieces = {id(node.func.value): receiver}
        else:
            pieces = {id(node.func): self.lower(node.func)}
        pieces.update(self._children([*node.args, *(k.value for k in node.keywords)]))
        args = [pieces[id(a)] for a in node.args]
        kwargs = {k.arg: pieces[id(k.value)] for k in node.keywords}
        if receiver is None:
            function = pieces[id(node.func)].value if pieces[id(node.func)].is_static else None
        elif receiver.is_static:
            function = getattr(receiver.value, node.func.attr)  # type: ignore[union-attr]
        else:
            function = None
        if all(p.is_static for p in pieces.values()) and _is_foldable(function):
            return Val(self.evaluate(node, pieces))
        described = ast.unparse(node.func)
        reason = f"`{described}` is not a recognised function"
        mark = self.mark()
        try:
            val = self._call(node, pieces, receiver, function, args, kwargs)
            if val is not None:
                return val
        except Unsupported as error:
            reason = error.reason
        self.rollback(mark)
        return self.opaque(node, reason, pieces)

    def _call(self, node: ast.Call, pieces: dict[int, Val], receiver: Val | None,
              function: object, args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """Recognise a call; None if it is not recognised."""
        looked_up = self.lookups.call(node, pieces, receiver, args, kwargs)
        if looked_up is not None:
            return looked_up
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if receiver is not None and receiver.ssa is not None:
            typ = receiver.ssa.type
            if attr == "to_numpy" and not args and set(kwargs) <= {"dtype"}:
                dtype = kwargs.get("dtype", Val(None))
                if not dtype.is_static or dtype.value not in (None, float, np.float64, "float64"):
                    return None
                value = self.evaluate(node, pieces)
                if isinstance(typ, FrameType):
                    return self._to_array(receiver, value)
                if isinstance(typ, TensorType) and type_of(value) == typ:
                    return Val(value, receiver.ssa)
            if attr == "toarray" and not args and not kwargs and isinstance(typ, TensorType):
                value = self.evaluate(node, pieces)
                return Val(value, receiver.ssa) if type_of(value) == typ else None
            return None
        if receiver is not None and is_estimator(receiver.value) and attr is not None:
            if attr not in ESTIMATOR_METHODS:
                if attr.startswith("fit"):
                    raise Unsupported(f"{type(receiver.value).__name__}.{attr} refits the "
                                      "estimator at run time")  # fmt: skip
                return None
            if len(args) != 1 or kwargs or args[0].ssa is None:
                return None
            value = self.evaluate(node, pieces)
            val = self.estimators.call(receiver.value, attr, args[0], ast.unparse(node.func.value))
            return Val(value, val.ssa)
        if kwargs and function not in _HSTACKS:
            return None
        if any(function is h for h in _HSTACKS):
            return self._hstack(node, pieces, function, args, kwargs)
        if function is abs or function in UNARY_UFUNCS:
            if (
                len(args) != 1
                or args[0].ssa is None
                or not isinstance(args[0].ssa.type, TensorType)
                or is_sparse(args[0].ssa.type)
            ):
                return None
            name = "abs" if function is abs else UNARY_UFUNCS[function]
            return self._checked(UnaryOp(name, args[0].ssa), self.evaluate(node, pieces))
        if function in _BINARY_UFUNCS and len(args) == 2:
            return self._binary(_BINARY_UFUNCS[function], node, pieces, args[0], args[1])
        if function is np.where and len(args) == 3:
            value = self.evaluate(node, pieces)
            condition = args[0].ssa
            if (
                condition is None
                or not isinstance(condition.type, TensorType)
                or (condition.type.get_element_type() != i1)
            ):
                raise Unsupported("np.where needs a batch of booleans as its condition")
            if args[1].is_static and args[2].is_static:
                raise Unsupported("np.where with two constant branches is not compiled "
                                  "(pipeline.where needs a batch branch)")  # fmt: skip
            try:
                op = WhereOp(condition, self._operand(args[1]), self._operand(args[2]))
            except VerifyException as error:
                raise Unsupported(f"np.where operands do not broadcast: {error}") from None
            return self._checked(op, value)
        return None

    def _hstack(self, node: ast.Call, pieces: dict[int, Val], function: object,
                args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        name = _HSTACKS[function]
        if len(args) != 1 or args[0].items is None:
            return None
        if set(kwargs) - ({"format"} if function is sp.hstack else set()):
            return None
        value = self.evaluate(node, pieces)
        inputs = []
        for item in args[0].items:
            if item.ssa is None or not is_batch(item.ssa.type):
                raise Unsupported(f"{name} of a value that is not a batch of numbers")
            if is_sparse(item.ssa.type) and function is not sp.hstack:
                raise Unsupported(f"{name} of a sparse matrix is not compiled")
            if item.ssa.type.get_num_dims() == 1 and function is not np.column_stack:
                raise Unsupported(f"{name} of a 1-D value concatenates rows")
            inputs.append(item.ssa)
        return Val(value, self.emit(hstack_op(inputs, value, name)).result)

    # endregion


def _classify(name: str, value: object) -> ArgumentSpec:
    """The ArgumentSpec of one example argument."""
    if isinstance(value, pd.DataFrame):
        columns = frame_columns(value)
        if columns is None:
            bad = [c for c in value.columns if not isinstance(c, str)]
            detail = f"column name {bad[0]!r} is not a str" if bad else "a column is neither " \
                "numeric nor text (str)"  # fmt: skip
            raise FrontendError(f"argument {name!r}: unsupported DataFrame: {detail}")
        return ArgumentSpec(name, "frame", frame_type(columns), None, columns)
    if is_text(value):
        return ArgumentSpec(name, "strings", text_type(name), None, [(name, "str")])
    if isinstance(value, np.ndarray):
        if value.ndim == 2 and value.dtype.kind in "fiub":
            return ArgumentSpec(name, "array", batch_of(value.shape[1]), None, None)
        raise FrontendError(
            f"argument {name!r}: a numpy array must be 2-D and numeric or 1-D of str, got "
            f"{value.ndim}-D of dtype {value.dtype}"
        )
    if is_estimator(value) or callable(value) or inspect.ismodule(value) or is_dataclass(value):
        return ArgumentSpec(name, "bound", None, value, None)
    raise FrontendError(
        f"argument {name!r}: unsupported type {type(value).__name__}; expected a pandas "
        "DataFrame, a 2-D numeric numpy array, a list, 1-D array or Series of str, or a "
        "fitted estimator"
    )


def _source(fn: Callable) -> tuple[ast.FunctionDef, int]:
    name = getattr(fn, "__name__", repr(fn))
    if name == "<lambda>":
        raise FrontendError("cannot trace a lambda: its source is not available as a "
                            "function definition; define it with `def`")  # fmt: skip
    if inspect.ismethod(fn) or not inspect.isfunction(fn):
        raise FrontendError(f"cannot trace {name!r}: source is not available "
                            "(only plain Python functions, not builtins or methods)")  # fmt: skip
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as error:
        raise FrontendError(f"cannot trace {name!r}: source is not available ({error})") from None
    tree = ast.parse(source)
    fdef = tree.body[0]
    if not isinstance(fdef, ast.FunctionDef):
        raise FrontendError(f"cannot trace {name!r}: not a plain `def` function")
    return fdef, fn.__code__.co_firstlineno


def statement_lines(fn: Callable) -> list[int]:
    """The line (in its file) of each top-level statement of ``fn``'s body."""
    fdef, first_line = _source(fn)
    return [first_line + stmt.lineno - 1 for stmt in fdef.body]


def trace_to_module(
    fn: Callable, example: tuple, python_block: tuple[int, int, str] | None = None
) -> FrontendResult:
    """Trace ``fn`` on ``example`` (its argument values) into a ``pipeline`` module.

    With ``python_block=(start, stop, why)``, the body's statements ``start`` to ``stop - 1``
    (to the end if they include a ``return``) run as one Python call whose reason is
    ``why``. A ``FrontendError`` is the user's (the code raises on the example, an argument
    is not supported); any other exception is the compiler's.
    """
    fdef, first_line = _source(fn)
    name = fn.__name__
    if not isinstance(example, tuple):
        raise FrontendError(
            f"example for {name!r} must be a tuple of argument values, got {type(example).__name__}"
        )
    parameters = list(inspect.signature(fn).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY) for p in parameters):
        raise FrontendError(f"{name!r}: only positional parameters are supported")
    required = sum(p.default is p.empty for p in parameters)
    if not required <= len(example) <= len(parameters):
        raise FrontendError(
            f"{name!r} takes {len(parameters)} arguments "
            f"({[p.name for p in parameters]}), example has {len(example)}"
        )
    values = list(example) + [p.default for p in parameters[len(example) :]]
    specs = [_classify(p.name, v) for p, v in zip(parameters, values, strict=True)]
    tracer = Tracer(fn, fdef, first_line, python_block)
    data = [s for s in specs if s.kind != "bound"]
    tracer.block = Block(arg_types=[s.type for s in data])  # type: ignore[misc]
    block_args = iter(tracer.block.args)
    for spec, value in zip(specs, values, strict=True):
        if spec.kind == "bound":
            tracer.env[spec.name] = Val(value)
        else:
            copied = value if isinstance(value, tuple) else value.copy()  # type: ignore[union-attr]
            tracer.env[spec.name] = Val(copied, next(block_args))
    returned = tracer.run(fdef.body)
    tracer.emit(func.ReturnOp(*[v.ssa for v in returned]))  # type: ignore[misc]
    materialize_joins(tracer)  # merged frames that leave native code are pandas' own
    function = func.FuncOp(
        name,
        ([s.type for s in data], [v.ssa.type for v in returned]),  # type: ignore[misc]
        Region(tracer.block),
    )
    module = ModuleOp([function])
    dce(module)  # selections and constants that folding or fallbacks left unused
    module.verify()  # a VerifyException is the compiler's failure: wm.compile retries
    returns_sparse = len(returned) == 1 and sp.issparse(returned[0].value)
    return FrontendResult(module, dict(tracer.blobs.arrays), specs, dict(tracer.calls),
                          returns_sparse, tracer.notes, tracer.models)  # fmt: skip
