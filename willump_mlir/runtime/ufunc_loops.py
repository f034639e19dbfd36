"""numpy's own inner loops of ufuncs, bound to the symbols kernels call them through.

numpy computes ``np.log1p``, ``np.exp``, ``np.power``... with routines it chooses for the CPU
at import (``NPY_CPU_DISPATCH``: on AVX-512, SIMD ones derived from SVML), which differ from
the C library's in the last bit for a few % of values. A kernel computes such a value with
``feature.ufunc``, a call of the loop numpy itself runs, on one element::

    llvm.call @"numpy.ufunc.log1p.f64"(%args, %dimensions, %steps, %data)

:func:`bind` makes those symbols (``abi.ufunc_loop_symbol``) resolve, in the loading process,
to the loop its numpy holds in the public ``PyUFuncObject`` (``functions[i]``, ``data[i]`` of
the first type signature all of ``dtype``, as numpy's legacy loop selector picks it). A loop
is used only after two checks: the ``ArrayMethod`` numpy dispatches the signature to is the
wrapper of that legacy loop (``legacy_ufunc_wrapper_for_<name>``, not a new-style loop the
table does not list), and on adversarial values (NaN with payloads, infinities, signed
zeros, subnormals, the extremes, random bits) it gives, one element per call, the bits the
ufunc gives on the whole array. A loop that fails either check is replaced by a callback
that runs the ufunc in Python on each one-element array (:func:`python_loops` lists them).
"""

from __future__ import annotations

import ctypes
import functools
import threading
from dataclasses import dataclass

import llvmlite.binding as llvm
import numpy as np

from willump_mlir.abi import parse_ufunc_loop_symbol

#: ``void loop(char **args, npy_intp const *dimensions, npy_intp const *steps, void *data)``
LOOP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_DTYPES = {"f64": np.dtype(np.float64), "f32": np.dtype(np.float32)}
_PROBES = 4096  # random values of each kind per check, beside the special ones
_SINGLES = 200  # of which the first are checked one element per call too

_P = ctypes.c_void_p


class _UFuncObject(ctypes.Structure):
    """The leading fields of numpy's public ``PyUFuncObject`` (``ufuncobject.h``), up to
    ``_loops`` (numpy >= 1.22)."""

    _fields_ = [  # noqa: RUF012 (ctypes reads the class attribute)
        ("ob_refcnt", ctypes.c_ssize_t), ("ob_type", _P),
        ("nin", ctypes.c_int), ("nout", ctypes.c_int), ("nargs", ctypes.c_int),
        ("identity", ctypes.c_int),
        ("functions", ctypes.POINTER(_P)), ("data", ctypes.POINTER(_P)),
        ("ntypes", ctypes.c_int), ("reserved1", ctypes.c_int),
        ("name", ctypes.c_char_p), ("types", ctypes.POINTER(ctypes.c_ubyte)),
        ("doc", ctypes.c_char_p), ("ptr", _P), ("obj", _P), ("userloops", _P),
        ("core_enabled", ctypes.c_int), ("core_num_dim_ix", ctypes.c_int),
        ("core_num_dims", _P), ("core_dim_ixs", _P), ("core_offsets", _P),
        ("core_signature", _P), ("type_resolver", _P), ("dict", _P), ("vectorcall", _P),
        ("reserved3", _P), ("op_flags", _P), ("iter_flags", ctypes.c_uint32),
        ("core_dim_sizes", _P), ("core_dim_flags", _P), ("identity_value", _P),
        ("_dispatch_cache", _P), ("_loops", _P),
    ]  # fmt: skip


@dataclass(frozen=True)
class Loop:
    """An inner loop kernels call: its address, a cell holding its ``data`` pointer (both
    live as long as the process), and whether it is numpy's native loop (else a Python
    callback: :func:`python_loops`)."""

    function: int
    data: ctypes.c_void_p
    native: bool


_lock = threading.Lock()
_bound: set[str] = set()
_callbacks: list[object] = []  # ctypes callbacks kept alive for the process
_loops_seen: dict[tuple[str, str], Loop] = {}


