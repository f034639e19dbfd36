"""Whether a traced pipeline leaves native code anything worth running.

A pipeline whose native ops only move data (``pipeline.to_array``, ``select_columns``,
``take_column``, ``hstack``, ``constant``) while its Python calls do the rest computes
nothing natively that the original does not do as fast, with numpy and pandas, on the
same rows: the compiled call would add its argument checks and marshalling to the
original's work. ``wm.compile`` then calls the original function directly (see
``CompiledPipeline.original_reason``)::

    %1 = pipeline.python_call "py0_LogisticRegression_predict_proba"(%0) ...
    %2 = pipeline.take_column %1 [1] : tensor<?x2xf32> -> tensor<?xf32>
    func.return %2 : tensor<?xf32>

    ~>  nothing native worth running: every call runs predict(...) itself
"""

from __future__ import annotations

from xdsl.dialects import builtin, func

from willump_mlir.dialects import pipeline
from willump_mlir.frontend.spec import FrontendResult

#: Ops that copy or select values without computing on them.
MOVES_DATA = (
    pipeline.ToArrayOp,
    pipeline.SelectColumnsOp,
    pipeline.TakeColumnOp,
    pipeline.HstackOp,
    pipeline.ConstantOp,
)
_STRUCTURE = (builtin.ModuleOp, func.FuncOp, func.ReturnOp)


def nothing_native_to_run(traced: FrontendResult) -> str | None:
    """Why native code has nothing worth running in ``traced`` (every op is a Python call or
    only moves data), or ``None`` if some op computes natively."""
    moves = 0
    for op in traced.module.walk():
        if isinstance(op, MOVES_DATA):
            moves += 1
        elif not isinstance(op, (*_STRUCTURE, pipeline.PythonCallOp)):
            return None
    calls = [c.source for c in traced.python_calls.values()]
    python = f"Python runs {'; '.join(calls)}" if calls else "nothing runs in Python"
    native = f"the native code would only move data ({moves} op(s): column reads, selections)"
    return (
        f"{python}, and {native}, which the original does as fast; the compiled call would "
        "only add its argument checks and copies"
    )
