"""``wm.compile``: trace a Python inference function, lower it, and load its machine code."""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import sys
import time
import warnings
from collections.abc import Callable, Collection, Mapping
from typing import Any

import llvmlite
import numpy as np
import pandas as pd
import xdsl
from xdsl.passes import ModulePass

from willump_mlir.compiler import StagedModule
from willump_mlir.frontend import trace_to_module
from willump_mlir.frontend.spec import FrontendError, FrontendResult, ValueSpec
from willump_mlir.frontend.tracer import describe, reason_of, statement_lines
from willump_mlir.native_work import nothing_native_to_run
from willump_mlir.passes.choose_tree_layout import ChooseTreeLayoutPass
from willump_mlir.passes.fold_scalers import FoldScalersPass
from willump_mlir.pipelines import CompiledPipeline
from willump_mlir.runtime.compiled import take_data_rows
from willump_mlir.runtime.jit import NativeLibrary, compile_llvm_ir, load_cached
from willump_mlir.runtime.plan import Plan
from willump_mlir.selfcheck import CompileError, difference, fresh


@functools.cache
def compiler_fingerprint() -> str:
    """A hash of the compiler's own source: any change to it invalidates cached code."""
    import willump_mlir.dialects
    import willump_mlir.passes

    digest = hashlib.sha256()
    for package in (willump_mlir.dialects, willump_mlir.passes, sys.modules["willump_mlir"]):
        found = os.walk(next(iter(package.__path__)))  # not rglob: a tenth of its time
        paths = [os.path.join(d, name) for d, _, names in found for name in names]
        for path in sorted(p for p in paths if p.endswith(".py")):
            with open(path, "rb") as source:
                digest.update(source.read())
    return digest.hexdigest()


def cache_key(staged: StagedModule) -> str:
    """The object-cache key of ``staged``: its pipeline IR, pass options and compiler."""
    options = " ".join(str(staged.passes[n].pipeline_pass_spec()) for n in sorted(staged.passes))
    return hashlib.sha256(
        "\0".join(
            (str(staged.pipeline), options, compiler_fingerprint(), str(xdsl.__version__),
             llvmlite.__version__)
        ).encode()
    ).hexdigest()  # fmt: skip


def cached_plan(library: NativeLibrary) -> Plan | None:
    """The plan stored with a cached library, or ``None`` if it has none or is unreadable."""
    try:
        return Plan.from_json(library.attachment)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def compile(
    fn: Callable[..., Any],
    example: tuple[Any, ...],
    static: Collection[str] = (),
    *,
    tree_layout: str | ChooseTreeLayoutPass = "auto",
    fold_scalers: bool = True,
) -> CompiledPipeline:
    """Compile ``fn`` for arguments like ``example`` into a native ``CompiledPipeline``.

    Fitted estimators among the arguments (and the globals and closure variables ``fn``
    reads), constants (str, numbers, lists and dicts of them, lists of models), tables
    the body uses only for lookups, and the arguments named in ``static`` are bound into
    the code; a later call must pass the same or an equal value for each. The object code
    is cached on disk, keyed by the pipeline IR (whose blob names are content hashes), so
    compiling the same pipeline again, in any process, skips the lowering and LLVM. The
    result is checked against ``fn`` on ``example`` before it is returned
    (``compile_checked``).

    ``tree_layout`` says how tree ensembles run (the pass ``choose-tree-layout``): ``"auto"``
    chooses generated branches when LLVM compiles them quickly, else node arrays;
    ``"branches"`` or ``"nodes"`` forces one; a ``ChooseTreeLayoutPass(...)`` sets every
    option of the pass (``branch_seconds``, ``top_fill``, ``top_levels``). Results are
    the same in every layout; speed and compile time are not.

    ``fold_scalers=False`` keeps every scaler before a tree model as a step of its own
    (the pass ``fold-scalers{enabled=false}``); by default a scaler is folded into the
    model's thresholds where that is exact (``explain()`` says where).
    """
    started = time.perf_counter()
    trace = functools.partial(trace_to_module, fn, example, static=static)
    passes = pass_options(tree_layout, fold_scalers)
    return compile_checked(fn, example, trace, started, passes=passes)


def pass_options(
    tree_layout: str | ChooseTreeLayoutPass = "auto", fold_scalers: bool = True
) -> dict[str, ModulePass]:
    """The passes a compilation runs with options of its own (``StagedModule.passes``) for
    ``compile``'s ``tree_layout`` and ``fold_scalers``; ``ValueError`` for an unknown
    layout."""
    if not isinstance(tree_layout, ChooseTreeLayoutPass):
        tree_layout = ChooseTreeLayoutPass(layout=tree_layout)
    passes: dict[str, ModulePass] = {}
    if tree_layout != ChooseTreeLayoutPass():
        passes[tree_layout.name] = tree_layout
    if not fold_scalers:
        passes[FoldScalersPass.name] = FoldScalersPass(enabled=False)
    return passes


