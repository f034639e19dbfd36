"""Memory the kernels read at random: scratch buffers and blobs on huge pages, aligned.

The text kernels read a few MB at random per batch (the char_wb word cache's slots and
arena, the tally's counts, the vocabulary tables and term records): with 4 KiB pages each
read may miss the TLB too, and under virtualisation a page walk costs several memory
reads. A buffer of at least ``HUGE_PAGE`` bytes is placed in a private anonymous mapping
that starts on a 2 MiB boundary, whose huge pages are advised ``MADV_HUGEPAGE`` once their
first pages are written (``advise``; Linux with transparent huge pages in ``madvise`` or
``always`` mode; elsewhere the advice is skipped and the pages are ordinary); a bound blob
starts on a cache line (one read in place from a cache entry starts anywhere: its records
could straddle two lines).

Why not advised at once: a huge page taken at a first touch costs ~0.25 ms per 2 MiB
here, but ~5 ms when the hypervisor has to back it first (this VM's balloon reports free
2 MiB blocks to the host, which drops them), where 4 KiB pages come from memory the guest
freed recently (~0.8 ms per 2 MiB). A new worker's first call touched up to six huge pages
(the blobs, the scratch), so one process in two or three lost 5-30 ms. Pages written before
the advice are collapsed into huge pages by a thread of this process (``settle``, at the
second call of a kernel with a scratch set) or else by ``khugepaged`` (here within ~30 s),
and the advised pages not touched yet are huge from their first touch.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
import threading

import numpy as np

HUGE_PAGE = 1 << 21
LINE = 64  # bytes of a cache line: where each bound blob starts
PAGE = 4096
CHUNK = 4 * HUGE_PAGE  # bytes of an area that bound blobs share
_chunk: memoryview | None = None  # what is left of the current one
#: ``madvise`` of Linux 5.14: the range's pages made present at once, writable (a loop in the
#: kernel: ~half the time of a fault per 4 KiB page here); EINVAL before 5.14 (skipped)
POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23 if sys.platform == "linux" else None)
#: ``madvise`` of Linux 6.1: the range's pages collapsed into huge pages now, by the caller
COLLAPSE = getattr(mmap, "MADV_COLLAPSE", 25 if sys.platform == "linux" else None)
_unsettled: list[memoryview] = []  # bound blobs' copies since the last ``settle``
_unsettled_lock = threading.Lock()


def zeroed(sizes: list[tuple[int, np.dtype]]) -> tuple[list[np.ndarray], memoryview | None]:
    """Zeroed buffers of ``sizes`` (elements, dtype) and the area that holds them: when they
    take at least ``HUGE_PAGE`` bytes, together in a ``huge_area`` (which the caller
    ``advise``s once a first call wrote what it needed), each starting on a page of its
    own; else in arrays of their own, and no area."""
    starts, total = [], 0
    for size, dtype in sizes:
        total = -(-total // PAGE) * PAGE
        starts.append(total)
        total += size * dtype.itemsize
    if total < HUGE_PAGE:
        return [np.zeros(size, dtype) for size, dtype in sizes], None
    area = huge_area(total)
    return [np.frombuffer(area, dtype, size, start) for start, (size, dtype)
            in zip(starts, sizes, strict=True)], area  # fmt: skip


def lasting_copy(array: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous copy of ``array`` that lives as long as the process (a
    bound blob), starting on a cache line: the copies share ``CHUNK``-byte areas on huge
    pages (a larger one gets an area of its own), advised once written (``advise``).
    Called under ``jit``'s lock."""
    global _chunk
    size = -(-array.nbytes // LINE) * LINE
    if size > CHUNK // 4:
        place = huge_area(max(size, 1))
    else:
        if _chunk is None or len(_chunk) < size:
            _chunk = huge_area(CHUNK)
        place, _chunk = _chunk[:size], _chunk[size:]
    _madvise(place, POPULATE_WRITE, PAGE)
    copy = np.frombuffer(place, array.dtype, array.size).reshape(array.shape)
    copy[...] = array
    copy.setflags(write=False)
    advise(place)
    with _unsettled_lock:
        _unsettled.append(place)
    return copy


def huge_area(nbytes: int) -> memoryview:
    """``nbytes`` of a private anonymous mapping (zero), starting on a 2 MiB boundary, not
    advised yet (``advise``; the mapping is up to two huge pages longer than asked: never
    touched past the view)."""
    span = -(-nbytes // HUGE_PAGE) * HUGE_PAGE
    area = mmap.mmap(-1, span + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    start = -_address(area) % HUGE_PAGE
    return memoryview(area)[start : start + nbytes]


def advise(view: memoryview) -> None:
    """Advise ``MADV_HUGEPAGE`` the huge pages that ``view``, a part of a ``huge_area``,
    overlaps, where the platform has it: the pages written so far are collapsed into huge
    pages in the background, the others are taken as huge pages when first touched."""
    _madvise(view, getattr(mmap, "MADV_HUGEPAGE", None), HUGE_PAGE)


def settle(area: memoryview | None) -> threading.Thread | None:
    """Collapse into huge pages, in a thread of its own, the pages of ``area`` (a scratch
    set's, after its first call) and those of the blobs bound since the last ``settle``
    (``MADV_COLLAPSE``), where the platform has it; that thread is returned. Their first
    touch took 4 KiB pages (see the module's docstring): the thread, not a call, waits for
    the huge pages (~11-50 ms for 8 MiB here); kernels read the pages meanwhile as they are."""
    global _unsettled
    with _unsettled_lock:
        views, _unsettled = [*_unsettled, *([] if area is None else [area])], []
    if COLLAPSE is None or not views or getattr(mmap, "MADV_HUGEPAGE", None) is None:
        return None
    thread = threading.Thread(target=_collapse, args=(views,), daemon=True,
                              name="willump-mlir huge pages")  # fmt: skip
    thread.start()
    return thread


def _collapse(views: list[memoryview]) -> None:
    """``MADV_COLLAPSE`` the huge pages ``views`` overlap, through ``ctypes`` (which lets
    the other threads run meanwhile, where ``mmap.madvise`` holds the GIL)."""
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for view in filter(len, views):
        first = _address(view)
        start = first - first % HUGE_PAGE
        madvise(start, -(-(first + view.nbytes) // HUGE_PAGE) * HUGE_PAGE - start, COLLAPSE)


def _madvise(view: memoryview, advice: int | None, unit: int) -> None:
    """``madvise`` the ``unit``-aligned pages ``view`` (a part of a ``huge_area``) overlaps,
    unless the platform lacks ``advice`` (None) or refuses it (huge pages off, an older
    kernel): the advice changes how fast memory is, not what it holds."""
    mapping = view.obj
    if advice is None or not isinstance(mapping, mmap.mmap) or not view.nbytes:
        return
    base, first = _address(mapping), _address(view)
    start = first - first % unit - base
    stop = min(-(-(first + view.nbytes) // unit) * unit - base, len(mapping))
    try:
        mapping.madvise(advice, start, stop - start)
    except OSError:
        pass


def _address(buffer: mmap.mmap | memoryview) -> int:
    """Where ``buffer``'s first byte is (it has one at least)."""
    return np.frombuffer(buffer, np.uint8, 1).ctypes.data
