"""Native request decoding for ``willump serve``: the BYTES tensors of the binary tensor
extension (each element a 4-byte little-endian length, then its bytes) split in one native
loop into the UTF-8 data and offsets an Arrow string array holds, instead of a Python loop
over the elements (``protocol._split_bytes``, about 0.2 µs an element).

The function is LLVM IR, compiled once per process (``runtime.jit``: its on-disk object
cache makes later starts load it without running LLVM) by :func:`warm`, which ``willump
serve`` calls when it loads a model with a BYTES input. Until then, and wherever it cannot be
compiled, :func:`split_bytes` answers None and the caller decodes in Python.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import sys
import threading
from collections.abc import Callable

import numpy as np
import pyarrow as pa

log = logging.getLogger(__name__)

SYMBOL = "willump_serve_split_bytes"
#: tensors of fewer elements are split in Python: cheaper than a native call's fixed ~8 µs
#: (ctypes, Arrow's array and its UTF-8 check), 12 elements break even
MIN_COUNT = 16

#: i64 split(ptr src, i64 size, ptr dst, ptr offsets, i64 count): copies the ``count``
#: elements of ``src[0:size]`` to ``dst`` back to back and writes ``offsets[0..count]``
#: (``offsets[0] = 0``); returns ``count``, or -1 unless ``src`` holds exactly ``count``
#: whole elements (a truncated length or element, more or fewer elements).
IR = f"""
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)

define i64 @{SYMBOL}(ptr noalias %src, i64 %size, ptr noalias %dst, ptr noalias %offsets,
                     i64 %count) {{
entry:
  store i64 0, ptr %offsets, align 8
  br label %loop
loop:
  %pos = phi i64 [0, %entry], [%next, %copy]
  %k = phi i64 [0, %entry], [%k1, %copy]
  %out = phi i64 [0, %entry], [%out1, %copy]
  %done = icmp eq i64 %pos, %size
  br i1 %done, label %end, label %check
check:
  %full = icmp eq i64 %k, %count
  %left = sub i64 %size, %pos
  %short = icmp ult i64 %left, 4
  %bad = or i1 %full, %short
  br i1 %bad, label %fail, label %read
read:
  %at = getelementptr i8, ptr %src, i64 %pos
  %length32 = load i32, ptr %at, align 1
  %length = zext i32 %length32 to i64
  %start = add i64 %pos, 4
  %rest = sub i64 %size, %start
  %over = icmp ugt i64 %length, %rest
  br i1 %over, label %fail, label %copy
copy:
  %from = getelementptr i8, ptr %src, i64 %start
  %to = getelementptr i8, ptr %dst, i64 %out
  call void @llvm.memcpy.p0.p0.i64(ptr %to, ptr %from, i64 %length, i1 false)
  %out1 = add i64 %out, %length
  %k1 = add i64 %k, 1
  %slot = getelementptr i64, ptr %offsets, i64 %k1
  store i64 %out1, ptr %slot, align 8
  %next = add i64 %start, %length
  br label %loop
end:
  %whole = icmp eq i64 %k, %count
  %result = select i1 %whole, i64 %k, i64 -1
  ret i64 %result
fail:
  ret i64 -1
}}
"""

_Split = Callable[[bytes, int, int, int, int], int]
_lock = threading.Lock()
_function: _Split | None = None
_failed = False


def warm() -> bool:
    """Compile (or load from the cache) the native split; False where it cannot be (logged
    once: requests then decode BYTES in Python). Safe from any thread."""
    global _function, _failed
    with _lock:
        if _function is not None or _failed:
            return _function is not None
        if sys.byteorder != "little":  # the lengths are little-endian, read as they lie
            _failed = True
            return False
        try:
            from willump_mlir.runtime.jit import compile_llvm_ir, load_cached

            key = "serve-split-bytes-" + hashlib.sha256(IR.encode()).hexdigest()[:16]
            library = load_cached(key) or compile_llvm_ir(IR, key)
            _function = library.cfunc(  # the source is a bytes object: passed as it lies
                SYMBOL, ctypes.c_int64, ctypes.c_char_p, ctypes.c_int64, ctypes.c_void_p,
                ctypes.c_void_p, ctypes.c_int64,
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001 - the Python decoding stays correct
            log.warning("native BYTES decoding unavailable, decoding in Python: %s", error)
            _failed = True
        return _function is not None


class _Scratch(threading.local):
    """Per-thread output buffers of the native split, grown as needed (their addresses
    cached: numpy's ``.ctypes.data`` costs more than the split of a 100-row column)."""

    def __init__(self) -> None:
        self.data = self.offsets = np.empty(0, dtype=np.uint8)
        self.data_address = self.offsets_address = 0

    def reserve(self, size: int, count: int) -> None:
        if len(self.data) < size:
            self.data = np.empty(max(size, 2 * len(self.data)), dtype=np.uint8)
            self.data_address = self.data.ctypes.data
        if len(self.offsets) < count + 1:
            self.offsets = np.empty(max(count + 1, 2 * len(self.offsets)), dtype=np.int64)
            self.offsets_address = self.offsets.ctypes.data


_scratch = _Scratch()


def split_strings(raw: bytes, count: int, *, text: bool) -> np.ndarray | None:
    """The ``count`` elements of a binary BYTES tensor ``raw`` as an object array of str
    (``text``: None unless every element is UTF-8) or of bytes; None as well when ``raw``
    does not hold exactly ``count`` whole elements (the caller names the problem), for fewer
    than ``MIN_COUNT`` elements, or before :func:`warm` succeeded."""
    function = _function
    if function is None or count < MIN_COUNT:
        return None
    scratch = _scratch
    scratch.reserve(len(raw), count)
    if function(raw, len(raw), scratch.data_address, scratch.offsets_address, count) != count:
        return None
    offsets = pa.py_buffer(scratch.offsets[: count + 1])
    data = pa.py_buffer(scratch.data)
    if not text:
        return pa.LargeBinaryArray.from_buffers(pa.large_binary(), count, [None, offsets, data]) \
            .to_numpy(zero_copy_only=False)  # fmt: skip
    array = pa.LargeStringArray.from_buffers(count, offsets, data)
    try:
        array.validate(full=True)  # UTF-8, as Python's strict decoding reads it
    except pa.ArrowInvalid:
        return None
    return array.to_numpy(zero_copy_only=False)