Trace = Callable[..., FrontendResult]  # trace_to_module with fn and example: python_block=...


def compile_checked(
    fn: Callable[..., Any],
    example: tuple[Any, ...],
    trace: Trace,
    started: float | None = None,
    passes: Mapping[str, ModulePass] | None = None,
) -> CompiledPipeline:
    """Compile ``trace()`` and check it returns what ``fn`` returns on ``example``.

    ``trace(python_block=...)`` traces ``fn`` (see ``trace_to_module``). If the compiled
    pipeline disagrees with ``fn`` on the example, raises where ``fn`` does not, or fails
    to compile, bisection finds a statement ``k`` such that the pipeline agrees with the
    statements from ``k`` on in Python and not from ``k + 1`` on. Then statement ``k``
    alone runs in Python, if that agrees, else the statements from ``k`` on; the Python
    call's reason says what went wrong with statement ``k`` native. A ``FrontendError``
    from tracing the whole function is the user's and is raised as it is; ``CompileError``
    when even the whole function as one Python call does not agree. ``passes`` are run
    instead of the default ones (``pass_options``).
    """
    started = time.perf_counter() if started is None else started
    check = SelfCheck(fn, example, started, passes or {})
    compiled, why = check.attempt(trace, None)
    if compiled is not None:
        return compiled
    lines = statement_lines(fn)
    end = len(lines)
    failures = {end: why}
    native, python = 0, end  # from `native` on in Python agrees (assumed for 0); `python`: not
    best: tuple[CompiledPipeline, str] | None = None
    while python - native > 1:
        middle = (native + python) // 2
        compiled, why = check.attempt(trace, (middle, end, failures[python]))
        if compiled is not None:
            native, best = middle, (compiled, failures[python])
        else:
            python, failures[middle] = middle, why
    reason = failures[python]
    blocks = [(native, native + 1, reason)] if native + 1 < end else []  # the statement alone
    for block in [*blocks, (native, end, reason)]:
        if block[1] == end and best is not None and best[1] == reason:
            return best[0]
        compiled, why = check.attempt(trace, block)
        if compiled is not None:
            return compiled
    if best is not None:
        return best[0]
    raise check.failed(lines[0], why)


