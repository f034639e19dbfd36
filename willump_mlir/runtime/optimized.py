"""``OptimizedProgram``: a certified cascade and top-K over two native programs
(``wm.optimize`` returns it as a ``willump_mlir.pipelines.OptimizedPipeline``).

A call runs the cheap program (cheap feature groups + cheap model) on every row; rows whose
confidence reaches the threshold are settled. The data arguments are compacted to the other
rows (numpy / pandas indexing), the full program runs on them only, and its results are
merged back in row order. A single row that the cheap model settles never reaches the full
program. Without a certified cascade, every call runs the exact compiled pipeline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from willump_mlir.runtime.compiled import NativeProgram, Signature, take_data_rows
from willump_mlir.runtime.marshal import InputError, Unhandled
from willump_mlir.stats.confidence import confidence as confidence_of
from willump_mlir.stats.thresholds import ThresholdChoice
from willump_mlir.stats.topk import CandidateCurve


@dataclass
class GroupProfile:
    """One feature group: measured cost (seconds per row) and permutation importance."""

    name: str
    cost: float
    importance: float
    importance_std: float
    columns: int


@dataclass
class Candidate:
    """A cheap subset of groups, the threshold chosen for it, and what it would cost."""

    groups: tuple[int, ...]
    cheap_cost: float
    threshold: float | None
    settled_fraction: float
    expected_cost: float
    cheap_accuracy: float
    model_params: str = ""  # what the cheap clone changes, e.g. "n_estimators=50"


@dataclass
class Report:
    groups: list[GroupProfile]
    candidates: list[Candidate]
    reason: str
    validation: bool = True  # whether choose/certify rows are held out from the model's fit
    full_cost: float = 0.0
    chosen: Candidate | None = None
    certified: ThresholdChoice | None = None
    speedup: float | None = None
    calls: dict[str, float] = field(default_factory=lambda: {"rows": 0, "settled": 0})


REST_PARALLEL_ROWS = 64
"""The full program's rows are the expensive ones: from this many, they use every core."""


