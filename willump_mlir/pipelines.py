"""The pipelines users get back: ``wm.compile``'s ``CompiledPipeline`` and ``wm.optimize``'s
``OptimizedPipeline``.

Each runs as its runtime program (``runtime.compiled.NativeProgram``,
``runtime.optimized.OptimizedProgram``) and adds what needs the compiler, which the runtime
does not import: ``save`` (``wm.load`` recompiles what the object-code cache lacks),
``explain()`` (it reads the passes' choices) and pickling (unpickling on another CPU
recompiles the IR).
"""

from __future__ import annotations

import os
from typing import Any

from willump_mlir.explain import explain, explain_optimized
from willump_mlir.runtime.compiled import NativeProgram
from willump_mlir.runtime.optimized import OptimizedProgram


class CompiledPipeline(NativeProgram):
    """Native code for a Python inference function; call it like the function."""

    def explain(self) -> str:
        """What runs as native code, what stays in Python, and why."""
        return explain(self)

    def save(self, path: str | os.PathLike[str], *, pickle: bool = False) -> None:
        """Write the pipeline to the directory ``path``, which ``wm.load`` reads; with a
        pickle of its function and estimators only if it makes Python calls or ``pickle``
        is true (see ``willump_mlir.persist``)."""
        from willump_mlir import persist  # which builds these classes

        persist.save(self, path, pickle=pickle)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """``pickle`` carries the pipeline's save and machine code (``persist.portable``):
        unpickling on a host of the same target runs no LLVM (``persist.unpickle``)."""
        from willump_mlir import persist

        return persist.unpickle, (persist.portable(self),)


class OptimizedPipeline(OptimizedProgram):
    """What ``wm.optimize`` returns; call it like the original function."""

    def explain(self) -> str:
        """The exact program's account, then the cascade's or the top-K's."""
        return explain_optimized(self)

    def save(self, path: str | os.PathLike[str], *, pickle: bool = False) -> None:
        """As ``CompiledPipeline.save``, for every program of the cascade."""
        from willump_mlir import persist

        persist.save(self, path, pickle=pickle)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """As ``CompiledPipeline.__reduce__``, for every program of the cascade."""
        from willump_mlir import persist

        return persist.unpickle, (persist.portable(self),)
