"""``NativeProgram``: a pipeline's native code and plan, called like its function
(``wm.compile`` returns it as a ``willump_mlir.pipelines.CompiledPipeline``).

A call checks its arguments, then runs the plan: each native kernel over all rows, each
Python call in between, and returns what the original function returns.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn

from willump_mlir.abi import ErrorKind, KernelOutputSpec, ScratchSizeSpec
from willump_mlir.compiler import StagedModule
from willump_mlir.dialects import pipeline
from willump_mlir.frontend import ArgumentSpec, FrontendResult, ValueSpec
from willump_mlir.runtime import marshal, memory
from willump_mlir.runtime.handoffs import Handoffs, batch_reason, flagged_rows, handed_back
from willump_mlir.runtime.jit import NativeLibrary
from willump_mlir.runtime.pickled import PickledObjects
from willump_mlir.runtime.plan import KernelStep, Plan, PythonStep, SelectStep
from willump_mlir.runtime.refit import RefitGuard

DTYPES = {
    "f64": np.float64,
    "f32": np.float32,
    "i64": np.int64,
    "i32": np.int32,
    "i1": np.uint8,
    "i8": np.uint8,
}


_NO_STAND_IN = object()
CSR_PARTS = ("indptr", "indices", "data")
TEXT_PARTS = ("bytes", "offsets", "missing")  # a text column's buffers (marshal.text_column)
PARALLEL_ROWS = 2048  # a batch of at least this many rows is split over the cores


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def engine_cpus() -> int | None:
    """The CPUs the engine running this task assigned it, or None outside one: a Ray task's
    or actor's CPU resources (at least 1: an actor holds none by default, and Ray gives it
    one thread), a Dask worker's threads shared by the tasks it is running."""
    ray = sys.modules.get("ray")  # imported by every Ray worker: never imported here
    if ray is not None and ray.is_initialized():
        context = ray.get_runtime_context()
        if context.worker.mode == ray.WORKER_MODE:
            return max(1, int(context.get_assigned_resources().get("CPU", 1)))
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            state = distributed.get_worker().state
        except ValueError:  # not in a Dask worker's task
            return None
        return max(1, state.nthreads // max(1, state.executing_count))
    return None


def worker_count() -> int:
    """Threads a large batch runs on, decided at each call: ``$WILLUMP_MLIR_THREADS``, else
    the CPUs a Ray or Dask worker assigned the running task (``engine_cpus``), else the
    usable cores."""
    configured = os.environ.get("WILLUMP_MLIR_THREADS")
    if configured:
        return max(1, int(configured))
    cores = usable_cores()
    assigned = engine_cpus()
    return cores if assigned is None else min(assigned, cores)


def row_stride(part: str, column: str | None, width: int, dtype: type[np.generic]) -> int:
    """Bytes between consecutive rows of a kernel buffer (0: not indexed by row)."""
    itemsize = np.dtype(dtype).itemsize
    if part in ("offsets", "missing", "indptr"):
        return itemsize
    if part == "values":
        return itemsize * (1 if column else width)
    if part.startswith("M8["):  # a datetime column's ticks, one a row
        return itemsize
    return 0  # string bytes, CSR indices and data: addressed through offsets / indptr


def take_rows(value: Any, rows: np.ndarray) -> Any:
    """The ``rows`` of a data argument, in its own type (DataFrame, Series, array, list)."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.iloc[rows]
    if isinstance(value, marshal.Columns):
        return value.take(rows)
    if isinstance(value, np.ndarray):
        return value[rows]
    return (
        type(value)(value[i] for i in rows)
        if isinstance(value, tuple)
        else [value[i] for i in rows]
    )


def take_data_rows(
    arguments: list[ArgumentSpec], args: tuple[Any, ...], rows: np.ndarray
) -> tuple[Any, ...]:
    """``args`` with each data argument cut to ``rows``; bound arguments as they are."""
    return tuple(
        a if spec.kind == "bound" else take_rows(a, rows)
        for spec, a in zip(arguments, args, strict=True)
    )


#: Per kernel that flagged rows to run in Python: its reasons, one a bit, and the flag bytes.
FlaggedRows = list[tuple[list[str], np.ndarray]]


class HandedBack(marshal.Unhandled):  # noqa: N818 - as Unhandled
    """Rows native code hands back reach a Python step: the original runs on the batch;
    ``flags`` are the rows (``FlaggedRows``), counted by reason."""

    def __init__(self, flags: FlaggedRows):
        super().__init__("a row of the batch", "that native code hands back to Python reaches "
                         "a Python step", kind="whole-batch")  # fmt: skip
        self.flags = flags


def collect_python_rows(kernel: BoundKernel, values: dict[str, Any], flagged: FlaggedRows) -> None:
    """Keep the kernel's flags of rows to run in Python, if it flagged any."""
    if kernel.python_rows is not None:
        flags = values.pop(kernel.python_rows).view(np.uint8)  # bits: reasons
        if hands_back(kernel, flags):
            flagged.append((kernel.python_reasons, flags))


def hands_back(kernel: BoundKernel, flags: np.ndarray) -> bool:
    """Whether the kernel's row flags (bits: reasons) hand any row to Python: a flag of an
    every-row reason counts only where every row has it (``handoffs.handed_back``)."""
    return bool((flags[0] if len(flags) == 1 else flags.any())
                and handed_back(kernel.python_reasons, flags).any())  # fmt: skip


def _dtypes(value: Any) -> tuple[Any, ...]:
    """A result's type and dtypes (a DataFrame's per column; numpy strings of any length
    alike)."""
    if isinstance(value, pd.DataFrame):
        return (type(value), *value.dtypes)
    dtype = getattr(value, "dtype", None)
    if isinstance(value, np.ndarray) and dtype is not None and dtype.kind in "US":
        return (type(value), dtype.kind)
    return (type(value), dtype)


def _as_value(buffer: np.ndarray) -> np.ndarray:
    """A kernel's dense output as Python code sees it: an i1 output (one byte a row) is
    numpy bool, so that a Python call gets what the original code got (``~mask`` is not
    ``~uint8``)."""
    return buffer.view(bool) if buffer.dtype == np.uint8 else buffer


def _address(array: np.ndarray) -> int:
    """The address of an array's first element (ctypes' view of a writable buffer is about
    three times faster than ``__array_interface__``, which read-only arrays still need)."""
    flags = array.flags
    if flags.writeable and flags.c_contiguous and array.size:
        return ctypes.addressof(ctypes.c_char.from_buffer(array))
    return array.__array_interface__["data"][0]


@dataclass(frozen=True)
class KernelInput:
    """One buffer argument of a kernel, resolved once at load time."""

    value: str  # IR value name: ``arg<i>`` or ``v<n>``
    argument: str  # the user's name for it, for error messages
    column: str | None
    part: str  # values | bytes | offsets | missing | scratch
    width: int
    dtype: type[np.generic]
    size: ScratchSizeSpec | None  # a scratch buffer's size
    text: bool = False  # a vectorizer's documents (lone surrogates allowed)
    ufunc: bool = False  # read as it is by numpy's loop of a ufunc: must run forwards


#: a str output's column name, (value, column) of its index and dtype, and the (value,
#: column) pairs whose first pandas ``str`` dtype it takes instead
StringOutput = tuple[str, str, str, tuple[tuple[str, str], ...] | None]


@dataclass(frozen=True)
class KernelOutput:
    """One result buffer of a kernel: rows of ``shape``, or a CSR matrix of ``width``
    columns (indptr, indices and data buffers plus their capacity)."""

    value: str
    shape: tuple[int, ...]
    dtype: type[np.generic]
    sparse_width: int | None
    scalar: str | None = None  # a batch reduction's one value: the reduction (``mean``...)
    #: a str column (offsets, missing flags, bytes and their capacity): its column name,
    #: the (value, column) whose index and dtype it takes, and the (value, column) pairs
    #: whose first pandas ``str`` dtype it takes instead (``KernelOutputSpec.dtype_from``)
    string: StringOutput | None = None

    @property
    def grows(self) -> bool:
        """Whether the kernel writes it into buffers of a capacity (CSR or str)."""
        return self.sparse_width is not None or self.string is not None


def _string_spec(spec: KernelOutputSpec) -> StringOutput:
    """``KernelOutput.string`` of a str column's output spec."""
    dtype_from = spec.get("dtype_from")
    pairs = None if dtype_from is None else tuple((v, c) for v, c in dtype_from)
    return spec["string"], spec["like"], spec["like_column"], pairs


def scratch_terms(size: ScratchSizeSpec) -> list[tuple[int, str, str]]:
    """The (per_byte, value, column) terms of a scratch buffer's size
    (``text_kernels.ScratchSize``)."""
    if "per_byte" not in size:
        return []
    first = (size["per_byte"], size["value"], size["column"])
    return [first, *(tuple(term) for term in size.get("more", ()))]


@dataclass
class ScratchSet:
    """One kernel's scratch buffers, sized for rows of up to ``longest`` bytes per column;
    for a kernel ``DirectCall`` runs, its argument slots with the error record's and the
    scratch buffers' addresses filled in (``BoundKernel.slots``)."""

    longest: dict[tuple[str, str], int]
    buffers: list[np.ndarray]
    addresses: list[int]  # one per kernel input: the scratch buffers', 0 for the others
    #: the buffers' huge-page area until it is advised, after the set's first call (a first
    #: call touches 4 KiB pages: see ``memory``), else None
    area: memoryview | None = None
    slots: ctypes.Array[ctypes.c_uint64] | None = None
    slots_address: int = 0


class Scratch(threading.local):
    """Each thread's scratch buffers, reused across calls: kernels leave them zeroed; and
    what ``DirectCall`` passes kernels besides them (see ``DirectCall``)."""

    SMALLEST_ROW = 1024  # bytes of text a new set is sized for at least

    def __init__(self) -> None:
        self.sets: dict[str, ScratchSet] = {}
        self.error = np.zeros(3, dtype=np.int64)  # a kernel's [kind, row, site]; kept zero
        self.error_address = _address(self.error)
        #: whether a ``DirectCall`` is filling this thread's slots or running kernels on
        #: them: a call made meanwhile on this thread (by a finalizer) takes the general path
        self.busy = False
        #: documents' offsets (rows + 1, by text argument, with their address) and all-zero
        #: missing flags, which kernels only read
        self.offsets: dict[str, tuple[np.ndarray, int]] = {}
        self.missing = np.zeros(PARALLEL_ROWS, dtype=np.uint8)
        self.missing_address = _address(self.missing)

    def text_offsets(self, value: str) -> tuple[np.ndarray, int]:
        """This thread's offsets buffer of the text argument ``value`` (``[0]`` is 0), and
        its address."""
        found = self.offsets.get(value)
        if found is None:
            buffer = np.zeros(PARALLEL_ROWS + 1, dtype=np.int64)
            found = self.offsets[value] = (buffer, _address(buffer))
        return found

    def addresses(self, kernel: BoundKernel, longest: dict[tuple[str, str], int]) -> list[int]:
        """Buffers of every scratch input of ``kernel``, for rows of ``longest`` bytes."""
        return self.set_for(kernel, longest).addresses

    def set_for(self, kernel: BoundKernel, longest: dict[tuple[str, str], int]) -> ScratchSet:
        """The scratch set of ``kernel`` for rows of ``longest`` bytes."""
        found = self.sets.get(kernel.step.name)
        if found is not None and all(n <= found.longest[k] for k, n in longest.items()):
            if found.area is not None:  # its first call is over: huge pages from now on
                memory.advise(found.area)
                memory.settle(found.area)
                found.area = None
            return found
        room = {k: max(n, self.SMALLEST_ROW) for k, n in longest.items()}
        sizes = []
        for spec in kernel.inputs:
            if spec.part == "scratch":
                assert spec.size is not None
                size = spec.size["fixed"]
                for per_byte, value, column in scratch_terms(spec.size):
                    size += per_byte * room[(value, column)]
                sizes.append((max(size, 1), np.dtype(spec.dtype)))
        buffers, area = memory.zeroed(sizes)  # read at random: huge pages (the word cache)
        allotted = iter(buffers)
        addresses = [_address(next(allotted)) if spec.part == "scratch" else 0
                     for spec in kernel.inputs]  # fmt: skip
        found = ScratchSet(room, buffers, addresses, area)
        if kernel.splittable:
            found.slots = kernel.slots()
            found.slots[1] = self.error_address
            for position, address in enumerate(addresses):
                found.slots[kernel.first_input + position] = address
            found.slots_address = ctypes.addressof(found.slots)
        self.sets[kernel.step.name] = found
        return found


class BoundKernel:
    """A kernel step with its ctypes entry point and resolved buffer arguments."""

    def __init__(self, step: KernelStep, library: NativeLibrary, names: dict[str, str]):
        self.step = step
        self.inputs = [
            KernelInput(
                spec["value"],
                names.get(spec["value"], spec["value"]),
                spec.get("column"),
                spec["part"],
                spec.get("width", 1),
                DTYPES[spec["dtype"]],
                spec.get("size"),
                bool(spec.get("text")),
                bool(spec.get("ufunc")),
            )
            for spec in step.inputs
        ]
        self.outputs = [
            KernelOutput(
                spec["value"],
                tuple(spec["shape"]),
                DTYPES[spec["dtype"]],
                spec["width"] if spec.get("sparse") else None,
                spec.get("scalar"),
                _string_spec(spec) if "string" in spec else None,
            )
            for spec in step.outputs
        ]
        self.data_inputs = [(i, s) for i, s in enumerate(self.inputs) if s.part != "scratch"]
        self.input_strides = [row_stride(s.part, s.column, s.width, s.dtype) for s in self.inputs]
        self.output_strides = [
            np.dtype(o.dtype).itemsize * int(np.prod(o.shape)) for o in self.outputs
        ]
        # a kernel of CSR or str outputs or batch reductions runs once over all rows
        self.splittable = not any(o.grows or o.scalar for o in self.outputs)
        self.scratch_columns = sorted(
            {
                (value, column)
                for spec in self.inputs
                if spec.size is not None
                for _, value, column in scratch_terms(spec.size)
            }
        )
        flags = next((s for s in step.outputs if s.get("role") == "python_rows"), None)
        self.python_rows = flags["value"] if flags is not None else None
        # the reason of each bit (none: a program compiled before flags had reasons)
        self.python_reasons: list[str] = list(flags.get("reasons", [])) if flags else []
        self.names = names
        self.column_groups = [(g["value"], g["columns"]) for g in step.column_groups]
        arguments = len(step.inputs) + sum(4 if o.grows else 1 for o in self.outputs)
        #: the kernel's entry point, which reads its arguments from an array of 8-byte slots
        #: (``pack-kernel-arguments``): rows, the error record, outputs, inputs
        self.entry: Callable[[int], None] = library.cfunc(step.name, None, ctypes.c_void_p)
        self.slots = ctypes.c_uint64 * (2 + arguments)
        #: the slot of the first input (of a splittable kernel: one slot per output)
        self.first_input = 2 + len(self.outputs)

    def call(self, rows: int, *pointers: int) -> None:
        """Run the kernel on ``rows`` rows with the error record's, outputs' and inputs'
        ``pointers``, in slots of their own."""
        slots = self.slots(rows, *pointers)  # (kept alive through the call)
        self.entry(ctypes.addressof(slots))


class DirectCall:
    """The short path of a pipeline of kernels over float64 matrix and text arguments.

    A call whose data arguments are C-contiguous float64 arrays of the compiled width, or
    lists or tuples of documents (a text argument whose example was not a Series), of
    fewer than ``PARALLEL_ROWS`` rows passes their buffers (a text's UTF-8 bytes, and
    offsets and missing flags in this thread's buffers: ``encode_documents``) and this
    thread's scratch buffers straight to the kernels, one after another (a kernel may read
    a float64 matrix an earlier one wrote), through this thread's argument slots of each
    kernel, where only what changes between calls is written: the checks the general path
    makes hold by construction. Anything else (other types, a bad shape, a document that
    is not a str or not UTF-8, a run-time error to report, a row handed back to Python, a
    call on a thread whose slots are in use) returns ``None``, and the general path handles
    the call, raising the same errors and counting the same handoffs it always does.
    """

    def __init__(
        self,
        kernels: list[BoundKernel],
        arguments: list[ArgumentSpec],
        returns: str,
        scratch: Scratch,
        guard: RefitGuard,
    ):
        self.kernels = kernels
        self.guard = guard
        self.scratch = scratch
        self.bound = [(i, a.value) for i, a in enumerate(arguments) if a.kind == "bound"]
        data = [(i, f"arg{k}", a) for k, (i, a) in enumerate(
            (i, a) for i, a in enumerate(arguments) if a.kind != "bound")]  # fmt: skip
        self.widths = [
            (i, a.type.get_shape()[1])  # type: ignore[union-attr]
            for i, _, a in data
            if a.kind == "array"
        ]
        self.positions = {value: i for i, value, a in data if a.kind == "array"}
        #: text arguments: (position, IR value, name)
        self.texts = [(i, value, a.name) for i, value, a in data if a.kind == "strings"]
        self.returns = returns
        self.as_bool = next(
            o.dtype for k in kernels for o in k.outputs if o.value == returns
        ) == np.uint8  # fmt: skip
        #: per kernel: its outputs' row shapes and dtypes, and the slot of each data input
        #: with the value it reads and which buffer of it (-1: a matrix; else ``TEXT_PARTS``)
        self.slots = [
            (
                kernel,
                [(o.shape, o.dtype) for o in kernel.outputs],
                [(kernel.first_input + position, s.value,
                  -1 if s.part == "values" else TEXT_PARTS.index(s.part))
                 for position, s in kernel.data_inputs],
            )
            for kernel in kernels
        ]  # fmt: skip

    @staticmethod
    def applies(plan: Plan, kernels: dict[str, BoundKernel], traced: FrontendResult) -> bool:
        """Whether ``plan`` is only kernels, each reading float64 matrices that are arguments
        or an earlier kernel's outputs, the documents of text arguments and scratch buffers
        sized by them; every data argument is such a matrix or text; and the result is
        dense."""
        if not all(isinstance(s, KernelStep) for s in plan.steps) or len(plan.returns) != 1:
            return False
        data = [a for a in traced.arguments if a.kind != "bound"]
        if traced.returns_sparse or any(a.dtypes and a.dtypes != {"": "float64"} for a in data):
            return False  # compiled for another dtype, which the result shows
        readable = {f"arg{k}" for k, a in enumerate(data) if a.kind == "array"}
        texts = {
            f"arg{k}"
            for k, a in enumerate(data)
            if a.kind == "strings" and not a.dtypes and (a.example is None
                                                         or a.example.type != "Series")
        }  # fmt: skip
        if len(readable) + len(texts) != len(data):
            return False
        for step in plan.steps:
            kernel = kernels[step.name]  # type: ignore[union-attr]
            if not (
                kernel.splittable
                and not kernel.column_groups
                and {value for value, _ in kernel.scratch_columns} <= texts
                and all(
                    s.part == "scratch"
                    or (s.part in TEXT_PARTS and s.text and s.value in texts)
                    or (s.part == "values" and s.column is None and s.dtype == np.float64
                        and s.value in readable)
                    for s in kernel.inputs
                )
            ):  # fmt: skip
                return False
            readable |= {o.value for o in kernel.outputs if o.dtype == np.float64}
        return any(plan.returns[0] == o.value for k in kernels.values() for o in k.outputs)

    def __call__(self, args: tuple[Any, ...]) -> Any:
        rows = -1
        for i, width in self.widths:
            x = args[i]
            if (
                type(x) is not np.ndarray
                or x.dtype != np.float64
                or x.ndim != 2
                or x.shape[1] != width
                or not x.flags.c_contiguous
                or (rows != -1 and x.shape[0] != rows)
            ):
                return None
            rows = x.shape[0]
        for i, _, _ in self.texts:
            x = args[i]
            if type(x) not in (list, tuple) or (rows != -1 and len(x) != rows):
                return None
            rows = len(x)
        if not 0 < rows < PARALLEL_ROWS:
            return None
        for i, value in self.bound:
            if args[i] is not value:
                return None
        self.guard.check()
        scratch = self.scratch  # this thread's buffers, error record (kept zero) and slots
        if scratch.busy:
            return None
        scratch.busy = True
        try:
            return self.run(args, rows, scratch)
        finally:
            scratch.busy = False

    def run(self, args: tuple[Any, ...], rows: int, scratch: Scratch) -> Any:
        """The kernels on ``args`` of ``rows`` rows (checked), or None: the general path."""
        values = {name: args[i] for name, i in self.positions.items()}
        texts: dict[str, tuple[int, int, int]] = {}  # addresses of TEXT_PARTS, by value
        longest: dict[str, int] = {}  # the most bytes of a document, by value
        documents = []  # their bytes, alive until the kernels ran
        for i, value, _ in self.texts:
            offsets, offsets_address = scratch.text_offsets(value)
            encoded = encode_documents(args[i], offsets)
            if encoded is None:  # not a str, or not UTF-8: the general path says so
                return None
            data, longest[value] = encoded
            documents.append(data)
            texts[value] = (bytes_address(data), offsets_address, scratch.missing_address)
        for kernel, outputs, inputs in self.slots:
            buffers = [np.empty((rows, *shape), dtype=dtype) for shape, dtype in outputs]
            found = scratch.set_for(kernel, {key: longest[key[0]]
                                             for key in kernel.scratch_columns})  # fmt: skip
            slots = found.slots
            assert slots is not None  # (a splittable kernel's)
            slots[0] = rows
            for slot, buffer in enumerate(buffers, 2):
                slots[slot] = _address(buffer)
            for slot, value, part in inputs:
                slots[slot] = _address(values[value]) if part < 0 else texts[value][part]
            kernel.entry(found.slots_address)
            if scratch.error[0]:
                scratch.error[:] = 0
                return None
            values.update((o.value, b) for o, b in zip(kernel.outputs, buffers, strict=True))
            if kernel.python_rows is not None:
                if hands_back(kernel, values[kernel.python_rows].view(np.uint8)):
                    return None  # a row runs in Python: the general path
        result = values[self.returns]
        return result.view(bool) if self.as_bool else result


def _bytes_data_offset() -> int | None:
    """Where a bytes object's data starts, from its address (``id``), if this interpreter
    keeps it inline (CPython: ``PyBytesObject.ob_sval``); else None."""
    probe = b"willump-mlir"
    offset = bytes.__basicsize__ - 1  # the header, without ob_sval's one byte
    if sys.implementation.name == "cpython" and ctypes.string_at(id(probe) + offset,
                                                                 len(probe)) == probe:  # fmt: skip
        return offset
    return None


_BYTES_DATA = _bytes_data_offset()


def bytes_address(data: bytes) -> int:
    """The address of ``data``'s first byte, valid while ``data`` lives (a tenth of what
    a numpy view's costs)."""
    if _BYTES_DATA is not None:
        return id(data) + _BYTES_DATA
    return _address(np.frombuffer(data, dtype=np.uint8)) if data else _address(_NO_BYTES)


_NO_BYTES = np.zeros(1, dtype=np.uint8)


def encode_documents(
    documents: list[Any] | tuple[Any, ...], offsets: np.ndarray
) -> tuple[bytes, int] | None:
    """The UTF-8 bytes of ``documents`` and the most bytes of one, their offsets written to
    ``offsets[1:]`` (``offsets[0]`` is 0); None if one is not a str (a subclass included)
    or has a lone surrogate: ``marshal.text_column`` decides about those."""
    if len(documents) == 1:
        document = documents[0]
        if type(document) is not str:
            return None
        try:
            data = document.encode()
        except UnicodeEncodeError:
            return None
        offsets[1] = len(data)
        return data, len(data)
    if set(map(type, documents)) != {str}:
        return None
    try:
        encoded = list(map(str.encode, documents))
    except UnicodeEncodeError:
        return None
    lengths = list(map(len, encoded))
    offsets[1 : len(encoded) + 1] = list(accumulate(lengths))
    return b"".join(encoded), max(lengths)


def longest_text(offsets: np.ndarray) -> int:
    """The most UTF-8 bytes in one row of a text column of ``offsets`` (rows + 1)."""
    if len(offsets) == 2:
        return int(offsets[1] - offsets[0])
    return int((offsets[1:] - offsets[:-1]).max()) if len(offsets) > 1 else 0


@dataclass(frozen=True)
class Signature:
    """A pipeline's data arguments, in order, each with its example (``ArgumentSpec.example``,
    always set), and what the original function returns on the example (None if unknown: a
    save written before signatures were recorded)."""

    data: list[ArgumentSpec]
    result: ValueSpec | None


def _named_dtypes(spec: ArgumentSpec) -> dict[str, str]:
    """The example's dtypes of the columns of ``spec.named`` a call must give in them
    (``marshal.check_named``): those ``spec.unused`` lists (every named one for a save
    from before that field)."""
    example = dict(spec.example.dtypes) if spec.example is not None else {}
    checked = spec.named if spec.unused is None else spec.unused
    return {c: example[c] for c in checked or () if c in example}


def _example(spec: ArgumentSpec) -> ValueSpec:
    """A data argument's example, or for a save written before examples were recorded, the
    types its compiled code reads (numbers as float64, strings as objects)."""
    if spec.example is not None:
        return spec.example
    if spec.kind == "frame":
        kinds = {"f64": "float64", "str": "object"}
        dtypes = tuple((n, kinds.get(k) or str(np.dtype(k))) for n, k in spec.columns or [])
        return ValueSpec("DataFrame", dtypes, (len(dtypes),))
    if spec.kind == "strings":
        return ValueSpec("list", (("", "object"),))
    assert spec.type is not None
    return ValueSpec("ndarray", (("", "float64"),), (spec.type.get_shape()[1],))


class NativeProgram:
    """Native code for a Python inference function; call it like the function."""

    def __init__(
        self,
        fn: Callable[..., Any],
        traced: FrontendResult,
        staged: StagedModule,
        plan: Plan,
        library: NativeLibrary,
        compile_seconds: float,
    ):
        self._fn = fn
        #: An unpickled program's function and bound arguments while they are still pickled
        #: (with its program's name; see ``defer``), else None
        self.pickled: tuple[PickledObjects, str] | None = None
        #: the values a call may pass for bound arguments in their place, by name (``defer``)
        self.stand_ins: dict[str, object] = {}
        self.objects_lock = threading.Lock()
        #: Why each call runs ``fn`` itself (the native code has nothing worth running, see
        #: ``willump_mlir.native_work``; set by ``wm.compile``), or None: the plan runs.
        self.original_reason: str | None = None
        self.traced = traced
        self.staged = staged
        self.plan = plan
        self.library = library
        self.compile_seconds = compile_seconds
        self.arguments: list[ArgumentSpec] = traced.arguments
        self.names = [a.name for a in self.arguments]
        data_names = [a.name for a in self.arguments if a.kind != "bound"]
        value_names = {f"arg{i}": name for i, name in enumerate(data_names)}
        for step in plan.steps:  # values computed in Python are named by their source
            if isinstance(step, PythonStep):
                source = traced.python_calls[step.callee].source
                value_names.update({v: f"the result of {source}" for v in step.results})
        self.kernels = {
            s.name: BoundKernel(s, library, value_names)
            for s in plan.steps
            if isinstance(s, KernelStep)
        }
        # (argument value, column) read as float64 -> whether the example's column was bool,
        # and its dtype (None for a save from before examples were kept)
        self.float_reads = {
            (f"arg{k}", column): (boolean, spec.example_dtype(column))
            for k, spec in enumerate(a for a in self.arguments if a.kind != "bound")
            for column, boolean in (spec.bools or {}).items()
        }
        # (argument value, column) -> the example's dtype: a column read as int64 that is a
        # narrower integer one must be of it (``marshal.numeric_column``)
        self.example_dtypes = {
            (f"arg{k}", column): dtype
            for k, spec in enumerate(a for a in self.arguments if a.kind != "bound")
            for column, dtype in (spec.example.dtypes if spec.example is not None else ())
        }
        #: a frame argument's named columns whose dtype must be the example's, by argument
        self.named_dtypes = {a.name: _named_dtypes(a) for a in self.arguments if a.named}
        self.__name__ = getattr(fn, "__name__", "pipeline")
        self.__doc__ = fn.__doc__
        self.scratch = Scratch()
        self.entries_per_row: dict[str, float] = {}  # sparse outputs: last call's nnz / row
        self.pool: ThreadPoolExecutor | None = None
        self.pool_lock = threading.Lock()
        self.handoffs = Handoffs()  # rows and calls handed to Python so far, by reason
        # a batch of at least this many rows is split over the cores (lower for a program
        # whose rows are known to be expensive, such as a cascade's full program)
        self.parallel_rows = PARALLEL_ROWS
        self.guard = RefitGuard(fn, {a.name: a.value for a in self.arguments if a.kind == "bound"})
        self.direct = self.direct_call()

    def direct_call(self) -> DirectCall | None:
        """The direct path for small float64 batches, if the plan allows one."""
        if not DirectCall.applies(self.plan, self.kernels, self.traced):
            return None
        kernels = list(self.kernels.values())
        return DirectCall(kernels, self.arguments, self.plan.returns[0], self.scratch, self.guard)

    @property
    def fn(self) -> Callable[..., Any]:
        """The original function (an unpickled program's is unpickled now if it was not)."""
        self.load_objects()
        return self._fn

    def defer(self, objects: PickledObjects, program: str) -> None:
        """Leave the function and bound arguments in ``objects`` (those of the program named
        ``program``) until they are needed (see ``willump_mlir.runtime.pickled``): until then
        the program's function is a stand-in that only names it, and the bound arguments'
        values are markers, which calls may pass in their place, before and after."""
        self.stand_ins = {a.name: a.value for a in self.arguments if a.kind == "bound"}
        self.pickled = (objects, program)

    def load_objects(self) -> None:
        """Unpickle the function and bound arguments a program left pickled (``defer``), and
        watch them for refits from now on; nothing if there are none."""
        if self.pickled is None:
            return
        with self.objects_lock:
            if self.pickled is None:  # another thread's
                return
            objects, program = self.pickled
            fn, bound = objects.program(program)
            for i, spec in enumerate(self.arguments):
                if spec.kind == "bound":
                    self.arguments[i] = dataclasses.replace(spec, value=bound[spec.name])
            self._fn = fn
            self.__doc__ = fn.__doc__
            self.guard = RefitGuard(fn, dict(bound))
            self.direct = self.direct_call()
            self.pickled = None

    def signature(self) -> Signature:
        """The data arguments and the result type (see ``Signature``)."""
        data = [a for a in self.arguments if a.kind != "bound"]
        data = [a if a.example else dataclasses.replace(a, example=_example(a)) for a in data]
        return Signature(data, self.traced.result)

    @functools.cached_property
    def ufunc_loops(self) -> list[str]:
        """The ufuncs kernels compute with numpy's own loops (``pipeline.ufunc_loop_functions``;
        read by ``explain()`` only, so an unpickled program's IR is not parsed for it)."""
        return pipeline.ufunc_loop_functions(self.traced.module.walk())

    @functools.cached_property
    def reduces(self) -> bool:
        """Whether native code reduces over the batch (``a - a.mean()``): a row's result
        then depends on the other rows."""
        return any(o.scalar for k in self.kernels.values() for o in k.outputs)

    @functools.cached_property
    def row_wise(self) -> bool:
        """Whether each row's result depends on that row only, so that a call on the rows
        of several requests gives each request its own rows' result: no batch reduction
        in native code and no Python call of the user's code (which might reduce)."""
        return not self.reduces and not self.traced.python_fallbacks

    @property
    def rows_in_python(self) -> int:
        """Rows the native code handed back to Python, so far."""
        return self.handoffs.total_rows

    @property
    def calls_in_python(self) -> int:
        """Calls the original function ran on the whole batch, so far."""
        return sum(self.handoffs.calls.values())

    @property
    def workers(self) -> int:
        """Threads a large batch runs on now (``worker_count``: in a Ray or Dask worker, the
        CPUs it assigned the task, not those of the process that compiled or pickled)."""
        return worker_count()

    # region Calling

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != len(self.arguments):
            args = self.merge_keywords(args, kwargs)
        if self.original_reason is not None:
            return self.call_original(args)
        return self.call_plan(args)

    def call_original(self, args: tuple[Any, ...]) -> Any:
        """``fn`` on every argument once the bound ones are checked. If it raises, the plan
        runs the call for its error, which names the argument; the original's error is
        raised if the plan gives a result."""
        try:
            self.check_bound(args)
            return self.original(args)
        except Exception:
            self.call_plan(args)
            raise

    def call_plan(self, args: tuple[Any, ...]) -> Any:
        """Run the plan (native kernels and Python calls) on every argument."""
        if self.direct is not None and len(args) == len(self.arguments):  # else bind says why
            result = self.direct(args)
            if result is not None:
                return result
        try:
            results, flagged = self.run_flagged(args)
        except HandedBack as handed_back:
            self.handoffs.add_rows(handed_back.flags)
            return self.run_original(args, handed_back)
        except marshal.Unhandled as unhandled:
            return self.run_original(args, unhandled)
        if flagged:
            return self.rerun_in_python(args, flagged, results[0])
        return results[0]

    def run(self, args: tuple[Any, ...]) -> tuple[list[Any], np.ndarray]:
        """Every value the native code returns, and the rows it handed back to Python (whose
        results are still to be replaced; not counted as handoffs: the caller decides)."""
        results, flagged = self.run_flagged(args)
        if flagged:
            return results, flagged_rows(flagged)
        return results, np.empty(0, dtype=np.int64)

    def run_flagged(self, args: tuple[Any, ...]) -> tuple[list[Any], FlaggedRows]:
        """Every value the native code returns, and the flags of the rows it handed back to
        Python with their reasons, per kernel that flagged any."""
        values, rows = self.bind(args)
        values.update(self.plan.constants)
        columns: dict[tuple[str, str], dict[str, Any]] = {}
        flagged: FlaggedRows = []
        for step in self.plan.steps:
            if isinstance(step, KernelStep):
                self.run_kernel(self.kernels[step.name], values, rows, columns, flagged)
            elif isinstance(step, SelectStep):
                values[step.select] = values[step.source][step.columns]
            else:
                if flagged and not self.traced.python_calls[step.callee].wraps:
                    # the user's code would read the rows native code left unfinished, and
                    # may depend on every row (``s.rank()``): the original runs on the batch
                    raise HandedBack(flagged)
                self.run_python(step, values)
        results = []
        for name in self.plan.returns:
            results.append(values[name])
        if self.traced.returns_sparse:
            results[0] = sp.csr_matrix(results[0])
        return results, flagged

    def original(self, args: tuple[Any, ...]) -> Any:
        """``fn(*args)``, a ``Columns`` argument given as its DataFrame (and a bound
        argument's stand-in as its value, see ``defer``)."""
        fn = self.fn
        if self.stand_ins:
            args = tuple(
                spec.value if value is self.stand_ins.get(spec.name, _NO_STAND_IN) else value
                for spec, value in zip(self.arguments, args, strict=True)
            )
        return fn(*map(marshal.as_frame, args))

    def run_original(self, args: tuple[Any, ...], unhandled: marshal.Unhandled) -> Any:
        """The original function's result on an input the compiled code does not read
        (``unhandled`` says which and why), or its error, naming the argument, as an
        exception of the same class (see ``marshal.refused``)."""
        self.handoffs.add_call(unhandled.kind)
        try:
            return self.original(args)
        except Exception as error:
            raise marshal.refused(error, unhandled) from error

    def rerun_in_python(self, args: tuple[Any, ...], flagged: FlaggedRows, result: Any) -> Any:
        """Replace the ``flagged`` rows of ``result`` by the original function's result on
        those rows (counted by reason).

        Native code hands back a row whose exact result depends on context it does not
        model (a capital sigma's lowercase); every op is row-wise, so the function on the
        subset gives exactly those rows. If they come back as another dtype (pandas' result
        is object where a row gives NaN), so would the whole batch's: the original runs on it;
        so it does if they raise (pandas infers dtypes from the rows it has: ``.str[0]`` of
        missing values alone is float64, which ``astype(int)`` refuses with another error).
        A batch reduction, or a Python step of the user's code (``s.rank()``), may depend on
        every row, and so does a row whose reason is in ``BATCH_ROW_HANDOFFS`` (a linear
        classifier's near tie, which BLAS rounds by the batch's size and layout): then the
        function runs on the whole batch.
        """
        rows = self.handoffs.add_rows(flagged)
        whole = "whole-batch" if not self.row_wise else batch_reason(flagged)
        if whole is not None:
            self.handoffs.add_call(whole)
            return self.original(args)
        try:
            replaced = self.original(take_data_rows(self.arguments, args, rows))
        except Exception:  # noqa: BLE001 -- the whole batch decides what it raises
            self.handoffs.add_call("rows-dtype")
            return self.original(args)
        if not sp.issparse(result) and _dtypes(replaced) != _dtypes(result):
            self.handoffs.add_call("rows-dtype")
            return self.original(args)
        if sp.issparse(result):
            native = np.setdiff1d(np.arange(result.shape[0]), rows)
            stacked = sp.vstack([result[native], replaced], format="csr")
            return stacked[np.argsort(np.concatenate([native, rows]))]
        if isinstance(result, pd.Series | pd.DataFrame):  # a pandas result keeps its index
            result = result.copy()
            result.iloc[rows] = np.asarray(replaced)
            return result
        result = np.array(result, dtype=np.result_type(result, replaced))  # strings: widest
        result[rows] = replaced
        return result

    def bind(self, args: tuple[Any, ...]) -> tuple[dict[str, Any], int]:
        """Check the arguments; map the data arguments to their IR value names."""
        self.check_bound(args)
        values: dict[str, Any] = {}
        rows: int | None = None
        data_index = 0
        for spec, value in zip(self.arguments, args, strict=True):
            if spec.kind == "bound":
                continue
            if spec.kind == "frame":
                count = marshal.check_frame(spec.name, value)
                if spec.ordered:
                    marshal.check_columns(spec.name, value, [n for n, _ in spec.columns or []])
                if spec.named:
                    marshal.check_named(spec.name, value, spec.named,
                                        self.named_dtypes[spec.name])  # fmt: skip
            elif spec.kind == "strings":
                count, value = marshal.check_strings(spec.name, value)
                if (example := spec.example) is not None:
                    kind = (example.type, example.dtypes[0][1], example.name)
                    marshal.check_text_kind(spec.name, value, kind)
            else:
                assert spec.type is not None
                count = marshal.check_array(spec.name, value, spec.type.get_shape()[1])
            if spec.dtypes:
                marshal.check_dtypes(spec.name, value, spec.dtypes)
            if spec.kind == "array" and spec.bools:
                marshal.check_float_read(spec.name, value.dtype, spec.bools[""],
                                         spec.example_dtype(""))  # fmt: skip
            if spec.nonempty and not count:
                raise marshal.Unhandled(f"argument {spec.name!r}:", "has no rows, where the "
                                        "code branches on its emptiness", kind="empty")  # fmt: skip
            if rows is not None and count != rows:  # pandas aligns them, or refuses
                raise marshal.Unhandled(f"argument {spec.name!r}", f"has {count} rows where "
                                        f"earlier data arguments have {rows}")  # fmt: skip
            rows = count
            values[f"arg{data_index}"] = value
            data_index += 1
        if rows is None:
            raise marshal.InputError("the compiled pipeline has no data argument")
        return values, rows

    def check_bound(self, args: tuple[Any, ...]) -> None:
        """Check the number of arguments, that each bound one is the compiled value, and
        that no bound model was refitted."""
        if len(args) != len(self.arguments):
            data = [a.name for a in self.arguments if a.kind != "bound"]
            alone = f" (or the data arguments only: {', '.join(data)})"
            raise TypeError(
                f"{self.__name__}() takes {len(self.arguments)} arguments "
                f"({', '.join(self.names)}), got {len(args)}{alone if data != self.names else ''}"
            )
        for i, (spec, value) in enumerate(zip(self.arguments, args, strict=True)):
            if spec.kind != "bound" or value is self.stand_ins.get(spec.name, _NO_STAND_IN):
                continue
            if not spec.accepts(value) and self.pickled is not None:
                self.load_objects()  # an object of its own, or an equal constant
                spec = self.arguments[i]
            if not spec.accepts(value):
                raise marshal.InputError(
                    f"argument {spec.name!r} must be the object given to wm.compile "
                    "(a lookup table or constant: or an equal one), or be left out with "
                    "every bound argument: fitted estimators, lookup tables and constants "
                    "are compiled into the code; compile again to use another one"
                )
        self.guard.check()

    def defaults(self) -> dict[str, Any]:
        """The original function's parameter defaults (none where it is not at hand: a
        save loaded without its Python objects)."""
        try:
            parameters = inspect.signature(self.fn).parameters.values()
        except (TypeError, ValueError):  # no signature; an InputError is a ValueError
            return {}
        return {p.name: p.default for p in parameters if p.default is not p.empty}

    def merge_keywords(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """Every argument of a call of ``args`` then ``kwargs`` by name. A call that gives
        the data arguments only (``compiled(frame)``) gets the bound ones, which are
        compiled in."""
        data = [a.name for a in self.arguments if a.kind != "bound"]
        names = self.names
        if len(args) + len(kwargs) == len(data) < len(names) and set(kwargs) <= set(data):
            names = data
        # an argument left out of a call that gives others takes the function's default
        missing = names is self.names and any(n not in kwargs for n in names[len(args) :])
        defaults = self.defaults() if missing else {}
        if len(args) > len(names) or not kwargs and not defaults and len(args) != len(names):
            return args  # ``bind`` says how many it takes
        merged = dict(zip(names, args, strict=False))
        for name in names[len(args) :]:
            if name in kwargs:
                merged[name] = kwargs.pop(name)
            elif name in defaults:
                merged[name] = defaults[name]
            else:
                raise TypeError(f"{self.__name__}() missing argument {name!r}")
        if kwargs:
            raise TypeError(f"{self.__name__}() got unexpected arguments {sorted(kwargs)}")
        return tuple(merged[a.name] if a.name in merged else a.value for a in self.arguments)

    def input_buffer(
        self,
        spec: KernelInput,
        values: dict[str, Any],
        rows: int,
        columns: dict[tuple[str, str], dict[str, Any]],
    ) -> np.ndarray:
        value = values[spec.value]
        if spec.part == "scalar":  # a batch reduction (unused by the rows of an empty batch)
            return np.array([value if rows else 0], dtype=spec.dtype)
        if spec.column is None and spec.part in CSR_PARTS:
            key = (spec.value, "")  # checked once; the data converted to the kernel's dtype
            if key not in columns:
                columns[key] = marshal.csr_parts(spec.argument, value, rows, spec.width, None)
            parts = columns[key]
            if spec.part == "data":
                return np.ascontiguousarray(parts["data"], dtype=spec.dtype)
            return parts[spec.part]
        if spec.column is None:
            if spec.ufunc:
                marshal.check_forward(f"argument {spec.argument!r}", value)
            return marshal.matrix(spec.argument, value, rows, spec.width, spec.dtype)
        key = (spec.value, spec.column)
        if spec.part == "values" and spec.dtype != np.float64:  # an int64 or bool column
            key = (spec.value, f"{spec.column}:{np.dtype(spec.dtype).str}")
        if spec.part.startswith("M8["):  # a datetime column's ticks
            key = (spec.value, f"{spec.column}:{spec.part}")
        parts = columns.get(key)
        if parts is None:
            array = marshal.column_array(spec.argument, value, spec.column)
            if spec.ufunc:
                marshal.check_forward(f"argument {spec.argument!r}: column {spec.column!r}",
                                      array)  # fmt: skip
            if len(array) != rows:  # a Python op's frame: kernels read exactly ``rows`` rows
                raise marshal.InputError(
                    f"{spec.argument!r} has {len(array)} rows where the pipeline has {rows}"
                )
            if spec.part.startswith("M8["):
                parts = {spec.part: marshal.datetime_column(
                    spec.argument, array, spec.column, np.dtype(spec.part)
                )}  # fmt: skip
            elif spec.part == "values":
                boolean, example = (
                    self.float_reads.get(key, (None, None)) if spec.dtype == np.float64
                    else (None, self.example_dtypes.get((spec.value, spec.column)))
                )  # fmt: skip
                parts = {
                    "values": marshal.numeric_column(
                        spec.argument, array, spec.column, np.dtype(spec.dtype), boolean, example
                    ),
                    "dtype": array.dtype,
                }
            elif spec.text:
                parts = marshal.text_column(spec.argument, array, spec.column)
            else:
                parts = marshal.string_column(spec.argument, array, spec.column)
            columns[key] = parts
        return parts[spec.part]

    def longest_row(
        self,
        kernel: BoundKernel,
        key: tuple[str, str],
        values: dict[str, Any],
        rows: int,
        columns: dict[tuple[str, str], dict[str, Any]],
    ) -> int:
        """The most UTF-8 bytes in one row of text column ``key`` (value, column)."""
        if key not in columns:  # the column sizes scratch buffers but no kernel input reads it
            argument = kernel.names.get(key[0], key[0])
            source = KernelInput(key[0], argument, key[1], "offsets", 1, np.int64, None)
            self.input_buffer(source, values, rows, columns)
        parts = columns[key]
        if "longest" not in parts:
            parts["longest"] = longest_text(parts["offsets"])
        return parts["longest"]

    def run_kernel(
        self,
        kernel: BoundKernel,
        values: dict[str, Any],
        rows: int,
        columns: dict[tuple[str, str], dict[str, Any]],
        flagged: FlaggedRows,
    ) -> None:
        # Inputs are converted (and kept alive in ``keep``) before the kernel runs; every
        # buffer holds ``rows`` rows by construction (marshal checks lengths and widths).
        inputs = [0] * len(kernel.inputs)  # data buffers now, scratch in the running thread
        keep = []
        for position, spec in kernel.data_inputs:
            keep.append(self.input_buffer(spec, values, rows, columns))
            inputs[position] = _address(keep[-1])
        longest = {
            key: self.longest_row(kernel, key, values, rows, columns)
            for key in kernel.scratch_columns
        }
        for frame, names in kernel.column_groups:
            marshal.check_precision(
                kernel.names.get(frame, frame), [columns[(frame, n)]["dtype"] for n in names]
            )
        if not rows and any(
            o.scalar in ("min", "max") and o.dtype == np.int64 for o in kernel.outputs
        ):  # fmt: skip
            raise marshal.Unhandled("an empty batch:", "pandas' min or max of no integers is "
                                    "NaN, which makes the values it meets float64",
                                    kind="empty")  # fmt: skip
        if kernel.splittable:
            blocks = self.workers if rows >= self.parallel_rows else 1
            self.run_blocks(kernel, values, rows, longest, inputs, flagged, blocks)
            return
        inputs = self.with_scratch(kernel, longest, inputs, 0)
        capacities = {
            o.value: int(rows * self.entries_per_row.get(o.value, 32.0) * 1.25) + 16
            for o in kernel.outputs
            if o.grows
        }
        while True:
            error = np.zeros(3, dtype=np.int64)
            pointers = [_address(error)]
            results: dict[str, Any] = {}
            for output in kernel.outputs:
                if output.string:
                    capacity = capacities[output.value]
                    buffers = (
                        np.zeros(rows + 1, dtype=np.int64),
                        np.empty(rows, dtype=np.uint8),
                        np.empty(capacity, dtype=np.uint8),
                        np.array([capacity], dtype=np.int64),
                    )
                elif output.sparse_width:
                    capacity = capacities[output.value]
                    buffers = (
                        np.zeros(rows + 1, dtype=np.int64),
                        np.empty(capacity, dtype=np.int32),
                        np.empty(capacity, dtype=output.dtype),
                        np.array([capacity], dtype=np.int64),
                    )
                else:
                    shape = (1,) if output.scalar else (rows, *output.shape)
                    buffers = (np.empty(shape, dtype=output.dtype),)
                results[output.value] = buffers
                pointers.extend(_address(b) for b in buffers)
            kernel.call(rows, *pointers, *inputs)
            if error[0]:
                raise self.runtime_error(error, values)
            short = {
                name: int(buffers[0][-1])
                for name, buffers in results.items()
                if len(buffers) == 4 and buffers[0][-1] > capacities[name]
            }
            if not short:
                break
            capacities.update(short)  # indptr counted every row: rerun with exact room
        for output in kernel.outputs:
            buffers = results[output.value]
            if output.string:
                offsets, missing, data, _ = buffers
                self.entries_per_row[output.value] = int(offsets[-1]) / max(rows, 1)
                name, like, column, dtype_from = output.string
                values[output.value] = marshal.string_frame(
                    offsets, missing, data[: offsets[-1]], name, values[like], column,
                    None if dtype_from is None else [(values[v], c) for v, c in dtype_from],
                )  # fmt: skip
            elif output.sparse_width:
                indptr, indices, data, _ = buffers
                entries = int(indptr[-1])
                self.entries_per_row[output.value] = entries / max(rows, 1)
                values[output.value] = sp.csr_matrix(
                    (data[:entries], indices[:entries], indptr),
                    shape=(rows, output.sparse_width),
                )
            elif output.scalar:
                values[output.value] = buffers[0][0]  # a numpy scalar, as pandas gives
            else:
                values[output.value] = _as_value(buffers[0])
        collect_python_rows(kernel, values, flagged)

    def with_scratch(
        self,
        kernel: BoundKernel,
        longest: dict[tuple[str, str], int],
        inputs: list[int],
        first: int,
    ) -> list[int]:
        """The kernel's input pointers for rows from ``first`` on, with this thread's scratch
        buffers (data buffers are shifted by ``first`` rows)."""
        pointers = list(self.scratch.addresses(kernel, longest))
        for position, _ in kernel.data_inputs:
            pointers[position] = inputs[position] + first * kernel.input_strides[position]
        return pointers

    def run_blocks(
        self,
        kernel: BoundKernel,
        values: dict[str, Any],
        rows: int,
        longest: dict[tuple[str, str], int],
        inputs: list[int],
        flagged: FlaggedRows,
        blocks: int,
    ) -> None:
        """Run a kernel without CSR outputs on ``blocks`` contiguous blocks of rows: on this
        thread for one, else one block per worker thread (rows are independent; each thread
        has its own scratch buffers and error record, and the first block's error wins)."""
        outputs = [np.empty((rows, *o.shape), dtype=o.dtype) for o in kernel.outputs]
        addresses = [_address(o) for o in outputs]

        def block(first: int, last: int) -> np.ndarray | None:
            error = self.scratch.error
            shifted = [a + first * s for a, s in zip(addresses, kernel.output_strides, strict=True)]
            pointers = self.with_scratch(kernel, longest, inputs, first)
            kernel.call(last - first, self.scratch.error_address, *shifted, *pointers)
            if not error[0]:
                return None
            recorded = error.copy()
            error[:] = 0
            recorded[1] += first
            return recorded

        if blocks == 1:
            errors = [block(0, rows)]
        else:
            with self.pool_lock:
                if self.pool is None:
                    self.pool = ThreadPoolExecutor(
                        max(blocks, usable_cores()), thread_name_prefix="willump-mlir"
                    )
            bounds = [rows * k // blocks for k in range(blocks + 1)]
            errors = list(self.pool.map(block, bounds[:-1], bounds[1:]))
        for recorded in errors:
            if recorded is not None:
                raise self.runtime_error(recorded, values)
        for output, buffer in zip(kernel.outputs, outputs, strict=True):
            values[output.value] = _as_value(buffer)
        collect_python_rows(kernel, values, flagged)

    def run_python(self, step: PythonStep, values: dict[str, Any]) -> None:
        call = self.traced.python_calls[step.callee]
        values.update(zip(step.results, call.function(*(marshal.as_frame(values[a])
                                                        for a in step.args)),
                          strict=True))  # fmt: skip

    def runtime_error(self, error: np.ndarray, values: dict[str, Any]) -> marshal.InputError:
        """The exception for an error native code recorded, worded as scikit-learn's."""
        kind, row, site = (int(v) for v in error)
        details = self.plan.errors.get(str(site), {})
        data = [a.name for a in self.arguments if a.kind != "bound"]
        where = f"argument {data[0]!r}" if len(data) == 1 else f"arguments {data}"
        if kind in (ErrorKind.NAN, ErrorKind.INFINITE) and sklearn.get_config()["assume_finite"]:
            return marshal.Unhandled(f"{where}, row {row}:", "holds NaN or infinity, which "
                                     "scikit-learn's assume_finite lets through",
                                     kind="assume-finite")  # fmt: skip
        if kind == ErrorKind.NAN:
            return marshal.InputError(f"{where}, row {row}: Input X contains NaN.")
        if kind == ErrorKind.INFINITE:
            return marshal.InputError(
                f"{where}, row {row}: Input X contains infinity or a value too large for "
                "dtype('float64')."
            )
        if kind == ErrorKind.NOT_INTEGER:
            return marshal.Unhandled(
                f"{where}, row {row}:", "a value pandas gives as float64 (a missing key, a "
                "fraction, an integer divided by 0), where the example's int64 was compiled, or "
                "a nullable Int64 result of magnitude 2^53 or more",
                kind="not-integer",
            )
        if kind == ErrorKind.SIGNED_ZERO:
            return marshal.Unhandled(
                f"{where}, row {row}:", "np.fmax or np.fmin of 0.0 and -0.0, of which numpy "
                "keeps either by the row's place in the array", kind="signed-zero",
            )
        if kind == ErrorKind.LINEAR_MAGNITUDE:
            return marshal.Unhandled(
                f"{where}, row {row}:", "values so large that a linear model's sum may "
                "overflow in another order of additions than BLAS's", kind="linear-magnitude",
            )
        if kind == ErrorKind.NOT_A_DATE:
            return marshal.Unhandled(
                f"{where}, row {row}:", "a date the compiled code does not read as pandas "
                "would (another format than the example's, an invalid or out-of-range date)",
                kind="not-a-date",
            )
        if kind == ErrorKind.CAST_NON_FINITE:  # pandas' astype(int): IntCastingNaNError
            refused = marshal.refused_class(pd.errors.IntCastingNaNError) or marshal.InputError
            return refused(
                f"{where}, row {row}: Cannot convert non-finite values (NA or inf) to integer"
            )
        if kind == ErrorKind.NOT_TEXT:
            column = details.get("column")
            source = values.get(details.get("value", ""))
            found = "a missing value" if source is None else repr(source[column].iloc[row])
            return marshal.InputError(
                f"{where}, row {row}: {found} is an invalid document, expected a str"
            )
        if kind == ErrorKind.UNKNOWN_CATEGORY:
            source = values.get(details["value"])
            column = details.get("column", details.get("index"))
            if source is None:  # computed inside the kernel only
                found = "?"
            elif "column" in details:
                found = repr(source[column].iloc[row])
            else:
                found = repr(np.asarray(source)[row, column])
            return marshal.InputError(
                f"{where}, row {row}: Found unknown categories [{found}] in column "
                f"{column!r} during transform"
            )
        return marshal.InputError(f"{where}, row {row}: native code reported error {kind}")

    def __dask_tokenize__(self) -> object:
        """Dask's token: the programs' cache keys (their IR and the compiler)."""
        return type(self).__name__, self.library.cache_key

    # endregion
    # region Inspection

    def ir(self, stage: str = "pipeline", *, blobs: bool = False) -> str:
        """The textual IR at ``stage``: pipeline, feature, cascade, scf, llvm or llvm-ir;
        ``blobs``: with the data of the blobs it references, for ``willump-opt``."""
        return self.staged.text(stage, blobs=blobs)

    # endregion

    def __repr__(self) -> str:
        cache = "cache hit" if self.library.cache_hit else "compiled"
        return f"<{type(self).__name__} {self.__name__}: {len(self.kernels)} kernel(s), {cache}>"
