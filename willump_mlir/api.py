"""``wm.compile``: trace a Python inference function, lower it, and load its machine code."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import llvmlite
import xdsl

from willump_mlir.compiler import StagedModule
from willump_mlir.frontend import trace_to_module
from willump_mlir.frontend.spec import FrontendResult
from willump_mlir.runtime.compiled import CompiledPipeline
from willump_mlir.runtime.jit import bind_blob, cache_path, compile_llvm_ir, load_cached
from willump_mlir.runtime.plan import Plan


@functools.cache
def compiler_fingerprint() -> str:
    """A hash of the compiler's own source: any change to it invalidates cached code."""
    import willump_mlir.dialects
    import willump_mlir.passes

    digest = hashlib.sha256()
    for package in (willump_mlir.dialects, willump_mlir.passes, sys.modules["willump_mlir"]):
        for path in sorted(Path(next(iter(package.__path__))).rglob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load_plan(path: Path) -> Plan | None:
    """The cached plan at ``path``, or ``None`` if it is absent or unreadable."""
    try:
        return Plan.from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def compile(
    fn: Callable[..., Any], example: tuple[Any, ...], static: Collection[str] = ()
) -> CompiledPipeline:
    """Compile ``fn`` for arguments like ``example`` into a native ``CompiledPipeline``.

    Fitted estimators among the arguments (and the globals and closure variables ``fn``
    reads), constants (str, numbers, lists and dicts of them, lists of models), tables
    the body uses only for lookups, and the arguments named in ``static`` are bound into
    the code; a later call must pass the same or an equal value for each. The object code
    is cached on disk, keyed by the pipeline IR (whose blob names are content hashes), so
    compiling the same pipeline again, in any process, skips the lowering and LLVM.
    """
    started = time.perf_counter()
    return compile_traced(fn, trace_to_module(fn, example, static), started)


def compile_traced(
    fn: Callable[..., Any], traced: FrontendResult, started: float | None = None
) -> CompiledPipeline:
    """Lower a traced (or rewritten) pipeline module and load its machine code.

    The module's first function is the entry point; ``fn`` is what its rows run through
    when native code hands a row back to Python.
    """
    if started is None:
        started = time.perf_counter()
    staged = StagedModule(traced.module)
    pipeline_text = str(traced.module)
    key = hashlib.sha256(
        "\0".join(
            (pipeline_text, compiler_fingerprint(), str(xdsl.__version__), llvmlite.__version__)
        ).encode()
    ).hexdigest()
    for name, data in traced.blobs.items():
        bind_blob(name, data)
    function = traced.module.body.block.first_op.sym_name.data  # type: ignore[union-attr]
    plan_file = cache_path(key).with_suffix(".plan.json")
    library = load_cached(key)
    plan = load_plan(plan_file) if library is not None else None
    if library is None or plan is None:
        plan = Plan.from_module(staged.module("scf"), function)
        if library is None:
            library = compile_llvm_ir(staged.text("llvm-ir"), key)
        temporary = plan_file.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(plan.to_json())
        os.replace(temporary, plan_file)
    return CompiledPipeline(
        fn, traced, staged, plan, library, compile_seconds=time.perf_counter() - started
    )
