"""The systems under test.  Each adapter runs only inside its own child process.

An adapter turns a workload into two callables on the workload's rows (a DataFrame, or a list of
strings for text workloads; one callable tuned for a batch, one for a single row) and reports how
long its compile/convert step took.  Heavy imports happen inside the adapters so the parent
process never loads a system's thread pools.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import trees
from bench.workloads import Workload, WorkloadData, default_onnx_options, head

CACHE_ENV = "WILLUMP_MLIR_CACHE_DIR"


class StageError(Exception):
    """A failure in a named stage (import, convert, compile, ...), recorded instead of raised."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.stage = stage
        self.cause = cause


@dataclass
class Context:
    """Everything an adapter may use: the workload, its data and a scratch directory."""

    workload: Workload
    data: WorkloadData
    work_dir: Path
    tag: str
    batch_threads: int


@dataclass
class Prepared:
    """A system ready to run: batch and single-row callables plus compile metadata."""

    batch_fn: Callable[[Any], Any]
    single_fn: Callable[[Any], Any]
    compile_s: float | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Diagnostic: (convert a row frame to native input, run on native input), so the child can
    # also time the engine alone, without the DataFrame conversion users must pay for.
    single_native: tuple[Callable[[Any], Any], Callable[[Any], Any]] | None = None


@dataclass(frozen=True)
class System:
    """A registered system: how to prepare it, optionally how to time a warm recompile, and an
    optional one-off probe (its own child, before the timed repeats) whose result it may cache
    in the work dir.  ``python`` returns the interpreter its children run with (default: this
    one), setting up its environment on first use; it raises ``RuntimeError`` if it cannot."""

    name: str
    prepare: Callable[[Context], Prepared]
    warm_compile: Callable[[Context], float] | None = None
    probe: Callable[[Context], dict[str, Any]] | None = None
    uses_cache_dir: bool = False
    python: Callable[[], str] | None = None


# --------------------------------------------------------------------------------------------
# scikit-learn: the reference.


def _prepare_sklearn(ctx: Context) -> Prepared:
    """The reference: the workload's own ``score``.  A final estimator with an ``n_jobs``
    parameter predicts on the batch threads for batches and on one thread for single rows,
    like every other system."""
    score, model = ctx.workload.score_fn(standalone=True), ctx.data.model

    def runner(threads: int) -> Callable[[Any], Any]:
        own = trees.with_threads(model, threads)

        def run(rows: Any) -> Any:
            return score(rows, own)

        return run

    return Prepared(batch_fn=runner(ctx.batch_threads), single_fn=runner(1))


# --------------------------------------------------------------------------------------------
# ONNX Runtime via skl2onnx.


def _is_string_column(dtype: Any) -> bool:
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


TEXT_INPUT = "text"
ARRAY_INPUT = "X"


def _onnx_target(ctx: Context) -> tuple[Any, Callable[[Any], Any] | None]:
    """What to convert, and the Python feature code in front of it: the whole model, or (for a
    workload with a ``features`` function, e.g. joins) only its final estimator."""
    features = ctx.workload.features_fn()
    if features is None:
        return ctx.data.model, None
    model = ctx.data.model
    return trees.final_estimator(model), lambda rows: features(rows, model)