class OptimizedProgram:
    """A cascade or top-K over native programs; call it like the original function."""

    def __init__(
        self,
        exact: NativeProgram,
        approx: NativeProgram | None,
        rest: NativeProgram | None,
        cascade_ir: str | None,
        settle: tuple[str, float] | None,
        report: Report,
        curve: CandidateCurve | None,
        confidence: float = 0.95,
    ):
        self.exact = exact
        self.approx = approx
        self.rest = rest
        if rest is not None:  # it gets the rows the cheap model could not settle, the costly
            rest.parallel_rows = REST_PARALLEL_ROWS
        self.cascade_ir = cascade_ir
        self.settle = settle
        self.findings = report  # what the optimizer measured and chose; ``report()`` renders it
        self.curve = curve
        self.confidence = confidence
        self.counting = threading.Lock()
        self.__name__ = exact.__name__
        self.__doc__ = exact.__doc__

    @property
    def fn(self) -> Callable[..., Any]:
        """The original function (the exact program's)."""
        return self.exact.fn

    @property
    def bound(self) -> dict[str, object]:
        """The bound arguments (fitted estimators, constants) by name: calls pass these."""
        self.exact.load_objects()
        return {a.name: a.value for a in self.exact.arguments if a.kind == "bound"}

    def signature(self) -> Signature:
        """The data arguments and the result type (the exact pipeline's)."""
        return self.exact.signature()

    @property
    def row_wise(self) -> bool:
        """Whether each row's result depends on that row only (``NativeProgram.row_wise``
        of the exact pipeline; the cascade decides row by row)."""
        return self.exact.row_wise

    @property
    def rows_in_python(self) -> int:
        """Rows the native code of its programs handed back to Python, so far."""
        return sum(p.rows_in_python for p in (self.exact, self.approx, self.rest) if p)

    def settled(self) -> tuple[int, int]:
        """Rows the cascade has run and rows its cheap model settled, so far."""
        with self.counting:
            return int(self.findings.calls["rows"]), int(self.findings.calls["settled"])

    @property
    def cascaded(self) -> bool:
        """Whether calls run a cascade (else they run the exact pipeline)."""
        return self.approx is not None and self.rest is not None and self.settle is not None

    def cheap(self, args: tuple[Any, ...]) -> tuple[Any, np.ndarray]:
        """The cheap program's result on every row, and which rows it settles."""
        assert self.approx is not None and self.settle is not None
        (result, probabilities), flagged = self.approx.run(args)
        metric, threshold = self.settle
        settled = confidence_of(np.asarray(probabilities), metric) >= threshold
        settled[flagged] = False  # rows native code handed back: the full program's
        return result, settled

    def __call__(self, *args: Any) -> Any:
        if not self.cascaded:
            return self.exact(*args)
        if len(args) != len(self.exact.arguments):  # the data arguments only
            args = self.exact.merge_keywords(args, {})
        assert self.rest is not None
        try:
            result, settled = self.cheap(args)
        except Unhandled as unhandled:  # an input only the original function reads
            return self.exact.run_original(args, unhandled)
        rest = np.flatnonzero(~settled)
        with self.counting:
            calls = self.findings.calls
            calls["rows"] += len(settled)
            calls["settled"] += len(settled) - len(rest)
        if not len(rest):
            return result
        return merged(result, self.rest(*self.subset(args, rest)), rest)

    def subset(self, args: tuple[Any, ...], rows: np.ndarray) -> tuple[Any, ...]:
        """The data arguments' ``rows`` (in their own types); bound arguments as they are."""
        return take_data_rows(self.exact.arguments, args, rows)

    def top_k(self, k: int, *args: Any) -> np.ndarray:
        """Indices of the ``k`` rows with the highest scores, highest first (ties: lower
        index first; all rows when ``k`` exceeds them). The cheap program picks candidates,
        the full program ranks them."""
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise InputError(f"k must be a positive int, got {k!r}")
        k = int(k)
        if len(args) != len(self.exact.arguments):  # the data arguments only
            args = self.exact.merge_keywords(args, {})
        cheap = None
        if self.approx is not None and self.curve is not None:
            try:
                cheap = self.approx.run(args)
            except Unhandled:  # an input only the original function reads: the exact path
                pass
        if cheap is None or self.curve is None:
            result = self.exact(*args)
            if isinstance(result, tuple | list | dict):
                raise InputError("top_k ranks one score per row; this pipeline returns a "
                                 f"{type(result).__name__}")  # fmt: skip
            scores = np.asarray(result, dtype=np.float64)
            if scores.ndim != 1:
                raise InputError("top_k ranks one score per row; this pipeline returns "
                                 f"shape {scores.shape}")  # fmt: skip
            return _top(scores, np.arange(len(scores)), k)
        results, flagged = cheap
        approx = np.array(results[0], dtype=np.float64)
        approx[flagged] = np.inf  # rows native code handed back: always re-scored
        n = len(approx)
        m = n if k >= n else self.curve.candidates(k, n)
        key = np.where(np.isnan(approx), -np.inf, approx)
        candidates = np.sort(np.argpartition(-key, m - 1)[:m]) if m < n else np.arange(n)
        full_program = self.rest if self.rest is not None else self.exact
        full = np.asarray(full_program(*self.subset(args, candidates)), dtype=np.float64)
        return _top(full, candidates, k)

    # region Inspection

    def ir(self, stage: str = "cascade", *, blobs: bool = False) -> str:
        """``cascade``: the scheduled cascade (without blob data); other stages: the exact
        pipeline's IR (``blobs``: as ``CompiledPipeline.ir``)."""
        if stage == "cascade" and self.cascade_ir is not None:
            return self.cascade_ir
        return self.exact.ir(stage, blobs=blobs)

    def report(self, plot: str | None = None) -> str:
        """Groups, costs, importances, the chosen cascade, settled rows, speedup and bound;
        with ``plot``, also a PNG of expected cost against accuracy for the candidates."""
        from willump_mlir.runtime.report import ReportData, plot_candidates, render

        if plot is not None:
            plot_candidates(self.findings, plot)
        data = ReportData(self.__name__, self.findings, self.cascaded, self.settle,
                          self.confidence, self.curve)  # fmt: skip
        return render(data)

    # endregion

    def __dask_tokenize__(self) -> object:
        """Dask's token: the programs' cache keys (their IR and the compiler)."""
        programs = (self.exact, self.approx, self.rest)
        keys = [None if p is None else p.library.cache_key for p in programs]
        return type(self).__name__, *keys, self.settle, self.cascade_ir

    def __repr__(self) -> str:
        state = "cascade" if self.cascaded else "exact (no cascade)"
        return f"<{type(self).__name__} {self.__name__}: {state}>"