def bind(symbols: list[str]) -> None:
    """Bind each numpy loop symbol among ``symbols`` (``abi.parse_ufunc_loop_symbol``) to
    the loading process's loop, once per process; other names are left alone."""
    with _lock:
        for symbol in symbols:
            parsed = parse_ufunc_loop_symbol(symbol)
            if parsed is None or symbol in _bound:
                continue
            function, dtype, is_data = parsed
            loop = inner_loop(function, dtype)
            llvm.add_symbol(symbol, ctypes.addressof(loop.data) if is_data else loop.function)
            _bound.add(symbol)


def python_loops() -> list[str]:
    """The ufunc loops (``log1p.f64``...) this process runs through Python: numpy's could
    not be read or did not give the ufunc's bits."""
    return sorted(
        f"{function}.{dtype}"
        for (function, dtype), loop in _loops_seen.items()
        if not loop.native
    )  # fmt: skip


@functools.cache
def inner_loop(function: str, dtype: str) -> Loop:
    """numpy's inner loop of ``np.<function>`` for ``dtype`` ("f64", "f32"), checked (module
    doc); a Python callback if numpy's fails a check."""
    ufunc = getattr(np, function)
    assert isinstance(ufunc, np.ufunc), function
    found = _legacy_loop(ufunc, _DTYPES[dtype])
    loop = None
    if found is not None:
        loop = Loop(found[0], ctypes.c_void_p(found[1]), native=True)
        if not _gives_ufunc_bits(ufunc, _DTYPES[dtype], loop):
            loop = None
    if loop is None:
        callback = LOOP(functools.partial(_python_loop, ufunc, _DTYPES[dtype]))
        _callbacks.append(callback)
        loop = Loop(ctypes.cast(callback, ctypes.c_void_p).value or 0, ctypes.c_void_p(), False)
    _loops_seen[function, dtype] = loop
    return loop


def _legacy_loop(ufunc: np.ufunc, dtype: np.dtype) -> tuple[int, int] | None:
    """``(functions[i], data[i])`` of ``ufunc``'s first loop all of ``dtype``, if numpy
    dispatches that signature to the legacy loop wrapper (which runs exactly that loop)."""
    with np.errstate(all="ignore"):  # numpy wraps a legacy loop on first use
        ufunc(*[np.zeros(1, dtype=dtype)] * ufunc.nin)
    struct = _UFuncObject.from_address(id(ufunc))
    if (struct.name or b"").decode() != ufunc.__name__ or struct.nargs != ufunc.nargs:
        return None
    signature = [dtype.num] * ufunc.nargs
    for i in range(struct.ntypes):
        if list(struct.types[i * struct.nargs : (i + 1) * struct.nargs]) == signature:
            if not _dispatches_to_legacy_wrapper(ufunc, struct, dtype):
                return None
            return struct.functions[i] or 0, struct.data[i] or 0
    return None


def _dispatches_to_legacy_wrapper(ufunc: np.ufunc, struct: _UFuncObject, dtype: np.dtype) -> bool:
    """Whether ``ufunc``'s registered ``ArrayMethod`` for ``dtype`` in and out is numpy's
    wrapper of its legacy loops (its name is the first field after the object header)."""
    if not struct._loops:
        return False
    loops = ctypes.cast(struct._loops, ctypes.py_object).value
    if not isinstance(loops, list):
        return False
    key = (type(dtype),) * ufunc.nargs
    methods = [entry[1] for entry in loops if isinstance(entry, tuple) and entry[0] == key]
    if len(methods) != 1 or type(methods[0]).__name__ != "_ArrayMethod":
        return False
    name = ctypes.cast(ctypes.c_void_p.from_address(id(methods[0]) + 16).value, ctypes.c_char_p)
    return name.value == f"legacy_ufunc_wrapper_for_{ufunc.__name__}".encode()


