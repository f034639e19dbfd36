"""Trace a Python inference function into the ``pipeline`` dialect by shadow execution.

Every statement runs on the example values while it is lowered, so each value's type and
width is known. Recognised constructs become ``pipeline`` ops; anything else becomes a
``pipeline.python_call`` that evaluates the original code, in order, with the reason why.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import itertools
import operator
import textwrap
import warnings
from collections.abc import Callable, Collection, Iterable
from dataclasses import is_dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr, TensorType, f32, f64, i1, i64
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue
from xdsl.transforms.dead_code_elimination import dce
from xdsl.utils.exceptions import VerifyException

from willump_mlir.blobs import BlobStore
from willump_mlir.dialects import feature
from willump_mlir.dialects.feature import resolve_column
from willump_mlir.dialects.pipeline import (
    NUMERIC_ELEMENTS,
    PREDICT_METHODS,
    STRING_OPS,
    BinaryOp,
    BroadcastOp,
    CastOp,
    ConstantOp,
    DatetimeType,
    FrameType,
    PythonCallOp,
    SelectColumnsOp,
    StrLenOp,
    StrMatchOp,
    StrSearchOp,
    StrSplitCountOp,
    StrToIntOp,
    StrType,
    TakeColumnOp,
    ToArrayOp,
    TransformOp,
    UnaryOp,
    WhereOp,
    batch_of,
    is_sparse,
    vector_of,
)

from .binning import Binning
from .categories import CategoryColumns
from .dates import DateLowering, fixed_date
from .elementwise import Elementwise
from .estimators import (
    ESTIMATOR_METHODS,
    UNARY_UFUNCS,
    EstimatorLowering,
    hstack_op,
    is_batch,
    is_estimator,
)
from .fallback import (
    PythonFunction,
    Relabel,
    check_aligned,
    index_root,
    layout,
    recipe,
    result_dtypes,
    result_labels,
)
from .frame_eval import FrameEval
from .frames import FrameAssembly, is_frame
from .in_python import why_in_python
from .indexes import empty_frame, index_of, series
from .inlining import (
    LIBRARY_MODULES,
    ChangesArguments,
    Inliner,
    called,
    is_helper,
    passed_to_helper,
)
from .inlining import MUTATORS as _MUTATORS
from .narrow_ints import NarrowInts, has_narrow, is_narrow, one_operation
from .nullable import (
    NullableColumns,
    gives_float64,
    is_nullable,
    no_missing_value,
    refuse_nullable,
)
from .reductions import (
    IN_PYTHON,
    NUMPY_REDUCTIONS,
    REDUCTIONS,
    is_reduction,
    reduce,
    scalar_arithmetic,
)
from .row_apply import RowApply
from .spec import (
    ArgumentSpec,
    FrontendError,
    FrontendResult,
    PythonCall,
    Unsupported,
    ValueSpec,
)
from .stability import record_dtypes
from .string_vocab import StringVocab
from .strings import StringColumns, check_lengths, is_accessor, materialize_strings
from .tables import TableLookups, materialize_joins
from .types import (
    column_kind,
    element_type,
    float32_number,
    frame_columns,
    frame_type,
    is_text,
    refuse_python_columns,
    represents,
    text_type,
    type_of,
)
from .values import Pending, Val

_BINOPS: dict[type, str] = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "power",
    ast.FloorDiv: "floor_divide", ast.Mod: "remainder",
}  # fmt: skip
_LOGICAL: dict[type, str] = {ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor"}
_CMPOPS: dict[type, str] = {
    ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne",
}  # fmt: skip
_BINARY_UFUNCS: dict[object, str] = {
    np.add: "add", np.subtract: "sub", np.multiply: "mul", np.divide: "div",
    np.maximum: "maximum", np.minimum: "minimum", np.power: "power",
    np.floor_divide: "floor_divide", np.remainder: "remainder", np.fmod: "fmod",
    np.fmax: "fmax", np.fmin: "fmin", np.arctan2: "arctan2", np.copysign: "copysign",
    np.hypot: "hypot",
    np.less: "lt", np.less_equal: "le", np.greater: "gt", np.greater_equal: "ge",
    np.equal: "eq", np.not_equal: "ne",
}  # fmt: skip
#: Python's comparisons, by AST operator; and each with its operands swapped.
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}  # fmt: skip
_FLIPPED = {operator.lt: operator.gt, operator.gt: operator.lt, operator.le: operator.ge,
            operator.ge: operator.le}  # fmt: skip
#: ``np.isnan``, ``np.isinf``, ``np.isfinite`` of a batch: ``x != x``, ``|x| == inf``,
#: ``|x| < inf`` (false for ints, as numpy's).
_FLOAT_TESTS: dict[object, str] = {np.isnan: "ne", np.isinf: "eq", np.isfinite: "lt"}
#: pandas' arithmetic and comparison methods (``s.add(other)``...): the ``pipeline.binary``
#: function, and whether the receiver is the right operand (``s.rsub(1)`` is ``1 - s``).
_METHODS: dict[str, tuple[str, bool]] = {
    "add": ("add", False), "radd": ("add", True), "sub": ("sub", False),
    "subtract": ("sub", False), "rsub": ("sub", True), "mul": ("mul", False),
    "multiply": ("mul", False), "rmul": ("mul", True), "div": ("div", False),
    "truediv": ("div", False), "divide": ("div", False), "rdiv": ("div", True),
    "rtruediv": ("div", True), "floordiv": ("floor_divide", False),
    "rfloordiv": ("floor_divide", True), "mod": ("remainder", False),
    "rmod": ("remainder", True), "pow": ("power", False), "rpow": ("power", True),
    "lt": ("lt", False), "le": ("le", False), "gt": ("gt", False), "ge": ("ge", False),
    "eq": ("eq", False), "ne": ("ne", False),
}  # fmt: skip
#: ``astype`` targets compiled natively, by numpy dtype (``int`` is int64, ``float`` float64).
_CASTS = {np.dtype(np.int64): i64, np.dtype(np.float64): f64, np.dtype(np.float32): f32,
          np.dtype(np.bool_): i1}  # fmt: skip
#: Rounding functions, by the keyword naming their digits.
_ROUNDS: dict[object, str] = {round: "ndigits", np.round: "decimals", np.around: "decimals"}
#: Why numpy's reductions of a matrix's rows (``np.nansum(X, axis=1)``) run in Python.
ARRAY_ROW_REDUCTION = (
    "numpy's reductions along an axis are not compiled: a float matrix's row sums round by "
    "the array's memory layout, which native code does not see (a C-ordered array's rows are "
    "summed pairwise, a Fortran-ordered one's, as a DataFrame's .values, column by column)"
)
_HSTACKS: dict[object, str] = {np.hstack: "np.hstack", np.column_stack: "np.column_stack",
                               sp.hstack: "scipy.sparse.hstack"}  # fmt: skip
#: Calls on static values only that are folded at compile time (pure functions).
_FOLDABLE_BUILTINS = {len, int, float, str, bool, list, tuple, dict, range, sorted, min, max,
                      abs, sum, round, zip, enumerate, set, frozenset,
                      pd.CategoricalDtype, pd.Series}  # fmt: skip
#: numpy's row extremes of an array, by the method they are (``_row_extreme``).
_ARRAY_EXTREMES = {np.max: "max", np.amax: "max", np.min: "min", np.amin: "min"}
#: Methods of a static dict folded at compile time (they do not change it).
_DICT_VIEWS = {"items", "keys", "values", "get"}
#: Methods of a static DataFrame, Series or groupby folded at compile time without
#: ``inplace=`` (they give a new object: ``table.set_index("id")["mean"]``; the refit guard
#: checks the table itself on every call).
_PANDAS_PURE = frozenset({
    "set_index", "reset_index", "rename", "drop", "drop_duplicates", "dropna", "fillna",
    "astype", "copy", "sort_values", "sort_index", "reindex", "to_dict", "head", "tail",
    "add_prefix", "add_suffix", "groupby", "mean", "median", "sum", "min", "max", "count",
    "std", "var", "first", "last", "size", "nunique", "unique", "value_counts", "round",
    "squeeze", "to_frame", "rename_axis", "assign",
})  # fmt: skip
_PANDAS_OWNERS = (pd.DataFrame, pd.Series, pd.core.groupby.GroupBy)
#: The most iterations a loop or comprehension is unrolled for while tracing.
_MAX_UNROLL = 256

#: Why ``frame.sum(axis=1)`` / ``.mean(axis=1)`` runs in Python (pandas 3.1, numpy 2.4).
ROW_SUM_LAYOUT = (
    "pandas' sum(axis=1) and mean(axis=1) round by the frame's blocks, which native code "
    "does not see: one float64 block of 6 rows or more adds the columns in order from 0.0, "
    "fewer rows take the transpose, whose copy when a value is NaN numpy sums pairwise from "
    "9 columns on, and a frame of several blocks adds the sums of its blocks"
)
#: Static iterables unrolled while tracing (sets are not: their order is the hash's).
_UNROLLED = (list, tuple, range, dict, type({}.keys()), type({}.values()), type({}.items()),
             zip, enumerate, str, pd.Index)  # fmt: skip
_STATEMENT_NAMES: dict[type, str] = {
    ast.For: "a for loop", ast.While: "a while loop", ast.If: "an if statement",
    ast.With: "a with statement", ast.Try: "a try statement",
}  # fmt: skip


def describe(error: Exception) -> str:
    """``Type: message``, the message on one line and cut to 200 characters."""
    message = " ".join(str(error).split())
    cut = message[:199] + "…" if len(message) > 200 else message
    return f"{type(error).__name__}: {cut}" if message else type(error).__name__


def reason_of(error: Exception) -> str:
    """Why a statement runs in Python: its ``Unsupported`` reason, or the compiler's failure."""
    if isinstance(error, (Unsupported, ChangesArguments)):
        return error.reason
    return f"compiling it failed: {describe(error)}"


def _booleans(val: Val) -> bool:
    """A dense batch of booleans (``i1``)."""
    typ = val.ssa.type if val.ssa is not None else None
    return isinstance(typ, TensorType) and typ.get_element_type() == i1 and not is_sparse(typ)


def _number(val: Val) -> bool:
    """A static int or float (not a bool)."""
    return val.is_static and isinstance(val.value, (int, float, np.integer, np.floating)) \
        and not isinstance(val.value, (bool, np.bool_))  # fmt: skip


def _is_foldable(function: object, kwargs: dict[str, Val]) -> bool:
    if any(function is f for f in _FOLDABLE_BUILTINS):
        return True
    module = getattr(function, "__module__", None) or ""
    owner = getattr(function, "__self__", None)
    if isinstance(owner, (str, pd.Index)) or (
        isinstance(owner, dict) and getattr(function, "__name__", None) in _DICT_VIEWS
    ):  # "_".join(names), df.columns.drop("id"), table.items(): pure methods of immutable or
        # unchanged values
        return True
    if isinstance(owner, _PANDAS_OWNERS) and "inplace" not in kwargs:
        return getattr(function, "__name__", None) in _PANDAS_PURE
    return module.split(".")[0] in ("numpy", "math") or is_estimator(owner)


def _unrolled(iterable: Val, what: str) -> list[object]:
    """The items of a static, finite iterable that ``what`` (a loop) is unrolled over."""
    if not iterable.is_static or not isinstance(iterable.value, _UNROLLED):
        raise Unsupported(f"{what} over a value that is not a static list, tuple, range, dict "
                          "or zip/enumerate of them is not compiled")  # fmt: skip
    items = list(itertools.islice(iterable.value, _MAX_UNROLL + 1))  # type: ignore[call-overload]
    if len(items) > _MAX_UNROLL:
        raise Unsupported(f"{what} over more than {_MAX_UNROLL} items is not unrolled")
    return items


def _immutable(value: object) -> bool:
    """A value that cannot change between calls: a number, str, None, a tuple of them, a
    function, a type or a library module (``len``, ``pd.DataFrame``)."""
    if isinstance(value, tuple):
        return all(_immutable(v) for v in value)
    if inspect.ismodule(value):
        return value.__name__.split(".")[0] in LIBRARY_MODULES
    return value is None or isinstance(value, (int, float, str, bytes, np.generic, type)) or \
        inspect.isroutine(value)  # fmt: skip


def _holds(container: object, obj: object) -> bool:
    """Whether the list, tuple or dict ``container`` holds ``obj`` (at any depth)."""
    if isinstance(container, dict):
        container = list(container.values())
    if not isinstance(container, (list, tuple)):
        return False
    return any(item is obj or _holds(item, obj) for item in container)


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


def _mutates(node: ast.Call) -> bool:
    """Whether ``receiver.method(...)`` may change its receiver in place: a mutating
    method, or ``inplace=True``."""
    inplace = any(k.arg == "inplace" and not (isinstance(k.value, ast.Constant)
                                              and k.value.value is False)
                  for k in node.keywords)  # fmt: skip
    return isinstance(node.func, ast.Attribute) and (node.func.attr in _MUTATORS or inplace)


def _mutated_receiver(node: ast.AST) -> str | None:
    """``name`` of ``name.method(...)`` when the call may change ``name`` in place."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)):  # fmt: skip
        return None
    return node.func.value.id if _mutates(node) else None


def _root_name(node: ast.expr) -> str | None:
    """``X`` of ``X["h"]``, ``X.h`` or ``X.loc[:, "h"]``; None for another expression."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _called_on(node: ast.expr) -> list[str]:
    """The names a call whose result is discarded may change: its receiver and its
    arguments (``np.nan_to_num(a, copy=False)``, ``np.copyto(a, b)``, ``df.drop(...,
    inplace=True)``), and the frame a changed receiver is read from (``X["h"].where(...,
    inplace=True)``: a Python call of it would change the native column it is given,
    which ``X`` shares, where pandas changes a copy); none for another expression."""
    if not isinstance(node, ast.Call):
        return []
    names = [a.id for a in (*node.args, *(k.value for k in node.keywords))
             if isinstance(a, ast.Name)]  # fmt: skip
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        names.insert(0, node.func.value.id)
    elif _mutates(node) and (root := _root_name(node.func.value)) is not None:  # type: ignore[attr-defined]
        names.insert(0, root)
    return names


def _copy_of(value: object) -> object:
    """A copy of a compile-time value a Python block may change, made at every call."""
    return value.copy() if hasattr(value, "copy") else copy.copy(value)  # type: ignore[attr-defined]