def merged(cheap: Any, full: Any, rows: np.ndarray) -> Any:
    """The cheap program's result with its rows ``rows`` replaced by ``full`` (the full
    program's, one row each, in order): part by part in a tuple, list or dict, column by
    column in a DataFrame. A Series or DataFrame keeps the cheap result's index and names
    (the original's); an extension dtype (nullable, category) is kept."""
    if isinstance(cheap, tuple | list):
        return type(cheap)(merged(c, f, rows) for c, f in zip(cheap, full, strict=True))
    if isinstance(cheap, dict):
        return {key: merged(value, full[key], rows) for key, value in cheap.items()}
    if isinstance(cheap, pd.DataFrame):
        out = cheap.copy()
        for j in range(cheap.shape[1]):
            out.isetitem(j, merged(cheap.iloc[:, j], full.iloc[:, j], rows))
        return out
    if isinstance(cheap, pd.Series) and not isinstance(cheap.dtype, np.dtype):
        out = cheap.copy()
        out.iloc[rows] = np.asarray(full, dtype=object)
        return out
    values = np.asarray(full)
    result = np.array(cheap, dtype=np.result_type(np.asarray(cheap), values), copy=True)
    result[rows] = values
    if isinstance(cheap, pd.Series):
        return pd.Series(result, index=cheap.index, name=cheap.name)
    return result


def result_rows(result: Any, rows: np.ndarray) -> Any:
    """The rows ``rows`` of a result (each part's, in a tuple, list or dict)."""
    if isinstance(result, tuple | list):
        return type(result)(result_rows(part, rows) for part in result)
    if isinstance(result, dict):
        return {key: result_rows(part, rows) for key, part in result.items()}
    if isinstance(result, pd.Series | pd.DataFrame):
        return result.iloc[rows]
    return np.asarray(result)[rows]


def not_by_rows(result: Any, rows: int) -> str | None:
    """What part of a result on ``rows`` rows is not one row per input row (a cascade
    merges results row by row), or None."""
    if isinstance(result, tuple | list | dict):
        parts = result.values() if isinstance(result, dict) else result
        return next((found for p in parts if (found := not_by_rows(p, rows))), None)
    shape = getattr(result, "shape", ())
    if not isinstance(result, np.ndarray | pd.Series | pd.DataFrame) or not shape \
            or shape[0] != rows:  # fmt: skip
        return f"a {type(result).__name__} of shape {shape}"
    return None


def _top(scores: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """``rows`` ordered by descending ``scores`` (NaN last, ties by row), the first ``k``."""
    key = np.where(np.isnan(scores), -np.inf, scores)
    order = np.lexsort((rows, -key))
    return rows[order[:k]]


def time_call(run: Callable[[], Any], repeats: int = 5) -> float:
    """Median seconds of ``run()`` after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return float(np.median(times))
