"""Memory the kernels read at random: scratch buffers and blobs on huge pages, aligned.

The text kernels read a few MB at random per batch (the char_wb word cache's slots and
arena, the tally's counts, the vocabulary tables and term records): with 4 KiB pages each
read may miss the TLB too, and under virtualisation a page walk costs several memory
reads. A buffer of at least ``HUGE_PAGE`` bytes is placed in a private anonymous mapping
whose 2 MiB-aligned part is advised ``MADV_HUGEPAGE`` (Linux with transparent huge pages
in ``madvise`` or ``always`` mode; elsewhere the advice is skipped and the pages are
ordinary); a bound blob starts on a cache line (one read in place from a cache entry starts
anywhere: its records could straddle two lines).
"""

from __future__ import annotations

import mmap

import numpy as np

HUGE_PAGE = 1 << 21
LINE = 64  # bytes of a cache line: where each bound blob starts
PAGE = 4096
CHUNK = 4 * HUGE_PAGE  # bytes of an area that bound blobs share
_chunk: memoryview | None = None  # what is left of the current one


def zeroed(sizes: list[tuple[int, np.dtype]]) -> list[np.ndarray]:
    """Zeroed buffers of ``sizes`` (elements, dtype): when they take at least
    ``HUGE_PAGE`` bytes, together on huge pages, each starting on a page of its own."""
    starts, total = [], 0
    for size, dtype in sizes:
        total = -(-total // PAGE) * PAGE
        starts.append(total)
        total += size * dtype.itemsize
    if total < HUGE_PAGE:
        return [np.zeros(size, dtype) for size, dtype in sizes]
    area = huge_area(total)
    return [np.frombuffer(area, dtype, size, start) for start, (size, dtype)
            in zip(starts, sizes, strict=True)]  # fmt: skip


def lasting_copy(array: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous copy of ``array`` that lives as long as the process (a
    bound blob), starting on a cache line: the copies share ``CHUNK``-byte areas on huge
    pages (a larger one gets an area of its own). Called under ``jit``'s lock."""
    global _chunk
    size = -(-array.nbytes // LINE) * LINE
    if size > CHUNK // 4:
        place = huge_area(max(size, 1))
    else:
        if _chunk is None or len(_chunk) < size:
            _chunk = huge_area(CHUNK)
        place, _chunk = _chunk[:size], _chunk[size:]
    copy = np.frombuffer(place, array.dtype, array.size).reshape(array.shape)
    copy[...] = array
    copy.setflags(write=False)
    return copy


def huge_area(nbytes: int) -> memoryview:
    """``nbytes`` of a private anonymous mapping (zero), starting on a 2 MiB boundary and
    advised ``MADV_HUGEPAGE`` to the end of its last huge page, where the platform has it
    (the mapping is up to two huge pages longer than asked: never touched past the view)."""
    span = -(-nbytes // HUGE_PAGE) * HUGE_PAGE
    area = mmap.mmap(-1, span + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    start = -np.frombuffer(area, np.uint8, 1).ctypes.data % HUGE_PAGE
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is not None and span:
        try:
            area.madvise(advice, start, span)
        except OSError:  # transparent huge pages off or unsupported: ordinary pages
            pass
    return memoryview(area)[start : start + nbytes]