def _onnx_bytes(ctx: Context, numeric: type) -> bytes:
    """Convert the fitted model with one ``[None, 1]`` input per DataFrame column (text
    workloads: one string input named ``text``; arrays and a workload's ``features`` output:
    one ``[None, width]`` input named ``X``).  LightGBM and XGBoost go through onnxmltools."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType

    target, features = _onnx_target(ctx)
    if ctx.workload.input_kind == "text":
        initial_types = [(TEXT_INPUT, StringTensorType([None, 1]))]
    elif features is not None or ctx.workload.input_kind == "array":
        width = np.shape(features(head(ctx.data.test, 1)) if features else ctx.data.test)[1]
        initial_types = [(ARRAY_INPUT, numeric([None, width]))]
    else:
        initial_types = [
            (str(col), StringTensorType([None, 1]) if _is_string_column(d) else numeric([None, 1]))
            for col, d in ctx.data.test.dtypes.items()
        ]
    if trees.library(trees.final_estimator(target)) != "sklearn":
        trees.register_onnx_converters()
    options_fn = ctx.workload.onnx_options or default_onnx_options
    onx = convert_sklearn(
        target,
        initial_types=initial_types,
        options=options_fn(target),
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return onx.SerializeToString()


def _ort_session(model: bytes, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


Feed = Callable[[Any], dict[str, np.ndarray]]


def _text_feed(texts: Any) -> dict[str, np.ndarray]:
    """List/Series of strings -> ORT feed ``{"text": [n, 1] object array}``."""
    if isinstance(texts, pd.Series):
        array = texts.to_numpy(dtype=object)
    else:
        array = np.empty(len(texts), dtype=object)
        array[:] = texts
    return {TEXT_INPUT: array.reshape(-1, 1)}


def _feed_builder(frame: Any, numeric: type, features: Callable[[Any], Any] | None = None) -> Feed:
    """Rows -> ORT feed of ``[n, 1]`` arrays (or one ``[n, width]`` array for array inputs and
    feature functions).  Part of every timed call: users pay for it."""
    if features is not None:
        return lambda rows: {ARRAY_INPUT: np.asarray(features(rows), dtype=numeric)}
    if isinstance(frame, np.ndarray):
        return lambda rows: {ARRAY_INPUT: np.asarray(rows, dtype=numeric)}
    if not isinstance(frame, pd.DataFrame):
        return _text_feed
    columns = [(str(col), col, _is_string_column(dtype)) for col, dtype in frame.dtypes.items()]

    def feed(rows: pd.DataFrame) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, col, is_string in columns:
            series = rows[col]
            if is_string:
                if series.hasnans:
                    series = series.fillna("")
                out[name] = series.to_numpy(dtype=object).reshape(-1, 1)
            else:
                out[name] = series.to_numpy(dtype=numeric).reshape(-1, 1)
        return out

    return feed


def _onnx_path(ctx: Context) -> Path:
    return ctx.work_dir / f"{ctx.tag}.onnx"


PRECISIONS: dict[str, tuple[str, Any]] = {
    "float64": ("DoubleTensorType", np.float64),
    "float32": ("FloatTensorType", np.float32),
}


def _probe_path(ctx: Context) -> Path:
    return ctx.work_dir / "onnxruntime-probe.json"


def _probe_onnxruntime(ctx: Context) -> dict[str, Any]:
    """Pick the input precision once: float64 if skl2onnx + ORT can run it, else float32.

    Runs in its own child before the timed repeats, so a failed float64 attempt never warms up
    the process whose conversion time is measured.
    """
    from skl2onnx.common import data_types

    notes: list[str] = []
    sample = head(ctx.data.test, 5)
    precisions = PRECISIONS
    if ctx.workload.input_kind == "text":  # string inputs only: skl2onnx computes in float32
        precisions = {"float32": PRECISIONS["float32"]}
    for precision, (type_name, numeric) in precisions.items():
        try:
            sess = _ort_session(_onnx_bytes(ctx, getattr(data_types, type_name)), 1)
            sess.run(None, _feed_builder(sample, numeric, _onnx_target(ctx)[1])(sample))
        except Exception as exc:  # noqa: BLE001 - any converter/runtime error is a result
            if len(precisions) == 1:  # nothing else to try: record the converter's own message
                raise StageError("convert", exc) from exc
            text = str(exc).strip()
            first_line = text.splitlines()[0][:300] if text else ""
            notes.append(f"{precision} failed: {type(exc).__name__}: {first_line}")
            continue
        result = {"precision": precision, "notes": notes}
        _probe_path(ctx).write_text(json.dumps(result))
        return result
    raise StageError("convert", RuntimeError("; ".join(notes)))


def _prepare_onnxruntime(ctx: Context) -> Prepared:
    from skl2onnx.common import data_types

    probe = json.loads(_probe_path(ctx).read_text())
    precision = probe["precision"]
    type_name, numeric = PRECISIONS[precision]
    tensor_type = getattr(data_types, type_name)
    start = time.perf_counter()
    try:
        model = _onnx_bytes(ctx, tensor_type)
        batch_sess = _ort_session(model, ctx.batch_threads)
    except Exception as exc:  # noqa: BLE001
        raise StageError("convert", exc) from exc
    compile_s = time.perf_counter() - start
    _onnx_path(ctx).write_bytes(model)
    single_sess = _ort_session(model, 1)
    output, column = ctx.workload.onnx_output, ctx.workload.onnx_column
    feed = _feed_builder(ctx.data.test, numeric, _onnx_target(ctx)[1])

    def runner(sess: Any) -> Callable[[Any], np.ndarray]:
        def run(frame: Any) -> np.ndarray:
            result = sess.run([output], feed(frame))[0]
            return result[:, column] if column is not None else result

        return run

    def run_native(native: dict[str, np.ndarray]) -> Any:
        return single_sess.run([output], native)[0]

    kind = "float32 (string inputs)" if ctx.workload.input_kind == "text" else precision + " inputs"
    return Prepared(
        batch_fn=runner(batch_sess),
        single_fn=runner(single_sess),
        compile_s=compile_s,
        notes=[*probe["notes"], kind],
        extra={"precision": precision},
        single_native=(feed, run_native),
    )


def _warm_onnxruntime(ctx: Context) -> float:
    """Warm start: a fresh process only loads the saved .onnx and builds the session."""
    model_path = _onnx_path(ctx)
    start = time.perf_counter()
    _ort_session(model_path.read_bytes(), ctx.batch_threads)
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# willump-mlir.


def _wm_compile(ctx: Context, **options: Any) -> tuple[Any, float]:
    """Compile the workload's ``score`` with willump-mlir (``options`` of ``wm.compile``)."""
    try:
        import willump_mlir as wm

        compile_fn = wm.compile
        score = ctx.workload.score_fn(standalone=False)  # the user's function, as users import it
    except Exception as exc:  # noqa: BLE001 - the compiler may not exist yet
        raise StageError("import", exc) from exc
    example = (head(ctx.data.test, ctx.workload.example_rows), ctx.data.model)
    start = time.perf_counter()
    try:
        compiled = compile_fn(score, example=example, **options)
    except Exception as exc:  # noqa: BLE001
        raise StageError("compile", exc) from exc
    return compiled, time.perf_counter() - start


