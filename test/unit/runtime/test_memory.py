"""Scratch buffers and bound blobs: zeroed, aligned, apart, on huge pages when large."""

from __future__ import annotations

import mmap
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from willump_mlir.runtime import jit, memory
from willump_mlir.runtime.compiled import KernelInput, Scratch


def test_zeroed_buffers_are_zero_writable_and_apart() -> None:
    for sizes in ([(5, np.dtype(np.int32)), (3, np.dtype(np.float64))],
                  [(1 << 20, np.dtype(np.int32)), (7, np.dtype(np.int64)),
                   (1 << 17, np.dtype(np.int64))]):  # fmt: skip
        buffers, area = memory.zeroed(sizes)
        large = sum(n * dtype.itemsize for n, dtype in sizes) >= memory.HUGE_PAGE
        assert (area is not None) == large
        assert [(b.size, b.dtype) for b in buffers] == sizes
        for k, buffer in enumerate(buffers):
            assert not buffer.any() and buffer.flags.writeable and buffer.flags.c_contiguous
            if large:
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


def _huge_page_flags(address: int) -> tuple[bool, int]:
    """Whether the mapping at ``address`` is advised ``MADV_HUGEPAGE`` (its ``hg`` flag in
    ``/proc/self/smaps``), and its kB on huge pages."""
    advised, huge, inside = False, 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and ":" not in head:
            start, stop = (int(part, 16) for part in head.split("-"))
            inside = start <= address < stop
        elif inside and line.startswith("AnonHugePages:"):
            huge = int(line.split()[1])
        elif inside and line.startswith("VmFlags:"):
            advised = "hg" in line.split()[1:]
    return advised, huge


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(mmap, "MADV_HUGEPAGE"),
    reason="transparent huge pages are Linux's",
)
def test_pages_are_advised_huge_once_written() -> None:
    """A first touch takes 4 KiB pages (a huge page may have to be backed by the hypervisor
    first: ~5 ms each here); the advice follows, for khugepaged and the later touches."""
    area = memory.huge_area(2 * memory.HUGE_PAGE)
    data = np.frombuffer(area, np.uint8)
    data[:: memory.PAGE] = 1
    assert _huge_page_flags(data.ctypes.data) == (False, 0)
    memory.advise(area[memory.HUGE_PAGE + 1 : memory.HUGE_PAGE + 2])
    assert _huge_page_flags(data.ctypes.data) == (False, 0)  # the first huge page: not asked
    assert _huge_page_flags(data.ctypes.data + memory.HUGE_PAGE)[0]
    copy = memory.lasting_copy(np.arange(1000, dtype=np.int64))
    assert _huge_page_flags(copy.ctypes.data)[0]


def test_scratch_is_advised_after_its_first_call() -> None:
    """A kernel's scratch set of 2 MiB or more keeps its area until the set is used again."""
    inputs = [KernelInput(f"v{k}", f"v{k}", None, "scratch", 1, dtype, {"fixed": size})
              for k, (size, dtype) in enumerate([(1 << 20, np.int32), (7, np.int64)])]  # fmt: skip
    kernel = SimpleNamespace(step=SimpleNamespace(name="k"), inputs=inputs, splittable=False)
    scratch = Scratch()
    found = scratch.set_for(kernel, {})  # type: ignore[arg-type]
    assert found.area is not None and len(found.buffers) == 2
    assert scratch.set_for(kernel, {}) is found and found.area is None  # type: ignore[arg-type]


@pytest.mark.skipif(
    not Path("/sys/kernel/mm/transparent_hugepage/enabled").is_file()
    or "[never]" in Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text(),
    reason="no transparent huge pages",
)
def test_settle_collapses_written_pages_into_huge_pages() -> None:
    """``settle`` collapses in a thread what was written on 4 KiB pages: a scratch area and
    the blobs bound since (a kernel older than Linux 6.1 refuses: nothing to check)."""
    area = memory.huge_area(2 * memory.HUGE_PAGE)
    data = np.frombuffer(area, np.uint8)
    data[:: memory.PAGE] = 7
    memory.advise(area)
    copy = memory.lasting_copy(np.arange(1 << 16, dtype=np.int64))
    thread = memory.settle(area)
    assert thread is not None and not memory._unsettled
    thread.join()
    assert (data[:: memory.PAGE] == 7).all() and np.array_equal(copy, np.arange(1 << 16))
    collapsed = _huge_page_flags(data.ctypes.data)[1]
    assert collapsed in (0, 2048, 4096)  # 0: a kernel before MADV_COLLAPSE
    if collapsed:
        assert _huge_page_flags(copy.ctypes.data)[1] > 0