def probe_values(dtype: np.dtype, count: int = _PROBES, seed: int = 0) -> np.ndarray:
    """Adversarial values of ``dtype``: NaN (with payloads and signs), infinities, signed
    zeros, subnormals, the extremes, values near 1 and the overflow edges, integers, and
    ``count`` values each of random bits, of small ranges and of every magnitude."""
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    unsigned = np.dtype(f"u{dtype.itemsize}")
    bits = rng.integers(0, 2 ** (8 * dtype.itemsize), count, dtype=np.uint64).astype(unsigned)
    edge = 710.0 if dtype.itemsize == 8 else 89.0
    special = [
        0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, -1.0, 0.5, -0.5, 2.0, 3.0, -2.0, 10.0,
        info.tiny, -info.tiny, info.smallest_subnormal, -info.smallest_subnormal, info.max,
        -info.max, info.eps, -info.eps, 1 - info.epsneg, 1 + info.eps, -1 + info.epsneg,
        edge, -edge, edge * 1.05, -edge * 1.05, np.pi, np.pi / 2, -np.pi / 4, 1e22, 2.0**60,
    ]  # fmt: skip
    magnitude = np.exp(rng.uniform(-np.log(info.max), np.log(info.max), count))
    parts = [
        np.array(special, dtype=dtype),
        bits.view(dtype),
        rng.uniform(-10, 10, count).astype(dtype),
        rng.uniform(-1, 1, count).astype(dtype),
        (magnitude * rng.choice([-1.0, 1.0], count)).astype(dtype),
        rng.integers(-(2**20), 2**20, count).astype(dtype),
    ]
    return np.concatenate(parts)


def call_loop(loop: int, data: int, operands: list[np.ndarray], out: np.ndarray,
              strides: list[int] | None = None) -> None:  # fmt: skip
    """Run the inner loop at ``loop`` over ``operands`` into ``out`` (all of ``out``'s
    length; ``strides`` in bytes, each operand's own by default)."""
    arrays = [*operands, out]
    args = (ctypes.c_void_p * len(arrays))(*(a.ctypes.data for a in arrays))
    steps = strides if strides is not None else [a.strides[0] for a in arrays]
    dimensions = (ctypes.c_ssize_t * 1)(len(out))
    steps_array = (ctypes.c_ssize_t * len(arrays))(*steps)
    LOOP(loop)(ctypes.addressof(args), ctypes.addressof(dimensions),
               ctypes.addressof(steps_array), data)  # fmt: skip


def _gives_ufunc_bits(ufunc: np.ufunc, dtype: np.dtype, loop: Loop) -> bool:
    """Whether ``loop`` gives ``ufunc``'s bits on the probe array: called on the whole array,
    then one element per call on its first :data:`_SINGLES` values (for two operands:
    against a shuffle of it, then against scalars, read with stride 0 as numpy reads a
    broadcast scalar)."""
    x = probe_values(dtype)
    operands = [x, np.random.default_rng(1).permutation(x)][: ufunc.nin]
    with np.errstate(all="ignore"):
        want = ufunc(*operands)
    got = np.empty_like(x)
    data = loop.data.value or 0
    call_loop(loop.function, data, operands, got)
    singles = slice(0, _SINGLES)
    pairs = [(operands, want, None)]
    size = dtype.itemsize
    if ufunc.nin == 2:
        for scalar in np.array([2.0, 0.5, 3.0, -1.0, 0.0], dtype=dtype):
            with np.errstate(all="ignore"):
                pairs.append(([x, np.full_like(x, scalar)], ufunc(x, scalar), [size, 0, size]))
    unsigned = np.dtype(f"u{dtype.itemsize}")
    same = np.array_equal(want.view(unsigned), got.view(unsigned))
    for inputs, wanted, strides in pairs:
        for i in range(*singles.indices(len(x))):
            call_loop(loop.function, data, [o[i : i + 1] for o in inputs], got[i : i + 1],
                      strides)  # fmt: skip
        same = same and np.array_equal(wanted[singles].view(unsigned), got[singles].view(unsigned))
    return same


def _python_loop(ufunc: np.ufunc, dtype: np.dtype, args: int, dimensions: int, steps: int,
                 _data: int) -> None:  # fmt: skip
    """A ``PyUFuncGenericFunction`` that runs ``ufunc`` in Python on each one-element array
    (ctypes takes the GIL for it)."""
    count = ctypes.c_ssize_t.from_address(dimensions).value
    nargs = ufunc.nargs
    pointers = (ctypes.c_void_p * nargs).from_address(args)
    strides = (ctypes.c_ssize_t * nargs).from_address(steps)
    ctype = ctypes.c_double if dtype.itemsize == 8 else ctypes.c_float
    for i in range(count):
        values = [
            np.array([ctype.from_address(pointers[k] + i * strides[k]).value], dtype=dtype)
            for k in range(ufunc.nin)
        ]
        with np.errstate(all="ignore"):
            result = ufunc(*values)[0]
        ctype.from_address(pointers[nargs - 1] + i * strides[nargs - 1]).value = result
