"""Binning by constant edges, as nested ``pipeline.where`` of comparisons with the edges.

* ``np.searchsorted(edges, x, side=...)`` and ``np.digitize(x, edges, right=...)`` of
  increasing edges: the number of edges below ``x`` (``side="left"``; at or below it for
  ``"right"``), NaN sorting above every edge (so its index is ``len(edges)``), int64.
* ``pd.cut(x, edges, labels=False, right=..., include_lowest=..., duplicates=...)``: the
  bin of each value (pandas' ``searchsorted`` of the edges minus 1), NaN below the first
  edge, above the last and for NaN. pandas gives int64 when the batch has no such value and
  float64 otherwise: on an int64 example the codes are a speculative cast (a batch with a
  NaN code runs the original function); on a float64 example they are ``unstable``
  (``stability.check_results``: native only where a model, a comparison or float
  arithmetic reads them). Edges from the batch (``bins=4``, ``pd.qcut``) and labels run in
  Python.

The edges are pandas' or numpy's own after their checks (``retbins``, the example's
call). Integer edges compare with an int64 ``x`` as int64, otherwise both are float64,
as numpy's ``searchsorted`` converts them to their common type.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from xdsl.dialects.builtin import TensorType, f64, i64
from xdsl.ir import Operation, SSAValue

from willump_mlir.dialects.pipeline import (
    BinaryOp,
    CastOp,
    ConstantOp,
    CutWidthOp,
    ReduceOp,
    WhereOp,
    is_sparse,
)

from .spec import Unsupported
from .values import Val

if TYPE_CHECKING:
    from .tracer import Tracer


#: The most bins ``pd.cut(x, bins)`` computes natively (a row compares with every edge).
_MAX_BINS = 256


class Binning:
    """``pd.cut``, ``np.digitize`` and ``np.searchsorted`` by constant edges (module doc)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def call(self, node: ast.Call, pieces: dict[int, Val], function: object, args: list[Val],
             kwargs: dict[str, Val]) -> Val | None:  # fmt: skip
        """The binning call ``function(*args, **kwargs)``; None for another function."""
        binners: dict[object, Callable[..., Val]] = {
            pd.cut: self.cut, np.digitize: self.digitize, np.searchsorted: self.searchsorted,
        }  # fmt: skip
        if function is pd.qcut:
            raise Unsupported("pd.qcut computes the edges from the batch's quantiles: it runs "
                              "in Python")  # fmt: skip
        binner = next((b for f, b in binners.items() if function is f), None)
        if binner is None:
            return None
        try:
            bound = inspect.signature(function).bind(*args, **kwargs)  # type: ignore[arg-type]
        except TypeError:
            return None  # the call raises in Python, as the original does
        return binner(bound.arguments, lambda: self.tracer.evaluate(node, pieces))

    def cut(self, arguments: dict[str, Val], value: Callable[[], object]) -> Val:
        """``pd.cut(x, edges, labels=False, ...)`` (module doc)."""
        x = arguments["x"]
        options = {k: v for k, v in arguments.items() if k != "x"}
        if any(not v.is_static for v in options.values()):
            raise Unsupported("pd.cut's bins and options must be constants")
        settings = {k: v.value for k, v in options.items()}
        if settings.get("labels", None) is not False:
            raise Unsupported("pd.cut with labels (a categorical of intervals or names) is "
                              "compiled only as labels=False (integer codes)")  # fmt: skip
        if settings.get("retbins", False) or isinstance(settings["bins"], pd.IntervalIndex):
            raise Unsupported("pd.cut with retbins=True or an IntervalIndex is not compiled")
        operand = _operand(x, "pd.cut")
        result = value()
        right = bool(settings.get("right", True))
        lowest = bool(settings.get("include_lowest", False))
        if not np.iterable(settings["bins"]):  # edges from the batch's minimum and maximum
            count = settings["bins"]
            if isinstance(count, bool) or not isinstance(count, int | np.integer) \
                    or not 1 <= count <= _MAX_BINS:  # fmt: skip
                raise Unsupported(f"pd.cut into a number of bins is compiled for 1 to "
                                  f"{_MAX_BINS} bins (each row compares with every edge)")
            low, high = (self._emit(ReduceOp(f, operand)) for f in ("min", "max"))
            return self._codes(self._emit(CutWidthOp(operand, low, high, int(count), right,
                                                     lowest)), result)  # fmt: skip
        _, edges = pd.cut(x.value, **{**settings, "retbins": True})  # type: ignore[call-overload]
        edges = _edges(edges, "pd.cut")
        if len(edges) < 2:
            raise Unsupported("pd.cut with fewer than two edges gives NaN everywhere: it runs "
                              "in Python")  # fmt: skip
        x_ssa, constant = self._compared(operand, edges)
        codes = [float(k - 1) for k in range(len(edges))]
        codes[0] = np.nan  # below the first edge (or on it, closed on the right)
        binned = self._search(x_ssa, [constant(e) for e in edges], "le" if right else "lt",
                              codes, np.nan)  # fmt: skip
        if lowest:  # pandas puts the first edge in bin 0
            on_edge = self._emit(BinaryOp("eq", x_ssa, constant(edges[0])))
            binned = self._emit(WhereOp(on_edge, self._emit(ConstantOp(0.0)), binned))
        return self._codes(binned, result)

    def _codes(self, binned: SSAValue, result: object) -> Val:
        """pd.cut's f64 codes ``binned`` standing for ``result``: int64 where the example's
        are (a batch with a NaN code runs the original), else float64 codes (module doc)."""
        if getattr(result, "dtype", None) == np.int64:  # int64 while no code is NaN
            return self.tracer._checked(CastOp(binned, i64, speculative=True), result)
        self.tracer.vocab.unstable[binned] = ("pd.cut codes (int64 where every value is in a "
                                              "bin, else float64)")
        return self.tracer._checked_result(binned, result)

    def digitize(self, arguments: dict[str, Val], value: Callable[[], object]) -> Val:
        """``np.digitize(x, bins, right=False)``: ``np.searchsorted(bins, x, side)``."""
        right = arguments.get("right", Val(False))
        if not right.is_static:
            raise Unsupported("np.digitize's right= must be a constant")
        side = "left" if right.value else "right"
        return self._indices(arguments["x"], arguments["bins"], side, value, "np.digitize")

    def searchsorted(self, arguments: dict[str, Val], value: Callable[[], object]) -> Val:
        """``np.searchsorted(edges, x, side="left")`` of increasing constant edges."""
        side = arguments.get("side", Val("left"))
        if not side.is_static or side.value not in ("left", "right") \
                or arguments.get("sorter", Val(None)).value is not None:  # fmt: skip
            raise Unsupported("np.searchsorted is compiled with side='left' or 'right' only")
        return self._indices(arguments["v"], arguments["a"], side.value, value,
                             "np.searchsorted")  # fmt: skip

    def _indices(self, x: Val, bins: Val, side: str, value: Callable[[], object],
                 what: str) -> Val:  # fmt: skip
        """The int64 index of each value of ``x`` among the increasing ``bins``."""
        if not bins.is_static:
            raise Unsupported(f"{what}'s edges must be constants")
        operand = _operand(x, what)
        edges = _edges(np.asarray(bins.value), what)
        if len(edges) == 0 or np.any(edges[1:] < edges[:-1]):
            raise Unsupported(f"{what} is compiled for increasing edges only")
        x_ssa, constant = self._compared(operand, edges)
        result = value()
        indices = self._search(x_ssa, [constant(e) for e in edges],
                               "le" if side == "left" else "lt", list(range(len(edges))),
                               len(edges))  # fmt: skip
        return self.tracer._checked_result(indices, result)

    def _compared(self, x: SSAValue, edges: np.ndarray) -> tuple[SSAValue, Callable]:
        """``x`` and a maker of edge constants in numpy's common type of the two."""
        integers = edges.dtype == np.int64 and x.type.get_element_type() == i64  # type: ignore[attr-defined]
        if not integers and x.type.get_element_type() == i64:  # type: ignore[attr-defined]
            x = self._emit(CastOp(x, f64))
        kind = int if integers else float
        return x, lambda edge: self._emit(ConstantOp(kind(edge)))

    def _search(self, x: SSAValue, edges: list[SSAValue], compare: str,
                values: list[float] | list[int], above: float) -> SSAValue:  # fmt: skip
        """``values[k]`` for the first edge ``k`` with ``x <compare> edges[k]``, else
        ``above`` (also for NaN, which compares False)."""
        masks = [self._emit(BinaryOp(compare, x, edge)) for edge in edges]
        result = self.tracer._constant_batch(self._emit(ConstantOp(above)), masks[-1])
        for mask, put in reversed(list(zip(masks, values, strict=True))):
            result = self._emit(WhereOp(mask, self._emit(ConstantOp(put)), result))
        return result

    def _emit(self, op: Operation) -> SSAValue:
        return self.tracer.emit(op).results[0]


def _operand(x: Val, what: str) -> SSAValue:
    """The dense int64 or float64 batch ``x`` binned by ``what``."""
    typ = x.ssa.type if x.ssa is not None else None
    if not isinstance(typ, TensorType) or is_sparse(typ) or x.columns is not None \
            or typ.get_element_type() not in (f64, i64):  # fmt: skip
        raise Unsupported(f"{what} of a value that is not a batch of int64 or float64 numbers "
                          "is not compiled")  # fmt: skip
    assert x.ssa is not None
    return x.ssa


def _edges(edges: np.ndarray, what: str) -> np.ndarray:
    """``edges`` as a 1-D int64 or float64 array without NaN."""
    if edges.ndim != 1 or edges.dtype not in (np.int64, np.float64) or np.isnan(edges).any():
        raise Unsupported(f"{what}'s edges are compiled as int64 or float64 numbers without "
                          "NaN")  # fmt: skip
    return edges