def _prepare_willump(ctx: Context, **options: Any) -> Prepared:
    cache_dir = os.environ.get(CACHE_ENV)
    notes = []
    if cache_dir and any(Path(cache_dir).iterdir()):
        notes.append("cache dir was not empty: cold compile is not cold")
    compiled, compile_s = _wm_compile(ctx, **options)
    if ctx.workload.require_native and compiled.traced.python_calls:
        reasons = "; ".join(
            f"{call.source}: {call.reason}" for call in compiled.traced.python_calls.values()
        )
        raise StageError("native", trees.Unsupported(f"part runs in Python: {reasons}"))
    model = ctx.data.model

    def run(rows: Any) -> Any:
        return compiled(rows, model)

    return Prepared(batch_fn=run, single_fn=run, compile_s=compile_s, notes=notes)


def _warm_willump(ctx: Context) -> float:
    return _wm_compile(ctx)[1]


def _prepare_willump_scaler_kept(ctx: Context) -> Prepared:
    """willump-mlir on the same pipeline compiled with ``fold_scalers=False``, so every scaler
    runs as a step of its own: the difference to ``willump-mlir`` is what folding gains."""
    return _prepare_willump(ctx, fold_scalers=False)


def _prepare_willump_node_loop(ctx: Context) -> Prepared:
    """willump-mlir with every tree ensemble walking its node arrays (``tree_layout="nodes"``):
    the difference to ``willump-mlir`` is what generated branches gain, and cost to compile."""
    return _prepare_willump(ctx, tree_layout="nodes")


# --------------------------------------------------------------------------------------------
# Hand-fused numba (text workloads with one or two TfidfVectorizers and a binary LR).


