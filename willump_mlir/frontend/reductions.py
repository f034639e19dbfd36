"""Batch reductions of pandas columns: ``s.mean()``, ``sum``, ``min``, ``max``, ``std``,
``var``, ``count`` and ``median``, as ``pipeline.reduce`` (pandas' semantics: NaN
skipped, ``ddof``).

The result is a scalar IR value (f64, or i64 where pandas gives an integer) that row ops
take as an operand (``a - a.mean()``, ``a / a.max()``, ``a.fillna(a.median())``), as does
arithmetic of such scalars (``(a - a.min()) / (a.max() - a.min())``). It depends on every
row of the batch: ``lower-feature-to-scf`` computes it in a kernel of its own before the
rows that use it, and a cascade refuses such a pipeline (``infer-feature-groups``).
``quantile`` runs in Python (:data:`IN_PYTHON`). numpy's reductions of a column
(``np.mean(s)``, ``np.nansum(s)``: :data:`NUMPY_REDUCTIONS`) are these; of an array
(``np.mean(array)``) they keep numpy's semantics and are not recognised here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import TensorType, f64, i1, i64

from willump_mlir.dialects.pipeline import COMPARISONS, BinaryOp, ReduceOp, is_sparse

from .spec import Unsupported
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer

#: The pandas reductions compiled, and the keywords each takes (``skipna`` must be True).
REDUCTIONS: dict[str, frozenset[str]] = {
    "mean": frozenset({"skipna"}), "sum": frozenset({"skipna"}), "min": frozenset({"skipna"}),
    "max": frozenset({"skipna"}), "std": frozenset({"skipna", "ddof"}),
    "var": frozenset({"skipna", "ddof"}), "count": frozenset(), "median": frozenset({"skipna"}),
}  # fmt: skip
#: numpy's reductions that call a pandas Series' method (``np.mean(s)`` is ``s.mean()``,
#: NaN skipped; ``np.std(s)`` is ``s.std(ddof=0)``): the method, and its ``ddof``. numpy's
#: NaN-skipping ones (``np.nansum(s)``) read the column as an array, put 0.0 for NaN and
#: sum it as pandas does (numpy's pairwise sum of the filled copy), so they are the same
#: reductions (``np.nanmax`` raises for no rows, where pandas gives NaN: an empty batch
#: runs the original).
NUMPY_REDUCTIONS: dict[object, tuple[str, int | None]] = {
    np.mean: ("mean", None), np.sum: ("sum", None), np.max: ("max", None),
    np.min: ("min", None), np.amax: ("max", None), np.amin: ("min", None),
    np.std: ("std", 0), np.var: ("var", 0), np.nansum: ("sum", None),
    np.nanmean: ("mean", None), np.nanstd: ("std", 0), np.nanvar: ("var", 0),
    np.nanmedian: ("median", None), np.nanmax: ("max", None), np.nanmin: ("min", None),
}  # fmt: skip
#: Reductions of a column that stay in Python, and why.
IN_PYTHON = {
    "quantile": "a quantile (numpy's interpolation between order statistics) is not compiled: "
    "it runs in Python, with pandas' semantics",
}


def is_reduction(val: Val) -> bool:
    """A traced value that is a batch reduction's scalar, or arithmetic of them."""
    return val.ssa is not None and (
        isinstance(val.ssa.owner, ReduceOp)
        or isinstance(val.ssa.owner, BinaryOp) and not isinstance(val.ssa.type, TensorType)
    )  # fmt: skip


def scalar_arithmetic(tracer: Tracer, op: BinaryOp, value: object) -> Val:
    """``op`` of two scalars (``a.max() - a.min()``), at least one a batch reduction's, as
    numpy computes on its scalars (it wraps integers too); standing for ``value``."""
    if op.function.data in COMPARISONS or not any(
        isinstance(v.owner, ReduceOp | BinaryOp) for v in op.operands
    ):  # fmt: skip
        raise Unsupported("this operation of two numbers is not compiled")
    expected = float if op.result.type == f64 else np.int64
    if not isinstance(value, expected) or isinstance(value, bool):
        raise Unsupported(f"numpy gives {type(value).__name__} here, not {expected.__name__}")
    tracer.emit(op)
    return Val(value, op.result)


def reduce(tracer: Tracer, column: Val, method: str, args: list[Val], kwargs: dict[str, Val],
           value: object) -> Val | None:  # fmt: skip
    """``column.<method>(**kwargs)`` of a numeric pandas column, standing for ``value``;
    None if it is not such a call."""
    if method in IN_PYTHON and isinstance(column.value, pd.Series):
        raise Unsupported(IN_PYTHON[method])
    typ = column.ssa.type if column.ssa is not None else None
    if (
        method not in REDUCTIONS or args or set(kwargs) - REDUCTIONS[method]
        or not isinstance(column.value, pd.Series) or column.columns is not None
        or not isinstance(typ, TensorType) or is_sparse(typ) or typ.get_num_dims() != 1
    ):  # fmt: skip
        return None
    if not all(k.is_static for k in kwargs.values()):
        raise Unsupported(f"{method} with options computed at run time is not compiled")
    if kwargs.get("skipna", Val(True)).value is not True:
        raise Unsupported(f"{method}(skipna=False) is not compiled")
    ddof = kwargs.get("ddof", Val(1)).value if method in ("std", "var") else None
    if ddof is not None and (isinstance(ddof, bool) or not isinstance(ddof, int) or ddof < 0):
        raise Unsupported(f"{method} with ddof={ddof!r} is not compiled")
    element = typ.get_element_type()
    if element == i1 and method in ("min", "max"):
        raise Unsupported(f"{method} of a boolean column (a bool) is not compiled")
    op = tracer.emit(ReduceOp(method, column.ssa, ddof))  # type: ignore[arg-type]
    # pandas gives a float NaN (np.float64's base class) for a mean of no value
    expected = float if op.result.type == f64 else np.int64
    if not isinstance(value, expected) or isinstance(value, bool):
        raise Unsupported(f"pandas gives {type(value).__name__} here, not {expected.__name__}")
    assert op.result.type in (f64, i64)
    return Val(value, op.result)