def _stored_names(stmts: list[ast.stmt]) -> list[str]:
    """Names that statements (re)bind or mutate, in first-seen order."""
    stored: list[str] = []
    for stmt in stmts:
        for sub in ast.walk(stmt):
            targets: list[ast.AST] = []
            mutated = _mutated_receiver(sub)
            if isinstance(sub, ast.Expr):  # a call for its effect: on its names
                targets = [ast.Name(n, ast.Store()) for n in _called_on(sub.value)]
            elif mutated is not None:
                targets = [ast.Name(mutated, ast.Store())]
            elif isinstance(sub, ast.Assign):
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
        self.blobs = BlobStore()
        self.models: dict[Operation, object] = {}  # estimator op -> its estimator
        self.calls: dict[str, PythonCall] = {}
        self.notes: list[str] = []
        self.estimators = EstimatorLowering(self)
        self.lookups = TableLookups(self)
        self.frames = FrameAssembly(self)
        self.categories = CategoryColumns(self)
        self.elementwise = Elementwise(self)
        self.binning = Binning(self)
        self.rows = RowApply(self)
        self.frame_eval = FrameEval(self)
        self.vocab = StringVocab(self)
        self.dates = DateLowering(self)
        self.narrow = NarrowInts(self)
        self.strings = StringColumns(self)
        self.nullable = NullableColumns(self)
        self.inliner = Inliner(self)
        self._evaluating = False  # an assembled frame is its example value, not a Python op
        self.examples: dict[SSAValue, object] = {}  # arguments' and Python results' examples
        self.named: set[tuple[int, str]] = set()  # (data argument, column) the code names
        self.ordered: set[int] = set()  # data arguments whose column names the code reads
        self.dtyped: set[tuple[int, str]] = set()  # (data argument, column) select_dtypes reads
        self.nonempty: set[int] = set()  # data arguments whose emptiness a branch tests
        self.deferred: set[tuple[int, str]] = set()  # (see ``left_to_pandas``)
        # a value -> one whose rows (and index) it has: a Python call's pandas result -> the
        # argument whose index it is checked to keep; an array assigned as a frame's column
        # -> a value with the frame's rows (pandas gives the column the frame's index)
        self.index_roots: dict[SSAValue, SSAValue] = {}
        self._counter = 0
        self._callees = 0  # never rolled back: a callee name is never given twice
        self._stmt: ast.stmt | None = None
        self._lists: list[Val] = []  # the lists this function builds (displays, appends)
        # (start, stop, why): the body's statements [start, stop) run as one Python call
        self.python_block = python_block

    # region Emission

    def emit(self, op: Operation) -> Operation:
        """Append ``op`` to the function body (a selection's columns are ``named``)."""
        self.block.add_op(op)
        if isinstance(op, SelectColumnsOp):
            self.name_columns(op.frame, [c.data for c in op.columns.data])
        return op

    def name_columns(self, frame: SSAValue, names: list[str]) -> None:
        """Record the columns ``names`` of ``frame`` that are an argument's in ``named``: the
        code names them, so a batch without one runs the original."""
        for name in names:
            source, column = resolve_column(frame, name)
            if isinstance(source, BlockArgument) and isinstance(column, str):
                self.named.add((source.index, column))

    def left_to_pandas(self, frame: SSAValue) -> None:
        """Record the argument columns of ``frame`` (a str column or a frame) that code native
        code may never compute reads (a str column's ``fillna(0)``, built in Python only if
        read) in ``deferred``: pandas computes it on the batch's column, and may raise
        there (``fillna(0)`` of a category column)."""
        for name, _ in frame.type.columns:  # type: ignore[attr-defined]
            source, column = resolve_column(frame, name)
            if isinstance(source, BlockArgument) and isinstance(column, str):
                self.deferred.add((source.index, column))

    def mark(self) -> tuple[int, int, int]:
        """A point to roll emission back to: how many ops, calls and blobs exist."""
        return len(self.block.ops), len(self.calls), len(self.blobs)

    def rollback(self, mark: tuple[int, int, int]) -> None:
        """Erase everything emitted since ``mark`` (a nested rollback may have begun it)."""
        ops, calls, blobs = mark
        while len(self.block.ops) > ops:
            self.block.erase_op(self.block.last_op)  # type: ignore[arg-type]
        for key in list(self.calls)[calls:]:
            del self.calls[key]
        self.blobs.truncate(blobs)

    def _fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"_wm_{prefix}{self._counter}"

    def callee(self, hint: str) -> str:
        """A fresh name for a Python call."""
        self._callees += 1
        return f"py{self._callees - 1}_{hint}"

    def where(self) -> str:
        """``fn line N`` of the statement being traced (``helper line N of file`` in an
        inlined helper)."""
        line = self.first_line + (self._stmt.lineno - 1 if self._stmt else 0)
        if self.inliner.active:
            return self.inliner.where(line)
        return f"{self.fn.__name__} line {line}"

    def python_op(
        self, hint: str, function: Callable, operands: list[Val], reason: str, source: str,
        results: int | None = None, wraps: bool = False, packs: bool = False,
    ) -> Val:  # fmt: skip
        """Emit a ``pipeline.python_call`` of ``function``; run it on the example values.

        ``results`` is the length of the tuple ``function`` returns, or None if its result is
        the one value. Operands computed natively reach ``function`` as the objects the
        example had (:mod:`.fallback`); ``Unsupported`` if one cannot.
        """
        sources: list[SSAValue] = []
        rebuilds = [(recipe(o.value, o.ssa, self.examples, sources, self.index_roots)
                     or layout(o.value)) if o.ssa is not None else None
                    for o in operands]  # fmt: skip
        try:
            value = function(*[o.value for o in operands])
        except Exception as error:
            raise FrontendError(
                f"{self.where()}: `{source}` raised {type(error).__name__}: {error}"
            ) from error
        values = list(value) if results is not None else [value]
        roots = [index_root(v, self.examples, sources) for v in values]
        guards = tuple((k, sources.index(r)) for k, r in enumerate(roots) if r is not None)
        callee = self.callee(hint)
        types: list[Attribute] = [type_of(v, callee) for v in values]
        args = [o.ssa for o in operands] + sources
        op = self.emit(PythonCallOp(callee, args, types, reason, source))
        self.index_roots.update(
            (r, root) for r, root in zip(op.results, roots, strict=True) if root is not None
        )
        dtypes = tuple((k, d) for k, v in enumerate(values) if (d := result_dtypes(v)) is not None)
        labels = tuple((k, a) for k, v in enumerate(values) if (a := result_labels(v)) is not None)
        called = PythonFunction(function, rebuilds, results is not None, guards, dtypes, labels)
        self.calls[callee] = PythonCall(callee, called, reason, source, wraps, packs)
        self.examples.update(zip(op.results, values, strict=True))
        if not wraps:
            self.notes.append(f"{self.where()}: `{source}` runs in Python: {reason}")
        if results is not None:
            return Val(value, items=[Val(v, r) for v, r in zip(values, op.results, strict=True)])
        return Val(value, op.results[0])

    # endregion
    # region Python fallbacks

    def _placeholder(self, val: Val, operands: list[Val]) -> ast.expr:
        if val.index_of is not None and val.columns is None:  # frame.index
            if self._evaluating:
                val = Val(val.value)
            else:
                return ast.Attribute(self._placeholder(val.index_of, operands), "index",
                                     ast.Load())  # fmt: skip
        if val.columns is not None:  # an assembled frame: its example, or the Python frame
            val = Val(val.value) if self._evaluating else self.frames.materialize(val)
        if val.category is not None:  # a categorical column: its example, or the Python one
            val = Val(val.value) if self._evaluating else self.categories.materialize(val)
        if val.pending is not None:  # get_dummies or fillna: its example, or pandas' own
            val = Val(val.value) if self._evaluating else self.vocab.materialize(val)
        if val.datetime is not None:  # a native datetime: its example, or the Python one
            val = Val(val.value) if self._evaluating else self.dates.materialize(val)
        if val.ssa is not None:
            for i, known in enumerate(operands):
                if known.ssa is val.ssa and known.value is val.value:
                    return ast.Name(f"_wm_a{i}", ast.Load())
            operands.append(val)
            return ast.Name(f"_wm_a{len(operands) - 1}", ast.Load())
        if val.items is not None and isinstance(val.value, dict):
            keys = [self._placeholder(Val(k), operands) for k in val.value]
            values = [self._placeholder(v, operands) for v in val.items]
            return ast.Dict(keys, values)  # type: ignore[arg-type]
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
        self._evaluating = True
        try:
            function, operands = self._lambda(node, pieces)
        finally:
            self._evaluating = False
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

    def opaque_statements(self, stmts: list[ast.stmt], reason: str, returns: bool,
                          changes: Collection[str] = ()) -> Val:  # fmt: skip
        """Statements as one Python function; yields the return value or the rebound names
        (and the names in ``changes``, which a helper they call changes in place)."""
        operands: list[Val] = []
        loaded = {n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name)}
        changed = set(_stored_names(stmts)) | set(changes)
        prologue = []
        for var in sorted(loaded & set(self.env)):
            value: ast.expr = self._placeholder(self.env[var], operands)
            static = self.env[var].value if self.env[var].is_static else None
            if isinstance(static, (list, dict, set)) or var in changed and (
                not self.env[var].is_static
                or isinstance(static, (pd.DataFrame, pd.Series, np.ndarray))
            ):  # the block may change the value (a compile-time one, an argument, a native
                # buffer other values share): it gets its own copy at every call
                self.ns["_wm_copy"] = _copy_of
                value = ast.Call(ast.Name("_wm_copy", ast.Load()), [value], [])
            prologue.append(ast.Assign([ast.Name(var, ast.Store())], value))
        stored: list[str] = [] if returns else _stored_names(stmts)
        stored += [] if returns else sorted(set(changes) - set(stored))
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
        # ``Unsupported`` here (an operand the code cannot be given as the original object)
        # is a compiler failure: the statement that produced the operand must run in Python
        if returns:
            return self.python_op("tail", self.ns[name], operands, reason, source)
        result = self.python_op("block", self.ns[name], operands, reason, source, len(stored))
        for var, val in zip(stored, result.items or [], strict=True):
            old = self.env.get(var)
            for alias, bound in list(self.env.items()):  # the block changed the one object
                if bound is old and alias not in stored:
                    self.env[alias] = val
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
            later_block = block is not None and block[0] > i  # its indices are this body's
            branch = self._static_branch(stmt) if self.inliner.active or (
                nested_return and not later_block) else None  # fmt: skip
            if branch is None and nested_return and not later_block:
                branch = self._emptiness_branch(stmt)
            if branch is not None:  # an `if` on a constant, a helper's arguments, emptiness
                return self.run(branch + body[i + 1 :])
            if nested_return and not isinstance(stmt, ast.Return):
                kind = _STATEMENT_NAMES.get(type(stmt), f"a {type(stmt).__name__} statement")
                reason = f"{kind} containing return is not compiled"
                return [self.opaque_statements(body[i:], reason, returns=True)]
            mark, env, notes = self.mark(), dict(self.env), len(self.notes)
            returned = self.returned(stmt) if isinstance(stmt, ast.Return) else None
            if returned is None:
                self.statement(stmt)
            if self.lookups.rows_change is not None and self.inliner.active:
                raise Unsupported(self.lookups.rows_change)  # the caller's rest: in Python
            if self.lookups.rows_change is not None:  # the rest runs on other rows: in Python
                self.rollback(mark)
                self.env, self.notes[notes:] = env, []
                reason, self.lookups.rows_change = self.lookups.rows_change, None
                return [self.opaque_statements(body[i:], reason, returns=True)]
            if returned is not None:
                return returned
        return self._returned(None)

    def _static_branch(self, stmt: ast.stmt) -> list[ast.stmt] | None:
        """The statements an ``if`` runs when its condition is known at compile time (a
        helper's ``if times == 0:``) and reads no global that may change (a dict); None for
        another statement or condition."""
        if not isinstance(stmt, ast.If) or not all(
            n.id in self.env or _immutable(self.ns.get(n.id))
            for n in ast.walk(stmt.test) if isinstance(n, ast.Name)
        ):  # fmt: skip
            return None  # a global dict or list may change between calls: Python decides
        mark, notes = self.mark(), len(self.notes)
        try:
            test = self.lower(stmt.test)
            if test.is_static:
                return stmt.body if bool(test.value) else stmt.orelse
        except (Unsupported, ChangesArguments, ValueError, TypeError):
            pass
        self.rollback(mark)
        self.notes[notes:] = []
        return None

    def _emptiness_branch(self, stmt: ast.stmt) -> list[ast.stmt] | None:
        """The statements an ``if`` on whether a data argument is empty (``len(df) == 0``,
        ``not len(X)``, ``X.shape[0] > 0``) runs on the example's rows, which every non-empty
        batch takes too: the argument is ``nonempty`` (an empty batch runs the original).
        None for another statement or condition, or an empty example."""
        if not isinstance(stmt, ast.If):
            return None
        test, negated = stmt.test, False
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, negated = test.operand, not negated
        rows, compare, bound = test, operator.ne, 0  # `if len(df):` is `len(df) != 0`
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _COMPARE:
            left, right = test.left, test.comparators[0]
            compare = _COMPARE[type(test.ops[0])]
            if isinstance(left, ast.Constant):  # 0 == len(df)
                left, right, compare = right, left, _FLIPPED.get(compare, compare)
            if not (isinstance(right, ast.Constant) and type(right.value) is int
                    and right.value in (0, 1)):  # fmt: skip
                return None
            rows, bound = left, right.value
        empty, one, two = (compare(n, bound) for n in (0, 1, 2))
        position = self._row_count_of(rows)
        if position is None or one != two or empty == one:
            return None  # decided by more than emptiness, or not by it at all
        self.nonempty.add(position)
        return stmt.body if one != negated else stmt.orelse

    def _row_count_of(self, node: ast.expr) -> int | None:
        """The block argument position of ``X`` in ``len(X)`` or ``X.shape[0]``, ``X`` a data
        argument as given, with rows on the example; None for another expression."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1 \
                and not node.keywords and self._lower_Name(node.func).value is len:  # fmt: skip
            name = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "shape" and isinstance(node.slice, ast.Constant) \
                and node.slice.value == 0:  # fmt: skip
            name = node.value.value
        else:
            return None
        val = self.env.get(name.id) if isinstance(name, ast.Name) else None
        if val is None or not isinstance(val.ssa, BlockArgument) or not _rows(val.value):
            return None
        return val.ssa.index

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
            return [self.opaque_statements([stmt], reason_of(error), returns=True)]

    def _returned(self, node: ast.expr | None) -> list[Val]:
        val = self.lower(node) if node is not None else Val(None)
        if self.inliner.active:  # an inlined helper's value, as the caller's expression
            return [val]
        if val.items is not None and isinstance(val.value, tuple):
            # the items are computed natively; the tuple the caller gets is packed in Python
            items = [self.materialize(v) for v in val.items]
            return [self.materialize(Val(val.value, items=items))]
        return [self.materialize(val)]

    def materialize(self, val: Val) -> Val:
        """A value with an SSA value: static and list values go through a Python op."""
        if val.ssa is not None:
            return val
        if val.columns is not None:
            return self.frames.materialize(val)
        if val.category is not None:
            return self.categories.materialize(val)
        if val.pending is not None:
            return self.vocab.materialize(val)
        if val.datetime is not None:
            return self.dates.materialize(val)
        operands = [v for v in (val.items or []) if v.ssa is not None]
        if val.items is not None and len(operands) == len(val.items):
            kind, keys = type(val.value), list(val.value)  # type: ignore[call-overload]

            def pack(*values: object) -> object:
                return dict(zip(keys, values, strict=True)) if kind is dict else kind(values)

            return self.python_op("pack", pack, operands, "a list, tuple or dict of values "
                                  "stays in Python", f"{kind.__name__}(...)",
                                  packs=True)  # fmt: skip
        if val.items is not None:
            raise Unsupported("a returned list, tuple or dict that mixes data and constants is "
                              "not compiled")  # fmt: skip
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
            changes = error.names if isinstance(error, ChangesArguments) else ()
            self.opaque_statements([stmt], reason_of(error), returns=False, changes=changes)

    def _statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            popped = self._popped(stmt.value)
            val = self.lower(stmt.value) if popped is None else popped
            for target in stmt.targets:
                self.bind(target, val)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.bind(stmt.target, self.lower(stmt.value))
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            load = ast.Name(stmt.target.id, ast.Load())
            expr = ast.copy_location(ast.BinOp(load, stmt.op, stmt.value), stmt)
            self.bind(stmt.target, self.lower(expr))
        elif isinstance(stmt, ast.Expr):
            docstring = isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
            if docstring or self._append(stmt.value) or self._in_place(stmt.value):
                return
            changed = [n for n in _called_on(stmt.value) if n in self.env]
            if changed and not self._calls_helper(stmt.value):
                raise Unsupported(f"a call for its effect may change {', '.join(changed)} in "
                                  "place: the statement runs in Python and rebinds them")
            self.lower(stmt.value)
        elif isinstance(stmt, ast.For):
            self._for(stmt)
        elif isinstance(stmt, ast.If):
            self._if(stmt)
        elif isinstance(stmt, ast.Pass):
            pass
        elif isinstance(stmt, ast.Delete) and all(
            isinstance(t, ast.Subscript) and self._in_place(
                ast.copy_location(ast.Call(ast.Attribute(t.value, "pop", ast.Load()), [t.slice],
                                           []), stmt))  # fmt: skip
            for t in stmt.targets
        ):  # ``del X["c"]``: ``X.pop("c")``
            pass
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            scope: dict[str, Any] = {}
            exec(compile(ast.Module([stmt], []), "<willump import>", "exec"), self.ns, scope)
            self.env.update({k: Val(v) for k, v in scope.items()})
        else:
            kind = _STATEMENT_NAMES.get(type(stmt), f"a {type(stmt).__name__} statement")
            raise Unsupported(f"{kind} is not compiled")

    def _calls_helper(self, node: ast.expr) -> bool:
        """Whether ``node`` calls a user function by name (``feats(df)``): the inliner
        sees what it changes in place."""
        def lookup(name: str) -> object:
            val = self.env.get(name, Val(self.ns.get(name)))
            return val.value if val.is_static else None

        return is_helper(called(node, lookup))

    def _append(self, node: ast.expr) -> bool:
        """``name.append(x)`` of a list the function built (``out = []``): ``name`` is bound
        to the list with ``x`` as its last item; False for another expression."""
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append" and isinstance(node.func.value, ast.Name)
            and len(node.args) == 1 and not isinstance(node.args[0], ast.Starred)
            and not node.keywords
        ):  # fmt: skip
            return False
        owner = self.env.get(node.func.value.id)
        if owner is None or not any(owner is built for built in self._lists):
            return False
        if any(_holds(bound.value, owner.value) for bound in self.env.values()):
            return False  # another value holds the list: it would see the append
        item = self.lower(node.args[0])
        items = owner.items if owner.items is not None else [Val(v) for v in owner.value]  # type: ignore[attr-defined]
        appended = self._list([*items, item])
        for var, bound in list(self.env.items()):  # every name bound to the list sees it
            if bound is owner:
                self.env[var] = appended
        return True

    def _in_place(self, node: ast.expr) -> bool:
        """``X.fillna(..., inplace=True)`` (or ``drop``, ``rename``) of a frame ``X``,
        ``X.pop(c)`` whose column is discarded, or ``X.insert(k, c, value)``: ``X``, and
        every name bound to the same frame, is bound to the call's result without it (the
        frame with the column); False for another expression."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)):  # fmt: skip
            return False
        owner = self.env.get(node.func.value.id)
        if owner is None or not is_frame(owner):
            return False
        if any(_holds(bound.value, owner.value) for bound in self.env.values()):
            return False  # a list or dict holds the frame: it would see the change
        receiver, attr = node.func.value, node.func.attr
        flags = [k for k in node.keywords if k.arg == "inplace"]
        if attr == "insert" and len(node.args) == 3 and not node.keywords:
            position, name, column = (self.lower(a) for a in node.args)
            result = self.frames.insert(owner, position, name, column)
        elif attr == "pop" and len(node.args) == 1 and not node.keywords:
            columns = ast.keyword("columns", ast.List([node.args[0]], ast.Load()))
            call = ast.Call(ast.Attribute(receiver, "drop", ast.Load()), [], [columns])
        elif attr in ("fillna", "drop", "rename") and len(flags) == 1 \
                and isinstance(flag := flags[0].value, ast.Constant) and flag.value is True:
            call = ast.Call(node.func, node.args, [k for k in node.keywords if k not in flags])
        else:
            return False
        if attr != "insert":
            result = self.lower(ast.fix_missing_locations(ast.copy_location(call, node)))
        for var, bound in list(self.env.items()):
            if bound is owner:
                self.env[var] = result
        return True

    def _popped(self, node: ast.expr) -> Val | None:
        """``X.pop(c)`` of a frame ``X`` as an assigned value (``y = X.pop("y")``): ``X[c]``,
        with ``X`` rebound without it as ``_in_place`` does; None for another expression."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "pop" and isinstance(node.func.value, ast.Name)
                and len(node.args) == 1 and not node.keywords
                and is_frame(self.env.get(node.func.value.id, Val(None)))):  # fmt: skip
            return None
        column = self.lower(ast.copy_location(ast.Subscript(node.func.value, node.args[0],
                                                            ast.Load()), node))  # fmt: skip
        if not self._in_place(node):
            raise Unsupported("X.pop(c) of a frame a list or dict holds is not compiled")
        return column

    def _list(self, items: list[Val]) -> Val:
        """A new list of ``items`` built by the function (its ``append`` is traced)."""
        value = [v.value for v in items]
        val = Val(value) if all(v.is_static for v in items) else Val(value, items=items)
        self._lists.append(val)
        return val

    def _if(self, stmt: ast.If) -> None:
        """``if USE_LOG:`` on a value known at compile time (an immutable global, a bound
        argument), or on a data argument's emptiness: the statements of its one branch are
        traced (each runs in Python on its own if not compiled)."""
        branch = self._static_branch(stmt)
        if branch is None:
            branch = self._emptiness_branch(stmt)
        if branch is None:
            raise Unsupported("an if statement is not compiled")
        for sub in branch:
            self.statement(sub)

    def _for(self, stmt: ast.For) -> None:
        """Unroll ``for target in <static iterable>:``: each body statement is traced once per
        item with the target bound to it (and runs in Python on its own if not compiled)."""
        if stmt.orelse:
            raise Unsupported("a for loop with an else clause is not compiled")
        if any(isinstance(n, (ast.Break, ast.Continue, ast.Return))
               for s in stmt.body for n in ast.walk(s)):  # fmt: skip
            raise Unsupported("a for loop with break, continue or return is not compiled")
        if not all(isinstance(n, (ast.Name, ast.Tuple, ast.List)) for n in ast.walk(stmt.target)
                   if not isinstance(n, ast.expr_context)):  # fmt: skip
            raise Unsupported(f"a for loop assigning to `{ast.unparse(stmt.target)}` is not "
                              "compiled")  # fmt: skip
        for item in _unrolled(self.lower(stmt.iter), "a for loop"):
            self.bind(stmt.target, Val(item))
            for sub in stmt.body:
                self.statement(sub)

    def bind(self, target: ast.expr, val: Val) -> None:
        """Assign a traced value to a target."""
        if isinstance(target, ast.Name):
            self.env[target.id] = val
        elif isinstance(target, ast.Subscript) and self._assign_column(target, val):
            return
        elif val.columns is not None:
            raise Unsupported("unpacking a DataFrame is not compiled")
        elif isinstance(target, (ast.Tuple, ast.List)) and not any(
            isinstance(t, ast.Starred) for t in target.elts
        ):
            if val.items is not None and isinstance(val.value, dict):  # unpacks the keys
                items = [Val(k) for k in val.value]
            elif val.items is not None and len(val.items) == len(target.elts):
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

    def _assign_column(self, target: ast.Subscript, val: Val) -> bool:
        """``X["c"] = val``, ``X.loc[:, "c"] = val`` or ``X.loc[mask, "c"] = val`` on a frame
        ``X``: every name bound to the same frame sees the new column, as pandas mutates the
        one object."""
        owner, key = target.value, target.slice
        rows: ast.expr | None = None  # X.loc[mask, "c"] = val: the rows' mask
        if isinstance(owner, ast.Attribute) and owner.attr == "loc":
            if not (isinstance(key, ast.Tuple) and len(key.elts) == 2):
                return False
            whole = key.elts[0]
            if not (isinstance(whole, ast.Slice) and whole.lower is whole.upper is whole.step
                    is None):  # fmt: skip
                rows = whole
            owner, key = owner.value, key.elts[1]
        if not isinstance(owner, ast.Name) or owner.id not in self.env:
            return False
        frame, name = self.env[owner.id], self.lower(key)
        if not is_frame(frame) or not name.is_static:
            return False
        if rows is not None:
            if not isinstance(name.value, str):
                return False
            if _missing_of(rows, owner.id, name.value) and _fills(frame.value, name.value, val):
                # X.loc[X["c"].isna(), "c"] = v is X["c"].fillna(v), for str columns too
                constant = self._fresh("s")
                self.ns[constant] = val.value
                column = ast.Subscript(ast.Name(owner.id, ast.Load()), key, ast.Load())
                fill = ast.Call(ast.Attribute(column, "fillna", ast.Load()),
                                [ast.Name(constant, ast.Load())], [])  # fmt: skip
                filled = self.lower(ast.fix_missing_locations(ast.copy_location(fill, target)))
                assigned = self.frames.assign(frame, name.value, filled)
            else:
                assigned = self.frames.assign_where(frame, name.value, self.lower(rows), val)
        elif isinstance(name.value, list) and owner is target.value:  # not .loc, which aligns
            assigned = self.frames.assign_columns(frame, name.value, val)
        elif isinstance(name.value, str):
            assigned = self.frames.assign(frame, name.value, val, loc=owner is not target.value)
        else:
            return False
        for var, bound in list(self.env.items()):
            if bound is frame:
                self.env[var] = assigned
        return True

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
        """Fold a static expression, else run it in Python over its free names (a lambda
        calling functions too: making it calls none)."""
        if all(n.id not in self.env or self.env[n.id].is_static
               for n in ast.walk(node) if isinstance(n, ast.Name)) and (
            isinstance(node, ast.Lambda) or not any(isinstance(n, ast.Call) for n in ast.walk(node))
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
            val = self.narrow.lower(node, pieces, build) if has_narrow(pieces) \
                and one_operation(node, None) else build()  # fmt: skip
            if val is not None:
                return val
        except Unsupported as error:
            reason = error.reason
        self.rollback(mark)
        return self.opaque(node, reason, pieces)

    def _checked(self, op: Operation, value: object) -> Val:
        """Emit ``op`` whose result must have the type of the example ``value`` (and whose
        pandas operands have one index: pandas would align them)."""
        self.emit(op)
        return self._checked_result(op.results[0], value)

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
        if isinstance(node, ast.List):
            return self._list(items)
        value = tuple(v.value for v in items)
        if all(v.is_static for v in items):
            return Val(value)
        return Val(value, items=items)

    _lower_Tuple = _lower_List

    def _lower_Dict(self, node: ast.Dict) -> Val:
        if any(k is None for k in node.keys):
            return self._generic(node, "**unpacking in a dict display is not compiled")
        nodes = list(zip(node.keys, node.values, strict=True))
        pieces = self._children([e for pair in nodes for e in pair])  # type: ignore[misc]
        pairs = [(pieces[id(k)], pieces[id(v)]) for k, v in nodes]
        reason = "a dict with keys computed at run time is not compiled"
        return self._recognised(node, pieces, lambda: self._dict(pairs), reason)

    @staticmethod
    def _dict(pairs: list[tuple[Val, Val]]) -> Val:
        """A dict of static keys: its value is the dict, its items the values in key order."""
        mapping: dict[object, Val] = {}
        for key, val in pairs:
            if not key.is_static:
                raise Unsupported("a dict with keys computed at run time is not compiled")
            try:
                mapping[key.value] = val
            except TypeError:
                raise Unsupported("a dict key is not hashable") from None
        value = {k: v.value for k, v in mapping.items()}
        if all(v.is_static for v in mapping.values()):
            return Val(value)
        return Val(value, items=list(mapping.values()))

    def _lower_ListComp(self, node: ast.ListComp) -> Val:
        return self._comprehension(node)

    _lower_DictComp = _lower_ListComp

    def _comprehension(self, node: ast.ListComp | ast.DictComp) -> Val:
        """A list or dict comprehension over static iterables with static conditions, each
        element traced with the variables bound (they do not leak, as in Python 3)."""
        names = set().union(*(_target_names(g.target) for g in node.generators))
        saved = {n: self.env[n] for n in names if n in self.env}
        mark, notes = self.mark(), len(self.notes)
        entries: list[tuple[Val, ...]] = []
        try:
            self._generate(node, 0, entries)
            if isinstance(node, ast.DictComp):
                return self._dict([(k, v) for k, v in entries])
            return self._list([e[0] for e in entries])
        except Unsupported as error:
            reason = error.reason
        finally:
            for name in names:
                self.env.pop(name, None)
            self.env.update(saved)
        self.rollback(mark)
        self.notes[notes:] = []
        return self._generic(node, reason)

    def _generate(self, node: ast.ListComp | ast.DictComp, depth: int,
                  entries: list[tuple[Val, ...]]) -> None:  # fmt: skip
        """Trace the elements of ``node``'s generators from ``depth`` on into ``entries``."""
        if depth == len(node.generators):
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            entries.append(tuple(self.lower(p) for p in parts))
            if len(entries) > _MAX_UNROLL:
                raise Unsupported(f"a comprehension of more than {_MAX_UNROLL} items is not "
                                  "unrolled")  # fmt: skip
            return
        generator = node.generators[depth]
        if generator.is_async:
            raise Unsupported("an async comprehension is not compiled")
        for item in _unrolled(self.lower(generator.iter), "a comprehension"):
            self.bind(generator.target, Val(item))
            conditions = [self.lower(c) for c in generator.ifs]
            if not all(c.is_static for c in conditions):
                raise Unsupported("a comprehension's condition depends on the data")
            if all(c.value for c in conditions):
                self._generate(node, depth + 1, entries)

    def _lower_IfExp(self, node: ast.IfExp) -> Val:
        """``a if cond else b``: of a condition known at compile time, the branch it takes
        (Python evaluates only that one); of one that depends on the batch, in Python."""
        mark, notes = self.mark(), len(self.notes)
        test = self.lower(node.test)
        if test.is_static:
            try:
                taken = bool(test.value)
            except Exception:  # a value without one: the original raises, in Python
                return self.opaque(node, "the condition has no truth value", {})
            return self.lower(node.body if taken else node.orelse)
        self.rollback(mark)  # the condition runs in the one Python call
        self.notes[notes:] = []
        return self.opaque(node, f"its condition `{ast.unparse(node.test)}` depends on the "
                           "batch, so which branch runs may change from batch to batch "
                           "(conditional expressions are compiled when the condition is a "
                           "constant)", {})  # fmt: skip

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
            if base.datetime is not None:
                return self.dates.attribute(base, node.attr, self.evaluate(node, pieces))
            if node.attr == "index":
                return index_of(base, self.evaluate(node, pieces))
            if node.attr == "str":  # a str column's .str accessor (frontend.strings)
                return self.strings.accessor(base, self.evaluate(node, pieces))
            if node.attr == "columns" and is_frame(base):
                return self._column_names(base, self.evaluate(node, pieces))
            if base.columns is not None:  # an assembled frame: a column, or its matrix
                value = self.evaluate(node, pieces)
                if node.attr == "values" and isinstance(value, np.ndarray):
                    self.vocab.check_stable(base.items, ".values")
                    if is_narrow(value.dtype):  # (``frontend.narrow_ints``)
                        return self.narrow.array(base, value, ast.unparse(node))
                    return self.frames.matrix(base, value)
                if isinstance(value, pd.Series) and node.attr in base.columns:
                    return self.frames.column(base, node.attr)
                return None
            if node.attr == "values" and isinstance(typ, FrameType):
                return self._to_array(base, self.evaluate(node, pieces), ast.unparse(node))
            if node.attr == "values" and isinstance(typ, TensorType):
                return self._as_array(base, self.evaluate(node, pieces))
            if isinstance(typ, FrameType) and isinstance(base.value, pd.DataFrame):
                value = self.evaluate(node, pieces)
                if isinstance(value, pd.Series) and node.attr in base.value.columns:
                    if isinstance(typ.dtype_of(node.attr), DatetimeType):
                        return self.dates.column(base, node.attr, value)
                    return self._frame_column(base, node.attr, value)
            return None

        reason = why_in_python(base.value, node.attr) or f"attribute .{node.attr} is not compiled"
        return self._recognised(node, pieces, build, reason)

    def _column_names(self, frame: Val, value: object) -> Val | None:
        """``X.columns`` of a frame argument, a selection of one or an assembled frame: the
        example's names, a constant (a comprehension over them is unrolled). The frame
        arguments they come from (every one, for an assembled frame) are ``ordered``: a batch
        whose columns are not the example's, in order, runs the original."""
        if frame.ssa is None:
            self.ordered.update(a.index for a in self.block.args if isinstance(a.type, FrameType))
            return Val(value)
        source = frame.ssa
        while isinstance(source.owner, SelectColumnsOp):
            source = source.owner.frame
        if not isinstance(source, BlockArgument):
            return None  # a frame Python computed: its columns are the batch's
        self.ordered.add(source.index)
        return Val(value)

    def _select_dtypes(self, frame: Val, value: object) -> Val | None:
        """``df.select_dtypes(include=..., exclude=...)`` of a frame argument (or a selection
        of one): the example's columns, selected. The batch's dtypes choose them, so the
        argument is ``ordered`` (the example's columns, in order) and its columns' dtypes are
        checked (``dtyped``): a batch with others runs the original."""
        source = frame.ssa
        while source is not None and isinstance(source.owner, SelectColumnsOp):
            source = source.owner.frame
        if not isinstance(source, BlockArgument) or not isinstance(frame.value, pd.DataFrame):
            raise Unsupported(f"{why_in_python(frame.value, 'select_dtypes')} (compiled of a "
                              "frame argument only)")  # fmt: skip
        selected = self.frames.subset(frame, value)
        if selected is not None:
            self.ordered.add(source.index)
            self.dtyped.update((source.index, c) for c in frame.value.columns)
        return selected

    @staticmethod
    def _as_array(val: Val, value: object) -> Val:
        """``value``, the numpy array of the batch ``val``, as the same IR value: a native
        buffer is that array already; a pandas object made in Python is not."""
        made_in_python = isinstance(val.ssa.owner, PythonCallOp)  # type: ignore[union-attr]
        if made_in_python and isinstance(val.value, pd.Series | pd.DataFrame):
            raise Unsupported("the pandas object is made in Python, so is its array")
        return Val(value, val.ssa)

    def _to_array(self, frame: Val, value: object, text: str) -> Val:
        """``frame.to_numpy()``: f64, or i64/i1/f32 when pandas gives an int64, bool or
        float32 array (of float32 columns only); of narrow integer columns, their values
        widened to i64 (``text``: the code, should pandas make the array for Python)."""
        element = element_type(value.dtype) if isinstance(value, np.ndarray) else None
        kinds = {i64: "iu", i1: "b"}.get(element, "")  # type: ignore[call-overload]
        if (
            element in (i64, i1, f32)
            and isinstance(frame.value, pd.DataFrame)
            and all(isinstance(d, np.dtype) and (d.kind in kinds or d == np.float32)
                    for d in frame.value.dtypes)  # fmt: skip
        ):  # the columns the runtime reads as int64, bool or float32 (marshal.numeric_column)
            typ = frame.ssa.type
            source = frame.ssa.owner.frame if isinstance(frame.ssa.owner, SelectColumnsOp) \
                else frame.ssa  # fmt: skip
            names = [n for n, _ in typ.columns]
            if all(not isinstance(resolve_column(source, n)[1], int) for n in names):
                return self._checked(ToArrayOp(source, names, element), value)
        if is_narrow(getattr(value, "dtype", None)):  # read widened (``frontend.narrow_ints``)
            return self.narrow.array(frame, value, text)  # type: ignore[arg-type]
        val = self.estimators.as_array(frame)
        if not represents(val.ssa.type, value):
            raise Unsupported(f"the array is {type_of(value)}, not {val.ssa.type}")
        return Val(value, val.ssa)

    def _frame_column(self, frame: Val, name: str, value: pd.Series) -> Val:
        """``frame[name]`` or ``frame.name``: a column of str (missing values too) as a
        one-column frame, a numeric column as a vector (``Unsupported`` for a column only
        Python code reads)."""
        typ = frame.ssa.type  # type: ignore[union-attr]
        refuse_python_columns(FrameType([(name, typ.dtype_of(name))]), value)
        if isinstance(typ.dtype_of(name), StrType) and column_kind(value) == "str":
            return Val(value, self.emit(SelectColumnsOp(frame.ssa, [name])).result)
        if is_nullable(value):
            return self.nullable.column(frame, name, value)
        return self._column(frame, name, value)

    def _column(self, frame: Val, name: str, value: pd.Series) -> Val:
        """``frame[name]``, a numeric column, as a vector of its own element type (a narrow
        integer column: its values widened, ``frontend.narrow_ints``)."""
        if is_narrow(value.dtype):
            return self.narrow.column(frame, name, value)
        selected = frame.value[[name]]
        column = self._to_array(
            Val(selected, self.emit(SelectColumnsOp(frame.ssa, [name])).result),
            selected.to_numpy(), f"{name!r} column",
        )
        return self._checked(TakeColumnOp(column.ssa, 0), value)

    def _by_name(self, base: Val, key: object, value: object) -> Val | None:
        """``base[key]`` of a frame (``value`` on the example): a column by its name, or the
        columns of a list of names; None for another key or value."""
        typ = base.ssa.type if base.ssa is not None else None
        if base.columns is not None:  # an assembled frame
            if isinstance(key, str):
                return self.frames.column(base, key)
            if isinstance(key, list) and all(isinstance(k, str) for k in key):
                return self.frames.select(base, key, value)  # type: ignore[arg-type]
            return None
        if not isinstance(typ, FrameType) or not isinstance(base.value, pd.DataFrame):
            return None  # a text value: its items are not columns
        if isinstance(key, list):
            if not all(isinstance(k, str) for k in key):
                return None
            return self._checked(SelectColumnsOp(base.ssa, key), value)  # type: ignore[arg-type]
        if isinstance(key, str):
            if isinstance(typ.dtype_of(key), DatetimeType):
                return self.dates.column(base, key, value)
            return self._frame_column(base, key, value)  # type: ignore[arg-type]
        return None

    def _columns_indexer(self, node: ast.Subscript) -> Val | None:
        """``X.loc[:, names]`` and ``X.iloc[:, positions]`` (an int, a list, a slice), all
        rows of some columns, as ``X[the example's names]`` (by name: a later batch whose
        columns are in another order runs the original, ``api.SelfCheck.column_order``);
        None for another subscript."""
        owner, key = node.value, node.slice
        if not (isinstance(owner, ast.Attribute) and owner.attr in ("loc", "iloc")
                and isinstance(key, ast.Tuple) and len(key.elts) == 2):  # fmt: skip
            return None
        whole = key.elts[0]
        if not (isinstance(whole, ast.Slice) and whole.lower is whole.upper is whole.step
                is None):  # fmt: skip
            return None
        pieces = self._children([owner.value, key.elts[1]])
        base, columns = pieces[id(owner.value)], pieces[id(key.elts[1])]

        def build() -> Val | None:
            if not is_frame(base) or not columns.is_static:
                return None
            value = self.evaluate(node, pieces)
            if isinstance(value, pd.DataFrame):
                return self._by_name(base, list(value.columns), value)
            if isinstance(value, pd.Series):
                return self._by_name(base, value.name, value)
            return None

        return self._recognised(node, pieces, build, f"this .{owner.attr} indexing is not compiled")

    def _lower_Subscript(self, node: ast.Subscript) -> Val:
        columns = self._columns_indexer(node)
        if columns is not None:
            return columns
        pieces = self._children([node.value, node.slice])
        base, index = pieces[id(node.value)], pieces[id(node.slice)]

        def build() -> Val | None:
            typ = base.ssa.type if base.ssa is not None else None
            if not index.is_static and _labels_of(base, index):  # model.classes_[p.argmax(1)]
                return self._taken(base.value, index, self.evaluate(node, pieces), node)  # type: ignore[arg-type]
            if not index.is_static:
                return self.lookups.subscript(node, pieces, base, index)
            key = index.value
            value = self.evaluate(node, pieces)
            if is_accessor(base):  # s.str[i], s.str[a:b] (frontend.strings)
                return self.strings.subscript(base, key, value, ast.unparse(node))
            if base.pending is not None and base.pending.kind == "split_str":
                return self.strings.piece(base, key, value, ast.unparse(node))
            if isinstance(base.value, dict) and base.items is not None:  # {k: ...}[k]
                keys = list(base.value)
                return base.items[keys.index(key)] if key in base.value else None
            if base.columns is not None or isinstance(typ, FrameType):
                return self._by_name(base, key, value)
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
            picked = _picked_columns(key, typ.get_shape()[1]) if dense and \
                typ.get_num_dims() == 2 else None  # fmt: skip
            if picked:  # X[:, 1:], X[:, [0, 2]]: the columns, stacked again
                inputs = [self.emit(TakeColumnOp(base.ssa, c)).results[0] for c in picked]
                return Val(value, self.emit(hstack_op(inputs, value, ast.unparse(node))).result)
            return None

        return self._recognised(node, pieces, build, "this indexing is not compiled")

    def _taken(self, table: np.ndarray, indices: Val, value: object, node: ast.expr) -> Val:
        """``table[indices]``, ``value`` on the example: numpy's ``take`` of the native
        indices, around the native code (``EstimatorLowering.take``)."""
        taken = self.estimators.take(table, indices, ast.unparse(node))
        if not (isinstance(value, np.ndarray) and value.dtype == taken.value.dtype  # type: ignore[union-attr]
                and np.array_equal(value, taken.value)):  # type: ignore[arg-type]  # fmt: skip
            raise Unsupported("the indexing is not numpy's take of the indices")
        return taken

    def _labels_where(self, mask: Val, labels: tuple[str, str], value: object) -> Val:
        """``np.where(mask, "yes", "no")`` of a native mask: numpy picks the labels, around
        the native code."""
        yes, no = labels

        def where(condition: np.ndarray) -> np.ndarray:
            return np.where(condition, yes, no)

        return self.python_op("labels_where", where, [mask], "labels are chosen by "
                              "numpy.where from the native mask",
                              f"np.where(mask, {yes!r}, {no!r})", wraps=True)  # fmt: skip

    def _operand(self, val: Val, other: Val) -> SSAValue:
        """A binary/where operand: a batch of f64/i64/i1, or a number as ``pipeline.constant``
        of the type numpy promotes it to beside ``other`` (NEP 50: a Python int beside an
        integer or boolean batch is an int64, beside a float batch a float64)."""
        if val.ssa is not None and is_sparse(val.ssa.type):
            raise Unsupported("elementwise arithmetic on a sparse matrix is not compiled")
        if val.ssa is not None and isinstance(val.ssa.type, TensorType):
            if val.ssa.type.get_element_type() not in NUMERIC_ELEMENTS:
                raise Unsupported(f"arithmetic on {val.ssa.type} is not compiled (numpy "
                                  "computes in that precision)")  # fmt: skip
            return val.ssa
        if is_reduction(val):  # a batch reduction's scalar
            assert val.ssa is not None
            return val.ssa
        number = val.value
        if not val.is_static or not isinstance(number, (int, float, np.int64, np.float64)):
            refuse_nullable(val)
            raise Unsupported("an operand is neither a batch of numbers nor a number "
                              "(int, float, numpy int64 or float64)")  # fmt: skip
        other_type = other.ssa.type if other.ssa is not None else None
        other_element = other_type.get_element_type() if isinstance(other_type, TensorType) \
            else None  # fmt: skip
        if other_element == f32:  # NEP 50: numpy rounds the number to float32
            if isinstance(number, (int, np.integer)) and abs(int(number)) > 2**53:
                raise Unsupported(f"{number} beside float32 values is not compiled (rounded "
                                  "twice or once to float32)")  # fmt: skip
            return self.emit(ConstantOp(float32_number(number), f32)).result
        if isinstance(number, (float, np.float64)) or other_element == f64:
            return self.emit(ConstantOp(float(number))).result
        if not -(2**63) <= int(number) < 2**63:
            raise Unsupported(f"{number} does not fit in int64")
        return self.emit(ConstantOp(int(number))).result

    def _binary(self, function: str, node: ast.expr, pieces: dict[int, Val],
                lhs: Val, rhs: Val) -> Val:  # fmt: skip
        return self.binary_of(function, lhs, rhs, self.evaluate(node, pieces))

    def binary_of(self, function: str, lhs: Val, rhs: Val, value: object,
                  numpy: bool = False) -> Val:  # fmt: skip
        """``pipeline.binary`` of ``lhs`` and ``rhs`` standing for ``value``; of a frame,
        column by column (``Elementwise.frame_binary``). A float ``//`` of a pandas operand
        is pandas' (``Elementwise.pandas_zero_by_zero``) unless ``numpy``: a Series method
        given a Series or array (``s.floordiv(t)``), which pandas computes with numpy's."""
        if is_frame(lhs) or is_frame(rhs):
            framed = self.elementwise.frame_binary(function, lhs, rhs, value)
            if framed is None:
                raise Unsupported("this arithmetic of a DataFrame is not compiled")
            return framed
        if is_nullable(lhs.value) or is_nullable(rhs.value):  # pd.NA (frontend.nullable)
            return self.nullable.binary(function, lhs, rhs, value, f"{function} of a nullable "
                                        "column")  # fmt: skip
        if function == "power":
            power = self.elementwise.power(lhs, rhs, value)
            if power is not None:
                return power
        try:
            op = BinaryOp(function, self._operand(lhs, rhs), self._operand(rhs, lhs),
                          self.elementwise.pandas_division(function, lhs, rhs, value))  # fmt: skip
        except VerifyException as error:
            raise Unsupported(f"this elementwise operation is not compiled: {error}") from None
        if not isinstance(op.result.type, TensorType):  # of batch reductions' scalars
            return scalar_arithmetic(self, op, value)
        pandas = not numpy and any(isinstance(v.value, pd.Series | pd.DataFrame)
                                   for v in (lhs, rhs))  # fmt: skip
        if function == "floor_divide" and pandas and op.result.type.get_element_type() == f64:
            return self.elementwise.pandas_zero_by_zero(lhs, rhs, op, value)
        return self._checked(op, value)

    def _lower_BinOp(self, node: ast.BinOp) -> Val:
        pieces = self._children([node.left, node.right])
        function = _BINOPS.get(type(node.op))

        def build() -> Val | None:
            lhs, rhs = pieces[id(node.left)], pieces[id(node.right)]
            if type(node.op) in _LOGICAL:
                return self._logical(_LOGICAL[type(node.op)], lhs, rhs,
                                     self.evaluate(node, pieces))  # fmt: skip
            if function is None:
                return None
            if function in ("sub", "add") and (lhs.datetime is not None
                                               or rhs.datetime is not None):  # fmt: skip
                return self.dates.arithmetic(function, lhs, rhs, self.evaluate(node, pieces))
            if function == "div" and lhs.datetime is not None:  # td / pd.Timedelta(days=1)
                return self.dates.ratio(lhs, rhs, self.evaluate(node, pieces))
            if function == "floor_divide" and lhs.datetime is not None:
                return self.dates.floor_ratio(lhs, rhs, self.evaluate(node, pieces))
            if function == "add":  # str concatenation (frontend.strings)
                value = self.evaluate(node, pieces)
                joined = self.strings.concat(lhs, rhs, value, ast.unparse(node))
                if joined is not None:
                    return joined
            return self._binary(function, node, pieces, lhs, rhs)

        reason = f"operator {type(node.op).__name__} is not compiled"
        return self._recognised(node, pieces, build, reason)

    def _logical(self, kind: str, lhs: Val, rhs: Val, value: object) -> Val | None:
        """``lhs & rhs``, ``|`` or ``^`` of two boolean batches, as comparisons of 0/1:
        ``a & b`` is ``a > (b == 0)``, ``a | b`` is ``a >= (b == 0)``, ``a ^ b`` is ``a != b``
        (None for other operands: ints are bitwise in numpy); Kleene logic where one is
        pandas' nullable boolean (``NullableColumns.logical``)."""
        if is_nullable(lhs.value) or is_nullable(rhs.value):
            return self.nullable.logical(kind, lhs, rhs, value, f"{kind} of a nullable column")
        if not all(_booleans(v) for v in (lhs, rhs)):
            return None
        assert lhs.ssa is not None and rhs.ssa is not None
        return self._checked_result(self._mask(kind, lhs.ssa, rhs.ssa), value)

    def _mask(self, kind: str, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        """Emit ``lhs & rhs``, ``|`` or ``^`` of two boolean batches (see ``_logical``)."""
        if kind == "xor":
            return self.emit(BinaryOp("ne", lhs, rhs)).result
        zero = self.emit(ConstantOp(0)).result
        negated = self.emit(BinaryOp("eq", rhs, zero)).result
        return self.emit(BinaryOp("gt" if kind == "and" else "ge", lhs, negated)).result

    def _lower_Compare(self, node: ast.Compare) -> Val:
        pieces = self._children([node.left, *node.comparators])
        function = _CMPOPS.get(type(node.ops[0])) if len(node.ops) == 1 else None

        def build() -> Val | None:
            if function is None:
                return None
            lhs, rhs = pieces[id(node.left)], pieces[id(node.comparators[0])]
            value = self.evaluate(node, pieces)
            dates = self.dates.compare(function, lhs, rhs, value)
            strings = dates or self.vocab.compare(function, lhs, rhs, value)
            return strings or self._binary(function, node, pieces, lhs, rhs)

        return self._recognised(node, pieces, build, "this comparison is not compiled")

    def _lower_UnaryOp(self, node: ast.UnaryOp) -> Val:
        pieces = self._children([node.operand])

        def build() -> Val | None:
            operand = pieces[id(node.operand)]  # (widened by NarrowInts.lower)
            if is_nullable(operand.value) and isinstance(node.op, ast.Invert):
                return self.nullable.invert(operand, self.evaluate(node, pieces), ast.unparse(node))
            if isinstance(node.op, ast.USub) and (operand.ssa is not None or is_frame(operand)
                                                  or is_nullable(operand.value)):  # fmt: skip
                return self.unary_of("negative", operand, self.evaluate(node, pieces))
            typ = operand.ssa.type if operand.ssa is not None else None
            if isinstance(node.op, ast.Invert) and isinstance(typ, TensorType) \
                    and typ.get_element_type() == i1 and not is_sparse(typ):  # fmt: skip
                # ~mask is logical not: mask == 0
                zero = self.emit(ConstantOp(0)).result
                return self._checked(BinaryOp("eq", operand.ssa, zero), self.evaluate(node, pieces))
            return None

        reason = f"operator {type(node.op).__name__} is not compiled"
        return self._recognised(node, pieces, build, reason)

    def unary_of(self, function: str, operand: Val, value: object) -> Val | None:
        """``pipeline.unary`` of a dense batch, or of each column of a frame, standing for
        ``value`` (None for another operand)."""
        if is_frame(operand):
            return self.elementwise.frame_unary(function, operand, value)
        if is_nullable(operand.value):  # pd.NA (frontend.nullable)
            return self.nullable.unary(function, operand, value, f"{function} of a nullable column")
        typ = operand.ssa.type if operand.ssa is not None else None
        if not isinstance(typ, TensorType) or is_sparse(typ):
            return None
        try:
            op = UnaryOp(function, operand.ssa)
        except VerifyException as error:
            raise Unsupported(f"{function} of {typ} is not compiled: {error}") from None
        return self._checked(op, value)

    def _float_test(self, comparison: str, operand: Val, value: object) -> Val | None:
        """``np.isnan(x)`` as ``x != x``; ``np.isinf(x)``, ``np.isfinite(x)`` as ``|x|``
        compared with infinity (``_FLOAT_TESTS``), of a dense batch (None otherwise)."""
        typ = operand.ssa.type if operand.ssa is not None else None
        if not isinstance(typ, TensorType) or is_sparse(typ):
            return None
        if comparison == "ne":
            return self._checked(BinaryOp("ne", operand.ssa, operand.ssa), value)
        magnitude = self.emit(UnaryOp("abs", operand.ssa)).result
        infinity = self.emit(ConstantOp(float("inf"))).result
        return self._checked(BinaryOp(comparison, magnitude, infinity), value)

    def _astype(self, receiver: Val, args: list[Val], kwargs: dict[str, Val],
                value: object) -> Val | None:  # fmt: skip
        """``x.astype(int | float | bool | "int64" | ...)`` of a batch as ``pipeline.cast``."""
        if len(args) != 1 or kwargs or not args[0].is_static:
            return None
        try:
            target = _CASTS.get(np.dtype(args[0].value))
        except TypeError:
            return None
        typ = receiver.ssa.type
        if target is None or not isinstance(typ, TensorType) or is_sparse(typ):
            return None
        source = typ.get_element_type()
        if source == target:
            return Val(value, receiver.ssa) if type_of(value) == typ else None
        if source == f64 and target == i64 and not isinstance(receiver.value, pd.Series):
            raise Unsupported("numpy's astype(int) of NaN is not defined; only a pandas "
                              "column's (which raises) is compiled")  # fmt: skip
        try:
            op = CastOp(receiver.ssa, target)
        except VerifyException as error:
            raise Unsupported(f"astype of {typ} is not compiled: {error}") from None
        return self._checked(op, value)

    def _lower_Call(self, node: ast.Call) -> Val:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            return self.opaque(node, "calls with *args/**kwargs are not compiled",
                               self._children([]))  # fmt: skip
        if self.rows.applies(node):
            return self.rows.apply(node)  # the row function is traced, not lowered here
        if isinstance(node.func, ast.Attribute) and node.func.attr == "assign" and not node.args \
                and any(isinstance(k.value, ast.Lambda) for k in node.keywords):  # fmt: skip
            return self.elementwise.assign(node)  # lambdas are traced, not lowered here
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
        if all(p.is_static for p in pieces.values()) and (
            _is_foldable(function, kwargs) or fixed_date(function, [a.value for a in args])
        ):
            return Val(self.evaluate(node, pieces))
        described = ast.unparse(node.func)
        owner = receiver.value if receiver is not None else None
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        reason = why_in_python(owner, attr, function) \
            or f"`{described}` is not a recognised function"  # fmt: skip
        mark = self.mark()
        try:
            if has_narrow(pieces) and one_operation(node, function):
                val = self.narrow.lower(node, pieces, lambda: self._call(
                    node, pieces, *_call_pieces(node, pieces, function)))
            else:
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
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
        plain = receiver is None or receiver.is_static and inspect.ismodule(receiver.value)
        if plain and is_helper(function):  # the user's own function: traced through
            return self.inliner.call(node, function, args, kwargs)
        if receiver is not None and receiver.pending is not None \
                and receiver.pending.kind == "split_str":  # s.str.split().str.len()
            return self.strings.pieces(receiver, attr, args, kwargs, self.evaluate(node, pieces))
        if receiver is not None and receiver.datetime is not None \
                and receiver.datetime.series is not None:  # td.dt.total_seconds()
            return self.dates.call(receiver, attr, args, kwargs, self.evaluate(node, pieces))
        if receiver is not None and is_accessor(receiver):  # s.str.lower() (frontend.strings)
            value = self.evaluate(node, pieces)
            return self.strings.call(receiver, attr, args, kwargs, value, ast.unparse(node))
        if receiver is not None and is_nullable(receiver.value):
            converted = self.nullable.call(receiver, attr, args, kwargs,
                                           lambda: self.evaluate(node, pieces),
                                           ast.unparse(node))  # fmt: skip
            if converted is not None:
                return converted
        if receiver is not None and attr == "astype" and receiver.ssa is not None \
                and isinstance(receiver.ssa.type, FrameType):  # a str column's astype(int)
            digits = self.strings.astype(receiver, args, kwargs, self.evaluate(node, pieces))
            if digits is not None:
                return digits
        strings = self.vocab.call(node, pieces, receiver, function, args, kwargs)
        if strings is not None:
            return strings
        if receiver is not None and receiver.ssa is not None and (
            attr in REDUCTIONS or attr in IN_PYTHON
        ):  # fmt: skip
            reduced = reduce(self, receiver, attr, args, kwargs, self.evaluate(node, pieces))
            if reduced is not None:
                return reduced
        if receiver is not None and attr in ("eval", "query") and is_frame(receiver):
            return self.frame_eval.call(node, pieces, receiver, attr, args, kwargs)
        if receiver is not None and (receiver.ssa is not None or receiver.columns is not None):
            framed = self._frame_method(node, pieces, receiver, attr, args, kwargs)
            if framed is not None:
                return framed
        categorical = self.categories.call(node, pieces, receiver, function, args, kwargs)
        if categorical is not None:
            return categorical
        if function is pd.to_datetime:
            return self.dates.to_datetime(args, kwargs, self.evaluate(node, pieces))
        looked_up = self.lookups.call(node, pieces, receiver, args, kwargs)
        if looked_up is not None:
            return looked_up
        if attr == "argmax" and receiver is not None and receiver.ssa is not None:
            return self._argmax(receiver, args, kwargs, self.evaluate(node, pieces))
        if function is np.argmax and args:
            return self._argmax(args[0], args[1:], kwargs, self.evaluate(node, pieces))
        by_row = bool(args) or "axis" in kwargs
        if attr in ("max", "min") and receiver is not None and receiver.ssa is not None \
                and isinstance(receiver.value, np.ndarray) and by_row:  # fmt: skip
            return self._row_extreme(attr, receiver, args, kwargs, self.evaluate(node, pieces))
        if any(function is f for f in _ARRAY_EXTREMES) and (args[1:] or "axis" in kwargs):
            which = _ARRAY_EXTREMES[function]  # type: ignore[index]
            return self._row_extreme(which, args[0], args[1:], kwargs, self.evaluate(node, pieces))
        if receiver is not None and receiver.ssa is not None:
            typ = receiver.ssa.type
            if attr == "to_numpy" and not args and set(kwargs) <= {"dtype", "na_value"}:
                dtype = kwargs.get("dtype", Val(None))
                if not gives_float64(dtype, none=True) or not no_missing_value(
                    kwargs.get("na_value")
                ):  # (a missing value is NaN in float64 anyway)
                    return None
                value = self.evaluate(node, pieces)
                if isinstance(typ, FrameType):
                    return self._to_array(receiver, value, ast.unparse(node))
                if isinstance(typ, TensorType) and type_of(value) == typ:
                    return self._as_array(receiver, value)
            if attr == "astype":
                return self._astype(receiver, args, kwargs, self.evaluate(node, pieces))
            if attr == "round":
                return self._round(node, pieces, receiver, args, kwargs, "decimals")
            if attr == "abs" and not args and not kwargs:  # Series.abs()
                return self.unary_of("abs", receiver, self.evaluate(node, pieces))
            if attr == "tocsr" and not args and not kwargs and sp.issparse(receiver.value) \
                    and receiver.value.format == "csr":  # type: ignore[union-attr]  # fmt: skip
                value = self.evaluate(node, pieces)  # a CSR matrix is its own tocsr()
                return Val(value, receiver.ssa) if represents(typ, value) else None
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
            if len(args) != 1 or kwargs:
                return None
            x = args[0]
            if x.pending is not None and x.pending.kind == "reset_index" \
                    and attr in PREDICT_METHODS:  # fmt: skip
                x = x.pending.source  # the same rows and columns: the same array
            elif x.pending is not None and x.pending.kind == "set_index" \
                    and attr in PREDICT_METHODS:  # fmt: skip
                source = x.pending.source  # the same rows, the other columns
                kept = source.value.drop(columns=[x.pending.options["keys"]])  # type: ignore[union-attr]
                x = self.frames.subset(source, kept) or self.materialize(x)
            elif x.pending is not None and x.narrow is None:  # (narrow: read widened)
                x = self.materialize(x)
            if x.ssa is None and x.columns is None and x.narrow is None:
                return None
            value = self.evaluate(node, pieces)
            val = self._model_call(receiver.value, attr, x, ast.unparse(node.func.value))
            return Val(value, val.ssa)
        if function is pd.DataFrame and not args and set(kwargs) == {"index"}:
            return empty_frame(self, kwargs["index"], self.evaluate(node, pieces))
        if function is pd.DataFrame or function is pd.concat:
            return self._frame_constructor(node, pieces, function, args, kwargs)
        if function in _ROUNDS and args:
            return self._round(node, pieces, args[0], args[1:], kwargs, _ROUNDS[function])
        if function in (sp.csr_matrix, sp.csr_array):
            return self.elementwise.csr_matrix(args, kwargs, self.evaluate(node, pieces))
        if function is np.select:
            return self.elementwise.select(args, kwargs, self.evaluate(node, pieces))
        if function is np.nan_to_num:
            return self.elementwise.nan_to_num(args, kwargs, self.evaluate(node, pieces))
        if function in NUMPY_REDUCTIONS and len(args) == 1 and not kwargs \
                and isinstance(args[0].value, pd.Series) and args[0].ssa is not None:  # fmt: skip
            method, ddof = NUMPY_REDUCTIONS[function]
            options = {} if ddof is None else {"ddof": Val(ddof)}
            return reduce(self, args[0], method, [], options, self.evaluate(node, pieces))
        if function in NUMPY_REDUCTIONS and "axis" in kwargs:
            raise Unsupported(ARRAY_ROW_REDUCTION)
        if function is pd.to_numeric:
            return self.elementwise.to_numeric(args, kwargs, self.evaluate(node, pieces))
        if function is np.clip:
            return self.elementwise.clip(node, pieces, args, kwargs)
        binned = self.binning.call(node, pieces, function, args, kwargs)
        if binned is not None:
            return binned
        name = kwargs.get("name", Val(None))
        if function is pd.Series and len(args) == 1 and "index" in kwargs \
                and set(kwargs) <= {"index", "name"} and name.is_static:  # fmt: skip
            value = self.evaluate(node, pieces)
            return series(self, args[0], kwargs["index"], name.value, value)  # type: ignore[arg-type]
        if kwargs and function not in _HSTACKS:
            return None
        if any(function is h for h in _HSTACKS):
            return self._hstack(node, pieces, function, args, kwargs)
        if (function is abs or function in UNARY_UFUNCS) and len(args) == 1 and is_frame(args[0]):
            name = "abs" if function is abs else UNARY_UFUNCS[function]
            return self.elementwise.frame_unary(name, args[0], self.evaluate(node, pieces))
        if function is abs or function in UNARY_UFUNCS:
            name = "abs" if function is abs else UNARY_UFUNCS[function]
            if len(args) == 1 and is_nullable(args[0].value):
                return self.unary_of(name, args[0], self.evaluate(node, pieces))
            if (
                len(args) != 1
                or args[0].ssa is None
                or not isinstance(args[0].ssa.type, TensorType)
                or is_sparse(args[0].ssa.type)
            ):
                return None
            return self.unary_of(name, args[0], self.evaluate(node, pieces))
        if function in _FLOAT_TESTS and len(args) == 1 and is_frame(args[0]):
            return self.elementwise.frame_float_test(_FLOAT_TESTS[function], args[0],
                                                     self.evaluate(node, pieces))  # fmt: skip
        if function in _FLOAT_TESTS and len(args) == 1:
            return self._float_test(_FLOAT_TESTS[function], args[0], self.evaluate(node, pieces))
        if function in _BINARY_UFUNCS and len(args) == 2:
            return self._binary(_BINARY_UFUNCS[function], node, pieces, args[0], args[1])
        if (function is divmod or function is np.divmod) and len(args) == 2:
            value = self.evaluate(node, pieces)  # (x // y, x % y)
            if not isinstance(value, tuple) or len(value) != 2:
                return None
            parts = zip(("floor_divide", "remainder"), value, strict=True)
            return Val(value, items=[self.binary_of(f, args[0], args[1], v) for f, v in parts])
        if function is np.where and len(args) == 3:
            value = self.evaluate(node, pieces)
            if is_nullable(args[0].value):  # a boolean without pd.NA (numpy raises on one)
                args = [self.nullable.mask(args[0]), *args[1:]]
            condition = args[0].ssa
            if (
                condition is None
                or not isinstance(condition.type, TensorType)
                or (condition.type.get_element_type() != i1)
            ):
                raise Unsupported("np.where needs a batch of booleans as its condition")
            if all(isinstance(a.value, str) for a in args[1:]) and condition.type == vector_of(i1):
                return self._labels_where(args[0], (args[1].value, args[2].value), value)  # type: ignore[arg-type]
            if args[1].is_static and args[2].is_static:  # the else branch made a batch
                then_value = self._operand(args[1], args[0])
                else_value = self._constant_batch(self._operand(args[2], args[0]), condition)
            else:
                then_value = self._operand(args[1], args[2])
                else_value = self._operand(args[2], args[1])
            try:
                op = WhereOp(condition, then_value, else_value)
            except VerifyException as error:
                raise Unsupported(f"np.where operands do not broadcast: {error}") from None
            return self._checked(op, value)
        return None

    def _argmax(self, x: Val, args: list[Val], kwargs: dict[str, Val], value: object) -> Val:
        """``x.argmax(1)`` or ``np.argmax(x, axis=1)`` of a 2-D array of floats: the index of
        each row's largest value (``feature.argmax``: the first on ties, the first NaN)."""
        axis = (args or [kwargs.get("axis", Val(None))])[0]
        typ = x.ssa.type if x.ssa is not None else None
        if len(args) > 1 or set(kwargs) - {"axis"} or not axis.is_static \
                or axis.value not in (1, -1) or not isinstance(x.value, np.ndarray):  # fmt: skip
            raise Unsupported("only argmax(axis=1) of a 2-D numpy array is compiled")
        if not isinstance(typ, TensorType) or is_sparse(typ) or typ.get_num_dims() != 2 \
                or typ.get_element_type() not in (f64, f32) or typ.get_shape()[1] < 2:  # fmt: skip
            raise Unsupported(f"argmax of {typ} is not compiled (it is of float rows of two "
                              "or more values)")  # fmt: skip
        return self._checked(feature.ArgmaxOp(x.ssa), value)

    def _row_extreme(self, which: str, x: Val, args: list[Val], kwargs: dict[str, Val],
                     value: object) -> Val:  # fmt: skip
        """``x.max(axis=1)`` or ``np.max(x, axis=1)`` (``min``, ``np.amax``, ``np.amin``) of
        a 2-D float64 array: numpy's extreme of each row, NaN where the row has one. The
        columns folded with ``fmax``/``fmin`` (which hand a row holding ``0.0`` and ``-0.0``
        to the original: numpy's loops keep either zero by its place), then NaN where a
        column is NaN."""
        axis = (args or [kwargs.get("axis", Val(None))])[0]
        typ = x.ssa.type if x.ssa is not None else None
        if len(args) > 1 or set(kwargs) - {"axis"} or not axis.is_static \
                or axis.value not in (1, -1) or not isinstance(x.value, np.ndarray):  # fmt: skip
            raise Unsupported(f"only {which}(axis=1) of a 2-D numpy array is compiled")
        if not isinstance(typ, TensorType) or is_sparse(typ) or typ.get_num_dims() != 2 \
                or typ.get_element_type() != f64 \
                or not 1 <= typ.get_shape()[1] <= _MAX_UNROLL:  # fmt: skip
            raise Unsupported(f"{which}(axis=1) of {typ} is not compiled (it is of float64 rows)")
        assert x.ssa is not None
        columns = [self.emit(TakeColumnOp(x.ssa, j)).result for j in range(typ.get_shape()[1])]
        function = "fmax" if which == "max" else "fmin"
        return self._checked_result(self.elementwise.row_fold(function, columns, nan=True), value)

    def _constant_batch(self, constant: SSAValue, rows: SSAValue) -> SSAValue:
        """A batch of ``rows``' shape holding ``constant`` (``pipeline.broadcast``)."""
        return self.emit(BroadcastOp(constant, rows)).result

    def _model_call(self, est: object, method: str, x: Val, described: str) -> Val:
        """``est.method(x)``; an assembled frame is read as the matrix of its columns, or
        by the estimator's parts (a ColumnTransformer selecting columns by name), or else
        built as a DataFrame for Python."""
        if x.columns is None:
            return self.estimators.call(est, method, x, described)
        mark = self.mark()
        try:
            return self.estimators.call(est, method, self.frames.model_input(x, est), described)
        except Unsupported:
            self.rollback(mark)
        try:  # a Pipeline or ColumnTransformer reading the columns natively, or an encoder
            return self.estimators.call(est, method, x, described)
        except Unsupported:
            self.rollback(mark)
        return self.estimators.call(est, method, self.frames.materialize(x), described)

    def _frame_method(self, node: ast.Call, pieces: dict[int, Val], receiver: Val,
                      attr: str | None, args: list[Val],
                      kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``copy``, ``fillna``, ``isna``/``notna``, ``assign`` and ``to_numpy`` of frames
        and numeric columns (``frontend.frames``); None for other calls."""
        frame = is_frame(receiver)
        if attr == "copy" and not args and (not kwargs or set(kwargs) == {"deep"}):
            # a new object (a later change must not reach the original): a new Val, the same
            # native values (native code never changes a value in place)
            value = self.evaluate(node, pieces)
            if frame:
                copied = self.frames.columns_of(receiver)
                return Val(value, items=list(copied.items or []), columns=copied.columns)
            return Val(value, receiver.ssa) if receiver.ssa is not None else None
        if attr in _METHODS and isinstance(receiver.value, pd.Series | pd.DataFrame) \
                and len(args) + len(kwargs) == 1 and set(kwargs) <= {"other"}:  # fmt: skip
            # no fill_value, level or axis: the operator's alignment and result
            function, reflected = _METHODS[attr]
            other = (args or [kwargs.get("other")])[0]
            assert other is not None
            lhs, rhs = (other, receiver) if reflected else (receiver, other)
            numpy = isinstance(receiver.value, pd.Series) and (
                isinstance(other.value, pd.Series | list | tuple)
                or (isinstance(other.value, np.ndarray) and other.value.ndim > 0)
            )  # Series._flex_method: numpy's ufunc on the aligned values
            return self.binary_of(function, lhs, rhs, self.evaluate(node, pieces), numpy)
        if attr == "replace":
            return self.elementwise.replace(receiver, args, kwargs, self.evaluate(node, pieces))
        if attr == "fillna" and len(args) == 1 and not kwargs and args[0].is_static:
            return self.frames.fill(receiver, args[0].value, self.evaluate(node, pieces))
        if attr == "fillna" and len(args) == 1 and not kwargs and is_reduction(args[0]):
            return self.frames.fill(receiver, args[0], self.evaluate(node, pieces))
        if attr in ("isna", "isnull", "notna", "notnull") and not args and not kwargs:
            present = attr.startswith("not")
            if frame:
                return self.elementwise.frame_missing(receiver, present,
                                                      self.evaluate(node, pieces))  # fmt: skip
            return self.frames.missing(receiver, present, self.evaluate(node, pieces))
        if not frame and receiver.ssa is not None and attr in ("clip", "between", "isin"):
            return self._bounds(node, pieces, receiver, attr, args, kwargs)
        if not frame and attr in ("where", "mask") and isinstance(receiver.value, pd.Series):
            return self.elementwise.series_where(receiver, attr, args, kwargs,
                                                 self.evaluate(node, pieces))  # fmt: skip
        if not frame:
            return None
        if attr == "abs" and not args and not kwargs:
            return self.elementwise.frame_unary("abs", receiver, self.evaluate(node, pieces))
        axis = kwargs.get("axis")
        rows = axis is not None and axis.is_static and axis.value in (1, "columns")
        if attr in ("max", "min", "sum", "any", "all") and not args and set(kwargs) == {"axis"} \
                and rows:  # fmt: skip
            reduced = self.elementwise.row_reduce(attr, receiver, self.evaluate(node, pieces))
            if reduced is not None or attr in ("max", "min", "any", "all"):
                return reduced
        if attr in ("sum", "mean") and rows:
            raise Unsupported(ROW_SUM_LAYOUT)
        if attr == "clip":
            return self.elementwise.frame_clip(receiver, args, kwargs, self.evaluate(node, pieces))
        if attr == "astype" and len(args) == 1 and not kwargs and args[0].is_static:
            return self.elementwise.astype_frame(receiver, args[0].value,
                                                 self.evaluate(node, pieces))  # fmt: skip
        if attr == "round":
            return self._round(node, pieces, receiver, args, kwargs, "decimals")
        if attr == "drop":
            return self.elementwise.drop(receiver, args, kwargs, self.evaluate(node, pieces))
        drop = kwargs.get("drop", Val(False))
        if attr == "reset_index" and not args and set(kwargs) == {"drop"} and drop.is_static \
                and drop.value is True:  # fmt: skip
            # a new index (0, 1, ...) native code does not carry: kept as the frame, which a
            # model reads as it is (its result has no index); pandas makes it for other uses
            reason = "reset_index(drop=True) gives the frame an index native code does not carry"
            pending = Pending("reset_index", receiver, {"drop": True}, _reset_index,
                              ast.unparse(node), reason)  # fmt: skip
            return Val(self.evaluate(node, pieces), pending=pending)
        if attr == "set_index":
            return self._set_index(node, pieces, receiver, args, kwargs)
        static = all(v.is_static for v in (*args, *kwargs.values()))
        # (``filter(like=...)``/``regex=`` pick by the batch's own names: an extra column a
        # later batch has would be missed, so they run in Python)
        if static and not args and set(kwargs) == {"columns" if attr == "reindex" else "items"} \
                and attr in ("reindex", "filter"):  # fmt: skip
            return self.frames.subset(receiver, self.evaluate(node, pieces))
        if attr == "select_dtypes" and static:
            return self._select_dtypes(receiver, self.evaluate(node, pieces))
        if attr == "rename" and static and set(kwargs) == {"columns"} and not args:
            return self.frames.rename(receiver, self.evaluate(node, pieces))
        if attr == "assign" and not args and all(not callable(v.value) for v in kwargs.values()):
            assigned = receiver
            for name, val in kwargs.items():
                assigned = self.frames.assign(assigned, name, val)
            return assigned
        dtype = kwargs.get("dtype", Val(None))
        if attr == "to_numpy" and receiver.columns is not None and not args \
                and set(kwargs) <= {"dtype", "na_value"} and gives_float64(dtype, none=True) \
                and no_missing_value(kwargs.get("na_value")):  # fmt: skip
            value = self.evaluate(node, pieces)
            if dtype.value is None:  # pandas' common dtype of the columns
                self.vocab.check_stable(receiver.items, ".to_numpy()")
            if dtype.value is None and is_narrow(getattr(value, "dtype", None)):
                return self.narrow.array(receiver, value, ast.unparse(node))  # type: ignore[arg-type]
            if isinstance(value, np.ndarray) and (value.dtype == np.float64 or (
                dtype.value is None and value.dtype == np.float32
            )):  # fmt: skip
                matrix = self.frames.matrix(receiver, value)
                if dtype.value is not None:  # float64 whatever the columns' dtypes
                    self.vocab.fixed.add(matrix.ssa)  # type: ignore[arg-type]
                return matrix
        return None

    def _set_index(self, node: ast.Call, pieces: dict[int, Val], receiver: Val,
                   args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``frame.set_index("c")`` (a column, dropped): kept as the frame, which a model
        reads without the column (its result has no index); pandas makes it for other uses
        (None for other arguments)."""
        keys = (args or [kwargs.get("keys", Val(None))])[0]
        if len(args) + len(kwargs) != 1 or not keys.is_static or not isinstance(keys.value, str):
            return None
        key = keys.value
        if receiver.ssa is not None:  # a batch without the column runs the original
            self.name_columns(receiver.ssa, [key])
        reason = "set_index gives the frame an index native code does not carry"
        pending = Pending("set_index", receiver, {"keys": key}, _set_index(key),
                          ast.unparse(node), reason)  # fmt: skip
        return Val(self.evaluate(node, pieces), pending=pending)

    def _round(self, node: ast.Call, pieces: dict[int, Val], x: Val, digits: list[Val],
               kwargs: dict[str, Val], keyword: str) -> Val | None:  # fmt: skip
        """``x.round(n)``, ``np.round(x, n)``, ``round(x, n)`` of a batch or a frame, ``n``
        given in ``digits`` or as ``keyword`` (None for other arguments)."""
        if len(digits) + len(kwargs) > 1 or set(kwargs) - {keyword}:
            return None
        decimals = (digits or list(kwargs.values()) or [Val(0)])[0]
        if not decimals.is_static:
            return None
        rounding = self.elementwise.round_frame if is_frame(x) else self.elementwise.round
        return rounding(x, decimals.value, self.evaluate(node, pieces))

    def _bounds(self, node: ast.Call, pieces: dict[int, Val], receiver: Val, attr: str,
                args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``s.clip(lower, upper)``, ``s.between(left, right)`` and ``s.isin([numbers])``
        (see ``bounds``)."""
        typ = receiver.ssa.type  # type: ignore[union-attr]
        elements = (f64, i64) if attr == "isin" else (f64, f32, i64)  # (float32 isin: hashed)
        if not isinstance(typ, TensorType) or is_sparse(typ) or typ.get_num_dims() != 1 \
                or typ.get_element_type() not in elements:  # fmt: skip
            return None
        return self.bounds(receiver, attr, args, kwargs, self.evaluate(node, pieces))

    def bounds(self, receiver: Val, attr: str, args: list[Val], kwargs: dict[str, Val],
               value: object) -> Val | None:  # fmt: skip
        """``s.clip(lower, upper)``, ``s.between(left, right)`` and ``s.isin([numbers])`` of
        a numeric column (a 1-D f64 or i64 batch) with constant bounds, standing for
        ``value``, as ``np.where(x < lower, lower, x)`` (NaN and ``-0.0`` stay, as pandas
        keeps them), comparisons and their ``|`` (a float NaN among the numbers: ``x != x``,
        as pandas' isin matches NaN to NaN)."""
        typ = receiver.ssa.type  # type: ignore[union-attr]
        assert isinstance(typ, TensorType)
        names = {"clip": ("lower", "upper"), "between": ("left", "right", "inclusive"),
                 "isin": ("values",)}[attr]  # fmt: skip
        if len(args) > len(names) or set(kwargs) - set(names[len(args) :]):
            return None
        bound = dict(zip(names, args, strict=False)) | kwargs
        if attr == "isin":
            values = bound["values"]
            if not values.is_static or not isinstance(values.value, (list, tuple, set)):
                return None
            items = [Val(v) for v in values.value]
            if not items or not all(_number(v) for v in items):
                return None
            column = receiver.ssa
            assert column is not None
            found: SSAValue | None = None
            for item in items:
                if item.value == item.value:
                    test = BinaryOp("eq", column, self._operand(item, receiver))
                elif type(item.value) in (float, np.float64):  # pandas matches NaN to NaN
                    test = BinaryOp("ne", column, column)  # (never true of int64)
                else:
                    raise Unsupported(f"isin with a {type(item.value).__name__} NaN (which "
                                      "pandas matches to no value) is not compiled")  # fmt: skip
                equal = self.emit(test).result
                found = equal if found is None else self._mask("or", found, equal)
            assert found is not None
            return self._checked_result(found, value)
        if attr == "between":
            inclusive = bound.get("inclusive", Val("both"))
            kinds = ("both", "neither", "left", "right")
            if not inclusive.is_static or inclusive.value not in kinds:
                return None
            left, right = bound.get("left"), bound.get("right")
            if left is None or right is None or not (_number(left) and _number(right)):
                return None
            low = "ge" if inclusive.value in ("both", "left") else "gt"
            high = "le" if inclusive.value in ("both", "right") else "lt"
            column = receiver.ssa
            assert column is not None
            above = self.emit(BinaryOp(low, column, self._operand(left, receiver))).result
            below = self.emit(BinaryOp(high, column, self._operand(right, receiver))).result
            return self._checked_result(self._mask("and", above, below), value)
        if any(bound.get(name, Val(None)).ssa is not None for name in ("lower", "upper")):
            return self.elementwise.clip_by_rows(receiver, bound.get("lower"),
                                                 bound.get("upper"), value)  # fmt: skip
        limits: dict[str, object] = {}
        for name in ("lower", "upper"):
            limit = bound.get(name, Val(None))
            if limit.is_static and limit.value is None:
                continue
            if not _number(limit):
                return None
            if limit.value == limit.value:  # pandas takes a NaN bound as no bound
                limits[name] = limit.value
        if len(limits) == 2:  # and swaps bounds given the wrong way round
            low, high = limits["lower"], limits["upper"]
            limits = {"lower": min(low, high), "upper": max(low, high)}  # type: ignore[type-var]
        result = receiver.ssa
        assert result is not None
        for name, beyond in (("lower", "lt"), ("upper", "gt")):
            if name not in limits:
                continue
            number = limits[name]
            replacement = number
            if typ.get_element_type() == i64 and not isinstance(number, (int, np.integer)):
                # pandas puts an integral float bound in the int64 column; a fractional one
                # makes it float64, but only if a value is clipped
                if not float(number).is_integer() or abs(number) >= 2**63:  # type: ignore[arg-type]
                    raise Unsupported(f"clip of an int64 column to {number!r} is int64 unless "
                                      "a value is clipped, then float64 (pandas)")  # fmt: skip
                replacement = int(number)  # type: ignore[call-overload]
            # pandas keeps x unless it is beyond the bound (compared as numpy compares): NaN
            # and -0.0 stay as they are
            outside = self.emit(BinaryOp(beyond, result, self._operand(Val(number), receiver)))
            put = self._operand(Val(replacement), receiver)
            result = self.emit(WhereOp(outside.results[0], put, result)).result
        return self._checked_result(result, value)

    def _checked_result(self, result: SSAValue, value: object) -> Val:
        """An op already emitted whose result must stand for ``value`` (see ``_checked``):
        an i64 batch of numbers pandas gives as int32 is wrapped to them (``NarrowInts``)."""
        wrapped = None if represents(result.type, value) else self.narrow.wrapped(result, value)
        if wrapped is None and not represents(result.type, value):
            raise Unsupported(f"the result is {type_of(value)}, not {result.type}")
        result = wrapped or result
        check_aligned([result], self.examples, value, self.index_roots)
        return Val(value, result)

    def _frame_constructor(self, node: ast.Call, pieces: dict[int, Val], function: object,
                           args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """``pd.DataFrame({name: column, ...})`` and ``pd.concat([frame or Series, ...],
        axis=1)`` as assembled frames (``frontend.frames``); None for other calls."""
        if len(args) != 1 or args[0].items is None:
            return None
        if function is pd.DataFrame and not kwargs and isinstance(args[0].value, dict):
            return self.frames.from_dict(args[0], self.evaluate(node, pieces))
        axis = kwargs.get("axis")
        if (
            function is pd.concat and set(kwargs) == {"axis"} and axis is not None
            and axis.is_static and axis.value in (1, "columns")
            and isinstance(args[0].value, (list, tuple))
        ):  # fmt: skip
            return self.frames.concat(args[0].items, self.evaluate(node, pieces))
        return None

    def _hstack(self, node: ast.Call, pieces: dict[int, Val], function: object,
                args: list[Val], kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        name = _HSTACKS[function]
        if len(args) != 1 or args[0].items is None:
            return None
        if set(kwargs) - ({"format"} if function is sp.hstack else set()):
            return None
        value = self.evaluate(node, pieces)
        floats = getattr(value, "dtype", None) == np.float64  # numpy made the ints floats
        inputs = []
        for item in args[0].items:
            if floats and function is not sp.hstack and item.ssa is not None and \
                    _integers(item.ssa.type):  # fmt: skip
                item = Val(item.value, self.emit(CastOp(item.ssa, f64)).result)
            if item.ssa is None or not is_batch(item.ssa.type):
                raise Unsupported(f"{name} of a value that is not a batch of numbers")
            if is_sparse(item.ssa.type) and function is not sp.hstack:
                raise Unsupported(f"{name} of a sparse matrix is not compiled")
            if item.ssa.type.get_num_dims() == 1 and function is not np.column_stack:
                raise Unsupported(f"{name} of a 1-D value concatenates rows")
            inputs.append(item.ssa)
        return Val(value, self.emit(hstack_op(inputs, value, name)).result)

    # endregion


#: Methods whose first argument (or this keyword) is a lookup table: ``rows.merge(table)``.
_TABLE_ARGUMENTS = {"merge": "right", "join": "other", "map": "arg"}
#: Keywords whose value names columns or options rather than holding rows.
_KEY_KEYWORDS = {"on", "left_on", "right_on", "how", "suffixes", "lsuffix", "rsuffix", "columns",
                 "subset", "by", "value", "validate", "na_action"}  # fmt: skip


def _picked_columns(key: object, width: int) -> list[int] | None:
    """The columns ``X[key]`` takes of a 2-D array of ``width`` columns, for ``X[:, a:b]``
    and ``X[:, [i, j]]`` (ints, negative ones counted from the end); None for another key
    or a column out of range (numpy raises)."""
    if not (isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None)) or width < 0:
        return None
    if isinstance(key[1], slice):
        return list(range(width))[key[1]]
    picks = key[1]
    if not isinstance(picks, list) or not all(
        isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))
        and -width <= i < width for i in picks
    ):  # fmt: skip
        return None
    return [int(i) % width for i in picks]


def _labels_of(table: Val, indices: Val) -> bool:
    """A constant 1-D numpy array (``model.classes_``) and the native ``argmax`` of rows no
    wider than it: an index into it on every row, those a kernel hands back too."""
    argmax = indices.ssa.owner if indices.ssa is not None else None
    return table.is_static and isinstance(table.value, np.ndarray) and table.value.ndim == 1 \
        and isinstance(argmax, feature.ArgmaxOp) \
        and argmax.input.type.get_shape()[1] <= len(table.value)  # fmt: skip


def _missing_of(node: ast.expr, frame: str, column: str) -> bool:
    """Whether ``node`` is ``frame[column].isna()`` (or ``isnull``, or ``frame.column``)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("isna", "isnull")) or node.args or node.keywords:  # fmt: skip
        return False
    of = node.func.value
    if isinstance(of, ast.Attribute):
        return isinstance(of.value, ast.Name) and of.value.id == frame and of.attr == column
    return isinstance(of, ast.Subscript) and isinstance(of.value, ast.Name) \
        and of.value.id == frame and isinstance(of.slice, ast.Constant) \
        and of.slice.value == column  # fmt: skip


def _fills(frame: object, column: str, val: Val) -> bool:
    """Whether ``val`` fills ``column`` of ``frame`` as ``fillna`` does: a str in a column
    of str, a number (not NaN) in a numeric one."""
    if not isinstance(frame, pd.DataFrame) or column not in frame.columns or not val.is_static:
        return False
    if isinstance(val.value, str):
        return column_kind(frame[column]) == "str"
    return _number(val) and val.value == val.value and frame[column].dtype.kind in "if"


def _reset_index(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index(drop=True)


def _set_index(key: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return functools.partial(pd.DataFrame.set_index, keys=key)


def _call_pieces(node: ast.Call, pieces: dict[int, Val], function: object
                 ) -> tuple[Val | None, object, list[Val], dict[str, Val]]:  # fmt: skip
    """A call's receiver, ``function``, and positional and keyword arguments, as ``pieces``
    holds them now (``_call``'s arguments)."""
    receiver = pieces[id(node.func.value)] if isinstance(node.func, ast.Attribute) else None
    args = [pieces[id(a)] for a in node.args]
    return receiver, function, args, {k.arg: pieces[id(k.value)] for k in node.keywords}  # type: ignore[misc]


def _integers(typ: Attribute) -> bool:
    """A dense batch of i64 or i1, which numpy stacks beside floats as float64 values."""
    return isinstance(typ, TensorType) and not is_sparse(typ) and \
        typ.get_element_type() in (i64, i1)  # fmt: skip


def _by_rows(key: ast.expr, name: str, variables: set[str]) -> bool:
    """Whether ``key`` (of ``name.loc[key]`` or ``name.reindex(key)``) looks up one entry
    per row: it reads another variable and is no slice (``d.loc[:, cols]`` selects)."""
    return not any(isinstance(n, ast.Slice) for n in ast.walk(key)) and any(
        isinstance(n, ast.Name) and n.id != name and n.id in variables for n in ast.walk(key)
    )


def _use_kind(node: ast.Name, parents: dict[int, ast.AST], ns: dict[str, Any],
              variables: set[str]) -> str:  # fmt: skip
    """How a function body uses one load of a parameter: ``"table"`` (a lookup table, or
    a value derived from one: ``table[cols]``, ``table.set_index(k)``), ``"key"`` (column
    names or options: ``d[cols]``, ``on=keys``, ``cols + more``) or ``"other"``."""
    name, derived, current = node.id, False, node
    while True:
        parent = parents.get(id(current))
        if isinstance(parent, ast.Call) and current in parent.args:
            func = parent.func
            if isinstance(func, ast.Attribute) and func.attr in _TABLE_ARGUMENTS:
                owner = func.value
                if isinstance(owner, ast.Constant):  # "sep".join(words)
                    return "other"
                module = isinstance(owner, ast.Name) and inspect.ismodule(ns.get(owner.id))
                if parent.args.index(current) == (1 if module else 0):  # pd.merge(rows, table)
                    return "table"
            passed = passed_to_helper(parent, parent.args.index(current), ns, static_by_use)
            return "table" if passed == "table" else "other"
        if isinstance(parent, ast.keyword):
            call = parents.get(id(parent))
            func = call.func if isinstance(call, ast.Call) else None
            if isinstance(func, ast.Attribute) and _TABLE_ARGUMENTS.get(func.attr) == parent.arg:
                return "table"
            passed = passed_to_helper(call, parent.arg, ns, static_by_use) if func else None
            if passed is not None:  # my_merge(df, table=weather): as the helper uses it
                return passed
            return "key" if parent.arg in _KEY_KEYWORDS and not derived else "other"
        if isinstance(parent, ast.Subscript) and parent.slice is current:
            return "key" if not derived else "other"
        if isinstance(parent, ast.Attribute) and parent.value is current:
            above = parents.get(id(parent))
            if parent.attr == "loc" and isinstance(above, ast.Subscript) and above.value is parent:
                return "table" if _by_rows(above.slice, name, variables) else "other"
            if parent.attr == "reindex" and isinstance(above, ast.Call) and above.func is parent:
                rows = len(above.args) == 1 and _by_rows(above.args[0], name, variables)
                options = {k.arg for k in above.keywords} <= {"fill_value"}
                return "table" if rows and options else "other"
            is_call = isinstance(above, ast.Call) and above.func is parent
            current = above if is_call else parent  # type: ignore[assignment]
        elif isinstance(parent, ast.Subscript) and parent.value is current:
            current = parent
        elif isinstance(parent, (ast.List, ast.Tuple)) or (
            isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add)
        ):  # keys + [more]: still column names
            current = parent
            continue
        else:
            return "other"
        derived = True


def static_by_use(fdef: ast.FunctionDef, names: list[str], ns: dict[str, Any]) -> set[str]:
    """The ``names`` the body uses only as lookup tables or column names, never rebinding
    them: their arguments are bound at compile time even if they look like row data."""
    parents = {id(c): p for p in ast.walk(fdef) for c in ast.iter_child_nodes(p)}
    variables = set(names) | set(_stored_names(fdef.body))
    uses: dict[str, set[str]] = {name: set() for name in names}
    for node in ast.walk(fdef):
        if isinstance(node, ast.Name) and node.id in uses:
            load = isinstance(node.ctx, ast.Load)
            uses[node.id].add(_use_kind(node, parents, ns, variables) if load else "other")
    return {name for name, kinds in uses.items() if kinds and "other" not in kinds}


def _is_constant(value: object) -> bool:
    """A plain value bound at compile time: a str, number, bool or None, or a list, tuple or
    dict of them or of fitted estimators (one model per partition)."""
    if value is None or isinstance(value, (str, bytes, bool, int, float, np.generic)):
        return not isinstance(value, (complex, np.complexfloating))
    if isinstance(value, (list, tuple)):
        return all(_is_constant(v) or is_estimator(v) for v in value)
    if isinstance(value, dict):
        return all(_is_constant(k) and (_is_constant(v) or is_estimator(v))
                   for k, v in value.items())  # fmt: skip
    return False


def _classify(name: str, value: object, static: bool = False) -> ArgumentSpec:
    """The ArgumentSpec of one example argument; ``static`` ones are bound at compile time."""
    if static:
        return ArgumentSpec(name, "bound", None, value, None)
    if isinstance(value, pd.DataFrame):
        columns = frame_columns(value)
        if columns is None:
            bad = [c for c in value.columns if not isinstance(c, str)]
            detail = f"column name {bad[0]!r} is not a str" if bad else \
                "its column names are not distinct"  # fmt: skip
            raise FrontendError(f"argument {name!r}: unsupported DataFrame: {detail}")
        return ArgumentSpec(name, "frame", frame_type(columns), None, columns,
                            example=ValueSpec.of(value))  # fmt: skip
    if is_text(value):
        return ArgumentSpec(name, "strings", text_type(name), None, [(name, "str")],
                            example=ValueSpec.of(value))  # fmt: skip
    if isinstance(value, np.ndarray):
        if value.ndim == 2 and value.dtype.kind in "fiub":
            return ArgumentSpec(name, "array", batch_of(value.shape[1]), None, None,
                                example=ValueSpec.of(value))  # fmt: skip
        raise FrontendError(
            f"argument {name!r}: a numpy array must be 2-D and numeric or 1-D of str, got "
            f"{value.ndim}-D of dtype {value.dtype}"
        )
    if (
        is_estimator(value) or callable(value) or inspect.ismodule(value) or is_dataclass(value)
        or _is_constant(value)
    ):  # fmt: skip
        return ArgumentSpec(name, "bound", None, value, None)
    raise FrontendError(
        f"argument {name!r}: unsupported type {type(value).__name__}; expected a pandas "
        "DataFrame, a 2-D numeric numpy array, a list, 1-D array or Series of str, a "
        "fitted estimator, a constant (str, number, list, dict), or a lookup table; name "
        f"it in wm.compile(..., static=({name!r},)) to bind it at compile time"
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


def _as_returned(tracer: Tracer, val: Val, specs: list[ArgumentSpec], values: list[object]) -> Val:
    """A returned value as the original returns it: a Series or DataFrame computed natively
    is rebuilt in Python around the native values (``Unsupported`` if it cannot be); a
    frame whose labels' dtype pandas takes from a frame argument's is relabelled."""
    if recipe(val.value, val.ssa, tracer.examples, [], tracer.index_roots) is not None:  # type: ignore[arg-type]
        val = tracer.python_op(
            "result", _identity, [val], "the function returns a pandas object: its index, "
            "name and dtypes are put around the native values", "return", wraps=True,
        )  # fmt: skip
    if not isinstance(val.value, pd.DataFrame) or val.ssa is None:
        return val
    data = [v for s, v in zip(specs, values, strict=True) if s.kind != "bound"]
    frames = [k for k, v in enumerate(data) if isinstance(v, pd.DataFrame)]
    labels = _labels_by_dtype(tracer.fn, specs, values, val.value.columns)
    if len(labels) < 2:
        return val
    arguments = [Val(tracer.examples[tracer.block.args[k]], tracer.block.args[k]) for k in frames]
    return tracer.python_op(
        "labels", Relabel(labels), [val, *arguments], "pandas takes the returned frame's "
        "labels (their dtype) from the frame argument's", "return", wraps=True,
    )  # fmt: skip


def _flipped_labels(frame: pd.DataFrame) -> pd.DataFrame | None:
    """A copy of ``frame`` whose str labels are ``str`` where they were ``object``, or the
    reverse (None for other labels)."""
    labels = frame.columns
    if labels.dtype not in (object, "str") or not all(isinstance(c, str) for c in labels):
        return None
    flipped = frame.copy()
    flipped.columns = labels.astype(object if labels.dtype != object else "str")
    return flipped


def _flipped_or_copy(value: object) -> object:
    """A data argument for the original function: a frame with flipped labels, else a copy."""
    flipped = _flipped_labels(value) if isinstance(value, pd.DataFrame) else None
    return copy.copy(value) if flipped is None else flipped


def _labels_by_dtype(
    fn: Callable, specs: list[ArgumentSpec], values: list[object], columns: pd.Index
) -> tuple[tuple[tuple[str, ...], pd.Index], ...]:
    """A returned frame's ``columns`` by the dtypes of the frame arguments' labels
    (``fallback.Relabel``): the example's, and, where they differ, what the original returns
    for their str labels of the other dtype (``_flipped_labels``). One item where that
    changes nothing."""
    arguments = [v if s.kind == "bound" else _flipped_or_copy(v)
                 for s, v in zip(specs, values, strict=True)]  # fmt: skip
    frames = [(v, a) for s, v, a in zip(specs, values, arguments, strict=True)
              if s.kind != "bound" and isinstance(v, pd.DataFrame)]  # fmt: skip
    labels = [(tuple(str(v.columns.dtype) for v, _ in frames), columns)]
    if all(a.columns.dtype == v.columns.dtype for v, a in frames):
        return tuple(labels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            other = fn(*arguments)
    except Exception:  # the original refuses such labels: the compiled code runs it there
        return tuple(labels)
    if isinstance(other, pd.DataFrame) and list(other.columns) == list(columns) \
            and other.columns.dtype != columns.dtype:  # fmt: skip
        labels.append((tuple(str(a.columns.dtype) for _, a in frames), other.columns))
    return tuple(labels)


def _identity(value: object) -> object:
    return value


def _rows(value: object) -> int:
    """How many rows a data argument's example has."""
    return value.shape[0] if isinstance(value, np.ndarray) else len(value)  # type: ignore


def _arguments(
    fn: Callable, fdef: ast.FunctionDef, values: list[object], static: Collection[str]
) -> tuple[list[ArgumentSpec], list[str]]:  # fmt: skip
    """The ArgumentSpec of each parameter of ``fn`` for its example value, and notes on the
    tables bound because the body uses them only for lookups.

    Such a table stays row data if it has as many rows as the row data (``a.join(b)`` of
    two frames of the same rows, as pandas runs it); ``static`` binds it regardless.
    """
    name, names = fn.__name__, list(inspect.signature(fn).parameters)
    static = {static} if isinstance(static, str) else set(static)
    unknown = sorted(static - set(names))
    if unknown:
        raise FrontendError(
            f"static=: {', '.join(map(repr, unknown))} is not a parameter of {name!r} (its "
            f"parameters are {names})"
        )
    inferred = static_by_use(fdef, names, fn.__globals__) - static
    known = {n: _classify(n, v, n in static)
             for n, v in zip(names, values, strict=True) if n not in inferred}  # fmt: skip
    rows = [_rows(v) for n, v in zip(names, values, strict=True)
            if n in known and known[n].kind != "bound"]  # fmt: skip
    specs, notes = [], []
    for n, value in zip(names, values, strict=True):
        if n in known:
            specs.append(known[n])
        elif isinstance(value, pd.DataFrame) and rows and len(value) == rows[0]:
            specs.append(_classify(n, value))
            notes.append(f"argument {n!r} is used only as a lookup table but has as many rows "
                         "as the row data, so it is row data; name it in static= to bind it "
                         "at compile time")  # fmt: skip
        else:
            specs.append(_classify(n, value, static=True))
            if isinstance(value, (pd.DataFrame, pd.Series, np.ndarray)):
                notes.append(f"argument {n!r} is used only as a lookup table: it is bound at "
                             "compile time; a later call must pass it or an equal one")  # fmt: skip
    counts = [(s.name, _rows(v)) for s, v in zip(specs, values, strict=True) if s.kind != "bound"]
    if not counts:
        bound = ", ".join(f"argument {s.name!r} ({type(s.value).__name__})" for s in specs)
        raise FrontendError(
            f"{name!r} has no argument of row data (a DataFrame, a 2-D numeric numpy array, "
            f"or a list, 1-D array or Series of str): {bound or 'no arguments'} "
            "are bound at compile time"
        )
    for other, count in counts[1:]:
        if count != counts[0][1]:
            raise FrontendError(
                f"{name!r}: argument {other!r} has {count} rows but {counts[0][0]!r} has "
                f"{counts[0][1]}; if {other!r} is a lookup table or a constant rather than "
                f"row data, name it in wm.compile(..., static=({other!r},))"
            )
    return specs, notes


def statement_lines(fn: Callable) -> list[int]:
    """The line (in its file) of each top-level statement of ``fn``'s body."""
    fdef, first_line = _source(fn)
    return [first_line + stmt.lineno - 1 for stmt in fdef.body]


def _consumed(ops: Iterable[Operation]) -> set[tuple[int, str]]:
    """The (data argument, column) pairs that ``ops`` read: a ``pipeline.to_array`` its
    columns, an op of one ``column`` of a ``frame`` that one, a string op or a transformer
    (an encoder of str columns) the columns of its frames. The runtime checks those as it
    reads them, so ``Tracer.named`` needs no check of its own for them."""
    found: set[tuple[int, str]] = set()
    for op in ops:
        frame = getattr(op, "frame", None)
        if isinstance(op, ToArrayOp):
            read = [(op.frame, c.data) for c in op.columns.data]
        elif isinstance(getattr(op, "column", None), StringAttr) and isinstance(frame, SSAValue):
            read = [(frame, op.column.data)]  # type: ignore[attr-defined]
        elif isinstance(op, (*STRING_OPS, StrLenOp, StrSplitCountOp, StrSearchOp, StrMatchOp,
                             StrToIntOp, TransformOp)):  # fmt: skip
            read = [(v, name) for v in op.operands if isinstance(v.type, FrameType)
                    for name, _ in v.type.columns]  # fmt: skip
        else:
            continue
        for source, column in (resolve_column(f, name) for f, name in read):
            if isinstance(source, BlockArgument) and isinstance(column, str):
                found.add((source.index, column))
    return found


_PLAIN_READS = (SelectColumnsOp, ToArrayOp, TakeColumnOp)


def _computed_on(ops: Iterable[Operation]) -> list[Operation]:
    """The ops of ``ops`` (in order) that compute on what they read, or whose result some
    op computes on: all but column reads (``select_columns``, ``to_array``,
    ``take_column``) whose results are only read or copied (a frame's column that the code
    copies, then drops)."""
    ops = list(ops)
    computed: set[Operation] = set()
    for op in reversed(ops):
        if not isinstance(op, _PLAIN_READS) or any(
            use.operation in computed for result in op.results for use in result.uses
        ):  # fmt: skip
            computed.add(op)
    return [op for op in ops if op in computed]


def trace_to_module(
    fn: Callable,
    example: tuple,
    static: Collection[str] = (),
    python_block: tuple[int, int, str] | None = None,
) -> FrontendResult:
    """Trace ``fn`` on ``example`` (its argument values) into a ``pipeline`` module.

    Arguments named in ``static``, and those the body uses only as lookup tables or column
    names (``static_by_use``), are bound at compile time like estimators. With
    ``python_block=(start, stop, why)``, the body's statements ``start`` to ``stop - 1``
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
    specs, notes = _arguments(fn, fdef, values, static)
    tracer = Tracer(fn, fdef, first_line, python_block)
    tracer.notes += notes
    data = [s for s in specs if s.kind != "bound"]
    tracer.block = Block(arg_types=[s.type for s in data])  # type: ignore[misc]
    block_args = iter(tracer.block.args)
    for spec, value in zip(specs, values, strict=True):
        if spec.kind == "bound":
            tracer.env[spec.name] = Val(value)
        else:
            copied = value if isinstance(value, tuple) else value.copy()  # type: ignore[union-attr]
            tracer.env[spec.name] = Val(copied, next(block_args))
            tracer.examples[tracer.env[spec.name].ssa] = copied
    returned = [_as_returned(tracer, v, specs, values) for v in tracer.run(fdef.body)]
    tracer.emit(func.ReturnOp(*[v.ssa for v in returned]))  # type: ignore[misc]
    materialize_joins(tracer)  # merged frames that leave native code are pandas' own
    materialize_strings(tracer, tracer.strings)  # so are transformed str columns
    function = func.FuncOp(
        name,
        ([s.type for s in data], [v.ssa.type for v in returned]),  # type: ignore[misc]
        Region(tracer.block),
    )
    module = ModuleOp([function])
    reads = {op: _consumed([op]) for op in _computed_on(tracer.block.ops)}
    dce(module)  # selections and constants that folding or fallbacks left unused, and the
    # statements whose values the function never uses: the columns they compute on stay
    # ``named`` and ``unused``, checked at run time (pandas still computes them, and raises
    # where they do); a column only copied and dropped is just ``named``
    kept = set(tracer.block.ops)
    unused = set().union(tracer.deferred, *(r for op, r in reads.items() if op not in kept))
    check_lengths(tracer.strings)
    record_dtypes(tracer, specs, values)
    tracer.rows.record(specs, values)
    for position, column in sorted((tracer.named - _consumed(tracer.block.ops)) | unused):
        data[position].named = [*(data[position].named or []), column]
    for spec in data:
        spec.unused = [c for p, c in sorted(unused) if data[p] is spec]
    for position in tracer.ordered:
        data[position].ordered = True
    for position in tracer.nonempty:
        data[position].nonempty = True
    module.verify()  # a VerifyException is the compiler's failure: wm.compile retries
    returns_sparse = len(returned) == 1 and sp.issparse(returned[0].value)
    return FrontendResult(module, tracer.blobs, specs, dict(tracer.calls),
                          returns_sparse, tracer.notes, tracer.models)  # fmt: skip
