"""``explain()`` of the pipelines: a plain-text account of where each part of a pipeline runs."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import StringAttr, i64
from xdsl.ir import Operation

from willump_mlir.abi import BATCH_ROW_HANDOFFS, ROW_HANDOFFS
from willump_mlir.dialects import feature, pipeline
from willump_mlir.passes.choose_tree_layout import ChooseTreeLayoutPass
from willump_mlir.passes.fold_scalers import FOLDED, FoldScalersPass, kept_reason, scaler_before
from willump_mlir.passes.tree_kernels import (
    BRANCH_BLOCK,
    FEW_ROWS,
    TOGETHER_ROWS,
    TREE_BLOCK,
    runs_on_stored_rows,
)
from willump_mlir.runtime import ufunc_loops
from willump_mlir.runtime.compiled import PARALLEL_ROWS
from willump_mlir.runtime.handoffs import ANY_ROW, CALL_HANDOFFS
from willump_mlir.runtime.plan import KernelStep

if TYPE_CHECKING:
    from willump_mlir.runtime.compiled import NativeProgram  # noqa: TC004
    from willump_mlir.runtime.optimized import OptimizedProgram

DATE_OPS = (pipeline.DatetimeColumnOp, pipeline.ParseDatetimeOp, pipeline.MakeDatetimeOp,
            pipeline.DatetimeSubOp, pipeline.DatetimeFieldOp)  # fmt: skip


ARRAY_OPS = {
    pipeline.ToArrayOp: "DataFrame column selection",
    pipeline.SelectColumnsOp: "DataFrame column selection",
    pipeline.HstackOp: "column concatenation",
    pipeline.TakeColumnOp: "column indexing",
    pipeline.UnaryOp: "numpy elementwise math",
    pipeline.BinaryOp: "numpy elementwise math",
    pipeline.WhereOp: "numpy elementwise math",
    pipeline.WrapIntOp: "numpy elementwise math",
    pipeline.CastOp: "dtype conversions (astype)",
    pipeline.ConstantOp: "constants",
    pipeline.BroadcastOp: "constant columns (X[c] = a number: one value per row)",
    **dict.fromkeys(DATE_OPS, "dates (pd.to_datetime, .dt fields, date differences)"),
    pipeline.ReduceOp: "batch reductions (pandas mean, sum, min, max, std, var, count, "
    "median), each in a pass over the whole batch before the rows that use it",
    feature.ArgmaxOp: "row argmax (x.argmax(1), np.argmax(x, axis=1))",
    feature.GatherRowsOp: "table joins and lookups as hash joins, one op per table",
    feature.EncodeStringsOp: "strings looked up in constant vocabularies (==, isin, isna, "
    "get_dummies, string keys)",
    pipeline.StrCaseOp: "string transforms (.str methods, +) on UTF-8 bytes",
    pipeline.StrStripOp: "string transforms (.str methods, +) on UTF-8 bytes",
    pipeline.StrSliceOp: "string transforms (.str methods, +) on UTF-8 bytes",
    pipeline.StrConcatOp: "string transforms (.str methods, +) on UTF-8 bytes",
    pipeline.StrFillOp: "string transforms (.str methods, +) on UTF-8 bytes",
    pipeline.StrReplaceOp: "string transforms (.str methods, +) on UTF-8 bytes",
    pipeline.StrSplitPieceOp: "string transforms (.str methods, +) on UTF-8 bytes",
    pipeline.StrLenOp: "string lengths, predicates and digits (.str.len, .contains, astype)",
    pipeline.StrSplitCountOp: "string lengths, predicates and digits (.str.len, .contains, "
    "astype)",
    pipeline.StrSearchOp: "string lengths, predicates and digits (.str.len, .contains, "
    "astype)",
    pipeline.StrMatchOp: "string lengths, predicates and digits (.str.len, .contains, astype)",
    pipeline.StrToIntOp: "string lengths, predicates and digits (.str.len, .contains, astype)",
}


def tree_layout(op: feature.TreeEnsembleOp, choice: ChooseTreeLayoutPass) -> str:
    """How one ensemble's trees run (the layout ``choose-tree-layout`` gave it), and why (the
    options ``choice`` the pass ran with)."""
    size = f"{op.roots.size} tree(s), {op.thresholds.size:,} split(s)"
    computed = isinstance(op.input.owner, Operation)  # not an argument: the kernel computes it
    if op.branches:
        if runs_on_stored_rows(op):
            rows = f"blocks of {BRANCH_BLOCK:,} rows; a call of fewer than {FEW_ROWS} rows walks "
            rows += "the node arrays"
            if computed:
                rows += "; its rows are stored first by a kernel of their own, as the code is "
                rows += "too large to run a row at a time"
        else:
            rows = f"blocks of {BRANCH_BLOCK:,} rows" if not computed else "a row at a time"
        if op.top_levels is not None and (not computed or runs_on_stored_rows(op)):
            rows = (
                f"blocks of {TREE_BLOCK} rows; a block of {TOGETHER_ROWS} rows or more walks "
                f"node arrays instead, its rows together, the top {op.top_levels.value.data} "
                f"levels of each tree complete (at most {choice.levels_below_top} level(s) of "
                "splits below them: no branch depends on a row's path)"
            )
            if runs_on_stored_rows(op):
                rows += f"; a call of fewer than {FEW_ROWS} rows walks the node arrays"
            if computed:
                rows += "; its rows are stored first by a kernel of their own"
        asked = f"; tree_layout={choice.layout!r}" if choice.layout == "branches" else ""
        return f"{size} as generated branches (one function per tree, {rows}{asked})"
    if choice.layout == "nodes":
        why = "tree_layout='nodes'"
    elif op.thresholds.size > 1:
        why = f"LLVM would take over {choice.branch_seconds:g} s to compile them as branches"
    else:
        why = "no splits"
    rows = "a row at a time"
    if not computed or runs_on_stored_rows(op):
        rows = (
            f"blocks of {TREE_BLOCK} rows, a block's rows walking each tree together, a level "
            f"at a time (a block of fewer than {TOGETHER_ROWS} rows: one row after another)"
        )
        if computed:
            rows += "; its rows are stored first by a kernel of their own, as its nodes are "
            rows += "too many to walk a row at a time"
    if op.top_levels is not None:
        rows += f", the top {op.top_levels.value.data} levels of each tree complete (no child "
        rows += "loaded)"
    return f"{size} walked as node arrays in {rows} ({why})"


def scaler_notes(compiled: NativeProgram) -> tuple[list[str], set[int]]:
    """Where ``fold-scalers`` folded a scaler into a tree model, and why it kept one; and
    the ids of the scaler ops it folded (they do not run)."""
    enabled = compiled.staged.configured(FoldScalersPass).enabled
    notes = []
    folded_scalers: set[int] = set()
    for op in compiled.traced.module.walk():
        if not isinstance(op, pipeline.PredictOp):
            continue
        model = f"{op.estimator.data}.{op.method.data}"
        scaler = scaler_before(op)
        if isinstance(folded := op.attributes.get(FOLDED), StringAttr):
            notes.append(f"{folded.data} is folded into the split thresholds of {model}")
        elif scaler is not None:
            why = kept_reason(op, compiled.staged.blobs, enabled)
            if why is None:
                folded_scalers.add(id(scaler))
                notes.append(f"{scaler.estimator.data}.transform is folded into the split "
                             f"thresholds of {model}")  # fmt: skip
            else:
                notes.append(f"{scaler.estimator.data}.transform runs before the model "
                             f"{model}, not folded: {why}")  # fmt: skip
    return notes, folded_scalers


def row_handoffs(compiled: NativeProgram) -> list[str]:
    """Why the kernels may hand a row back to Python (``ROW_HANDOFFS`` keys, in kernel
    order; ``ANY_ROW`` for a kernel compiled before flags had reasons)."""
    reasons: list[str] = []
    for kernel in compiled.kernels.values():
        if kernel.python_rows is not None:
            reasons += kernel.python_reasons or [ANY_ROW]
    return list(dict.fromkeys(reasons))


def call_handoffs(compiled: NativeProgram, rows: bool) -> list[str]:
    """Why a call may run the original function on the whole batch (``CALL_HANDOFFS``
    keys); ``rows``: whether a kernel may hand rows back."""
    kernels = list(compiled.kernels.values())
    kinds = ["empty", "input"]
    if any(s.part == "values" and s.dtype == np.float64 for k in kernels for s in k.inputs):
        kinds.append("int53")
    if any(k.column_groups for k in kernels) or any(
        a.kind == "array" for a in compiled.arguments
    ):  # fmt: skip
        kinds.append("precision")
    if compiled.plan.errors:  # a site may refuse NaN or infinity as scikit-learn does
        kinds.append("assume-finite")
    if rows:
        kinds.append("rows-dtype" if compiled.row_wise else "whole-batch")
    if any(
        getattr(c.function, name, ()) for c in compiled.traced.python_calls.values()
        for name in ("guards", "dtypes", "labels")
    ):  # fmt: skip
        kinds.append("python-result")
    ops = list(compiled.traced.module.walk())
    if any(isinstance(op, pipeline.CastOp | pipeline.BinaryOp) and op.speculative is not None
           for op in ops):  # fmt: skip
        kinds.append("not-integer")
    if any(isinstance(op, DATE_OPS) for op in ops):
        kinds.append("not-a-date")
    if any(spec.ufunc for kernel in compiled.kernels.values() for spec in kernel.inputs):
        kinds.append("ufunc-layout")  # an input a loop reads as it is (its runtime check)
    if any(e.get("op") == "feature.linear" for e in compiled.plan.errors.values()):
        kinds.append("linear-magnitude")
    if any(isinstance(op, pipeline.BinaryOp) and op.function.data in ("fmax", "fmin")
           and op.result.type != i64 for op in ops):  # fmt: skip
        kinds.append("signed-zero")
    return kinds


def handoff_lines(
    compiled: NativeProgram, title: str = "Handed to the original function at run time"
) -> list[str]:
    """The rows and calls the native code can hand to the original function, why, and how
    many did so far (under ``title``)."""
    handoffs = compiled.handoffs
    with handoffs.lock:
        rows, calls = dict(handoffs.rows), dict(handoffs.calls)
    row_kinds = row_handoffs(compiled)
    # a count of a reason the program no longer lists (a save's): shown all the same
    row_kinds += [k for k in rows if k not in row_kinds]
    call_kinds = call_handoffs(compiled, bool(row_kinds))
    call_kinds += [k for k in calls if k not in call_kinds and k not in BATCH_ROW_HANDOFFS]
    lines = ["", f"{title} (so far: {compiled.rows_in_python} row(s), "
             f"{compiled.calls_in_python} call(s)):"]  # fmt: skip
    if compiled.original_reason is not None:
        return [*lines, "  - every call: the original runs each call (above)"]
    for kind in row_kinds:
        why = ROW_HANDOFFS.get(kind, "the native code flags it")
        if kind in BATCH_ROW_HANDOFFS:
            lines.append(f"  - the whole batch, when {why}: {rows.get(kind, 0)} row(s) in "
                         f"{calls.get(kind, 0)} call(s)")  # fmt: skip
        else:
            lines.append(f"  - that row, when {why}: {rows.get(kind, 0)} row(s)")
    for kind in call_kinds:
        why = CALL_HANDOFFS.get(kind, kind)
        lines.append(f"  - the whole batch, when {why}: {calls.get(kind, 0)} call(s)")
    return lines


def explain(compiled: NativeProgram) -> str:
    traced = compiled.traced
    module = traced.module
    kernels = [s for s in compiled.plan.steps if isinstance(s, KernelStep)]
    origin = "loaded from the object-code cache" if compiled.library.cache_hit else "compiled"
    lines = [
        f"willump-mlir: {compiled.__name__} ({len(kernels)} native kernel(s), {origin} "
        f"in {compiled.compile_seconds:.2f} s)",
        "",
        "Native code (LLVM -O3, one loop over rows per kernel):",
    ]
    if compiled.original_reason is not None:
        lines[2:2] = [
            "Each call runs the original function itself, after checking the bound arguments "
            f"(and that no bound model was refitted): {compiled.original_reason}. The code "
            "below runs only when the original raises, for an error naming the argument.",
            "",
        ]
    estimators: list[str] = []
    array_ops: Counter[str] = Counter()
    folding, folded_scalers = scaler_notes(compiled)
    for op in module.walk():
        if isinstance(op, pipeline.TransformOp) and id(op) not in folded_scalers:
            estimators.append(f"{op.estimator.data}.transform")
            filler = op.params.data.get("filled_by")
            if isinstance(filler, StringAttr):  # ``params.fill_codes``
                estimators[-1] += (f", after {filler.data} of its str columns: a missing "
                                   "value takes the code of its fill (no filled column is "
                                   "built)")  # fmt: skip
        elif isinstance(op, pipeline.PredictOp):
            estimators.append(f"{op.estimator.data}.{op.method.data}")
        elif type(op) in ARRAY_OPS:
            array_ops[ARRAY_OPS[type(op)]] += 1
    lines += [f"  - {name}" for name in estimators]
    lines += [f"  - fold-scalers: {note}" for note in folding]
    lines += [f"  - {what} ({count} op(s))" for what, count in sorted(array_ops.items())]
    if not estimators and not array_ops:
        lines.append("  - nothing")
    feature_ops = list(compiled.staged.module("feature").walk())
    if any(isinstance(op, feature.SumOp) for op in feature_ops):
        lines.append(
            "  - fuse-features: the features feed the linear model's dot product directly; "
            "no feature matrix is built and one-hot columns become weight lookups"
        )
    if any(isinstance(op, feature.SparseLinearOp) for op in feature_ops):
        lines.append(
            "  - fuse-features: term weights go straight into the linear model's dot product "
            "as each row is tokenized; no sparse matrix is built"
        )
    choice = compiled.staged.configured(ChooseTreeLayoutPass)
    for op in feature_ops:
        if isinstance(op, feature.TreeEnsembleOp):
            lines.append(f"  - trees: {tree_layout(op, choice)}")
    decodes = [op for op in feature_ops if isinstance(op, feature.DecodeTextOp)]
    vectorizers = sum(
        isinstance(op, feature.CountTermsOp | feature.HashTermsOp) for op in feature_ops
    )
    if decodes:
        lines.append(
            f"  - text: {len(decodes)} decoding pass(es) (UTF-8, lowercase, accents) shared by "
            f"{vectorizers} n-gram counter(s); vocabularies are compile-time hash tables"
        )
    if compiled.ufunc_loops:
        lines.append(
            f"  - numpy's own loops of {', '.join(compiled.ufunc_loops)}, bound when the code "
            "loads (this process's numpy: on an AVX-512 CPU its SIMD routines, whose last bit "
            "the C library's functions do not give), bit for bit numpy's; a column's rows a chunk "
            "at a time"
        )
    lines += ["", "Runs in Python:"]
    slow = [loop for loop in ufunc_loops.python_loops()
            if loop.split(".")[0] in compiled.ufunc_loops]  # fmt: skip
    lines += [
        f"  - numpy's loop {loop}, one value at a time: this numpy's loop could not be read "
        "from its ufunc or did not give the ufunc's bits (runtime.ufunc_loops)"
        for loop in slow
    ]
    if traced.python_fallbacks:
        for name, call in traced.python_fallbacks.items():
            source = call.source.replace("\n", "\n      ")  # a block of statements, indented
            lines.append(f"  - {name}: {source}")
            lines.append(f"      why: {call.reason}")
    elif not slow:
        lines.append("  - nothing: the whole pipeline is native code")
    when = "per call" if compiled.original_reason is None else "when it runs"
    lines += ["", f"Around the native code (Python, {when}):"]
    for name, call in traced.python_calls.items():
        if call.wraps:
            lines.append(f"  - {name}: {call.source}: {call.reason}")
    lines.append(
        "  - arguments are checked (type, width, rows) before anything runs, and every column "
        "a kernel reads (presence, dtype, length) before that kernel runs"
    )
    for spec in traced.arguments:
        if spec.kind == "frame" and spec.ordered:
            lines.append(
                f"  - argument {spec.name!r}: the result depends on the order of its columns "
                "(pandas reads the frame whole, or the code reads its names), so a batch whose "
                "columns are not the example's, in order, runs the original function"
            )
        if spec.nonempty:
            lines.append(
                f"  - argument {spec.name!r}: the code branches on whether it is empty "
                "(traced for the example's rows), so an empty batch runs the original function"
            )
    if compiled.workers > 1:
        lines.append(
            f"  - a batch of {PARALLEL_ROWS:,} rows or more runs in {compiled.workers} blocks "
            "of rows, one per thread (a kernel that writes a CSR matrix or a str column, or "
            "reduces the batch, runs on one thread)"
        )
    if compiled.direct is not None and compiled.original_reason is None:
        kinds = {a.kind for a in compiled.arguments if a.kind != "bound"}
        what = " and ".join(
            k for k, present in (("C-contiguous float64 arrays", "array" in kinds),
                                 ("lists or tuples of documents", "strings" in kinds)) if present
        )  # fmt: skip
        lines.append(
            f"  - a batch of fewer than {PARALLEL_ROWS:,} rows of {what} goes straight to the "
            "kernel(s): their types (an array's dtype and width; a document's type, when it "
            "is encoded) are the only checks besides the refit guard"
        )
    for what, seconds in compiled.guard.costly_checks():
        lines.append(
            f"  - {what} is compared with what it held at compile time on each call, to "
            f"catch a change in place: about {seconds * 1e3:.2f} ms a call (measured now; "
            "one memcmp where it can)"
        )
    if any(d.get("part") == "bytes" for k in kernels for d in k.inputs):
        lines.append("  - string columns are converted to UTF-8 bytes + offsets by pyarrow (in C)")
    if any(d.get("part") == "values" and "column" in d for k in kernels for d in k.inputs):
        lines.append("  - numeric DataFrame columns are read as contiguous float64 arrays")
    if any(o.get("sparse") for k in kernels for o in k.outputs):
        lines.append(
            "  - sparse results are written by native code as CSR arrays and wrapped in a "
            "scipy.sparse.csr_matrix without copying"
        )
    if traced.returns_sparse:
        lines.append(
            "  - the result is built densely in native code and converted to a scipy CSR "
            "matrix with scipy.sparse.csr_matrix"
        )
    lines += handoff_lines(compiled)
    if traced.notes:
        notes = [note.replace("\n", "\n      ") for note in traced.notes]
        lines += ["", "Frontend notes:"] + [f"  - {note}" for note in notes]
    return "\n".join(lines)


def explain_optimized(fast: OptimizedProgram) -> str:
    """The exact program's account, then how the cascade or the top-K runs."""
    lines = [explain(fast.exact), ""]
    if not fast.cascaded:
        lines.append(f"Cascade: none. {fast.findings.reason}")
        if fast.approx is not None:
            lines.append("Top-K: a native cheap scorer picks the candidates, the exact "
                         "program ranks them")  # fmt: skip
        return "\n".join(lines)
    lines += [
        "Cascade (two native programs):",
        "  - the cheap program (cheap feature groups + cheap model) runs on every row",
        "  - the full program runs only on the rows it does not settle",
        "  - in numpy, between the two calls: the confidence of each row, the compaction of",
        "    the data arguments to the unsettled rows (pandas/numpy row indexing) and the",
        "    merge of the results; the inputs are Python objects (str lists, frames), which",
        "    the native code reads in place but does not allocate",
        "  - the full program recomputes the cheap groups for the rows it gets (only the",
        "    arguments are compacted, not intermediate results), and a DataFrame argument",
        "    is compacted with .iloc, so its rows keep their index labels",
        "  - a statement that checks its input (astype(int) of a NaN, a date parse, an encoder",
        "    meeting an unknown category), used or not, runs on every row in the cheap",
        "    program with what it reads, so a bad value raises the original's error; the full",
        "    model's own check of its input (NaN or infinity that an expensive group",
        "    computes) runs on the rows the full program gets only",
    ]
    function = next(iter(fast.exact.traced.module.ops))
    returned = function.function_type.outputs.data  # type: ignore[attr-defined]
    if isinstance(returned[0], pipeline.FrameType | pipeline.ObjectType):
        lines += [
            "  - the result (a DataFrame, or a tuple, list or dict) is merged part by part,",
            "    column by column: the model's outputs in it come from the cheap model on the",
            "    settled rows; its other parts are computed exactly on every row (by the cheap",
            "    program, and by the full program on its rows)",
        ]
    if fast.rest is not None:
        lines += handoff_lines(fast.rest, "Handed to the original function by the full "
                               "program, on the rows it gets")  # fmt: skip
    return "\n".join(lines)
