"""The frontend's public result types and errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Attribute, Operation

from willump_mlir.blobs import BlobStore


class FrontendError(ValueError):
    """The function or its example cannot be traced; the message names the culprit."""


class Unsupported(Exception):
    """A construct the compiler cannot reproduce exactly; it becomes a Python op."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ValueSpec:
    """A data value as the example showed it, for a pipeline's signature (what a server
    lists and decodes requests into): its type's name (``DataFrame``, ``ndarray``,
    ``list``, ``tuple``, ``Series``, ``csr_matrix``), the dtype of each of its columns (a
    frame's, by name, in order; ``""``: the value's own) and the shape of one row (``()``
    for one value a row)."""

    type: str
    dtypes: tuple[tuple[str, str], ...]
    row_shape: tuple[int, ...] = ()
    name: str | None = None  # a Series' name (a str; else None)

    @staticmethod
    def of(value: object) -> ValueSpec | None:
        """The spec of a DataFrame, Series, numpy array, scipy sparse matrix, or list or
        tuple of str; None for anything else (a tuple of results, a scalar)."""
        kind = type(value).__name__
        if isinstance(value, pd.DataFrame):
            dtypes = tuple((str(c), str(d)) for c, d in value.dtypes.items())
            return ValueSpec(kind, dtypes, (len(dtypes),))
        if isinstance(value, pd.Series):
            name = value.name if isinstance(value.name, str) else None
            return ValueSpec(kind, (("", str(value.dtype)),), (), name)
        if isinstance(value, np.ndarray) or sp.issparse(value):
            shape = tuple(int(n) for n in value.shape[1:])  # type: ignore[union-attr]
            return ValueSpec(kind, (("", str(value.dtype)),), shape)  # type: ignore[union-attr]
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return ValueSpec(kind, (("", "object"),))
        return None

    def to_json(self) -> dict[str, object]:
        return {"type": self.type, "dtypes": [list(d) for d in self.dtypes],
                "row_shape": list(self.row_shape), "name": self.name}  # fmt: skip

    @staticmethod
    def from_json(data: dict[str, Any]) -> ValueSpec:
        """The spec ``to_json`` wrote (``KeyError``/``TypeError``/``ValueError`` if damaged)."""
        name = data["name"]
        return ValueSpec(
            str(data["type"]),
            tuple((str(c), str(d)) for c, d in data["dtypes"]),
            tuple(int(n) for n in data["row_shape"]),
            None if name is None else str(name),
        )


@dataclass
class ArgumentSpec:
    """One parameter of the traced function."""

    name: str
    # "frame" | "array" | "strings" (a list/array/Series of str) | "bound" (an estimator,
    # a lookup table or a constant: ``value``, compiled into the code)
    kind: str
    type: Attribute | None
    value: object
    columns: list[tuple[str, str]] | None = None
    #: the example's dtype of each column (``""``: of a 2-D array) whose dtype a result can
    #: show, or native float64 arithmetic computes on (``frontend.stability``): a batch of
    #: another dtype there runs the original
    dtypes: dict[str, str] | None = None
    #: for each column (``""``: a 2-D array) native code reads as float64, whether the
    #: example's was bool: numpy computes on bools otherwise (``True + True`` is ``True``)
    bools: dict[str, bool] | None = None
    #: a data argument's example (its columns and their dtypes), for the signature
    example: ValueSpec | None = None
    #: a frame argument whose columns' order or set the result depends on (``df.to_numpy()``,
    #: a model given the frame, the frame returned): a batch whose columns are not the
    #: example's, in order, runs the original (see ``api.SelfCheck.column_order``)
    ordered: bool = False
    #: the columns of a frame argument the code names (``df[...]``, ``drop``, ``pop``) but
    #: native code does not read, and those a statement whose value is unused computes on:
    #: a batch without one runs the original (which raises ``KeyError``)
    named: list[str] | None = None
    #: the columns of ``named`` that a statement whose value is unused computes on
    #: (``n = df["s"].str.len()``): a batch where one has another dtype than the example's
    #: runs the original (pandas may raise there); None (a save from before this field):
    #: every column of ``named``
    unused: list[str] | None = None
    #: a data argument whose emptiness a branch tests (``if len(df) == 0: return ...``):
    #: traced for the example's rows, so an empty batch runs the original
    nonempty: bool = False

    def example_dtype(self, column: str) -> str | None:
        """The example's dtype of ``column`` (``""``: of the value itself), if known."""
        return None if self.example is None else dict(self.example.dtypes).get(column)

    def accepts(self, value: object) -> bool:
        """Whether a call may pass ``value`` for this bound argument: the object given to
        ``wm.compile``, or an equal one (same types, equal contents; estimators and other
        objects only themselves)."""
        return value is self.value or same_value(self.value, value)


def same_value(a: object, b: object) -> bool:
    """``a`` and ``b`` are the same constant or table: identical, or of the same type with
    equal contents (pandas ``equals``, element-wise for containers; NaN equals NaN)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, pd.DataFrame):
        return a.equals(b)  # the same index, columns, dtypes and values
    if isinstance(a, pd.Series):
        return a.equals(b) and same_value(a.name, b.name)  # type: ignore[union-attr]
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same_value, a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)  # type: ignore
    if isinstance(a, (float, np.floating)):  # NaN is NaN; -0.0 is not 0.0 (1 / x differs)
        return (a == b and np.signbit(a) == np.signbit(b)) or (a != a and b != b)
    if isinstance(a, (str, bytes, bool, int, np.generic)) or a is None:
        return bool(a == b)
    return False  # an estimator or other object: only itself


@dataclass
class PythonCall:
    """How to run one ``pipeline.python_call``: ``function(*operand values)`` returns the
    tuple of its results (a ``frontend.fallback.PythonFunction``)."""

    name: str
    function: Callable
    reason: str
    source: str
    #: True if it only puts the original's container around native values (a returned
    #: Series' index, name and dtype; class labels taken from ``classes_``): vectorised
    #: numpy/pandas work per call, no feature code or model in Python.
    wraps: bool = False
    #: True if it only packs the returned values into the tuple, list or dict the function
    #: returns (``wm.optimize`` merges a cascade's results part by part through it).
    packs: bool = False


@dataclass
class FrontendResult:
    """The traced module plus everything the compiler needs besides the IR text."""

    module: ModuleOp
    blobs: BlobStore
    arguments: list[ArgumentSpec]
    python_calls: dict[str, PythonCall]
    returns_sparse: bool
    notes: list[str] = field(default_factory=list)
    # each traced estimator op (pipeline.transform, pipeline.predict) -> the estimator it calls
    models: dict[Operation, object] = field(default_factory=dict)
    #: what the original function returns on the example (set by ``wm.compile``'s check)
    result: ValueSpec | None = None
    # the options of the compiler's passes, by pass name (``compiler.StagedModule``)

    @property
    def python_fallbacks(self) -> dict[str, PythonCall]:
        """The Python calls that run the user's code (not those that only wrap results)."""
        return {name: call for name, call in self.python_calls.items() if not call.wraps}