class SelfCheck:
    """Compiles traced modules of ``fn`` and checks them on ``example``."""

    def __init__(
        self,
        fn: Callable[..., Any],
        example: tuple[Any, ...],
        started: float,
        passes: Mapping[str, ModulePass],
    ):
        self.fn = fn
        self.example = example
        self.started = started
        self.passes = passes
        self.args: tuple[Any, ...] = ()  # the example and the defaults, once it traces
        self.data: list[bool] | None = None  # which arguments are data (copied per run)
        self.expected: Any = None

    def copies(self) -> tuple[Any, ...]:
        """The arguments, data arguments copied (the code may mutate them)."""
        assert self.data is not None
        return tuple(fresh(a) if d else a for a, d in zip(self.args, self.data, strict=True))

    def original(self) -> Any:
        """What ``fn`` returns on a copy of the example (``FrontendError`` if it raises)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the trace has shown the same warnings
                return self.fn(*self.copies())
        except Exception as error:
            raise FrontendError(
                f"{self.fn.__name__!r} raised {type(error).__name__} on its example: {error}"
            ) from error

    def attempt(
        self, trace: Trace, python_block: tuple[int, int, str] | None
    ) -> tuple[CompiledPipeline | None, str]:
        """The pipeline traced with ``python_block`` if it compiles and agrees with ``fn`` on
        the example; else None and what went wrong."""
        try:
            traced = trace(python_block=python_block)
        except FrontendError as error:
            if python_block is None:
                raise  # the user's error: their code raises, an argument is not supported
            return None, f"tracing it failed: {error}"
        except Exception as error:
            return None, reason_of(error)  # an Unsupported's whole reason
        if self.data is None:
            parameters = list(inspect.signature(self.fn).parameters.values())
            defaults = [p.default for p in parameters[len(self.example) :]]
            self.args = (*self.example, *defaults)
            self.data = [spec.kind != "bound" for spec in traced.arguments]
            self.expected = self.original()
        traced.result = ValueSpec.of(self.expected)
        try:
            compiled = compile_traced(self.fn, traced, self.started, self.passes)
        except Exception as error:
            return None, reason_of(error)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = compiled(*self.copies())
        except Exception as error:
            return None, (f"the compiled code raised {describe(error)} on the example, where "
                          "the original did not")  # fmt: skip
        found = difference(self.expected, got)
        if found is not None:
            return None, f"the compiled code disagreed with the original on the example: {found}"
        self.column_order(compiled)
        compiled.handoffs.clear()  # the check's, not the user's
        # checked, the compiled code still answers the calls the original raises on
        compiled.original_reason = nothing_native_to_run(traced)
        compiled.compile_seconds = time.perf_counter() - self.started
        return compiled, ""

    def column_order(self, compiled: CompiledPipeline) -> None:
        """Mark the frame arguments whose columns' order or set the result depends on
        (``ArgumentSpec.ordered``): where the compiled code and the original disagree on the
        first rows of the example with that frame's columns reversed and one more column.

        Native code reads a frame's columns by name; pandas reads a whole frame by position
        (``df.to_numpy()``, ``df.drop(columns=...)``, a model given the frame checks its
        column names, a returned frame keeps them): a later batch of other columns would
        get the example's order. Disagreeing on the probe is the safe side: such a batch
        runs the original.
        """
        for position, spec in enumerate(compiled.traced.arguments):
            example = self.args[position]
            if spec.kind != "frame" or not isinstance(example, pd.DataFrame):
                continue
            rows = np.arange(min(ORDER_PROBE_ROWS, len(example)))  # data arguments share rows
            args = list(take_data_rows(compiled.traced.arguments, self.copies(), rows))
            frame = args[position]
            args[position] = frame[frame.columns[::-1]].assign(**{_PROBE_COLUMN: 0.0})
            if _outcome(self.fn, [fresh(a) for a in args]) != _outcome(compiled, args):
                spec.ordered = True

    def failed(self, line: int, why: str) -> CompileError:
        """The error when even the whole function as one Python call does not agree."""
        where = f"{self.fn.__code__.co_filename}, line {line}"
        again = difference(self.expected, self.original()) if self.data is not None else None
        if again is not None:
            return CompileError(
                f"{where}: {self.fn.__name__!r} returns different results on the same "
                f"example ({again}); wm.compile can only check a deterministic function"
            )
        return CompileError(
            f"{where}: {self.fn.__name__!r} cannot be compiled: even run as one Python call "
            f"from this line, {why}"
        )


ORDER_PROBE_ROWS = 16  # rows of the example ``SelfCheck.column_order`` runs on
_PROBE_COLUMN = "_wm_order_probe"


def _outcome(fn: Callable[..., Any], args: list[Any]) -> tuple[str, Any]:
    """What ``fn(*args)`` gives, as ("ok", result) or ("raised", its exception class), to
    compare with ``==`` (results through ``difference``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ("ok", _Same(fn(*args)))
    except Exception as error:
        return ("raised", type(error))


class _Same:
    """A result that equals another where ``difference`` finds none."""

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and difference(self.value, other.value) is None

    __hash__ = None  # type: ignore[assignment]


def compile_traced(
    fn: Callable[..., Any],
    traced: FrontendResult,
    started: float | None = None,
    passes: Mapping[str, ModulePass] | None = None,
    key: str | None = None,
) -> CompiledPipeline:
    """Lower a traced (or rewritten) pipeline module and load its machine code.

    The module's first function is the entry point; ``fn`` is what its rows run through
    when native code hands a row back to Python. ``passes`` are run instead of the default
    ones (``pass_options``); their options are part of the cache key. ``key`` is the cache
    key the module is known under, when its entry came with it (an unpickled program's:
    printing the module and hashing the compiler for it would double the time to unpickle).
    """
    if started is None:
        started = time.perf_counter()
    staged = StagedModule(traced, traced.blobs.copy(), dict(passes or {}))
    if key is None:
        key = cache_key(staged)
    library = load_cached(key, traced.blobs)
    plan = cached_plan(library) if library is not None else None
    if library is None or plan is None:
        function = traced.module.body.block.first_op.sym_name.data  # type: ignore[union-attr]
        plan = Plan.from_module(staged.module("scf"), function)
        if library is None:
            llvm_ir = staged.text("llvm-ir")
            created = {n: a for n, a in staged.blobs.items() if n not in traced.blobs}
            library = compile_llvm_ir(
                llvm_ir, key, attachment=plan.to_json(), blobs=created, available=traced.blobs
            )
    staged.blobs.include(library.blobs)  # a warm start: what the passes would create
    return CompiledPipeline(
        fn, traced, staged, plan, library, compile_seconds=time.perf_counter() - started
    )
