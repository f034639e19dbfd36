"""Scratch buffers and bound blobs: zeroed, aligned, apart, on huge pages when large."""

from __future__ import annotations

import numpy as np

from willump_mlir.runtime import jit, memory


def test_zeroed_buffers_are_zero_writable_and_apart() -> None:
    for sizes in ([(5, np.dtype(np.int32)), (3, np.dtype(np.float64))],
                  [(1 << 20, np.dtype(np.int32)), (7, np.dtype(np.int64)),
                   (1 << 17, np.dtype(np.int64))]):  # fmt: skip
        buffers = memory.zeroed(sizes)
        assert [(b.size, b.dtype) for b in buffers] == sizes
        for k, buffer in enumerate(buffers):
            assert not buffer.any() and buffer.flags.writeable and buffer.flags.c_contiguous
            if sum(n * dtype.itemsize for n, dtype in sizes) >= memory.HUGE_PAGE:
                assert buffer.ctypes.data % memory.PAGE == 0  # each on its own pages
            buffer[:] = k + 1
        assert [int(b[0]) for b in buffers] == list(range(1, len(sizes) + 1))
        assert [int(b[-1]) for b in buffers] == list(range(1, len(sizes) + 1))


def test_huge_area_starts_on_a_huge_page() -> None:
    area = memory.huge_area(3 * memory.HUGE_PAGE + 5)
    data = np.frombuffer(area, np.uint8)
    assert data.size == 3 * memory.HUGE_PAGE + 5
    assert data.ctypes.data % memory.HUGE_PAGE == 0
    assert not data.any()


def test_lasting_copies_are_equal_read_only_and_on_cache_lines() -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.random((3, 5)), np.arange(7, dtype=np.int32), np.zeros(0, np.int64),
              np.arange(10)[::2], rng.integers(0, 9, memory.CHUNK // 2)]  # fmt: skip
    for array in arrays:
        copy = memory.lasting_copy(array)
        assert copy.dtype == array.dtype and copy.shape == array.shape
        assert np.array_equal(copy, array) and copy.flags.c_contiguous
        assert not copy.flags.writeable
        assert copy.ctypes.data % memory.LINE == 0


def test_bound_blob_is_on_a_cache_line() -> None:
    raw = bytes(range(256)) * 64
    unaligned = np.frombuffer(raw, np.float64, 100, offset=3)  # in place, read-only
    jit.bind_blob("test_memory_unaligned_blob", unaligned)
    bound = jit._blobs["test_memory_unaligned_blob"]
    assert bound.ctypes.data % memory.LINE == 0
    assert np.array_equal(bound, unaligned, equal_nan=True)