def _prepare_numba(ctx: Context) -> Prepared:
    try:
        import numba

        from bench import fused_text
    except Exception as exc:  # noqa: BLE001 - e.g. no numba release beside this llvmlite
        raise StageError("import", exc) from exc
    if ctx.workload.input_kind != "text":
        raise StageError("compile", fused_text.Unsupported("the fused scorer takes text only"))
    start = time.perf_counter()
    try:
        score = fused_text.build(ctx.data.model)  # typed-dict vocabularies + JIT compile
    except Exception as exc:  # noqa: BLE001
        raise StageError("compile", exc) from exc
    compile_s = time.perf_counter() - start
    note = f"numba {numba.__version__}, one thread, JIT cold (no cache); compile = dicts + JIT"
    return Prepared(batch_fn=score, single_fn=score, compile_s=compile_s, notes=[note])


# --------------------------------------------------------------------------------------------
# Tree compilers: treelite + tl2cgen (C via gcc), lleaves (LightGBM via LLVM, own venv).


def _tree_parts(ctx: Context) -> tuple[Any, trees.Features, str]:
    """The final tree estimator, the numpy/pandas feature code in front of it, and a note."""
    model = ctx.data.model
    features, note = trees.feature_function(model, ctx.workload.features_fn())
    return trees.final_estimator(model), features, note


def _tl2cgen_path(ctx: Context) -> Path:
    return ctx.work_dir / f"{ctx.tag}-tl2cgen.so"


def _prepare_tl2cgen(ctx: Context) -> Prepared:
    try:
        import tl2cgen
        import treelite
    except Exception as exc:  # noqa: BLE001
        raise StageError("import", exc) from exc
    estimator, features, note = _tree_parts(ctx)
    start = time.perf_counter()
    try:
        model = trees.treelite_model(estimator)
    except Exception as exc:  # noqa: BLE001
        raise StageError("convert", exc) from exc
    try:
        trees.tl2cgen_library(model, _tl2cgen_path(ctx), ctx.batch_threads)
    except Exception as exc:  # noqa: BLE001
        raise StageError("compile", exc) from exc
    compile_s = time.perf_counter() - start
    path, input_type = _tl2cgen_path(ctx), model.input_type
    return Prepared(
        batch_fn=trees.tl2cgen_scorer(path, input_type, ctx.batch_threads, features),
        single_fn=trees.tl2cgen_scorer(path, input_type, 1, features),
        compile_s=compile_s,
        notes=[
            f"treelite {treelite.__version__} + tl2cgen {tl2cgen.__version__} (gcc), "
            f"{input_type} input; {note}"
        ],
    )


def _warm_tl2cgen(ctx: Context) -> float:
    """Warm start: a fresh process only loads the compiled shared library."""
    import tl2cgen

    start = time.perf_counter()
    tl2cgen.Predictor(str(_tl2cgen_path(ctx)), nthread=ctx.batch_threads, verbose=False)
    return time.perf_counter() - start


def _prepare_lleaves(ctx: Context) -> Prepared:
    try:
        import lleaves  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        raise StageError("import", exc) from exc
    estimator, features, note = _tree_parts(ctx)
    try:
        batch_fn, single_fn, compile_s, version = trees.lleaves_scorer(
            estimator, ctx.work_dir, ctx.tag, ctx.batch_threads, features
        )
    except Exception as exc:  # noqa: BLE001
        raise StageError("compile", exc) from exc
    return Prepared(batch_fn, single_fn, compile_s=compile_s, notes=[f"{version}; {note}"])


SYSTEMS: dict[str, System] = {
    s.name: s
    for s in (
        System("sklearn", _prepare_sklearn),
        System("onnxruntime", _prepare_onnxruntime, _warm_onnxruntime, _probe_onnxruntime),
        System("willump-mlir", _prepare_willump, _warm_willump, uses_cache_dir=True),
        System("willump-mlir-scaler-kept", _prepare_willump_scaler_kept, uses_cache_dir=True),
        System("willump-mlir-node-loop", _prepare_willump_node_loop, uses_cache_dir=True),
        System("numba", _prepare_numba),
        System("tl2cgen", _prepare_tl2cgen, _warm_tl2cgen),
        System("lleaves", _prepare_lleaves, python=trees.lleaves_python),
    )
}
