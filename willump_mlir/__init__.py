"""willump-mlir: compile Python ML inference pipelines, features and model, to native code.

```python
import willump_mlir as wm

compiled = wm.compile(score, example=(frame[:200], model))
compiled(frame, model)          # exactly what score(frame, model) returns
print(compiled.explain())       # what is native, what stays in Python and why
print(compiled.ir("feature"))   # the IR at any stage
```
"""

from typing import Any

__all__ = [
    "compile", "optimize", "load", "CompiledPipeline", "OptimizedPipeline", "InputError",
    "RefitError",
    "CompileError", "CacheWarning", "CompileWarning",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    """Import the API on first use, so ``willump-opt`` starts without scikit-learn."""
    if name in ("CacheWarning", "CompileWarning"):
        from willump_mlir.runtime import jit

        return getattr(jit, name)
    if name == "compile":
        from willump_mlir.api import compile

        return compile
    if name == "optimize":
        from willump_mlir.optimizer import optimize

        return optimize
    if name == "load":
        from willump_mlir.persist import load

        return load
    if name == "OptimizedPipeline":
        from willump_mlir.pipelines import OptimizedPipeline

        return OptimizedPipeline
    if name == "CompiledPipeline":
        from willump_mlir.pipelines import CompiledPipeline

        return CompiledPipeline
    if name == "InputError":
        from willump_mlir.runtime.marshal import InputError

        return InputError
    if name == "RefitError":
        from willump_mlir.runtime.refit import RefitError

        return RefitError
    if name == "ray":  # Ray Data scoring, only when used: ``ray`` is an optional extra
        import importlib

        return importlib.import_module("willump_mlir.ray")
    if name == "CompileError":
        from willump_mlir.selfcheck import CompileError

        return CompileError
    raise AttributeError(f"module 'willump_mlir' has no attribute {name!r}")
