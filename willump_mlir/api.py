"""``wm.compile``: trace a Python inference function, lower it, and load its machine code."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from typing import Any

import llvmlite
import xdsl

from willump_mlir.compiler import StagedModule
from willump_mlir.frontend import trace_to_module
from willump_mlir.runtime.compiled import CompiledPipeline
from willump_mlir.runtime.jit import bind_blob, cache_path, compile_llvm_ir, load_cached
from willump_mlir.runtime.plan import Plan

# Bump when the lowering changes what a given pipeline IR compiles to.
COMPILER_VERSION = "1"


def compile(fn: Callable[..., Any], example: tuple[Any, ...]) -> CompiledPipeline:
    """Compile ``fn`` for arguments like ``example`` into a native ``CompiledPipeline``.

    Fitted estimators among the arguments (and the globals and closure variables ``fn``
    reads) are bound into the code. The object code is cached on disk, keyed by the
    pipeline IR (whose blob names are content hashes), so compiling the same pipeline
    again, in any process, skips the lowering and LLVM.
    """
    started = time.perf_counter()
    traced = trace_to_module(fn, example)
    staged = StagedModule(traced.module)
    pipeline_text = str(traced.module)
    key = hashlib.sha256(
        "\0".join(
            (pipeline_text, COMPILER_VERSION, str(xdsl.__version__), llvmlite.__version__)
        ).encode()
    ).hexdigest()
    for name, data in traced.blobs.items():
        bind_blob(name, data)
    function = traced.module.body.block.first_op.sym_name.data  # type: ignore[union-attr]
    plan_file = cache_path(key).with_suffix(".plan.json")
    library = load_cached(key)
    if library is not None and plan_file.exists():
        plan = Plan.from_json(plan_file.read_text())
    else:
        plan = Plan.from_module(staged.module("scf"), function)
        if library is None:
            library = compile_llvm_ir(staged.text("llvm-ir"), key)
        temporary = plan_file.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(plan.to_json())
        os.replace(temporary, plan_file)
    return CompiledPipeline(
        fn, traced, staged, plan, library, compile_seconds=time.perf_counter() - started
    )
